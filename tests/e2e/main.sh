# One end-to-end test file on a fresh test bed: sh tests/e2e/main.sh FILE,
# inside a private mount namespace. The file defines tests named t_*; each
# prints PASS or FAIL through ok/bad.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/bed.sh"
. "$top/tests/e2e/lib.sh"
bed_up
trap bed_down EXIT INT TERM
mkdir -p "$B/bin"
cp "$top/build/nixgate-serve" "$top/build/sclient" "$B/bin/"
bed_key nixstore "nix-store --serve --write"
bed_key gate "$B/bin/nixgate-serve --key gate --trusted"
bed_key untrusted "$B/bin/nixgate-serve --key untrusted"
. "$1"
for t in $(grep -o '^t_[a-z0-9_]*' "$1"); do
	"$t"
done
