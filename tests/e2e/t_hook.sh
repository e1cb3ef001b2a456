# nixgate as the build hook of the client's nix-daemon: input-addressed
# derivations build on hosts through untrusted keys (which Nix's own hook
# cannot), spread over builders by their load, around a full one and a dead
# one, and the outputs arrive in the client store. Three hosts, each with its
# own store, daemon and sshd; the client runs its own daemon.
SYS="$(uname -m)-linux"
bed_more_host h2
bed_more_host h3
bed_key u1 "$B/bin/nixgate-serve --key u1 --max-jobs 1 --state-dir $B/home/state --audit-log $B/home/u1.log"
bed_key u2 "$B/bin/nixgate-serve --key u2 --max-jobs 8 --state-dir $B/home/state --audit-log $B/home/u2.log" h2
bed_key u3 "$B/bin/nixgate-serve --key u3 --max-jobs 8 --state-dir $B/home/state --audit-log $B/home/u3.log" h3
# w1 answers only once f1 has been reached: a choice that pings one host
# at a time, w1 first, finds w1 dead
bed_key w1 "i=0; while [ ! -e $B/home/f1-reached ] && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i + 1)); done; [ -e $B/home/f1-reached ] || exit 1; exec $B/bin/nixgate-serve --key w1 --audit-log $B/home/w1.log" h2
bed_key f1 "touch $B/home/f1-reached; exec $B/bin/nixgate-serve --key f1 --audit-log $B/home/f1.log" h3
cat >> "$B/ssh_config" <<CONF
Host down gone
  HostName 127.0.0.1
  Port 1
  User $BED_USER
  IdentityFile $B/key-u1
  IdentitiesOnly yes
  BatchMode yes
CONF
bed_key t1 "$B/bin/nixgate-serve --key t1 --trusted --audit-log $B/home/t1.log"
# s2 trusts the client's signing key: signed inputs go there, not rebuilt
# and h3's, as a build farm whose builders sign what they build
nix-store --generate-binary-cache-key client-key-1 "$B/ck.sec" "$B/ck.pub"
nix-store --generate-binary-cache-key host3-key-1 "$B/h3.sec" "$B/h3.pub"
bed_key s2 "$B/bin/nixgate-serve --key s2 --trusted-public-key $(cat "$B/ck.pub") --trusted-public-key $(cat "$B/h3.pub") --audit-log $B/home/s2.log" h2
ALL="ssh://u1 $SYS - 8 1; ssh://u2 $SYS - 8 1; ssh://u3 $SYS - 8 1"
built_by() { cat "$B/home/$1.log" 2>/dev/null | grep -c "key=$1 op=BuildPaths .*$2.* result=ok"; }
# ops KEY OP: how many OP lines KEY's audit log has
ops() { cat "$B/home/$1.log" 2>/dev/null | grep -c "key=$1 op=$2 "; }
mkdir -p "$B/hook-conf"
cat "$B/client-conf/nix.conf" > "$B/hook-conf/nix.conf"
cat >> "$B/hook-conf/nix.conf" <<CONF
build-hook = $B/bin/nixgate-build-hook
builders = ssh://untrusted $SYS - 4 1
CONF
NIX_CONF_DIR="$B/hook-conf" nix-daemon > "$B/client-daemon.log" 2>&1 &
echo $! > "$B/client-daemon.pid"
for i in $(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done

t_trustless_build() {
	two_level_nix "$B/hook.nix" hook
	if o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 "$B/hook.nix" 2> "$B/hook.out") &&
	   [ "$(cat "$o")" = "top host" ] && nix-store --check-validity "$o" && host_valid "$o"; then
		ok hook/untrusted-key
	else
		bad hook/untrusted-key "got '$(cat "$o" 2>/dev/null)' $(tail -n 4 "$B/hook.out" | tr '\n' ' ')"
	fi
}

