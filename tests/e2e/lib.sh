# Helpers for end-to-end tests.
T_NAME=$(basename "${1:-x}" .sh | sed 's/^t_//')
# Under NIXGATE_ASAN the same tests run against the sanitizer build, with
# the sandbox off (which it announces on stderr) and its own names.
SUITE=${NIXGATE_ASAN:+asan/}e2e${NIXGATE_CELL:+@$NIXGATE_CELL}
SANDBOX=${NIXGATE_ASAN:+OFF}
SANDBOX=${SANDBOX:-on}
ok() { echo "PASS $SUITE/$T_NAME/$1"; }
bad() { echo "FAIL $SUITE/$T_NAME/$1: $2"; }
# Lines of an error output, the sanitizer build's sandbox notice not counted.
errlines() { grep -vc "running WITHOUT the sandbox" "$1"; }
# one_line FILE LINE: FILE (a server's stderr) is that one line (the
# sanitizer build's sandbox notice aside)
one_line() { [ "$(errlines "$1")" -eq 1 ] && grep -qxF "nixgate-serve: $2" "$1"; }
# by_path KEY COMMAND DRV: BuildPaths of DRV's out through sshd, sclient's
# answer in $B/bp.out and the server's stderr in $B/bp.err
by_path() { "$B/bin/sclient" 7 build "$3!out" -- ssh -F "$B/ssh_config" "$1" $2 > "$B/bp.out" 2> "$B/bp.err"; }
# path_field FIELD: from `nix path-info --json` of one path on stdin, FIELD
# (a list joined by commas); Nix 2.19 and later give an object keyed by path
# where older ones give a list
path_field() {
	perl -MJSON::PP -e 'my $j = decode_json(join "", <STDIN>); $j = ref $j eq "ARRAY" ? $j->[0] : (values %$j)[0];
		my $v = $j->{$ARGV[0]}; print ref $v eq "ARRAY" ? join(",", @$v) : $v // "", "\n"' "$1"
}
# check NAME COMMAND...: PASS if the command succeeds
check() { n=$1; shift; if "$@" > "$B/last.out" 2>&1; then ok "$n"; else bad "$n" "$(tail -n 3 "$B/last.out" | tr '\n' ' ')"; fi; }

# A text file in the client store: its store path on stdout.
client_add() { # name contents
	printf '%s\n' "$2" > "$B/$1"
	nix-store --add "$B/$1"
}
# A closure in the client store: a build output that refers to a leaf (a
# build scans references; nix-store --add does not). Prints "OUT LEAF".
client_closure() { # name
	leaf=$(client_add "$1-leaf" "leaf")
	drv=$(nix-instantiate --expr "derivation { name = \"$1\"; system = builtins.currentSystem; builder = \"/bin/sh\"; args = [\"-c\" \"echo \$a > \$out\"]; a = builtins.storePath \"$leaf\"; }" 2>/dev/null)
	echo "$(nix-store -r "$drv" 2>/dev/null) $leaf"
}
# An input-addressed path in the client store (a local build's output).
client_ia() { # name contents
	nix-store -r "$(nix-instantiate --expr "derivation { name = \"$1\"; system = builtins.currentSystem; builder = \"/bin/sh\"; args = [\"-c\" \"echo $2 > \$out\"]; }" 2>/dev/null)" 2>/dev/null
}
# A two-level derivation whose top output says "top host" when its
# dependency was built on the host (the host has /nix/host-marker).
two_level_nix() { # file name
	cat > "$1" <<-NIX
	let
	  dep = derivation { name = "$2-dep"; system = builtins.currentSystem; builder = "/bin/sh";
	    args = [ "-c" "if [ -e /nix/host-marker ]; then echo host > \$out; else echo local > \$out; fi" ]; };
	in derivation { name = "$2-top"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "read x < \${dep}; echo \"top \$x\" > \$out" ]; }
	NIX
}
# The host store, for "left as it was": the valid paths, and every entry of
# the store directory but the lock files the daemon keeps next to paths it
# was asked to add.
store_state() { bed_host sh -c 'ls -a /nix/store | grep -v "\.lock$"; nix path-info --all' 2>&1 | md5sum; }
# The same with nothing left out: a refusal that must leave no trace at all
# (no .lock file either) compares this.
store_strict() { bed_host sh -c 'ls -a /nix/store; nix path-info --all' 2>&1 | md5sum; }
host_valid() { bed_host nix-store --check-validity "$1" 2>/dev/null; }
host_hash() { bed_host nix-store -q --hash "$1"; }
client_hash() { nix-store -q --hash "$1"; }
# Both forced commands: the baseline proves the bed, then nixgate.
STORES="${STORES:-nixstore gate}"

