# Floating content-addressed derivations (__contentAddressed, the
# experimental feature ca-derivations) through nixgate's build hook: built on
# the host with a trusted and an untrusted key, the outputs copied back by the
# paths the host's realisations give, and the realisations registered here,
# as Nix's own hook does; a key whose policy forbids the system gets nothing.
SYS="$(uname -m)-linux"
CA="--extra-experimental-features ca-derivations"
# the host's daemon reads a floating output only with the feature
echo "extra-experimental-features = ca-derivations" >> "$B/host-conf/nix.conf"
bed_daemon_restart || bad setup "the host's daemon did not restart"
bed_key nosys "$B/bin/nixgate-serve --key nosys --systems riscv64-linux --audit-log $B/home/nosys.log"
mkdir -p "$B/hook-conf"
cat "$B/client-conf/nix.conf" > "$B/hook-conf/nix.conf"
cat >> "$B/hook-conf/nix.conf" <<CONF
build-hook = $B/bin/nixgate-build-hook
builders =
extra-experimental-features = ca-derivations
CONF
NIX_CONF_DIR="$B/hook-conf" nix-daemon > "$B/client-daemon.log" 2>&1 &
echo $! > "$B/client-daemon.pid"
for i in $(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done

# ca_nix FILE NAME: a floating content-addressed derivation on top of another
# one; its output says where each was built ("top host host" on the host)
ca_nix() {
	cat > "$1" <<-NIX
	let
	  where = "if [ -e /nix/host-marker ]; then echo host; else echo local; fi";
	  dep = derivation { name = "$2-dep"; system = builtins.currentSystem; builder = "/bin/sh";
	    __contentAddressed = true; outputHashMode = "recursive"; outputHashAlgo = "sha256";
	    args = [ "-c" "(\${where}) > \$out" ]; };
	in derivation { name = "$2-top"; system = builtins.currentSystem; builder = "/bin/sh";
	  __contentAddressed = true; outputHashMode = "recursive"; outputHashAlgo = "sha256";
	  args = [ "-c" "read x < \${dep}; echo \"top \$x \$(\${where})\" > \$out" ]; }
	NIX
}

# realised DRV OUT: the client store has a realisation of DRV's out that
# gives OUT (Nix 2.8 names the outputs of a .drv by its path, the newest by
# DRV^out)
realised() {
	{ nix $CA realisation info --json "$1^out" 2>/dev/null || nix $CA realisation info --json "$1" 2>/dev/null; } |
		grep -q "\"outPath\":\"\(/nix/store/\)\?$(basename "$2")\""
}

# ca_build NAME KEY: the derivation of ca_nix built through the hook on KEY
ca_build() {
	ca_nix "$B/$1.nix" "$1"
	drv=$(nix-instantiate $CA "$B/$1.nix" 2>/dev/null)
	if o=$(NIX_REMOTE=daemon nix-build $CA --no-out-link --max-jobs 0 --builders "ssh://$2 $SYS - 8 1 ca-derivations" \
		"$B/$1.nix" 2> "$B/$1.out") && [ "$(cat "$o")" = "top host host" ] && nix-store --check-validity "$o" &&
	   realised "$drv" "$o" && nix path-info --json "$o" 2>/dev/null | path_field ca | grep -q "^fixed:r:sha256:"; then
		ok "hook-ca/$1"
	else
		bad "hook-ca/$1" "got '$(cat "$o" 2>/dev/null)' $(nix $CA realisation info --json "$drv" 2>&1 | head -c 300) $(nix path-info --json "$o" 2>&1 | head -c 300)"
	fi
}

t_trusted_key() { ca_build ca-trusted gate; }
t_untrusted_key() { ca_build ca-untrusted untrusted; }

# A key whose policy forbids the derivation's system: the build fails with
# the host's rule, and nothing of it is valid here or new on the host
t_system_refused() {
	ca_nix "$B/ca-nosys.nix" ca-nosys
	before=$(store_strict)
	if NIX_REMOTE=daemon nix-build $CA --no-out-link --max-jobs 0 --builders "ssh://nosys $SYS - 8 1 ca-derivations" \
		"$B/ca-nosys.nix" > "$B/ca-nosys.out" 2>&1; then
		bad hook-ca/system-refused "the build succeeded"
	elif grep -q "on ssh://nosys (key nosys) failed: .*refused by rule systems: it is for system $SYS" "$B/ca-nosys.out" &&
	     ! ls /nix/store | grep -q "ca-nosys-\(dep\|top\)$" && [ "$(store_strict)" = "$before" ]; then
		ok hook-ca/system-refused
	else
		bad hook-ca/system-refused "$(ls /nix/store | grep "ca-nosys-\(dep\|top\)$") $(tail -n 3 "$B/ca-nosys.out" | tr '\n' ' ')"
	fi
}

# The dependency built here: its output, content-addressed, proves itself
# to an untrusted key and goes to the host, which has no .drv to build it
# from (the derivation the hook gets is resolved to its inputs' paths)
t_untrusted_local_input() {
	ca_nix "$B/ca-local.nix" ca-local
	dep=$(nix-instantiate $CA "$B/ca-local.nix" 2>/dev/null | xargs nix-store -q --references | grep 'ca-local-dep.drv$')
	NIX_REMOTE=daemon nix-store $CA -r --builders "" "$dep" > /dev/null 2>&1
	if o=$(NIX_REMOTE=daemon nix-build $CA --no-out-link --max-jobs 0 --builders "ssh://untrusted $SYS - 8 1 ca-derivations" \
		"$B/ca-local.nix" 2> "$B/ca-local.out") && [ "$(cat "$o")" = "top local host" ] &&
	   grep -q "untrusted key untrusted): 1 paths copied" "$B/ca-local.out"; then
		ok hook-ca/untrusted-local-input
	else
		bad hook-ca/untrusted-local-input "got '$(cat "$o" 2>/dev/null)': $(tail -n 3 "$B/ca-local.out" | tr '\n' ' ')"
	fi
}

# An input-addressed dependency built here proves nothing to an untrusted
# key, and an inline build cannot have the host build it: the hook says so
# before anything goes to the host
t_untrusted_unproven_input() {
	cat > "$B/ca-ia.nix" <<-NIX
	let dep = derivation { name = "ca-ia-dep"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo dep > \$out" ]; };
	in derivation { name = "ca-ia-top"; system = builtins.currentSystem; builder = "/bin/sh";
	  __contentAddressed = true; outputHashMode = "recursive"; outputHashAlgo = "sha256";
	  args = [ "-c" "read x < \${dep}; echo \$x top > \$out" ]; }
	NIX
	dep=$(nix-instantiate $CA "$B/ca-ia.nix" 2>/dev/null | xargs nix-store -q --references | grep 'ca-ia-dep.drv$')
	depout=$(NIX_REMOTE=daemon nix-store $CA -r --builders "" "$dep" 2>/dev/null)
	before=$(store_strict)
	if NIX_REMOTE=daemon nix-build $CA --no-out-link --max-jobs 0 --builders "ssh://untrusted $SYS - 8 1 ca-derivations" \
		"$B/ca-ia.nix" > "$B/ca-ia.out" 2>&1; then
		bad hook-ca/untrusted-unproven-input "the build succeeded"
	elif grep -q "1 inputs of .*-ca-ia-top.drv are not on ssh://untrusted, and key untrusted cannot send them: .*($depout)" "$B/ca-ia.out" &&
	     [ "$(store_strict)" = "$before" ] && ! ls /nix/store | grep -q "ca-ia-top$"; then
		ok hook-ca/untrusted-unproven-input
	else
		bad hook-ca/untrusted-unproven-input "$(tail -n 3 "$B/ca-ia.out" | tr '\n' ' ')"
	fi
}
