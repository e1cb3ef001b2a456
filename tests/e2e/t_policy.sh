# The per-key policy through sshd and the real Nix client: what untrusted,
# read-only and capped keys may do, that every refusal leaves the host store
# as it was, policy-file errors, and the audit log.
SYS="$(uname -m)-linux"
nix-store --generate-binary-cache-key client-key-1 "$B/ck.sec" "$B/ck.pub"
nix-store --generate-binary-cache-key other-key-1 "$B/ok.sec" "$B/ok.pub"
# same name as the listed key, another secret: its signatures do not verify
nix-store --generate-binary-cache-key client-key-1 "$B/fake.sec" "$B/fake.pub"
AUDIT="$B/home/audit.log"
cat > "$B/policy.conf" <<CONF
# the test bed's policy
audit-log = $AUDIT

[key signed]
trusted-public-keys = $(cat "$B/ck.pub")

[key ro]
trusted = true
allow = query, export

[key capped]
trusted = true
systems = $SYS
features = big-parallel   # kvm is not here
max-nar-size = 64K
max-build-time = 4s
max-silent-time = 2s
max-log-size = 4K

[key noquery]
trusted = true
allow = export, import, build

[key noexport]
trusted = true
allow = query, import, build
CONF
serve="$B/bin/nixgate-serve --policy $B/policy.conf"
bed_key signed "$serve --key signed"
bed_key ro "$serve --key ro"
bed_key capped "$serve --key capped"
bed_key noquery "$serve --key noquery"
bed_key noexport "$serve --key noexport"
bed_key slots "$B/bin/nixgate-serve --key slots --trusted --max-jobs 1 --state-dir $B/home/state --audit-log none"
bed_key nosubst "$B/bin/nixgate-serve --key nosubst --trusted --no-substitute --audit-log none"

# refused NAME PATTERN PATH COMMAND...: the command fails saying PATTERN,
# and PATH is not valid on the host
refused() {
	n=$1; pat=$2; p=$3; shift 3
	f="$B/$(echo "$n" | tr / -).out"
	if "$@" > "$f" 2>&1; then
		bad "$n" "it was accepted"
	elif ! grep -q "$pat" "$f"; then
		bad "$n" "$(tail -n 3 "$f" | tr '\n' ' ')"
	elif host_valid "$p"; then
		bad "$n" "refused, but $p is valid on the host"
	else
		ok "$n"
	fi
}

# copy_refused NAME KEY PATH PATTERN: nix copy fails with PATTERN, path not on the host
copy_refused() { refused "$1" "$4" "$3" nix copy --to "ssh://$2" "$3"; }

t_unsigned_refused() {
	p=$(client_ia unsigned-ia unsigned)
	copy_refused untrusted/unsigned untrusted "$p" \
		"key untrusted: AddToStoreNar of '$p' refused by rule import: it is not content-addressed and has no signature"
}

t_exit_status() {
	# the raw session: ImportPaths of an unsigned input-addressed path
	p=$(client_ia exit-status exit)
	nix-store --export "$p" > "$B/es.export"
	"$B/bin/sclient" 7 import "$B/es.export" -- ssh -F "$B/ssh_config" untrusted nix-store --serve --write \
		> "$B/es.out" 2> "$B/es.err"
	if grep -qx "exit 100" "$B/es.out" && grep -q "ImportPaths refused by rule import" "$B/es.err" &&
	   ! host_valid "$p"; then
		ok refusal-exit-100
	else
		bad refusal-exit-100 "$(cat "$B/es.out" "$B/es.err" | tr '\n' ' ')"
	fi
}

t_signed_accepted() {
	p=$(client_ia signed-ia signed)
	nix store sign --key-file "$B/ck.sec" "$p" > /dev/null 2>&1
	if nix copy --to ssh://signed "$p" > "$B/out" 2>&1 && host_valid "$p" &&
	   bed_host nix path-info --sigs "$p" | grep -q "client-key-1:"; then
		ok signed/listed-key
	else
		bad signed/listed-key "$(tail -n 2 "$B/out" | tr '\n' ' ')"
	fi
}

