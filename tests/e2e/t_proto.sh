# The serve protocol byte for byte: nixgate-serve answers every client minor
# exactly as nix-store --serve does (both run directly on the host, compared
# with a small test client), refuses what it must with one clear line, and
# keeps the forced-command contract.

SC="$B/bin/sclient"
NG="$B/bin/nixgate-serve --key direct --trusted"
bed_key cmdlog "$B/bin/nixgate-serve --key cmdlog --audit-log $B/home/cmdlog.log"

# the same request to both servers, at one minor; outputs must be equal
# but for the version each server offers: nixgate-serve's is 2.8 (Nix 2.35's)
# whatever the host's nix-store offers
same() { # name minor op args...
	n=$1; shift
	bed_host "$SC" "$@" -- nix-store --serve --write 2>&1 | tail -n +2 > "$B/ns.out"
	bed_host "$SC" "$@" -- $NG 2>&1 | perl -0777 -pe 's/^nixgate-serve: [^\n]*running WITHOUT the sandbox[^\n]*\n//mg' > "$B/ng.all"
	tail -n +2 "$B/ng.all" > "$B/ng.out"
	if [ "$(head -n 1 "$B/ng.all")" = "server-version 2.8" ] && cmp -s "$B/ns.out" "$B/ng.out" &&
	   grep -q "^exit 0" "$B/ng.out"; then
		ok "$n"
	else
		bad "$n" "$(diff "$B/ns.out" "$B/ng.out" | head -n 6 | tr '\n' ' ')"
	fi
}

