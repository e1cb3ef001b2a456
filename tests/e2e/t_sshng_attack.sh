# ssh-ng:// (the worker protocol) attacked by a key that is not trusted:
# what it could get built, held or registered on the host that its policy
# forbids. What held is kept here, each refusal beside its honest case.
SYS="$(uname -m)-linux"
bed_key ngslow "$B/bin/nixgate-serve --key ngslow --max-build-time 6 --audit-log none"
nix-store --generate-binary-cache-key na-key-1 "$B/ngk.sec" "$B/ngk.pub"
bed_key ngsigned "$B/bin/nixgate-serve --key ngsigned --trusted-public-key $(cat "$B/ngk.pub") --audit-log none"

# A derivation on the host whose builder writes log lines of 8000 bytes
# without end; the .drv path.
na_chatty_drv() { # NAME
	cat > "$B/$1.nix" <<-NIX
	derivation { name = "$1"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "l=\$(printf %8000s x); while :; do echo \"\$l\"; done" ]; }
	NIX
	bed_host nix-instantiate "$B/$1.nix" 2> /dev/null
}

# A client that reads its stream slowly, a few hundred bytes a second,
# while the build writes log fast: the monitor must not wait on the client
# for the log, or it stops reading the daemon, whose worker then blocks on
# its log with the build's clocks stopped. The build ends at
# max-build-time whatever the client reads.
t_log_slow_reader() {
	d=$(na_chatty_drv na-chatty)
	wbytes hello u:9 u:1 "s:$d!out" u:0 > "$B/w.in"
	# the client: its request, then 40 s of an open stream it reads slowly
	{ cat "$B/w.in"; sleep 40; } | ssh -F "$B/ssh_config" ngslow nix-daemon --stdio 2> "$B/w.err" |
		perl -e '$SIG{ALRM} = sub { exit 0 }; alarm 40; while (sysread STDIN, $b, 256) { select undef, undef, undef, 1 }' 2> /dev/null &
	reader=$!
	sleep 3
	if ! na_builder_runs; then
		bad log/slow-reader "the build did not start"
	else
		# max-build-time 6 s and the grace of nixgate's hang-up: gone by 20 s
		for i in $(seq 17); do
			na_builder_runs || break
			sleep 1
		done
		if na_builder_runs; then
			bad log/slow-reader "the build still runs 20 s after it started (max-build-time 6 s)"
		else
			ok log/slow-reader
		fi
	fi
	wait $reader
}
# The chatty builder running on the host (anchored: this grep's own
# arguments name it too).
na_builder_runs() { bed_host ps -eo args | grep -q '^sh -c l=.*printf %8000s'; }

# AddSignatures from a key that is not trusted: a signature by a key of
# its trusted-public-keys, but over another path's fingerprint, is refused
# and not added; the path's own is added.
t_sigs_other_path() {
	printf 'signed on both sides\n' > "$B/na-sig"
	a=$(bed_host nix-store --add "$B/na-sig")
	[ "$a" = "$(nix-store --add "$B/na-sig")" ] || { bad sigs/setup "the path differs between host and client"; return; }
	o=$(client_add na-sig-other "another path")
	nix store sign --key-file "$B/ngk.sec" "$o" "$a" > /dev/null 2>&1
	so=$(nix path-info --sigs "$o" | tr ' ' '\n' | grep '^na-key-1:')
	sa=$(nix path-info --sigs "$a" | tr ' ' '\n' | grep '^na-key-1:')
	wrefused sigs/other-path ngsigned 100 \
		"AddSignatures of '$a' refused by rule signatures: signature $(printf %.80s "$so") is not a valid one by a key of this key's trusted-public-keys" \
		hello u:37 "s:$a" u:1 "s:$so"
	if bed_host nix path-info --sigs "$a" | grep -q na-key-1; then bad sigs/other-path-not-added "it was added"; fi
	wsend ngsigned hello u:37 "s:$a" u:1 "s:$sa"
	if [ "$st" -eq 0 ] && bed_host nix path-info --sigs "$a" | grep -qF "$sa"; then
		ok sigs/own-path
	else
		bad sigs/own-path "exit status $st: $(head -c 300 "$B/w.err" | tr '\n' '|')"
	fi
}

# A key whose policy says substitute=false: a path the host's binary cache
# has (signed by a key the host trusts) is not fetched by EnsurePath, by
# BuildPaths of the path alone, nor by QueryValidPaths asked to
# substitute; each request fails or answers "not valid", the session goes
# on, the host store strictly as it was. The same EnsurePath from a key
# that may substitute fetches it.
bed_key nosubst "$B/bin/nixgate-serve --key nosubst --no-substitute --audit-log none"
t_no_substitute() {
	p=$(client_add na-cached "in the host's cache only")
	nix copy --to "file://$B/cache?secret-key=$B/cache-key.sec" "$p" 2> /dev/null
	host_valid "$p" && { bad subst/setup "$p is valid on the host already"; return; }
	for req in "ensure:u:10 s:$p" "build:u:9 u:1 s:$p u:0" "valid:u:31 u:1 s:$p u:1"; do
		n=${req%%:*}
		before=$(store_strict)
		# shellcheck disable=SC2086
		wsend nosubst hello ${req#*:}
		if host_valid "$p"; then
			bad "subst/$n-refused" "$p was substituted (exit status $st)"
		elif [ "$before" != "$(store_strict)" ]; then
			bad "subst/$n-refused" "the host store changed"
		elif [ "$st" -ne 0 ]; then
			bad "subst/$n-refused" "exit status $st: $(head -c 300 "$B/w.err" | tr '\n' '|')"
		else
			ok "subst/$n-refused"
		fi
	done
	wsend untrusted hello u:10 "s:$p"
	if [ "$st" -eq 0 ] && host_valid "$p"; then
		ok subst/ensure-allowed
	else
		bad subst/ensure-allowed "exit status $st: $(head -c 300 "$B/w.err" | tr '\n' '|')"
	fi
}

# BuildPaths targets naming outputs in each form the worker protocol
# has (drv!out, drv!*, drv!out,dev, its other output alone): the
# key's rules read every derivation the daemon would build for each, here
# an input for a system the key may not build; a name of odd characters is
# no target at all (honest builds: t_sshng_build.sh).
bed_key sysonly "$B/bin/nixgate-serve --key sysonly --systems $SYS --audit-log none"
t_target_forms() {
	cat > "$B/na-forms.nix" <<-NIX
	let dep = derivation { name = "na-forms-dep"; system = "riscv64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > \$out" ]; };
	in derivation { name = "na-forms"; system = builtins.currentSystem; builder = "/bin/sh";
	  outputs = [ "out" "dev" ]; args = [ "-c" "echo \${dep} > \$out; echo > \$dev" ]; }
	NIX
	top=$(bed_host nix-instantiate "$B/na-forms.nix" 2> /dev/null)
	dep=$(bed_host nix-store -q --references "$top" | grep 'na-forms-dep.drv$')
	for t in 'out' '*' 'out,dev' 'dev'; do
		wrefused "forms/$t" sysonly 100 \
			"BuildPaths of '$dep' refused by rule systems: it is for system riscv64-linux; this key may build for: $SYS" \
			hello u:9 u:1 "s:$top!$t" u:0
	done
	wrefused forms/odd-name sysonly 100 "build path '$top!o\$t' has an invalid output name" \
		hello u:9 u:1 "s:$top!o\$t" u:0
	for o in $(bed_host nix-store -q --outputs "$top" "$dep"); do
		host_valid "$o" && bad forms/nothing-built "$o was built"
	done
}
