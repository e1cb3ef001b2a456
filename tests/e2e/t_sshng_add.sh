# Paths a client makes on the host over ssh-ng:// (AddToStore from 1.25,
# AddTextToStore): nix build --store ssh-ng:// writes each .drv this way.
# nixgate makes the content-addressed path itself from the bytes, checks
# it as any import and hands the daemon only that. The stock client for a
# trusted and an untrusted key; raw clients' honest requests accepted with
# the hash the client computed, and every lie refused (exit status 100, one
# line naming key, request, path or name, and rule, the host store strictly
# unchanged).
SYS="$(uname -m)-linux"
HOS="$top/tests/tools/hostile.pl"
NGA="$top/tests/tools/ngadd.pl"
bed_key ngsmall "$B/bin/nixgate-serve --key ngsmall --max-nar-size 1000 --audit-log none"
bed_key noimport "$B/bin/nixgate-serve --key noimport --allow query,export,build --audit-log none"

item() { n=$1; shift; perl "$HOS" --item "$@" > "$B/$n.item"; }
asend() { pl_send "$NGA" "$@"; }
a_refused() { pl_refused "$NGA" "$@"; }
# a_accepted NAME KEY PATH NARHASH NGADD-ARGS...: status 0, PATH in the
# answer, valid on the host with the NAR hash the client computed
a_accepted() {
	n=$1 k=$2 p=$3 h=$4
	shift 4
	asend "$k" "$@" || { bad "$n" "ngadd failed"; return; }
	if [ "$st" -eq 0 ] && grep -qF "$p" "$B/w.out" && host_valid "$p" && [ "$(host_hash "$p")" = "$h" ]; then
		ok "$n"
	else
		bad "$n" "exit status $st, $p $(host_valid "$p" && echo valid || echo "not valid"): $(head -c 400 "$B/w.err" | tr '\n' '|')"
	fi
}
by() { echo "key $1: $2 of '$3' refused by rule $4: $5"; }

