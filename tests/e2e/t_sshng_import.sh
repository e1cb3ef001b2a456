# Imports over ssh-ng:// (the worker protocol's AddToStoreNar and
# AddMultipleToStore, their NARs in Nix's framed stream): the stock client's
# nix copy for a trusted key, and for an untrusted one with a signed closure
# and a content-addressed path; every lie of a raw client refused before the
# daemon sees a byte (exit status 100, one line naming key, request, path
# and rule, the host store strictly unchanged), the honest twin accepted;
# and paths an untrusted key cannot prove, from a client that asked not to
# check signatures (the build hook's copy), skipped with a line for the
# client while the request goes on.
SYS="$(uname -m)-linux"
HOS="$top/tests/tools/hostile.pl"
NGW="$top/tests/tools/ngwrap.pl"
nix-store --generate-binary-cache-key ng-key-1 "$B/ngk.sec" "$B/ngk.pub"
bed_key ngsigned "$B/bin/nixgate-serve --key ngsigned --trusted-public-key $(cat "$B/ngk.pub") --audit-log $B/home/ngi-audit.log"
bed_key ngsmall "$B/bin/nixgate-serve --key ngsmall --max-nar-size 1000 --audit-log none"

# item NAME HOSTILE-ARGS...: a path's metadata and NAR in $B/NAME.item
item() { n=$1; shift; perl "$HOS" --item "$@" > "$B/$n.item"; }
ngsend() { pl_send "$NGW" "$@"; }
ng_refused() { pl_refused "$NGW" "$@"; }
# ng_accepted NAME KEY PATH... -- NGWRAP-ARGS...: status 0, STDERR_LAST
# last, every PATH valid on the host
ng_accepted() {
	n=$1 k=$2
	shift 2
	ps=
	while [ "$1" != -- ]; do ps="$ps $1"; shift; done
	shift
	ngsend "$k" "$@" || { bad "$n" "ngwrap failed"; return; }
	for p in $ps; do
		host_valid "$p" || { bad "$n" "exit status $st, $p not valid: $(head -c 400 "$B/w.err" | tr '\n' '|')"; return; }
	done
	if [ "$st" -eq 0 ] && perl -e 'local $/; exit !(<STDIN> =~ /stla\0{4}$/s)' < "$B/w.out"; then
		ok "$n"
	else
		bad "$n" "exit status $st: $(head -c 400 "$B/w.err" | tr '\n' '|')"
	fi
}
by() { echo "key untrusted: $1 of '$2' refused by rule $3: $4"; }

# The stock client: nix copy to a trusted key, and to an untrusted one with
# a signed closure and a content-addressed path; path-info sees them.
t_copy_ok() {
	set -- $(client_closure ng-imp-trusted)
	if nix copy --to ssh-ng://gate "$1" > "$B/out" 2>&1 && host_valid "$1" && host_valid "$2" &&
	   [ "$(host_hash "$1")" = "$(client_hash "$1")" ] && nix path-info --store ssh-ng://gate "$1" > /dev/null 2>&1; then
		ok copy/trusted
	else
		bad copy/trusted "$(tail -n 3 "$B/out" | tr '\n' ' ')"
	fi
	set -- $(client_closure ng-imp-signed)
	nix store sign --key-file "$B/ngk.sec" "$1" "$2"
	if nix copy --to ssh-ng://ngsigned "$1" > "$B/out" 2>&1 && host_valid "$1" && host_valid "$2" &&
	   [ "$(host_hash "$1")" = "$(client_hash "$1")" ] && nix path-info --store ssh-ng://ngsigned "$1" > /dev/null 2>&1; then
		ok copy/untrusted-signed
	else
		bad copy/untrusted-signed "$(tail -n 3 "$B/out" | tr '\n' ' ')"
	fi
	c=$(client_add ng-imp-ca "content addressed")
	if nix copy --to ssh-ng://untrusted "$c" > "$B/out" 2>&1 && host_valid "$c" &&
	   nix path-info --store ssh-ng://untrusted "$c" > /dev/null 2>&1; then
		ok copy/untrusted-ca
	else
		bad copy/untrusted-ca "$(tail -n 3 "$B/out" | tr '\n' ' ')"
	fi
}

# nix copy checks signatures: an unsigned input-addressed path is refused
# by nixgate itself, nothing of it on the host.
t_copy_unsigned() {
	p=$(client_ia ng-imp-unsigned "unsigned")
	before=$(store_strict)
	if ! nix copy --to ssh-ng://untrusted "$p" > "$B/out" 2>&1 &&
	   grep -q "key untrusted: AddMultipleToStore of '$p' refused by rule import: it is not content-addressed and has no signature" "$B/out" &&
	   ! host_valid "$p" && [ "$before" = "$(store_strict)" ]; then
		ok copy/unsigned-refused
	else
		bad copy/unsigned-refused "$(tail -n 3 "$B/out" | tr '\n' ' ')"
	fi
}

