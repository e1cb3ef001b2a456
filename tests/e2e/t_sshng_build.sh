# Builds over ssh-ng:// (the worker protocol) through nixgate-serve: the
# stock client's nix build --store ssh-ng:// of a .drv on the host, for a
# trusted and an untrusted key, with the build's log reaching the client;
# remote builds through the client daemon's --builders ssh-ng://; and the
# refusals, each with its exit status, its one line naming key, request,
# path and rule, nothing built and the host store strictly as it was.
SYS="$(uname -m)-linux"
bed_key nobuild "$B/bin/nixgate-serve --key nobuild --allow query,export,import --audit-log none"
bed_key riscv "$B/bin/nixgate-serve --key riscv --systems riscv64-linux --audit-log none"
bed_key sys "$B/bin/nixgate-serve --key sys --systems $SYS --audit-log none"

# A derivation in the client store whose build echoes a marker: its .drv.
nb_client_drv() { # NAME
	nix-instantiate --expr "derivation { name = \"$1\"; system = builtins.currentSystem; builder = \"/bin/sh\";
		args = [\"-c\" \"echo marker-$1; echo $1 > \$out\"]; }" 2> /dev/null
}
# A two-level derivation instantiated on the host: its top .drv; DEP-ATTRS
# are more attributes of the input (its system too, when they name one).
nb_host_drv() { # NAME DEP-ATTRS
	sys=$(echo "$2" | grep -q 'system =' || echo 'system = builtins.currentSystem;')
	cat > "$B/$1.nix" <<-NIX
	let dep = derivation { name = "$1-dep"; $sys builder = "/bin/sh"; args = [ "-c" "echo dep > \$out" ]; $2 };
	in derivation { name = "$1-top"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "read x < \${dep}; echo \"top \$x\" > \$out" ]; }
	NIX
	bed_host nix-instantiate "$B/$1.nix" 2> /dev/null
}
# Any output of the .drvs given valid on the host.
nb_any_valid() {
	for o in $(bed_host nix-store -q --outputs "$@"); do
		host_valid "$o" && return 0
	done
	return 1
}
# nb_refused NAME KEY LINE DRV... -- TOKEN...: the raw request refused
# with LINE, nothing of the .drvs' outputs built
nb_refused() {
	n=$1 k=$2 line=$3
	shift 3
	drvs=
	while [ "$1" != -- ]; do drvs="$drvs $1"; shift; done
	shift
	wrefused "$n" "$k" 100 "$line" "$@"
	if [ -n "$drvs" ] && nb_any_valid $drvs; then bad "$n/not-built" "an output was built"; fi
}

# nix build --store ssh-ng://KEY of a .drv copied to the host first (over
# ssh://, whose imports nixgate verifies): built, valid on the host, and
# the builder's marker in the client's output.
t_nb_stock() {
	# newer clients read a bare .drv as the file itself; ^* names its outputs
	ALL_OUTPUTS=
	nix build --help 2>&1 | grep -q '\^\*' && ALL_OUTPUTS='^*'
	for k in gate untrusted; do
		d=$(nb_client_drv "nb-stock-$k")
		o=$(nix-store -q --outputs "$d")
		if ! nix copy --derivation --to "ssh://$k" "$d" > "$B/out" 2>&1; then
			bad "stock/$k" "copy of the .drv: $(tail -n 2 "$B/out" | tr '\n' ' ')"
			continue
		fi
		nix build --store "ssh-ng://$k" --no-link "$d$ALL_OUTPUTS" > "$B/out" 2>&1
		r=$?
		if [ "$r" = 0 ] && host_valid "$o" && grep -q "marker-nb-stock-$k" "$B/out"; then
			ok "stock/$k"
		else
			bad "stock/$k" "exit status $r, output $(host_valid "$o" && echo valid || echo "not valid"): $(tail -n 3 "$B/out" | tr '\n' ' ')"
		fi
	done
}

