# Built through ./build.sh, which first makes the musl builds of libsodium and
# libseccomp in build/deps.
B      := build
DEPS   := $(B)/deps
CC     := musl-gcc
CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers \
          -fstack-protector-strong -D_FORTIFY_SOURCE=2 -I$(DEPS)/include -I$(DEPS)/kinc -Iproto
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

all: $(B)/nixgate-serve $(B)/nixgate $(B)/unit $(B)/static-ok

$(B)/obj/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iserver -Isandbox -Iclient -c -o $@ $<

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
           -fsanitize=address,undefined -fno-sanitize-recover=all -Iproto -Iserver -Isandbox -Iclient
$(B)/asan-unit: $(UNITSRC) $(HEADERS) Makefile
	gcc $(SAN) -o $@ $(filter %.c,$^) -lsodium -lseccomp

# The server under the sanitizers, for a second run of the end-to-end tests
# with the sandbox off.
$(B)/asan-nixgate-serve: $(PROTO) $(SERVER) $(HEADERS) Makefile
	gcc $(SAN) -o $@ $(filter %.c,$^) -lsodium -lseccomp

# The client too: it parses what every build host answers (ping, doctor,
# the build hook), so the same run uses it wherever the tests run nixgate.
# It has no sandbox of its own, so it runs as shipped.
$(B)/asan-nixgate: $(PROTO) $(CLIENT) $(HEADERS) Makefile
	gcc $(SAN) -o $@ $(filter %.c,$^) -lsodium

all: $(B)/asan-unit $(B)/asan-nixgate-serve $(B)/asan-nixgate

fobj = $(patsubst %.c,$(B)/fuzz/obj/%.o,$(1))

$(B)/fuzz/obj/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	clang $(SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

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
	$(CC) $(CFLAGS) -DNIXGATE_PARSER_CONNECT -Iserver -Isandbox -c -o $@ $<

$(B)/connect-nixgate-serve: $(call obj,$(PROTO) $(filter-out server/privsep.c,$(SERVER))) $(B)/connect/privsep.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

all: $(B)/connect-nixgate-serve
