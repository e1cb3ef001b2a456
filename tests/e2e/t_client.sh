# nixgate ping and doctor against the test bed: nixgate-serve with its policy,
# plain nix-store, and one builder entry per kind of problem.
NG=$NIXGATE
SYS="$(uname -m)-linux"
bed_key sysonly "$B/bin/nixgate-serve --key sysonly --trusted --systems $SYS --audit-log none"
bed_key wrongprog "/nonexistent/nixgate-serve --key wrongprog"
bed_key chatty "echo hello from bashrc; exec $B/bin/nixgate-serve --key chatty --trusted --audit-log none"
ssh-keygen -q -t ed25519 -N '' -f "$B/key-stranger" -C stranger
cp "$B/key-gate" "$B/key-open" && chmod 644 "$B/key-open"
# host aliases with a problem: a key the host does not know, nothing
# listening, a host key nobody has seen
cat >> "$B/ssh_config" <<CONF
Host stranger down unknownhk
  HostName 127.0.0.1
  User $BED_USER
  IdentitiesOnly yes
  BatchMode yes
  LogLevel ERROR
Host stranger
  Port $BED_PORT
  IdentityFile $B/key-stranger
  UserKnownHostsFile $B/known_hosts
Host down
  Port 1
  IdentityFile $B/key-gate
Host unknownhk
  Port $BED_PORT
  IdentityFile $B/key-gate
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking yes
CONF

json_ok() { perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); exit !($j->{usable} && eval($ARGV[0]))' "$1"; }

t_ping_nixgate() {
	if "$NG" ping ssh://gate > "$B/ping.out" 2>&1 && grep -q "server  *nixgate-serve 0.1, serve protocol 2.8" "$B/ping.out" &&
	   grep -q "key  *gate$" "$B/ping.out" && grep -q "trusted  *true$" "$B/ping.out" &&
	   grep -q "usable  *yes: ssh [0-9]* ms, handshake [0-9]* ms, query [0-9.]* ms" "$B/ping.out"; then
		ok ping/nixgate
	else
		bad ping/nixgate "$(tr '\n' '|' < "$B/ping.out")"
	fi
	if "$NG" ping --json untrusted > "$B/ping.json" 2>&1 &&
	   json_ok '$j->{server} eq "nixgate-serve" && $j->{policy}{trusted} eq "false" && $j->{policy}{key} eq "untrusted" && $j->{protocol} eq "2.8" && defined $j->{ssh_ms} && $j->{handshake_ms} > 0 && defined $j->{query_ms}' < "$B/ping.json"; then
		ok ping/json-policy
	else
		bad ping/json-policy "$(cat "$B/ping.json")"
	fi
}

t_ping_nix_store() {
	if "$NG" ping ssh://nixstore > "$B/ping.out" 2>&1 && grep -q "nix-store --serve (no per-key policy)" "$B/ping.out" &&
	   "$NG" ping --json ssh://nixstore | json_ok '$j->{server} eq "nix-store" && !defined $j->{policy}'; then
		ok ping/nix-store
	else
		bad ping/nix-store "$(tr '\n' '|' < "$B/ping.out")"
	fi
}

# ping_cause NAME URI PATTERN: not usable, with PATTERN as the cause
ping_cause() {
	"$NG" ping "$2" > /dev/null 2> "$B/ping.err"; st=$?
	if [ "$st" = 1 ] && grep -q "$3" "$B/ping.err"; then ok "ping/$1"; else bad "ping/$1" "status $st: $(cat "$B/ping.err")"; fi
}

t_ping_causes() {
	ping_cause dns ssh://no-such-host.invalid "the host name does not resolve"
	ping_cause wrong-program ssh://wrongprog "the remote command ended (status 127) without speaking the serve protocol: .*/nonexistent/nixgate-serve: not found"
}

