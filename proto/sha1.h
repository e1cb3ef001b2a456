/* sha1: SHA-1 (FIPS 180-4), only for checking content addresses that name
 * it: Nix accepts fixed-output hashes in sha1. */
#ifndef NIXGATE_SHA1_H
#define NIXGATE_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_BYTES 20

struct sha1 {
	uint32_t h[5];
	uint64_t n;             /* bytes so far */
	unsigned char buf[64];
};

void sha1_init(struct sha1 *s);
void sha1_update(struct sha1 *s, const void *p, size_t n);
void sha1_final(struct sha1 *s, unsigned char out[SHA1_BYTES]);

#endif
