# The throwaway build host, sourced by the end-to-end tests and the demo.
# bed_up makes: a client /nix and nix.conf (this shell must already be in its
# own mount namespace), a host in a nested mount namespace with its own /nix,
# /etc/nix, nix-daemon and sshd on 127.0.0.1, and one ssh Host alias per key.
# bed_down removes everything again. BED_HOST_ROOT (tests/roots.sh's
# root_dir) roots the hosts in another Nix version's root.

BED_USER=nixgate-host
top=${top:-$(cd "$(dirname "$0")/.." && pwd)}

bed_log() { printf 'bed: %s\n' "$*" >&2; }
bed_die() { bed_log "$*"; exit 111; }

bed_user() {
	getent group nix-users >/dev/null || groupadd -r nix-users
	if ! getent passwd "$BED_USER" >/dev/null; then
		useradd -r -M -d /var/lib/$BED_USER -s /bin/sh -G nix-users "$BED_USER" || bed_die "useradd failed"
	fi
	mkdir -p "/var/lib/$BED_USER"
	chown "$BED_USER" "/var/lib/$BED_USER"
	# useradd -r leaves the password locked ("!"), and sshd refuses locked accounts.
	usermod -p '*' "$BED_USER"
	usermod -aG nix-users -d "/var/lib/$BED_USER" "$BED_USER"
}

