# ./build.sh bench [JSON]: nixgate-serve (trusted key) against
# nix-store --serve --write in the same run on the same throwaway host,
# interleaved (A B A B ...); medians, min-max and the ratio nixgate/nix-store.
# Runs inside a private mount namespace (build.sh arranges it).
#  1. session cost: process start + handshake + one QueryValidPaths over
#     pipes (no ssh), 200 sessions each in rounds of 20; and the same straight
#     to the daemon, the floor under any server that uses it
#  2. nix copy --to and --from over ssh of one 1 GiB path (MiB/s), with the
#     server's peak RSS; and --to through an untrusted key, whose import of
#     the (content-addressed) path is spooled and verified whole first
#  3. nix copy --to of 1,000 small paths (paths/s)
#  4. QueryValidPaths of 10,000 paths (ms) and nixgate's daemon round trips
#  5. remote builds through the client nix-daemon's build hook: Nix's own
#     (build-remote) to nix-store --serve --write against nixgate's to
#     nixgate-serve with a trusted and with an untrusted key (ms): one
#     trivial build after a first one (warm: nixgate's hook keeps an ssh
#     master per builder) and a first one (cold), a graph of 10 leaves and
#     a top, one 256 MiB output; and nixgate's hook's time per step
#  6. ssh-ng:// (bench/sshng.sh): nixgate-serve against nix-daemon --stdio
#     as the forced command, 1 GiB both ways, 1,000 small paths, one
#     remote build through Nix's own hook
# BENCH_ONLY=hook runs section 5 alone, BENCH_ONLY=sshng section 6 (no JSON).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/bed.sh"
json=${1:-}
bed_up > /dev/null
trap bed_down EXIT INT TERM
mkdir -p "$B/bin" "$B/r"
cp "$top/build/nixgate-serve" "$top/build/sclient" "$B/bin/"
bed_key nixstore "nix-store --serve --write"
bed_key gate "$B/bin/nixgate-serve --key gate --trusted --audit-log $B/home/audit.log"
bed_key ugate "$B/bin/nixgate-serve --key ugate --audit-log none"
R="$B/r"

now() { date +%s%N; }
med() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
lo() { sort -n "$1" | head -n 1; }
hi() { sort -n "$1" | tail -n 1; }
ratio() { awk "BEGIN {printf \"%.3f\", $1 / $2}"; }

pattern() { case $1 in gate|ugate) echo "nixgate-serve --key $1" ;; *) echo "nix-store --serve" ;; esac; }

only=${BENCH_ONLY:-}
case $only in ""|hook|sshng) ;; *) echo "bench: BENCH_ONLY is hook, sshng or nothing" >&2; exit 100 ;; esac
[ -z "$only" ] || [ -z "$json" ] || { echo "bench: JSON needs the whole bench" >&2; exit 100; }
. "$top/bench/sshng.sh"
if [ "$only" = sshng ]; then
	sshng_run; sshng_rows
	echo "machine: $(nproc) cores, $(nix --version), $(uname -r), $(date -u +%Y-%m-%d)"
	exit 0
fi
if [ -z "$only" ]; then
# 1. session cost
round() { # command...: microseconds per session for one round of 20
	t0=$(now)
	bed_host "$B/bin/sclient" 7 sessions 20 -- "$@" > /dev/null
	echo $(( ($(now) - t0) / 20000 ))
}
for i in $(seq 10); do
	round "$B/bin/nixgate-serve" --key bench --trusted --audit-log none >> "$R/sess-gate"
	round nix-store --serve --write >> "$R/sess-nixstore"
	t0=$(now)
	bed_host "$B/bin/sclient" 0 dsessions 20 -- /nix/var/nix/daemon-socket/socket
	echo $(( ($(now) - t0) / 20000 )) >> "$R/sess-daemon"
done

