#!/bin/sh
# Writes the seed inputs of tests/fuzz/corpus/ (run it again after changing
# it; files of findings, regress-*, are kept by hand). Each harness's .c says
# what its input is.
set -eu
cd "$(dirname "$0")"
C=corpus

byte() { printf "\\$(printf %o "$1")"; }
u32() { byte $(($1 & 255)); byte $(($1 >> 8 & 255)); byte $(($1 >> 16 & 255)); byte $(($1 >> 24 & 255)); }
u64() { u32 $(($1 & 0xffffffff)); u32 $(($1 >> 32 & 0xffffffff)); }
str() { # a wire string: length, bytes, zero padding
	n=$(printf %s "$1" | wc -c)
	u64 "$n"
	printf %s "$1"
	head -c $(((8 - n % 8) % 8)) /dev/zero
}
strs() { # a list of strings
	u64 $#
	for s; do str "$s"; done
}
seed() { # harness name: the file, from standard input
	mkdir -p "$C/$1"
	cat > "$C/$1/$2"
}

SERVE_MAGIC_1=0x390c9deb
WORKER_MAGIC_2=0x6478696f
LAST=0x616c7473 NEXT=0x6f6c6d67 ERROR=0x63787470 READ=0x64617461 WRITE=0x64617416
START=0x53545254 STOP=0x53544f50 RESULT=0x52534c54

P=/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-hello-2.12
DRV=/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-hello.txt.drv
OUT=/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt
CA_OUT=/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt
CA='fixed:r:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw'
NAR_HASH='sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM='
NAR_B16=sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
# the output of a fixed-output derivation with this r:sha256 hash is CA_OUT
REC_HASH=1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13
KEY='vec-key-1:H7vJwcRAr64va2fujVmSXbICbxPGw5xSZQjW6jOxSrg='
SIG_OUT='vec-key-1:ihQQ3Hztj8yRS+mJwICCVqHhhaHY47EArnP/ruRzKa98B2zAoVP8LRbYDiJT26jWJ8P2MjxVPv9UZNcMICBVDA=='
ATERM="Derive([(\"out\",\"$CA_OUT\",\"r:sha256\",\"$REC_HASH\")],[],[\"$P\"],\"x86_64-linux\",\"/bin/sh\",[\"-c\",\"echo \\\"a\\\\b\\\"\\n\"],[(\"out\",\"$CA_OUT\"),(\"requiredSystemFeatures\",\"kvm\")])"

# NARs; hello_nar is 120 bytes, the size the signed paths claim
nar_tokens() { for t; do str "$t"; done; }
# hello_nar's hash is NAR_HASH
hello_nar() { nar_tokens nix-archive-1 "(" type regular contents "hello
" ")"; }

# --- nar
hello_nar | seed nar regular
nar_tokens nix-archive-1 "(" type regular executable "" contents "#!/bin/sh" ")" | seed nar executable
nar_tokens nix-archive-1 "(" type symlink target "../lib/libz.so.1" ")" | seed nar symlink
nar_tokens nix-archive-1 "(" type directory entry "(" name bin node "(" type directory \
	entry "(" name hello node "(" type regular executable "" contents "ELF" ")" ")" ")" ")" \
	entry "(" name share node "(" type symlink target /x ")" ")" ")" | seed nar tree

# --- wire: strings, store paths, path sets
strs "" hello 12345678 "$P" | seed wire strings
{ strs "$P" "$OUT"; strs; strs "$DRV"; } | seed wire path-sets

# --- drv: one BasicDerivation (outputs, inputs, system, builder, args, env)
basic_drv() {
	u64 1; str out; str "$CA_OUT"; str r:sha256; str "$REC_HASH"
	strs "$P"
	str x86_64-linux; str /bin/sh
	strs -c echo
	u64 2; str out; str "$CA_OUT"; str requiredSystemFeatures; str "kvm"
}
basic_drv | seed drv fixed-output
{ u64 2; str out; str ""; str r:sha256; str ""; str dev; str ""; str r:sha256; str ""
  strs; str aarch64-linux; str /bin/sh; strs; u64 1; str __json; str '{"a":1}'; } | seed drv floating-ca

