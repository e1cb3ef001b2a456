# The command lines as people type them: --help and --version answer on
# stdout with status 0; a wrong flag, a missing value or an unknown command
# is status 100 with a first stderr line naming the problem and the --help
# to read; the manual pages name every flag and command --help does.
# Run from the source tree by tests/run.sh; needs no test bed.
set -u
ok() { echo "PASS cli/$1"; }
bad() { echo "FAIL cli/$1: $2"; }
out=$(mktemp -d /tmp/nixgate-cli.XXXXXX)
trap 'rm -rf "$out"' EXIT
ln -s "$(pwd)/build/nixgate" "$out/nixgate-build-hook"

# answers NAME STDOUT-REGEX COMMAND...: status 0, stdout's first line
# matches, nothing on stderr
answers() {
	n=$1 want=$2; shift 2
	"$@" > "$out/o" 2> "$out/e" < /dev/null
	st=$?
	if [ "$st" = 0 ] && [ ! -s "$out/e" ] && head -n 1 "$out/o" | grep -qx -- "$want"; then
		ok "$n"
	else
		bad "$n" "status $st, stdout '$(head -n 1 "$out/o")', stderr '$(head -n 1 "$out/e")'"
	fi
}

# refuses NAME STDERR-LINE COMMAND...: status 100, the first stderr line is
# exactly the one given, nothing on stdout
refuses() {
	n=$1 want=$2; shift 2
	"$@" > "$out/o" 2> "$out/e" < /dev/null
	st=$?
	if [ "$st" = 100 ] && [ ! -s "$out/o" ] && [ "$(head -n 1 "$out/e")" = "$want" ]; then
		ok "$n"
	else
		bad "$n" "status $st, stdout '$(head -n 1 "$out/o")', stderr '$(head -n 1 "$out/e")'"
	fi
}

S=build/nixgate-serve
C=build/nixgate
answers serve/help 'usage: nixgate-serve .*' $S --help
answers serve/h 'usage: nixgate-serve .*' $S -h
answers serve/version 'nixgate-serve [0-9][0-9.]*' $S --version
answers serve/help-among-flags 'usage: nixgate-serve .*' $S --key ci --trusted --help
refuses serve/unknown-flag "nixgate-serve: unknown option '--bogus'; see nixgate-serve --help" $S --key ci --bogus
refuses serve/stray-argument "nixgate-serve: unknown argument 'ci'; see nixgate-serve --help" $S ci
refuses serve/key-no-name "nixgate-serve: --key needs a NAME; see nixgate-serve --help" $S --key
refuses serve/setting-no-value "nixgate-serve: --max-jobs needs N; see nixgate-serve --help" $S --key ci --max-jobs
refuses serve/check-no-file "nixgate-serve: --check-policy needs a FILE; see nixgate-serve --help" $S --check-policy
refuses serve/c-no-command "nixgate-serve: -c needs a COMMAND; see nixgate-serve --help" $S -c
many=$(i=0; while [ $i -lt 65 ]; do printf -- '--trusted '; i=$((i + 1)); done)
# shellcheck disable=SC2086
refuses serve/too-many-flags \
	"nixgate-serve: more than 64 settings as flags: put them in a policy file (--policy FILE); see nixgate-serve --help" \
	$S --key ci $many

answers client/help 'usage: nixgate COMMAND .*' $C --help
answers client/h 'usage: nixgate COMMAND .*' $C -h
answers client/help-command 'usage: nixgate COMMAND .*' $C help
answers client/help-ping 'usage: nixgate ping .*' $C help ping
answers client/ping-help 'usage: nixgate ping .*' $C ping --help
answers client/doctor-help 'usage: nixgate doctor .*' $C doctor --help
answers client/hook-help 'usage: nixgate build-hook .*' $C build-hook --help
answers client/version 'nixgate [0-9][0-9.]*' $C --version
answers client/version-command 'nixgate [0-9][0-9.]*' $C version
answers client/hook-name-help 'usage: nixgate build-hook .*' "$out/nixgate-build-hook" --help
answers client/hook-name-version 'nixgate [0-9][0-9.]*' "$out/nixgate-build-hook" --version
refuses client/no-command "nixgate: a command is expected (ping, doctor, build-hook, version, help); see nixgate --help" $C
refuses client/unknown-command "nixgate: unknown command 'pong'; see nixgate --help" $C pong
refuses client/unknown-option "nixgate: unknown option '--pong'; see nixgate --help" $C --pong
refuses client/help-unknown "nixgate help: no command 'pong'; see nixgate --help" $C help pong
refuses client/ping-no-host "nixgate ping: a host is expected; see nixgate ping --help" $C ping
refuses client/ping-json-no-host "nixgate ping: a host is expected; see nixgate ping --help" $C ping --json
refuses client/ping-bad-option "nixgate ping: unknown option '--jsn'; see nixgate ping --help" $C ping --jsn builder
refuses client/ping-two-hosts "nixgate ping: one host at a time: 'b' is one too many; see nixgate ping --help" $C ping a b
refuses client/doctor-no-spec \
	"nixgate doctor: --builders needs a SPEC, as in nix.conf's builders; see nixgate doctor --help" $C doctor --builders
refuses client/doctor-bad-argument "nixgate doctor: unknown argument 'x'; see nixgate doctor --help" $C doctor x

# the hook run by hand at a terminal says who runs it, instead of waiting
# for the daemon's settings
if command -v script > /dev/null; then
	script -eqc "$C build-hook 1" /dev/null > "$out/o" 2>&1
	st=$?
	if [ "$st" = 100 ] &&
	   head -n 1 "$out/o" | tr -d '\r' | grep -qx "nixgate build-hook: nix-daemon runs the hook: .*; see nixgate build-hook --help"; then
		ok client/hook-at-terminal
	else
		bad client/hook-at-terminal "status $st: $(head -n 2 "$out/o" | tr '\r\n' '  ')"
	fi
else
	bad client/hook-at-terminal "script(1) is missing (util-linux)"
fi

# every flag --help names is in nixgate-serve(8), every command in nixgate(1)
missing=
for f in $($S --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q "^\.\(It \|\)\(Op \|\)Fl ${f#-}\( \|$\)" man/nixgate-serve.8 || missing="$missing $f"
done
if [ -z "$missing" ] && [ "$($S --help | grep -o -- '--[a-z][a-z-]*' | sort -u | wc -l)" -gt 20 ]; then
	ok man/serve-flags
else
	bad man/serve-flags "not in man/nixgate-serve.8:$missing"
fi
missing=
for c in $($C --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'); do
	grep -q "^\.It Cm $c\( \|$\)" man/nixgate.1 || missing="$missing $c"
done
for f in --help --version; do
	grep -q "^\.It Fl ${f#-}\( \|$\)" man/nixgate.1 || missing="$missing $f"
done
if [ -z "$missing" ] && [ "$($C --help | grep -c '^  [a-z]')" -ge 5 ]; then
	ok man/client-commands
else
	bad man/client-commands "not in man/nixgate.1:$missing"
fi
