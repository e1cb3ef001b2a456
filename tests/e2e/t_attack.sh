# Attacks by a key that is not trusted, found after issue 14's work: each
# test asserts the safe outcome (a refusal with exit status 100 and one
# line naming key, request, path and rule, and the host store exactly as it
# was, .lock files included), beside the honest request that still works.
SYS="$(uname -m)-linux"

# judge NAME PATH PATTERN: the refusal just seen, PATTERN a grep -x one
# for the line after "nixgate-serve: ", @P@ in it the path
judge() {
	local n=$1 p=$2 want
	want=$(printf '%s' "$3" | sed "s|@P@|$p|g")
	if [ "$st" -ne 100 ] || [ "$(errlines "$B/h.err")" -ne 1 ] || ! grep -qx "nixgate-serve: $want" "$B/h.err"; then
		bad "$n" "store $([ "$before" = "$(store_strict)" ] && echo unchanged || echo CHANGED), exit status $st: $(head -c 300 "$B/h.err" | tr '\n' '|')"
	elif [ -n "$p" ] && host_valid "$p"; then
		bad "$n" "refused, but $p is valid on the host"
	elif [ "$before" != "$(store_strict)" ]; then
		bad "$n" "the host store changed: $(bed_host ls -a /nix/store | grep -F "${p#/nix/store/}" | head -3 | tr '\n' ' ')"
	else
		ok "$n"
	fi
}
M=@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@

# A text: file that holds its own hash part without listing itself: nixgate
# hashed text: modulo the hash part (as fixed: is), the daemon hashes the
# plain contents, refuses, and leaves the file in the store.
t_text_hidden_self() {
	h_refused text-hidden-self untrusted \
		"key untrusted: AddToStoreNar of '@P@' refused by rule import: its content is not what its content address says: sha256 of its file is [0-9a-f]*" \
		--name hidden --node file:"x${M}y" --ca text --self-marks
	h_accepted text-plain untrusted --name hidden --node file:"x y" --ca text
}

# A NAR of directories nested so deep that their path is longer than the
# kernel's PATH_MAX: nixgate's parser takes it (each name is short enough,
# the depth within its bound), the daemon's restore fails half way with
# "File name too long" and leaves the directories it made in the store.
deep_nar() { # FILE DEPTH: DEPTH directories of 200-byte names, a file inside
	perl -e '
		sub str { my $s = shift; pack("Q<", length $s) . $s . ("\0" x ((8 - length($s) % 8) % 8)) }
		sub tok { join "", map { str($_) } @_ }
		my ($depth) = @ARGV;
		my $in = tok("(", "type", "regular", "contents", "deep", ")");
		for (1 .. $depth) { $in = tok("(", "type", "directory", "entry", "(", "name", "d" x 200, "node") . $in . tok(")", ")"); }
		binmode STDOUT;
		print tok("nix-archive-1") . $in;' "$2" > "$1"
}
t_deep_nar() {
	deep_nar "$B/deep.nar" 21
	h_refused deep-path untrusted \
		"key untrusted: AddToStoreNar of '@P@' refused by rule nar: invalid NAR: a file's path inside it is longer than 3840 bytes, .*" \
		--name deep --node nar:"$B/deep.nar" --ca fixed:r:sha256
	deep_nar "$B/deep-ok.nar" 17
	h_accepted deep-path-ok untrusted --name deep --node nar:"$B/deep-ok.nar" --ca fixed:r:sha256
}

# serve_build MINOR PATH...: the serve-protocol bytes of a hello and one
# BuildPaths of the paths, no limits asked for.
serve_build() {
	perl -e '
		sub u64 { pack "Q<", $_[0] }
		sub str { my $s = shift; u64(length $s) . $s . ("\0" x ((8 - length($s) % 8) % 8)) }
		binmode STDOUT;
		print u64(0x390c9deb) . u64(0x200 + shift) . u64(6) . u64(scalar @ARGV) . join("", map { str($_) } @ARGV) .
			u64(0) x 6;' "$@"
}
# ps lines of the sessions of KEY: each session's monitor, not its parser
# (the monitor's child); the sanitizer build's name is cut to 15 characters
gate_procs() {
	ps -eo pid=,ppid=,comm=,args= |
		awk -v k="--key $1 " '($3 == "nixgate-serve" || $3 == "asan-nixgate-se") && index($0, k) {
			line[$1] = $0; parent[$1] = $2 }
		END { for (p in line) if (!(parent[p] in line)) print line[p] }'
}