t_minor_versions() {
	cat > "$B/pv.nix" <<-NIX
	let dep = derivation { name = "pv-dep"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo dep > \$out" ]; };
	in derivation { name = "pv"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo \${dep} > \$out" ]; }
	NIX
	o=$(bed_host nix-build --no-out-link "$B/pv.nix" 2>/dev/null)
	dep=$(bed_host nix-store -q --references "$o")
	missing=/nix/store/00000000000000000000000000000000-missing
	for m in 2 3 4 5 6 7; do
		same "info-2.$m" "$m" info "$o" "$dep" "$missing"
		same "valid-2.$m" "$m" valid "$o" "$missing" "$dep"
		same "closure-2.$m" "$m" closure "$o"
	done
	drv=$(bed_host nix-instantiate "$B/pv.nix" 2>/dev/null)
	for m in 1 2 3 7; do
		same "build-2.$m" "$m" build "$drv!out"
	done
}

# raw bytes to a server run directly: prints exit status and stderr
le() { perl -e 'print pack("Q<", $ARGV[0])' "$1"; }

t_unknown_command() {
	{ le $((0x390c9deb)); le $((0x207)); le 99; } > "$B/unk.in"
	bed_host sh -c "$NG < $B/unk.in > /dev/null 2> $B/unk.err"; rc=$?
	if [ $rc = 100 ] && grep -q "unknown serve command 99" "$B/unk.err" && [ "$(errlines "$B/unk.err")" = 1 ]; then
		ok unknown-command
	else
		bad unknown-command "exit $rc: $(cat "$B/unk.err")"
	fi
	{ le $((0x12345678)); } > "$B/magic.in"
	bed_host sh -c "$NG < $B/magic.in > /dev/null 2> $B/magic.err"; rc=$?
	if [ $rc = 100 ] && grep -q "protocol mismatch" "$B/magic.err"; then ok wrong-magic; else bad wrong-magic "exit $rc: $(cat "$B/magic.err")"; fi
	{ le $((0x390c9deb)); le $((0x307)); } > "$B/major.in"
	bed_host sh -c "$NG < $B/major.in > /dev/null 2> $B/major.err"; rc=$?
	if [ $rc = 100 ] && grep -q "unsupported serve protocol version 3.7" "$B/major.err"; then ok wrong-major; else bad wrong-major "exit $rc: $(cat "$B/major.err")"; fi
	bed_host sh -c "$NG < /dev/null > /dev/null 2> $B/empty.err"; rc=$?
	if [ $rc = 100 ] && [ "$(errlines "$B/empty.err")" = 1 ]; then ok empty-input; else bad empty-input "exit $rc: $(cat "$B/empty.err")"; fi
}

t_forced_command() {
	if [ "$(ssh -F "$B/ssh_config" gate echo started 2>&1)" = started ]; then ok echo-started; else bad echo-started "no 'started'"; fi
	for c in "rm -rf /" "nix-store --serve; id" 'nix-store --serve $(id)' "nix-store --serve --write --option x y" "bash"; do
		ssh -F "$B/ssh_config" gate "$c" < /dev/null > "$B/fc.out" 2> "$B/fc.err"; rc=$?
		if [ $rc = 100 ] && [ "$(errlines "$B/fc.err")" = 1 ] && [ ! -s "$B/fc.out" ]; then
			ok "refuse-command/$(echo "$c" | tr -c 'a-z0-9\n-' _)"
		else
			bad "refuse-command/$c" "exit $rc: $(cat "$B/fc.err")"
		fi
	done
	# the kernel passes at most 128 KiB in one environment string
	long=$(head -c 120000 /dev/zero | tr '\0' a)
	SSH_ORIGINAL_COMMAND="$long" bed_host $NG < /dev/null > /dev/null 2> "$B/long.err"; rc=$?
	if [ $rc = 100 ] && grep -q "longer than the limit" "$B/long.err"; then ok command-120KiB; else bad command-120KiB "exit $rc: $(head -c 200 "$B/long.err")"; fi
	# login-shell mode: -c with the forced command, no shell involved
	SSH_ORIGINAL_COMMAND= bed_host "$SC" 7 hello -- "$B/bin/nixgate-serve" --key direct -c "nix-store --serve --write" > "$B/ls.out" 2>&1
	if grep -q "^exit 0" "$B/ls.out"; then ok login-shell-c; else bad login-shell-c "$(cat "$B/ls.out")"; fi
}

# A command refused before the session leaves its audit line too: it is what
# a mounted-ssh-ng:// client (nix-daemon --stdio --process-ops) or a probe
# looks like to the admin.
t_command_audit() {
	rm -f "$B/home/cmdlog.log"
	ssh -F "$B/ssh_config" cmdlog "nix-daemon --stdio --process-ops" < /dev/null > "$B/ca.out" 2> "$B/ca.err"; rc=$?
	if [ $rc = 100 ] && [ "$(errlines "$B/ca.err")" = 1 ] &&
	   grep -q "key cmdlog: command has the argument '--process-ops', which nixgate does not accept" "$B/ca.err" &&
	   [ "$(wc -l < "$B/home/cmdlog.log" 2>/dev/null)" = 1 ] &&
	   grep -q ' key=cmdlog op=command result=refused rule=command .*command="nix-daemon --stdio --process-ops"$' "$B/home/cmdlog.log"; then
		ok command-audited
	else
		bad command-audited "exit $rc: $(cat "$B/ca.err") log: $(cat "$B/home/cmdlog.log")"
	fi
	# the command is the client's: its bytes are escaped like any request's
	rm -f "$B/home/cmdlog.log"
	ssh -F "$B/ssh_config" cmdlog "$(printf 'bash\001\033[2Jx')" < /dev/null > /dev/null 2> "$B/ca.err"; rc=$?
	if [ $rc = 100 ] && grep -q 'command="bash\\x01\\x1b\[2Jx"$' "$B/home/cmdlog.log" &&
	   ! grep -q "$(printf '[\001\033]')" "$B/home/cmdlog.log"; then
		ok command-audit-escaped
	else
		bad command-audit-escaped "exit $rc: log: $(od -c "$B/home/cmdlog.log" | head -n 5 | tr '\n' ' ')"
	fi
	# a double quote cannot end the quoted value and add fields
	rm -f "$B/home/cmdlog.log"
	ssh -F "$B/ssh_config" cmdlog 'bash" rule=none x="' < /dev/null > /dev/null 2>&1
	if grep -q "command=\"bash' rule=none x='\"$" "$B/home/cmdlog.log" &&
	   [ "$(tr -cd '"' < "$B/home/cmdlog.log" | wc -c)" = 4 ]; then
		ok command-audit-quote
	else
		bad command-audit-quote "log: $(cat "$B/home/cmdlog.log")"
	fi
	# what Nix itself sends for ssh-ng://: a worker-protocol session
	rm -f "$B/home/cmdlog.log"
	nix store ping --store ssh-ng://cmdlog > /dev/null 2>&1; rc=$?
	for i in $(seq 50); do grep -q op=session "$B/home/cmdlog.log" 2>/dev/null && break; sleep 0.1; done
	if [ $rc = 0 ] && head -n 1 "$B/home/cmdlog.log" | grep -q ' key=cmdlog op=session client=1\.[0-9]* ' &&
	   ! grep -q 'op=command' "$B/home/cmdlog.log"; then
		ok ssh-ng-audited
	else
		bad ssh-ng-audited "log: $(cat "$B/home/cmdlog.log")"
	fi
	# an accepted command's first line is still its session's
	rm -f "$B/home/cmdlog.log"
	nix store ping --store ssh://cmdlog > /dev/null 2>&1; rc=$?
	# the client may hang up before the server has written its line
	for i in $(seq 50); do grep -q op=session "$B/home/cmdlog.log" 2>/dev/null && break; sleep 0.1; done
	if [ $rc = 0 ] && head -n 1 "$B/home/cmdlog.log" | grep -q ' key=cmdlog op=session ' &&
	   ! grep -q 'op=command' "$B/home/cmdlog.log"; then
		ok command-accepted-session
	else
		bad command-accepted-session "log: $(cat "$B/home/cmdlog.log")"
	fi
}

t_write_needed() {
	d=$(bed_host nix-instantiate "$B/pv.nix" 2>/dev/null)
	"$SC" 7 build "$d!out" -- ssh -F "$B/ssh_config" gate nix-store --serve > "$B/rw.out" 2> "$B/rw.err"
	if grep -q "did not ask for --write" "$B/rw.err"; then ok build-needs-write; else bad build-needs-write "$(cat "$B/rw.err")"; fi
}

t_untrusted_refused() {
	p=$(client_ia untrusted-import unsigned)
	if nix copy --to ssh://untrusted "$p" > "$B/ut.out" 2>&1; then
		bad untrusted-import "the unsigned import was accepted"
	elif grep -q "key untrusted: AddToStoreNar of '$p' refused" "$B/ut.out" && ! host_valid "$p"; then
		ok untrusted-import
	else
		bad untrusted-import "$(tail -n 2 "$B/ut.out")"
	fi
}

t_sandbox_live() {
	[ -z "${NIXGATE_ASAN:-}" ] || return 0 # the sanitizer build runs without the sandbox
	mkfifo "$B/hold"
	ssh -F "$B/ssh_config" gate nix-store --serve --write < "$B/hold" > /dev/null 2>&1 &
	spid=$!
	exec 7> "$B/hold"
	for i in $(seq 50); do
		pid=
		for p in $(pgrep -f "nixgate-serve --key gate"); do
			[ "$(readlink "/proc/$p/exe")" = "$B/bin/nixgate-serve" ] && pid=$p
		done
		[ -n "$pid" ] && break
		sleep 0.1
	done
	st=$(grep -E "^(Seccomp|NoNewPrivs):" "/proc/$pid/status" 2>/dev/null | tr -s '\t ' ' ')
	exec 7>&-
	wait "$spid"
	if echo "$st" | grep -q "Seccomp: 2" && echo "$st" | grep -q "NoNewPrivs: 1"; then
		ok seccomp-live
	else
		bad seccomp-live "status: '$st'"
	fi
}

# ExportPaths (old clients) and ImportPaths (Hydra): nixgate's export equals
# nix-store's byte for byte, and it imports back into the store.
t_export_import() {
	o=$(bed_host nix-build --no-out-link "$B/pv.nix" 2>/dev/null)
	dep=$(bed_host nix-store -q --references "$o")
	bed_host "$SC" 7 export "$dep" "$o" -- $NG > "$B/exp.raw" 2>/dev/null
	# drop the "server-version" line before and the "exit 0" line after
	tail -n +2 "$B/exp.raw" | head -c -7 > "$B/exp.bin"
	bed_host "$SC" 7 export "$dep" "$o" -- nix-store --serve --write > "$B/ns.out" 2>&1
	if grep -q "^error: unknown serve command 5" "$B/ns.out"; then
		# newer nix-store --serve dropped ExportPaths; nixgate still serves
		# it to old clients, in nix-store --export's format
		bed_host nix-store --export "$dep" "$o" > "$B/nsexp.bin" 2>/dev/null
		if [ -s "$B/nsexp.bin" ] && cmp -s "$B/nsexp.bin" "$B/exp.bin" && grep -q "^exit 0" "$B/exp.raw"; then
			ok export-as-nix-store-export
		else
			bad export-as-nix-store-export "$(cmp "$B/nsexp.bin" "$B/exp.bin" 2>&1)"
		fi
	else
		same export 7 export "$dep" "$o"
	fi
	bed_host nix-store --delete "$o" "$dep" > /dev/null 2>&1
	if ! host_valid "$o" && bed_host "$SC" 7 import "$B/exp.bin" -- $NG > "$B/imp.out" 2>&1 &&
	   grep -q "^import 1" "$B/imp.out" && host_valid "$o" && host_valid "$dep" &&
	   bed_host nix-store --verify-path "$o"; then
		ok import-paths
	else
		bad import-paths "$(cat "$B/imp.out" | tr '\n' ' ')"
	fi
}

# A daemon of worker protocol 1.21 (Nix 2.3): AddToStoreNar's NAR goes
# through its STDERR_READ requests, from the spool file (small) and straight
# from the client (large).
t_old_daemon() {
	for size in 1000 68000000; do
		rm -f "$B/old.sock"
		perl "$top/tests/tools/olddaemon.pl" "$B/old.sock" "$B/old.log" 2> "$B/old.err" & dpid=$!
		for i in $(seq 50); do [ -S "$B/old.sock" ] && break; sleep 0.1; done
		perl "$top/tests/tools/malformed.pl" big-add "$size" |
			"$B/bin/nixgate-serve" --key old --trusted --daemon-socket "$B/old.sock" --audit-log none > "$B/old.out" 2> "$B/old.st"
		st=$?
		wait "$dpid"
		if [ "$st" = 0 ] && grep -q "^added /nix/store/[a-z0-9]*-malformed [0-9]* hash-ok$" "$B/old.log" &&
		   [ "$(od -An -tu8 -j 16 -N 8 "$B/old.out" | tr -d ' ')" = 1 ]; then
			ok "daemon-1.21/add-to-store-nar-$size"
		else
			bad "daemon-1.21/add-to-store-nar-$size" "exit $st: $(cat "$B/old.st" "$B/old.err" "$B/old.log" | tr '\n' ' ')"
		fi
		rm -f "$B/old.log"
	done
}
