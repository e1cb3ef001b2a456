# What a Nix user does over ssh://: ping, copy both ways, closures, builds.
# Every test runs against nix-store --serve --write (proving the bed honest)
# and against nixgate-serve.

t_ping() {
	for s in $STORES; do
		check "ping/$s" nix store ping --store "ssh://$s"
	done
}

t_copy_to() {
	for s in $STORES; do
		p=$(client_add "copy-to-$s" "to $s")
		if nix copy --to "ssh://$s" "$p" > "$B/out" 2>&1 && host_valid "$p" &&
		   [ "$(host_hash "$p")" = "$(client_hash "$p")" ]; then
			ok "copy-to/$s"
		else
			bad "copy-to/$s" "$(tail -n 2 "$B/out")"
		fi
	done
}

t_copy_closure_to() {
	for s in $STORES; do
		a=$(client_add "leaf-$s" "leaf")
		printf 'ref %s\n' "$a" > "$B/root-$s"
		r=$(nix-store --add "$B/root-$s")
		# nix-store --add does not scan references; a build does
		d=$(nix-instantiate --expr "derivation { name = \"clo-$s\"; system = builtins.currentSystem; builder = \"/bin/sh\"; args = [\"-c\" \"echo \$a > \$out\"]; a = builtins.storePath \"$a\"; }" 2>/dev/null)
		o=$(nix-store -r "$d" 2>/dev/null)
		if nix copy --to "ssh://$s" "$o" > "$B/out" 2>&1 && host_valid "$o" && host_valid "$a" &&
		   bed_host nix-store -q --references "$o" | grep -qx "$a"; then
			ok "copy-closure-to/$s"
		else
			bad "copy-closure-to/$s" "$(tail -n 2 "$B/out")"
		fi
	done
}

t_remote_build() {
	for s in $STORES; do
		cat > "$B/build-$s.nix" <<-NIX
		let
		  dep = derivation { name = "dep-$s"; system = builtins.currentSystem; builder = "/bin/sh";
		    args = [ "-c" "if [ -e /nix/host-marker ]; then echo host > \$out; else echo local > \$out; fi" ]; };
		in derivation { name = "top-$s"; system = builtins.currentSystem; builder = "/bin/sh";
		  args = [ "-c" "read x < \${dep}; echo \"top \$x\" > \$out" ]; }
		NIX
		if o=$(nix-build --no-out-link --max-jobs 0 --builders "ssh://$s $(uname -m)-linux - 2 1 big-parallel" "$B/build-$s.nix" 2> "$B/out") &&
		   [ "$(cat "$o")" = "top host" ]; then
			ok "remote-build/$s"
		else
			bad "remote-build/$s" "got '$(cat "$o" 2>/dev/null)' $(tail -n 3 "$B/out" | tr '\n' ' ')"
		fi
	done
}