# 19 leaves and a top that reads them all: 20 builds over three builders
t_graph_of_20() {
	{
		echo 'let leaf = i: derivation { name = "leaf-${toString i}"; system = builtins.currentSystem; builder = "/bin/sh";'
		echo '  args = [ "-c" "/bin/sleep 1; if [ -e /nix/host-marker ]; then echo host > $out; else echo local > $out; fi" ]; };'
		echo '  leaves = map leaf [ 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 ];'
		echo 'in derivation { name = "graph-top"; system = builtins.currentSystem; builder = "/bin/sh";'
		echo '  args = [ "-c" "for l in $leaves; do read x < $l; echo $x; done > $out" ]; inherit leaves; }'
	} > "$B/graph.nix"
	if o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "$ALL" "$B/graph.nix" 2> "$B/graph.out") &&
	   [ "$(grep -c '^host$' "$o")" = 19 ] && nix-store --check-validity "$o"; then
		n1=$(built_by u1 "\\(leaf-\\|graph-top\\)"); n2=$(built_by u2 "\\(leaf-\\|graph-top\\)"); n3=$(built_by u3 "\\(leaf-\\|graph-top\\)")
		used=0; for n in $n1 $n2 $n3; do [ "$n" -gt 0 ] && used=$((used + 1)); done
		if [ $((n1 + n2 + n3)) = 20 ] && [ "$used" -ge 2 ]; then
			ok hook/graph-of-20
		else
			bad hook/graph-of-20 "builds per builder: $n1 $n2 $n3"
		fi
	else
		bad hook/graph-of-20 "$(tail -n 4 "$B/graph.out" | tr '\n' ' ')"
	fi
}

# Nix's own hook with the same untrusted key: refused at the first build
t_stock_hook_refused() {
	cat > "$B/stock.nix" <<-NIX
	derivation { name = "stock-hook"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo > \$out" ]; }
	NIX
	if NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --option build-hook /usr/libexec/nix/build-remote \
		--builders "ssh://u2 $SYS - 8 1" "$B/stock.nix" > "$B/stock.out" 2>&1; then
		bad hook/stock-hook-refused "Nix's own hook built it"
	elif grep -q "refused by rule build: it is input-addressed" "$B/stock.out"; then
		ok hook/stock-hook-refused
	else
		bad hook/stock-hook-refused "$(tail -n 3 "$B/stock.out" | tr '\n' ' ')"
	fi
}

# fill_u1 NAME SECONDS: u1's one build slot taken by a build of its own,
# running in the background as $bpid
fill_u1() {
	cat > "$B/$1.nix" <<-NIX
	derivation { name = "$1"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "/bin/sleep $2; echo > \$out" ]; }
	NIX
	d=$(bed_host nix-instantiate "$B/$1.nix" 2>/dev/null)
	"$B/bin/sclient" 7 build "$d!out" -- ssh -F "$B/ssh_config" u1 nix-store --serve --write > /dev/null 2>&1 & bpid=$!
	for i in $(seq 50); do "$NIXGATE" ping ssh://u1 | grep -q "builds  *1$" && break; sleep 0.1; done
}

