# The manual pages: each clean under mandoc -T lint, and installed by
# `make install` (./build.sh install) under a PREFIX where man finds them.
# Run from the source tree by tests/run.sh.
set -u
ok() { echo "PASS man/$1"; }
bad() { echo "FAIL man/$1: $2"; }
command -v mandoc > /dev/null || { bad mandoc "mandoc is missing: ./build.sh deps installs it"; exit 1; }
out=$(mktemp -d /tmp/nixgate-man.XXXXXX)
trap 'rm -rf "$out"' EXIT
for m in man/*.[0-9]; do
	p=${m#man/}
	# every message about the page (style included) counts; mandoc's notes
	# about the machine's own manual database do not
	(cd man && mandoc -T lint -W style "$p") > "$out/lint" 2>&1
	st=$?
	msgs=$(grep -v 'outdated mandoc.db' "$out/lint")
	if [ "$st" -eq 0 ] && [ -z "$msgs" ]; then
		ok "lint/$p"
	else
		bad "lint/$p" "status $st: $(echo "$msgs" | head -n 5 | tr '\n' '|')"
	fi
done

make -s install PREFIX="$out/prefix" > "$out/install.log" 2>&1 || bad install "$(tail -n 3 "$out/install.log" | tr '\n' '|')"
want="bin/nixgate bin/nixgate-build-hook bin/nixgate-serve share/man/man1/nixgate.1 share/man/man5/nixgate-policy.5 share/man/man8/nixgate-serve.8"
got=$(cd "$out/prefix" && find . ! -type d | sed 's|^\./||' | sort | tr '\n' ' ')
if [ "$got" = "$want " ] && [ "$(readlink "$out/prefix/bin/nixgate-build-hook")" = nixgate ] &&
   "$out/prefix/bin/nixgate-serve" --version | grep -q '^nixgate-serve ' &&
   MANPATH="$out/prefix/share/man" man -w nixgate-policy 2>/dev/null | grep -qx "$out/prefix/share/man/man5/nixgate-policy.5"; then
	ok install
else
	bad install "installed: $got"
fi