# The stock client evaluates and writes the .drv through the store it
# builds in (AddToStore text:sha256), and a source file the expression
# names (AddToStore fixed:r:sha256): nothing copied first.
t_add_stock() {
	for k in gate untrusted; do
		printf 'source of %s\n' "$k" > "$B/ngadd-src-$k"
		cat > "$B/$k.nix" <<-NIX
		derivation { name = "ngadd-stock-$k"; system = "$SYS"; builder = "/bin/sh"; src = ./ngadd-src-$k;
		  args = [ "-c" "echo marker-ngadd-$k; read x < \$src; echo \"\$x\" > \$out" ]; }
		NIX
		d=$(nix-instantiate "$B/$k.nix" 2> /dev/null)
		o=$(nix-store -q --outputs "$d")
		src=$(nix-store -q --references "$d" | grep ngadd-src)
		nix build --store "ssh-ng://$k" --no-link -f "$B/$k.nix" > "$B/out" 2>&1
		r=$?
		if [ "$r" = 0 ] && host_valid "$d" && host_valid "$src" && host_valid "$o" &&
		   [ "$(host_hash "$src")" = "$(client_hash "$src")" ] && grep -q "marker-ngadd-$k" "$B/out"; then
			ok "stock/build-$k"
		else
			bad "stock/build-$k" "exit status $r: $(tail -n 3 "$B/out" | tr '\n' ' ')"
		fi
	done
	# nix-store --add and --add-fixed: AddToStore fixed:r:sha256 and
	# fixed:sha256 (nix store add-file/add-path send AddToStoreNar)
	printf 'a file\n' > "$B/ngadd-file"
	mkdir -p "$B/ngadd-dir/sub" && printf 'x\n' > "$B/ngadd-dir/sub/x"
	for c in "--add $B/ngadd-dir" "--add-fixed sha256 $B/ngadd-file"; do
		if p=$(nix-store --store ssh-ng://untrusted $c 2> "$B/out") && host_valid "$p" &&
		   [ "$p" = "$(nix-store $c 2> /dev/null)" ] && [ "$(host_hash "$p")" = "$(client_hash "$p")" ]; then
			ok "stock/nix-store${c%% *}"
		else
			bad "stock/nix-store${c%% *}" "$(tail -n 3 "$B/out" | tr '\n' ' ')"
		fi
	done
	for c in "add-file $B/ngadd-file" "add-path $B/ngadd-dir"; do
		if p=$(nix store $c --store ssh-ng://untrusted 2> "$B/out") && host_valid "$p" &&
		   [ "$p" = "$(nix store $c --dry-run 2> /dev/null)" ]; then
			ok "stock/${c%% *}"
		else
			bad "stock/${c%% *}" "$(tail -n 3 "$B/out" | tr '\n' ' ')"
		fi
	done
}

t_add_accepted() {
	a_accepted text untrusted "$(hpath --name nga-t1 --node file:"some text" --ca text)" \
		"$(hnarhash --name nga-t1 --node file:"some text" --ca text)" --name nga-t1 --data "some text" --frame 3
	# a path the host has already: the daemon reads past its NAR
	a_accepted text/again untrusted "$(hpath --name nga-t1 --node file:"some text" --ca text)" \
		"$(hnarhash --name nga-t1 --node file:"some text" --ca text)" --name nga-t1 --data "some text"
	a_accepted text-1.38 untrusted "$(hpath --name nga-t2 --node file:"more" --ca text)" \
		"$(hnarhash --name nga-t2 --node file:"more" --ca text)" --name nga-t2 --data "more" --minor 38
	f=$(hpath --name nga-f1 --node file:flat --ca fixed:sha256)
	a_accepted flat untrusted "$f" "$(hnarhash --name nga-f1 --node file:flat --ca fixed:sha256)" \
		--name nga-f1 --method fixed:sha256 --data flat
	a_accepted flat-sha1 untrusted "$(hpath --name nga-f2 --node file:flat2 --ca fixed:sha1)" \
		"$(hnarhash --name nga-f2 --node file:flat2 --ca fixed:sha1)" --name nga-f2 --method fixed:sha1 --data flat2
	item r1 --name nga-r1 --node dir:"uses $f" --ca fixed:r:sha256 --ref "$f"
	a_accepted recursive untrusted "$(hpath --name nga-r1 --node dir:"uses $f" --ca fixed:r:sha256 --ref "$f")" \
		"$(hnarhash --name nga-r1 --node dir:"uses $f" --ca fixed:r:sha256 --ref "$f")" \
		--name nga-r1 --method fixed:r:sha256 --nar-of "$B/r1.item" --ref "$f" --frame 7
	item r2 --name nga-r2 --node dir:"sha512" --ca fixed:r:sha512
	a_accepted recursive-sha512 untrusted "$(hpath --name nga-r2 --node dir:sha512 --ca fixed:r:sha512)" \
		"$(hnarhash --name nga-r2 --node dir:sha512 --ca fixed:r:sha512)" \
		--name nga-r2 --method fixed:r:sha512 --nar-of "$B/r2.item"
	a_accepted text-op8 untrusted "$(hpath --name nga-t3 --node file:"op8 $f" --ca text --ref "$f")" \
		"$(hnarhash --name nga-t3 --node file:"op8 $f" --ca text --ref "$f")" --op 8 --name nga-t3 --data "op8 $f" --ref "$f"
}

t_add_refused() {
	real=$(nix-instantiate --expr "derivation { name = \"nga-honest\"; system = \"$SYS\"; builder = \"/bin/sh\"; args = [\"-c\" \"echo honest > \$out\"]; }" 2>/dev/null)
	evil=$(sed 's/echo honest/echo evil/' "$real")
	d=$(hpath --name nga-honest.drv --node file:"$evil" --ca text)
	a_refused drv/outputs-not-its-own untrusted "^$(by untrusted AddToStore "$d" import ".*output.*")" "$d" \
		--name nga-honest.drv --data "$evil"
	a_refused drv/op8-outputs-not-its-own untrusted "^$(by untrusted AddTextToStore "$d" import ".*output.*")" "$d" \
		--op 8 --name nga-honest.drv --data "$evil"
	a_accepted drv/real untrusted "$real" "$(hnarhash --name nga-honest.drv --node file:"$(cat "$real")" --ca text)" \
		--name nga-honest.drv --data-file "$real"
	r=$(hpath --name nga-absent --node file:absent --ca fixed:sha256)
	p=$(hpath --name nga-x1 --node file:"uses $r" --ca text --ref "$r")
	a_refused reference-not-valid untrusted "$(by untrusted AddToStore nga-x1 import "its reference $r is not valid on this host")" \
		"$p" --name nga-x1 --data "uses $r" --ref "$r"
	a_refused op8/reference-not-valid untrusted "$(by untrusted AddTextToStore nga-x1 import "its reference $r is not valid on this host")" \
		"$p" --op 8 --name nga-x1 --data "uses $r" --ref "$r"
	head -c 2000 /dev/zero | tr '\0' a > "$B/big"
	p=$(hpath --name nga-big --node file:"$(cat "$B/big")" --ca fixed:sha256)
	a_refused max-nar-size ngsmall "^$(by ngsmall AddToStore nga-big max-nar-size "the NAR of at least [0-9]* bytes is over the limit of 1000")" \
		"$p" --name nga-big --method fixed:sha256 --data-file "$B/big"
	a_refused op8/max-nar-size ngsmall "$(by ngsmall AddTextToStore nga-big max-nar-size "the NAR of 2112 bytes is over the limit of 1000")" \
		"" --op 8 --name nga-big --data-file "$B/big"
	a_refused method untrusted "^$(by untrusted AddToStore nga-m method "'fixed:git:sha1' is not a content-address method .*")" \
		"" --name nga-m --method fixed:git:sha1 --data x
	a_refused recursive-no-nar untrusted "^$(by untrusted AddToStore nga-n nar ".*")" \
		"" --name nga-n --method fixed:r:sha256 --data "this is no NAR at all, is it"
	a_refused frame-2^40 untrusted "$(by untrusted AddToStore nga-fr frame "a frame of 1099511627776 bytes is over the limit of 8388608")" \
		"" --name nga-fr --data x --frame-len 1099511627776
	p=$(hpath --name nga-cut --node file:"$(cat "$B/big")" --ca text)
	a_refused truncated untrusted "key untrusted: client closed the connection in the middle of a message" \
		"$p" --name nga-cut --data-file "$B/big" --frame 500 --cut 1200
	a_refused truncated-trusted gate "key gate: client closed the connection in the middle of a message" \
		"$p" --name nga-cut --data-file "$B/big" --frame 500 --cut 1200
	a_refused repair untrusted "$(by untrusted AddToStore nga-rep repair "only a trusted key may repair a path")" \
		"" --name nga-rep --data x --repair
	a_refused no-import noimport "$(by noimport AddToStore nga-ni allow "this key may only query,export,build")" \
		"" --name nga-ni --data x
	a_refused op8/no-import noimport "$(by noimport AddTextToStore nga-ni allow "this key may only query,export,build")" \
		"" --op 8 --name nga-ni --data x
	a_refused name untrusted "key untrusted: AddToStore refused by rule name: its name is not a store path name of at most 211 characters" \
		"" --name "$(printf 'a\nb')" --data x
	a_refused op8/name untrusted "key untrusted: AddTextToStore refused by rule name: its name is not a store path name of at most 211 characters" \
		"" --op 8 --name .nga --data x
	a_refused method-not-shown untrusted "$(by untrusted AddToStore nga-m method "'(not shown)' is not a content-address method nixgate serves (text:sha256, fixed:<algo>, fixed:r:<algo>; algo md5, sha1, sha256 or sha512)")" \
		"" --name nga-m --method "$(printf 'fixed:\nsha1')" --data x
	head -c 16777217 /dev/zero | tr '\0' t > "$B/huge"
	a_refused text-size untrusted "^$(by untrusted AddToStore nga-huge text-size "a text of at least [0-9]* bytes is over the limit of 16777216")" \
		"" --name nga-huge --data-file "$B/huge" --frame 1048576
	a_refused op8/text-size untrusted "$(by untrusted AddTextToStore nga-huge text-size "a text of 16777217 bytes is over the limit of 16777216")" \
		"" --op 8 --name nga-huge --data x --text-len 16777217
	a_refused version-1.24 untrusted \
		"key untrusted: AddToStore refused by rule version: worker protocol 1.24 sends this request in a form nixgate-serve does not serve (1.25 or newer)" \
		"" --name nga-v --data x --minor 24
}

# A compromised parser (build/lies-nixgate-serve) forwards a recursive dump
# that is no NAR, unchecked, and vouches for it: the monitor, which makes
# the NAR's path itself, refuses it before the daemon sees a byte.
t_add_liar() {
	bed_key ngaliar "$B/bin/lies-nixgate-serve --key ngaliar --audit-log none"
	a_refused liar/recursive-no-nar ngaliar "^$(by ngaliar AddToStore "/nix/store/[0-9a-z]*-nga-liar" nar "invalid NAR: .*")" \
		"" --name nga-liar --method fixed:r:sha256 --data "this is no NAR at all, is it"
	item l1 --name nga-liar-ok --node dir:"honest" --ca fixed:r:sha256
	a_accepted liar/honest ngaliar "$(hpath --name nga-liar-ok --node dir:honest --ca fixed:r:sha256)" \
		"$(hnarhash --name nga-liar-ok --node dir:honest --ca fixed:r:sha256)" \
		--name nga-liar-ok --method fixed:r:sha256 --nar-of "$B/l1.item"
}
