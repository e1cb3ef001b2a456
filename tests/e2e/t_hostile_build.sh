# BuildPaths as a hostile key would use it, through sshd: the key's rules
# hold for every derivation the daemon would build (inputs included), the
# sandbox attributes an untrusted key may not use, max-jobs over the builds
# of one request, a repeated .drv read once, permission checked before a
# request's body, a bare .drv built whole, and a daemon error while a .drv
# is read answered as a failed build. Beside each refusal, the honest case.
SYS="$(uname -m)-linux"
HB_AUDIT="$B/home/audit-hb.log"
bed_key sys "$B/bin/nixgate-serve --key sys --systems $SYS --features big-parallel --audit-log $HB_AUDIT"
bed_key one "$B/bin/nixgate-serve --key one --max-jobs 1 --state-dir $B/home/state-one --audit-log none"
bed_key two "$B/bin/nixgate-serve --key two --max-jobs 2 --state-dir $B/home/state-two --audit-log none"
bed_key hostone "$B/bin/nixgate-serve --key hostone --host-max-jobs 1 --state-dir $B/home/state-host --audit-log none"
bed_key nobuild "$B/bin/nixgate-serve --key nobuild --allow query,export --audit-log none"
bed_key nosub "$B/bin/nixgate-serve --key nosub --no-substitute --audit-log none"

# The stderr of a session is this one line (and the sanitizer notice).
hb_line() { # FILE LINE
	[ "$(errlines "$1")" -eq 1 ] && grep -qxF "nixgate-serve: $2" "$1"
}

# BuildPaths through sshd to KEY: sclient's answer in $B/hb.out, the
# server's stderr in $B/hb.err. hb_build KEY OP ARG...
hb_build() {
	k=$1; shift
	"$B/bin/sclient" 7 "$@" -- ssh -F "$B/ssh_config" "$k" nix-store --serve --write > "$B/hb.out" 2> "$B/hb.err"
}

# Derivations instantiated on the host itself (its store has the .drvs, as
# after nix copy --derivation): the .drv of FILE's expression on stdout.
hb_drv() { bed_host nix-instantiate "$1" 2>/dev/null; }
# The .drv among DRV's inputs whose name ends in NAME.drv.
hb_input() { bed_host nix-store -q --references "$1" | grep -- "-$2.drv\$"; }
# Any of the outputs of the .drvs given valid on the host.
hb_any_valid() {
	for o in $(bed_host nix-store -q --outputs "$@"); do
		host_valid "$o" && return 0
	done
	return 1
}

# A two-level closure: the top, for this system, reads its input's output.
# hb_closure FILE NAME DEP-ATTRS: DEP-ATTRS are more attributes of the
# input (its system too, when they name one).
hb_closure() {
	sys=$(echo "$3" | grep -q 'system =' || echo 'system = builtins.currentSystem;')
	cat > "$1" <<-NIX
	let dep = derivation { name = "$2-dep"; $sys builder = "/bin/sh";
	  args = [ "-c" "echo dep > \$out" ]; $3 };
	in derivation { name = "$2-top"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "read x < \${dep}; echo \"top \$x\" > \$out" ]; }
	NIX
}

# hb_refused NAME KEY TOP DEP RULE WHY: BuildPaths of TOP!out by KEY is a
# failed build naming DEP (an input of TOP) and RULE, in one stderr line;
# the session goes on; neither is built and nothing at all (.lock files
# included) is added to /nix/store.
hb_refused() {
	local want="key $2: BuildPaths of '$4' refused by rule $5: $6"
	before=$(store_strict)
	hb_build "$2" build "$3!out"
	if [ "$(cat "$B/hb.out")" = "$(printf 'server-version 2.8\nstatus 1\nerror %s\nexit 0' "$want")" ] &&
	   hb_line "$B/hb.err" "$want" && ! hb_any_valid "$3" "$4" && [ "$before" = "$(store_strict)" ]; then
		ok "$1"
	else
		bad "$1" "$(cat "$B/hb.out" "$B/hb.err" | cut -c 1-240 | tr '\n' '|')"
	fi
}