# A client that asks for a build and goes away (its connection dropped)
# while the build runs: Nix's daemon ends the builds of a client that
# hangs up, but nixgate kept its connection to the daemon open and waited
# for the build's end, so a key with no max-build-time could leave builds
# running, and holding their slots, for as long as they like.
t_client_gone() {
	cat > "$B/gone.nix" <<-NIX
	derivation { name = "gone"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "/bin/sleep 8; echo late > \$out" ]; }
	NIX
	d=$(bed_host nix-instantiate "$B/gone.nix" 2>/dev/null)
	o=$(bed_host nix-store -q --outputs "$d")
	serve_build 7 "$d!out" > "$B/gone.in"
	(cat "$B/gone.in"; sleep 14) | ssh -F "$B/ssh_config" untrusted nix-store --serve --write > /dev/null 2>&1 &
	spid=$!
	sleep 2
	kill "$spid" 2>/dev/null
	sleep 10
	if host_valid "$o"; then
		bad client-gone-build-ended "the build of a client that went away ran to its end: $o is valid"
	elif [ -n "$(gate_procs untrusted)" ]; then
		bad client-gone-build-ended "nixgate-serve still runs: $(gate_procs untrusted | tr '\n' '|')"
	else
		ok client-gone-build-ended
	fi
	wait "$spid" 2>/dev/null
}

# A client that goes away while its session waits for a build slot: the
# wait polled the slots every 200 ms for as long as it took, and then ran
# the build for no one. The session ends when the client is gone.
t_slot_wait_gone() {
	bed_key slot1 "$B/bin/nixgate-serve --key slot1 --max-jobs 1 --state-dir $B/home/state-slot1 --audit-log none"
	for n in a b; do
		cat > "$B/slot-$n.nix" <<-NIX
		derivation { name = "slot-$n"; system = builtins.currentSystem; builder = "/bin/sh";
		  args = [ "-c" "/bin/sleep 8; echo $n > \$out" ]; }
		NIX
	done
	da=$(bed_host nix-instantiate "$B/slot-a.nix" 2>/dev/null)
	db=$(bed_host nix-instantiate "$B/slot-b.nix" 2>/dev/null)
	serve_build 7 "$da!out" > "$B/slot-a.in"
	serve_build 7 "$db!out" > "$B/slot-b.in"
	(cat "$B/slot-a.in"; sleep 12) | ssh -F "$B/ssh_config" slot1 nix-store --serve --write > /dev/null 2>&1 &
	apid=$!
	sleep 1
	(cat "$B/slot-b.in"; sleep 12) | ssh -F "$B/ssh_config" slot1 nix-store --serve --write > /dev/null 2> "$B/slot-b.err" &
	bpid=$!
	sleep 1
	grep -q "waiting for a build slot" "$B/slot-b.err" || bad slot-wait-gone "the second session did not wait: $(tr '\n' '|' < "$B/slot-b.err")"
	kill "$bpid" 2>/dev/null
	sleep 3
	if [ "$(gate_procs slot1 | wc -l)" -ne 1 ]; then
		bad slot-wait-gone "the session of the client that went away still waits: $(gate_procs slot1 | tr '\n' '|')"
	else
		ok slot-wait-gone
	fi
	wait "$apid" 2>/dev/null
	o=$(bed_host nix-store -q --outputs "$db")
	if host_valid "$o"; then
		bad slot-wait-gone-not-built "the build of the client that went away ran: $o is valid"
	else
		ok slot-wait-gone-not-built
	fi
}

