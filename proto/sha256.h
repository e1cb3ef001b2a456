/* sha256: SHA-256 through the CPU's SHA instructions (x86 SHA-NI) when it
 * has them, else libsodium's portable code. */
#ifndef NIXGATE_SHA256_H
#define NIXGATE_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <sodium/crypto_hash_sha256.h>

struct sha256 {
	int ni; /* 1: the SHA instructions, 0: libsodium */
	union {
		crypto_hash_sha256_state so;
		struct {
			uint32_t h[8];
			uint64_t n; /* bytes so far */
			unsigned char buf[64];
		} x;
	} u;
};

/* Chooses the SHA instructions if CPUID reports them (and SSSE3 and
 * SSE4.1); no system call, so it may run under the sandbox. */
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[32]);

/* For the tests and the benchmark: whether the SHA-instruction path can run
 * here, and sha256_init with the path chosen (ni 1 or 0); -1, with nothing
 * set up, if ni is asked for and cannot run. */
int sha256_ni_available(void);
int sha256_init_path(struct sha256 *s, int ni);

#endif
