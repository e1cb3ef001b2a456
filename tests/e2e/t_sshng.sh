# ssh-ng:// (the worker protocol, `nix-daemon --stdio`) through nixgate-serve:
# the stock client's store info, path-info and copy --from, against
# nix-daemon --stdio itself as the forced command (the bed's host user is
# trusted there); refusals of operations nixgate does not serve, of a key
# without export, and of malformed handshakes, each with its message, exit
# status and the host store left exactly as it was.
bed_key daemon "nix-daemon --stdio"
bed_key noexport "$B/bin/nixgate-serve --key noexport --allow query --audit-log $B/home/ng-audit.log"
NG_STORES="daemon gate untrusted"

# A closure on the host only: OUT and LEAF on stdout.
host_closure() { # name
	set -- $(client_closure "$1")
	nix copy --to ssh://gate "$1" > /dev/null 2>&1 || return 1
	d=$(nix-store -qd "$1")
	nix-store --delete "$1" "$d" "$2" > /dev/null 2>&1 || return 1
	echo "$1 $2"
}

t_ng_info() {
	info=info
	nix store info --help > /dev/null 2>&1 || info=ping
	for s in $NG_STORES; do
		if nix store $info --store "ssh-ng://$s" > "$B/out" 2>&1; then
			ok "info/$s"
		else
			bad "info/$s" "$(tail -n 3 "$B/out" | tr '\n' ' ')"
			continue
		fi
		# the trust as nixgate applies it, for clients that show it
		grep -q "^Trusted:" "$B/out" || continue
		want=1
		[ "$s" != untrusted ] || want=0
		if grep -qx "Trusted: $want" "$B/out"; then ok "trusted/$s"; else bad "trusted/$s" "$(tr '\n' ' ' < "$B/out")"; fi
	done
}

t_ng_path_info() {
	p=$(client_add ng-path-info "path info")
	nix copy --to ssh://gate "$p" > /dev/null 2>&1
	for s in $NG_STORES; do
		if nix path-info --store "ssh-ng://$s" "$p" > "$B/out" 2> "$B/err" && grep -qx "$p" "$B/out"; then
			ok "path-info/$s"
		else
			bad "path-info/$s" "$(head -c 300 "$B/out" "$B/err" | tr '\n' ' ')"
		fi
		q=$(client_add "ng-missing-$s" "not on the host $s")
		if ! nix path-info --store "ssh-ng://$s" "$q" > "$B/out" 2> "$B/err" && grep -q "is not valid" "$B/err"; then
			ok "path-info-missing/$s"
		else
			bad "path-info-missing/$s" "$(head -c 300 "$B/out" "$B/err" | tr '\n' ' ')"
		fi
	done
}

t_ng_copy_from() {
	for s in $NG_STORES; do
		set -- $(host_closure "ng-from-$s")
		o=${1:-} a=${2:-}
		if [ -n "$o" ] && nix copy --no-check-sigs --from "ssh-ng://$s" "$o" > "$B/out" 2>&1 && nix-store --check-validity "$o" "$a" &&
		   [ "$(client_hash "$o")" = "$(host_hash "$o")" ] && nix-store -q --references "$o" | grep -qx "$a"; then
			ok "copy-from/$s"
		else
			bad "copy-from/$s" "$(tail -n 3 "$B/out" | tr '\n' ' ')"
		fi
	done
}

# A key without export: the stock client's copy fails with the refusal,
# nothing arrives, the host store stays as it was; its queries still work.
t_ng_no_export() {
	set -- $(host_closure ng-noexport)
	o=${1:-}
	before=$(store_strict)
	if nix path-info --store ssh-ng://noexport "$o" > /dev/null 2>&1; then ok no-export/query; else bad no-export/query "path-info failed"; fi
	if ! nix copy --no-check-sigs --from ssh-ng://noexport "$o" > "$B/out" 2>&1 &&
	   grep -q "key noexport: NarFromPath of '/nix/store/[^']*' refused by rule allow: this key may only query" "$B/out" &&
	   ! nix-store --check-validity "$o" 2> /dev/null && [ "$before" = "$(store_strict)" ]; then
		ok no-export/copy-from
	else
		bad no-export/copy-from "$(tail -n 3 "$B/out" | tr '\n' ' ')"
	fi
	wrefused no-export/raw noexport 100 "NarFromPath of '$o' refused by rule allow: this key may only query" \
		hello u:38 "s:$o"
	if grep -aq "refused by rule allow" "$B/w.out"; then ok no-export/stderr-error; else bad no-export/stderr-error "no STDERR_ERROR for the client"; fi
	if grep -q "key=noexport op=NarFromPath paths=1 first=$o bytes=0 result=refused rule=allow" "$B/home/ng-audit.log" &&
	   grep -q "key=noexport op=QueryPathInfo paths=1 first=$o .*result=ok" "$B/home/ng-audit.log"; then
		ok no-export/audit
	else
		bad no-export/audit "$(tail -n 3 "$B/home/ng-audit.log" | tr '\n' '|')"
	fi
}