t_signed_unlisted() {
	p=$(client_ia unlisted-ia unlisted)
	nix store sign --key-file "$B/ok.sec" "$p" > /dev/null 2>&1
	copy_refused signed/unlisted-key signed "$p" "signed only by keys this key does not trust (other-key-1)"
}

t_signed_corrupt() {
	p=$(client_ia corrupt-ia corrupt)
	nix store sign --key-file "$B/fake.sec" "$p" > /dev/null 2>&1
	copy_refused signed/bad-signature signed "$p" "its signature (client-key-1) does not verify"
}

t_ca_accepted() {
	p=$(client_add ca-untrusted "content-addressed")
	if nix copy --to ssh://untrusted "$p" > "$B/out" 2>&1 && host_valid "$p"; then
		ok untrusted/content-addressed
	else
		bad untrusted/content-addressed "$(tail -n 2 "$B/out" | tr '\n' ' ')"
	fi
}

t_ia_build_refused() {
	cat > "$B/ia.nix" <<-NIX
	derivation { name = "ia-remote"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "echo built > \$out" ]; }
	NIX
	o=$(nix-instantiate "$B/ia.nix" 2>/dev/null | xargs nix-store -q --outputs)
	if nix-build --no-out-link --max-jobs 0 --builders "ssh://untrusted $SYS - 1 1" "$B/ia.nix" > "$B/out" 2>&1; then
		bad untrusted/input-addressed-build "the build was accepted"
	elif grep -q "refused by rule build: it is input-addressed" "$B/out" && ! host_valid "$o"; then
		ok untrusted/input-addressed-build
	else
		bad untrusted/input-addressed-build "$(tail -n 3 "$B/out" | tr '\n' ' ')"
	fi
}

t_fod_build() {
	h=$(printf 'fixed output\n' | sha256sum | cut -d' ' -f1)
	cat > "$B/fod.nix" <<-NIX
	derivation { name = "fod-remote"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "if [ -e /nix/host-marker ]; then echo fixed output > \$out; fi" ];
	  outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = "$h"; }
	NIX
	if o=$(nix-build --no-out-link --max-jobs 0 --builders "ssh://untrusted $SYS - 1 1" "$B/fod.nix" 2> "$B/out") &&
	   [ "$(cat "$o")" = "fixed output" ] && host_valid "$o"; then
		ok untrusted/fixed-output-build
	else
		bad untrusted/fixed-output-build "$(tail -n 3 "$B/out" | tr '\n' ' ')"
	fi
}

