#!/bin/sh
# nixgate: the one entry point. ./build.sh [deps|build|test|demo|bench|fuzz|clean]
# fuzz takes [SECONDS [HARNESS...]]: see tests/fuzz/run.sh.
set -eu
cd "$(dirname "$0")"
top=$(pwd)
B=$top/build
DEPS=$B/deps

PKGS="musl-tools gperf autoconf automake libtool dpkg-dev make gcc clang libclang-rt-14-dev
      libsodium-dev libseccomp-dev nix-bin openssh-server openssh-client file binutils util-linux procps iproute2 perl xz-utils"

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
test) deps; make -s all; exec sh tests/run.sh ;;
demo) deps; make -s all; exec unshare -m --propagation private sh tests/demo.sh ;;
bench) deps; make -s all; exec unshare -m --propagation private sh bench/run.sh "${2:-}" ;;
fuzz) deps; shift; exec sh tests/fuzz/run.sh "$@" ;;
clean) rm -rf "$B" ;;
*) say "usage: ./build.sh [deps|build|test|demo|bench|fuzz|clean]"; exit 100 ;;
esac
