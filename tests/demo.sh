# ./build.sh demo: a throwaway build host behind nixgate-serve, and two keys'
# stories on it. A trusted key does what `nix-store --serve --write` did; a
# key without --trusted gets Nix's own remote build refused, the same build
# through nixgate's hook, a signed copy in and an unsigned one out; the
# audit log tells it all again. Each step checks what it shows: the demo
# exits non-zero if one does not behave so.
# Runs inside a private mount namespace (build.sh arranges it).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/bed.sh"
bed_up
trap bed_down EXIT INT TERM
mkdir -p "$B/bin"
cp "$top/build/nixgate-serve" "$B/bin/"
ln -s "$top/build/nixgate" "$B/bin/nixgate"
ln -s nixgate "$B/bin/nixgate-build-hook"
SYS="$(uname -m)-linux"
AUDIT=$B/home/audit.log
bed_key buildhost "$B/bin/nixgate-serve --key demo --trusted --audit-log $AUDIT"
step() { printf '\n== %s\n' "$*"; }
say() { printf '%s\n' "$*"; }
failed() { printf '\ndemo: FAILED: %s\n' "$*" >&2; exit 1; }
t0=$(date +%s)

step "build host: sshd on 127.0.0.1:$BED_PORT, forced command:"
grep -o 'command="[^"]*"' "$B/auth/$BED_USER"

step "nix store ping --store ssh://buildhost"
nix store ping --store ssh://buildhost

step "nixgate ping ssh://buildhost (the key's policy, as the host applies it)"
"$B/bin/nixgate" ping ssh://buildhost

# demo.nix NAME: a build whose output says where its dependency was built
# (only the host has /nix/host-marker)
cat > "$B/demo.nix" <<'NIX'
{ name }:
let
  dep = derivation { name = "${name}-dep"; system = builtins.currentSystem; builder = "/bin/sh";
    args = [ "-c" "if [ -e /nix/host-marker ]; then echo 'built on the build host'; else echo 'built locally'; fi > $out" ]; };
in derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh";
  args = [ "-c" "read x < ${dep}; echo \"${name}: dependency says: $x\" > $out" ]; }
NIX

step "remote build: nix-build --max-jobs 0 --builders 'ssh://buildhost ...'"
out=$(nix-build --no-out-link --max-jobs 0 --builders "ssh://buildhost $SYS - 2 1 big-parallel" \
	--argstr name demo "$B/demo.nix")
echo "output: $out"
cat "$out"
grep -qx "demo: dependency says: built on the build host" "$out" || failed "the remote build ran locally"

step "nix copy --to ssh://buildhost"
printf 'hello from the client\n' > "$B/hello.txt"
p=$(nix-store --add "$B/hello.txt")
nix copy --to ssh://buildhost "$p"
got=$(bed_host cat "$p")
echo "on the host: $got"
[ "$got" = "hello from the client" ] || failed "the copy to the host"

step "nix copy --from ssh://buildhost"
printf 'hello from the host\n' > "$B/host-hello.txt"
h=$(bed_host nix-store --add "$B/host-hello.txt")
nix copy --no-check-sigs --from ssh://buildhost "$h"
echo "on the client: $(cat "$h")"
[ "$(cat "$h")" = "hello from the host" ] || failed "the copy from the host"

say "
======================================================================
A key that is NOT trusted, on the same host: what a CI runner or a
colleague's laptop gets. Nothing it sends reaches the host's store unless
nixgate has verified it: content-addressed paths, derivations the host
builds itself, and paths signed by a key this key's line names.
======================================================================"
nix-store --generate-binary-cache-key ci-signing-1 "$B/ci.sec" "$B/ci.pub"
bed_key buildhost-ci "$B/bin/nixgate-serve --key ci --trusted-public-key $(cat "$B/ci.pub") --audit-log $AUDIT"

step "its forced command (no --trusted; one signing key it may import with):"
grep -o 'command="[^"]*--key ci [^"]*"' "$B/auth/$BED_USER"

step "nixgate ping ssh://buildhost-ci"
"$B/bin/nixgate" ping ssh://buildhost-ci | tee "$B/ping-ci"
grep -q "^  trusted  *false$" "$B/ping-ci" || failed "the key's policy does not say it is not trusted"

step "Nix's own remote build through it: nix-build --max-jobs 0 --builders 'ssh://buildhost-ci ...'"
say "(Nix's hook sends the derivation with the output paths the client computed, for the host to take on trust)"
if nix-build --no-out-link --max-jobs 0 --builders "ssh://buildhost-ci $SYS - 2 1" \
	--argstr name story "$B/demo.nix" > "$B/stock.out" 2>&1; then
	cat "$B/stock.out"
	failed "Nix's own hook built through a key that is not trusted"
