# ssh-ng:// rows of ./build.sh bench, sourced by bench/run.sh (same bed,
# same run; BENCH_ONLY=sshng runs them alone): nixgate-serve with a trusted
# key (ngate) and with an untrusted key that trusts the client's signing key
# (nfree) against nix-daemon --stdio as the forced command (ndaemon, the
# host user trusted), interleaved, medians and min-max, ratios to
# nix-daemon --stdio:
#  - nix copy --to and --from of one 1 GiB path (MiB/s)
#  - nix copy --to of 1,000 small paths (paths/s)
#  - one trivial build through Nix's own hook in the client's daemon,
#    --builders 'ssh-ng://…' (ms); the client's daemon signs what it builds;
#    input-addressed, or fixed-output where the client's Nix predates 2.16
# A variant that fails (a request nixgate does not serve yet) is a "failed"
# row and a bench: line with the client's reason, never a hang: each client
# runs under a timeout. Uses run.sh's now, med, lo, hi, $B, $R.

NG_STORES="ngate nfree ndaemon"
NG_T=${NG_TIMEOUT:-300}
NG_BN=5

sshng_setup() {
	nix-store --generate-binary-cache-key bench-client-1 "$B/ng-ck.sec" "$B/ng-ck.pub"
	bed_key ngate "$B/bin/nixgate-serve --key ngate --trusted --audit-log $B/home/ng.log"
	bed_key nfree "$B/bin/nixgate-serve --key nfree --trusted-public-key $(cat "$B/ng-ck.pub") --audit-log $B/home/ng.log"
	bed_key ndaemon "nix-daemon --stdio"
}

# ng_fail STORE WHAT: the variant's failure, once per kind, with the
# client's reason
ng_fail() {
	echo failed >> "$R/ng-fail-$1-$2"
	[ "$(wc -l < "$R/ng-fail-$1-$2")" -gt 1 ] ||
		echo "bench: ssh-ng $2 through $1 failed: $(grep -E 'nixgate|error|cannot' "$B/ng.err" | head -n 2 | tr '\n' ' ')" >&2
}

# ng_gone CMD... PATH...: PATH deleted in that store, retried while a daemon
# worker of the last session may still hold it
ng_gone() {
	for j in $(seq 50); do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "bench: could not delete: $*" >&2
	return 1
}

# ng_big STORE to|from: one 1 GiB copy, its MiB/s into ng-DIR-STORE
ng_big() {
	t0=$(now)
	if timeout "$NG_T" nix copy --no-check-sigs "--$2" "ssh-ng://$1" "$NG_BIG" > /dev/null 2> "$B/ng.err"; then
		awk "BEGIN {printf \"%.1f\n\", 1024 / (($(now) - $t0) / 1e9)}" >> "$R/ng-$2-$1"
	else
		ng_fail "$1" "copy-$2"
	fi
}

