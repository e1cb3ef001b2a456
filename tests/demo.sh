# ./build.sh demo: the main job through nixgate-serve on a throwaway build host.
# Runs inside a private mount namespace (build.sh arranges it).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/bed.sh"
bed_up
trap bed_down EXIT INT TERM
mkdir -p "$B/bin"
cp "$top/build/nixgate-serve" "$B/bin/"
bed_key buildhost "$B/bin/nixgate-serve --key demo --trusted"
step() { printf '\n== %s\n' "$*"; }

step "build host: sshd on 127.0.0.1:$BED_PORT, forced command:"
grep -o 'command="[^"]*"' "$B/auth/$BED_USER"

step "nix store ping --store ssh://buildhost"
nix store ping --store ssh://buildhost

step "nixgate ping ssh://buildhost (the key's policy, as the host applies it)"
"$top/build/nixgate" ping ssh://buildhost

step "remote build: nix-build --max-jobs 0 --builders 'ssh://buildhost ...'"
cat > "$B/demo.nix" <<'NIX'
let
  dep = derivation { name = "demo-dep"; system = builtins.currentSystem; builder = "/bin/sh";
    args = [ "-c" "if [ -e /nix/host-marker ]; then echo 'built on the build host'; else echo 'built locally'; fi > $out" ]; };
in derivation { name = "demo"; system = builtins.currentSystem; builder = "/bin/sh";
  args = [ "-c" "read x < ${dep}; echo \"demo: dependency says: $x\" > $out" ]; }
NIX
out=$(nix-build --no-out-link --max-jobs 0 --builders "ssh://buildhost $(uname -m)-linux - 2 1 big-parallel" "$B/demo.nix")
echo "output: $out"
cat "$out"

step "nix copy --to ssh://buildhost"
printf 'hello from the client\n' > "$B/hello.txt"
p=$(nix-store --add "$B/hello.txt")
nix copy --to ssh://buildhost "$p"
echo "on the host: $(bed_host cat "$p")"

step "nix copy --from ssh://buildhost"
printf 'hello from the host\n' > "$B/host-hello.txt"
h=$(bed_host nix-store --add "$B/host-hello.txt")
nix copy --no-check-sigs --from ssh://buildhost "$h"
echo "on the client: $(cat "$h")"

step "done; removing the build host"
