# Builds by path of a key with a systems rule, whose .drv files nixgate reads
# from the host store: one it cannot read, a symlink, one over the size
# limit; each refused as a failed build by rule derivation, the session going
# on and the store as it was.
SYS="$(uname -m)-linux"
bed_key capped "$B/bin/nixgate-serve --key capped --trusted --systems $SYS --audit-log none"
# A key with a systems rule has each .drv it builds by path read and parsed
# from the host store. One that Nix takes but nixgate cannot read (more
# outputs than its parser's limit of 256) is refused as a failed build, the
# session goes on, nothing is built; a trusted key without the rule (whose
# .drv nixgate does not read) builds the same one.
t_derivation_rule() {
	cat > "$B/manyouts.nix" <<-'NIX'
	derivation { name = "many-outputs"; system = builtins.currentSystem; builder = "/bin/sh";
	  outputs = [ "out" ] ++ builtins.genList (i: "o${toString i}") 300;
	  args = [ "-c" ''for o in $outputs; do eval "echo > \$$o"; done'' ]; }
	NIX
	d=$(bed_host nix-instantiate "$B/manyouts.nix" 2>/dev/null)
	o=$(bed_host nix-store -q --outputs "$d" | grep -- '-many-outputs$')
	want="key capped: BuildPaths of '$d' refused by rule derivation: $d: malformed derivation: more than 256 outputs"
	before=$(store_state)
	by_path capped "nix-store --serve --write" "$d"
	if [ "$(cat "$B/bp.out")" = "$(printf 'server-version 2.8\nstatus 1\nerror %s\nexit 0' "$want")" ] &&
	   one_line "$B/bp.err" "$want" && ! host_valid "$o" && [ "$before" = "$(store_state)" ]; then
		ok capped/derivation-unreadable
	else
		bad capped/derivation-unreadable "$(cat "$B/bp.out" "$B/bp.err" | cut -c 1-200 | tr '\n' '|')"
	fi
	by_path gate "nix-store --serve --write" "$d"
	if grep -qx "status 0" "$B/bp.out" && host_valid "$o"; then
		ok gate/derivation-unread-builds
	else
		bad gate/derivation-unread-builds "$(cat "$B/bp.out" "$B/bp.err" | head -c 400 | tr '\n' '|')"
	fi
}

# drv_refused NAME DRV VALID OUT WHY: BuildPaths of DRV by the capped key is
# refused by rule derivation for WHY as a failed build, and the session goes
# on in step with the daemon (VALID is then answered as valid); OUT is not
# built and the store is as it was.
drv_refused() {
	local want="key capped: BuildPaths of '$2' refused by rule derivation: $2: $5"
	before=$(store_state)
	"$B/bin/sclient" 7 build-valid "$2!out" "$3" -- ssh -F "$B/ssh_config" capped nix-store --serve --write \
		> "$B/bp.out" 2> "$B/bp.err"
	if [ "$(cat "$B/bp.out")" = "$(printf 'server-version 2.8\nstatus 1\nerror %s\nvalid %s\nexit 0' "$want" "$3")" ] &&
	   one_line "$B/bp.err" "$want" && ! host_valid "$4" && [ "$before" = "$(store_state)" ]; then
		ok "$1"
	else
		bad "$1" "$(cat "$B/bp.out" "$B/bp.err" | cut -c 1-200 | tr '\n' '|')"
	fi
}

# A symlink named like a derivation, to one, is a derivation to Nix 2.8 (nix-store
# --add puts one on the host; 2.26+ refuse to). nixgate reads only a regular
# file: it refuses the build as a malformed one, the session going on in step
# with the daemon (a query after it is answered).
t_derivation_symlink() {
	cat > "$B/sym.nix" <<-NIX
	derivation { name = "sym"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo > \$out" ]; }
	NIX
	d=$(bed_host nix-instantiate "$B/sym.nix" 2>/dev/null)
	o=$(bed_host nix-store -q --outputs "$d")
	mkdir -p "$B/symdir" && ln -s "$d" "$B/symdir/sym.drv"
	if l=$(bed_host nix-store --add "$B/symdir/sym.drv" 2> "$B/sym.err"); then
		drv_refused capped/derivation-symlink "$l" "$d" "$o" "$l is a symlink in the store, not a regular file"
	elif grep -q "is a symlink\|symbolic links" "$B/sym.err"; then ok capped/derivation-symlink-not-storable
	else bad capped/derivation-symlink-not-storable "$(cat "$B/sym.err")"; fi
}

# A .drv over the parser's 16 MiB (one big environment variable): refused as
# the others, the daemon's NAR of it read past so the session goes on
t_derivation_huge() {
	cat > "$B/huge.nix" <<-'NIX'
	derivation { name = "huge"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo > $out" ];
	  big = builtins.concatStringsSep "" (builtins.genList (i: "0123456789abcdef") 1100000); }
	NIX
	d=$(bed_host nix-instantiate "$B/huge.nix" 2>/dev/null)
	o=$(bed_host nix-store -q --outputs "$d")
	n=$(bed_host stat -c %s "$d")
	drv_refused capped/derivation-huge "$d" "$d" "$o" "$d is a derivation of $n bytes, more than 16777216"
}

