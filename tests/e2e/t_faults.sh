# Faults: the client gone in the middle of an upload, the daemon restarted in
# the middle of a session, the daemon socket missing at start.
MAL="$top/tests/tools/malformed.pl"
valid_state() { bed_host nix path-info --all 2>&1 | md5sum; }
daemon_serves() { p=$(client_add "after-$(echo "$1" | tr / -)" "$1") && nix copy --to ssh://gate "$p" > /dev/null 2>&1 && host_valid "$p"; }

# cut_upload NAME STATE SIZE CUT: send the first CUT bytes of an upload,
# hold the connection, then kill the client side; STATE says what must stay
cut_upload() {
	n=$1; state=$2; size=$3; cut=$4
	before=$($state)
	# the sleep's length is this shell's own, so that only it is killed
	{ head -c "$cut" "$B/up.in"; sleep "30.$$"; } | ssh -F "$B/ssh_config" gate nix-store --serve --write > /dev/null 2> "$B/up.err" &
	spid=$!
	# wait until the server has taken most of what was sent
	sleep 2
	pkill -KILL -f "ssh -F $B/ssh_config gate nix-store --serve --write" 2>/dev/null
	pkill -f "sleep 30\.$$\$" 2>/dev/null
	wait "$spid" 2>/dev/null
	sleep 1
	if [ "$before" != "$($state)" ]; then
		bad "$n" "the host store changed"
	elif ! daemon_serves "$n"; then
		bad "$n" "the host daemon no longer serves"
	else
		ok "$n"
	fi
}

t_client_killed() {
	# 8 MiB: checked whole before the daemon sees it; killed at half
	perl "$MAL" big-add 8388608 > "$B/up.in"
	cut_upload client-killed/add-to-store-nar-small store_state 8388608 4194304
	# 96 MiB: streams to the daemon; killed at two thirds. The daemon leaves
	# the part it wrote as an invalid path (as it does for nix-store
	# --serve), which the next garbage collection removes: nothing is valid
	perl "$MAL" big-add 100663296 > "$B/up.in"
	cut_upload client-killed/add-to-store-nar-streaming valid_state 100663296 67108864
	# ImportPaths, whose NAR waits in the spool file
	head -c 16777216 /dev/urandom > "$B/imp"
	p=$(nix-store --add "$B/imp")
	{ perl -e 'binmode STDOUT; print pack("Q<*", 0x390c9deb, 0x207, 4)'; nix-store --export "$p"; } > "$B/up.in"
	cut_upload client-killed/import-paths store_state 16777216 8388608
}

t_daemon_restarted() {
	rm -f "$B/fin" "$B/fout"; mkfifo "$B/fin" "$B/fout"
	ssh -F "$B/ssh_config" gate nix-store --serve --write < "$B/fin" > "$B/fout" 2> "$B/dr.err" &
	spid=$!
	exec 3> "$B/fin"
	exec 4< "$B/fout"
	perl -e 'binmode STDOUT; $| = 1; print pack("Q<*", 0x390c9deb, 0x207, 1, 0, 0, 0)' >&3
	head -c 24 <&4 > /dev/null   # handshake answer and the first (empty) reply
	bed_daemon_restart || { bad daemon-restarted "the daemon did not come back"; return; }
	perl -e 'binmode STDOUT; print pack("Q<*", 1, 0, 0, 0)' >&3
	exec 3>&- 4<&-
	wait "$spid"; st=$?
	if [ "$st" = 111 ] && [ "$(errlines "$B/dr.err")" = 1 ] && grep -q "nix-daemon" "$B/dr.err" && daemon_serves restarted; then
		ok daemon-restarted
	else
		bad daemon-restarted "status $st: $(cat "$B/dr.err")"
	fi
}

t_socket_missing() {
	bed_host "$B/bin/nixgate-serve" --key s --daemon-socket /nonexistent/socket --audit-log none < /dev/null > /dev/null 2> "$B/sm.err"
	st=$?
	if [ "$st" = 111 ] && [ "$(errlines "$B/sm.err")" = 1 ] && grep -q "/nonexistent/socket: No such file" "$B/sm.err"; then
		ok daemon-socket-missing
	else
		bad daemon-socket-missing "status $st: $(cat "$B/sm.err")"
	fi
}
