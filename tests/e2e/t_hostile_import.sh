# Imports from a key that is not trusted, as an attacker sends them (raw
# serve-protocol bytes from tests/tools/hostile.pl, claims that give their
# path and lie only about the content): each is refused by nixgate itself,
# before the daemon sees a byte, with exit status 100, one line naming key,
# request, path and rule, and the host store exactly as it was, .lock files
# included. Beside each, the true claim is accepted with the right content.
SYS="$(uname -m)-linux"
nix-store --generate-binary-cache-key hostile-key-1 "$B/hk.sec" "$B/hk.pub"
bed_key hsigned "$B/bin/nixgate-serve --key hsigned --trusted-public-key $(cat "$B/hk.pub")"

# judge NAME PATH LINE: the refusal just seen; LINE a grep -x pattern if
# it starts with ^
judge() {
	local n=$1 p=$2 want=$3 seen
	if [ "$(errlines "$B/h.err")" -eq 1 ] && case $want in ^*) grep -qx "nixgate-serve: ${want#^}" "$B/h.err";; *) false;; esac; then
		seen=1
	elif one_line "$B/h.err" "$want"; then
		seen=1
	else
		seen=0
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
refused_by() { echo "key untrusted: AddToStoreNar of '$1' refused by rule import: $2"; }
hex() { printf '%s' "$2" | "${1}sum" | cut -d' ' -f1; }

# The chain of the issue, steps (a) and (b): a text: claim whose content is
# other than it says, then a .drv whose NAR is a symlink to that path.
t_text_claims() {
	p=$(hpath --name tw --node file:right --ca text)
	h_refused text/wrong-content untrusted \
		"$(refused_by "$p" "its content is not what its content address says: sha256 of its file is $(hex sha256 wrong)")" \
		--name tw --node file:wrong --ca text --claim file:right
	h_accepted text/right-content untrusted --name tw --node file:right --ca text
	q=$(hpath --name evil-q --node file:'Derive([])' --ca text)
	h_refused text/stage-q untrusted \
		"$(refused_by "$q" "its content is not what its content address says: sha256 of its file is $(hex sha256 'Derive([x])')")" \
		--name evil-q --node file:'Derive([x])' --ca text --claim file:'Derive([])'
	d=$(hpath --name evil.drv --node link:"$q" --ca text --claim file:'Derive([x])')
	h_refused text/drv-symlink untrusted \
		"$(refused_by "$d" "text: content address needs one regular file, and its NAR is a symlink")" \
		--name evil.drv --node link:"$q" --ca text --claim file:'Derive([x])'
	h_refused text/executable untrusted \
		"$(refused_by "$(hpath --name tx --node exec:x --ca text)" "text: content address needs a file that is not executable, and its file is")" \
		--name tx --node exec:x --ca text
}

# A .drv import must be a derivation whose outputs are its own (drvhash
# computes them as the daemon does); a real one is accepted.
t_drv_import() {
	d=$(hpath --name junk.drv --node file:'not a derivation' --ca text)
	h_refused drv/not-a-derivation untrusted \
		"^key untrusted: AddToStoreNar of '$d' refused by rule import: malformed derivation: .*" \
		--name junk.drv --node file:'not a derivation' --ca text
	real=$(nix-instantiate --expr "derivation { name = \"honest\"; system = \"$SYS\"; builder = \"/bin/sh\"; args = [\"-c\" \"echo honest > \$out\"]; }" 2>/dev/null)
	# the text: claim as Nix makes it gives the very path nix-instantiate wrote
	if [ "$(hpath --name honest.drv --node file:"$(cat "$real")" --ca text)" != "$real" ]; then
		bad drv/real-derivation "hostile.pl's text: path is not $real"
		return
	fi
	h_accepted drv/real-derivation untrusted --name honest.drv --node file:"$(cat "$real")" --ca text
	# the chain's step (c): a derivation that claims an honest one's output
	# path for another builder; its text: claim is true, its outputs are not
	# its own, and the 2.8 daemon would refuse it only after writing it
	evil=$(sed 's/echo honest/echo evil/' "$real")
	d=$(hpath --name honest.drv --node file:"$evil" --ca text)
	h_refused drv/outputs-not-its-own untrusted \
		"^key untrusted: AddToStoreNar of '$d' refused by rule import: .*output.*" \
		--name honest.drv --node file:"$evil" --ca text
	# a derivation with an input derivation: the input is read from the
	# host store to compute the outputs, as the daemon does
	top=$(nix-instantiate --expr "let dep = derivation { name = \"hdep\"; system = \"$SYS\"; builder = \"/bin/sh\"; args = [\"-c\" \"echo dep > \$out\"]; }; in derivation { name = \"htop\"; system = \"$SYS\"; builder = \"/bin/sh\"; args = [\"-c\" \"cat \${dep} > \$out\"]; }" 2>/dev/null)
	if nix copy --derivation --to ssh://untrusted "$top" > "$B/h.err" 2>&1 && host_valid "$top"; then
		ok drv/with-input-derivation
	else
		bad drv/with-input-derivation "$(tail -n 2 "$B/h.err" | tr '\n' ' ')"
	fi
}

