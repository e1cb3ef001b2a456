/* harness: what the fuzz harnesses share. Each fuzz_NAME.c is one
 * LLVMFuzzerTestOneInput, linked with libFuzzer to fuzz and with replay.c
 * to run its corpus in the normal test run. */
#ifndef NIXGATE_HARNESS_H
#define NIXGATE_HARNESS_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A descriptor that takes any write, opened once: the harnesses write what a
 * peer would read there, and a memory writer would fill up. */
int devnull(void);

/* The input in a malloc'd buffer of exactly its size (one byte for none), so
 * that a read past its end is caught; NULL when out of memory. */
char *copy(const uint8_t *data, size_t size);
/* The same with a NUL after it, for the parsers of C strings. */
char *copy_str(const uint8_t *data, size_t size);

/* The bits of a session's first byte: how the key and client are set up. */
enum {
	SESSION_WRITE = 1, SESSION_TRUSTED = 2, SESSION_KEYS = 4, SESSION_SYSTEMS = 8,
	SESSION_FEATURES = 16, SESSION_NAR_CAP = 32, SESSION_READ_ONLY = 64
};

/* One serve session: the client's bytes, and the daemon's replies read from
 * memory by a daemon of protocol 1.minor. Everything is freed afterwards. */
void session(unsigned config, unsigned minor, const uint8_t *client, size_t clen,
	     const uint8_t *daemon, size_t dlen);

#endif