# 2. 1 GiB both ways
head -c 1073741824 /dev/urandom > "$B/blob"
big=$(nix-store --add "$B/blob")
rm -f "$B/blob"
copy_big() { # store direction: MiB/s, and the peak RSS into rss-STORE
	rm -f "$B/stop"
	bed_watch "$(pattern "$1")" "$B/stop" > "$B/rss.now" & w=$!
	t0=$(now)
	if [ "$2" = to ]; then
		nix copy --to "ssh://$1" "$big" > /dev/null 2>&1
	else
		nix copy --from "ssh://$1" "$big" > /dev/null 2>&1
	fi
	t=$(( $(now) - t0 ))
	touch "$B/stop"; wait "$w"
	cut -d' ' -f1 "$B/rss.now" >> "$R/rss-$1"
	cut -d' ' -f2 "$B/rss.now" >> "$R/cpu$2-$1"
	awk "BEGIN {printf \"%.1f\", 1024 / ($t / 1e9)}"
}
# The last session's daemon worker may hold the path a moment longer; a
# copy of a path still there would measure nothing.
gone() { # COMMAND...: the store's nix-store; the delete retried until the path is gone
	for j in $(seq 50); do
		"$@" --check-validity "$big" > /dev/null 2>&1 || return 0
		"$@" --delete "$big" > /dev/null 2>&1 || sleep 0.1
	done
	echo "bench: $big could not be deleted" >&2; exit 1
}
for i in 1 2; do
	for s in gate nixstore ugate; do
		gone bed_host nix-store
		copy_big "$s" to >> "$R/to-$s"; echo >> "$R/to-$s"
	done
done
for i in 1 2; do
	for s in gate nixstore; do
		gone nix-store
		copy_big "$s" from >> "$R/from-$s"; echo >> "$R/from-$s"
	done
done

# 3. 1,000 small paths
mkdir -p "$B/many"
for i in $(seq 1000); do echo "small $i" > "$B/many/f$i"; done
nix-store --add "$B"/many/f* > "$B/many.list"
for i in 1 2; do
	for s in gate nixstore; do
		bed_host nix-store --delete $(cat "$B/many.list") > /dev/null 2>&1 || true
		t0=$(now)
		nix copy --to "ssh://$s" $(cat "$B/many.list") > /dev/null 2>&1
		echo $(( 1000000000000 / ($(now) - t0) )) >> "$R/many-$s"
	done
done

# 4. QueryValidPaths of 10,000 paths: the 1,000 real ones and 9,000 that are not there
{ cat "$B/many.list"; for i in $(seq 9000); do echo "/nix/store/11111111111111111111111111111111-absent-$i"; done; } > "$B/q.list"
set -- $(cat "$B/q.list")
for i in 1 2 3; do
	for s in gate nixstore; do
		t0=$(now)
		"$B/bin/sclient" 7 valid "$@" -- ssh -F "$B/ssh_config" "$s" nix-store --serve > "$B/q.out"
		echo $(( ($(now) - t0) / 1000000 )) >> "$R/query-$s"
		[ "$(grep -c '^valid ' "$B/q.out")" = 1000 ] || echo "bench: $s found $(grep -c '^valid ' "$B/q.out") of 1000 valid paths" >&2
	done
done
# where a small path's time goes, from nixgate's audit lines
grep "key=gate op=AddToStoreNar .*-f[0-9]* " "$B/home/audit.log" | sed 's/.* ms=\([0-9.]*\) .*/\1/' > "$R/add-ms"
grep "key=gate op=AddToStoreNar .*-f[0-9]* " "$B/home/audit.log" | sed 's/.*daemon_ms=\([0-9.]*\).*/\1/' > "$R/add-daemon-ms"
trips=$(grep "op=QueryValidPaths paths=10000 " "$B/home/audit.log" | tail -n 1 | sed 's/.* daemon=\([0-9]*\).*/\1/')
# 6. ssh-ng://, before section 5 starts the client daemon it needs its own of
sshng_run
fi

