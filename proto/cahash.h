/* cahash: the hash a content address names (md5, sha1, sha256, sha512),
 * taken as Nix's daemon takes it when it checks an import: modulo the
 * path's own hash part (every occurrence replaced by zero bytes). Nix up to
 * 2.16 then also hashes "|<offset>" of each occurrence; from 2.17 on its
 * rewriting no longer records them, so both results are kept. */
#ifndef NIXGATE_CAHASH_H
#define NIXGATE_CAHASH_H

#include <sodium/crypto_hash_sha512.h>
#include <stddef.h>
#include <stdint.h>

#include "md5.h"
#include "sha1.h"
#include "sha256.h"
#include "storepath.h"

#define CAHASH_BYTES_MAX 64
/* Offsets of self-references kept for the "|<offset>" suffix: a path that
 * names itself more often than this is refused, not hashed. */
#define CAHASH_SELF_MAX 65536
#define CAHASH_PIECE 16384

struct anyhash {
	int algo;
	union {
		struct md5 md5;
		struct sha1 sha1;
		struct sha256 sha256;
		crypto_hash_sha512_state sha512;
	} u;
};

/* "md5", "sha1", "sha256", "sha512": the digest length, or 0 (nothing set
 * up) for any other name. */
size_t anyhash_init(struct anyhash *h, const char *algo);
void anyhash_update(struct anyhash *h, const void *p, size_t n);
void anyhash_final(struct anyhash *h, unsigned char out[CAHASH_BYTES_MAX]);

struct cahash {
	struct anyhash h;
	size_t len;                    /* digest bytes */
	char part[STORE_HASH_CHARS];   /* the path's hash part */
	unsigned char win[STORE_HASH_CHARS - 1 + CAHASH_PIECE];
	size_t wlen;                   /* bytes in win not hashed yet */
	uint64_t pos;                  /* bytes hashed so far */
	uint64_t *self;                /* offsets of the self-references */
	size_t nself, cap;
	int over;                      /* more than CAHASH_SELF_MAX of them */
	int plain;                     /* no hash part: the bytes as they are */
};

/* 0, or -1 with fail() for an algorithm it does not know. A NULL
 * hash_part hashes the bytes as they are (text: claims: Nix hashes a text
 * file's contents plainly, and a text: path never names itself). */
int cahash_init(struct cahash *c, const char *algo, const char hash_part[STORE_HASH_CHARS]);
void cahash_update(struct cahash *c, const unsigned char *p, size_t n);
/* Both digests: without and with the offsets' suffix (equal when the
 * path does not name itself). -1 with fail() when there were too many
 * self-references or no memory for them. Frees what c holds. */
int cahash_final(struct cahash *c, unsigned char plain[CAHASH_BYTES_MAX], unsigned char suffixed[CAHASH_BYTES_MAX]);
void cahash_free(struct cahash *c);

#endif