# The registration time of an import is the client's word, and nixgate
# passed it on: a key that is not trusted dated the paths it added (here
# to 1970), which nothing verifies. Its imports are registered when the
# host adds them; a trusted key's keep the time it sends.
t_regtime() {
	p=$(hpath --name dated --node file:dated --ca text)
	hsend untrusted --name dated --node file:dated --ca text --regtime 1000
	t=$(bed_host nix path-info --json "$p" 2>/dev/null | sed -n 's/.*"registrationTime":\([0-9]*\).*/\1/p')
	if [ "$st" -ne 0 ] || [ -z "$t" ]; then
		bad untrusted-regtime "exit status $st, registration time '$t': $(head -c 300 "$B/h.err" | tr '\n' '|')"
	elif [ "$t" -lt "$(($(date +%s) - 600))" ]; then
		bad untrusted-regtime "registered with the client's time $t"
	else
		ok untrusted-regtime
	fi
	p=$(hpath --name dated-t --node file:dated --ca text)
	hsend gate --name dated-t --node file:dated --ca text --regtime 1000
	t=$(bed_host nix path-info --json "$p" 2>/dev/null | sed -n 's/.*"registrationTime":\([0-9]*\).*/\1/p')
	if [ "$st" -eq 0 ] && [ "$t" = 1000 ]; then
		ok trusted-regtime
	else
		bad trusted-regtime "exit status $st, registration time '$t'"
	fi
}

# The policy read the daemon's plan (QueryMissing), which counts an output
# the host's cache has a narinfo for as substituted; but a substitute the
# host does not accept (no signature by a key it trusts, here) comes to
# "no substituters", and Nix then builds the derivation, and its inputs,
# none of which the plan listed or nixgate read. Here the input sets
# __noChroot and the top's output is in the host's cache, unsigned.
t_unsigned_substitute() {
	hb_closure_nc() {
		cat > "$1" <<-NIX
		let dep = derivation { name = "$2-dep"; system = builtins.currentSystem; builder = "/bin/sh";
		  args = [ "-c" "echo dep > \$out" ]; __noChroot = true; };
		in derivation { name = "$2-top"; system = builtins.currentSystem; builder = "/bin/sh";
		  args = [ "-c" "read x < \${dep}; echo \"top \$x\" > \$out" ]; }
		NIX
	}
	hb_closure_nc "$B/us.nix" us
	top=$(nix-instantiate "$B/us.nix" 2>/dev/null)
	out=$(nix-store -r "$top" 2>/dev/null)
	nix copy --to "file://$B/cache" "$out" 2>/dev/null
	htop=$(bed_host nix-instantiate "$B/us.nix" 2>/dev/null)
	dep=$(bed_host nix-store -q --references "$htop" | grep -- '-us-dep.drv$')
	before=$(store_strict)
	"$B/bin/sclient" 7 build "$htop!out" -- ssh -F "$B/ssh_config" untrusted nix-store --serve --write > "$B/us.out" 2> "$B/us.err"
	if [ -n "$(for o in $(bed_host nix-store -q --outputs "$dep"); do host_valid "$o" && echo "$o"; done)" ]; then
		bad unsigned-substitute-input-checked "the __noChroot input was built: $(cat "$B/us.out" "$B/us.err" | cut -c 1-200 | tr '\n' '|')"
	elif grep -qx "status 1" "$B/us.out" && [ "$(errlines "$B/us.err")" = 1 ] &&
	     grep -q "^nixgate-serve: key untrusted: BuildPaths of '$htop!out' refused by rule substitute: a substitute it counts on failed" "$B/us.err" &&
	     [ "$before" = "$(store_strict)" ]; then
		ok unsigned-substitute-input-checked
	else
		bad unsigned-substitute-input-checked "$(cat "$B/us.out" "$B/us.err" | cut -c 1-200 | tr '\n' '|')"
	fi
}

# requiredSystemFeatures is split by Nix at spaces, tabs, newlines and
# carriage returns; nixgate split it at the first three only, so
# recursive-nix after a carriage return was not seen by the sandbox rule
# (a host with recursive-nix would have given the builder a store).
t_features_cr() {
	cat > "$B/cr.nix" <<-NIX
	derivation { name = "cr"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "echo > \$out" ]; requiredSystemFeatures = "big-parallel\rrecursive-nix"; }
	NIX
	d=$(bed_host nix-instantiate "$B/cr.nix" 2>/dev/null)
	want="key untrusted: BuildPaths of '$d' refused by rule sandbox: it requires the feature recursive-nix, which gives the builder a store to add to; only a trusted key may"
	before=$(store_strict)
	"$B/bin/sclient" 7 build "$d!out" -- ssh -F "$B/ssh_config" untrusted nix-store --serve --write > "$B/cr.out" 2> "$B/cr.err"
	if [ "$(cat "$B/cr.out")" = "$(printf 'server-version 2.8\nstatus 1\nerror %s\nexit 0' "$want")" ] &&
	   [ "$(errlines "$B/cr.err")" = 1 ] && grep -qxF "nixgate-serve: $want" "$B/cr.err" && [ "$before" = "$(store_strict)" ]; then
		ok features-carriage-return
	else
		bad features-carriage-return "$(cat "$B/cr.out" "$B/cr.err" | cut -c 1-240 | tr '\n' '|')"
	fi
}