# nix-daemon --stdio takes the stock client's copy; nixgate's imports are
# t_sshng_import.sh's.
t_ng_copy_to() {
	p=$(client_add ng-copy-to "copy to")
	if nix copy --to ssh-ng://daemon "$p" > "$B/out" 2>&1 && host_valid "$p"; then ok copy-to/daemon; else bad copy-to/daemon "$(tail -n 2 "$B/out")"; fi
}

t_ng_ops_refused() {
	wrefused ops/collect-garbage gate 100 \
		"CollectGarbage refused by rule operation: nixgate-serve does not serve this operation" \
		hello u:20 u:2 u:0 u:0 u:0 u:0 u:0 u:0
	wrefused ops/unknown gate 100 "unknown worker operation 99" hello u:99
	wrefused ops/hash-part-short gate 100 \
		"QueryPathFromHashPart refused by rule hash-part: a hash part is 32 characters of Nix's base32" \
		hello u:29 s:0
	wrefused ops/count-2^40 gate 100 "client sent a list of 1099511627776 paths, more than the limit of 262144" hello u:31 u:1099511627776
	wrefused ops/bad-path gate 100 "path '/etc/passwd' is not in /nix/store" hello u:1 s:/etc/passwd
}

t_ng_handshake_faults() {
	wrefused hs/empty gate 100 "client closed the connection in the middle of a message"
	wrefused hs/wrong-magic gate 100 "protocol mismatch: the client did not start with the worker protocol magic" \
		u:12345 u:290 u:0 u:0
	wrefused hs/wrong-major gate 100 "unsupported worker protocol version 2.34 (1.21 or newer expected)" \
		u:1852405859 u:546 u:0 u:0
	wrefused hs/too-old gate 100 "unsupported worker protocol version 1.10 (1.21 or newer expected)" \
		u:1852405859 u:266
	wrefused hs/features-2^40 gate 100 "client sent a list of 1099511627776 protocol features, more than the limit of 64" \
		u:1852405859 u:294 u:1099511627776
	wrefused hs/truncated gate 100 "client closed the connection in the middle of a message" u:1852405859 u:290
}

# The session answers as a daemon would: magic, version, then after the
# client's hello the daemon's Nix version, trust and STDERR_LAST; a 1.38
# client gets an empty feature list; SetOptions is taken and answered.
t_ng_handshake_ok() {
	wsend untrusted hello38 u:19 u:0 u:0 u:0 u:0 u:1 u:60 u:0 u:0 u:0 u:0 u:1 u:1 u:2 \
		s:timeout s:100 s:builders s: u:1 "s:/nix/store/00000000000000000000000000000000-x"
	if [ "$st" -eq 0 ] && perl -e 'local $/; my $b = <STDIN>; my @u = unpack "Q<3", $b;
		exit !($u[0] == 0x6478696f && $u[1] == 0x126 && $u[2] == 0 && $b =~ /\x02\0{7}(?:stla\0{4}){3}\0{8}$/s)' < "$B/w.out"; then
		ok handshake/1.38-set-options
	else
		bad handshake/1.38-set-options "exit status $st: $(od -An -tx1 "$B/w.out" | head -c 300) $(head -c 300 "$B/w.err")"
	fi
}

t_ng_command() {
	for c in "nix-daemon" "nix-daemon --stdio --process-ops" "nix-daemon --stdio --force-trusted"; do
		ssh -F "$B/ssh_config" gate "$c" < /dev/null > /dev/null 2> "$B/c.err"
		cst=$?
		if [ "$cst" = 100 ] && [ "$(errlines "$B/c.err")" = 1 ] && grep -q "key gate: command" "$B/c.err"; then
			ok "command/$c"
		else
			bad "command/$c" "exit status $cst: $(cat "$B/c.err")"
		fi
	done
	# the quoted form newer clients send
	wbytes hello u:1 "s:/nix/store/00000000000000000000000000000000-x" > "$B/w.in"
	if ssh -F "$B/ssh_config" gate "'nix-daemon' '--stdio' '--store' 'daemon'" < "$B/w.in" > /dev/null 2> "$B/c.err"; then
		ok command/quoted
	else
		bad command/quoted "$(cat "$B/c.err")"
	fi
}
