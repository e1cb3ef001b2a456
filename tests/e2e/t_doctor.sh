# nixgate doctor and the client's own nix-daemon: the build hook it really
# runs, which its nix.conf does not always say (Nix 2.26 resets build-hook
# after reading nix.conf), and what that means for a key that is not
# trusted. What the daemon runs is found out here by a build: through the
# untrusted key only nixgate's hook can build, Nix's own is refused.
NG=$NIXGATE
SYS="$(uname -m)-linux"
HOOK=$B/bin/nixgate-build-hook
mkdir -p "$B/hook-conf"
cat "$B/client-conf/nix.conf" > "$B/hook-conf/nix.conf"
echo "build-hook = $HOOK" >> "$B/hook-conf/nix.conf"

# client_daemon CONFDIR [NIX_CONFIG]: the client's nix-daemon (again), with
# that configuration directory and, if given, NIX_CONFIG
client_daemon() {
	if [ -f "$B/client-daemon.pid" ]; then
		kill "$(cat "$B/client-daemon.pid")" 2>/dev/null
		wait "$(cat "$B/client-daemon.pid")" 2>/dev/null
	fi
	rm -f /nix/var/nix/daemon-socket/socket
	if [ -n "${2:-}" ]; then
		NIX_CONF_DIR="$1" NIX_CONFIG="$2" nix-daemon > "$B/client-daemon.log" 2>&1 &
	else
		NIX_CONF_DIR="$1" nix-daemon > "$B/client-daemon.log" 2>&1 &
	fi
	echo $! > "$B/client-daemon.pid"
	for i in $(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done
}

# hook_builds NAME: a new derivation built through the client's daemon on
# the untrusted key, which only nixgate's hook can do
hook_builds() {
	cat > "$B/$1.nix" <<-NIX
	derivation { name = "$1"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo $1 > \$out" ]; }
	NIX
	NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://untrusted $SYS - 4 1" "$B/$1.nix" > "$B/$1.out" 2>&1
}

version() { nix-daemon --version | sed -n 's/^[^0-9]*\([0-9][0-9.]*\).*/\1/p'; }

# build-hook in nix.conf, as the README sets it up: doctor says what the
# build finds. Where the daemon runs nixgate's hook, an untrusted key is no
# problem; where it does not (2.26), one line names it and its fix
t_hook_in_nix_conf() {
	client_daemon "$B/hook-conf"
	"$NG" doctor --builders "ssh://untrusted $SYS" > "$B/doc1.out" 2>&1; st=$?
	if hook_builds in-conf; then
		if [ "$st" = 0 ] && [ "$(cat "$B/doc1.out")" = "nix-daemon: ok (Nix $(version), build hook nixgate)
ssh://untrusted: ok (nixgate-serve, key untrusted, through nixgate's build hook)" ]; then
			ok doctor/hook-in-effect
		else
			bad doctor/hook-in-effect "status $st: $(tr '\n' '|' < "$B/doc1.out")"
		fi
	elif [ "$st" = 1 ] && grep -qxF "nix-daemon: problem: the nix-daemon (Nix $(version)) runs the build hook '$(nix show-config 2>/dev/null | sed -n 's/^build-hook = //p')', not nixgate's '$HOOK' that $B/hook-conf/nix.conf sets: this Nix ignores build-hook in nix.conf; fix: put NIX_CONFIG=\"build-hook = $HOOK\" in the nix-daemon's environment (systemd: systemctl edit nix-daemon, Environment=\"NIX_CONFIG=build-hook = $HOOK\") and restart it" "$B/doc1.out" &&
	     grep -q "^ssh://untrusted: problem: key untrusted is not trusted on the host" "$B/doc1.out"; then
		ok doctor/hook-ignored
	else
		bad doctor/hook-ignored "the build failed ($(tail -n 1 "$B/in-conf.out")); doctor: status $st: $(tr '\n' '|' < "$B/doc1.out")"
	fi
}

# The fix doctor gives, on every version: the hook builds, and doctor
# says so, in JSON too
t_nix_config_fix() {
	client_daemon "$B/hook-conf" "build-hook = $HOOK"
	"$NG" doctor --json --builders "ssh://untrusted $SYS" > "$B/doc2.json" 2>&1; st=$?
	if hook_builds with-fix && [ "$st" = 0 ] && perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>);
		my $d = $j->{daemon}; exit !($d->{known} && $d->{nixgate} && $d->{"build-hook"} eq $ARGV[0] &&
		!@{$d->{problems}} && $j->{builders}[0]{ok})' "$HOOK" < "$B/doc2.json"; then
		ok doctor/nix-config-fix
	else
		bad doctor/nix-config-fix "status $st: $(cat "$B/doc2.json") $(tail -n 1 "$B/with-fix.out")"
	fi
}

# Nix's own hook, and no nixgate hook configured: the untrusted key is a
# problem, with the advice to use nixgate's hook, and the build fails
t_stock_hook() {
	client_daemon "$B/client-conf"
	"$NG" doctor --builders "ssh://untrusted $SYS" > "$B/doc3.out" 2>&1; st=$?
	if ! hook_builds stock && [ "$st" = 1 ] && grep -q "^nix-daemon: ok (Nix $(version), build hook /" "$B/doc3.out" &&
	   grep -q "^ssh://untrusted: problem: key untrusted is not trusted on the host.*; fix: use nixgate as the build hook" "$B/doc3.out"; then
		ok doctor/stock-hook
	else
		bad doctor/stock-hook "status $st: $(tr '\n' '|' < "$B/doc3.out")"
	fi
}

# A socket-activated daemon (as systemd's nix-daemon.socket starts it): the
# socket's listener is another process, the daemon is found among this
# mount namespace's processes (the host's daemons are in their own), and
# its own environment is the one that counts: NIX_CONFIG is only in it
t_socket_activated() {
	if [ -f "$B/client-daemon.pid" ]; then
		kill "$(cat "$B/client-daemon.pid")" 2>/dev/null
		wait "$(cat "$B/client-daemon.pid")" 2>/dev/null
	fi
	rm -f /nix/var/nix/daemon-socket/socket
	mkdir -p /nix/var/nix/daemon-socket
	NIX_CONF_DIR="$B/hook-conf" perl -MIO::Socket::UNIX -MPOSIX -e '
		$^F = 3; # fd 3 stays open across exec: it is the one handed over
		my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => shift, Listen => 16) or die "listen: $!";
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			fileno $s == 3 or POSIX::dup2(fileno $s, 3) or die;
			@ENV{qw(LISTEN_FDS LISTEN_PID NIX_CONFIG)} = (1, $$, shift);
			exec @ARGV or die "exec: $!";
		}
		$SIG{TERM} = sub { kill "TERM", $pid; waitpid $pid, 0; exit 0 };
		waitpid $pid, 0;' /nix/var/nix/daemon-socket/socket "build-hook = $HOOK" nix-daemon > "$B/client-daemon.log" 2>&1 &
	echo $! > "$B/client-daemon.pid"
	for i in $(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done
	"$NG" doctor --builders "ssh://untrusted $SYS" > "$B/doc4.out" 2>&1; st=$?
	if [ "$st" = 0 ] && [ "$(cat "$B/doc4.out")" = "nix-daemon: ok (Nix $(version), build hook nixgate)
ssh://untrusted: ok (nixgate-serve, key untrusted, through nixgate's build hook)" ] && hook_builds activated; then
		ok doctor/socket-activated
	else
		bad doctor/socket-activated "status $st: $(tr '\n' '|' < "$B/doc4.out") $(tail -n 1 "$B/activated.out" "$B/client-daemon.log" 2>&1)"
	fi
}