# u1 (faster, but max-jobs 1) is busy with a build of its own: the next build
# goes to u2
t_full_builder() {
	fill_u1 busy 8
	cat > "$B/aside.nix" <<-NIX
	derivation { name = "aside"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo aside > \$out" ]; }
	NIX
	if NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://u1 $SYS - 8 10; ssh://u2 $SYS - 8 1" \
		"$B/aside.nix" > "$B/aside.out" 2>&1 && [ "$(built_by u2 aside)" = 1 ] && [ "$(built_by u1 aside)" = 0 ]; then
		ok hook/full-builder-skipped
	else
		bad hook/full-builder-skipped "u1 $(built_by u1 aside), u2 $(built_by u2 aside): $(tail -n 2 "$B/aside.out" | tr '\n' ' ')"
	fi
	wait "$bpid"
}

# A dead builder costs one failed connection, not one per derivation
t_dead_builder() {
	for n in 1 2; do
		cat > "$B/dead$n.nix" <<-NIX
		derivation { name = "around-dead-$n"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo $n > \$out" ]; }
		NIX
		NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://down $SYS - 8 10; ssh://u3 $SYS - 8 1" \
			"$B/dead$n.nix" > "$B/dead$n.out" 2>&1 || { bad hook/dead-builder "$(tail -n 2 "$B/dead$n.out" | tr '\n' ' ')"; return; }
	done
	# the hook's words before it accepts reach nix-build through the daemon
	tries=$(cat "$B/dead1.out" "$B/dead2.out" | grep -c "cannot build on ssh://down: the connection was refused")
	if [ "$tries" = 1 ] && [ "$(built_by u3 around-dead)" = 2 ]; then
		ok hook/dead-builder
	else
		bad hook/dead-builder "$tries connection attempts to the dead builder, $(built_by u3 around-dead) builds on u3"
	fi
}

# One choice over a dead host and two live ones reaches all three at once
# (w1, listed first, answers only after f1 has been reached), and the build
# goes over the session the choice opened: one session on each live host
t_one_choice() {
	cat > "$B/once.nix" <<-NIX
	derivation { name = "one-choice"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo once > \$out" ]; }
	NIX
	NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://w1 $SYS - 8 10; ssh://gone $SYS - 8 10; ssh://f1 $SYS - 8 1" \
		"$B/once.nix" > "$B/once.out" 2>&1; r=$?
	refused=$(grep -c "cannot build on ssh://gone: the connection was refused" "$B/once.out")
	sessions="$(ops w1 session) $(ops f1 session)"
	infos="$(ops w1 NixgateInfo) $(ops f1 NixgateInfo)"
	builds=$(($(built_by w1 one-choice) + $(built_by f1 one-choice)))
	if [ "$r" = 0 ] && [ "$refused" = 1 ] && [ "$infos" = "1 1" ] && [ "$sessions" = "1 1" ] && [ "$builds" = 1 ] &&
	   ! grep -q "cannot build on ssh://[wf]1" "$B/once.out"; then
		ok hook/one-choice-all-hosts
	else
		bad hook/one-choice-all-hosts "exit $r, gone refused $refused times, sessions (w1 f1) $sessions, NixgateInfo $infos, builds $builds: $(grep "cannot build" "$B/once.out" | tail -n 2 | tr '\n' ' ') $(tail -n 2 "$B/once.out" | tr '\n' ' ')"
	fi
}

# A trusted key gets the derivation inline, as from Nix's own hook, with its
# inputs (the dependency, built here) copied first
t_trusted_inline() {
	cat > "$B/inl.nix" <<-NIX
	let dep = derivation { name = "inline-dep"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo local dep > \$out" ]; };
	in derivation { name = "inline-top"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "read x < \${dep}; if [ -e /nix/host-marker ]; then echo \"\$x, top on host\" > \$out; fi" ]; }
	NIX
	dep=$(nix-instantiate "$B/inl.nix" 2>/dev/null | xargs nix-store -q --references | grep inline-dep.drv)
	NIX_REMOTE=daemon nix-store -r --builders "" "$dep" > /dev/null 2>&1
	if o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://t1 $SYS - 8 1" "$B/inl.nix" 2> "$B/inl.out") &&
	   [ "$(cat "$o")" = "local dep, top on host" ] && grep -q "op=BuildDerivation .*inline-top.drv .* result=ok" "$B/home/t1.log" &&
	   grep -q "op=AddToStoreNar .*-inline-dep .* result=ok" "$B/home/t1.log"; then
		ok hook/trusted-inline
	else
		bad hook/trusted-inline "$(tail -n 3 "$B/inl.out" | tr '\n' ' ')"
	fi
}

# A plain nix-store --serve host (the build user trusted): the same
t_plain_nix_store() {
	cat > "$B/plain.nix" <<-NIX
	let dep = derivation { name = "plain-dep"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo dep > \$out" ]; };
	in derivation { name = "plain-top"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "read x < \${dep}; echo \$x top > \$out" ]; }
	NIX
	if o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://nixstore $SYS - 8 1" "$B/plain.nix" 2> "$B/plain.out") &&
	   [ "$(cat "$o")" = "dep top" ] && grep -q "(trusted key): " "$B/plain.out"; then
		ok hook/plain-nix-store
	else
		bad hook/plain-nix-store "$(tail -n 3 "$B/plain.out" | tr '\n' ' ')"
	fi
}

# A failing build: nix-build shows the builder, the key and the host's reason
t_failing_build() {
	cat > "$B/hfail.nix" <<-NIX
	derivation { name = "hook-fail"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "echo last-words-hook >&2; exit 3" ]; }
	NIX
	if NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://u2 $SYS - 8 1" "$B/hfail.nix" > "$B/hfail.out" 2>&1; then
		bad hook/failing-build "the build succeeded"
	elif grep -q "last-words-hook" "$B/hfail.out" && grep -q "on ssh://u2 (key u2) failed: .*exit code 3" "$B/hfail.out"; then
		ok hook/failing-build
	else
		bad hook/failing-build "$(tail -n 4 "$B/hfail.out" | tr '\n' ' ')"
	fi
}

# The only builder is full: the hook postpones, and the build runs there once
# the slot is free
t_postponed() {
	fill_u1 busy2 6
	cat > "$B/later.nix" <<-NIX
	derivation { name = "later"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo later > \$out" ]; }
	NIX
	NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://u1 $SYS - 8 1" "$B/later.nix" > "$B/later.out" 2>&1; r=$?
	wait "$bpid"
	# the hook postponed it (rather than the host holding it for a slot), and
	# it ran after the busy one
	order=$(grep -n "op=BuildPaths .*\(busy2\|later\)" "$B/home/u1.log" | sed 's/.*first=[^-]*-\([a-z0-9]*\)\.drv.*/\1/' | tr '\n' ' ')
	if [ "$r" = 0 ] && [ "$order" = "busy2 later " ] &&
	   grep -q "every builder for $SYS has all its build slots in use; postponing .*-later.drv" "$B/later.out" &&
	   ! grep -q "waiting for a build slot" "$B/later.out"; then
		ok hook/postponed-until-free
	else
		bad hook/postponed-until-free "exit $r, order '$order': $(tail -n 2 "$B/later.out" | tr '\n' ' ')"
	fi
}

# hook_fails NAME FILE BUILDERS PATTERN [OPTION...]: nix-build of FILE
# through the client's daemon fails, its output (FILE.out) saying PATTERN
hook_fails() {
	local n=$1 f=$2 b=$3 pat=$4
	shift 4
	if NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 "$@" --builders "$b" "$f" > "$f.out" 2>&1; then
		bad "hook/$n" "the build succeeded"
	elif grep -q -- "$pat" "$f.out"; then
		ok "hook/$n"
	else
		bad "hook/$n" "$(tail -n 3 "$f.out" | tr '\n' ' ')"
	fi
}

# hbuild NAME BUILDER: a one-line derivation built through the hook on
# BUILDER; its output in $o, nix-build's words in $B/NAME.out
hbuild() {
	[ -e "$B/$1.nix" ] || cat > "$B/$1.nix" <<-NIX
	derivation { name = "$1"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo $1 > \$out" ]; }
	NIX
	o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://$2 $SYS - 8 1" "$B/$1.nix" 2> "$B/$1.out")
}

# The outputs keep the host's signatures, as with Nix's own hook: built once,
# signed on the host, deleted here, and fetched again
t_host_signature() {
	hbuild signed-out u3 || { bad hook/host-signature "$(tail -n 2 "$B/signed-out.out" | tr '\n' ' ')"; return; }
	bed_host_on h3 nix --extra-experimental-features nix-command store sign --key-file "$B/h3.sec" "$o" > /dev/null 2>&1
	NIX_REMOTE=daemon nix-store --delete "$o" > /dev/null 2>&1
	if hbuild signed-out u3 && nix-store --check-validity "$o" &&
	   nix --extra-experimental-features nix-command path-info --sigs "$o" | grep -q "host3-key-1:"; then
		ok hook/host-signature
	else
		bad hook/host-signature "$(nix --extra-experimental-features nix-command path-info --sigs "$o" 2>&1 | head -c 300)"
	fi
}

# A build farm: the output h3 built and signed (the last test's) goes to h2,
# whose key trusts h3's key, as an input instead of being built again there
t_farm_reuse() {
	cat > "$B/farm.nix" <<-NIX
	let dep = import $B/signed-out.nix; in derivation { name = "farm-top"; system = builtins.currentSystem;
	  builder = "/bin/sh"; args = [ "-c" "read x < \${dep}; echo \$x on top > \$out" ]; }
	NIX
	if o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://s2 $SYS - 8 1" "$B/farm.nix" 2> "$B/farm.out") &&
	   [ "$(cat "$o")" = "signed-out on top" ] && grep -q "op=AddToStoreNar .*-signed-out .*result=ok" "$B/home/s2.log"; then
		ok hook/farm-reuse
	else
		bad hook/farm-reuse "got '$(cat "$o" 2>/dev/null)': $(tail -n 2 "$B/farm.out" | tr '\n' ' ')"
	fi
}

# A host whose NAR does not match the hash it states for it: the build
# fails naming that, and the output is neither valid here nor left on disk
t_tampered_output() {
	hbuild tampered u2 || { bad hook/tampered-output "$(tail -n 2 "$B/tampered.out" | tr '\n' ' ')"; return; }
	NIX_REMOTE=daemon nix-store --delete "$o" > /dev/null 2>&1
	bed_host_on h2 sh -c 'chmod u+w "$1" && echo tampered-with > "$1"' - "$o"
	t=$o
	if hbuild tampered u2; then
		bad hook/tampered-output "the build succeeded"
	elif grep -q "does not match the hash and size it gave for it" "$B/tampered.out" &&
	     ! nix-store --check-validity "$t" 2>/dev/null && [ ! -e "$t" ]; then
		ok hook/tampered-output
	else
		bad hook/tampered-output "$(ls -ld "$t" 2>&1) $(tail -n 2 "$B/tampered.out" | tr '\n' ' ')"
	fi
}

# An untrusted key is offered the inputs that prove themselves to it: one
# signed by a key it trusts and one content-addressed go over; an unsigned
# one it builds itself
t_inputs_offered() {
	fh=$(printf 'fod\n' | sha256sum | cut -d' ' -f1)
	cat > "$B/offer.nix" <<-NIX
	let mk = n: derivation { name = n; system = builtins.currentSystem; builder = "/bin/sh";
	      args = [ "-c" "if [ -e /nix/host-marker ]; then echo host > \$out; else echo local > \$out; fi" ]; };
	    signed = mk "offer-signed"; unsigned = mk "offer-unsigned";
	    fod = derivation { name = "offer-fod"; system = builtins.currentSystem; builder = "/bin/sh";
	      args = [ "-c" "echo fod > \$out" ]; outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = "$fh"; };
	in derivation { name = "offer-top"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "read a < \${signed}; read b < \${unsigned}; read c < \${fod}; echo \$a \$b \$c > \$out" ]; }
	NIX
	topdrv=$(nix-instantiate "$B/offer.nix" 2>/dev/null)
	for d in $(nix-store -q --references "$topdrv" | grep '\.drv$'); do
		NIX_REMOTE=daemon nix-store -r --builders "" "$d" > /dev/null 2>&1
	done
	sgn=$(nix-store -q --outputs "$(nix-store -q --references "$topdrv" | grep offer-signed.drv)")
	nix --extra-experimental-features nix-command store sign --key-file "$B/ck.sec" "$sgn" > /dev/null 2>&1
	if o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://s2 $SYS - 8 1" "$B/offer.nix" 2> "$B/offer.out") &&
	   [ "$(cat "$o")" = "local host fod" ] && grep -q "op=AddToStoreNar .*-offer-signed .*result=ok" "$B/home/s2.log" &&
	   grep -q "op=AddToStoreNar .*-offer-fod .*result=ok" "$B/home/s2.log" &&
	   ! grep -q "op=AddToStoreNar .*-offer-unsigned " "$B/home/s2.log"; then
		ok hook/inputs-offered
	else
		bad hook/inputs-offered "got '$(cat "$o" 2>/dev/null)': $(grep -o 'op=AddToStoreNar [^ ]* [^ ]* first=[^ ]*' "$B/home/s2.log" | tr '\n' ' ') $(tail -n 2 "$B/offer.out" | tr '\n' ' ')"
	fi
}

# The client's build settings reach the host, as with Nix's own hook: a
# timeout of 2 s ends a build that would take 30
t_client_timeout() {
	cat > "$B/slow.nix" <<-NIX
	derivation { name = "slow-hook"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "/bin/sleep 30; echo > \$out" ]; }
	NIX
	hook_fails client-timeout "$B/slow.nix" "ssh://u3 $SYS - 8 1" \
		"on ssh://u3 (key u3) failed: .*timed out after 2 seconds" --option timeout 2
}

# builders-use-substitutes: the host takes an input it lacks from its own
# binary cache rather than from the client
t_builders_substitute() {
	printf 'from the cache\n' > "$B/subst-in"
	s=$(bed_host_on h3 nix-store --add "$B/subst-in")
	bed_host_on h3 nix store sign --key-file "$B/cache-key.sec" "$s" > /dev/null 2>&1 &&
	bed_host_on h3 nix copy --to "file://$B/cache" "$s" > /dev/null 2>&1 &&
	bed_host_on h3 nix-store --delete "$s" > /dev/null 2>&1
	nix-store --add "$B/subst-in" > /dev/null
	cat > "$B/subst.nix" <<-NIX
	derivation { name = "subst-hook"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "read x < \${builtins.storePath "$s"}; echo \"\$x\" > \$out" ]; }
	NIX
	if o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders-use-substitutes --builders "ssh://u3 $SYS - 8 1" \
		"$B/subst.nix" 2> "$B/subst.out") && [ "$(cat "$o")" = "from the cache" ] &&
	   bed_host_on h3 nix path-info --sigs "$s" | grep -q "bed-cache:" && ! grep -q "op=AddToStoreNar .*-subst-in " "$B/home/u3.log"; then
		ok hook/builders-use-substitutes
	else
		bad hook/builders-use-substitutes "$(bed_host_on h3 nix path-info --sigs "$s" 2>&1 | head -c 200) $(tail -n 2 "$B/subst.out" | tr '\n' ' ')"
	fi
}

