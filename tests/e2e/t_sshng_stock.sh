# Stock Nix clients over ssh-ng:// (no nixgate on the client): store info,
# nix copy --to and --from, and remote builds through the client daemon's
# own hook with --builders 'ssh-ng://…', each against nixgate-serve (a
# trusted key; an untrusted key that trusts the client's signing key) and
# against nix-daemon --stdio as the forced command, in the same run:
#   daemon  the host user trusted by the host daemon (the usual set-up)
#   dnt     a second host whose daemon does not trust the host user but
#           trusts the client's signing key: stock's own "untrusted with
#           signing", the thing nixgate's untrusted key is compared with
#   dfu     nix-daemon --stdio --force-untrusted, where the host's Nix has it
# nixgate's results are asserted as the issue requires them (both keys work;
# an unsigned input built on the client is left to the host, which builds
# it); stock's are asserted where the issue states them (dnt fails on the
# unsigned input) and recorded otherwise as NOTE lines.
SYS="$(uname -m)-linux"
cv=$(nix --version | root_minor)
hv=$(bed_host nix-store --version | root_minor)
# vge A B: version A is B or newer
vge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$2" ]; }
note() { echo "NOTE $SUITE/$T_NAME/$1: $2"; }
# Nix's hook from 2.16 on asks an ssh-ng store whether it trusts the client
# and, where not, copies the .drv closure and builds by path; before, it
# always sends the derivation inline, which nothing lets an untrusted key prove
drv_closure_hook=
! vge "$cv" 2.16 || drv_closure_hook=1
T=${NG_TIMEOUT:-180}

nix-store --generate-binary-cache-key client-key-1 "$B/ck.sec" "$B/ck.pub"
bed_key daemon "nix-daemon --stdio"
bed_key ugate "$B/bin/nixgate-serve --key ugate --trusted-public-key $(cat "$B/ck.pub") --audit-log $B/home/ugate.log"

# restart_daemon DIR: the daemon of the host in DIR started again, with the
# nix.conf it has now
restart_daemon() {
	old=$(cat "$1/daemon.pid")
	kill "$old" 2>/dev/null
	while kill -0 "$old" 2>/dev/null; do sleep 0.05; done
	nsenter -t "$(cat "$1/sshd.pid2")" -m -- sh -c \
		'rm -f /nix/var/nix/daemon-socket/socket; NIX_CONF_DIR=/etc/nix nix-daemon > "$0/daemon2.log" 2>&1 & echo $! > "$0/daemon.pid"' "$1"
	for i in $(seq 100); do
		nsenter -t "$(cat "$1/daemon.pid")" -m -- test -S /nix/var/nix/daemon-socket/socket && return 0
		sleep 0.1
	done
	return 1
}
# trust_client_key CONF: the client's key among the daemon's trusted-public-keys
trust_client_key() { sed -i "s|^trusted-public-keys = .*|& $(cat "$B/ck.pub")|" "$1"; }

bed_more_host nt
sed -i 's/^trusted-users = .*/trusted-users = root/' "$B/hosts/nt/host-conf/nix.conf"
trust_client_key "$B/hosts/nt/host-conf/nix.conf"
restart_daemon "$B/hosts/nt" || bed_die "the host nt's daemon did not start again"
bed_key dnt "nix-daemon --stdio" nt
# nix copy asks a trusted session to check signatures too
trust_client_key "$B/host-conf/nix.conf"
bed_daemon_restart || bed_die "the host daemon did not start again"
STOCK="daemon dnt"
if bed_host sh -c 'grep -aq -- force-untrusted "$(readlink -f "$(command -v nix-daemon)")"'; then
	# the feature first: --force-untrusted checks it when it is parsed
	bed_key dfu "nix-daemon --extra-experimental-features daemon-trust-override --stdio --force-untrusted"
	STOCK="$STOCK dfu"
fi
GATES="gate ugate"
host_of() { case $1 in dnt) echo nt ;; *) echo main ;; esac; }
on_host() { # STORE COMMAND...: on the host STORE serves
	s=$1; shift
	if [ "$(host_of "$s")" = nt ]; then bed_host_on nt "$@"; else bed_host "$@"; fi
}