# BuildPaths on a .drv in the host store: the daemon derives the outputs, so
# an untrusted key may ask for it.
t_untrusted_by_path() {
	cat > "$B/bypath.nix" <<-NIX
	derivation { name = "by-path"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo by path > \$out" ]; }
	NIX
	d=$(bed_host nix-instantiate "$B/bypath.nix" 2>/dev/null)
	o=$(bed_host nix-store -q --outputs "$d")
	"$B/bin/sclient" 7 build "$d!out" -- ssh -F "$B/ssh_config" untrusted nix-store --serve --write > "$B/ubp.out" 2>&1
	if grep -qx "status 0" "$B/ubp.out" && host_valid "$o"; then
		ok untrusted/build-by-path
	else
		bad untrusted/build-by-path "$(tr '\n' ' ' < "$B/ubp.out")"
	fi
}

t_readonly() {
	h=$(bed_host nix-store --add "$(printf 'on host\n' > "$B/ro-host"; echo "$B/ro-host")")
	p=$(client_add ro-import "read only")
	if nix copy --from ssh://ro "$h" > "$B/out" 2>&1 && [ "$(cat "$h")" = "on host" ]; then
		ok readonly/copy-from
	else
		bad readonly/copy-from "$(tail -n 2 "$B/out" | tr '\n' ' ')"
	fi
	copy_refused readonly/import ro "$p" "refused by rule allow: this key may only query,export"
	cat > "$B/robuild.nix" <<-NIX
	derivation { name = "ro-build"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo > \$out" ]; }
	NIX
	remote_refused readonly/build "$B/robuild.nix" "ssh://ro $SYS - 1 1" "refused by rule allow"
}

# remote_refused NAME NIXFILE BUILDERS PATTERN: the build fails with PATTERN and
# its output is not valid on the host
remote_refused() {
	refused "$1" "$4" "$(nix-instantiate "$2" 2>/dev/null | xargs nix-store -q --outputs)" \
		nix-build --no-out-link --max-jobs 0 --builders "$3" "$2"
}

t_systems() {
	cat > "$B/riscv.nix" <<-NIX
	derivation { name = "riscv"; system = "riscv64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > \$out" ]; }
	NIX
	remote_refused capped/systems "$B/riscv.nix" "ssh://capped riscv64-linux - 1 1" \
		"refused by rule systems: it is for system riscv64-linux; this key may build for: $SYS"
	# by path (BuildPaths): the host reads the .drv from its own store
	d=$(bed_host nix-instantiate "$B/riscv.nix" 2>/dev/null)
	"$B/bin/sclient" 7 build "$d!out" -- ssh -F "$B/ssh_config" capped nix-store --serve --write > "$B/bp.out" 2>&1
	if grep -qx "status 1" "$B/bp.out" && grep -q "BuildPaths of '$d' refused by rule systems" "$B/bp.out" &&
	   grep -qx "exit 0" "$B/bp.out"; then
		ok capped/systems-by-path
	else
		bad capped/systems-by-path "$(cat "$B/bp.out" | tr '\n' ' ')"
	fi
}

t_features() {
	cat > "$B/kvm.nix" <<-NIX
	derivation { name = "kvm"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo > \$out" ];
	  requiredSystemFeatures = [ "kvm" ]; }
	NIX
	remote_refused capped/features "$B/kvm.nix" "ssh://capped $SYS - 1 1 kvm,big-parallel" \
		"refused by rule features: it requires the feature kvm; this key may use: big-parallel"
}

t_max_nar_size() {
	head -c 100000 /dev/urandom > "$B/big-blob"
	p=$(nix-store --add "$B/big-blob")
	copy_refused capped/max-nar-size capped "$p" "refused by rule max-nar-size: the NAR of 100[0-9]* bytes is over the limit of 65536"
	small=$(client_add small-blob "small")
	check capped/under-max-nar-size nix copy --to ssh://capped "$small"
}

t_time_caps() {
	cat > "$B/slow.nix" <<-NIX
	derivation { name = "slow"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "i=0; while [ \$i -lt 40 ]; do echo tick \$i; i=\$((i+1)); /bin/sleep 0.5; done; echo > \$out" ]; }
	NIX
	remote_refused capped/max-build-time "$B/slow.nix" "ssh://capped $SYS - 1 1" "timed out after 4 seconds"
	cat > "$B/silent.nix" <<-NIX
	derivation { name = "silent"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "/bin/sleep 20; echo > \$out" ]; }
	NIX
	remote_refused capped/max-silent-time "$B/silent.nix" "ssh://capped $SYS - 1 1" "timed out after 2 seconds"
	cat > "$B/chatty.nix" <<-NIX
	derivation { name = "chatty"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "i=0; while [ \$i -lt 500 ]; do echo 0123456789012345678901234567890123456789; i=\$((i+1)); done; echo > \$out" ]; }
	NIX
	remote_refused capped/max-log-size "$B/chatty.nix" "ssh://capped $SYS - 1 1" "more than 4096 bytes of log output"
}

# With substitution off, the host does not take the path from its cache:
# the client sends it, so it lacks the cache's signature.
t_no_substitute() {
	printf 'nosubst\n' > "$B/nosub-in"
	o=$(bed_host nix-store --add "$B/nosub-in")
	bed_host nix store sign --key-file "$B/cache-key.sec" "$o" > /dev/null 2>&1 &&
	bed_host nix copy --to "file://$B/cache" "$o" > /dev/null 2>&1 &&
	bed_host nix-store --delete "$o" > /dev/null 2>&1
	nix-store --add "$B/nosub-in" > /dev/null
	cat > "$B/nosub.nix" <<-NIX
	derivation { name = "nosub"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "read x < \${builtins.storePath "$o"}; echo \"\$x\" > \$out" ]; }
	NIX
	if nix-build --no-out-link --max-jobs 0 --builders-use-substitutes --builders "ssh://nosubst $SYS - 1 1" \
		"$B/nosub.nix" > "$B/out" 2>&1 && host_valid "$o" && ! bed_host nix path-info --sigs "$o" | grep -q "bed-cache:"; then
		ok no-substitute
	else
		bad no-substitute "$(tail -n 3 "$B/out" | tr '\n' ' ')"
	fi
}