# Flat fixed-output paths: one regular file that is not executable.
t_flat_fixed() {
	p=$(hpath --name ff --node file:tarball --ca fixed:sha256)
	h_refused flat/symlink untrusted \
		"$(refused_by "$p" "a flat fixed: content address needs one regular file, and its NAR is a symlink")" \
		--name ff --node link:/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-elsewhere --ca fixed:sha256 --claim file:tarball
	h_refused flat/executable untrusted \
		"$(refused_by "$p" "a flat fixed: content address needs a file that is not executable, and its file is")" \
		--name ff --node exec:tarball --ca fixed:sha256
	h_refused flat/directory untrusted \
		"$(refused_by "$p" "a flat fixed: content address needs one regular file, and its NAR is a directory")" \
		--name ff --node dir:tarball --ca fixed:sha256 --claim file:tarball
	h_accepted flat/regular untrusted --name ff --node file:tarball --ca fixed:sha256
}

# md5, sha1 and sha512, flat and recursive: right and wrong.
t_algorithms() {
	for a in md5 sha1 sha512; do
		p=$(hpath --name "f-$a" --node file:right --ca "fixed:$a")
		h_refused "$a/flat-wrong" untrusted \
			"$(refused_by "$p" "its content is not what its content address says: $a of its file is $(hex "$a" wrong)")" \
			--name "f-$a" --node file:wrong --ca "fixed:$a" --claim file:right
		h_accepted "$a/flat-right" untrusted --name "f-$a" --node file:right --ca "fixed:$a"
		p=$(hpath --name "r-$a" --node dir:right --ca "fixed:r:$a")
		h_refused "$a/recursive-wrong" untrusted \
			"^key untrusted: AddToStoreNar of '$p' refused by rule import: its content is not what its content address says: $a of its NAR is [0-9a-f]*" \
			--name "r-$a" --node dir:wrong --ca "fixed:r:$a" --claim dir:right
		h_accepted "$a/recursive-right" untrusted --name "r-$a" --node dir:right --ca "fixed:r:$a"
	done
}

# Every reference valid on the host before the path is sent.
t_reference_invalid() {
	r=$(hpath --name absent --node file:absent --ca fixed:sha256)
	p=$(hpath --name refers --node dir:"uses $r" --ca fixed:r:sha256 --ref "$r")
	h_refused reference/not-valid untrusted "$(refused_by "$p" "its reference $r is not valid on this host")" \
		--name refers --node dir:"uses $r" --ca fixed:r:sha256 --ref "$r"
	h_accepted reference/then-added untrusted --name absent --node file:absent --ca fixed:sha256
	h_accepted reference/now-valid untrusted --name refers --node dir:"uses $r" --ca fixed:r:sha256 --ref "$r"
}

# Over SPOOL_SMALL_MAX, a trusted key's import streams; an untrusted one's
# is spooled whole, so a client that hangs up half way leaves nothing.
t_big_hangup() {
	args="--name big --node big:70000000 --ca fixed:r:sha256"
	p=$(hpath $args)
	before=$(store_strict)
	hsend untrusted $args --cut 35000000 || { bad big/hangup "hostile.pl failed"; return; }
	judge big/hangup "$p" "key untrusted: client closed the connection in the middle of a message"
	h_accepted big/whole untrusted $args
}

# ImportPaths cannot prove anything for an untrusted key: refused at once,
# while the client still holds the connection with the NAR unsent.
t_import_paths() {
	before=$(store_strict)
	perl "$HOS" --node file:x --ca text --import-header > "$B/ip.in"
	t0=$(date +%s)
	{ cat "$B/ip.in"; sleep 8; } | { ssh -F "$B/ssh_config" untrusted nix-store --serve --write > /dev/null 2> "$B/h.err"; echo $? > "$B/ip.st"; date +%s > "$B/ip.t"; }
	st=$(cat "$B/ip.st")
	if [ $(($(cat "$B/ip.t") - t0)) -ge 6 ]; then
		bad import-paths/at-once "the refusal waited for the client: $(head -c 300 "$B/h.err" | tr '\n' '|')"
	else
		judge import-paths/at-once "" "key untrusted: ImportPaths refused by rule import: ImportPaths cannot prove a path to a key that is not trusted (the export format has no content address or signature); clients of serve protocol 2.5 or newer use AddToStoreNar"
	fi
}

# The size claim over the untrusted default of max-nar-size, before any byte.
t_size_default() {
	p=$(hpath --name huge --node file:x --ca fixed:sha256)
	h_refused size/untrusted-default untrusted \
		"key untrusted: AddToStoreNar of '$p' refused by rule max-nar-size: the NAR of 4294967297 bytes is over the limit of 4294967296" \
		--name huge --node file:x --ca fixed:sha256 --size 4294967297 --cut 0
}