# The client's daemon signs what it builds; the build hook is Nix's own.
mkdir -p "$B/sign-conf"
cat "$B/client-conf/nix.conf" > "$B/sign-conf/nix.conf"
echo "secret-key-files = $B/ck.sec" >> "$B/sign-conf/nix.conf"
NIX_CONF_DIR="$B/sign-conf" nix-daemon > "$B/client-daemon.log" 2>&1 &
echo $! > "$B/client-daemon.pid"
for i in $(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done

# why FILE: the lines of a client's output that say why it failed
why() { grep -E 'nixgate|error|cannot' "$1" | head -n 3 | tr '\n' ' '; }
# expect NAME STORE STATUS FILE: nixgate's result (asserted: 0 expected)
# or stock's (recorded)
expect() {
	case " $GATES " in
	*" $2 "*) if [ "$3" = 0 ]; then ok "$1/$2"; else bad "$1/$2" "exit $3: $(why "$4")"; fi ;;
	*) if [ "$3" = 0 ]; then note "$1/$2" "stock works"; else note "$1/$2" "stock fails: $(grep -m 1 'error' "$4")"; fi ;;
	esac
}

t_stock_info() {
	info=info
	nix store info --help > /dev/null 2>&1 || info=ping
	for s in $GATES $STOCK; do
		timeout "$T" nix store $info --store "ssh-ng://$s" > "$B/out" 2>&1
		r=$?
		# stock's trusted one proves the bed
		if [ "$s" = daemon ] && [ "$r" = 0 ]; then ok info/daemon; elif [ "$s" = daemon ]; then bad info/daemon "$(tail -n 2 "$B/out")"; else expect info "$s" "$r" "$B/out"; fi
		grep -q "^Trusted:" "$B/out" || continue
		case $s in
		gate) want=1 ;;
		ugate) want=0 ;;
		*) note "trusted/$s" "$(grep '^Trusted:' "$B/out")"; continue ;;
		esac
		if grep -qx "Trusted: $want" "$B/out"; then ok "trusted/$s"; else bad "trusted/$s" "$(tr '\n' ' ' < "$B/out")"; fi
	done
}

# a closure built here and signed with the client's key: an IA output and
# the CA leaf it refers to
t_stock_copy_to() {
	for s in $GATES $STOCK; do
		set -- $(client_closure "ng-to-$s")
		o=$1 leaf=$2
		nix store sign --key-file "$B/ck.sec" "$o"
		timeout "$T" nix copy --to "ssh-ng://$s" "$o" > "$B/out" 2>&1
		r=$?
		if [ "$r" = 0 ] && { ! on_host "$s" nix-store --check-validity "$o" "$leaf" > /dev/null 2>&1 ||
		   [ "$(on_host "$s" nix-store -q --hash "$o")" != "$(client_hash "$o")" ]; }; then
			r="0 but not valid on the host"
		fi
		if [ "$s" = daemon ]; then
			if [ "$r" = 0 ]; then ok copy-to/daemon; else bad copy-to/daemon "$r: $(tail -n 2 "$B/out")"; fi
		else
			expect copy-to "$s" "$r" "$B/out"
		fi
	done
}

t_stock_copy_from() {
	for s in $GATES $STOCK; do
		set -- $(client_closure "ng-from-$s")
		o=$1 leaf=$2
		d=$(nix-store -qd "$o")
		# onto the host (through ssh://gate, a trusted key of nixgate's, or
		# straight into nt's store), then away from here
		if [ "$(host_of "$s")" = nt ]; then
			nix-store --export $(nix-store -qR "$o") | bed_host_on nt nix-store --import > /dev/null 2>&1
		else
			nix copy --to ssh://gate "$o" > /dev/null 2>&1
		fi
		nix-store --delete "$o" "$d" "$leaf" > /dev/null 2>&1
		if nix-store --check-validity "$o" 2> /dev/null; then bad "copy-from/$s" "could not delete $o here"; continue; fi
		timeout "$T" nix copy --no-check-sigs --from "ssh-ng://$s" "$o" > "$B/out" 2>&1
		r=$?
		[ "$r" != 0 ] || nix-store --check-validity "$o" "$leaf" > /dev/null 2>&1 || r="0 but not valid here"
		if [ "$s" = daemon ]; then
			if [ "$r" = 0 ]; then ok copy-from/daemon; else bad copy-from/daemon "$r: $(tail -n 2 "$B/out")"; fi
		else
			expect copy-from "$s" "$r" "$B/out"
		fi
	done
}

# rbuild STORE FILE: a remote build of FILE by the client daemon through
# Nix's hook on ssh-ng://STORE only; output path in $B/rb.path, the
# client's output in $B/rb.out, the status in $rb
rbuild() {
	timeout "$T" env NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --builders "ssh-ng://$1 $SYS - 4 1" "$2" > "$B/rb.path" 2> "$B/rb.out"
	rb=$?
}