# impureEnvVars hands a fixed-output build the named variables of the
# daemon's own environment (Nix reads them with getenv in the daemon's
# worker), which can hold a host's secrets (the AWS keys of an S3 cache);
# a fixed-output build also has the network, or a hash mismatch registers
# what it wrote. Here the build copies the daemon's NIX_CONF_DIR
# (/etc/nix) into its output, whose hash says so: it must not build.
t_impure_env() {
	h=$(printf /etc/nix | sha256sum | cut -d' ' -f1)
	cat > "$B/ie.nix" <<-NIX
	derivation { name = "ie"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "printf %s \"\$NIX_CONF_DIR\" > \$out" ]; impureEnvVars = [ "NIX_CONF_DIR" ];
	  outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = "$h"; }
	NIX
	d=$(nix-instantiate "$B/ie.nix" 2>/dev/null)
	o=$(nix-store -q --outputs "$d")
	nix-build --no-out-link --max-jobs 0 --builders "ssh://untrusted $SYS - 1 1" "$B/ie.nix" > "$B/ie.out" 2>&1
	if host_valid "$o"; then
		bad impure-env-daemon-secret "the daemon's NIX_CONF_DIR reached the build: $o is valid on the host"
	else
		ok impure-env-daemon-secret
	fi
}

# The plan is read before the session waits for a slot, and the daemon
# builds after: an input whose outputs were valid at the plan (so not read
# by the rules) and are gone by the build (a garbage collection in the
# wait; here nix-store --delete) is built. Its __noChroot must refuse it.
t_plan_then_gc() {
	bed_key slot2 "$B/bin/nixgate-serve --key slot2 --max-jobs 1 --state-dir $B/home/state-slot2 --audit-log none"
	cat > "$B/pg-hold.nix" <<-NIX
	derivation { name = "pg-hold"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "/bin/sleep 6; echo > \$out" ]; }
	NIX
	cat > "$B/pg.nix" <<-NIX
	let dep = derivation { name = "pg-dep"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "echo dep > \$out" ]; __noChroot = true; };
	in derivation { name = "pg-top"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "read x < \${dep}; echo \"top \$x\" > \$out" ]; }
	NIX
	hold=$(bed_host nix-instantiate "$B/pg-hold.nix" 2>/dev/null)
	top=$(bed_host nix-instantiate "$B/pg.nix" 2>/dev/null)
	dep=$(bed_host nix-store -q --references "$top" | grep -- '-pg-dep.drv$')
	depout=$(bed_host nix-store -r "$dep" 2>/dev/null)
	host_valid "$depout" || { bad plan-then-gc "the input could not be made valid first"; return; }
	serve_build 7 "$hold!out" > "$B/pg-hold.in"
	serve_build 7 "$top!out" > "$B/pg-top.in"
	(cat "$B/pg-hold.in"; sleep 10) | ssh -F "$B/ssh_config" slot2 nix-store --serve --write > /dev/null 2>&1 &
	apid=$!
	sleep 1
	(cat "$B/pg-top.in"; sleep 12) | ssh -F "$B/ssh_config" slot2 nix-store --serve --write > "$B/pg.out" 2> "$B/pg.err" &
	bpid=$!
	sleep 1
	bed_host nix-store --delete "$depout" > /dev/null 2>&1
	host_valid "$depout" && { bad plan-then-gc "the input's output could not be deleted"; return; }
	wait "$apid" "$bpid" 2>/dev/null
	if host_valid "$depout"; then
		bad plan-then-gc "the __noChroot input was built after the plan: $(tr '\n' '|' < "$B/pg.err" | cut -c 1-300)"
	elif grep -qx "nixgate-serve: key slot2: BuildPaths of '$dep' refused by rule sandbox: it uses __noChroot, which weakens the build sandbox; only a trusted key may" "$B/pg.err"; then
		ok plan-then-gc
	else
		bad plan-then-gc "not refused: $(tr '\n' '|' < "$B/pg.err" | cut -c 1-300)"
	fi
}