# Raw clients: each lie refused, beside it the honest stream accepted.
t_raw_accepted() {
	item a1 --name ng-a1 --node file:one --ca fixed:sha256
	a1=$(hpath --name ng-a1 --node file:one --ca fixed:sha256)
	item a2 --name ng-a2 --node dir:"uses $a1" --ca fixed:r:sha256 --ref "$a1"
	a2=$(hpath --name ng-a2 --node dir:"uses $a1" --ca fixed:r:sha256 --ref "$a1")
	# frames of 5 bytes: every field straddles a frame's end somewhere
	ng_accepted multiple/in-order untrusted "$a1" "$a2" -- --op 44 --frame 5 "$B/a1.item" "$B/a2.item"
	item a3 --name ng-a3 --node file:three --ca fixed:sha256
	a3=$(hpath --name ng-a3 --node file:three --ca fixed:sha256)
	ng_accepted nar/ca untrusted "$a3" -- --op 39 "$B/a3.item"
	item a4 --name ng-a4 --node file:four --ca fixed:sha256
	a4=$(hpath --name ng-a4 --node file:four --ca fixed:sha256)
	ng_accepted nar/1.38 untrusted "$a4" -- --op 39 --minor 38 "$B/a4.item"
}

t_raw_refused() {
	p=$(hpath --name ng-r1 --node file:right --ca fixed:sha256)
	item r1 --name ng-r1 --node file:right --ca fixed:sha256 --hash-of file:other
	ng_refused multiple/nar-hash untrusted \
		"^$(by AddMultipleToStore "$p" nar-hash "NAR hash mismatch for '$p': declared sha256:[0-9a-z]*, got sha256:[0-9a-z]*")" \
		"$p" --op 44 "$B/r1.item"
	ng_refused nar/nar-hash untrusted \
		"^$(by AddToStoreNar "$p" nar-hash "NAR hash mismatch for '$p': declared sha256:[0-9a-z]*, got sha256:[0-9a-z]*")" \
		"$p" --op 39 "$B/r1.item"
	perl -e 'sub st { pack("Q<", length $_[0]) . $_[0] . "\0" x ((8 - length($_[0]) % 8) % 8) } print map { st($_) } "nix-archive-1", "(", "type", "weird", ")"' > "$B/bad.nar"
	p=$(hpath --name ng-r2 --node nar:"$B/bad.nar" --ca fixed:sha256 --claim file:x)
	item r2 --name ng-r2 --node nar:"$B/bad.nar" --ca fixed:sha256 --claim file:x
	ng_refused multiple/bad-nar untrusted "^$(by AddMultipleToStore "$p" nar ".*")" "$p" --op 44 "$B/r2.item"
	p=$(hpath --name ng-r3 --node file:right --ca fixed:sha256)
	item r3 --name ng-r3 --node file:wrong --ca fixed:sha256 --claim file:right
	ng_refused multiple/ca-mismatch untrusted \
		"$(by AddMultipleToStore "$p" import "its content is not what its content address says: sha256 of its file is $(printf wrong | sha256sum | cut -d' ' -f1)")" \
		"$p" --op 44 "$B/r3.item"
	p=$(hpath --name ng-r4 --node big:2000 --ca fixed:sha256)
	item r4 --name ng-r4 --node big:2000 --ca fixed:sha256
	ng_refused multiple/max-nar-size ngsmall \
		"^key ngsmall: AddMultipleToStore of '$p' refused by rule max-nar-size: the NAR of [0-9]* bytes is over the limit of 1000" \
		"$p" --op 44 "$B/r4.item"
	item a5 --name ng-a5 --node file:five --ca fixed:sha256
	a5=$(hpath --name ng-a5 --node file:five --ca fixed:sha256)
	ng_refused multiple/frame-2^40 untrusted \
		"key untrusted: AddMultipleToStore refused by rule frame: a frame of 1099511627776 bytes is over the limit of 8388608" \
		"$a5" --op 44 --frame-len 1099511627776 "$B/a5.item"
	ng_refused nar/frame-2^40 untrusted \
		"$(by AddToStoreNar "$a5" frame "a frame of 1099511627776 bytes is over the limit of 8388608")" \
		"$a5" --op 39 --frame-len 1099511627776 "$B/a5.item"
	ng_refused multiple/count-2^40 untrusted \
		"key untrusted: client sent a list of 1099511627776 paths to add, more than the limit of 262144" \
		"$a5" --op 44 --count 1099511627776 "$B/a5.item"
	ng_refused multiple/repair untrusted \
		"key untrusted: AddMultipleToStore refused by rule repair: only a trusted key may repair a path" \
		"$a5" --op 44 --repair "$B/a5.item"
	ng_refused nar/repair untrusted "$(by AddToStoreNar "$a5" repair "only a trusted key may repair a path")" \
		"$a5" --op 39 --repair "$B/a5.item"
	ng_refused nar/version-1.22 untrusted \
		"key untrusted: AddToStoreNar refused by rule version: worker protocol 1.22 sends this request in a form nixgate-serve does not serve (1.23 or newer)" \
		"$a5" --op 39 --minor 22 "$B/a5.item"
	r=$(hpath --name ng-absent --node file:absent --ca fixed:sha256)
	p=$(hpath --name ng-r6 --node dir:"uses $r" --ca fixed:r:sha256 --ref "$r")
	item r6 --name ng-r6 --node dir:"uses $r" --ca fixed:r:sha256 --ref "$r"
	ng_refused multiple/reference-not-valid untrusted \
		"$(by AddMultipleToStore "$p" import "its reference $r is not valid on this host")" "$p" --op 44 "$B/r6.item"
	p=$(hpath --name ng-r7 --node big:200000 --ca fixed:sha256)
	item r7 --name ng-r7 --node big:200000 --ca fixed:sha256
	ng_refused multiple/truncated untrusted "key untrusted: client closed the connection in the middle of a message" \
		"$p" --op 44 --cut 100000 "$B/r7.item"
	ng_refused nar/truncated untrusted "key untrusted: client closed the connection in the middle of a message" \
		"$p" --op 39 --cut 100000 "$B/r7.item"
	# a trusted key's NAR up to SPOOL_SMALL_MAX is spooled whole first too
	ng_refused multiple/truncated-trusted gate "key gate: client closed the connection in the middle of a message" \
		"$p" --op 44 --cut 100000 "$B/r7.item"
	ng_refused nar/no-end-frame untrusted "key untrusted: client closed the connection in the middle of a message" \
		"$a5" --op 39 --no-end "$B/a5.item"
}

