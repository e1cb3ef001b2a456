# One end-to-end test file on a fresh test bed: sh tests/e2e/main.sh FILE,
# inside a private mount namespace. The file defines tests named t_*; each
# prints PASS or FAIL through ok/bad.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# the file by a path that still holds in another root, where the cwd is /
set -- "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
. "$top/tests/bed.sh"
. "$top/tests/roots.sh"
# NIXGATE_HOST_NIX and NIXGATE_CLIENT_NIX choose the Nix versions (default:
# the machine's); the cell names the test lines unless both are the default.
mv=$(roots_machine_version)
NIXGATE_CELL=
[ -z "${NIXGATE_HOST_NIX:-}${NIXGATE_CLIENT_NIX:-}" ] ||
	NIXGATE_CELL=host${NIXGATE_HOST_NIX:-$mv}-client${NIXGATE_CLIENT_NIX:-$mv}
BED_HOST_ROOT=$(root_dir "${NIXGATE_HOST_NIX:-}") || exit 111
client_root=$(root_dir "${NIXGATE_CLIENT_NIX:-}") || exit 111
if [ -n "$client_root" ]; then
	bed_user
	root_pivot "$client_root" keep || bed_die "cannot enter the root $client_root"
fi
. "$top/tests/e2e/lib.sh"
# before bed_up: a bed that fails to start (sshd cannot bind) must not
# leave its host daemon behind
trap bed_down EXIT INT TERM
bed_up
mkdir -p "$B/bin"
cp "$top/build/nixgate-serve" "$top/build/connect-nixgate-serve" "$top/build/lies-nixgate-serve" "$top/build/sclient" "$B/bin/"
# The client as the tests run it, $NIXGATE, and under the name the client
# daemon runs it by as its build hook.
NIXGATE=$B/bin/nixgate
ln -s "$top/build/nixgate" "$NIXGATE"
ln -s nixgate "$B/bin/nixgate-build-hook"
if [ -n "${NIXGATE_ASAN:-}" ]; then
	# the sanitizer builds in the shipped binaries' places; any finding
	# aborts the process and leaves a log that fails this file's run
	mkdir -m 1777 "$B/asan"
	cp "$top/build/asan-nixgate-serve" "$B/bin/asan-nixgate-serve"
	cat > "$B/bin/nixgate-serve" <<-WRAP
	#!/bin/sh
	export ASAN_OPTIONS=abort_on_error=1:log_path=$B/asan/asan UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$B/asan/ubsan
	exec "$B/bin/asan-nixgate-serve" --no-sandbox "\$@"
	WRAP
	chmod 755 "$B/bin/nixgate-serve"
	# The client has no sandbox to turn off. The options are in the script,
	# not the environment, since the build hook's is the client daemon's.
	# It runs the sanitizer build under the name it was called by, which
	# decides the command (nixgate-build-hook is the hook).
	mkdir "$B/libexec"
	cp "$top/build/asan-nixgate" "$B/libexec/nixgate"
	ln -s nixgate "$B/libexec/nixgate-build-hook"
	rm "$NIXGATE"
	cat > "$NIXGATE" <<-WRAP
	#!/bin/sh
	export ASAN_OPTIONS=abort_on_error=1:log_path=$B/asan/client-asan UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$B/asan/client-ubsan
	exec "$B/libexec/\${0##*/}" "\$@"
	WRAP
	chmod 755 "$NIXGATE"
fi
bed_key nixstore "nix-store --serve --write"
bed_key gate "$B/bin/nixgate-serve --key gate --trusted"
bed_key untrusted "$B/bin/nixgate-serve --key untrusted"
. "$1"
for t in $(grep -o '^t_[a-z0-9_]*' "$1"); do
	"$t"
done
if [ -n "${NIXGATE_ASAN:-}" ]; then
	if ls "$B"/asan/* > /dev/null 2>&1; then
		bad sanitizer-findings "$(head -c 600 "$B"/asan/* | tr '\n' '|')"
	else
		ok no-sanitizer-findings
	fi
fi
