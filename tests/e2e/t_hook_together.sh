# Builds that start together: N ready builds on a host with N slots, the
# hook's master warm, start within a few ms of each other, not one session
# to the host apart. The daemon asks
# the hook about one build at a time and waits for its "# accept", so
# whatever the hook does before it (ssh -G, a session over the master, the
# host's load) is paid once per build, in a row. Each leaf's builder
# writes its start time and waits for a file the test makes once all have
# started: builds that ran one after another would never all be there.
SYS="$(uname -m)-linux"
N=4
bed_more_host t2
bed_key tk "echo \$SSH_CONNECTION >> $B/home/tk-conns; exec $B/bin/nixgate-serve --key tk --audit-log $B/home/tk.log" t2
mkdir -p "$B/hook-conf" "$B/tog"
chmod 777 "$B/tog"
cat "$B/client-conf/nix.conf" > "$B/hook-conf/nix.conf"
echo "build-hook = $B/bin/nixgate-build-hook" >> "$B/hook-conf/nix.conf"
NIX_CONF_DIR="$B/hook-conf" NIXGATE_WARM_DIR="$B/warm" NIXGATE_HOOK_TIMES=1 \
	nix-daemon > "$B/client-daemon.log" 2>&1 &
echo $! > "$B/client-daemon.pid"
for i in $(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done

conns() { cut -d' ' -f1-2 "$B/home/tk-conns" 2>/dev/null | sort -u | wc -l; }
sessions() { cat "$B/home/tk-conns" 2>/dev/null | wc -l; }
# tbuild NAME FILE BUILDERS: nix-build of FILE through the hook, outputs in $o
tbuild() {
	o=$(timeout 120 env NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "$3" "$2" 2> "$B/$1.out")
}

# N leaves, each waiting (at most 20 s) for the others to start: built
# together they all say "host", one after another none does
together_nix() {
	{
		echo "let leaf = i: derivation { name = \"$1-\${toString i}\"; system = builtins.currentSystem; builder = \"/bin/sh\";"
		echo "  args = [ \"-c\" ''"
		echo "    /bin/date +%s%N > $B/tog/$1-\${toString i}"
		echo "    n=0; while [ ! -e $B/tog/$1-go ] && [ \$n -lt 400 ]; do /bin/sleep 0.05; n=\$((n + 1)); done"
		echo "    if [ -e $B/tog/$1-go ]; then echo host > \$out; else echo alone > \$out; fi"
		echo "  '' ]; };"
		echo "in map leaf [ $(seq -s ' ' $N) ]"
	} > "$B/$1.nix"
}
# the test's side: once all N have started, the file they wait for; the
# spread of their starts (ms) into $B/tog/NAME-spread
release() {
	for i in $(seq 400); do
		[ "$(ls "$B/tog" | grep -c "^$1-[0-9]*$")" = $N ] && break
		sleep 0.05
	done
	: > "$B/tog/$1-go"
	cat "$B/tog/$1"-[0-9]* | sort -n | awk 'NR == 1 {a = $1} {z = $1} END {printf "%d\n", (z - a) / 1e6}' > "$B/tog/$1-spread"
}

t_together() {
	cat > "$B/first.nix" <<-NIX
	derivation { name = "first"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo > \$out" ]; }
	NIX
	# the first build makes the master the others use
	tbuild first "$B/first.nix" "ssh://tk $SYS - $N 1" || { bad hook-together/first "$(tail -n 3 "$B/first.out" | tr '\n' ' ')"; return; }
	together_nix tog
	release tog &
	rel=$!
	tbuild tog "$B/tog.nix" "ssh://tk $SYS - $N 1"
	st=$?
	wait $rel
	spread=$(cat "$B/tog/tog-spread")
	hosts=$(for p in $o; do cat "$p"; done | grep -c '^host$')
	echo "hook-together: $N starts within $spread ms; $(grep -h 'step times' "$B/tog.out" | sed 's/.*(ms): //' | tr '\n' '|')"
	if [ $st = 0 ] && [ "$hosts" = $N ] && [ "$(conns)" = 1 ] && [ "$(sessions)" = $((N + 1)) ]; then
		ok hook-together/all-at-once
	else
		bad hook-together/all-at-once "status $st, $hosts of $N built with the others running, $(sessions) sessions over $(conns) connections: $(tail -n 3 "$B/tog.out" | tr '\n' ' ')"
	fi
	# together: the N starts spread over less than half the time their
	# sessions to the host took (choose, prepare and ask, summed), which N accepts
	# that each wait for a session would take at least; measured against
	# the same run's sessions, so that a busy machine slows both
	sess=$(sed -n 's/^nixgate: step times (ms): //p' "$B/tog.out" | tr ',' '\n' |
		awk '$1 == "choose" || $1 == "prepare" || $1 == "ask" {s += $2} END {printf "%d\n", s}')
	if [ -n "$spread" ] && [ "$(grep -c 'step times' "$B/tog.out")" = $N ] && [ $((spread * 2)) -lt "$sess" ]; then
		ok hook-together/sessions-overlap
	else
		bad hook-together/sessions-overlap "$N builds started within $spread ms, their sessions took $sess ms"
	fi
}