# max-jobs 1: of two builds at once, the second waits for the first, and
# NixgateInfo counts the running one
t_max_jobs() {
	for n in 1 2; do
		cat > "$B/slot$n.nix" <<-NIX
		derivation { name = "slot$n"; system = builtins.currentSystem; builder = "/bin/sh";
		  args = [ "-c" "/bin/sleep 3; echo $n > \$out" ]; }
		NIX
	done
	t0=$(date +%s)
	nix-build --no-out-link --max-jobs 0 --builders "ssh://slots $SYS - 2 1" "$B/slot1.nix" > "$B/slot1.out" 2>&1 & p1=$!
	sleep 1.5
	"$NIXGATE" ping ssh://slots > "$B/slotping" 2>&1
	nix-build --no-out-link --max-jobs 0 --builders "ssh://slots $SYS - 2 1" "$B/slot2.nix" > "$B/slot2.out" 2>&1 & p2=$!
	wait "$p1"; r1=$?
	wait "$p2"; r2=$?
	t=$(( $(date +%s) - t0 ))
	if [ "$r1" = 0 ] && [ "$r2" = 0 ] && [ "$t" -ge 6 ] && grep -q "waiting for a build slot (max-jobs 1" "$B/slot2.out" &&
	   grep -q "builds  *1$" "$B/slotping" && grep -q "max-jobs  *1$" "$B/slotping"; then
		ok max-jobs
	else
		bad max-jobs "exit $r1 $r2, $t s: $(tail -n 2 "$B/slot2.out" | tr '\n' ' ') $(grep builds "$B/slotping")"
	fi
}

# policy_error NAME EXPECTED-LINE ARGS...: nixgate-serve refuses to start
policy_error() {
	n=$1; want=$2; shift 2
	"$B/bin/nixgate-serve" "$@" < /dev/null > "$B/pe.out" 2> "$B/pe.err"
	st=$?
	if [ "$st" -ne 0 ] && [ "$st" -ne 159 ] && grep -qF "$want" "$B/pe.err" && [ "$(errlines "$B/pe.err")" -eq 1 ] &&
	   [ ! -s "$B/pe.out" ]; then
		ok "policy-error/$n"
	else
		bad "policy-error/$n" "status $st: $(cat "$B/pe.err")"
	fi
}

t_policy_errors() {
	printf 'allow = query\n\n[key a]\nmax-nar-size = 12Q\n' > "$B/p1.conf"
	policy_error bad-value "$B/p1.conf:4: '12Q' is not a size" --policy "$B/p1.conf" --key a
	printf '# ok\n[key b]\nfrobnicate = yes\n' > "$B/p2.conf"
	policy_error unknown-setting "$B/p2.conf:3: unknown setting 'frobnicate'" --policy "$B/p2.conf" --key a
	printf '[key b]\ntrusted = true\n' > "$B/p3.conf"
	policy_error no-section "$B/p3.conf: no section [key a]" --policy "$B/p3.conf" --key a
	printf '[key a]\ntrusted-public-keys = nocolon\n' > "$B/p4.conf"
	policy_error bad-key "$B/p4.conf:2: 'nocolon' is not a public key" --policy "$B/p4.conf" --key a
	printf '[key a\n' > "$B/p5.conf"
	policy_error bad-section "$B/p5.conf:1: a section is written [key NAME]" --policy "$B/p5.conf" --key a
	policy_error bad-flag "option --allow: 'delete' is not an operation" --key a --allow query,delete
	policy_error bad-duration "option --max-build-time: '5 minutes' is not a duration" --key a --max-build-time "5 minutes"
	policy_error no-file "$B/none.conf" --policy "$B/none.conf" --key a
}

