#!/bin/sh
# Runs every test suite; each prints PASS/FAIL lines, this counts them and
# ends with the one summary line.
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 111
out=$(mktemp /tmp/nixgate-test.XXXXXX)
export NIX_TEST_DATA="${NIX_TEST_DATA:-$top/../shared/nix-test-data}"
[ -d "$NIX_TEST_DATA" ] || unset NIX_TEST_DATA


run() { # name command...
	name=$1; shift
	: > "$out.one"
	{ "$@"; echo "exit $?" > "$out.rc"; } 2>&1 | tee -a "$out" "$out.one"
	rc=$(sed -n 's/^exit //p' "$out.rc")
	if [ "$rc" != 0 ] && ! grep -q "^FAIL " "$out.one"; then
		echo "FAIL $name: exited $rc" | tee -a "$out"
	fi
}

run unit build/unit
run asan/unit build/asan-unit
. tests/fuzz/seeds.sh
for h in build/replay/fuzz_*; do
	n=${h#build/replay/fuzz_}
	run "fuzz/$n" "$h" "tests/fuzz/corpus/$n" $(shared_seeds "$n")
done
for t in tests/e2e/t_*.sh; do
	run "e2e/$(basename "$t" .sh)" unshare -m --propagation private sh tests/e2e/main.sh "$t"
done
# again against the ASan and UBSan build, sandbox off
for t in tests/e2e/t_*.sh; do
	NIXGATE_ASAN=1 run "asan/e2e/$(basename "$t" .sh)" unshare -m --propagation private sh tests/e2e/main.sh "$t"
done

passed=$(grep -c '^PASS ' "$out")
failed=$(grep -c '^FAIL ' "$out")
rm -f "$out" "$out.rc" "$out.one"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
