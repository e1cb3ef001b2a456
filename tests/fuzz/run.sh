#!/bin/sh
# ./build.sh fuzz [SECONDS [HARNESS...]]: builds the libFuzzer harnesses and
# runs each for SECONDS on its corpus and the shared seeds. New inputs go to
# build/fuzz/corpus/HARNESS; a finding stops the run, its input kept in
# build/fuzz/crash/.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 111
secs=${1:-60}
[ $# -gt 0 ] && shift
export NIX_TEST_DATA="${NIX_TEST_DATA:-$top/../shared/nix-test-data}"
. tests/fuzz/seeds.sh
B=build/fuzz

make -s fuzzers || exit 111
if [ $# -eq 0 ]; then
	for h in tests/fuzz/fuzz_*.c; do
		h=${h#tests/fuzz/fuzz_}
		set -- "$@" "${h%.c}"
	done
fi
for h; do
	[ -x "$B/fuzz_$h" ] || { echo "fuzz: no harness $h" >&2; exit 100; }
	mkdir -p "$B/corpus/$h" "$B/seeds/$h" "$B/crash"
	# libFuzzer reads directories: the shared seeds that fit, copied
	for f in $(shared_seeds "$h"); do cp "$f" "$B/seeds/$h/"; done
	dict=
	[ "$h" = nar ] && [ -f "${NIX_TEST_DATA:-}/nars.dict" ] && dict=-dict=$NIX_TEST_DATA/nars.dict
	# stderr closed: the serve code reports each refusal there
	"$B/fuzz_$h" -max_total_time="$secs" -close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix="$B/crash/$h-" $dict \
		"$B/corpus/$h" "tests/fuzz/corpus/$h" "$B/seeds/$h" > "$B/$h.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/$h.log")
	if [ "$rc" != 0 ]; then
		crash=$(ls -t "$B/crash/$h-"* 2>/dev/null | head -n 1)
		echo "fuzz: $h FOUND A PROBLEM after ${runs:-?} runs: input ${crash:-(none saved)}, report $B/$h.log" >&2
		grep -m 3 -E '^==[0-9]+==|^SUMMARY|runtime error|deadly signal' "$B/$h.log" >&2
		echo "fuzz: add the input to tests/fuzz/corpus/$h/ as regress-NAME once the code is fixed" >&2
		exit 1
	fi
	echo "fuzz: $h: $runs runs in $secs s, corpus $(ls "$B/corpus/$h" | wc -l) new inputs"
done