# 5. remote builds through the build hook, from the client's own nix-daemon:
#    stock  Nix's hook (build-remote) to nix-store --serve --write, trusted
#    gate   nixgate's hook to nixgate-serve with a trusted key (inline)
#    free   nixgate's hook to nixgate-serve with an untrusted key (.drv
#           closure, then BuildPaths)
#    and the same one-build derivation built locally, without a hook (the
#    floor: evaluation, the daemon, the build)
SYS="$(uname -m)-linux"
HN=${BENCH_HOOK_N:-25}
BN=${BENCH_HOOK_BIG:-5}
bed_key hgate "$B/bin/nixgate-serve --key hgate --trusted --state-dir $B/home/state --audit-log $B/home/hgate.log"
bed_key hfree "$B/bin/nixgate-serve --key hfree --state-dir $B/home/state --audit-log $B/home/hfree.log"
ln -s "$top/build/nixgate" "$B/bin/nixgate-build-hook"
mkdir -p "$B/hook-conf"
cat "$B/client-conf/nix.conf" > "$B/hook-conf/nix.conf"
echo "build-hook = $B/bin/nixgate-build-hook" >> "$B/hook-conf/nix.conf"
NIX_CONF_DIR="$B/hook-conf" NIXGATE_HOOK_TIMES=1 nix-daemon > "$B/client-daemon.log" 2>&1 &
echo $! > "$B/client-daemon.pid"
for i in $(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done
cat > "$B/one.nix" <<'NIX'
{ nonce }: derivation { name = "hb-one-${nonce}"; system = builtins.currentSystem; builder = "/bin/sh";
  args = [ "-c" "echo ${nonce} > $out" ]; }
NIX
cat > "$B/graph.nix" <<'NIX'
{ nonce }: let leaf = i: derivation { name = "hb-leaf-${toString i}-${nonce}"; system = builtins.currentSystem;
    builder = "/bin/sh"; args = [ "-c" "echo ${toString i} > $out" ]; };
  leaves = map leaf [ 1 2 3 4 5 6 7 8 9 10 ];
in derivation { name = "hb-top-${nonce}"; system = builtins.currentSystem; builder = "/bin/sh";
  args = [ "-c" "for l in $leaves; do read x < $l; echo $x; done > $out" ]; inherit leaves; }
NIX
cat > "$B/big.nix" <<'NIX'
{ nonce }: derivation { name = "hb-big-${nonce}"; system = builtins.currentSystem; builder = "/bin/sh";
  args = [ "-c" "/usr/bin/head -c 268435456 /dev/zero > $out" ]; inherit nonce; }
NIX
hfail=0
# hb VARIANT FILE NONCE: ms for one nix-build of FILE through VARIANT's hook
# (the output in $B/hb.path), or the build fails the bench's count
hb() {
	case $1 in
	stock) set -- "$@" --option build-hook /usr/libexec/nix/build-remote --builders "ssh://nixstore $SYS - 16 1" --max-jobs 0 ;;
	gate) set -- "$@" --builders "ssh://hgate $SYS - 16 1" --max-jobs 0 ;;
	free) set -- "$@" --builders "ssh://hfree $SYS - 16 1" --max-jobs 0 ;;
	local) set -- "$@" --builders "" --max-jobs 1 ;;
	esac
	v=$1 f=$2 n=$3; shift 3
	t0=$(now)
	if NIX_REMOTE=daemon nix-build --no-out-link "$@" --argstr nonce "$n" "$f" > "$B/hb.path" 2> "$B/hb.err"; then
		echo $(( ($(now) - t0) / 1000000 ))
		sed -n 's/^nixgate: step times (ms): //p' "$B/hb.err" > "$B/hb.steps"
		# the hook the variant names built it, as it says in the build log
		case $v in
		stock|local) ! grep -q '^nixgate: ' "$B/hb.err" ;;
		gate) grep -q '^nixgate: .*(trusted key hgate)' "$B/hb.err" ;;
		free) grep -q '^nixgate: .*(untrusted key hfree)' "$B/hb.err" ;;
		esac || echo "bench: $v $n was not built the way it should be: $(head -n 3 "$B/hb.err" | tr '\n' ' ')" >&2
	else
		hfail=$((hfail + 1))
		echo "bench: hook build $v $n failed: $(tail -n 3 "$B/hb.err" | tr '\n' ' ')" >&2
		return 1
	fi
}
run_id=$$
# steps VARIANT KIND: the last build's step times into steps-KIND-VARIANT
steps() { [ "$1" = gate ] || [ "$1" = free ] && cat "$B/hb.steps" >> "$R/steps-$2-$1"; true; }
# a first build each, so that every build measured below is warm
for v in gate free; do hb "$v" "$B/one.nix" "$v-first-$run_id" > /dev/null || true; done
for i in $(seq "$HN"); do
	for v in stock gate free local; do
		hb "$v" "$B/one.nix" "$v-$i-$run_id" >> "$R/one-$v" && steps "$v" warm || true
	done
done
# cold: the hook's masters ended before each build (Nix's hook has none)
for i in $(seq 5); do
	for v in gate free; do
		bed_warm_end
		hb "$v" "$B/one.nix" "$v-cold-$i-$run_id" >> "$R/cold-$v" && steps "$v" cold || true
	done