# A random start: beds of concurrent runs took their ports from their close
# pids, and a bed's extra hosts the ports after its own, so now and then two
# beds picked the same free port before either's sshd listened on it. Below
# the kernel's ephemeral range (32768 on): an outgoing connection's local
# port there also kept sshd from binding. Taken: any socket on the port.
bed_port() {
	p=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
	while ss -Htan "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

bed_up() {
	[ "$(id -u)" = 0 ] || bed_die "must run as root"
	# in a client's root the users are the machine's, made before it
	[ -n "${ROOT_MACHINE:-}" ] || bed_user
	B=$(mktemp -d /tmp/nixgate-bed.XXXXXX)
	chmod 755 "$B"
	mkdir -p "$B/client-nix" "$B/client-conf" "$B/host-nix" "$B/host-conf" "$B/auth" "$B/home"
	chown "$BED_USER" "$B/home"
	# client side: this namespace's /nix
	mount --bind "$B/client-nix" /nix || bed_die "cannot bind-mount $B/client-nix on /nix"
	cat > "$B/client-conf/nix.conf" <<-CONF
	substituters =
	sandbox = false
	experimental-features = nix-command
	build-users-group =
	CONF
	export NIX_CONF_DIR="$B/client-conf"
	nix-store --init || bed_die "client nix-store --init failed"

	# a binary cache only the host reaches, signed by a key only it trusts
	mkdir -p "$B/cache"
	printf 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n' > "$B/cache/nix-cache-info"
	nix-store --generate-binary-cache-key bed-cache "$B/cache-key.sec" "$B/cache-key.pub"
	ssh-keygen -q -t ed25519 -N '' -f "$B/ssh_host_key" -C bed-host
	BED_PORT=$(bed_port)
	: > "$B/known_hosts"
	: > "$B/ssh_config"
	export NIX_SSHOPTS="-F $B/ssh_config"
	# the build hook's ssh masters, this bed's own, ended with it
	export NIXGATE_WARM_DIR="$B/warm"
	mkdir -p /run/sshd

	bed_start_host "$B" "$BED_PORT"
	BED_HOST_PID=$(cat "$B/host.pid")
	export B BED_PORT BED_HOST_PID
}

# bed_start_host DIR PORT: a host in a nested mount namespace with its own
# /nix (DIR/host-nix), /etc/nix (DIR/host-conf), nix-daemon and an sshd on
# 127.0.0.1:PORT whose keys are DIR/auth/<user>.
bed_start_host() {
	D=$1; port=$2
	mkdir -p "$D/host-nix" "$D/host-conf" "$D/auth"
	: > "$D/auth/$BED_USER"
	cat > "$D/host-conf/nix.conf" <<-CONF
	substituters = file://$B/cache
	trusted-public-keys = $(cat "$B/cache-key.pub")
	sandbox = false
	trusted-users = root $BED_USER
	build-users-group =
	experimental-features = nix-command
	CONF
	cat > "$D/sshd_config" <<-CONF
	ListenAddress 127.0.0.1
	Port $port
	HostKey $B/ssh_host_key
	PidFile $D/sshd.pid
	AuthorizedKeysFile $D/auth/%u
	StrictModes no
	UsePAM no
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin no
	AllowUsers $BED_USER
	PermitUserEnvironment no
	MaxStartups 100:30:200
	MaxSessions 100
	LogLevel ERROR
	CONF
	printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1-2 "$B/ssh_host_key.pub")" >> "$B/known_hosts"
	cat > "$D/host.sh" <<-HOST
	set -e
	top="$top" ROOT_MACHINE="${ROOT_MACHINE:-}"
	. "$top/tests/roots.sh"
	root_pivot "${BED_HOST_ROOT:-}"
	mount --bind "$D/host-nix" /nix
	mkdir -p /etc/nix
	mount --bind "$D/host-conf" /etc/nix
	export NIX_CONF_DIR=/etc/nix
	nix-store --init
	: > /nix/host-marker
	nix-daemon > "$D/daemon.log" 2>&1 &
	echo \$! > "$D/daemon.pid"
	for i in \$(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done
	/usr/sbin/sshd -D -e -f "$D/sshd_config" > "$D/sshd.log" 2>&1 &
	echo \$! > "$D/sshd.pid2"
	wait
	HOST
	unshare -m --propagation private sh "$D/host.sh" > "$D/host.log" 2>&1 &
	echo $! > "$D/host.pid"
	for i in $(seq 100); do
		ss -Hltn "sport = :$port" | grep -q . && break
		sleep 0.1
	done
	ss -Hltn "sport = :$port" | grep -q . || { cat "$D"/*.log >&2; bed_die "sshd did not start"; }
}

# bed_more_host NAME: one more host (own store, daemon, sshd), in $B/hosts/NAME.
bed_more_host() {
	mkdir -p "$B/hosts/$1"
	bed_port > "$B/hosts/$1/port"
	bed_start_host "$B/hosts/$1" "$(cat "$B/hosts/$1/port")"
}

# bed_key ALIAS 'FORCED COMMAND' [HOST]: a new client key whose authorized_keys
# line runs the command, reachable as ssh://ALIAS, on the first host or on
# one that bed_more_host made.
bed_key() {
	kd=$B; kport=$BED_PORT
	[ -z "${3:-}" ] || { kd=$B/hosts/$3; kport=$(cat "$kd/port"); }
	ssh-keygen -q -t ed25519 -N '' -f "$B/key-$1" -C "$1"
	printf 'restrict,command="%s" %s\n' "$2" "$(cat "$B/key-$1.pub")" >> "$kd/auth/$BED_USER"
	cat >> "$B/ssh_config" <<-CONF
	Host $1
	  HostName 127.0.0.1
	  Port $kport
	  User $BED_USER
	  IdentityFile $B/key-$1
	  IdentitiesOnly yes
	  UserKnownHostsFile $B/known_hosts
	  StrictHostKeyChecking yes
	  BatchMode yes
	  LogLevel ERROR
	CONF
}

# Runs a command on the host side, in its mount namespace, as root.
bed_host() {
	nsenter -t "$(cat "$B/daemon.pid")" -m -- "$@"
}

# The same on a host that bed_more_host made: bed_host_on NAME COMMAND...
bed_host_on() {
	n=$1; shift
	nsenter -t "$(cat "$B/hosts/$n/daemon.pid")" -m -- "$@"
}

# Stops the host's daemon and every worker it forked, as a service restart
# does, and starts a new one.
bed_daemon_restart() {
	old=$(cat "$B/daemon.pid")
	pkill -KILL -P "$old" 2>/dev/null
	kill -KILL "$old" 2>/dev/null
	while kill -0 "$old" 2>/dev/null; do sleep 0.05; done
	nsenter -t "$(cat "$B/sshd.pid2")" -m -- sh -c \
		'rm -f /nix/var/nix/daemon-socket/socket; NIX_CONF_DIR=/etc/nix nix-daemon > "$0/daemon2.log" 2>&1 & echo $! > "$0/daemon.pid"' "$B"
	for i in $(seq 100); do bed_host test -S /nix/var/nix/daemon-socket/socket && return 0; sleep 0.1; done
	return 1
}

# bed_watch PATTERN STOPFILE: the peak VmHWM (KiB) and CPU seconds (user +
# system, last sample) of the processes whose command line matches, until
# STOPFILE exists: "KIB SECONDS".
bed_watch() {
	max=0 cpu=0
	while [ ! -e "$2" ]; do
		for p in $(pgrep -f "$1"); do
			# the process may be gone by now: that is not an error
			v=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$p/status" 2>/dev/null || true)
			[ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v
			c=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk 'NF {print $12 + $13}' || true)
			[ -n "$c" ] && [ "$c" -gt "$cpu" ] && cpu=$c
		done
		sleep 0.05
	done
	echo "$max $(awk "BEGIN {printf \"%.2f\", $cpu / $(getconf CLK_TCK)}")"
}
# Ends the build hook's ssh masters (NIXGATE_WARM_DIR): the next build
# through the hook pays a connection again.
bed_warm_end() {
	for s in "$B"/warm/*; do
		[ -S "$s" ] && ssh -o ControlPath="$s" -O exit bed 2>/dev/null
	done
	return 0
}
bed_down() {
	[ -n "${B:-}" ] || return 0
	bed_warm_end
	for f in "$B/sshd.pid2" "$B/daemon.pid" "$B/client-daemon.pid" "$B"/hosts/*/sshd.pid2 "$B"/hosts/*/daemon.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	for f in "$B/host.pid" "$B"/hosts/*/host.pid; do
		[ -f "$f" ] && wait "$(cat "$f")" 2>/dev/null
	done
	umount /nix 2>/dev/null
	# store paths are read-only directories
	chmod -R u+w "$B" 2>/dev/null
	rm -rf "$B"
}