# --- aterm
printf %s "$ATERM" | seed aterm fixed-output
printf 'DrvWithVersion("xp-dyn-drv",[("out","","r:sha256","")],[],[],"x86_64-linux","/bin/sh",[],[("__json","{}")])' |
	seed aterm dyn-version

# --- cmd
printf 'nix-store --serve --write' | seed cmd write
printf "'/nix/var/nix/profiles/default/bin/nix-store' --serve --store daemon" | seed cmd quoted
printf 'echo started' | seed cmd echo
printf 'nixgate-serve --serve; rm -rf /' | seed cmd shell

# --- policy
cat <<POLICY | seed policy sections
# global settings, then one section per key
allow = query, export
max-nar-size = 4G
audit-log = syslog

[key laptop]
trusted-public-keys = $KEY
systems = x86_64-linux aarch64-linux
features = kvm, big-parallel
max-build-time = 2h
max-silent-time = 10m
max-log-size = 64M
substitute = false

[key ci]
trusted = true
allow = query,export,import,build
POLICY

# --- storepath
printf %s "$P" | seed storepath path
printf %s "$DRV!out,dev" | seed storepath outputs
printf %s "$CA" | seed storepath ca-nar
printf 'text:sha256:01nmlj72cjacxg6314c8slpfny6d83h8vmnbmb5qxjz3xp9ns6wn' | seed storepath ca-text
printf 'fixed:sha1:iwjz551fyw0cxcjgf4l6c879zabd6wpm' | seed storepath ca-flat
printf %s "$NAR_HASH" | seed storepath hash-sri
printf %s "$NAR_B16" | seed storepath hash-prefixed
printf %s "$KEY" | seed storepath key
printf %s "$SIG_OUT" | seed storepath signature
printf 'r:sha256|%s' "$REC_HASH" | seed storepath fixed-output

# --- values: path info (serve 2.4, worker 1.16), a build result with built
# outputs (serve 2.6), build options (serve 2.7)
{ str "$DRV"; strs "$P"; u64 120; u64 120; str "$NAR_HASH"; str "$CA"; strs "$SIG_OUT"; } | seed values serve-info
{ str ""; str "$NAR_B16"; strs "$P" "$OUT"; u64 1700000000; u64 120; u64 1; strs "$SIG_OUT"; str ""; } |
	seed values worker-info
{ u64 0; str ""; u64 1; u64 0; u64 1700000000; u64 1700000060; u64 1; str "sha256:abc!out"; str '{"id":"x"}'; } |
	seed values build-result
# one whose outputs a serve 2.8 client gets keyed by name
ID=sha256:6f869f9ea2823bda165e06076fd0de4366dead2c0e8d2dbbad277d4f15c373f5
{ u64 0; str ""; u64 1; u64 0; u64 1700000000; u64 1700000060; u64 2; str "$ID!dev"
  str "{\"id\":\"$ID!dev\",\"outPath\":\"${CA_OUT#/nix/store/}\",\"signatures\":[]}"; str "$ID!out"
  str "{\"dependentRealisations\":{},\"id\":\"$ID!out\",\"outPath\":\"${OUT#/nix/store/}\"}"; } |
	seed values build-result-ids
{ u64 60; u64 3600; u64 0; u64 1; u64 0; u64 0; } | seed values build-options