# Every request of a session has its line; refusals name the rule.
t_audit() {
	: > "$AUDIT.mark"
	n0=$(wc -l < "$AUDIT")
	h=$(bed_host nix-store --add "$B/ro-host")
	"$B/bin/sclient" 7 info "$h" -- ssh -F "$B/ssh_config" ro nix-store --serve > /dev/null 2>&1
	"$B/bin/sclient" 7 valid "$h" -- ssh -F "$B/ssh_config" ro nix-store --serve > /dev/null 2>&1
	new=$(tail -n +"$((n0 + 1))" "$AUDIT")
	if [ "$(printf '%s\n' "$new" | wc -l)" -eq 4 ] &&
	   printf '%s\n' "$new" | grep -q "^time=20[0-9-]*T[0-9:]*Z key=ro op=session client=2.7 write=0 trusted=1 allow=query,export sandbox=$SANDBOX result=ok$" &&
	   printf '%s\n' "$new" | grep -q "key=ro op=QueryPathInfos paths=1 first=$h bytes=0 result=ok ms=[0-9]*\.[0-9][0-9][0-9] daemon=1 daemon_ms=[0-9.]*$" &&
	   printf '%s\n' "$new" | grep -q "key=ro op=QueryValidPaths paths=1 first=$h bytes=0 result=ok ms=" &&
	   grep -q "key=signed op=AddToStoreNar paths=1 first=/nix/store/[a-z0-9]*-signed-ia bytes=[1-9][0-9]* result=ok" "$AUDIT" &&
	   grep -q "key=signed op=AddToStoreNar paths=1 first=/nix/store/[a-z0-9]*-unlisted-ia bytes=0 result=refused rule=import" "$AUDIT" &&
	   grep -q "key=ro op=AddToStoreNar .* result=refused rule=allow" "$AUDIT" &&
	   grep -q "key=capped op=BuildDerivation .* result=refused rule=systems" "$AUDIT" &&
	   grep -q "key=capped op=BuildPaths .* result=refused rule=systems" "$AUDIT" &&
	   grep -q "key=capped op=AddToStoreNar .* result=refused rule=max-nar-size" "$AUDIT"; then
		ok audit-log
	else
		bad audit-log "$(printf '%s\n' "$new" | head -n 5 | tr '\n' '|')"
	fi
}

# Requests the real Nix client never sends, from malformed.pl, and the exact
# line a refusal must print: the refusals below are checked with these.
MAL="$top/tests/tools/malformed.pl"
client_ca() { nix path-info --json "$1" | sed -n 's/.*"ca":"\([^"]*\)".*/\1/p'; }

# raw_refused NAME KEY LINE PATH CASE [ARG...]: the stream of malformed.pl
# CASE through sshd to KEY ends the session with exit status 100 and LINE;
# PATH is not valid on the host, and the host store is as it was.
raw_refused() {
	# local: the callers' own variables have these names too
	local n=$1 k=$2 want=$3 p=$4 st
	shift 4
	perl "$MAL" "$@" > "$B/raw.in" || { bad "$n" "malformed.pl failed"; return; }
	before=$(store_state)
	ssh -F "$B/ssh_config" "$k" nix-store --serve --write < "$B/raw.in" > /dev/null 2> "$B/raw.err"
	st=$?
	if [ "$st" -ne 100 ] || ! one_line "$B/raw.err" "$want"; then
		bad "$n" "exit status $st: $(head -c 400 "$B/raw.err" | tr '\n' '|')"
	elif host_valid "$p"; then
		bad "$n" "refused, but $p is valid on the host"
	elif [ "$before" != "$(store_state)" ]; then
		bad "$n" "the host store changed"
	else
		ok "$n"
	fi
}

# raw_accepted NAME KEY PATH CASE [ARG...]: the same kind of stream, right
# this time, is accepted: the refusals are for the one thing they change
raw_accepted() {
	local n=$1 k=$2 p=$3
	shift 3
	perl "$MAL" "$@" > "$B/raw.in" || { bad "$n" "malformed.pl failed"; return; }
	if ssh -F "$B/ssh_config" "$k" nix-store --serve --write < "$B/raw.in" > /dev/null 2> "$B/raw.err" &&
	   host_valid "$p"; then
		ok "$n"
	else
		bad "$n" "$(head -c 400 "$B/raw.err" | tr '\n' '|')"
	fi
}