# Only signatures nixgate verified are registered, and no deriver.
meta() { # PATH: "sigs|deriver" as the host registered them
	echo "$(bed_host nix path-info --json "$1" | path_field signatures)|$(bed_host nix path-info --json "$1" | path_field deriver)"
}
t_signatures() {
	p=$(client_ia hsig "signed content")
	nix store sign --key-file "$B/hk.sec" "$p"
	good=$(nix path-info --json "$p" | path_field signatures)
	junk="hostile-key-1:$(head -c 64 /dev/zero | base64 -w0)"
	nix-store --dump "$p" > "$B/hsig.nar"
	drv=/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-fake.drv
	if hsend hsigned --node nar:"$B/hsig.nar" --path "$p" --sig "$junk" --sig other-1:AAAA --sig "$good" --deriver "$drv" &&
	   [ "$st" -eq 0 ] && [ "$(meta "$p")" = "$good|" ]; then
		ok signatures/only-verified
	else
		bad signatures/only-verified "exit status $st, registered '$(meta "$p")': $(head -c 300 "$B/h.err" | tr '\n' '|')"
	fi
	c=$(hpath --name casig --node file:ca --ca fixed:sha256)
	if hsend untrusted --name casig --node file:ca --ca fixed:sha256 --sig "$junk" --deriver "$drv" &&
	   [ "$st" -eq 0 ] && [ "$(meta "$c")" = "|" ]; then
		ok signatures/content-addressed-none
	else
		bad signatures/content-addressed-none "exit status $st, registered '$(meta "$c")': $(head -c 300 "$B/h.err" | tr '\n' '|')"
	fi
}

# Paths that refer to themselves, made content-addressed by Nix: a wrong one
# is refused, the honest closure copied through the real client.
t_self_reference() {
	self=$(nix-store -r "$(nix-instantiate --expr "derivation { name = \"self\"; system = \"$SYS\"; builder = \"/bin/sh\"; args = [\"-c\" \"echo \$out > \$out\"]; }" 2>/dev/null)" 2>/dev/null)
	up=$(nix-store -r "$(nix-instantiate --expr "derivation { name = \"uses-self\"; system = \"$SYS\"; builder = \"/bin/sh\"; args = [\"-c\" \"echo \${builtins.storePath $self} \$out > \$out\"]; }" 2>/dev/null)" 2>/dev/null)
	nix store make-content-addressed --json "$up" > "$B/mca.json" 2>/dev/null
	cup=$(perl -MJSON::PP -e 'print decode_json(join "", <STDIN>)->{rewrites}{$ARGV[0]}' "$up" < "$B/mca.json")
	# its rewritten dependency (2.8's JSON names only the paths asked for)
	cself=$(nix-store -q --references "$cup" | grep -x '/nix/store/[0-9a-z]\{32\}-self')
	ca=$(nix path-info --json "$cself" | sed -n 's/.*"ca":"\([^"]*\)".*/\1/p')
	nix-store --dump "$cself" | perl -0777 -pe 's/\n\0/\t\0/' > "$B/self-wrong.nar"
	before=$(store_strict)
	hsend untrusted --node nar:"$B/self-wrong.nar" --path "$cself" --ca-string "$ca" --ref self
	judge self/wrong "$cself" "^key untrusted: AddToStoreNar of '$cself' refused by rule import: its content is not what its content address says: sha256 of its NAR is [0-9a-f]*"
	# Nix 2.17 stopped hashing the positions of self-references: a path
	# made on one side of that line is not the content address its host
	# checks on the other, and is refused, as that host's daemon would
	if [ "$(modulo_form nix)" != "$(modulo_form bed_host nix)" ]; then
		if ! nix copy --to ssh://untrusted "$cup" > "$B/h.err" 2>&1 && ! host_valid "$cself" &&
		   grep -q "refused by rule import: its content is not what its content address says" "$B/h.err"; then
			ok self/nix-copy-closure-other-form
		else
			bad self/nix-copy-closure-other-form "$(tail -n 3 "$B/h.err" | tr '\n' '|')"
		fi
	elif nix copy --to ssh://untrusted "$cup" > "$B/h.err" 2>&1 && host_valid "$cself" && host_valid "$cup" &&
	   [ "$(host_hash "$cself")" = "$(client_hash "$cself")" ] && [ "$(host_hash "$cup")" = "$(client_hash "$cup")" ]; then
		ok self/nix-copy-closure
	else
		bad self/nix-copy-closure "$(tail -n 3 "$B/h.err" | tr '\n' '|')"
	fi
}
# modulo_form COMMAND...: "old" for a Nix before 2.17 (COMMAND --version),
# whose hash modulo self-references adds their positions, else "new"
modulo_form() {
	"$@" --version | sed -n 's/.* \([0-9]*\)\.\([0-9]*\).*/\1 \2/p' | {
		read -r ma mi
		if [ "$ma" -eq 2 ] && [ "$mi" -lt 17 ]; then echo old; else echo new; fi
	}
}
