#!/bin/sh
# nixgate: the one entry point. ./build.sh [deps|build|install|chroots|test|demo|bench|fuzz|clean]
# fuzz takes [SECONDS [HARNESS...]]: see tests/fuzz/run.sh.
# install puts the binaries and manual pages under PREFIX (/usr/local).
# chroots makes the Debian roots whose Nix the test matrix runs (tests/roots.sh).
set -eu
cd "$(dirname "$0")"
top=$(pwd)
B=$top/build
DEPS=$B/deps

PKGS="musl-tools gperf autoconf automake libtool dpkg-dev make gcc clang libclang-rt-14-dev
      libsodium-dev libseccomp-dev nix-bin openssh-server openssh-client file binutils util-linux procps iproute2 perl xz-utils
      debootstrap mandoc man-db"

say() { printf 'build.sh: %s\n' "$*" >&2; }

need_pkgs() {
	missing=
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq $missing >/dev/null
}

# Debian's .a files are glibc builds; the static musl binary needs its own.
ensure_deb_src() {
	if grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/ &&
	   apt-cache showsrc libsodium >/dev/null 2>&1 && [ -n "$(apt-cache showsrc libsodium 2>/dev/null)" ]; then
		return 0
	fi
	say "adding deb-src apt sources"
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
			> /etc/apt/sources.list.d/nixgate-src.sources
	else
		grep -h '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' \
			> /etc/apt/sources.list.d/nixgate-src.list
	fi
	apt-get update -qq
}

# musl-gcc sees only musl's headers; libseccomp needs the kernel's.
kernel_headers() {
	k=$DEPS/kinc
	[ -d "$k/linux" ] && return 0
	mkdir -p "$k"
	arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	ln -sfn /usr/include/linux "$k/linux"
	ln -sfn /usr/include/asm-generic "$k/asm-generic"
	ln -sfn "/usr/include/$arch/asm" "$k/asm"
}

build_lib() { # source-package version-stamp configure-args...
	pkg=$1; shift
	ver=$(apt-cache showsrc "$pkg" | sed -n 's/^Version: //p' | sort -V | tail -n 1)
	stamp=$DEPS/.$pkg-$ver
	[ -f "$stamp" ] && return 0
	say "building $pkg $ver with musl-gcc"
	rm -rf "$DEPS/src-$pkg"; mkdir -p "$DEPS/src-$pkg"
	(cd "$DEPS/src-$pkg" && apt-get source -qq "$pkg=$ver" >/dev/null 2>&1 ||
	 apt-get source -qq "$pkg" >/dev/null)
	srcdir=$(find "$DEPS/src-$pkg" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	(cd "$srcdir" &&
	 { [ -x configure ] || autoreconf -fi >/dev/null 2>&1; } &&
	 CC=musl-gcc CFLAGS="-O2 -fPIC -I$DEPS/kinc" ./configure --prefix="$DEPS" \
		--disable-shared --enable-static "$@" >"$DEPS/$pkg.configure.log" 2>&1 &&
	 make -j"$(nproc)" >"$DEPS/$pkg.make.log" 2>&1 &&
	 make install >"$DEPS/$pkg.install.log" 2>&1) || { say "building $pkg failed: see $DEPS/$pkg.*.log"; exit 111; }
	rm -f "$DEPS"/.$pkg-*
	touch "$stamp"
}

# Debian roots with a newer Nix, for the test matrix: a host or a client of
# that version runs in a mount namespace pivoted into one (tests/roots.sh).
# Made once, outside the checkout; the stamp's first line is what was asked
# for, so a changed package list makes them anew.
CHROOTS=${NIXGATE_CHROOTS:-/var/cache/nixgate/chroots}
CHROOT_SUITES="trixie sid"
CHROOT_PKGS="nix-bin openssh-server openssh-client perl iproute2 procps util-linux util-linux-extra mount passwd"
# The archive, read from apt's own sources so that the roots come from where
# this machine's packages come from.
apt_mirror() {
	m=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		tr ' ' '\n' | grep '/debian/*$' | head -n 1)
	[ -n "$m" ] || m=$(sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\([^[:space:]]*\/debian\/*\)[[:space:]].*/\2/p' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}
make_chroot() { # suite
	d=$CHROOTS/$1
	want="$1: $CHROOT_PKGS"
	[ -f "$d/.nixgate-stamp" ] && [ "$(head -n 1 "$d/.nixgate-stamp")" = "$want" ] && return 0
	mkdir -p "$CHROOTS"
	t0=$(date +%s)
	say "making the $1 root in $d"
	rm -rf "$d.new"
	debootstrap --variant=minbase "$1" "$d.new" "$(apt_mirror)" > "$CHROOTS/$1.log" 2>&1 ||
		{ say "debootstrap $1 failed: see $CHROOTS/$1.log"; exit 111; }
	# no service of the root's packages starts while they install
	printf '#!/bin/sh\nexit 101\n' > "$d.new/usr/sbin/policy-rc.d"
	chmod 755 "$d.new/usr/sbin/policy-rc.d"
	# the mirror's Release files are older than the clock
	printf 'Acquire::Check-Valid-Until "false";\n' > "$d.new/etc/apt/apt.conf.d/99nixgate"
	cp /etc/resolv.conf "$d.new/etc/resolv.conf"
	unshare -m --propagation private sh -c '
		mount -t proc proc "$0/proc" &&
		chroot "$0" apt-get -qq update &&
		chroot "$0" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $1' \
		"$d.new" "$CHROOT_PKGS" >> "$CHROOTS/$1.log" 2>&1 ||
		{ say "installing into the $1 root failed: see $CHROOTS/$1.log"; exit 111; }
	chroot "$d.new" apt-get clean
	# mount points tests/roots.sh uses: the store, and the machine's root
	mkdir -p "$d.new/nix" "$d.new/.machine"
	{ echo "$want"
	  chroot "$d.new" dpkg-query -W $CHROOT_PKGS; } > "$d.new/.nixgate-stamp"
	rm -rf "$d"
	mv "$d.new" "$d"
	say "$1 root made in $(($(date +%s) - t0)) s: $(grep '^nix-bin' "$d/.nixgate-stamp")"
}
chroots() {
	for s in $CHROOT_SUITES; do make_chroot "$s"; done
}

deps() {
	need_pkgs
	ensure_deb_src
	mkdir -p "$DEPS"
	kernel_headers
	build_lib libsodium --disable-pie
	build_lib libseccomp
}

case "${1:-build}" in
deps) deps ;;
build) deps; make -s all ;;
install) deps; make -s all; make -s install PREFIX="${PREFIX:-/usr/local}" ;;
chroots) need_pkgs; chroots ;;
test) deps; make -s all; chroots; exec sh tests/run.sh ;;
demo) deps; make -s all; exec unshare -m --propagation private sh tests/demo.sh ;;
bench) deps; make -s all; exec unshare -m --propagation private sh bench/run.sh "${2:-}" ;;
fuzz) deps; shift; exec sh tests/fuzz/run.sh "$@" ;;
clean) rm -rf "$B" ;;
*) say "usage: ./build.sh [deps|build|install|chroots|test|demo|bench|fuzz|clean]"; exit 100 ;;
esac
