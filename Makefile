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
HEADERS := $(wildcard */*.h)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

all: $(B)/nixgate-serve $(B)/nixgate $(B)/unit $(B)/static-ok

$(B)/obj/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iserver -Isandbox -Iclient -c -o $@ $<

$(B)/nixgate-serve: $(call obj,$(PROTO) $(SERVER))
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/nixgate: $(call obj,$(PROTO) $(CLIENT))
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/unit: $(call obj,$(PROTO) $(filter-out server/main.c,$(SERVER)) $(filter-out client/main.c,$(CLIENT)) $(UNIT))
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
