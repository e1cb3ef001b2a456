# Large and many: a 1 GiB path both ways with the server's peak RSS, and
# 500 small paths in one nix copy, each way.

t_big_path() {
	mkdir -p "$B/big"
	head -c 1073741824 /dev/urandom > "$B/big/blob"
	big=$(nix-store --add "$B/big/blob")
	rm -f "$B/big/blob"
	for s in $STORES; do
		case $s in gate) pat="nixgate-serve --key gate" ;; *) pat="nix-store --serve" ;; esac
		rm -f "$B/stop"
		bed_watch "$pat" "$B/stop" > "$B/rss-to-$s" & wpid=$!
		nix copy --to "ssh://$s" "$big" > "$B/out" 2>&1; rc=$?
		touch "$B/stop"; wait "$wpid"
		if [ $rc = 0 ] && [ "$(host_hash "$big")" = "$(client_hash "$big")" ] &&
		   bed_host nix-store --verify-path "$big"; then
			ok "copy-to-1GiB/$s"
		else
			bad "copy-to-1GiB/$s" "$(tail -n 2 "$B/out")"
		fi
		echo "note: peak RSS of the $s server, 1 GiB to the host: $(cut -d' ' -f1 "$B/rss-to-$s") KiB"
		bed_host nix-store --delete "$big" > /dev/null 2>&1
	done
	# and back: a 1 GiB path that only the host has
	bed_host sh -c "head -c 1073741824 /dev/urandom > $B/big/hblob"
	hbig=$(bed_host nix-store --add "$B/big/hblob")
	rm -f "$B/big/hblob"
	for s in $STORES; do
		case $s in gate) pat="nixgate-serve --key gate" ;; *) pat="nix-store --serve" ;; esac
		rm -f "$B/stop"
		bed_watch "$pat" "$B/stop" > "$B/rss-from-$s" & wpid=$!
		nix copy --no-check-sigs --from "ssh://$s" "$hbig" > "$B/out" 2>&1; rc=$?
		touch "$B/stop"; wait "$wpid"
		if [ $rc = 0 ] && nix-store --verify-path "$hbig" && [ "$(host_hash "$hbig")" = "$(client_hash "$hbig")" ]; then
			ok "copy-from-1GiB/$s"
		else
			bad "copy-from-1GiB/$s" "$(tail -n 2 "$B/out")"
		fi
		echo "note: peak RSS of the $s server, 1 GiB from the host: $(cut -d' ' -f1 "$B/rss-from-$s") KiB"
		nix-store --delete "$hbig" > /dev/null 2>&1
	done
	# the sanitizer build's memory is not the shipped binary's
	[ -z "${NIXGATE_ASAN:-}" ] || return 0
	for d in to from; do
		r=$(cut -d' ' -f1 "$B/rss-$d-gate" 2>/dev/null)
		if [ -n "$r" ] && [ "$r" -gt 0 ] && [ "$r" -lt 4096 ]; then
			ok "rss-under-4MiB-$d"
		else
			bad "rss-under-4MiB-$d" "peak RSS '$r' KiB"
		fi
	done
}

t_many_small() {
	mkdir -p "$B/many"
	for i in $(seq 500); do echo "small $i" > "$B/many/f$i"; done
	nix-store --add "$B"/many/f* > "$B/many.list"
	for s in $STORES; do
		if nix copy --to "ssh://$s" $(cat "$B/many.list") > "$B/out" 2>&1 &&
		   [ "$(bed_host nix-store --check-validity --print-invalid $(cat "$B/many.list") | wc -l)" = 0 ]; then
			ok "copy-500-paths/$s"
		else
			bad "copy-500-paths/$s" "$(tail -n 2 "$B/out")"
		fi
		bed_host nix-store --delete $(cat "$B/many.list") > /dev/null 2>&1
	done
}

t_many_small_from() {
	mkdir -p "$B/manyf"
	for i in $(seq 500); do echo "from host $i" > "$B/manyf/g$i"; done
	bed_host nix-store --add "$B"/manyf/g* > "$B/manyf.list"
	for s in $STORES; do
		nix-store --delete $(cat "$B/manyf.list") > /dev/null 2>&1
		if nix copy --from "ssh://$s" $(cat "$B/manyf.list") > "$B/out" 2>&1 &&
		   [ "$(nix-store --check-validity --print-invalid $(cat "$B/manyf.list") | wc -l)" = 0 ] &&
		   [ "$(cat "$(sed -n 500p "$B/manyf.list")")" = "from host $(sed -n 500p "$B/manyf.list" | sed 's/.*-g//')" ]; then
			ok "copy-from-500-paths/$s"
		else
			bad "copy-from-500-paths/$s" "$(tail -n 2 "$B/out")"
		fi
	done
}