# --- worker: the daemon's side
worker_hello() { u64 $WORKER_MAGIC_2; u64 $((0x100 | $1)); [ "$1" -lt 33 ] || str 2.8.0; u64 $LAST; }
worker_hello 34 | seed worker handshake
{ worker_hello 34
  u64 $NEXT; str "building '/nix/store/x.drv'"
  u64 $START; u64 7; u64 3; u64 105; str "building"; u64 2; u64 1; str "$DRV"; u64 0; u64 4; u64 0
  u64 $RESULT; u64 7; u64 101; u64 1; u64 1; str "a log line"
  u64 $STOP; u64 7
  u64 $READ; u64 64
  u64 $WRITE; str data
  u64 $LAST
  u64 $ERROR; str Error; u64 0; str Error; str "path is not valid"; u64 0; u64 1; u64 0; str trace
} | seed worker stream
{ worker_hello 21; u64 $ERROR; str "old-style error"; u64 1; } | seed worker old-error

# --- remote: the minor a host agreed to, then its replies to the hook's
# QueryValidPaths, QueryPathInfos, BuildPaths, BuildDerivation, DumpStorePath
remote_replies() { # minor build-status
	strs "$P"
	str "$P"; str ""; strs; u64 120; u64 120; [ "$1" -lt 4 ] || { str "$NAR_HASH"; str ""; strs "$SIG_OUT"; }; str ""
	u64 "$2"; [ "$2" = 0 ] || str "builder failed"
	u64 "$2"; str ""; [ "$1" -lt 3 ] || { u64 1; u64 0; u64 0; u64 0; }; [ "$1" -lt 6 ] || u64 0
	hello_nar
}
{ byte 7; remote_replies 7 0; } | seed remote built
{ byte 2; remote_replies 2 1; } | seed remote failed-old

# --- ping: ssh's exit status, then events: stdout or stderr bytes, the
# step's deadline, the end of stdout
SERVE_MAGIC_2=0x5452eecb
EV=$(mktemp)
trap 'rm -f "$EV"' EXIT
ev() { # out|err COMMAND... (the bytes are its output) | late | eof
	case $1 in
	late) byte 128; return ;;
	eof) byte 192; return ;;
	out) k=0 ;;
	err) k=64 ;;
	esac
	shift
	"$@" > "$EV"
	n=$(wc -c < "$EV")
	byte $((k | n >> 8)); byte $((n & 255))
	cat "$EV"
}
handshake() { u64 $SERVE_MAGIC_2; u64 "${1:-0x207}"; }
info_pairs() { u64 6; str key; str gate; str trusted; str true; str version; str 0.1
	str max-jobs; str 2; str builds; str 1; str trusted-public-keys; str "$KEY"; }
info_head() { u64 0; info_pairs | head -c 60; }
info_tail() { info_pairs | tail -c +61; }
{ byte 0; ev err printf 'debug1: Authenticated to 127.0.0.1 ([127.0.0.1]:22) using "publickey".\n'
  ev out handshake; ev out info_head; ev out info_tail; } | seed ping nixgate
{ byte 0; ev out handshake; ev out u64 0; ev eof; } | seed ping nix-store
stray() { printf 'hello from\tbashrc\n'; handshake; }
{ byte 0; ev out stray; ev late; } | seed ping stray-output
{ byte 127; ev err printf 'sh: 1: /nonexistent/nixgate-serve: not found\n'; ev eof; } | seed ping wrong-program
{ byte 255; ev err printf 'ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n'; ev eof; } | seed ping refused
{ byte 255; ev err printf 'debug1: Reading configuration data\nkex_exchange_identification: read: Connection reset by peer\r\nlast words\n'
  ev eof; ev err printf 'after the end\n'; } | seed ping ssh-failed
{ byte 143; ev out u64 $SERVE_MAGIC_2; ev late; } | seed ping no-answer
{ byte 0; ev out handshake 0x105; } | seed ping old-protocol
{ byte 0; ev out handshake; ev out u64 1; } | seed ping not-a-query-answer
too_many() { u64 0; u64 33; }
{ byte 0; ev out handshake; ev out too_many; } | seed ping too-many-pairs
longest() { u64 0; u64 1; str cores; str "$(head -c 8192 /dev/zero | tr '\0' 8)"; }
{ byte 0; ev out handshake; ev out longest; } | seed ping longest-value
# more stderr than is kept: what comes past the limit is not read for a cause
chatter() { yes 'debug1: channel 0: new [client-session]' | head -c 16383; }
denied() { chatter | head -c 16000; printf '\nPermission denied (publickey).\n'; }
{ byte 255; ev err chatter; ev err denied; ev eof; } | seed ping stderr-past-limit

