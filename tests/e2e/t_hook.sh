# nixgate as the build hook of the client's nix-daemon: a derivation with an
# input-addressed dependency builds on the host through an untrusted key
# (which Nix's own hook cannot: see policy/untrusted/input-addressed-build),
# and the outputs arrive in the client store.
SYS="$(uname -m)-linux"
ln -s "$top/build/nixgate" "$B/bin/nixgate-build-hook"
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
	cat > "$B/hook.nix" <<-NIX
	let
	  dep = derivation { name = "hook-dep"; system = builtins.currentSystem; builder = "/bin/sh";
	    args = [ "-c" "if [ -e /nix/host-marker ]; then echo host > \$out; else echo local > \$out; fi" ]; };
	in derivation { name = "hook-top"; system = builtins.currentSystem; builder = "/bin/sh";
	  args = [ "-c" "read x < \${dep}; echo \"top \$x\" > \$out" ]; }
	NIX
	if o=$(NIX_REMOTE=daemon nix-build --no-out-link --max-jobs 0 "$B/hook.nix" 2> "$B/hook.out") &&
	   [ "$(cat "$o")" = "top host" ] && nix-store --check-validity "$o" && host_valid "$o"; then
		ok hook/untrusted-key
	else
		bad hook/untrusted-key "got '$(cat "$o" 2>/dev/null)' $(tail -n 4 "$B/hook.out" | tr '\n' ' ')"
	fi
}