done
for i in $(seq 5); do
	for v in stock gate free local; do
		hb "$v" "$B/graph.nix" "$v-$i-$run_id" >> "$R/graph-$v" || true
	done
done
for i in $(seq "$BN"); do
	for v in stock gate free; do
		if hb "$v" "$B/big.nix" "$v-$i-$run_id" >> "$R/big-$v"; then
			steps "$v" big
			p=$(cat "$B/hb.path")
			[ "$(stat -c %s "$p")" = 268435456 ] || echo "bench: $v: the 256 MiB output has $(stat -c %s "$p") bytes" >&2
			NIX_REMOTE=daemon nix-store --delete "$p" > /dev/null 2>&1 || true
			bed_host nix-store --delete "$p" > /dev/null 2>&1 || true
		fi
	done
done
# where the time goes: one ssh session (connection, server start, handshake,
# an empty QueryValidPaths) to each server, no build
for i in $(seq 10); do
	for s in nixstore hgate; do
		t0=$(now)
		"$B/bin/sclient" 7 valid -- ssh -F "$B/ssh_config" "$s" nix-store --serve > /dev/null
		echo $(( ($(now) - t0) / 1000000 )) >> "$R/ssh-$s"
	done
done
# the host's share of one build, from nixgate's audit lines: building it
# (trusted: BuildDerivation; untrusted: adding the .drv, then BuildPaths)
ams() { grep "key=$1 op=$2 .*-hb-$3-" "$B/home/$1.log" | sed 's/.* ms=\([0-9.]*\).*/\1/'; }
ams hgate BuildDerivation one > "$R/onehost-gate"
ams hfree AddToStoreNar one > "$R/onedrv-free"
ams hfree BuildPaths one > "$R/onehost-free"
# and of the 256 MiB build: building, then sending the NAR
ams hgate BuildDerivation big | cut -d. -f1 > "$R/bigbuild-gate"
ams hgate DumpStorePath big | cut -d. -f1 > "$R/bigdump-gate"

