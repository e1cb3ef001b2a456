# ./build.sh bench [JSON]: nixgate-serve against nix-store --serve --write in
# the same run on the same throwaway host, interleaved. Runs inside a private
# mount namespace (build.sh arranges it).
# 1. session cost: process start + handshake + one QueryValidPaths, over
#    pipes (no ssh), 200 sessions each, in rounds of 20 (A B A B ...).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/bed.sh"
json=${1:-}
bed_up > /dev/null
trap bed_down EXIT INT TERM
mkdir -p "$B/bin"
cp "$top/build/nixgate-serve" "$top/build/sclient" "$B/bin/"

now() { date +%s%N; }
round() { # command...: microseconds per session for one round of 20
	t0=$(now)
	bed_host "$B/bin/sclient" 7 sessions 20 -- "$@" > /dev/null
	echo $(( ($(now) - t0) / 20000 ))
}
: > "$B/ng"; : > "$B/ns"
for i in $(seq 10); do
	round "$B/bin/nixgate-serve" --key bench --trusted >> "$B/ng"
	round nix-store --serve --write >> "$B/ns"
done
med() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
lo() { sort -n "$1" | head -n 1; }
hi() { sort -n "$1" | tail -n 1; }
ng=$(med "$B/ng"); ns=$(med "$B/ns")
ratio=$(awk "BEGIN {printf \"%.3f\", $ng / $ns}")
printf '%-34s %12s %12s %10s\n' "benchmark" "nixgate" "nix-store" "ratio"
printf '%-34s %9s us %9s us %10s\n' "session cost (median, 200 each)" "$ng" "$ns" "$ratio"
printf '%-34s %5s-%-6s %5s-%-6s\n' "  min-max per round" "$(lo "$B/ng")" "$(hi "$B/ng")" "$(lo "$B/ns")" "$(hi "$B/ns")"
echo "machine: $(nproc) cores, $(nix --version), $(date -u +%Y-%m-%d)"
if [ -n "$json" ]; then
	printf '{"session_cost_us":{"nixgate":%s,"nix_store":%s,"ratio":%s,"sessions":200}}\n' "$ng" "$ns" "$ratio" > "$json"
fi