# Every output of the .drvs given valid on the host.
hb_all_valid() {
	for o in $(bed_host nix-store -q --outputs "$@"); do
		host_valid "$o" || return 1
	done
}

# hb_built NAME KEY ARG...: the BuildPaths of ARG... succeeds and every
# output of the .drvs named is valid afterwards.
hb_built() {
	n=$1; k=$2; shift 2
	hb_build "$k" build "$@"
	if grep -qx "status 0" "$B/hb.out" && grep -qx "exit 0" "$B/hb.out" &&
	   hb_all_valid $(printf '%s\n' "$@" | sed 's/!.*//' | sort -u); then
		ok "$n"
	else
		bad "$n" "$(cat "$B/hb.out" "$B/hb.err" | cut -c 1-240 | tr '\n' '|')"
	fi
}

t_input_rules() {
	hb_closure "$B/hb-sys.nix" hb-sys 'system = "riscv64-linux";'
	top=$(hb_drv "$B/hb-sys.nix")
	hb_refused sys/input-system sys "$top" "$(hb_input "$top" hb-sys-dep)" systems \
		"it is for system riscv64-linux; this key may build for: $SYS"
	hb_closure "$B/hb-kvm.nix" hb-kvm 'requiredSystemFeatures = [ "kvm" ];'
	top=$(hb_drv "$B/hb-kvm.nix")
	hb_refused sys/input-features sys "$top" "$(hb_input "$top" hb-kvm-dep)" features \
		"it requires the feature kvm; this key may use: big-parallel"
	hb_closure "$B/hb-nochroot.nix" hb-nochroot '__noChroot = true;'
	top=$(hb_drv "$B/hb-nochroot.nix")
	hb_refused untrusted/input-nochroot untrusted "$top" "$(hb_input "$top" hb-nochroot-dep)" sandbox \
		"it uses __noChroot, which weakens the build sandbox; only a trusted key may"
	# the same closure for a trusted key, and honest closures for the
	# untrusted key and for the key with systems and features rules
	hb_built gate/input-nochroot-trusted gate "$top!out"
	hb_closure "$B/hb-honest.nix" hb-honest ''
	hb_built untrusted/closure-builds untrusted "$(hb_drv "$B/hb-honest.nix")!out"
	hb_closure "$B/hb-bigp.nix" hb-bigp 'requiredSystemFeatures = [ "big-parallel" ];'
	hb_built sys/closure-builds sys "$(hb_drv "$B/hb-bigp.nix")!out"
}

# Two independent derivations that each record when they ran.
hb_pair() { # FILE TAG
	cat > "$1" <<-NIX
	let job = n: derivation { name = "hb-job-$2-\${n}"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "s=\$(/bin/date +%s%N); /bin/sleep 2; echo \$s \$(/bin/date +%s%N) > \$out" ]; };
	in [ (job "a") (job "b") ]
	NIX
}

# Whether the two jobs of a pair ran at the same time: 0 overlap, 1 not,
# 2 they did not both run.
hb_overlap() { # DRV DRV
	a=$(bed_host sh -c "cat \$(nix-store -q --outputs $1)" 2>/dev/null)
	b=$(bed_host sh -c "cat \$(nix-store -q --outputs $2)" 2>/dev/null)
	[ -n "$a" ] && [ -n "$b" ] || return 2
	set -- $a $b
	[ "$2" -le "$3" ] || [ "$4" -le "$1" ] && return 1
	return 0
}

t_max_jobs() {
	for k in one two hostone; do
		hb_pair "$B/hb-pair-$k.nix" "$k"
		set -- $(hb_drv "$B/hb-pair-$k.nix")
		hb_build "$k" build "$1!out" "$2!out"
		hb_overlap "$1" "$2"
		o=$?
		case "$k.$o" in
		one.1|two.0|hostone.1) ok "$k/max-jobs" ;;
		*) bad "$k/max-jobs" "overlap $o (0 yes, 1 no, 2 not built) of $(cat "$B/hb.out" "$B/hb.err" | cut -c 1-200 | tr '\n' '|')" ;;
		esac
	done
}