# A content address must give the very path it comes with: the same claim
# under another hash part would let a key put any content at a path of its
# choosing; a claim that gives the path but not the NAR hash is as false.
t_ca_claim() {
	p=$(client_add ca-claim "claimed")
	ca=$(client_ca "$p")
	nix-store --dump "$p" > "$B/ca-claim.nar"
	other=/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-ca-claim
	raw_refused untrusted/ca-other-path untrusted \
		"key untrusted: AddToStoreNar of '$other' refused by rule import: its content address $ca gives the path $p, not this one" \
		"$other" add-claim "$B/ca-claim.nar" "$other" "$ca"
	printf 'other content\n' > "$B/ca-other"
	nix-store --dump "$B/ca-other" > "$B/ca-other.nar"
	raw_refused untrusted/ca-other-nar untrusted \
		"key untrusted: AddToStoreNar of '$p' refused by rule import: its content address $ca does not match its NAR hash" \
		"$p" add-claim "$B/ca-other.nar" "$p" "$ca"
	raw_accepted untrusted/ca-claim-true untrusted "$p" add-claim "$B/ca-claim.nar" "$p" "$ca"
}

# Nix keeps references as a set: a list naming one twice is no path's real
# metadata (and would count twice in the fingerprint a signature covers).
t_reference_twice() {
	leaf=$(client_add twice-leaf "leaf")
	t=$(nix-instantiate --read-write-mode --eval -E "builtins.toFile \"twice\" \"\${builtins.storePath \"$leaf\"}\"" | tr -d '"')
	ca=$(client_ca "$t")
	nix-store --dump "$t" > "$B/twice.nar"
	# its reference on the host, so that nothing but the repeat is wrong
	nix copy --to ssh://untrusted "$leaf" > /dev/null 2>&1
	raw_refused untrusted/reference-twice untrusted \
		"key untrusted: AddToStoreNar of '$t' refused by rule import: its references list $leaf twice" \
		"$t" add-claim "$B/twice.nar" "$t" "$ca" "$leaf" "$leaf"
	raw_accepted untrusted/reference-once untrusted "$t" add-claim "$B/twice.nar" "$t" "$ca" "$leaf"
}

# held_refused NAME KEY LINE CASE: the stream of malformed.pl CASE with the
# client's side left open after it, so the refusal must come from the claim
# alone, before any of the data it announces: exit status 100 and LINE within
# 10 s, the host store as it was.
held_refused() {
	local n=$1 k=$2 want=$3 spid st i
	shift 3
	rm -f "$B/held"; mkfifo "$B/held"
	before=$(store_state)
	ssh -F "$B/ssh_config" "$k" nix-store --serve --write < "$B/held" > /dev/null 2> "$B/held.err" & spid=$!
	exec 3> "$B/held"
	perl "$MAL" "$@" >&3
	i=0
	while kill -0 "$spid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$spid" 2>/dev/null; then
		kill "$spid"; wait "$spid"; exec 3>&-
		bad "$n" "the server waited for the data"
		return
	fi
	exec 3>&-
	wait "$spid"; st=$?
	if [ "$st" -ne 100 ] || ! one_line "$B/held.err" "$want"; then
		bad "$n" "exit status $st: $(head -c 400 "$B/held.err" | tr '\n' '|')"
	elif [ "$before" != "$(store_state)" ]; then
		bad "$n" "the host store changed"
	else
		ok "$n"
	fi
}

# No key imports a NAR over 1 TiB, whatever its policy: a trusted key
# without max-nar-size, and a size claimed but never sent.
t_nar_ceiling() {
	held_refused nar-ceiling/add gate \
		"key gate: AddToStoreNar of '/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-malformed' refused by rule nar-size: the NAR of 1099511627777 bytes is over the limit of 1099511627776" \
		add-over-1TiB
	# ImportPaths sends the NAR before its path: its one file's length is the claim
	held_refused nar-ceiling/import gate \
		"key gate: ImportPaths refused by rule nar-size: the NAR of at least 1099511627880 bytes is over the limit of 1099511627776" \
		import-over-1TiB
}