# the client daemon for the builds: Nix's own hook, signing what it builds
ng_daemon_up() {
	mkdir -p "$B/ng-conf"
	cat "$B/client-conf/nix.conf" > "$B/ng-conf/nix.conf"
	echo "secret-key-files = $B/ng-ck.sec" >> "$B/ng-conf/nix.conf"
	NIX_CONF_DIR="$B/ng-conf" nix-daemon > "$B/ng-daemon.log" 2>&1 &
	echo $! > "$B/client-daemon.pid"
	for i in $(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && return 0; sleep 0.1; done
	echo "bench: the client daemon did not start" >&2
	return 1
}
ng_daemon_down() {
	p=$(cat "$B/client-daemon.pid")
	kill "$p" 2> /dev/null || true
	while kill -0 "$p" 2> /dev/null; do sleep 0.05; done
	rm -f "$B/client-daemon.pid" /nix/var/nix/daemon-socket/socket
}

# ng_build STORE NONCE: one build through ssh-ng://STORE, ms into ng-build-STORE
ng_build() {
	t0=$(now)
	if timeout "$NG_T" env NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh-ng://$1 $SYS - 16 1" \
		--argstr nonce "$2" --argstr hash "$(echo "host $2" | sha256sum | cut -d' ' -f1)" "$B/ng-one.nix" > "$B/ng.path" 2> "$B/ng.err"; then
		t=$(( ($(now) - t0) / 1000000 ))
		# built on the host, or it measured something else
		if [ "$(cat "$(cat "$B/ng.path")")" = "host $2" ]; then echo "$t" >> "$R/ng-build-$1"; else echo "bench: ssh-ng build $2 was not built on the host" >&2; fi
	else
		ng_fail "$1" build
	fi
}

sshng_run() {
	SYS="$(uname -m)-linux"
	sshng_setup
	if [ -z "${big:-}" ]; then
		head -c 1073741824 /dev/urandom > "$B/ng-blob"
		big=$(nix-store --add "$B/ng-blob")
		rm -f "$B/ng-blob"
	fi
	NG_BIG=$big
	for i in 1 2; do
		for s in $NG_STORES; do
			! bed_host nix-store --check-validity "$NG_BIG" 2> /dev/null || ng_gone bed_host nix-store --delete "$NG_BIG" || true
			ng_big "$s" to
		done
	done
	# from the host: the path there, not here (through ssh://, which serves
	# imports whatever ssh-ng:// does)
	bed_host nix-store --check-validity "$NG_BIG" 2> /dev/null ||
		nix copy --to "ssh://ngate" "$NG_BIG" > /dev/null 2>&1 || echo "bench: the 1 GiB path is not on the host" >&2
	for i in 1 2; do
		for s in $NG_STORES; do
			! nix-store --check-validity "$NG_BIG" 2> /dev/null || ng_gone nix-store --delete "$NG_BIG" || true
			ng_big "$s" from
		done
	done

	mkdir -p "$B/ng-many"
	for i in $(seq 1000); do echo "ssh-ng small $i" > "$B/ng-many/f$i"; done
	nix-store --add "$B"/ng-many/f* > "$B/ng-many.list"
	for i in 1 2; do
		for s in $NG_STORES; do
			bed_host nix-store --delete $(cat "$B/ng-many.list") > /dev/null 2>&1 || true
			t0=$(now)
			if timeout "$NG_T" nix copy --to "ssh-ng://$s" $(cat "$B/ng-many.list") > /dev/null 2> "$B/ng.err"; then
				echo $(( 1000000000000 / ($(now) - t0) )) >> "$R/ng-many-$s"
			else
				ng_fail "$s" copy-many
			fi
		done
	done

	# Nix's hook before 2.16 sends every derivation inline, which an
	# untrusted key can prove only when it is fixed-output: then all three
	# build that, the output hash of the text the host writes
	NG_KIND=input-addressed NG_FOD=
	case $(nix --version | sed -n 's/^[^0-9]*\([0-9]*\.[0-9]*\).*/\1/p') in
	2.[0-9]|2.1[0-5]) NG_KIND=fixed-output NG_FOD='outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = hash;' ;;
	esac
	cat > "$B/ng-one.nix" <<-NIX
	{ nonce, hash }: derivation { name = "ng-one-\${nonce}"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "if [ -e /nix/host-marker ]; then echo host \${nonce} > \$out; else echo here > \$out; fi" ]; $NG_FOD }
	NIX
	ng_daemon_up
	for s in $NG_STORES; do ng_build "$s" "$s-first-$$"; done
	rm -f "$R"/ng-build-*
	for i in $(seq "$NG_BN"); do
		for s in $NG_STORES; do ng_build "$s" "$s-$i-$$"; done
	done
	ng_daemon_down
}

# ng_med FILE: the median, or "failed" when no run of it succeeded
ng_med() { if [ -s "$R/$1" ]; then med "$R/$1"; else echo failed; fi; }
ng_mm() { if [ -s "$R/$1" ]; then echo "$(lo "$R/$1")-$(hi "$R/$1")"; else echo "-"; fi; }
ng_ratio() { case "$1$2" in *failed*) echo - ;; *) awk "BEGIN {printf \"%.3f\", $1 / $2}" ;; esac; }
ng_row() { printf '%-36s %12s %12s %8s   %s\n' "$@"; }
ng_json() { case $1 in failed|-) echo null ;; *) echo "$1" ;; esac; }

sshng_rows() {
	ng_row "ssh-ng://" "nixgate" "nix-daemon" "ratio" "min-max nixgate / nix-daemon --stdio, same run"
	for k in to from many build; do
		case $k in
		to) title="copy 1 GiB to host (MiB/s)" ;;
		from) title="copy 1 GiB from host (MiB/s)" ;;
		many) title="copy 1,000 small paths (paths/s)" ;;
		build) title="one remote build (ms, $NG_BN each)" ;;
		esac
		a=$(ng_med "ng-$k-ngate") u=$(ng_med "ng-$k-nfree") d=$(ng_med "ng-$k-ndaemon")
		ng_row "$title" "$a" "$d" "$(ng_ratio "$a" "$d")" "$(ng_mm "ng-$k-ngate") / $(ng_mm "ng-$k-ndaemon")"
		ng_row "  untrusted key, client's key" "$u" "" "$(ng_ratio "$u" "$d")" "$(ng_mm "ng-$k-nfree")"
	done
	ng_row "  the build" "" "" "" "one trivial $NG_KIND derivation, Nix's own hook"
}

sshng_row() { printf '%-36s %12s %12s %8s   %s\n' "$@"; }
ng_json() {
	out=
	for k in to from many build; do
		case $k in to) n=copy_to_mib_s ;; from) n=copy_from_mib_s ;; many) n=small_paths_per_s ;; build) n=remote_build_ms ;; esac
		a=$(ng_med "ng-$k-ngate") u=$(ng_med "ng-$k-nfree") d=$(ng_med "ng-$k-ndaemon")
		out="$out${out:+,}\"$n\":{\"nixgate\":$(ng_json "$a"),\"nixgate_untrusted\":$(ng_json "$u"),\"nix_daemon_stdio\":$(ng_json "$d"),\"ratio\":$(ng_json "$(ng_ratio "$a" "$d")"),\"ratio_untrusted\":$(ng_json "$(ng_ratio "$u" "$d")")}"
	done
	echo "{$out,\"builds\":$NG_BN,\"build_kind\":\"$NG_KIND\"}"
}