# the median of each step over lines "name ms, name ms, ..., total ms"
msteps() {
	[ -s "$1" ] || return 0
	out=
	for st in $(head -n 1 "$1" | tr ',' '\n' | awk 'NF == 2 {print $1}'); do
		tr ',' '\n' < "$1" | awk -v s="$st" '$1 == s {print $2}' > "$R/step.now"
		out="$out${out:+, }$st $(med "$R/step.now")"
	done
	echo "$out"
}
mm() { echo "$(lo "$R/$1")-$(hi "$R/$1")"; }
jmm() { echo "[$(lo "$R/$1"),$(hi "$R/$1")]"; }
row() { printf '%-36s %12s %12s %8s   %s\n' "$@"; }
HA=$(med "$R/one-stock"); HB=$(med "$R/one-gate"); HC=$(med "$R/one-free"); HL=$(med "$R/one-local")
CB=$(med "$R/cold-gate"); CC=$(med "$R/cold-free")
GA=$(med "$R/graph-stock"); GB=$(med "$R/graph-gate"); GC=$(med "$R/graph-free"); GL=$(med "$R/graph-local")
BA=$(med "$R/big-stock"); BB=$(med "$R/big-gate"); BC=$(med "$R/big-free")
SA=$(med "$R/ssh-nixstore"); SB=$(med "$R/ssh-hgate")
row "benchmark" "nixgate" "nix-store" "ratio" "min-max nixgate / nix-store"
if [ -z "$only" ]; then
S1=$(med "$R/sess-gate"); S2=$(med "$R/sess-nixstore"); SD=$(med "$R/sess-daemon")
T1=$(med "$R/to-gate"); T2=$(med "$R/to-nixstore"); TU=$(med "$R/to-ugate")
F1=$(med "$R/from-gate"); F2=$(med "$R/from-nixstore")
M1=$(med "$R/many-gate"); M2=$(med "$R/many-nixstore")
Q1=$(med "$R/query-gate"); Q2=$(med "$R/query-nixstore")
P1=$(hi "$R/rss-gate"); P2=$(hi "$R/rss-nixstore")
C1=$(med "$R/cputo-gate"); C2=$(med "$R/cputo-nixstore"); D1=$(med "$R/cpufrom-gate"); D2=$(med "$R/cpufrom-nixstore")
row "session cost (us, 200 each)" "$S1" "$S2" "$(ratio "$S1" "$S2")" "$(lo "$R/sess-gate")-$(hi "$R/sess-gate") / $(lo "$R/sess-nixstore")-$(hi "$R/sess-nixstore")"
row "  the daemon alone (us)" "$SD" "" "" "$(lo "$R/sess-daemon")-$(hi "$R/sess-daemon")"
row "copy 1 GiB to host (MiB/s)" "$T1" "$T2" "$(ratio "$T1" "$T2")" "$(lo "$R/to-gate")-$(hi "$R/to-gate") / $(lo "$R/to-nixstore")-$(hi "$R/to-nixstore")"
row "  untrusted key, verified first" "$TU" "" "$(ratio "$TU" "$T1")" "$(mm to-ugate) (ratio: to the trusted key)"
row "copy 1 GiB from host (MiB/s)" "$F1" "$F2" "$(ratio "$F1" "$F2")" "$(lo "$R/from-gate")-$(hi "$R/from-gate") / $(lo "$R/from-nixstore")-$(hi "$R/from-nixstore")"
row "  server CPU per GiB to host (s)" "$C1" "$C2" "$(ratio "$C1" "$C2")" ""
row "  server CPU per GiB from host (s)" "$D1" "$D2" "$(ratio "$D1" "$D2")" ""
row "copy 1,000 small paths (paths/s)" "$M1" "$M2" "$(ratio "$M1" "$M2")" "$(lo "$R/many-gate")-$(hi "$R/many-gate") / $(lo "$R/many-nixstore")-$(hi "$R/many-nixstore")"
row "  per path at the server (ms)" "$(med "$R/add-ms")" "" "" "the daemon's share: $(med "$R/add-daemon-ms") ms"
row "query 10,000 paths (ms, via ssh)" "$Q1" "$Q2" "$(ratio "$Q1" "$Q2")" "$(lo "$R/query-gate")-$(hi "$R/query-gate") / $(lo "$R/query-nixstore")-$(hi "$R/query-nixstore")"
row "  nixgate's daemon round trips" "$trips" "" "" ""
row "peak RSS during 1 GiB (KiB)" "$P1" "$P2" "$(ratio "$P1" "$P2")" ""
sshng_rows
fi
row "hook: one build, warm (ms, $HN each)" "$HB" "$HA" "$(ratio "$HB" "$HA")" "$(mm one-gate) / $(mm one-stock)"
row "  untrusted key (ms)" "$HC" "" "$(ratio "$HC" "$HA")" "$(mm one-free)"
row "  first build, cold (ms, 5 each)" "$CB" "" "$(ratio "$CB" "$HA")" "$(mm cold-gate); untrusted $CC ($(mm cold-free))"
row "  hook steps, warm trusted (ms)" "" "" "" "$(msteps "$R/steps-warm-gate")"
row "  hook steps, warm untrusted (ms)" "" "" "" "$(msteps "$R/steps-warm-free")"
row "  hook steps, cold trusted (ms)" "" "" "" "$(msteps "$R/steps-cold-gate")"
row "  built here, no hook (ms)" "$HL" "" "" "$(mm one-local)"
row "  at the host, trusted (ms)" "$(med "$R/onehost-gate")" "" "" "untrusted: $(med "$R/onedrv-free") adding the .drv, $(med "$R/onehost-free") building"
row "  one ssh session, no build (ms)" "$SB" "$SA" "$(ratio "$SB" "$SA")" "$(mm ssh-hgate) / $(mm ssh-nixstore)"
row "hook: 10 leaves + top (ms, 5 each)" "$GB" "$GA" "$(ratio "$GB" "$GA")" "$(mm graph-gate) / $(mm graph-stock)"
row "  untrusted key (ms)" "$GC" "" "$(ratio "$GC" "$GA")" "$(mm graph-free)"
row "  built here, no hook (ms)" "$GL" "" "" "$(mm graph-local)"
row "hook: 256 MiB output (ms, $BN each)" "$BB" "$BA" "$(ratio "$BB" "$BA")" "$(mm big-gate) / $(mm big-stock)"
row "  untrusted key (ms)" "$BC" "" "$(ratio "$BC" "$BA")" "$(mm big-free)"
row "  hook steps, 256 MiB trusted (ms)" "" "" "" "$(msteps "$R/steps-big-gate")"
row "  host: build, send NAR (ms)" "$(med "$R/bigbuild-gate")" "" "" "sending: $(med "$R/bigdump-gate") ms (trusted key)"
[ "$hfail" = 0 ] || echo "bench: $hfail hook builds failed"
echo "machine: $(nproc) cores, $(nix --version), $(uname -r), $(date -u +%Y-%m-%d)"
if [ -n "$json" ]; then
	cat > "$json" <<JSON
{"machine":{"cores":$(nproc),"nix":"$(nix --version)","date":"$(date -u +%Y-%m-%d)"},
 "session_cost_us":{"nixgate":$S1,"nix_store":$S2,"ratio":$(ratio "$S1" "$S2"),"daemon_alone":$SD,"sessions":200},
 "copy_to_mib_s":{"nixgate":$T1,"nix_store":$T2,"ratio":$(ratio "$T1" "$T2"),"nixgate_untrusted":$TU,"ratio_untrusted_to_trusted":$(ratio "$TU" "$T1")},
 "copy_from_mib_s":{"nixgate":$F1,"nix_store":$F2,"ratio":$(ratio "$F1" "$F2")},
 "server_cpu_s_per_gib":{"to":{"nixgate":$C1,"nix_store":$C2},"from":{"nixgate":$D1,"nix_store":$D2}},
 "small_paths_per_s":{"nixgate":$M1,"nix_store":$M2,"ratio":$(ratio "$M1" "$M2"),"paths":1000,
   "nixgate_ms_per_path":$(med "$R/add-ms"),"daemon_ms_per_path":$(med "$R/add-daemon-ms")},
 "query_10000_ms":{"nixgate":$Q1,"nix_store":$Q2,"ratio":$(ratio "$Q1" "$Q2"),"nixgate_daemon_round_trips":$trips},
 "peak_rss_kib":{"nixgate":$P1,"nix_store":$P2,"ratio":$(ratio "$P1" "$P2")},
 "hook_one_build_ms":{"stock":$HA,"nixgate_trusted_cold":$CB,"nixgate_untrusted_cold":$CC,"nixgate_trusted":$HB,"nixgate_untrusted":$HC,"ratio_trusted":$(ratio "$HB" "$HA"),"ratio_untrusted":$(ratio "$HC" "$HA"),
   "local_no_hook":$HL,"builds":$HN,"host_build_ms":{"trusted":$(med "$R/onehost-gate"),"untrusted_add_drv":$(med "$R/onedrv-free"),"untrusted_build":$(med "$R/onehost-free")},"min_max":{"stock":$(jmm one-stock),"nixgate_trusted":$(jmm one-gate),"nixgate_untrusted":$(jmm one-free),"local_no_hook":$(jmm one-local)}},
 "hook_ssh_session_ms":{"nix_store":$SA,"nixgate":$SB,"ratio":$(ratio "$SB" "$SA"),"min_max":{"nix_store":$(jmm ssh-nixstore),"nixgate":$(jmm ssh-hgate)}},
 "hook_graph_11_ms":{"stock":$GA,"nixgate_trusted":$GB,"nixgate_untrusted":$GC,"ratio_trusted":$(ratio "$GB" "$GA"),"ratio_untrusted":$(ratio "$GC" "$GA"),
   "local_no_hook":$GL,"runs":5,"min_max":{"stock":$(jmm graph-stock),"nixgate_trusted":$(jmm graph-gate),"nixgate_untrusted":$(jmm graph-free),"local_no_hook":$(jmm graph-local)}},
 "hook_256mib_output_ms":{"stock":$BA,"nixgate_trusted":$BB,"nixgate_untrusted":$BC,"ratio_trusted":$(ratio "$BB" "$BA"),"ratio_untrusted":$(ratio "$BC" "$BA"),"runs":$BN,
   "host_build_ms":$(med "$R/bigbuild-gate"),"host_send_nar_ms":$(med "$R/bigdump-gate"),
   "min_max":{"stock":$(jmm big-stock),"nixgate_trusted":$(jmm big-gate),"nixgate_untrusted":$(jmm big-free)}},
 "hook_builds_failed":$hfail,
 "sshng":$(sshng_json)}
JSON
	echo "wrote $json"
fi