# Raw serve-protocol streams of a hostile client (tests/tools/hostile.pl):
# the path, content address and NAR hash a stream's claim gives, and the
# stream sent through sshd. h_refused and h_accepted call the file's judge.
HOS="$top/tests/tools/hostile.pl"
hpath() { perl "$HOS" --print-path "$@" | sed -n 1p; }
hca() { perl "$HOS" --print-path "$@" | sed -n 2p; }
hnarhash() { perl "$HOS" --print-path "$@" | sed -n 3p; }
hsend() { # KEY ARGS...: the stream through sshd; status in $st
	local k=$1
	shift
	perl "$HOS" "$@" > "$B/h.in" || return 1
	ssh -F "$B/ssh_config" "$k" nix-store --serve --write < "$B/h.in" > "$B/h.out" 2> "$B/h.err"
	st=$?
}
# h_refused NAME KEY LINE ARGS...: hostile.pl ARGS refused with LINE
h_refused() {
	local n=$1 k=$2 want=$3 p
	shift 3
	p=$(hpath "$@")
	before=$(store_strict)
	hsend "$k" "$@" || { bad "$n" "hostile.pl failed"; return; }
	judge "$n" "$p" "$want"
}
# h_accepted NAME KEY ARGS...: accepted, valid, with the NAR that was sent
h_accepted() {
	local n=$1 k=$2 p h
	shift 2
	p=$(hpath "$@")
	h=$(hnarhash "$@")
	if hsend "$k" "$@" && [ "$st" -eq 0 ] && host_valid "$p" && [ "$(host_hash "$p")" = "$h" ]; then
		ok "$n"
	else
		bad "$n" "exit status $st: $(head -c 400 "$B/h.err" | tr '\n' '|')"
	fi
}

# The worker protocol (ssh-ng://) as raw bytes.
# wbytes TOKEN...: a client stream of the worker protocol: hello (magic,
# 1.34, no CPU affinity, no reserved space), hello38 (1.38 with an empty
# feature list), u:N (a u64), s:TEXT (a string), r:N:TEXT (the string N
# times)
wbytes() {
	perl -e 'sub u { pack "Q<", $_[0] } sub st { u(length $_[0]) . $_[0] . ("\0" x ((8 - length($_[0]) % 8) % 8)) }
		for (@ARGV) {
			if ($_ eq "hello") { print u(0x6e697863), u(0x122), u(0), u(0) }
			elsif ($_ eq "hello38") { print u(0x6e697863), u(0x126), u(0), u(0), u(0) }
			elsif (/^u:(\d+)$/) { print u($1) }
			elsif (/^s:(.*)$/s) { print st($1) }
			elsif (/^r:(\d+):(.*)$/s) { print st($2) x $1 }
			else { die "wbytes: $_" }
		}' "$@"
}
# pl_send TOOL KEY ARGS...: the stream `perl TOOL ARGS` writes, through
# sshd as nix-daemon --stdio; answer in $B/w.out, stderr in $B/w.err,
# status in $st
pl_send() {
	t=$1 k=$2
	shift 2
	perl "$t" "$@" > "$B/w.in" || return 1
	ssh -F "$B/ssh_config" "$k" nix-daemon --stdio < "$B/w.in" > "$B/w.out" 2> "$B/w.err"
	st=$?
}
# pl_refused TOOL NAME KEY LINE PATH ARGS...: refused with status 100 and
# the one line LINE (a grep pattern if it starts with ^), PATH not valid,
# the host store strictly unchanged
pl_refused() {
	t=$1 n=$2 k=$3 want=$4 p=$5
	shift 5
	before=$(store_strict)
	pl_send "$t" "$k" "$@" || { bad "$n" "$(basename "$t") failed"; return; }
	case $want in
	^*) [ "$(errlines "$B/w.err")" -eq 1 ] && grep -qx "nixgate-serve: ${want#^}" "$B/w.err"; seen=$? ;;
	*) one_line "$B/w.err" "$want"; seen=$? ;;
	esac
	if [ "$st" -ne 100 ] || [ $seen -ne 0 ]; then
		bad "$n" "exit status $st: $(head -c 500 "$B/w.err" | tr '\n' '|')"
	elif [ -n "$p" ] && host_valid "$p"; then
		bad "$n" "refused, but $p is valid on the host"
	elif [ "$before" != "$(store_strict)" ]; then
		bad "$n" "the host store changed"
	else
		ok "$n"
	fi
}
# wsend KEY TOKEN...: the stream through sshd as nix-daemon --stdio; the
# answer in $B/w.out, stderr in $B/w.err, the status in $st
wsend() {
	k=$1
	shift
	wbytes "$@" > "$B/w.in" || return 1
	ssh -F "$B/ssh_config" "$k" nix-daemon --stdio < "$B/w.in" > "$B/w.out" 2> "$B/w.err"
	st=$?
}
# wrefused NAME KEY STATUS LINE TOKEN...: refused with STATUS and the one
# stderr line LINE, the host store unchanged (lock files too)
wrefused() {
	n=$1 k=$2 want=$3 line=$4
	shift 4
	before=$(store_strict)
	wsend "$k" "$@" || { bad "$n" "wbytes failed"; return; }
	if [ "$st" -ne "$want" ] || ! one_line "$B/w.err" "key $k: $line"; then
		bad "$n" "exit status $st: $(head -c 400 "$B/w.err" | tr '\n' '|')"
	elif [ "$before" != "$(store_strict)" ]; then
		bad "$n" "the host store changed"
	else
		ok "$n"
	fi
}
