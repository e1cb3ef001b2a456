#!/bin/sh
# Makes the drvhash fixtures: the .drv files Nix (2.8 here) writes for
# drvs.nix, each named by its store path's base name, and refs (a .drv's
# base name, then the base names of its references, as Nix registered them).
# Runs as root in a throwaway store:
#   unshare -m sh tests/unit/data/drvhash/make.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ "${DRVHASH_INNER:-}" ] || {
	t=$(mktemp -d)
	mount --make-rprivate / 2>/dev/null || true
	mount --bind "$t" /nix
	DRVHASH_INNER=1 sh "$0"
	status=$?
	umount /nix
	rm -rf "$t"
	exit $status
}
conf=$(mktemp -d)
printf 'build-users-group =\nsandbox = false\n' > "$conf/nix.conf"
export NIX_CONF_DIR="$conf" NIX_REMOTE=local
nix-store --init
rm -f "$here"/*.drv "$here/refs"
for d in $(nix-instantiate "$here/drvs.nix"); do
	for p in $(nix-store -qR "$d" | grep '\.drv$'); do
		cp "$p" "$here/$(basename "$p")"
	done
done
for f in "$here"/*.drv; do
	b=$(basename "$f")
	echo "$b $(nix-store -q --references "/nix/store/$b" | xargs -r -n1 basename | sort | tr '\n' ' ')" |
		sed 's/ *$//' >> "$here/refs"
done
sort -o "$here/refs" "$here/refs"
rm -rf "$conf"