fi
grep "nixgate-serve:\|^error:" "$B/stock.out" | sed 's/^/  | /'
grep -q "^nixgate-serve: key ci: BuildDerivation of '.*-story-dep.drv' refused by rule build: it is input-addressed" \
	"$B/stock.out" || failed "the refusal is not nixgate's one line"
n=$(bed_host sh -c 'ls -a /nix/store | grep -c story' || true)
say "the host's store: $n entries named *story*, lock files included"
[ "$n" = 0 ] || failed "the refused build left $n entries in the host's store"

step "the same build through nixgate's hook, in the client's nix-daemon:"
mkdir -p "$B/hook-conf"
cat "$B/client-conf/nix.conf" > "$B/hook-conf/nix.conf"
cat >> "$B/hook-conf/nix.conf" <<CONF
build-hook = $B/bin/nixgate-build-hook
builders = ssh://buildhost-ci $SYS - 2 1
CONF
tail -n 2 "$B/hook-conf/nix.conf" | sed 's/^/  nix.conf: /'
NIX_CONF_DIR="$B/hook-conf" nix-daemon > "$B/client-daemon.log" 2>&1 &
echo $! > "$B/client-daemon.pid"
for i in $(seq 100); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.1; done
say "(it copies the .drv files, which the host checks by their hash, and asks for a build by path: the host derives the outputs itself)"
say "\$ nix-build --max-jobs 0 --argstr name story demo.nix"
out=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 --argstr name story "$B/demo.nix" 2> "$B/hook.out") ||
	{ cat "$B/hook.out"; failed "the build through nixgate's hook"; }
grep "building\|copying path" "$B/hook.out" | sed 's/^/  | /'
echo "output: $out"
cat "$out"
grep -qx "story: dependency says: built on the build host" "$out" || failed "the hook's build ran locally"

step "a signed input-addressed path: nix store sign --key-file ci.sec, then nix copy --to ssh://buildhost-ci"
signed=$(nix-build --no-out-link --max-jobs 1 --builders '' --expr \
	'derivation { name = "signed-by-ci"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo signed > $out" ]; }' 2> /dev/null)
nix store sign --key-file "$B/ci.sec" "$signed" 2>&1 | sed 's/^/  | /'
nix copy --to ssh://buildhost-ci "$signed" 2>&1 | sed 's/^/  | /'
bed_host nix-store --check-validity "$signed" || failed "the signed path is not on the host"
sig=$(bed_host nix path-info --sigs "$signed" | awk '{print $2}')
say "on the host, with its signature: $sig"
case $sig in ci-signing-1:*) ;; *) failed "the host has no ci-signing-1 signature on it" ;; esac

step "an unsigned input-addressed path: nix copy --to ssh://buildhost-ci"
unsigned=$(nix-build --no-out-link --max-jobs 1 --builders '' --expr \
	'derivation { name = "unsigned"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo unsigned > $out" ]; }' 2> /dev/null)
if nix copy --to ssh://buildhost-ci "$unsigned" > "$B/unsigned.out" 2>&1; then
	cat "$B/unsigned.out"
	failed "an unsigned input-addressed path was accepted"
fi
grep "nixgate-serve:\|^error:" "$B/unsigned.out" | sed 's/^/  | /'
grep -q "^nixgate-serve: key ci: AddToStoreNar of '$unsigned' refused by rule import: it is not content-addressed and has no signature" \
	"$B/unsigned.out" || failed "the refusal is not nixgate's one line"
! bed_host nix-store --check-validity "$unsigned" 2> /dev/null || failed "the unsigned path is on the host"
[ -z "$(bed_host sh -c "ls -a /nix/store | grep -F '${unsigned#/nix/store/}'" || true)" ] ||
	failed "the unsigned path left a file in the host's store"
say "the host's store: no entry named *${unsigned#/nix/store/}*, lock files included"

step "the audit log: a line per session and per request, of both keys ($AUDIT)"
sed 's/^/  /' "$AUDIT"
# each story's line, from the log itself
for want in "key=demo op=session .*trusted=1" "key=ci op=session .*trusted=0" \
	"key=ci op=BuildDerivation .*story-dep.drv.*result=refused rule=build" \
	"key=ci op=BuildPaths .*story-dep.drv.*result=ok" "key=ci op=BuildPaths .*-story.drv.*result=ok" \
	"key=ci op=AddToStoreNar .*signed-by-ci.*result=ok" \
	"key=ci op=AddToStoreNar .*-unsigned .*result=refused rule=import"; do
	grep -q "$want" "$AUDIT" || failed "no audit line matching: $want"
done

step "done in $(($(date +%s) - t0)) s; removing the build host"