# allow without query: no validity, path info or closure; without export,
# no NAR leaves the host. The real client gets the one line, the session
# ends, and neither store gains anything.
t_allow_query_export() {
	printf 'on host, not for all\n' > "$B/qe-host"
	h=$(bed_host nix-store --add "$B/qe-host")
	p=$(client_add qe-client "to the host")
	only="refused by rule allow: this key may only"
	before=$(store_state)
	nix path-info --store ssh://noquery "$h" > "$B/qe.out" 2>&1
	qe_judge noquery/path-info "key noquery: QueryPathInfos of '$h' $only export,import,build"
	nix copy --to ssh://noquery "$p" > "$B/qe.out" 2>&1
	qe_judge noquery/copy-to "key noquery: QueryValidPaths of '$p' $only export,import,build" "$p"
	nix copy --from ssh://noexport "$h" > "$B/qe.out" 2>&1
	if nix-store --check-validity "$h" 2>/dev/null; then
		bad noexport/copy-from "$h reached the client"
	else
		qe_judge noexport/copy-from "key noexport: DumpStorePath of '$h' $only query,import,build"
	fi
	"$B/bin/sclient" 7 closure "$h" -- ssh -F "$B/ssh_config" noquery nix-store --serve > "$B/qe.sc" 2> "$B/qe.err"
	sc_judge noquery/closure "key noquery: QueryClosure of '$h' $only export,import,build" "closed"
	# ExportPaths (nix-copy-closure --from of old Nix): not one byte of a NAR
	"$B/bin/sclient" 7 export "$h" -- ssh -F "$B/ssh_config" noexport nix-store --serve > "$B/qe.sc" 2> "$B/qe.err"
	sc_judge noexport/export "key noexport: ExportPaths of '$h' $only query,import,build" ""
}

# qe_judge NAME LINE [PATH]: the real client's output ($B/qe.out) has LINE
# once, it failed, PATH is not valid on the host, the host store is as before
qe_judge() {
	if [ "$(grep -cxF "nixgate-serve: $2" "$B/qe.out")" != 1 ] || ! grep -q "^error: " "$B/qe.out"; then
		bad "$1" "$(head -c 400 "$B/qe.out" | tr '\n' '|')"
	elif [ -n "${3:-}" ] && host_valid "$3"; then
		bad "$1" "refused, but $3 is valid on the host"
	elif [ "$before" != "$(store_state)" ]; then
		bad "$1" "the host store changed"
	else
		ok "$1"
	fi
}

# sc_judge NAME LINE REPLY: sclient ($B/qe.sc) got REPLY after the handshake
# and then exit status 100, with LINE on stderr; the host store is as before
sc_judge() {
	local want
	want=$(printf 'server-version 2.8\n%s%sexit 100' "$3" "${3:+
}")
	if [ "$(cat "$B/qe.sc")" != "$want" ] || ! one_line "$B/qe.err" "$2"; then
		bad "$1" "$(cat "$B/qe.sc" "$B/qe.err" | head -c 400 | tr '\n' '|')"
	elif [ "$before" != "$(store_state)" ]; then
		bad "$1" "the host store changed"
	else
		ok "$1"
	fi
}

# Building needs the session's --write (nix-store --serve without it is
# read-only, as in Nix): without it a build of a .drv the host has is
# refused and its output stays unbuilt; with it the same one builds.
t_build_needs_write() {
	cat > "$B/nowrite.nix" <<-NIX
	derivation { name = "no-write"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo built > \$out" ]; }
	NIX
	d=$(bed_host nix-instantiate "$B/nowrite.nix" 2>/dev/null)
	o=$(bed_host nix-store -q --outputs "$d")
	before=$(store_state)
	by_path untrusted "nix-store --serve" "$d"
	if [ "$(cat "$B/bp.out")" = "$(printf 'server-version 2.8\nclosed\nexit 100')" ] &&
	   one_line "$B/bp.err" "key untrusted: BuildPaths of '$d!out' refused by rule write: the client did not ask for --write" &&
	   ! host_valid "$o" && [ "$before" = "$(store_state)" ]; then
		ok untrusted/build-without-write
	else
		bad untrusted/build-without-write "$(cat "$B/bp.out" "$B/bp.err" | head -c 400 | tr '\n' '|')"
	fi
	by_path untrusted "nix-store --serve --write" "$d"
	if grep -qx "status 0" "$B/bp.out" && host_valid "$o"; then
		ok untrusted/build-with-write
	else
		bad untrusted/build-with-write "$(cat "$B/bp.out" "$B/bp.err" | head -c 400 | tr '\n' '|')"
	fi
}
