# A compromised parser (build/lies-nixgate-serve: its parser forwards every
# NAR and vouches for it unchecked) in front of a key that is not trusted:
# the monitor must refuse all that the parser should have, itself, in the
# same words, with the host store left exactly as it was (.lock files
# included), since the daemon refuses only after writing (Nix 2.8's
# LocalStore::addToStore hashes the NAR and the content address after
# restorePath) or, reading a text: or flat claim through a symlink or
# ignoring an executable bit, does not refuse at all. Each case runs
# through the honest parser too, which refuses it with the same line.
bed_key liar "$B/bin/lies-nixgate-serve --key liar"

# both NAME LINE ARGS...: hostile.pl ARGS refused for the honest key and
# for the liar with LINE, its KEY replaced by each key's name
both() {
	local n=$1 line=$2
	shift 2
	h_refused "$n/honest" untrusted "$(echo "$line" | sed 's/KEY/untrusted/')" "$@"
	h_refused "$n/liar" liar "$(echo "$line" | sed 's/KEY/liar/')" "$@"
}
refused() { echo "key KEY: AddToStoreNar of '$1' refused by rule $2: $3"; }
hex() { printf '%s' "$2" | "${1}sum" | cut -d' ' -f1; }
# judge NAME PATH LINE as t_hostile_import.sh has it
judge() {
	local n=$1 p=$2 want=$3 seen=0
	if [ "$(errlines "$B/h.err")" -eq 1 ]; then
		case $want in
		^*) grep -qx "nixgate-serve: ${want#^}" "$B/h.err" && seen=1 ;;
		*) one_line "$B/h.err" "$want" && seen=1 ;;
		esac
	fi
	if [ "$st" -ne 100 ] || [ $seen = 0 ]; then
		bad "$n" "exit status $st: $(head -c 500 "$B/h.err" | tr '\n' '|')"
	elif [ -n "$p" ] && host_valid "$p"; then
		bad "$n" "refused, but $p is valid on the host"
	elif [ "$before" != "$(store_strict)" ]; then
		bad "$n" "the host store changed: $(bed_host ls /nix/store | grep -F "${p#/nix/store/}" | head -3 | tr '\n' ' ')"
	else
		ok "$n"
	fi
}

# A NAR whose content is not its recursive claim: the daemon would write
# it, then refuse it. (A fixed:r:sha256 claim is the NAR hash itself, which
# the monitor compares before the NAR: t_nar_hash.)
t_recursive_wrong() {
	p=$(hpath --name lr --node dir:right --ca fixed:r:sha1)
	both recursive-wrong "^$(refused "$p" import "its content is not what its content address says: sha1 of its NAR is [0-9a-f]*")" \
		--name lr --node dir:wrong --ca fixed:r:sha1 --claim dir:right
	h_accepted recursive-right/liar liar --name lr --node dir:right --ca fixed:r:sha1
}

# A text: path whose NAR is a symlink to a file holding the claimed text:
# Nix 2.8 reads the claim's hash through the link, and registers it.
t_text_symlink() {
	q=$(hpath --name lq --node file:payload --ca text)
	h_accepted text-target/liar liar --name lq --node file:payload --ca text
	p=$(hpath --name lt --node file:payload --ca text)
	both text-symlink "$(refused "$p" import "text: content address needs one regular file, and its NAR is a symlink")" \
		--name lt --node link:"$q" --ca text --claim file:payload
	h_accepted text-file/liar liar --name lt --node file:payload --ca text
}

# A flat fixed: claim over an executable file: Nix 2.8 hashes the contents
# alone and registers it with its executable bit.
t_flat_executable() {
	p=$(hpath --name lf --node file:tarball --ca fixed:sha256)
	both flat-executable "$(refused "$p" import "a flat fixed: content address needs a file that is not executable, and its file is")" \
		--name lf --node exec:tarball --ca fixed:sha256
	q=$(hpath --name lfl --node file:payload --ca fixed:sha256)
	both flat-symlink "$(refused "$q" import "a flat fixed: content address needs one regular file, and its NAR is a symlink")" \
		--name lfl --node link:"$(hpath --name lq --node file:payload --ca text)" --ca fixed:sha256 --claim file:payload
	h_accepted flat-regular/liar liar --name lf --node file:tarball --ca fixed:sha256
}

# A NAR hash that is not the NAR's: with a claim that is, and with a
# fixed:r:sha256 one, which is the declared NAR hash.
t_nar_hash() {
	p=$(hpath --name lh --node dir:right --ca fixed:r:sha1)
	both nar-hash "^$(refused "$p" nar-hash "NAR hash mismatch for '$p': declared .*, got .*")" \
		--name lh --node dir:right --ca fixed:r:sha1 --hash-of dir:other
	p=$(hpath --name lh --node dir:right --ca fixed:r:sha256)
	both nar-hash-claimed "^$(refused "$p" nar-hash "NAR hash mismatch for '$p': declared .*, got .*")" \
		--name lh --node dir:wrong --ca fixed:r:sha256 --claim dir:right --hash-of dir:right
}

# NARs that are not NARs, their hash and claim taken over their bytes.
t_nar_malformed() {
	perl -e 'sub s_ { my $s = shift; pack("Q<", length $s) . $s . ("\0" x ((8 - length($s) % 8) % 8)) }
		binmode STDOUT; print map { s_($_) } "nix-archive-1", "(", "type", "regular", "contents", "x", "bogus", ")"' > "$B/bad.nar"
	p=$(hpath --name lm --node nar:"$B/bad.nar" --ca fixed:r:sha256)
	both nar-malformed "^$(refused "$p" nar ".*")" --name lm --node nar:"$B/bad.nar" --ca fixed:r:sha256
	# a whole NAR and 8 bytes more, all inside the declared size
	perl -e 'sub s_ { my $s = shift; pack("Q<", length $s) . $s . ("\0" x ((8 - length($s) % 8) % 8)) }
		binmode STDOUT; print map { s_($_) } "nix-archive-1", "(", "type", "regular", "contents", "x", ")"; print "\0" x 8' > "$B/long.nar"
	p=$(hpath --name ll --node nar:"$B/long.nar" --ca fixed:r:sha256)
	both nar-trailing "key KEY: the NAR ends before its declared size" --name ll --node nar:"$B/long.nar" --ca fixed:r:sha256
}