t_ping_unusable() {
	"$NG" ping ssh://down > "$B/ping.out" 2> "$B/ping.err"; st=$?
	if [ "$st" = 1 ] && [ ! -s "$B/ping.out" ] && grep -q "not usable: the connection was refused" "$B/ping.err" &&
	   [ "$(errlines "$B/ping.err")" = 1 ]; then
		ok ping/unusable
	else
		bad ping/unusable "status $st: $(cat "$B/ping.err")"
	fi
}

# doctor_finds NAME BUILDERS PATTERN: doctor exits 1 and says PATTERN
doctor_finds() {
	"$NG" doctor --builders "$2" > "$B/doc.out" 2>&1; st=$?
	if [ "$st" = 1 ] && grep -q "problem: $3" "$B/doc.out"; then
		ok "doctor/$1"
	else
		bad "doctor/$1" "status $st: $(tr '\n' '|' < "$B/doc.out")"
	fi
}

t_doctor() {
	doctor_finds wrong-key "ssh://stranger $SYS" "the host refuses the key; fix: put the key"
	doctor_finds sshd-down "ssh://down $SYS" "the connection was refused"
	doctor_finds host-key "ssh://unknownhk $SYS" "the host key is unknown"
	doctor_finds shell-output "ssh://chatty $SYS" 'the remote side printed "hello from bashrc" before the serve protocol'
	doctor_finds system "ssh://sysonly $SYS,riscv64-linux" "the entry promises system riscv64-linux, but the host's policy for key sysonly allows only: $SYS"
	doctor_finds untrusted "ssh://untrusted $SYS" "key untrusted is not trusted on the host"
	doctor_finds key-file "ssh://gate $SYS $B/key-open" "the ssh key file $B/key-open is open to others (mode 644)"
	if "$NG" doctor --builders "ssh://gate $SYS - 2 1 big-parallel; ssh://nixstore $SYS" > "$B/doc.out" 2>&1 &&
	   [ "$(cat "$B/doc.out")" = "ssh://gate: ok (nixgate-serve, key gate, trusted)
ssh://nixstore: ok (nix-store --serve, no per-key policy)" ]; then
		ok doctor/clean
	else
		bad doctor/clean "$(tr '\n' '|' < "$B/doc.out")"
	fi
	# the local configuration's builders, through a machines file, and JSON
	printf 'ssh://gate %s\n# a comment\nssh://untrusted %s - 1 1\n' "$SYS" "$SYS" > "$B/machines"
	NIX_CONFIG="builders = @$B/machines" "$NG" doctor --json > "$B/doc.json" 2>&1; st=$?
	if [ "$st" = 1 ] && perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); my @b = @{$j->{builders}};
		exit !(@b == 2 && $b[0]{ok} && !$b[1]{ok} && $b[1]{problems}[0]{cause} =~ /not trusted/)' < "$B/doc.json"; then
		ok doctor/machines-file-json
	else
		bad doctor/machines-file-json "status $st: $(cat "$B/doc.json")"
	fi
}

# A check leaves no ssh master behind when the user's ssh config persists
# them (ControlMaster auto, ControlPersist): one that stayed would hold the
# check's pipe open, and the check waited for it
t_ping_control_persist() {
	cp "$B/ssh_config" "$B/ssh_config_cm"
	printf 'Host *\n  ControlMaster auto\n  ControlPath %s/cm-%%C\n  ControlPersist 60\n' "$B" >> "$B/ssh_config_cm"
	NIX_SSHOPTS="-F $B/ssh_config_cm" "$NG" ping ssh://gate > "$B/cm.out" 2>&1; st=$?
	if [ "$st" = 0 ] && ! ls "$B"/cm-* > /dev/null 2>&1; then
		ok ping/control-persist
	else
		bad ping/control-persist "status $st, masters: $(ls "$B"/cm-* 2>&1 | tr '\n' ' ')"
	fi
	for s in "$B"/cm-*; do [ -e "$s" ] && ssh -o ControlPath="$s" -O exit gate 2>/dev/null; done
}
