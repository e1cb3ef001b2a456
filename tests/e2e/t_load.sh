# Load: 64 sessions at once through sshd (copies to and from the host and
# queries), every one succeeds and has its audit lines.
bed_key load "$B/bin/nixgate-serve --key load --trusted --audit-log $B/home/load.log"

t_64_sessions() {
	mkdir -p "$B/load" "$B/lh"
	for i in $(seq 22); do echo "to host $i" > "$B/load/t$i"; echo "from host $i" > "$B/lh/f$i"; done
	nix-store --add "$B"/load/t* > "$B/load.to"
	bed_host nix-store --add "$B"/lh/f* > "$B/load.from"
	h=$(head -n 1 "$B/load.from")
	pids=""
	i=0
	for p in $(cat "$B/load.to"); do
		i=$((i + 1)); nix copy --to ssh://load "$p" > "$B/load/o$i" 2>&1 & pids="$pids $!"
	done
	for p in $(head -n 21 "$B/load.from"); do
		i=$((i + 1)); nix copy --from ssh://load "$p" > "$B/load/o$i" 2>&1 & pids="$pids $!"
	done
	while [ "$i" -lt 64 ]; do
		i=$((i + 1)); "$B/bin/sclient" 7 valid "$h" -- ssh -F "$B/ssh_config" load nix-store --serve > "$B/load/o$i" 2>&1 & pids="$pids $!"
	done
	failed=0
	for p in $pids; do wait "$p" || failed=$((failed + 1)); done
	sessions=$(grep -c "key=load op=session .* result=ok" "$B/home/load.log")
	adds=$(grep -c "key=load op=AddToStoreNar paths=1 .* result=ok" "$B/home/load.log")
	dumps=$(grep -c "key=load op=DumpStorePath paths=1 .* result=ok" "$B/home/load.log")
	queries=$(grep -c "key=load op=QueryValidPaths paths=1 first=$h .* result=ok" "$B/home/load.log")
	invalid=$(bed_host nix-store --check-validity --print-invalid $(cat "$B/load.to") | wc -l)
	missing=$(nix-store --check-validity --print-invalid $(head -n 21 "$B/load.from") | wc -l)
	if [ "$failed" = 0 ] && [ "$sessions" = 64 ] && [ "$adds" = 22 ] && [ "$dumps" = 21 ] && [ "$queries" -ge 21 ] &&
	   [ "$invalid" = 0 ] && [ "$missing" = 0 ] && [ "$(grep -c '^valid ' "$B"/load/o64)" = 1 ]; then
		ok 64-concurrent-sessions
	else
		bad 64-concurrent-sessions "failed $failed, sessions $sessions, adds $adds, dumps $dumps, queries $queries, invalid $invalid, missing $missing"
	fi
}
