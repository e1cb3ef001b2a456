# Helpers for end-to-end tests.
T_NAME=$(basename "${1:-x}" .sh | sed 's/^t_//')
ok() { echo "PASS e2e/$T_NAME/$1"; }
bad() { echo "FAIL e2e/$T_NAME/$1: $2"; }
# check NAME COMMAND...: PASS if the command succeeds
check() { n=$1; shift; if "$@" > "$B/last.out" 2>&1; then ok "$n"; else bad "$n" "$(tail -n 3 "$B/last.out" | tr '\n' ' ')"; fi; }

# A text file in the client store: its store path on stdout.
client_add() { # name contents
	printf '%s\n' "$2" > "$B/$1"
	nix-store --add "$B/$1"
}
host_valid() { bed_host nix-store --check-validity "$1" 2>/dev/null; }
host_hash() { bed_host nix-store -q --hash "$1"; }
client_hash() { nix-store -q --hash "$1"; }
# Both forced commands: the baseline proves the bed, then nixgate.
STORES="${STORES:-nixstore gate}"
