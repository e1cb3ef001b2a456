# Privilege separation: the process that reads the network (the parser)
# holds no daemon socket; the monitor, which does, reads only what the
# parser forwards. A parser that tries to reach anything dies by SIGSYS.

# The session's two processes for KEY: "MONITOR PARSER" (the parser is the
# monitor's child).
pair_of() {
	ps -eo pid=,ppid=,comm=,args= | awk -v k="--key $1 " '($3 == "nixgate-serve" || $3 == "asan-nixgate-se") && index($0, k) {
		pid[$1] = 1; parent[$1] = $2 }
		END { for (p in pid) if (parent[p] in pid) print parent[p], p }'
}

# The unix sockets PID holds that are connected to the daemon's socket:
# the peers of the daemon's accepted connections.
daemon_conns() {
	ss -xpn | awk -v pid="pid=$1," -v sock=/nix/var/nix/daemon-socket/socket '
		$5 == sock { peer[$8] = 1 }
		{ line[NR] = $0; local_[NR] = $6 }
		END { for (i in line) if ((local_[i] in peer) && index(line[i], pid)) print line[i] }'
}

# A session that stays open: the handshake and a NixgateInfo, then quiet.
t_live() {
	bed_key privsep "$B/bin/nixgate-serve --key privsep --audit-log none"
	{ perl -e 'binmode STDOUT; print pack("Q<*", 0x390c9deb, 0x207, 0x6e676901)'; sleep 6; } |
		ssh -F "$B/ssh_config" privsep nix-store --serve --write > /dev/null 2>&1 &
	spid=$!
	pair=
	for i in 1 2 3 4 5 6 7 8 9 10; do
		sleep 0.3
		pair=$(pair_of privsep)
		[ -n "$pair" ] && [ -n "$(daemon_conns "${pair% *}")" ] && break
	done
	mon=${pair% *}; par=${pair#* }
	if [ -z "$pair" ]; then
		bad parser-no-daemon-socket "no parser and monitor found: $(ps -eo pid,ppid,args | grep -c nixgate-serve)"
	elif [ -z "$(daemon_conns "$mon")" ]; then
		bad parser-no-daemon-socket "the monitor $mon holds no daemon connection either: the check sees nothing"
	elif [ -n "$(daemon_conns "$par")" ]; then
		bad parser-no-daemon-socket "the parser $par holds a daemon connection: $(daemon_conns "$par")"
	else
		ok parser-no-daemon-socket
	fi
	# its descriptors: stdin, /dev/null, stderr, its channel's two pipes,
	# the error pipe: no socket at all
	fds=$(ls -l "/proc/$par/fd" 2>/dev/null | awk 'NR > 1 { print $NF }' | sed 's/\[.*//' | sort | tr '\n' ' ')
	if [ "$fds" = "/dev/null pipe: pipe: pipe: pipe: pipe: " ]; then
		ok parser-descriptors
	else
		bad parser-descriptors "the parser holds: $fds"
	fi
	# the monitor gone, the parser goes with it
	kill -KILL "$mon"
	sleep 0.5
	# a zombie waiting for its new parent to reap it has ended too
	if [ -e "/proc/$par/stat" ] && [ "$(awk '{ print $3 }' "/proc/$par/stat" 2>/dev/null)" != Z ]; then
		bad parser-dies-with-monitor "the parser $par outlived its monitor"
	else
		ok parser-dies-with-monitor
	fi
	wait "$spid" 2>/dev/null
}

# The test build's parser calls socket() once inside its sandbox.
t_parser_sigsys() {
	bed_key connect "$B/bin/connect-nixgate-serve --key connect --trusted --audit-log $B/home/privsep.audit"
	bed_key connect-nosandbox "$B/bin/connect-nixgate-serve --key connect-nosandbox --trusted --no-sandbox --audit-log none"
	p=$(client_add privsep-sigsys "sigsys")
	before=$(store_strict)
	nix copy --to ssh://connect "$p" > /dev/null 2> "$B/sigsys.err"; st=$?
	if [ "$st" = 0 ] || ! grep -qF "nixgate-serve: key connect: the parser process died by signal 31 (a system call its sandbox does not allow)" "$B/sigsys.err"; then
		bad parser-sigsys "status $st: $(tr '\n' '|' < "$B/sigsys.err")"
	elif [ "$before" != "$(store_strict)" ] || host_valid "$p"; then
		bad parser-sigsys "the host store changed"
	elif ! grep -q "key=connect op=session .*result=error" "$B/home/privsep.audit"; then
		bad parser-sigsys "no audit line for the session: $(tr '\n' '|' < "$B/home/privsep.audit")"
	else
		ok parser-sigsys
	fi
	# without the sandbox the same call succeeds: the death above is the
	# sandbox's, not the test build's
	if nix copy --to ssh://connect-nosandbox "$p" > /dev/null 2>&1 && host_valid "$p"; then
		ok parser-sigsys-control
	else
		bad parser-sigsys-control "the test build fails without its sandbox too"
	fi
}

# --print-sandbox shows both tables, and the parser's allows nothing on the
# daemon socket, the audit log or the spool.
t_print_sandbox() {
	"$B/bin/nixgate-serve" --print-sandbox > "$B/ps.out" 2>&1
	par=$(sed -n '/^parser seccomp/,/^monitor seccomp/p' "$B/ps.out")
	mon=$(sed -n '/^monitor seccomp/,/^rlimits/p' "$B/ps.out")
	if [ -z "$par" ] || [ -z "$mon" ]; then
		bad print-sandbox "not both tables: $(head -c 300 "$B/ps.out" | tr '\n' '|')"
	elif echo "$par" | grep -q "daemon socket\|audit log\|spool file\|client output"; then
		bad print-sandbox "the parser's table names what it must not hold: $par"
	elif ! echo "$mon" | grep -q "daemon socket" || echo "$mon" | grep -q "client input"; then
		bad print-sandbox "the monitor's table: $mon"
	else
		ok print-sandbox
	fi
}
