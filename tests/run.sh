#!/bin/sh
# Runs every test suite; each prints PASS/FAIL lines, this counts them and
# ends with the one summary line.
# The machine's Nix is host and client for everything (the default cell);
# then end-to-end suites run in a matrix of Nix versions (tests/roots.sh):
# every version as host with the newest as client, and the newest as host
# with every version as client. Each cell runs MATRIX_SUITES, and the hook's
# suites where the client is the newest (its daemon runs the hook). The
# doctor suite is one of MATRIX_SUITES: what the client's daemon makes of
# build-hook in nix.conf differs by version (2.26 ignores it); so is
# sshng_stock, which compares each stock client (Nix's own hook) over
# ssh-ng:// with nix-daemon --stdio. big and
# load measure nixgate's own memory and concurrency: the default cell's.
# NIXGATE_MATRIX narrows it to the cells named: a version V is the cell
# where V is host and client ("2.8": only the default cell, as before),
# hostV-clientW any other; NIXGATE_MATRIX_SUITES replaces the suites.
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 111
. tests/roots.sh
MATRIX_SUITES="basic proto client doctor malformed policy faults derivation hostile_import hostile_build deadlines privsep sshng sshng_import sshng_build sshng_stock sshng_add sshng_attack"
NEWEST_CLIENT_SUITES="hook hook_ca hook_warm"
mv=$(roots_machine_version)
versions=$(roots_versions)
newest=$(echo "$versions" | tail -n 1)
[ -n "$(roots_list)" ] || echo "run.sh: no Nix but the machine's $mv: ./build.sh chroots makes the others"
# cells as hostV-clientW, the default first
cells=$(for v in $versions; do echo "host$v-client$newest"; echo "host$newest-client$v"; done |
	sort -uV | grep -vx "host$mv-client$mv")
cells="host$mv-client$mv $cells"
if [ -n "${NIXGATE_MATRIX:-}" ]; then
	want=
	for w in $NIXGATE_MATRIX; do
		case $w in host*) ;; *) w=host$w-client$w ;; esac
		want="$want $w"
	done
	cells=$want
fi
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

# the demo checks each step it shows: a failing one fails the suite, with
# the demo's last lines
demo() {
	if unshare -m --propagation private sh tests/demo.sh > "$out.demo" 2>&1; then
		echo "PASS demo/both-keys-stories"
	else
		echo "FAIL demo/both-keys-stories: $(tail -n 4 "$out.demo" | tr '\n' '|')"
	fi
	rm -f "$out.demo"
}

default_cell() {
	run unit build/unit
	run asan/unit build/asan-unit
	run man sh tests/man.sh
	run cli sh tests/cli.sh
	run demo demo
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
}

matrix_cell() { # hostV-clientW
	h=${1#host}; h=${h%%-client*}; c=${1##*-client}
	suites=$MATRIX_SUITES
	[ "$c" != "$newest" ] || suites="$suites $NEWEST_CLIENT_SUITES"
	for t in ${NIXGATE_MATRIX_SUITES:-$suites}; do
		NIXGATE_HOST_NIX=$h NIXGATE_CLIENT_NIX=$c run "e2e@$1/$t" \
			unshare -m --propagation private sh tests/e2e/main.sh "tests/e2e/t_$t.sh"
	done
}

for cell in $cells; do
	t0=$(date +%s)
	if [ "$cell" = "host$mv-client$mv" ]; then default_cell; else matrix_cell "$cell"; fi
	echo "run.sh: cell $cell took $(($(date +%s) - t0)) s"
done

passed=$(grep -c '^PASS ' "$out")
failed=$(grep -c '^FAIL ' "$out")
rm -f "$out" "$out.rc" "$out.one"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
