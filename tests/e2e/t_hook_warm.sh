# Warm connections: the hook keeps its own ssh control master per builder
# (NIXGATE_WARM_DIR, NIXGATE_WARM_SECONDS), so builds after the first go
# over one ssh connection; the master ends once idle for its lifetime, a
# builder whose sshd died is reached again by a new connection (or backed
# off, as before, when it stays dead), and a user's own ControlMaster
# config is used as it is. The forced command logs SSH_CONNECTION (client
# address and port: one per TCP connection) for every session.
SYS="$(uname -m)-linux"
LIFE=4
bed_more_host w2
bed_key wk "echo \$SSH_CONNECTION >> $B/home/wk-conns; exec $B/bin/nixgate-serve --key wk --audit-log $B/home/wk.log" w2
bed_key wo "$B/bin/nixgate-serve --key wo --audit-log $B/home/wo.log"
W2=$B/hosts/w2
mkdir -p "$B/hook-conf"
cat "$B/client-conf/nix.conf" > "$B/hook-conf/nix.conf"
echo "build-hook = $B/bin/nixgate-build-hook" >> "$B/hook-conf/nix.conf"
NIX_CONF_DIR="$B/hook-conf" NIXGATE_WARM_DIR="$B/warm" NIXGATE_WARM_SECONDS=$LIFE NIXGATE_HOOK_TIMES=1 \
	nix-daemon > "$B/client-daemon.log" 2>&1 &
echo $! > "$B/client-daemon.pid"
for i in $(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done

# sessions and distinct TCP connections that reached wk so far
sessions() { cat "$B/home/wk-conns" 2>/dev/null | wc -l; }
conns() { cat "$B/home/wk-conns" 2>/dev/null | cut -d' ' -f1-2 | sort -u | wc -l; }
# the hook's masters under the warm directory (their process title names
# the control path)
masters() { pgrep -f "^ssh: $B/warm/" | wc -l; }
# wbuild NAME BUILDERS: a one-line derivation built through the hook; its
# output in $o, nix-build's words in $B/NAME.out
wbuild() {
	cat > "$B/$1.nix" <<-NIX
	derivation { name = "$1"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "if [ -e /nix/host-marker ]; then echo $1 > \$out; fi" ]; }
	NIX
	o=$(timeout 120 env NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "$2" "$B/$1.nix" 2> "$B/$1.out") &&
		[ "$(cat "$o")" = "$1" ]
}
# the tree of a process, children first
tree() { for c in $(pgrep -P "$1"); do tree "$c"; done; echo "$1"; }
# w2's sshd and every connection it has, gone at once, as a host that died
w2_kill() {
	pids=$(tree "$(cat "$W2/sshd.pid2")")
	kill -KILL $pids 2>/dev/null
	# bounded: a process no one reaps stays as a zombie, which kill -0 finds
	for p in $pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$p/stat" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.05; i=$((i + 1))
		done
	done
}
w2_start() {
	nsenter -t "$(cat "$W2/daemon.pid")" -m -- sh -c \
		'/usr/sbin/sshd -D -e -f "$0/sshd_config" >> "$0/sshd.log" 2>&1 & echo $! > "$0/sshd.pid2"' "$W2"
	for i in $(seq 100); do ss -Hltn "sport = :$(cat "$W2/port")" | grep -q . && return 0; sleep 0.1; done
	return 1
}

# Three builds in a row: three sessions over one connection, and the step
# times in the build log
t_warm_reused() {
	for n in 1 2 3; do
		wbuild "warm-$n" "ssh://wk $SYS - 8 1" || { bad hook-warm/reused "build $n: $(tail -n 3 "$B/warm-$n.out" | tr '\n' ' ')"; return; }
	done
	if [ "$(sessions)" = 3 ] && [ "$(conns)" = 1 ] && [ "$(masters)" = 1 ] &&
	   grep -q "^nixgate: step times (ms): choose [0-9.]*, accept .*, outputs [0-9.]*, total [0-9.]*$" "$B/warm-3.out"; then
		ok hook-warm/reused
	else
		bad hook-warm/reused "$(sessions) sessions over $(conns) connections, $(masters) masters: $(grep 'step times' "$B/warm-3.out")"
	fi
}

# The master ends once idle for its lifetime, its socket with it
t_lifetime() {
	m=$(masters)
	sleep $((LIFE + 3))
	if [ "$m" = 1 ] && [ "$(masters)" = 0 ] && [ -z "$(ls -A "$B/warm" 2>/dev/null | grep -v "^[gl]-")" ]; then
		ok hook-warm/lifetime
	else
		bad hook-warm/lifetime "$m masters before, $(masters) after $((LIFE + 3)) s; left: $(ls -A "$B/warm" 2>/dev/null | tr '\n' ' ')"
	fi
}