# The daemon round trips of the audit line of the BuildPaths of N paths.
hb_trips() { grep "key=sys op=BuildPaths paths=$1 " "$HB_AUDIT" | tail -n 1 | sed 's/.* daemon=\([0-9]*\) .*/\1/'; }

t_repeated_drv() {
	for n in 1 200; do
		cat > "$B/hb-rep-$n.nix" <<-NIX
		derivation { name = "hb-rep-$n"; system = builtins.currentSystem; builder = "/bin/sh";
		  args = [ "-c" "echo $n > \$out" ]; }
		NIX
		d=$(hb_drv "$B/hb-rep-$n.nix")
		hb_built "sys/repeated-$n" sys $(yes "$d!out" | head -n "$n")
	done
	t1=$(hb_trips 1); t200=$(hb_trips 200)
	if [ -n "$t1" ] && [ "$t1" = "$t200" ] && [ "$t200" -le 8 ]; then
		ok sys/repeated-read-once
	else
		bad sys/repeated-read-once "daemon round trips: $t1 for 1, $t200 for 200"
	fi
}

# A key without build sends only the start of a request: its refusal comes
# without the rest (sclient never sends it; a server that waited for it
# would be killed by the timeout).
t_allow_first() {
	p=$(bed_host nix-instantiate "$B/hb-honest.nix" 2>/dev/null)
	for c in 6 8; do
		op=$([ $c = 6 ] && echo BuildPaths || echo BuildDerivation)
		want="key nobuild: $op of '$p' refused by rule allow: this key may only query,export"
		before=$(store_strict)
		timeout 20 "$B/bin/sclient" 7 head $c "$p" -- ssh -F "$B/ssh_config" nobuild nix-store --serve --write \
			> "$B/hb.out" 2> "$B/hb.err"
		if [ "$(cat "$B/hb.out")" = "$(printf 'server-version 2.8\nclosed\nexit 100')" ] &&
		   hb_line "$B/hb.err" "$want" && [ "$before" = "$(store_strict)" ]; then
			ok "nobuild/$op-refused-before-body"
		else
			bad "nobuild/$op-refused-before-body" "$(cat "$B/hb.out" "$B/hb.err" | cut -c 1-200 | tr '\n' '|')"
		fi
	done
}

# A bare .drv (how a Nix 2.8 ssh:// store asks for all outputs) builds
# every output, as nix-store --serve --write does.
t_bare_drv() {
	cat > "$B/hb-bare.nix" <<-NIX
	derivation { name = "hb-bare"; system = builtins.currentSystem; builder = "/bin/sh";
	  outputs = [ "out" "dev" ]; args = [ "-c" "echo > \$out; echo > \$dev" ]; }
	NIX
	hb_built untrusted/bare-drv untrusted "$(hb_drv "$B/hb-bare.nix")"
}

# A .drv the host does not have, for a key whose rules read it: a failed
# build with the daemon's error, and the session goes on.
t_missing_drv() {
	m=/nix/store/00000000000000000000000000000000-hb-missing.drv
	v=$(bed_host nix-instantiate "$B/hb-honest.nix" 2>/dev/null)
	before=$(store_strict)
	hb_build sys build-valid "$m!out" "$v"
	if [ "$(sed -n 2p "$B/hb.out")" = "status 1" ] &&
	   sed -n 3p "$B/hb.out" | grep -q "^error .*path '$m' is not valid" &&
	   [ "$(sed -n '4,$p' "$B/hb.out")" = "$(printf 'valid %s\nexit 0' "$v")" ] &&
	   [ "$before" = "$(store_strict)" ]; then
		ok sys/missing-drv-daemon-error
	else
		bad sys/missing-drv-daemon-error "$(cat "$B/hb.out" "$B/hb.err" | cut -c 1-200 | tr '\n' '|')"
	fi
}