# The machine entry's max-jobs holds, through Nix's own slot files, even
# for a host that reports no load (plain nix-store): with one slot, two
# builds of one nix-build run there one after the other
t_entry_max_jobs() {
	cat > "$B/slots.nix" <<-'NIX'
	let leaf = n: derivation { name = "slot-${n}"; system = builtins.currentSystem; builder = "/bin/sh";
	      args = [ "-c" "s=$(/bin/date +%s%N); /bin/sleep 2; echo $s $(/bin/date +%s%N) > $out" ]; };
	in derivation { name = "slots-top"; system = builtins.currentSystem; builder = "/bin/sh";
	  a = leaf "a"; b = leaf "b"; args = [ "-c" "/bin/cat $a $b > $out" ]; }
	NIX
	if o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://nixstore $SYS - 1 1" "$B/slots.nix" 2> "$B/slots.out") &&
	   [ "$(wc -l < "$o")" = 2 ] && awk 'NR == 1 {s1 = $1; e1 = $2} NR == 2 {s2 = $1; e2 = $2}
	       END {exit !(e1 <= s2 || e2 <= s1)}' "$o" &&
	   grep -q "every builder for $SYS has all its build slots in use; postponing .*-slot-[ab].drv" "$B/slots.out"; then
		ok hook/entry-max-jobs
	else
		bad hook/entry-max-jobs "$(cat "$o" 2>/dev/null | tr '\n' ' ') $(tail -n 2 "$B/slots.out" | tr '\n' ' ')"
	fi
}

