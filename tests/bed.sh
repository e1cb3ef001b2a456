# The throwaway build host, sourced by the end-to-end tests and the demo.
# bed_up makes: a client /nix and nix.conf (this shell must already be in its
# own mount namespace), a host in a nested mount namespace with its own /nix,
# /etc/nix, nix-daemon and sshd on 127.0.0.1, and one ssh Host alias per key.
# bed_down removes everything again.

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

bed_port() {
	p=$((20000 + $$ % 20000))
	while ss -Hltn "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

bed_up() {
	[ "$(id -u)" = 0 ] || bed_die "must run as root"
	bed_user
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
	cat > "$B/host-conf/nix.conf" <<-CONF
	substituters = file://$B/cache
	trusted-public-keys = $(cat "$B/cache-key.pub")
	sandbox = false
	trusted-users = root $BED_USER
	build-users-group =
	experimental-features = nix-command
	CONF
	ssh-keygen -q -t ed25519 -N '' -f "$B/ssh_host_key" -C bed-host
	BED_PORT=$(bed_port)
	cat > "$B/sshd_config" <<-CONF
	ListenAddress 127.0.0.1
	Port $BED_PORT
	HostKey $B/ssh_host_key
	PidFile $B/sshd.pid
	AuthorizedKeysFile $B/auth/%u
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
	: > "$B/auth/$BED_USER"
	printf '[127.0.0.1]:%s %s\n' "$BED_PORT" "$(cut -d' ' -f1-2 "$B/ssh_host_key.pub")" > "$B/known_hosts"
	: > "$B/ssh_config"
	export NIX_SSHOPTS="-F $B/ssh_config"
	mkdir -p /run/sshd

	# the host: nested namespace, own /nix and /etc/nix, daemon and sshd
	cat > "$B/host.sh" <<-HOST
	set -e
	mount --bind "$B/host-nix" /nix
	mkdir -p /etc/nix
	mount --bind "$B/host-conf" /etc/nix
	export NIX_CONF_DIR=/etc/nix
	nix-store --init
	: > /nix/host-marker
	nix-daemon > "$B/daemon.log" 2>&1 &
	echo \$! > "$B/daemon.pid"
	for i in \$(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done
	/usr/sbin/sshd -D -e -f "$B/sshd_config" > "$B/sshd.log" 2>&1 &
	echo \$! > "$B/sshd.pid2"
	wait
	HOST
	unshare -m --propagation private sh "$B/host.sh" > "$B/host.log" 2>&1 &
	BED_HOST_PID=$!
	for i in $(seq 100); do
		ss -Hltn "sport = :$BED_PORT" | grep -q . && break
		sleep 0.1
	done
	ss -Hltn "sport = :$BED_PORT" | grep -q . || { cat "$B"/*.log >&2; bed_die "sshd did not start"; }
	export B BED_PORT BED_HOST_PID
}

# bed_key ALIAS 'FORCED COMMAND': a new client key whose authorized_keys line
# runs the command, reachable as ssh://ALIAS.
bed_key() {
	ssh-keygen -q -t ed25519 -N '' -f "$B/key-$1" -C "$1"
	printf 'restrict,command="%s" %s\n' "$2" "$(cat "$B/key-$1.pub")" >> "$B/auth/$BED_USER"
	cat >> "$B/ssh_config" <<-CONF
	Host $1
	  HostName 127.0.0.1
	  Port $BED_PORT
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

bed_down() {
	[ -n "${B:-}" ] || return 0
	for f in "$B/sshd.pid2" "$B/daemon.pid" "$B/client-daemon.pid"; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	wait "$BED_HOST_PID" 2>/dev/null
	umount /nix 2>/dev/null
	# store paths are read-only directories
	chmod -R u+w "$B" 2>/dev/null
	rm -rf "$B"
}