# A derivation whose text: claim holds but whose outputs are not its own.
t_raw_drv() {
	real=$(nix-instantiate --expr "derivation { name = \"ng-honest\"; system = \"$SYS\"; builder = \"/bin/sh\"; args = [\"-c\" \"echo honest > \$out\"]; }" 2>/dev/null)
	evil=$(sed 's/echo honest/echo evil/' "$real")
	d=$(hpath --name ng-honest.drv --node file:"$evil" --ca text)
	item d1 --name ng-honest.drv --node file:"$evil" --ca text
	ng_refused drv/outputs-not-its-own untrusted "^$(by AddMultipleToStore "$d" import ".*output.*")" "$d" --op 44 "$B/d1.item"
	item d2 --name ng-honest.drv --node file:"$(cat "$real")" --ca text
	ng_accepted drv/real untrusted "$real" -- --op 44 "$B/d2.item"
}

# A client that asked not to check signatures (the build hook's copy of a
# build's inputs): an input-addressed path the key cannot prove is not
# imported, nor any path that refers to it; the client is told, the
# request goes on, what can be proven is imported.
nothing_of() { # PATH...: neither valid nor any file of it on the host
	for p; do
		! host_valid "$p" || return 1
		! bed_host ls -a /nix/store | grep -q "${p#/nix/store/}" || return 1
	done
}
t_skip() {
	ia=/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-ng-unproven
	item s1 --path "$ia" --node file:unproven
	c=$(hpath --name ng-s2 --node dir:"uses $ia" --ca fixed:r:sha256 --ref "$ia")
	item s2 --name ng-s2 --node dir:"uses $ia" --ca fixed:r:sha256 --ref "$ia"
	ok3=$(hpath --name ng-s3 --node file:provable --ca fixed:sha256)
	item s3 --name ng-s3 --node file:provable --ca fixed:sha256
	ngsend ngsigned --op 44 --no-check-sigs "$B/s1.item" "$B/s2.item" "$B/s3.item"
	if [ "$st" -eq 0 ] && host_valid "$ok3" && nothing_of "$ia" "$c" &&
	   grep -aq "nixgate-serve: key ngsigned: not importing $ia: it is not content-addressed and has no signature; it needs a signature by one of this key's trusted-public-keys (nix store sign), or a trusted key; the host builds it from its derivation when a build needs it" "$B/w.out" &&
	   grep -aq "nixgate-serve: key ngsigned: not importing $c: its reference $ia was not imported; the host builds it" "$B/w.out" &&
	   perl -e 'local $/; exit !(<STDIN> =~ /stla\0{4}$/s)' < "$B/w.out"; then
		ok skip/raw
	else
		bad skip/raw "exit status $st: $(head -c 400 "$B/w.err" | tr '\n' '|') $(strings "$B/w.out" | grep importing | head -2 | tr '\n' '|')"
	fi
	if grep -q "key=ngsigned op=AddMultipleToStore path=$ia result=skipped reason=\"it is not content-addressed" "$B/home/ngi-audit.log" &&
	   grep -q "key=ngsigned op=AddMultipleToStore .*result=ok" "$B/home/ngi-audit.log"; then
		ok skip/audit
	else
		bad skip/audit "$(tail -n 3 "$B/home/ngi-audit.log" | tr '\n' '|')"
	fi
	# anything else wrong is still refused: a NAR that lies about its hash
	item s4 --path "$ia" --node file:unproven --hash-of file:other
	ng_refused skip/nar-hash-still-refused ngsigned \
		"^key ngsigned: AddMultipleToStore of '$ia' refused by rule nar-hash: NAR hash mismatch for '$ia': declared sha256:[0-9a-z]*, got sha256:[0-9a-z]*" \
		"$ia" --op 44 --no-check-sigs "$B/s4.item"
	# the stock client asked not to check signatures
	p=$(client_ia ng-imp-skip "skipped by the host")
	before=$(store_strict)
	if nix copy --no-check-sigs --to ssh-ng://ngsigned "$p" > "$B/out" 2>&1 &&
	   grep -q "key ngsigned: not importing $p: it is not content-addressed and has no signature" "$B/out" &&
	   nothing_of "$p" && [ "$before" = "$(store_strict)" ]; then
		ok skip/nix-copy-no-check-sigs
	else
		bad skip/nix-copy-no-check-sigs "$(tail -n 3 "$B/out" | tr '\n' ' ')"
	fi
}