# A signed input-addressed path whose NAR is not the one signed, of the
# same size: the signature covers the declared NAR hash, and only the
# monitor's own hash stands between the NAR and the daemon.
t_signed() {
	nix-store --generate-binary-cache-key liar-key-1 "$B/lk.sec" "$B/lk.pub"
	bed_key liarsigned "$B/bin/lies-nixgate-serve --key liarsigned --trusted-public-key $(cat "$B/lk.pub")"
	p=$(client_ia lsig "signed by the liar")
	nix store sign --key-file "$B/lk.sec" "$p"
	sig=$(nix path-info --json "$p" | path_field signatures)
	nix-store --dump "$p" > "$B/lsig.nar"
	perl -0777 -pe 's/liar/LIAR/' "$B/lsig.nar" > "$B/lsig-wrong.nar"
	before=$(store_strict)
	hsend liarsigned --node nar:"$B/lsig-wrong.nar" --hash-of nar:"$B/lsig.nar" --path "$p" --sig "$sig"
	judge signed-other-nar/liar "$p" \
		"^key liarsigned: AddToStoreNar of '$p' refused by rule nar-hash: NAR hash mismatch for '$p': declared .*, got .*"
	if hsend liarsigned --node nar:"$B/lsig.nar" --path "$p" --sig "$sig" && [ "$st" -eq 0 ] &&
	   host_valid "$p" && [ "$(host_hash "$p")" = "$(client_hash "$p")" ]; then
		ok signed-own-nar/liar
	else
		bad signed-own-nar/liar "exit status $st: $(head -c 300 "$B/h.err" | tr '\n' '|')"
	fi
}

# A parser that forwards half a NAR and then holds its channel open, silent
# (NIXGATE_LIE=stall), while the client has sent it all and waits: the
# monitor's own deadline on the channel (the key's idle timeout and 10 s)
# ends the session, so a trusted key's streaming import does not hold the
# daemon's lock on the path, nor its worker, for good. ssh is cut at 30 s:
# a session that hangs fails the test, not the run.
# stalled KEY ARGS...: the session's status in st, its seconds in t
stalled() {
	local k=$1 cp
	shift
	perl "$HOS" "$@" > "$B/st.in"
	rm -f "$B/sfin"; mkfifo "$B/sfin"
	exec 4<> "$B/sfin"
	cat "$B/st.in" >&4 & cp=$!
	t0=$(date +%s)
	timeout 30 ssh -F "$B/ssh_config" "$k" nix-store --serve --write < "$B/sfin" > /dev/null 2> "$B/h.err"
	st=$?
	t=$(($(date +%s) - t0))
	kill "$cp" 2>/dev/null
	exec 4>&-
}
workers() { pgrep -P "$(cat "$B/daemon.pid")" | wc -l; }
t_stall() {
	bed_key stalltrusted "NIXGATE_LIE=stall $B/bin/lies-nixgate-serve --key stalltrusted --trusted --idle-timeout 2 --audit-log none"
	bed_key stalluntrusted "NIXGATE_LIE=stall $B/bin/lies-nixgate-serve --key stalluntrusted --idle-timeout 2 --audit-log none"
	w0=$(workers)
	args="--name stall-big --node big:70000000 --ca fixed:r:sha256"
	p=$(hpath $args)
	stalled stalltrusted $args
	if [ "$st" = 100 ] && [ "$t" -le 20 ] && one_line "$B/h.err" "key stalltrusted: client sent nothing for 12 s (idle-timeout)" &&
	   ! host_valid "$p" && sleep 1 && [ "$(workers)" = "$w0" ]; then
		ok stall/trusted-streaming
	else
		bad stall/trusted-streaming "status $st after $t s, workers $w0 then $(workers): $(head -c 300 "$B/h.err" | tr '\n' '|')"
	fi
	# the daemon's lock on the path is free: the honest parser adds it
	if timeout 60 ssh -F "$B/ssh_config" gate nix-store --serve --write < "$B/st.in" > /dev/null 2> "$B/h.err" &&
	   host_valid "$p" && [ "$(host_hash "$p")" = "$(hnarhash $args)" ]; then
		ok stall/lock-released
	else
		bad stall/lock-released "$(head -c 300 "$B/h.err" | tr '\n' '|')"
	fi
	before=$(store_strict)
	args="--name stall-small --node big:1048576 --ca fixed:r:sha256"
	p=$(hpath $args)
	stalled stalluntrusted $args
	if [ "$st" = 100 ] && [ "$t" -le 20 ] && one_line "$B/h.err" "key stalluntrusted: client sent nothing for 12 s (idle-timeout)" &&
	   [ "$before" = "$(store_strict)" ] && sleep 1 && [ "$(workers)" = "$w0" ]; then
		ok stall/untrusted
	else
		bad stall/untrusted "status $st after $t s, workers $w0 then $(workers): $(head -c 300 "$B/h.err" | tr '\n' '|')"
	fi
	# a session that hung must not outlive the bed
	for pid in $(pgrep -f -- "lies-nixgate-serve --key stall(un)?trusted "); do kill "$pid"; done
}