# --- serve: config, daemon minor - 21, client length, client, daemon
serve_seed() { # name config minor client-function daemon-function
	"$4" > "$C/.client"
	"$5" > "$C/.daemon"
	{ byte "$2"; byte $(($3 - 21)); u32 "$(wc -c < "$C/.client")"; cat "$C/.client" "$C/.daemon"; } | seed serve "$1"
	rm -f "$C/.client" "$C/.daemon"
}
hello() { u64 $SERVE_MAGIC_1; u64 0x207; }
opts() { u64 60; u64 3600; u64 0; u64 1; u64 0; u64 0; }
none() { :; }
info_reply() { # path refs...
	u64 $LAST; u64 1; str ""; str "$NAR_B16"; shift; strs "$@"; u64 0; u64 120; u64 0; strs "$SIG_OUT"; str ""
}

c_valid() { hello; u64 1; u64 1; u64 1; strs "$P" "$OUT"; }
d_valid() { u64 $LAST; u64 1; u64 $LAST; u64 1; u64 $LAST; strs "$P"; }
serve_seed query-valid 1 34 c_valid d_valid

c_infos() { hello; u64 2; strs "$P" "$OUT"; }
d_infos() { info_reply "$P" "$OUT"; u64 $LAST; u64 0; }
serve_seed query-infos 0 34 c_infos d_infos

c_dump() { hello; u64 3; str "$OUT"; }
d_dump() { u64 $LAST; hello_nar; }
serve_seed dump 0 34 c_dump d_dump

c_export() { hello; u64 5; u64 0; strs "$OUT"; }
d_export() { info_reply "$OUT"; u64 $LAST; hello_nar; }
serve_seed export 0 34 c_export d_export

# BuildPaths for a key whose builds are read: the .drv's outputs
# (QueryDerivationOutputMap), the options, QueryMissing, the .drv's NAR, the
# build
c_build() { hello; u64 6; strs "$DRV!out"; opts; }
d_build() { u64 $LAST; u64 1; str out; str "$OUT"; u64 $LAST; u64 $LAST; strs "$DRV"; strs; strs; u64 0; u64 0
	u64 $LAST; nar_tokens nix-archive-1 "(" type regular contents "$ATERM" ")"; u64 $LAST; u64 1; }
serve_seed build-paths $((1 | 8 | 16)) 34 c_build d_build
c_build_bare() { hello; u64 6; strs "$DRV" "$DRV" "$DRV!out"; opts; }
serve_seed build-paths-bare $((1 | 8 | 16)) 34 c_build_bare d_build
d_build_missing() { u64 $ERROR; str Error; u64 0; str Error; str "path '$DRV' is not valid"; u64 0; u64 0; }
serve_seed build-paths-missing $((1 | 8)) 34 c_build d_build_missing

c_closure() { hello; u64 7; u64 1; strs "$DRV"; }
d_closure() { info_reply "$DRV" "$P"; u64 $LAST; u64 1; str out; str "$OUT"; u64 $LAST; u64 1
	info_reply "$P"; info_reply "$OUT"; }
serve_seed closure 0 34 c_closure d_closure

c_drv() { hello; u64 8; str "$DRV"; basic_drv; opts; }
d_drv() { u64 $LAST; u64 $LAST; u64 0; str ""; u64 1; u64 0; u64 0; u64 0; u64 1; str "sha256:x!out"; str "{}"; }
serve_seed build-derivation $((1 | 8)) 34 c_drv d_drv
serve_seed build-derivation-old 1 25 c_drv d_drv
c_drv_json() { hello; u64 8; str "$DRV"
	u64 1; str out; str ""; str r:sha256; str ""; strs; str x86_64-linux; str /bin/sh; strs
	u64 1; str __json; str '{"requiredSystemFeatures":["kvm"]}'; opts; }
