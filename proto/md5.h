/* md5: MD5 (RFC 1321), only for checking content addresses that name it:
 * Nix still accepts fixed-output hashes in md5. */
#ifndef NIXGATE_MD5_H
#define NIXGATE_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_BYTES 16

struct md5 {
	uint32_t h[4];
	uint64_t n;             /* bytes so far */
	unsigned char buf[64];
};

void md5_init(struct md5 *m);
void md5_update(struct md5 *m, const void *p, size_t n);
void md5_final(struct md5 *m, unsigned char out[MD5_BYTES]);

#endif