# The inline derivation of BuildDerivation (what the client's build hook
# sends) is held to the same sandbox rules: a fixed-output derivation, whose
# outputs an untrusted key may claim, with __noChroot is refused; without
# it, it builds.
t_inline_sandbox() {
	h=$(printf hb | sha256sum | cut -d' ' -f1)
	for a in '__noChroot = true;' ''; do
		cat > "$B/hb-fod.nix" <<-NIX
		derivation { name = "hb-fod"; system = builtins.currentSystem; builder = "/bin/sh";
		  args = [ "-c" "printf hb > \$out" ]; outputHashMode = "flat"; outputHashAlgo = "sha256";
		  outputHash = "$h"; $a }
		NIX
		d=$(nix-instantiate "$B/hb-fod.nix" 2>/dev/null)
		o=$(nix-store -q --outputs "$d")
		before=$(store_strict)
		nix-build --no-out-link --max-jobs 0 --builders "ssh://untrusted $SYS - 1 1" "$B/hb-fod.nix" > "$B/hb.out" 2>&1
		st=$?
		if [ -n "$a" ]; then
			if [ $st != 0 ] && grep -qF "key untrusted: BuildDerivation of '$d' refused by rule sandbox: it uses __noChroot" "$B/hb.out" &&
			   ! host_valid "$o" && [ "$before" = "$(store_strict)" ]; then
				ok untrusted/inline-nochroot
			else
				bad untrusted/inline-nochroot "$(tail -n 4 "$B/hb.out" | cut -c 1-200 | tr '\n' '|')"
			fi
		elif [ $st = 0 ] && host_valid "$o"; then
			ok untrusted/inline-fixed-output-builds
		else
			bad untrusted/inline-fixed-output-builds "$(tail -n 4 "$B/hb.out" | cut -c 1-200 | tr '\n' '|')"
		fi
	done
}

# The daemon's plan is made with the build's own options: with substitution
# off for the key, a derivation whose output the host's cache has is built,
# with its inputs, so those are what the rules read. Here the input sets
# __noChroot and the top's output is in the host's cache.
t_plan_options() {
	hb_closure "$B/hb-cached.nix" hb-cached '__noChroot = true;'
	top=$(nix-instantiate "$B/hb-cached.nix" 2>/dev/null)
	out=$(nix-store -r "$top" 2>/dev/null)
	nix copy --to "file://$B/cache?secret-key=$B/cache-key.sec" "$out" 2>/dev/null
	[ "$top" = "$(hb_drv "$B/hb-cached.nix")" ] || bad nosub/plan-with-build-options "the host's .drv differs"
	hb_refused nosub/plan-with-build-options nosub "$top" "$(hb_input "$top" hb-cached-dep)" sandbox \
		"it uses __noChroot, which weakens the build sandbox; only a trusted key may"
	# with substitution, the output comes from the cache and nothing builds
	hb_built untrusted/cached-output-substituted untrusted "$top!out"
}

# A target the host neither has nor can substitute: refused before the
# daemon sees the build, for a key whose builds nixgate reads.
t_unknown_path() {
	u=/nix/store/00000000000000000000000000000000-hb-nowhere
	want="key untrusted: BuildPaths of '$u' refused by rule derivation: $u is neither valid on the host nor substitutable, so nixgate cannot know what the daemon would build for it"
	before=$(store_strict)
	hb_build untrusted build "$u"
	if [ "$(cat "$B/hb.out")" = "$(printf 'server-version 2.8\nstatus 1\nerror %s\nexit 0' "$want")" ] &&
	   hb_line "$B/hb.err" "$want" && [ "$before" = "$(store_strict)" ]; then
		ok untrusted/unknown-path-refused
	else
		bad untrusted/unknown-path-refused "$(cat "$B/hb.out" "$B/hb.err" | cut -c 1-240 | tr '\n' '|')"
	fi
}
