# Deadlines: no client holds a build slot, a daemon path lock or a daemon
# worker for good by not reading or not sending. Raw sessions over sshd:
# stdin from a FIFO the test writes on fd 3, outputs to files or to FIFOs
# nobody reads.
MAL="$top/tests/tools/malformed.pl"
STATE=$B/home/state
bed_key endless "$B/bin/nixgate-serve --key endless --max-build-time 3 --max-jobs 1 --state-dir $STATE --audit-log none"
bed_key endless2 "$B/bin/nixgate-serve --key endless2 --max-build-time 3 --audit-log none"
bed_key idle "$B/bin/nixgate-serve --key idle --trusted --idle-timeout 2 --audit-log none"
bed_key slowd "$B/bin/nixgate-serve --key slowd --trusted --audit-log none"

# serve_bytes [N|STRING]...: a session's handshake, then each argument as a
# u64 (digits) or a string of the serve protocol
serve_bytes() {
	perl -e 'binmode STDOUT; sub u { pack "Q<", $_[0] } sub str { my $x = shift; u(length $x) . $x . ("\0" x ((8 - length($x) % 8) % 8)) }
		print u(0x390c9deb), u(0x207); print /^\d+$/ ? u($_) : str($_) for @ARGV' -- "$@"
}
# open_session KEY OUT ERR: ssh in the background (its pid in SPID), its
# stdin the FIFO $B/fin that fd 3 of this shell writes
open_session() {
	rm -f "$B/fin"; mkfifo "$B/fin"
	ssh -F "$B/ssh_config" "$1" nix-store --serve --write < "$B/fin" > "$2" 2> "$3" &
	SPID=$!
	exec 3> "$B/fin"
}
# wait_session SECONDS: ssh's exit status in st; past SECONDS it is killed
# (the session hangs: the test fails rather than the run)
wait_session() {
	( sleep "$1"; kill "$SPID" 2>/dev/null ) & wd=$!
	wait "$SPID"; st=$?
	kill "$wd" 2>/dev/null
}
# A FIFO held open for reading by this shell on fd $2 and never read: the
# output of a client that does not read.
unread_fifo() { rm -f "$1"; mkfifo "$1"; eval "exec $2<> \"$1\""; }
# serving KEY: the nixgate-serve processes of that key (the sanitizer
# build's wrapper runs it as asan-nixgate-serve)
serving() { pgrep -f -- "nixgate-serve .*--key $1 " | wc -l; }
# gone_within KEY SECONDS: 0 once no process of that key is left
gone_within() {
	i=0
	while [ "$(serving "$1")" != 0 ]; do
		[ "$i" -ge $(($2 * 10)) ] && return 1
		sleep 0.1; i=$((i + 1))
	done
}
# A .drv in the host store whose builder prints without end; its command
# line carries MARK, so the builder can be found on the host.
endless_drv() { # mark
	bed_host nix-instantiate --expr "derivation { name = \"endless\"; system = builtins.currentSystem; builder = \"/bin/sh\";
		args = [\"-c\" \"while :; do echo $1 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz; done\"]; }" 2>/dev/null
}
quick_drv() { # name
	bed_host nix-instantiate --expr "derivation { name = \"$1\"; system = builtins.currentSystem; builder = \"/bin/sh\"; args = [\"-c\" \"echo $1 > \$out\"]; }" 2>/dev/null
}
builder_runs() { pgrep -f -- "echo $1 0123" > /dev/null; }
# a builder left by a failed test, by its pids (its command line is this run's)
stop_builder() { for p in $(pgrep -f -- "echo $1 0123"); do kill "$p"; done; }
# workers: the nix-daemon processes the bed's daemon forked, one a connection
workers() { pgrep -P "$(cat "$B/daemon.pid")" | wc -l; }

# The build prints without end and the client never reads stderr (its ssh
# writes it into a FIFO nobody reads, so the channel stops): the build still
# ends at max-build-time, the session ends, the key's one slot is free.
t_endless_unread() {
	mark=endless-unread-$$
	drv=$(endless_drv "$mark")
	unread_fifo "$B/eu.err" 5
	open_session endless "$B/eu.out" "$B/eu.err"
	serve_bytes 6 1 "$drv!out" 0 0 0 0 0 0 >&3
	exec 3>&-   # the request is whole: the client then waits for the answer
	sleep 1
	builder_runs "$mark" && started=1 || started=0
	if [ "$started" = 1 ] && gone_within endless 25 && ! builder_runs "$mark"; then
		ok endless-log-unread/session-ends
	else
		bad endless-log-unread/session-ends "builder started $started; after 25 s: $(serving endless) session(s), builder running: $(builder_runs "$mark" && echo yes || echo no)"
	fi
	# the slot is free: another session of the key builds at once
	q=$(quick_drv "slot-free-$$")
	if timeout 20 "$B/bin/sclient" 7 build "$q!out" -- ssh -F "$B/ssh_config" endless nix-store --serve --write \
		> "$B/eu2.out" 2> "$B/eu2.err" && grep -qx "status 0" "$B/eu2.out" && ! grep -q "waiting for a build slot" "$B/eu2.err"; then
		ok endless-log-unread/slot-free
	else
		bad endless-log-unread/slot-free "$(tr '\n' ' ' < "$B/eu2.out") $(head -c 300 "$B/eu2.err")"
	fi
	cat <&5 > /dev/null & cpid=$!   # let the stalled ssh finish
	wait_session 10
	kill "$cpid" 2>/dev/null; exec 5<&-
	stop_builder "$mark"
}

# The same build, the client reading: killed at max-build-time, and the
# client is told it timed out.
t_endless_read() {
	mark=endless-read-$$
	drv=$(endless_drv "$mark")
	t0=$(date +%s)
	timeout 30 "$B/bin/sclient" 7 build "$drv!out" -- ssh -F "$B/ssh_config" endless2 nix-store --serve --write \
		> "$B/er.out" 2> /dev/null
	t=$(($(date +%s) - t0))
	if grep -q "^status [1-9]" "$B/er.out" && grep -q "^error .*timed out" "$B/er.out" && [ "$t" -le 20 ] &&
	   ! builder_runs "$mark"; then
		ok endless-log-read/timed-out
	else
		bad endless-log-read/timed-out "after $t s: $(tr '\n' ' ' < "$B/er.out")"
	fi
	stop_builder "$mark"
}

# half_add NAME SIZE CUT STATE: a trusted key's AddToStoreNar of SIZE bytes
# stalls after CUT bytes: the session ends after the idle timeout with one
# line, and STATE (a function) is as before
half_add() {
	n=$1; size=$2; cut=$3; state=$4
	perl "$MAL" big-add "$size" > "$B/up.in"
	before=$($state)
	t0=$(date +%s)
	open_session idle "$B/ha.out" "$B/ha.err"
	head -c "$cut" "$B/up.in" >&3
	wait_session 20
	t=$(($(date +%s) - t0))
	exec 3>&-
	if [ "$st" = 100 ] && [ "$(errlines "$B/ha.err")" = 1 ] && grep -q "key idle: .*client sent nothing for 2 s (idle-timeout)" "$B/ha.err" &&
	   [ "$t" -le 15 ] && [ "$before" = "$($state)" ]; then
		ok "$n"
	else
		bad "$n" "status $st after $t s, store $([ "$before" = "$($state)" ] && echo same || echo changed): $(head -c 300 "$B/ha.err")"
	fi
}

t_idle_mid_nar() {
	# 1 MiB: spooled, the daemon never sees it; nothing at all is left
	half_add idle/mid-nar-spooled 1048576 524288 store_strict
	# 96 MiB: streams to the daemon, which holds the path's lock
	valid_state() { bed_host nix path-info --all 2>&1 | md5sum; }
	strict0=$(store_strict)
	half_add idle/mid-nar-streaming 100663296 41943040 valid_state
	p=$(perl -e 'print "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-malformed"')
	[ "$strict0" = "$(store_strict)" ] || echo "note: the daemon left a partial path of the trusted key's cut stream: $(bed_host ls -d "$p" "$p.lock" 2>&1 | tr '\n' ' ')"
	# the lock is free: a second session adds the same path
	if timeout 60 ssh -F "$B/ssh_config" idle nix-store --serve --write < "$B/up.in" > "$B/ha2.out" 2> "$B/ha2.err" &&
	   host_valid "$p"; then
		ok idle/mid-nar-lock-released
	else
		bad idle/mid-nar-lock-released "$(head -c 300 "$B/ha2.err")"
	fi
	bed_host nix-store --delete "$p" > /dev/null 2>&1
}

# Nothing sent after the handshake: ended after the idle timeout.
t_idle_between_requests() {
	t0=$(date +%s)
	open_session idle "$B/ib.out" "$B/ib.err"
	serve_bytes >&3
	wait_session 20
	t=$(($(date +%s) - t0))
	exec 3>&-
	if [ "$st" = 100 ] && [ "$(errlines "$B/ib.err")" = 1 ] && grep -q "key idle: client sent nothing for 2 s (idle-timeout)" "$B/ib.err" &&
	   [ "$t" -ge 2 ] && [ "$t" -le 12 ] && [ "$(wc -c < "$B/ib.out")" = 16 ]; then
		ok idle/between-requests
	else
		bad idle/between-requests "status $st after $t s: $(head -c 300 "$B/ib.err")"
	fi
}

# An export of 64 MiB that the client never reads: cut off after the idle
# timeout, and the daemon worker that served it is gone.
t_export_unread() {
	head -c 67108864 /dev/urandom > "$B/exp"
	p=$(bed_host nix-store --add "$B/exp")
	rm -f "$B/exp"
	w0=$(workers)
	unread_fifo "$B/ex.out" 6
	open_session idle "$B/ex.out" "$B/ex.err"
	serve_bytes 3 "$p" >&3
	sleep 1
	w1=$(workers)
	if [ "$w1" -gt "$w0" ] && gone_within idle 12 && sleep 1 && [ "$(workers)" = "$w0" ]; then
		ok export-unread/cut-off
	else
		bad export-unread/cut-off "workers $w0 before, $w1 during, $(workers) after; $(serving idle) session(s) left"
	fi
	exec 3>&-
	cat <&6 > /dev/null & cpid=$!
	wait_session 30
	kill "$cpid" 2>/dev/null; exec 6<&-
	if [ "$st" = 100 ] && [ "$(errlines "$B/ex.err")" = 1 ] && grep -q "key idle: .*client read nothing for 2 s (idle-timeout)" "$B/ex.err"; then
		ok export-unread/line
	else
		bad export-unread/line "status $st: $(head -c 300 "$B/ex.err")"
	fi
	bed_host nix-store --delete "$p" > /dev/null 2>&1
}

# An honest session that waits between requests less than the default idle
# timeout goes on; and the default is what NixgateInfo reports.
t_idle_default() {
	open_session slowd "$B/sd.out" "$B/sd.err"
	serve_bytes >&3
	sleep 3
	serve_bytes 1 0 0 0 | tail -c +17 >&3
	exec 3>&-
	wait_session 20
	info=$(timeout 20 "$NIXGATE" ping ssh://slowd 2>&1)
	if [ "$st" = 0 ] && [ "$(wc -c < "$B/sd.out")" = 24 ] && echo "$info" | grep -q "idle-timeout.*600"; then
		ok idle/default
	else
		bad idle/default "status $st, $(wc -c < "$B/sd.out") bytes; $(head -c 200 "$B/sd.err") $(echo "$info" | grep -i idle)"
	fi
}

# A daemon that starts the build and then neither ends it nor says a word
# (as if it ignored its timeout): nixgate's own clock ends it at
# max-build-time plus its 5 s grace, by hanging up, which the daemon sees;
# the client is told, and the session ends with one line. The key is trusted
# so that nixgate asks the stand-in for nothing but the build (no plan).
t_build_clock() {
	perl -e 'use IO::Socket::UNIX; use Time::HiRes qw(time);
		my ($path, $log) = @ARGV; unlink $path;
		my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $path, Listen => 1) or die "$path: $!";
		my $c = $srv->accept or die; $c->autoflush(1);
		sub rd { my $n = shift; my $b = ""; while (length $b < $n) { my $k = sysread($c, $b, $n - length $b, length $b); return undef unless $k; } $b }
		sub u64 { my $b = rd(8); defined $b ? unpack("Q<", $b) : undef }
		sub str { my $n = u64(); my $s = rd($n + (8 - $n % 8) % 8); substr($s, 0, $n) }
		sub put { print $c pack("Q<*", @_) }
		u64() == 0x6e697863 or die; put(0x6478696f, 0x115); u64(); u64(); u64(); put(0x616c7473);
		u64() == 19 or die; u64() for 1 .. 12; my $n = u64(); str() for 1 .. 2 * $n; put(0x616c7473);
		u64() == 9 or die; $n = u64(); str() for 1 .. $n; u64();
		put(0x53545254, 1, 3, 105); print $c pack("Q<", 8), "building"; put(0, 0);
		my $t0 = time; my $b = rd(1);
		open my $o, ">", $log; printf $o "hangup after %.0f s\n", time - $t0;' "$B/hung.sock" "$B/hung.log" &
	dpid=$!
	for i in $(seq 50); do [ -S "$B/hung.sock" ] && break; sleep 0.1; done
	t0=$(date +%s)
	timeout 40 "$B/bin/sclient" 7 build "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-hung.drv!out" -- \
		"$B/bin/nixgate-serve" --key hung --trusted --max-build-time 2 --daemon-socket "$B/hung.sock" --audit-log none \
		> "$B/hung.out" 2> "$B/hung.err"
	t=$(($(date +%s) - t0))
	if grep -qx "status 1" "$B/hung.out" && grep -q "^error BuildPaths: build timed out after 2 s (max-build-time, ended by nixgate)" "$B/hung.out" &&
	   grep -qx "exit 100" "$B/hung.out" && [ "$(errlines "$B/hung.err")" = 1 ] &&
	   grep -q "key hung: BuildPaths: build timed out after 2 s" "$B/hung.err" &&
	   grep -q "^hangup after [67] s" "$B/hung.log" 2>/dev/null && [ "$t" -le 12 ]; then
		ok build-clock/daemon-silent
	else
		bad build-clock/daemon-silent "after $t s: $(tr '\n' ' ' < "$B/hung.out") $(head -c 300 "$B/hung.err") $(cat "$B/hung.log" 2>/dev/null)"
	fi
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
}
