# Malformed input against the shipped static binary with the sandbox on,
# through sshd to a trusted key (so every parser is reached): each case ends
# with exit status 100 or 111 (never a signal), one line on stderr naming the
# fault, and the host store exactly as it was.
MAL="$top/tests/tools/malformed.pl"

# judge NAME PATTERN STATUS: the outcome of the case just run
judge() {
	if [ "$3" -ne 100 ] && [ "$3" -ne 111 ]; then
		bad "$1" "exit status $3: $(head -c 300 "$B/m.err")"
	elif [ "$(errlines "$B/m.err")" != 1 ] || ! grep -q -- "$2" "$B/m.err"; then
		bad "$1" "$(head -c 300 "$B/m.err" | tr '\n' '|')"
	elif [ "$before" != "$(store_state)" ]; then
		bad "$1" "the host store changed"
	else
		ok "$1"
	fi
}

# malformed NAME PATTERN CASE [ARG]: the stream of malformed.pl CASE
malformed() {
	n=$1; pat=$2; shift 2
	perl "$MAL" "$@" > "$B/m.in" || { bad "$n" "malformed.pl failed"; return; }
	before=$(store_state)
	ssh -F "$B/ssh_config" gate nix-store --serve --write < "$B/m.in" > /dev/null 2> "$B/m.err"
	judge "$n" "$pat" $?
}

t_protocol_faults() {
	malformed empty "client closed the connection" empty
	malformed truncated-handshake "client closed the connection" truncated-handshake
	malformed wrong-magic "did not start with the serve protocol magic" wrong-magic
	malformed wrong-major "unsupported serve protocol version 3.7" wrong-major
	malformed string-2^63 "more than the limit" string-2^63
	malformed count-2^40 "1099511627776.*more than the limit" count-2^40
	malformed padding-not-zero "padding" padding-not-zero
	malformed unknown-command "unknown serve command 77" unknown-command
}

t_bad_paths() {
	malformed bad-hash-chars "has a hash character outside Nix's base32" bad-hash-chars
	malformed wrong-hash-length "has no 32-character hash part" wrong-hash-length
	malformed bad-name "has an invalid name" bad-name
	malformed outside-store "is not in /nix/store" outside-store
}

t_bad_nars() {
	malformed nar/dotdot "entry name" nar-dotdot
	malformed nar/slash "entry name" nar-slash
	malformed nar/nul "NUL byte in a name" nar-nul
	malformed nar/unsorted "sorted" nar-unsorted
	malformed nar/duplicate "sorted" nar-duplicate
	malformed nar/deep-10000 "deeper than" nar-deep-10000
	malformed nar/longer-than-declared "declared size" nar-longer-than-declared
	malformed nar/hash-mismatch "NAR hash mismatch for" nar-hash-mismatch
	malformed nar/stdin-closed "client closed the connection" stdin-closed-in-nar
	[ -n "${NIX_TEST_DATA:-}" ] || return 0
	for f in invalid-tag-instead-of-contents nul-character dot dotdot slash empty executable-after-contents \
		 name-after-node regular-one-byte-non-zero-padding regular-truncated-large-contents regular-truncated-padding; do
		malformed "nar/$f" "NAR" nar-file "$NIX_TEST_DATA/nars/$f.nar"
	done
}

t_forced_commands() {
	before=$(store_state)
	ssh -F "$B/ssh_config" gate 'nix-store --serve; rm -rf /nix/store' < /dev/null > /dev/null 2> "$B/m.err"
	judge command/metacharacters "command contains the shell character ';'" $?
	# 1 MiB cannot become SSH_ORIGINAL_COMMAND: ssh refuses to send it, and
	# the kernel caps one environment string at 128 KiB; nothing runs, nothing changes
	before=$(store_state)
	ssh -F "$B/ssh_config" gate "nix-store --serve $(head -c 1048576 /dev/zero | tr '\0' x)" < /dev/null > /dev/null 2>&1
	st=$?
	if [ "$st" -ne 0 ] && [ "$st" -lt 128 ] && [ "$before" = "$(store_state)" ]; then
		ok command/1MiB
	else
		bad command/1MiB "exit status $st"
	fi
}

# Raw request bytes go into the error, which goes into the audit line:
# there, every byte outside printable ASCII is escaped.
t_audit_bytes() {
	perl "$MAL" add-hash-bytes > "$B/m.in" || { bad audit-escaped "malformed.pl failed"; return; }
	before=$(store_state)
	bed_host sh -c "'$B/bin/nixgate-serve' --key m --trusted --audit-log '$B/home/esc.log' < '$B/m.in' > /dev/null 2> '$B/m.err'; echo \$? > '$B/m.st'"
	judge audit-bytes-refused "is not a SHA-256 hash" "$(cat "$B/m.st")"
	if ! grep -q 'op=AddToStoreNar.*x7f\\xff\\xfe' "$B/home/esc.log"; then
		bad audit-escaped "no escaped bytes in: $(tail -n 1 "$B/home/esc.log")"
	elif LC_ALL=C grep -q '[^ -~]' "$B/home/esc.log"; then
		bad audit-escaped "a byte outside printable ASCII in the audit log"
	else
		ok audit-escaped
	fi
}

# stdout closed: before the start, and by the reader going away mid-session
t_stdout_closed() {
	perl -e 'binmode STDOUT; print pack("Q<*", 0x390c9deb, 0x207, 1, 0, 0, 0)' > "$B/m.in"
	before=$(store_state)
	bed_host sh -c "'$B/bin/nixgate-serve' --key m --trusted --audit-log none < '$B/m.in' 2> '$B/m.err' >&-; echo \$? > '$B/m.st'"
	judge stdout-closed-at-start "standard output is closed" "$(cat "$B/m.st")"
	rm -f "$B/fin" "$B/fout"; mkfifo "$B/fin" "$B/fout"
	before=$(store_state)
	bed_host sh -c "'$B/bin/nixgate-serve' --key m --trusted --audit-log none < '$B/fin' > '$B/fout' 2> '$B/m.err'; echo \$? > '$B/m.st'" &
	spid=$!
	exec 3> "$B/fin"
	perl -e 'binmode STDOUT; print pack("Q<*", 0x390c9deb, 0x207)' >&3
	head -c 16 "$B/fout" > /dev/null   # the handshake's answer, then the reader is gone
	perl -e 'binmode STDOUT; print pack("Q<*", 1, 0, 0, 0)' >&3
	exec 3>&-
	wait "$spid"
	judge stdout-closed-early "client" "$(cat "$B/m.st")"
}