serve_seed build-structured $((1 | 16)) 34 c_drv_json d_drv

c_info() { hello; u64 0x6e676901; }
serve_seed nixgate-info $((4 | 8 | 32)) 34 c_info none

add_nar() { # path ca sig [ref...]
	p=$1 ca=$2 sig=$3
	shift 3
	u64 9; str "$p"; str ""; str "$NAR_HASH"; strs "$@"; u64 0; u64 120; u64 0
	if [ -n "$sig" ]; then strs "$sig"; else strs; fi
	str "$ca"
	hello_nar
}
c_add_ca() { hello; add_nar "$CA_OUT" "$CA" ""; }
c_add_signed() { hello; add_nar "$OUT" "" "$SIG_OUT"; }
d_add() { u64 $LAST; }
d_add_old() { u64 $READ; u64 65536; u64 $LAST; }
serve_seed add-ca 1 34 c_add_ca d_add
serve_seed add-signed $((1 | 4)) 34 c_add_signed d_add
serve_seed add-signed-old $((1 | 4)) 21 c_add_signed d_add_old
c_add_twice() { hello; add_nar "$OUT" "" "$SIG_OUT" "$P" "$P"; }
serve_seed add-ref-twice $((1 | 4)) 34 c_add_twice d_add

# Untrusted imports as tests/tools/hostile.pl makes them, claims true so
# that they reach the content checks: a .drv, flat fixed: files, a
# reference asked about, and a symlink where a file must be.
hostile_seed() { # name daemon-function hostile.pl-arguments...
	hn=$1 hd=$2
	shift 2
	perl ../tools/hostile.pl "$@" > "$C/.client"
	"$hd" > "$C/.daemon"
	{ byte 1; byte 13; u32 "$(wc -c < "$C/.client")"; cat "$C/.client" "$C/.daemon"; } | seed serve "$hn"
	rm -f "$C/.client" "$C/.daemon"
}
d_valid_add() { u64 $LAST; u64 1; u64 $LAST; strs "$P"; u64 $LAST; }
hostile_seed add-text-drv d_add --name x.drv --node file:"$ATERM" --ca text
hostile_seed add-flat-md5 d_add --node file:tarball --ca fixed:md5
hostile_seed add-flat-sha512 d_add --node file:tarball --ca fixed:sha512
hostile_seed add-recursive-sha1 d_add --node dir:tree --ca fixed:r:sha1
hostile_seed add-ref d_valid_add --node dir:"uses $P" --ca fixed:r:sha256 --ref "$P"
hostile_seed add-flat-symlink d_add --node link:/nix/store/x --ca fixed:sha256 --claim file:x

# --- export: config, daemon minor (odd: old), the export stream
export_one() { u64 1; hello_nar; u64 0x4558494e; str "$1"; strs "$P"; str ""; u64 0; }
{ byte 2; byte 0; export_one "$OUT"; export_one "$P"; u64 0; } | seed export trusted-two
{ byte 2; byte 1; export_one "$OUT"; u64 0; } | seed export trusted-old-daemon
{ byte 0; byte 0; export_one "$OUT"; u64 0; } | seed export untrusted

