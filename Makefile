# Built through ./build.sh, which first makes the musl builds of libsodium and
# libseccomp in build/deps.
B      := build
DEPS   := $(B)/deps
CC     := musl-gcc
CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers \
          -fstack-protector-strong -D_FORTIFY_SOURCE=2 -I$(DEPS)/include -I$(DEPS)/kinc
LDFLAGS := -static -L$(DEPS)/lib
LIBS   := -lsodium -lseccomp

PROTO   := $(wildcard proto/*.c)
SERVER  := $(wildcard server/*.c) $(wildcard sandbox/*.c)
CLIENT  := $(wildcard client/*.c)
UNIT    := $(wildcard tests/unit/*.c)
FUZZ    := $(wildcard tests/fuzz/fuzz_*.c)
HEADERS := $(wildcard */*.h tests/*/*.h)
UNITSRC := $(PROTO) $(filter-out server/main.c,$(SERVER)) $(filter-out client/main.c,$(CLIENT)) $(UNIT)
# What a fuzz harness links with: no main, no sandbox.
FUZZLIB := tests/fuzz/harness.c tests/fuzz/daemoncheck.c $(PROTO) $(filter-out server/main.c server/privsep.c,$(wildcard server/*.c)) \
           $(filter-out client/main.c,$(CLIENT))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

# The layering: each directory compiles with only the headers it may use
# (besides its own, which a quoted include finds first), so a wrong include
# fails to compile. The tests may see everything.
INC_proto   := -Iproto
INC_sandbox := -Iproto -Isandbox
INC_server  := -Iproto -Isandbox -Iserver
INC_client  := -Iproto -Iclient
INC_tests   := -Iproto -Isandbox -Iserver -Iclient -Itests/unit -Itests/fuzz
inc = $(INC_$(firstword $(subst /, ,$(1))))

all: $(B)/nixgate-serve $(B)/nixgate $(B)/unit $(B)/static-ok

$(B)/obj/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call inc,$<) -c -o $@ $<

$(B)/nixgate-serve: $(call obj,$(PROTO) $(SERVER))
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/nixgate: $(call obj,$(PROTO) $(CLIENT))
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/unit: $(call obj,$(UNITSRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Refuse to ship a binary that needs a dynamic loader.
$(B)/static-ok: $(B)/nixgate-serve $(B)/nixgate
	@for f in $^; do \
		file $$f | grep -q 'statically linked' || { echo "$$f is not statically linked" >&2; exit 1; }; \
		! readelf -l $$f | grep -q INTERP || { echo "$$f has an INTERP header" >&2; exit 1; }; \
	done; touch $@

.PHONY: all

# Test tools: ordinary glibc builds, never shipped.
$(B)/sclient: tests/tools/sclient.c
	gcc -O2 -Wall -o $@ $<

all: $(B)/sclient

# Each fuzz harness with a plain main() that runs files through it, so the
# corpora replay in the test run without clang.
$(B)/replay/fuzz_%: $(call obj,tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZLIB))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

all: $(patsubst tests/fuzz/%.c,$(B)/replay/%,$(FUZZ))

# glibc builds under ASan and UBSan: the unit tests (they skip the sandbox's
# own, see tests/unit/main.c) and, with clang, the libFuzzer harnesses of
# ./build.sh fuzz.
SAN     := -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Wshadow \
           -Wno-unused-parameter -Wno-missing-field-initializers \
           -fsanitize=address,undefined -fno-sanitize-recover=all
aobj = $(patsubst %.c,$(B)/asan/obj/%.o,$(1))

$(B)/asan/obj/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	gcc $(SAN) $(call inc,$<) -c -o $@ $<

$(B)/asan-unit: $(call aobj,$(UNITSRC))
	gcc $(SAN) -o $@ $^ -lsodium -lseccomp

# The server under the sanitizers, for a second run of the end-to-end tests
# with the sandbox off.
$(B)/asan-nixgate-serve: $(call aobj,$(PROTO) $(SERVER))
	gcc $(SAN) -o $@ $^ -lsodium -lseccomp

# The client too: it parses what every build host answers (ping, doctor,
# the build hook), so the same run uses it wherever the tests run nixgate.
# It has no sandbox of its own, so it runs as shipped.
$(B)/asan-nixgate: $(call aobj,$(PROTO) $(CLIENT))
	gcc $(SAN) -o $@ $^ -lsodium

all: $(B)/asan-unit $(B)/asan-nixgate-serve $(B)/asan-nixgate

fobj = $(patsubst %.c,$(B)/fuzz/obj/%.o,$(1))

$(B)/fuzz/obj/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	clang $(SAN) $(call inc,$<) -fsanitize=fuzzer-no-link -c -o $@ $<

$(B)/fuzz/fuzz_%: $(call fobj,tests/fuzz/fuzz_%.c $(FUZZLIB))
	clang $(SAN) -fsanitize=fuzzer -o $@ $^ -lsodium

fuzzers: $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ))

.PHONY: fuzzers
# Objects reached only through pattern rules are kept, not rebuilt each time.
.SECONDARY:

# MiB/s of both SHA-256 paths (proto/sha256.c): build/sha256-bench [MiB]
$(B)/sha256-bench: $(call obj,tests/tools/sha256_bench.c proto/sha256.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

all: $(B)/sha256-bench

# The test build whose parser tries to connect a socket once in its sandbox:
# tests/e2e/t_privsep.sh shows it dies by SIGSYS and the session ends.
$(B)/connect/privsep.o: server/privsep.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_server) -DNIXGATE_PARSER_CONNECT -c -o $@ $<

$(B)/connect-nixgate-serve: $(call obj,$(PROTO) $(filter-out server/privsep.c,$(SERVER))) $(B)/connect/privsep.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

all: $(B)/connect-nixgate-serve

# The test build whose parser vouches for every NAR unchecked, as a
# compromised one would: tests/e2e/t_privsep_attack.sh shows the monitor
# refuses what the parser should have.
$(B)/lies/%.o: server/%.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_server) -DNIXGATE_PARSER_LIES -c -o $@ $<

$(B)/lies-nixgate-serve: $(call obj,$(PROTO) $(filter-out server/upload.c server/wupload.c,$(SERVER))) \
		$(B)/lies/upload.o $(B)/lies/wupload.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

all: $(B)/lies-nixgate-serve

# Proof of the layering: each probe tests/layering/DIR_*.c includes a header
# that DIR may not see. It must compile with every include path (so it fails
# for no other reason) and must not with DIR's.
PROBES := $(wildcard tests/layering/*.c)

$(B)/layering-ok: $(PROBES) $(HEADERS) Makefile
	@for f in $(PROBES); do \
		d=$$(basename $$f); d=$${d%%_*}; \
		case $$d in \
		proto) i="$(INC_proto)" ;; sandbox) i="$(INC_sandbox)" ;; \
		server) i="$(INC_server)" ;; client) i="$(INC_client)" ;; \
		*) echo "$$f: no directory $$d" >&2; exit 1 ;; \
		esac; \
		$(CC) $(CFLAGS) $(INC_tests) -fsyntax-only $$f || { echo "$$f does not compile at all" >&2; exit 1; }; \
		! $(CC) $(CFLAGS) $$i -fsyntax-only $$f 2>/dev/null || \
			{ echo "layering: $$f compiles with $$d's include paths ($$i)" >&2; exit 1; }; \
	done; touch $@

layering-check: $(B)/layering-ok

.PHONY: layering-check
all: $(B)/layering-ok

# ./build.sh install: the two binaries, the hook's name for the client, and
# the manual pages, under PREFIX (DESTDIR for packaging).
PREFIX  ?= /usr/local
MANDIR  ?= $(PREFIX)/share/man
MANPAGES := $(wildcard man/*.[0-9])

install: $(B)/nixgate-serve $(B)/nixgate $(B)/static-ok
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(B)/nixgate-serve $(B)/nixgate $(DESTDIR)$(PREFIX)/bin/
	ln -sf nixgate $(DESTDIR)$(PREFIX)/bin/nixgate-build-hook
	for m in $(MANPAGES); do \
		s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s && install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	done

.PHONY: install
