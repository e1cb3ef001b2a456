# The Nix versions the tests run: the machine's own, and the Debian roots
# that ./build.sh chroots makes. A host or a client of another version runs
# in a mount namespace whose root is pivoted into that version's root.
# pivot_root, not chroot: a chrooted process cannot make user namespaces,
# and Nix then builds without its sandbox, silently.

ROOTS=${NIXGATE_CHROOTS:-/var/cache/nixgate/chroots}
# Where the machine's root is seen from a client's root (a host started from
# there pivots from it); empty on the machine itself.
ROOT_MACHINE=${ROOT_MACHINE:-}

roots_log() { printf 'roots: %s\n' "$*" >&2; }

# "2.8" from "nix-store (Nix) 2.8.0" or from "2.26.3+dfsg-1"
root_minor() { sed -n 's/^[^0-9]*\([0-9]*\.[0-9]*\).*/\1/p' | head -n 1; }

roots_machine_version() { nix-store --version | root_minor; }

# Every root made, as "VERSION DIR" lines.
roots_list() {
	for s in "$ROOTS"/*/.nixgate-stamp; do
		[ -f "$s" ] || continue
		printf '%s %s\n' "$(sed -n 's/^nix-bin[[:space:]]*//p' "$s" | root_minor)" "${s%/.nixgate-stamp}"
	done
}

# Every version the matrix can use, oldest first.
roots_versions() {
	{ roots_machine_version; roots_list | cut -d' ' -f1; } | sort -uV
}

# root_dir VERSION: the root whose Nix is VERSION, as a path on the machine;
# nothing for the machine's own.
root_dir() {
	[ -z "$1" ] || [ "$1" = "$(roots_machine_version)" ] && return 0
	d=$(roots_list | awk -v v="$1" '$1 == v { print $2; exit }')
	[ -n "$d" ] || { roots_log "no root with Nix $1 in $ROOTS: run ./build.sh chroots"; return 1; }
	echo "$d"
}

# root_pivot DIR KEEP: makes DIR (a path on the machine; empty for the
# machine's root) the root of this mount namespace, with the machine's /tmp
# (the bed's files), /dev, /sys, the checkout and its neighbours (shared/),
# users and the bed user's home; a fresh /proc, /run and /root. KEEP=keep
# leaves the machine's root at /.machine (a client starts hosts from it);
# otherwise it is detached. Nothing to do for the machine's root unless a
# client's root is in between.
root_pivot() {
	new=$ROOT_MACHINE$1
	[ -n "$new" ] || return 0
	m=$ROOT_MACHINE
	up=$(dirname "$top")
	[ "$up" != / ] || up=$top
	mount --make-rprivate / &&
	mount --rbind "$new" "$new" &&
	mount --rbind "$m/tmp" "$new/tmp" &&
	mount --rbind "$m/dev" "$new/dev" &&
	mount --rbind "$m/sys" "$new/sys" &&
	mount -t proc proc "$new/proc" &&
	mount -t tmpfs -o mode=755 tmpfs "$new/run" &&
	mkdir -p "$new/run/sshd" &&
	mount -t tmpfs -o mode=700 tmpfs "$new/root" &&
	mkdir -p "$new$up" "$new/var/lib/nixgate-host" &&
	mount --rbind "$m$up" "$new$up" &&
	mount --bind "$m/var/lib/nixgate-host" "$new/var/lib/nixgate-host" || return 1
	for f in passwd group shadow gshadow; do
		mount --bind "$m/etc/$f" "$new/etc/$f" || return 1
	done
	cd "$new" || return 1
	if [ "${2:-}" = keep ]; then
		pivot_root . .machine || return 1
		ROOT_MACHINE=/.machine
	else
		pivot_root . . && umount -l . || return 1
		ROOT_MACHINE=
	fi
	cd /
	export ROOT_MACHINE
}