# QueryValidPaths with its substitute flag makes the daemon substitute the
# paths it is asked about: a key allowed only to query put paths into the
# host store that way. Substituting is adding paths: it needs import or
# build. The same request from an untrusted key with both still does.
serve_valid_subst() { # PATH...: hello, QueryValidPaths(lock 0, substitute 1)
	perl -e '
		sub u64 { pack "Q<", $_[0] }
		sub str { my $s = shift; u64(length $s) . $s . ("\0" x ((8 - length($s) % 8) % 8)) }
		binmode STDOUT;
		print u64(0x390c9deb) . u64(0x207) . u64(1) . u64(0) . u64(1) . u64(scalar @ARGV) . join("", map { str($_) } @ARGV);' "$@"
}
t_query_substitutes() {
	bed_key qonly "$B/bin/nixgate-serve --key qonly --allow query --audit-log none"
	for k in qonly untrusted; do
		p=$(client_add "qs-$k" "substituted for $k")
		nix copy --to "file://$B/cache?secret-key=$B/cache-key.sec" "$p" 2>/dev/null
		serve_valid_subst "$p" | ssh -F "$B/ssh_config" $k nix-store --serve --write > "$B/qs.out" 2> "$B/qs.err"
		if [ $k = qonly ] && host_valid "$p"; then
			bad query-only-no-substitute "a key that may only query had $p substituted"
		elif [ $k = qonly ]; then
			ok query-only-no-substitute
		elif host_valid "$p"; then
			ok untrusted-query-substitutes
		else
			bad untrusted-query-substitutes "$p not substituted: $(head -c 200 "$B/qs.err")"
		fi
	done
}

# Sessions cost the host each a daemon worker, a spool of up to max-nar-size
# and temporary roots, and a client opens as many as it likes. With
# max-sessions 1 a second session while the first is open is refused before
# it reaches the daemon, and the audit log says so; once the first ends, a
# new one is served.
t_max_sessions() {
	bed_key msess "$B/bin/nixgate-serve --key msess --max-sessions 1 --state-dir $B/home/state --audit-log $B/home/msess.log"
	rm -f "$B/msess.in"; mkfifo "$B/msess.in"
	ssh -F "$B/ssh_config" msess nix-store --serve --write < "$B/msess.in" > /dev/null 2>&1 & spid=$!
	exec 3> "$B/msess.in"
	perl -e 'binmode STDOUT; print pack("Q<*", 0x390c9deb, 0x207)' >&3
	for i in $(seq 50); do grep -q 'op=session' "$B/home/msess.log" 2>/dev/null && break; sleep 0.1; done
	"$B/bin/sclient" 7 valid /nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-x -- ssh -F "$B/ssh_config" msess nix-store --serve \
		> "$B/ms.out" 2> "$B/ms.err"
	if grep -qx "exit 100" "$B/ms.out" &&
	   one_line "$B/ms.err" "key msess: session refused by rule max-sessions: this key has all its 1 sessions open" &&
	   grep -q "key=msess op=session result=refused rule=max-sessions" "$B/home/msess.log"; then
		ok max-sessions/second-refused
	else
		bad max-sessions/second-refused "$(cat "$B/ms.out" "$B/ms.err" | tr '\n' '|')"
	fi
	exec 3>&-
	wait "$spid"
	"$B/bin/sclient" 7 valid /nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-x -- ssh -F "$B/ssh_config" msess nix-store --serve \
		> "$B/ms.out" 2> "$B/ms.err"
	if grep -qx "exit 0" "$B/ms.out"; then
		ok max-sessions/after-the-first
	else
		bad max-sessions/after-the-first "$(cat "$B/ms.out" "$B/ms.err" | tr '\n' '|')"
	fi
}