# More builds at once than sshd's MaxSessions (10 by default) lets over one
# connection: each goes over a master of at most 8 sessions (the slot's)
t_many_at_once() {
	sed -i 's/^MaxSessions .*/MaxSessions 10/' "$W2/sshd_config"
	w2_kill
	w2_start || { bad hook-warm/many-at-once "sshd did not start again"; return; }
	{
		echo 'let leaf = i: derivation { name = "many-${toString i}"; system = builtins.currentSystem; builder = "/bin/sh";'
		echo '  args = [ "-c" "/bin/sleep 3; if [ -e /nix/host-marker ]; then echo host > $out; fi" ]; };'
		echo '  leaves = map leaf [ 1 2 3 4 5 6 7 8 9 10 11 12 ];'
		echo 'in derivation { name = "many-top"; system = builtins.currentSystem; builder = "/bin/sh";'
		echo '  args = [ "-c" "for l in $leaves; do read x < $l; echo $x; done > $out" ]; inherit leaves; }'
	} > "$B/many.nix"
	c=$(conns)
	if o=$(timeout 300 env NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://wk $SYS - 12 1" 		"$B/many.nix" 2> "$B/many.out") && [ "$(grep -c '^host$' "$o")" = 12 ] &&
	   [ "$(grep -c "key=wk op=BuildPaths .*-many-.* result=ok" "$B/home/wk.log")" = 13 ] &&
	   [ "$(conns)" -gt "$c" ] && [ "$(conns)" -le $((c + 2)) ]; then
		ok hook-warm/many-at-once
	else
		bad hook-warm/many-at-once "$(($(conns) - c)) connections: $(grep -v '^nixgate: \|^building\|^  /nix' "$B/many.out" | tail -n 3 | tr '\n' ' ')"
		rm -f /nix/var/nix/nixgate-backoff
	fi
}

# A builder whose sshd died with its connections, back again: the next
# build reconnects (one more connection), without a warning
t_builder_killed() {
	wbuild killed-1 "ssh://wk $SYS - 8 1" || { bad hook-warm/reconnected "$(tail -n 3 "$B/killed-1.out" | tr '\n' ' ')"; return; }
	c=$(conns)
	w2_kill
	w2_start || { bad hook-warm/reconnected "sshd did not start again"; return; }
	if wbuild killed-2 "ssh://wk $SYS - 8 1" && [ "$(conns)" = $((c + 1)) ] && ! grep -q "cannot build" "$B/killed-2.out"; then
		ok hook-warm/reconnected
	else
		bad hook-warm/reconnected "$(conns) connections, $c before: $(tail -n 3 "$B/killed-2.out" | tr '\n' ' ')"
	fi
}

# A builder that died and stays dead: its master goes, the build goes to
# the other builder, and the next one does not try the dead one again
t_builder_dead() {
	wbuild dead-0 "ssh://wk $SYS - 8 1" || { bad hook-warm/dead-builder "$(tail -n 3 "$B/dead-0.out" | tr '\n' ' ')"; return; }
	w2_kill
	for i in $(seq 50); do [ "$(masters)" = 0 ] && break; sleep 0.1; done
	left=$(masters)
	wbuild dead-1 "ssh://wk $SYS - 8 10; ssh://wo $SYS - 8 1" &&
		wbuild dead-2 "ssh://wk $SYS - 8 10; ssh://wo $SYS - 8 1" ||
		{ bad hook-warm/dead-builder "$(tail -n 3 "$B/dead-1.out" "$B/dead-2.out" | tr '\n' ' ')"; return; }
	tries=$(cat "$B/dead-1.out" "$B/dead-2.out" | grep -c "cannot build on ssh://wk")
	built=$(grep -c "key=wo op=BuildPaths .*-dead-[12].drv.* result=ok" "$B/home/wo.log")
	if [ "$left" = 0 ] && [ "$tries" = 1 ] && [ "$built" = 2 ]; then
		ok hook-warm/dead-builder
	else
		bad hook-warm/dead-builder "$left masters left, $tries tries of wk, $built builds on wo"
	fi
	w2_start
}

# The user's own ControlMaster config (the last test: the config is the
# bed's): ssh uses the user's master, the hook makes none of its own
t_user_master() {
	printf 'Host *\n  ControlMaster auto\n  ControlPath %s/um-%%C\n  ControlPersist 60\n' "$B" >> "$B/ssh_config"
	# the dead-host memory of the last test would skip wk, and its masters
	# to wo are idle but not yet over
	rm -f /nix/var/nix/nixgate-backoff
	for i in $(seq $((LIFE * 10 + 30))); do [ "$(masters)" = 0 ] && break; sleep 0.1; done
	c=$(conns)
	if wbuild user-1 "ssh://wo $SYS - 8 1" && wbuild user-2 "ssh://wo $SYS - 8 1" && wbuild user-3 "ssh://wk $SYS - 8 1" &&
	   ls "$B"/um-* > /dev/null 2>&1 && [ -z "$(ls -A "$B/warm" 2>/dev/null)" ] && [ "$(masters)" = 0 ] && [ "$(conns)" = $((c + 1)) ]; then
		ok hook-warm/user-master
	else
		bad hook-warm/user-master "user masters: $(ls "$B"/um-* 2>/dev/null | wc -l), ours: $(ls -A "$B/warm" 2>/dev/null | tr '\n' ' ') $(masters): $(tail -n 2 "$B/user-3.out" | tr '\n' ' ')"
	fi
	for m in "$B"/um-*; do [ -e "$m" ] && ssh -o ControlPath="$m" -O exit wo 2>/dev/null; done
}
