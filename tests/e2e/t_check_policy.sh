# nixgate-serve --check-policy: a policy file's effective policy on stdout
# and exit 0, or the one line naming file, line and problem and exit 111;
# and the two mistakes it names that the host now refuses at start-up too
# (a host setting inside a section, a section no --key can choose).
SERVE=$B/bin/nixgate-serve
cat > "$B/cp.conf" <<CONF
host-max-jobs = 4
state-dir = $B/home/state
audit-log = none
[key ro]
allow = query, export
[key laptop]
trusted = true
CONF

# check_fails NAME FILE LINE [ARGS...]: exit 111, nothing on stdout, LINE
# the one line on stderr
check_fails() {
	n=$1 f=$2 want=$3
	shift 3
	"$SERVE" --check-policy "$f" "$@" > "$B/cp.out" 2> "$B/cp.err"
	st=$?
	if [ "$st" -eq 111 ] && [ ! -s "$B/cp.out" ] && one_line "$B/cp.err" "$want"; then
		ok "$n"
	else
		bad "$n" "status $st: $(head -c 300 "$B/cp.err" "$B/cp.out" | tr '\n' '|')"
	fi
}

t_check_good() {
	"$SERVE" --check-policy "$B/cp.conf" > "$B/cp.out" 2> "$B/cp.err"
	st=$?
	# both keys, in order; the untrusted defaults for ro only; the host's
	# setting for both
	got=$(grep -E '^\[key |^max-nar-size|^allow|^host-max-jobs' "$B/cp.out" | tr '\n' '|')
	want='[key ro]|allow = query,export|max-nar-size = 4294967296|host-max-jobs = 4|[key laptop]|allow = query,export,import,build|max-nar-size = none|host-max-jobs = 4|'
	if [ "$st" -eq 0 ] && [ ! -s "$B/cp.err" ] && [ "$got" = "$want" ]; then
		ok check/good
	else
		bad check/good "status $st: $got $(head -c 300 "$B/cp.err")"
	fi
	"$SERVE" --check-policy "$B/cp.conf" --key ro --max-jobs 2 > "$B/cp.out" 2> "$B/cp.err"
	st=$?
	if [ "$st" -eq 0 ] && grep -qx 'max-jobs = 2' "$B/cp.out" && ! grep -q laptop "$B/cp.out"; then
		ok check/one-key-with-flags
	else
		bad check/one-key-with-flags "status $st: $(head -c 300 "$B/cp.err")"
	fi
	# the file checked is the one the host applies: a session of ro goes through
	bed_key cp-ro "$SERVE --policy $B/cp.conf --key ro"
	check check/host-applies-it nix store ping --store ssh://cp-ro
}

t_check_errors() {
	printf '[key a]\nmax-nar-size = 12Q\n' > "$B/e1.conf"
	check_fails check/bad-value "$B/e1.conf" "$B/e1.conf:2: '12Q' is not a size (a positive number with an optional KMGT suffix, or none)"
	printf '[key a]\n\nfrobnicate = yes\n' > "$B/e2.conf"
	check_fails check/unknown-setting "$B/e2.conf" "$B/e2.conf:3: unknown setting 'frobnicate'"
	printf '[key a]\n[key a]\n' > "$B/e3.conf"
	check_fails check/second-section "$B/e3.conf" "$B/e3.conf:2: a second section for key a"
	printf 'trusted = true\n' > "$B/e4.conf"
	check_fails check/no-section "$B/e4.conf" "$B/e4.conf: no section [key NAME]: no key may use it"
	check_fails check/no-such-key "$B/cp.conf" "$B/cp.conf: no section [key nope]" --key nope
	check_fails check/bad-flag "$B/cp.conf" "option --allow: 'delete' is not an operation (query, export, import, build)" --allow delete
	check_fails check/no-file "$B/none.conf" "policy file $B/none.conf: No such file or directory"
}

# start_fails NAME FILE LINE: the forced command of key a stops with LINE
start_fails() {
	"$SERVE" --policy "$2" --key a < /dev/null > "$B/sf.out" 2> "$B/sf.err"
	st=$?
	if [ "$st" -eq 111 ] && [ ! -s "$B/sf.out" ] && one_line "$B/sf.err" "key a: $3"; then
		ok "$1"
	else
		bad "$1" "status $st: $(head -c 300 "$B/sf.err" | tr '\n' '|')"
	fi
	check_fails "$1/checked" "$2" "$3"
}

t_host_refuses() {
	printf 'host-max-jobs = 2\n[key a]\n[key b]\nhost-max-jobs = 8\n' > "$B/h1.conf"
	start_fails start/host-setting-in-section "$B/h1.conf" \
		"$B/h1.conf:4: host-max-jobs is a host setting: its place is before any section"
	printf '[key a]\n[key b/c]\n' > "$B/h2.conf"
	start_fails start/bad-section-name "$B/h2.conf" \
		"$B/h2.conf:2: 'b/c' is not a key name (up to 64 letters, digits and ._@+-)"
}
