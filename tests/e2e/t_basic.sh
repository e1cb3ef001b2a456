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
		set -- $(client_closure "clo-$s")
		o=$1 a=$2
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
		two_level_nix "$B/build-$s.nix" "$s"
		if o=$(nix-build --no-out-link --max-jobs 0 --builders "ssh://$s $(uname -m)-linux - 2 1 big-parallel" "$B/build-$s.nix" 2> "$B/out") &&
		   [ "$(cat "$o")" = "top host" ]; then
			ok "remote-build/$s"
		else
			bad "remote-build/$s" "got '$(cat "$o" 2>/dev/null)' $(tail -n 3 "$B/out" | tr '\n' ' ')"
		fi
	done
}

t_path_info_closure() {
	for s in $STORES; do
		set -- $(client_closure "pi-$s")
		o=$1 a=$2
		nix copy --to "ssh://$s" "$o" > /dev/null 2>&1
		if nix path-info --store "ssh://$s" -r "$o" > "$B/out" 2> "$B/err" &&
		   grep -qx "$a" "$B/out" && grep -qx "$o" "$B/out" && [ "$(wc -l < "$B/out")" = 2 ]; then
			ok "path-info-r/$s"
		else
			bad "path-info-r/$s" "$(head -c 300 "$B/out" "$B/err")"
		fi
	done
}

t_copy_from() {
	for s in $STORES; do
		# a closure that only the host has: built there
		cat > "$B/from-$s.nix" <<-NIX
		let dep = derivation { name = "from-dep-$s"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo dep > \$out" ]; };
		in derivation { name = "from-$s"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo \${dep} > \$out" ]; }
		NIX
		cp "$B/from-$s.nix" "$B/host-from-$s.nix"
		o=$(bed_host nix-build --no-out-link "$B/host-from-$s.nix" 2>/dev/null)
		dep=$(bed_host nix-store -q --references "$o")
		if [ -n "$o" ] && ! nix-store --check-validity "$o" 2>/dev/null &&
		   nix copy --no-check-sigs --from "ssh://$s" "$o" > "$B/out" 2>&1 &&
		   nix-store --check-validity "$o" "$dep" && [ "$(client_hash "$o")" = "$(host_hash "$o")" ] &&
		   [ "$(cat "$o")" = "$dep" ]; then
			ok "copy-from/$s"
		else
			bad "copy-from/$s" "$(tail -n 2 "$B/out")"
		fi
	done
}

t_copy_closure_tool() {
	for s in $STORES; do
		a=$(client_add "ncc-to-$s" "ncc to")
		if nix-copy-closure --to "$s" "$a" > "$B/out" 2>&1 && host_valid "$a"; then
			ok "nix-copy-closure-to/$s"
		else
			bad "nix-copy-closure-to/$s" "$(tail -n 2 "$B/out")"
		fi
		printf 'ncc from %s\n' "$s" > "$B/nccf-$s"
		f=$(bed_host nix-store --add "$B/nccf-$s")
		if nix-copy-closure --from "$s" "$f" > "$B/out" 2>&1 && nix-store --check-validity "$f" 2>/dev/null &&
		   [ "$(cat "$f")" = "ncc from $s" ]; then
			ok "nix-copy-closure-from/$s"
		else
			bad "nix-copy-closure-from/$s" "$(tail -n 2 "$B/out")"
		fi
	done
}

t_failing_build() {
	for s in $STORES; do
		cat > "$B/fail-$s.nix" <<-NIX
		derivation { name = "fail-$s"; system = builtins.currentSystem; builder = "/bin/sh";
		  args = [ "-c" "echo first-line-$s; echo last-words-$s >&2; exit 3" ]; }
		NIX
		if nix-build --no-out-link --max-jobs 0 --builders "ssh://$s $(uname -m)-linux - 2 1 big-parallel" "$B/fail-$s.nix" > "$B/out" 2>&1; then
			bad "failing-build/$s" "the build succeeded"
		elif grep -q "last-words-$s" "$B/out" && grep -q "exit code 3" "$B/out"; then
			ok "failing-build/$s"
		else
			bad "failing-build/$s" "$(tail -n 4 "$B/out" | tr '\n' ' ')"
		fi
	done
}

# --builders-use-substitutes: the host takes an input from a binary cache only
# it can reach instead of receiving it from the client. The cache's signature
# on the host's copy shows where it came from.
t_builders_use_substitutes() {
	for s in $STORES; do
		printf 'substituted %s\n' "$s" > "$B/subst-$s"
		o=$(bed_host nix-store --add "$B/subst-$s")
		bed_host nix store sign --key-file "$B/cache-key.sec" "$o" > /dev/null 2>&1 &&
		bed_host nix copy --to "file://$B/cache" "$o" > /dev/null 2>&1 &&
		bed_host nix-store --delete "$o" > /dev/null 2>&1
		o2=$(nix-store --add "$B/subst-$s")
		cat > "$B/usesub-$s.nix" <<-NIX
		derivation { name = "usesub-$s"; system = builtins.currentSystem; builder = "/bin/sh";
		  args = [ "-c" "read x < \${builtins.storePath "$o"}; echo \"\$x via host\" > \$out" ]; }
		NIX
		if [ "$o" = "$o2" ] && ! host_valid "$o" &&
		   r=$(nix-build --no-out-link --max-jobs 0 --builders-use-substitutes \
			--builders "ssh://$s $(uname -m)-linux - 2 1 big-parallel" "$B/usesub-$s.nix" 2> "$B/out") &&
		   [ "$(cat "$r")" = "substituted $s via host" ] &&
		   bed_host nix path-info --sigs "$o" | grep -q "bed-cache:"; then
			ok "builders-use-substitutes/$s"
		else
			bad "builders-use-substitutes/$s" "$(tail -n 3 "$B/out" | tr '\n' ' ')"
		fi
	done
}