# drvhash: a flags byte, then each Nix 2.8 fixture checked with every
# fixture there to be read as its input
D=../unit/data/drvhash
for f in "$D"/*.drv; do
	b=$(basename "$f" .drv)
	{
		printf 0
		printf '/nix/store/%s\n' "$(basename "$f")"
		cat "$f"
		for g in "$D"/*.drv; do
			[ "$g" = "$f" ] || { printf '\n@@\n/nix/store/%s\n' "$(basename "$g")"; cat "$g"; }
		done
	} | seed drvhash "${b#*-}"
done
printf '1/nix/store/00000000000000000000000000000000-fl.drv\nDerive([("out","","r:sha256","")],[],[],"x","b",[],[("out","")])' |
	seed drvhash floating-ca

# --- the worker protocol (ssh-ng://). wparser: config, the client's
# stream. wmonitor: config, daemon minor (13: 1.34), the client's stream's
# length (u32), the stream, the daemon's replies.
WORKER_MAGIC_1=0x6e697863
w_hello() { u64 $WORKER_MAGIC_1; u64 0x122; u64 0; u64 0; }
w_hello38() { u64 $WORKER_MAGIC_1; u64 0x126; strs some-feature; u64 1; u64 3; u64 0; }
w_opts() { u64 19; for v in 0 0 0 0 1 60 0 0 0 0 1 1; do u64 $v; done; u64 2; str timeout; str 100; str substituters; str "https://x"; }
w_info() { u64 $LAST; u64 1; str ""; str "${NAR_B16#sha256:}"; strs "$P"; u64 1700000000; u64 120; u64 1; strs; str ""; }
wseed() { # name client-function daemon-function [config]
	"$2" > "$C/.client"
	"$3" > "$C/.daemon"
	{ byte "${4:-0}"; cat "$C/.client"; } | seed wparser "$1"
	{ byte "${4:-0}"; byte 13; u32 "$(wc -c < "$C/.client")"; cat "$C/.client" "$C/.daemon"; } | seed wmonitor "$1"
	rm -f "$C/.client" "$C/.daemon"
}
c_queries() {
	w_hello; u64 1; str "$P"; u64 31; strs "$P" "$OUT"; u64 1; u64 26; str "$P"
	u64 29; str 0mdqa9w1p6cmli6976v4wi0sw9r4p5pr; u64 6; str "$P"; u64 41; str "$DRV"
	u64 11; str "$P"; u64 40; strs "$DRV!out" "$P"; w_opts
}
d_queries() {
	u64 $LAST; u64 1; u64 $LAST; strs "$P"; w_info; u64 $LAST; str "$P"; u64 $LAST; strs "$OUT"
	u64 $LAST; u64 1; str out; str "$OUT"; u64 $LAST; u64 1; u64 $LAST; strs "$DRV"; strs; strs "$P"; u64 10; u64 20
}
wseed queries c_queries d_queries
c_export() { w_hello38; u64 38; str "$P"; u64 26; str "$P"; }
d_export() { u64 $LAST; hello_nar; w_info; }
wseed export-38 c_export d_export
c_ensure() { w_hello; u64 46; strs "$P"; u64 0; u64 10; str "$P"; u64 9; strs "$P"; u64 0; u64 46; strs "$OUT"; u64 0; u64 1; str "$P"; }
d_ensure() { u64 $LAST; strs "$P"; u64 $LAST; u64 1; u64 $LAST; strs "$P"; u64 $LAST; strs; u64 $LAST; u64 0; }
wseed ensure c_ensure d_ensure
c_build() { w_hello; u64 46; strs "$DRV!out"; u64 0; }
wseed build-refused c_build true
# builds (wbuild.c): a trusted key's, the daemon's log passed on; an
# untrusted key's, its .drv read; modes, inline derivations, signatures
w_basic() { # an inline BasicDerivation
	u64 1; str out; str "$OUT"; str ""; str ""; strs "$P"; str x86_64-linux; str /bin/sh; strs -c "echo x"; u64 1; str out; str "$OUT"
}
w_result() { u64 0; str ""; u64 1; u64 0; u64 1700000000; u64 1700000001; u64 1; str "sha256:$REC_HASH!out"; str "{\"id\":\"x\"}"; }
c_bld_trusted() {
	w_hello; u64 9; strs "$DRV!out"; u64 0; u64 46; strs "$DRV!out" "$DRV!*"; u64 0
	u64 36; str "$DRV"; w_basic; u64 0; u64 37; str "$P"; strs "$SIG_OUT"
}
d_bld_trusted() {
	u64 $LAST; u64 $NEXT; str "building"; u64 $START; u64 7; u64 3; u64 105; str "build"; u64 1; u64 1; str "$DRV"; u64 0
	u64 $RESULT; u64 7; u64 101; u64 1; u64 1; str "marker"; u64 $STOP; u64 7; u64 $LAST; u64 1
	u64 $LAST; u64 $LAST; u64 2; str "$DRV!out"; w_result; str "$DRV!*"; w_result
	u64 $LAST; u64 $LAST; w_result; u64 $LAST; u64 1
}
wseed bld-trusted c_bld_trusted d_bld_trusted 3
c_bld_untrusted() { w_hello; u64 9; strs "$DRV!out"; u64 0; u64 36; str "$DRV"; w_basic; u64 0; }
d_bld_untrusted() { u64 $LAST; u64 1; str out; str "$OUT"; u64 $LAST; u64 $LAST; strs "$DRV"; strs; strs; u64 0; u64 0; }
wseed bld-untrusted c_bld_untrusted d_bld_untrusted 1
c_bld_modes() { w_hello; u64 9; strs "$DRV!out"; u64 1; u64 46; strs "$DRV"; u64 2; u64 36; str "$DRV"; w_basic; u64 2; }
wseed bld-modes c_bld_modes true 3
c_bld_sigs() { w_hello; u64 37; str "$OUT"; strs "$SIG_OUT" "$KEY"; u64 10; str "$P"; }
d_bld_sigs() { w_info; u64 $LAST; u64 0; u64 $LAST; u64 1; u64 $LAST; u64 1; }
wseed bld-sigs c_bld_sigs d_bld_sigs 5
c_bld_realisation() { w_hello; u64 43; str "sha256:$REC_HASH!out"; u64 43; str "sha256:$REC_HASH!dev"; u64 43; str "sha256:0!out"; }
d_bld_realisation() {
	u64 $LAST; u64 1; str "{\"id\":\"sha256:$REC_HASH!out\",\"outPath\":\"${OUT#/nix/store/}\",\"signatures\":[]}"; u64 $LAST; u64 0
}
wseed bld-realisation c_bld_realisation d_bld_realisation
c_gc() { w_hello; u64 20; u64 2; strs; u64 0; u64 0; u64 0; u64 0; u64 0; }
wseed gc-refused c_gc true
c_hash_part() { w_hello; u64 29; str 0m; }
wseed hash-part-short c_hash_part true
c_daemon_error() { w_hello; u64 41; str "$DRV"; u64 1; str "$P"; }
d_daemon_error() { u64 $ERROR; str Error; u64 0; str Error; str "path is not valid"; u64 0; u64 0; u64 $LAST; u64 0; }
wseed daemon-error c_daemon_error d_daemon_error

# --- worker-protocol imports (wimport.c, wupload.c): streams made by
# ../tools/ngwrap.pl from hostile.pl items. impseed NAME CONFIG DAEMON NGWRAP-ARGS...
HOS=../tools/hostile.pl NGW=../tools/ngwrap.pl
I=$C/.items
mkdir -p "$I"
perl $HOS --item --name imp-a1 --node file:one --ca fixed:sha256 > "$I/a1"
A1=$(perl $HOS --print-path --name imp-a1 --node file:one --ca fixed:sha256 | sed -n 1p)
perl $HOS --item --name imp-a2 --node dir:"uses $A1" --ca fixed:r:sha256 --ref "$A1" > "$I/a2"
IA=/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-imp-ia
perl $HOS --item --path $IA --node file:ia > "$I/ia"
perl $HOS --item --name imp-s2 --node dir:"uses $IA" --ca fixed:r:sha256 --ref "$IA" > "$I/s2"
perl $HOS --item --name imp-r1 --node file:right --ca fixed:sha256 --hash-of file:other > "$I/r1"
perl $HOS --item --name imp-big --node big:70000 --ca fixed:sha256 > "$I/big"
impseed() {
	# not n: str() sets it
	impname=$1 impcfg=$2
	shift 2
	"$1" > "$C/.daemon"
	shift
	perl $NGW "$@" > "$C/.client"
	{ byte "$impcfg"; cat "$C/.client"; } | seed wparser "$impname"
	{ byte "$impcfg"; byte 13; u32 "$(wc -c < "$C/.client")"; cat "$C/.client" "$C/.daemon"; } | seed wmonitor "$impname"
	rm -f "$C/.client" "$C/.daemon"
}
d_add() { u64 $LAST; }
d_add_refs() { u64 $LAST; u64 $LAST; u64 1; u64 $LAST; strs "$A1"; u64 $LAST; }
d_skip() { u64 $LAST; u64 1; u64 $LAST; strs; u64 $LAST; }
impseed imp-nar-ca 0 d_add --op 39 "$I/a1"
impseed imp-nar-38 0 d_add --op 39 --minor 38 "$I/a1"
impseed imp-nar-trusted 2 d_add --op 39 "$I/big"
impseed imp-multiple-refs 0 d_add_refs --op 44 --frame 5 "$I/a1" "$I/a2"
impseed imp-skip 0 d_skip --op 44 --no-check-sigs "$I/ia" "$I/s2" "$I/a1"
impseed imp-unsigned-refused 0 true --op 44 "$I/ia"
impseed imp-hash-mismatch 0 true --op 44 "$I/r1"
impseed imp-frame-huge 0 true --op 44 --frame-len 1099511627776 "$I/a1"
impseed imp-count-huge 0 true --op 44 --count 1099511627776 "$I/a1"
impseed imp-repair 0 true --op 44 --repair "$I/a1"
impseed imp-truncated 0 true --op 39 --cut 30000 "$I/big"
impseed imp-trailing 0 d_add --op 44 --trailing junk "$I/a1"
impseed imp-old-minor 0 true --op 39 --minor 22 "$I/a1"
rm -rf "$I"

# --- AddToStore and AddTextToStore (wimport.c, wupload.c): streams made by
# ../tools/ngadd.pl. addseed NAME CONFIG DAEMON NGADD-ARGS...
NGA=../tools/ngadd.pl
I=$C/.items
mkdir -p "$I"
perl $HOS --item --name add-r1 --node dir:"a dir" --ca fixed:r:sha256 > "$I/r1"
addseed() {
	addname=$1 addcfg=$2
	shift 2
	"$1" > "$C/.daemon"
	shift
	perl $NGA "$@" > "$C/.client"
	{ byte "$addcfg"; cat "$C/.client"; } | seed wparser "$addname"
	{ byte "$addcfg"; byte 13; u32 "$(wc -c < "$C/.client")"; cat "$C/.client" "$C/.daemon"; } | seed wmonitor "$addname"
	rm -f "$C/.client" "$C/.daemon"
}
d_added() { u64 $LAST; w_info; }
addseed add-text 0 d_added --name add-t1 --data "some text" --frame 3
addseed add-flat 0 d_added --name add-f1 --method fixed:sha1 --data flat --minor 38
addseed add-recursive 0 d_added --name add-r1 --method fixed:r:sha256 --nar-of "$I/r1" --frame 7
addseed add-text-op8 0 d_add --op 8 --name add-t2 --data "op8 text"
addseed add-method-git 0 true --name add-m --method fixed:git:sha1 --data x
addseed add-no-nar 0 true --name add-n --method fixed:r:sha256 --data "no NAR at all"
addseed add-frame-huge 0 true --name add-h --data x --frame-len 1099511627776
addseed add-truncated 0 true --name add-c --data "a text cut short" --frame 4 --cut 20
addseed add-repair 0 true --name add-rep --data x --repair
addseed add-old-minor 0 true --name add-v --data x --minor 24
addseed add-bad-name 0 true --op 8 --name .add --data x
rm -rf "$I"