# Every builder full and this machine willing (max-jobs 1): it builds here,
# as with Nix's own hook, instead of waiting for a slot
t_local_fallback() {
	fill_u1 busy3 8
	cat > "$B/here.nix" <<-NIX
	derivation { name = "here"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "if [ -e /nix/host-marker ]; then echo host > \$out; else echo local > \$out; fi" ]; }
	NIX
	o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 1 --builders "ssh://u1 $SYS - 8 1" "$B/here.nix" 2> "$B/here.out")
	wait "$bpid"
	if [ "$(cat "$o" 2>/dev/null)" = local ] && [ "$(built_by u1 here)" = 0 ]; then
		ok hook/local-fallback
	else
		bad hook/local-fallback "got '$(cat "$o" 2>/dev/null)': $(tail -n 2 "$B/here.out" | tr '\n' ' ')"
	fi
}

# No builder for the system, and this machine may not build: one line
# that says so, and nix-build fails
t_no_builder() {
	cat > "$B/nobuilder.nix" <<-NIX
	derivation { name = "nobuilder"; system = "riscv64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > \$out" ]; }
	NIX
	hook_fails no-builder "$B/nobuilder.nix" "ssh://u3 $SYS - 8 1" \
		"nixgate: none of the 1 builders can take .*-nobuilder.drv (system riscv64-linux)"
}