# A compromised parser (build/lies-nixgate-serve) forwards the NAR
# unchecked and vouches for it: the monitor's own checks refuse it.
t_liar() {
	bed_key ngliar "$B/bin/lies-nixgate-serve --key ngliar --audit-log none"
	perl -e 'sub st { pack("Q<", length $_[0]) . $_[0] . "\0" x ((8 - length($_[0]) % 8) % 8) } print map { st($_) } "nix-archive-1", "(", "type", "weird", ")"' > "$B/bad.nar"
	p=$(hpath --name ng-l1 --node nar:"$B/bad.nar" --ca fixed:sha256 --claim file:x)
	item l1 --name ng-l1 --node nar:"$B/bad.nar" --ca fixed:sha256 --claim file:x
	ng_refused liar/bad-nar ngliar "^key ngliar: AddMultipleToStore of '$p' refused by rule nar: .*" "$p" --op 44 "$B/l1.item"
	item l2 --name ng-l2 --node file:right --ca fixed:sha256 --hash-of file:other
	p=$(hpath --name ng-l2 --node file:right --ca fixed:sha256)
	ng_refused liar/nar-hash ngliar "^key ngliar: AddToStoreNar of '$p' refused by rule nar-hash: .*" "$p" --op 39 "$B/l2.item"
}

# The same skip for AddToStoreNar, one path.
t_skip_one() {
	ia=/nix/store/1mdqa9w1p6cmli6976v4wi0sw9r4p5pr-ng-unproven-one
	item s5 --path "$ia" --node file:unproven-one
	ngsend ngsigned --op 39 --no-check-sigs "$B/s5.item"
	if [ "$st" -eq 0 ] && nothing_of "$ia" && grep -aq "nixgate-serve: key ngsigned: not importing $ia: it is not content-addressed" "$B/w.out" &&
	   perl -e 'local $/; exit !(<STDIN> =~ /stla\0{4}$/s)' < "$B/w.out"; then
		ok skip/add-to-store-nar
	else
		bad skip/add-to-store-nar "exit status $st: $(head -c 400 "$B/w.err" | tr '\n' '|')"
	fi
	ng_refused skip/add-to-store-nar-checked ngsigned \
		"$(echo "key ngsigned: AddToStoreNar of '$ia' refused by rule import: it is not content-addressed and has no signature; it needs a signature by one of this key's trusted-public-keys (nix store sign), or a trusted key")" \
		"$ia" --op 39 "$B/s5.item"
}
