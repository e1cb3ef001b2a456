/* claim: whether a path offered by a key that is not trusted proves itself:
 * a content address that gives its path, or a signature over its
 * fingerprint by one of the key's trusted-public-keys. The host decides
 * with it before a byte of the path reaches its daemon; the build hook asks
 * the same question first, so that it offers only what the host will take. */
#ifndef NIXGATE_CLAIM_H
#define NIXGATE_CLAIM_H

#include <stddef.h>
#include <stdint.h>

#include "pathset.h"
#include "sig.h"

struct claim {
	const char *path, *ca;         /* ca "" unless content-addressed */
	const unsigned char *hash;     /* SHA256_BYTES, of the NAR */
	uint64_t nar_size;
	const unsigned char *sigs;     /* the signature list in wire form */
	size_t sigs_len;
};

/* 0 it holds; 1 it does not, the reason in why; -1 on a failure that is not
 * the claim's (fail()). Sorts refs, as Nix keeps them. */
int claim_check(const struct claim *c, struct pathset *refs, const struct pubkey *keys, size_t nkeys, char *why,
		size_t max);

/* The signatures of c that verify against keys, in wire form into out (cap
 * bytes; SIGS_WIRE_MAX is enough), their length in len: what an untrusted
 * key's import passes on. refs sorted. -1 with fail(). */
int claim_sigs(const struct claim *c, const struct pathset *refs, const struct pubkey *keys, size_t nkeys,
	       unsigned char *out, size_t cap, size_t *len);

#endif