# A derivation for Nix's builtin system (builtin:fetchurl, not preferring a
# local build) goes to a builder, as with Nix's own hook
t_builtin_system() {
	printf 'fetched on a builder\n' > "$B/blob"
	h=$(sha256sum "$B/blob" | cut -d' ' -f1)
	cat > "$B/bfetch.nix" <<-NIX
	derivation { name = "bfetch"; system = "builtin"; builder = "builtin:fetchurl"; url = "file://$B/blob";
	  outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = "$h"; }
	NIX
	if o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://u3 $SYS - 8 1" "$B/bfetch.nix" 2> "$B/bfetch.out") &&
	   [ "$(cat "$o")" = "fetched on a builder" ] && [ "$(built_by u3 bfetch)" = 1 ]; then
		ok hook/builtin-system
	else
		bad hook/builtin-system "$(tail -n 3 "$B/bfetch.out" | tr '\n' ' ')"
	fi
}

# Two builds at once that need the same large input on one host: one copy
# at a time to a host (Nix's upload lock), so the second finds it there and
# it goes over once
t_upload_once() {
	cat > "$B/upload.nix" <<-'NIX'
	let big = derivation { name = "upl-big"; system = builtins.currentSystem; builder = "/bin/sh";
	      args = [ "-c" "/bin/head -c 200000000 /dev/zero > $out" ]; };
	    user = n: derivation { name = "upl-${n}"; system = builtins.currentSystem; builder = "/bin/sh";
	      inherit big; args = [ "-c" "/bin/sleep 1; echo ${n} > $out" ]; };
	in derivation { name = "upl-top"; system = builtins.currentSystem; builder = "/bin/sh";
	  a = user "a"; b = user "b"; args = [ "-c" "read x < $a; read y < $b; echo $x $y > $out" ]; }
	NIX
	bigdrv=$(nix-instantiate "$B/upload.nix" 2>/dev/null | xargs nix-store -qR | grep 'upl-big.drv$')
	NIX_REMOTE=daemon nix-store -r --builders "" "$bigdrv" > /dev/null 2>&1
	if o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://t1 $SYS - 8 1" "$B/upload.nix" 2> "$B/upload.out") &&
	   [ "$(cat "$o")" = "a b" ] && [ "$(grep -c "op=AddToStoreNar .*-upl-big " "$B/home/t1.log")" = 1 ]; then
		ok hook/upload-once
	else
		bad hook/upload-once "got '$(cat "$o" 2>/dev/null)', $(grep -c "op=AddToStoreNar .*-upl-big " "$B/home/t1.log") copies: $(tail -n 2 "$B/upload.out" | tr '\n' ' ')"
	fi
}

# With ssh masters persisted by the user's config (ControlMaster auto,
# ControlPersist; the last test, since the config is the bed's), builds go
# through, the master holding none of the build's pipes, and it stays there
# for the next connection
t_control_persist() {
	printf 'Host *\n  ControlMaster auto\n  ControlPath %s/hm-%%C\n  ControlPersist 60\n' "$B" >> "$B/ssh_config"
	for n in 1 2; do
		cat > "$B/cm$n.nix" <<-NIX
		derivation { name = "cm-$n"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo $n > \$out" ]; }
		NIX
		o=$(timeout 120 env NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh://u3 $SYS - 8 1" \
			"$B/cm$n.nix" 2> "$B/cm$n.out") && [ "$(cat "$o")" = "$n" ] ||
			{ bad hook/control-persist "build $n: $(tail -n 2 "$B/cm$n.out" | tr '\n' ' ')"; break; }
		[ "$n" = 2 ] && if ls "$B"/hm-* > /dev/null 2>&1; then ok hook/control-persist; else bad hook/control-persist "no master"; fi
	done
	for m in "$B"/hm-*; do [ -e "$m" ] && ssh -o ControlPath="$m" -O exit u3 2>/dev/null; done
}