# The client daemon's remote build through --builders ssh-ng://, with
# Nix's own hook: the trusted key builds (BuildDerivation), as does the
# untrusted key where the client builds by path; an inline input-addressed
# derivation from the untrusted key is refused, since nothing proves its
# outputs, and the client's build fails with the line.
t_nb_builders() {
	# the client's own daemon, with Nix's own build hook
	NIX_CONF_DIR="$B/client-conf" nix-daemon > "$B/client-daemon.log" 2>&1 &
	echo $! > "$B/client-daemon.pid"
	for i in $(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done
	# Nix's hook copies the inputs first (AddMultipleToStore, even of no
	# paths): ssh-ng imports are another branch's work
	wsend gate hello u:44 u:0 u:0
	if grep -q "AddMultipleToStore refused by rule operation" "$B/w.err"; then
		echo "SKIP $SUITE/$T_NAME/builders: ssh-ng imports (AddMultipleToStore) are not served in this build"
		return
	fi
	d=$(nb_client_drv nb-hook-gate)
	o=$(nix-store -q --outputs "$d")
	if NIX_REMOTE=daemon nix-store -r --max-jobs 0 --builders "ssh-ng://gate $SYS - 1 1" "$d" > "$B/out" 2>&1 &&
	   host_valid "$o" && nix-store --check-validity "$o" && grep -q marker-nb-hook-gate "$B/out"; then
		ok builders/gate
	else
		bad builders/gate "$(tail -n 3 "$B/out" | tr '\n' ' ')"
	fi
	# Nix before 2.15 sends an untrusted store the derivation inline, which
	# is refused; later ones copy the .drv closure and build it by path
	d=$(nb_client_drv nb-hook-untrusted)
	o=$(nix-store -q --outputs "$d")
	before=$(store_strict)
	NIX_REMOTE=daemon nix-store -r --max-jobs 0 --builders "ssh-ng://untrusted $SYS - 1 1" "$d" > "$B/out" 2>&1
	r=$?
	case "$(nix --version)" in
	*" 2."[0-9].*|*" 2.1"[0-4].*)
		if [ "$r" -ne 0 ] && ! host_valid "$o" && [ "$before" = "$(store_strict)" ] &&
		   grep -q "key untrusted: BuildDerivation of '$d' refused by rule build: it is input-addressed" "$B/out"; then
			ok builders/untrusted-inline-refused
		else
			bad builders/untrusted-inline-refused "exit status $r: $(tail -n 3 "$B/out" | tr '\n' ' ')"
		fi ;;
	*)
		if [ "$r" -eq 0 ] && host_valid "$o" && host_valid "$d" && grep -q marker-nb-hook-untrusted "$B/out"; then
			ok builders/untrusted-by-path
		else
			bad builders/untrusted-by-path "exit status $r: $(tail -n 3 "$B/out" | tr '\n' ' ')"
		fi ;;
	esac
}

# Raw requests: each refusal beside the same request accepted.
t_nb_refusals() {
	top=$(nb_host_drv nb-plain '')
	nb_refused allow/nobuild nobuild "BuildPaths of '$top!out' refused by rule allow: this key may only query,export,import" \
		"$top" -- hello u:9 u:1 "s:$top!out" u:0
	nb_refused systems/riscv riscv "BuildPathsWithResults of '$top' refused by rule systems: it is for system $SYS; this key may build for: riscv64-linux" \
		"$top" -- hello u:46 u:1 "s:$top!out" u:0
	nb_refused mode/repair untrusted "BuildPaths of '$top!out' refused by rule build-mode: only the normal build mode is served to this key, not repair; repair and check need a trusted key" \
		"$top" -- hello u:9 u:1 "s:$top!out" u:1
	nb_refused mode/check untrusted "BuildPathsWithResults of '$top!out' refused by rule build-mode: only the normal build mode is served to this key, not check; repair and check need a trusted key" \
		"$top" -- hello u:46 u:1 "s:$top!out" u:2
	nb_refused targets/4097 untrusted "BuildPaths of '$top!out' refused by rule targets: 4097 targets in one build, more than the limit of 4096" \
		"$top" -- hello u:9 u:4097 "r:4097:$top!out" u:0
	dtop=$(nb_host_drv nb-riscv-dep 'system = "riscv64-linux";')
	dep=$(bed_host nix-store -q --references "$dtop" | grep -- '-nb-riscv-dep-dep.drv$')
	nb_refused systems/input-drv sys "BuildPaths of '$dep' refused by rule systems: it is for system riscv64-linux; this key may build for: $SYS" \
		"$dtop" -- hello u:9 u:1 "s:$dtop!out" u:0
	# the same requests accepted: BuildPaths answers 1, and
	# BuildPathsWithResults one result, Built (0), for the target
	wsend sys hello u:9 u:1 "s:$top!out" u:0
	if [ "$st" -eq 0 ] && nb_all_valid "$top" && perl -e 'local $/; my $b = <STDIN>; exit !($b =~ /stla\0{4}\x01\0{7}$/s)' < "$B/w.out"; then
		ok accepted/build-paths
	else
		bad accepted/build-paths "exit status $st: $(head -c 300 "$B/w.err")"
	fi
	top2=$(nb_host_drv nb-results '')
	wsend untrusted hello u:46 u:1 "s:$top2!out" u:0
	if [ "$st" -eq 0 ] && nb_all_valid "$top2" && perl -e 'local $/; my $b = <STDIN>; my $t = $ARGV[0];
		exit !($b =~ /stla\0{4}\x01\0{7}.\0{7}\Q$t\E\0*\0{8}/s)' "$top2!out" < "$B/w.out"; then
		ok accepted/build-results
	else
		bad accepted/build-results "exit status $st: $(head -c 300 "$B/w.err")"
	fi
}
nb_all_valid() {
	for o in $(bed_host nix-store -q --outputs "$@"); do
		host_valid "$o" || return 1
	done
}