# one input-addressed derivation, nothing but itself to copy
t_stock_build_lone() {
	for s in $GATES $STOCK; do
		cat > "$B/lone-$s.nix" <<-NIX
		derivation { name = "ng-lone-$s"; system = builtins.currentSystem; builder = "/bin/sh";
		  args = [ "-c" "if [ -e /nix/host-marker ]; then echo host > \$out; else echo here > \$out; fi" ]; }
		NIX
		rbuild "$s" "$B/lone-$s.nix"
		o=$(cat "$B/rb.path")
		r=$rb
		[ "$r" != 0 ] || [ "$(cat "$o")" = host ] || r="0 but built '$(cat "$o")'"
		case $s in
		daemon) if [ "$r" = 0 ]; then ok build-lone/daemon; else bad build-lone/daemon "$r: $(why "$B/rb.out")"; fi ;;
		ugate)
			if [ -n "$drv_closure_hook" ]; then
				expect build-lone ugate "$r" "$B/rb.out"
			# Nix $cv's hook sends the derivation inline: refused by nixgate,
			# no output on the host
			elif [ "$r" != 0 ] && grep -q "nixgate-serve: key ugate: .* refused by rule" "$B/rb.out" &&
			     ! host_valid "$(nix-store -q --outputs "$(nix-instantiate "$B/lone-ugate.nix" 2>/dev/null)")"; then
				ok build-lone/ugate-inline-refused
			else
				bad build-lone/ugate-inline-refused "exit $r: $(why "$B/rb.out")"
			fi ;;
		*) expect build-lone "$s" "$r" "$B/rb.out" ;;
		esac
	done
}

# The issue's case: a derivation whose input is an input-addressed output
# built here first, unsigned, then the top built remotely. A trusted key
# imports the input ("top local"); nixgate's untrusted key does not import
# it, says so, and the host builds it from its .drv ("top host"); stock's
# daemon for a host user it does not trust refuses the unsigned input.
t_stock_build_unsigned_input() {
	for s in $GATES $STOCK; do
		two_level_nix "$B/ui-$s.nix" "ng-ui-$s"
		dep=$(nix-instantiate "$B/ui-$s.nix" 2>/dev/null | xargs nix-store -q --references | grep -- "-ng-ui-$s-dep.drv")
		# the client's local store, not its daemon: nothing signs it
		depout=$(nix-store -r "$dep" 2>/dev/null)
		sigs=$(nix path-info --json "$depout" 2> /dev/null | path_field signatures)
		if [ -z "$depout" ] || [ -n "$sigs" ]; then bad "unsigned-input/$s" "the input is not an unsigned local build: '$depout' '$sigs'"; continue; fi
		rbuild "$s" "$B/ui-$s.nix"
		o=$(cat "$B/rb.path")
		r=$rb
		got=$(cat "$o" 2>/dev/null)
		case $s in
		gate|daemon)
			[ "$r" != 0 ] || [ "$got" = "top local" ] || r="0 but got '$got'"
			if [ "$s" = daemon ]; then
				if [ "$r" = 0 ]; then ok unsigned-input/daemon; else bad unsigned-input/daemon "$r: $(why "$B/rb.out")"; fi
			else
				expect unsigned-input gate "$r" "$B/rb.out"
			fi ;;
		ugate)
			# Nix $cv's hook sends the top inline: refused, and the input
			# nothing proves is not on the host either
			if [ -z "$drv_closure_hook" ]; then
				if [ "$r" != 0 ] && grep -q "nixgate-serve: key ugate: .* refused by rule" "$B/rb.out" && ! host_valid "$depout"; then
					ok unsigned-input/ugate-inline-refused
				else
					bad unsigned-input/ugate-inline-refused "exit $r, got '$got': $(why "$B/rb.out")"
				fi
				continue
			fi
			if [ "$r" = 0 ] && [ "$got" = "top host" ] && grep -q "not importing $depout" "$B/rb.out" &&
			   [ "$(bed_host cat "$depout")" = host ]; then
				ok unsigned-input/ugate
			else
				bad unsigned-input/ugate "exit $r, got '$got': $(why "$B/rb.out")"
			fi ;;
		dnt)
			if [ "$r" != 0 ] && grep -Eq "lacks a (valid )?signature" "$B/rb.out" &&
			   ! bed_host_on nt nix-store --check-validity "$depout" 2> /dev/null; then
				ok unsigned-input/stock-untrusted-fails
			else
				bad unsigned-input/stock-untrusted-fails "exit $r, got '$got' (Nix $hv host): $(why "$B/rb.out")"
			fi ;;
		*) expect unsigned-input "$s" "$r" "$B/rb.out" ;;
		esac
	done
}

t_stock_versions() { note versions "client Nix $cv, host Nix $hv, stock compared with: $STOCK"; }
