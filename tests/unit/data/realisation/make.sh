#!/bin/sh
# Makes the realisation fixtures: the .drv Nix (2.8 here) writes for ca.nix,
# named by its store path's base name, and realisations.json, what
# `nix realisation info --json` says of its outputs once Nix built it.
# Runs as root in a throwaway store:
#   unshare -m sh tests/unit/data/realisation/make.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ "${REALISATION_INNER:-}" ] || {
	t=$(mktemp -d)
	mount --make-rprivate / 2>/dev/null || true
	mount --bind "$t" /nix
	REALISATION_INNER=1 sh "$0"
	status=$?
	umount /nix
	chmod -R u+w "$t"
	rm -rf "$t"
	exit $status
}
conf=$(mktemp -d)
printf 'build-users-group =\nsandbox = false\nsubstituters =\nexperimental-features = nix-command ca-derivations\n' > "$conf/nix.conf"
export NIX_CONF_DIR="$conf" NIX_REMOTE=local
nix-store --init
rm -f "$here"/*.drv "$here/realisations.json"
d=$(nix-instantiate "$here/ca.nix")
cp "$d" "$here/$(basename "$d")"
nix-store -r "$d" > /dev/null
nix realisation info --json "$d" > "$here/realisations.json"
rm -rf "$conf"