# BuildDerivation of an input-addressed derivation sent inline by an
# untrusted key: the output path it claims is its word alone.
t_nb_inline() {
	d=$(nb_client_drv nb-inline)
	o=$(nix-store -q --outputs "$d")
	nb_refused inline/claimed-outputs untrusted "BuildDerivation of '$d' refused by rule build: it is input-addressed, and nothing proves the output paths the client claims for it; a trusted key can build it, or copy the .drv to the host and build it by path (nix-store --realise over ssh, or the nixgate build hook)" \
		-- hello u:36 "s:$d" u:1 s:out "s:$o" s: s: u:0 "s:$SYS" s:/bin/sh u:2 s:-c "s:echo x > \$out" u:1 s:out "s:$o" u:0
	if host_valid "$o"; then bad inline/not-built "the output is valid"; fi
	# the same request from a trusted key: built, Built (0) answered
	wsend gate hello u:36 "s:$d" u:1 s:out "s:$o" s: s: u:0 "s:$SYS" s:/bin/sh u:2 s:-c "s:echo x > \$out" u:1 s:out "s:$o" u:0
	if [ "$st" -eq 0 ] && host_valid "$o" && perl -e 'local $/; my $b = <STDIN>; exit !($b =~ /stla\0{4}\0{8}/s)' < "$B/w.out"; then
		ok inline/trusted
	else
		bad inline/trusted "exit status $st: $(head -c 300 "$B/w.err")"
	fi
}

# BuildDerivation of a fixed-output derivation sent inline by an untrusted
# key: refused while an input source is not on the host (the daemon would
# otherwise build around it), built once it is.
t_nb_inline_inputs() {
	leaf=$(client_add nb-fod-leaf "leaf of a fixed output")
	h=$(printf 'fod\n' | sha256sum | cut -d' ' -f1)
	d=$(nix-instantiate --expr "derivation { name = \"nb-fod\"; system = builtins.currentSystem; builder = \"/bin/sh\";
		args = [\"-c\" \"printf 'fod\\\\n' > \$out\"]; src = builtins.storePath \"$leaf\";
		outputHashAlgo = \"sha256\"; outputHashMode = \"flat\"; outputHash = \"$h\"; }" 2> /dev/null)
	o=$(nix-store -q --outputs "$d")
	set -- hello u:36 "s:$d" u:1 s:out "s:$o" s:sha256 "s:$h" u:1 "s:$leaf" "s:$SYS" s:/bin/sh u:2 s:-c \
		"s:printf 'fod\\n' > \$out" u:2 s:out "s:$o" s:src "s:$leaf" u:0
	nb_refused inline/input-missing untrusted "BuildDerivation of '$d' refused by rule build: its input $leaf is not valid on the host" \
		-- "$@"
	if host_valid "$o"; then bad inline/input-missing-not-built "the output is valid"; fi
	nix copy --to ssh://untrusted "$leaf" > /dev/null 2>&1
	wsend untrusted "$@"
	if [ "$st" -eq 0 ] && host_valid "$o" && [ "$(bed_host cat "$o")" = fod ]; then
		ok inline/input-valid
	else
		bad inline/input-valid "exit status $st: $(head -c 300 "$B/w.err")"
	fi
}

# AddSignatures from an untrusted key: only signatures it can show are by
# its trusted-public-keys' keys; a trusted key's go to the daemon.
t_nb_signatures() {
	p=$(client_add nb-sig "signed")
	nix copy --to ssh://gate "$p" > /dev/null 2>&1
	sig="cache.example.org-1:$(printf 'A%.0s' $(seq 86))=="
	wrefused sigs/unverified untrusted 100 "AddSignatures of '$p' refused by rule signatures: signature $(printf '%.80s' "$sig") is not a valid one by a key of this key's trusted-public-keys" \
		hello u:37 "s:$p" u:1 "s:$sig"
	wsend gate hello u:37 "s:$p" u:1 "s:$sig"
	if [ "$st" -eq 0 ] && bed_host nix path-info --sigs "$p" > "$B/sigs.out" 2>&1 && grep -qF "$sig" "$B/sigs.out"; then
		ok sigs/trusted
	else
		bad sigs/trusted "exit status $st: $(head -c 300 "$B/w.err") $(head -c 300 "$B/sigs.out")"
	fi
}

# QueryRealisation: an id that is not a DrvOutput id is refused before the
# daemon. (A well-formed one reaches the daemon, which without the
# ca-derivations feature, as on the bed's host, drops the connection: Nix
# clients ask only when they use that feature.)
t_nb_realisation() {
	wrefused realisation/bad-id untrusted 100 "'sha256:00!out' is not a DrvOutput id (sha256:<hash>!<output>)" \
		hello u:43 "s:sha256:00!out"
}
