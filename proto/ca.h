/* ca: content-addressed store paths, computed as Nix computes them, so a
 * path's claim about its own content can be checked. */
#ifndef NIXGATE_CA_H
#define NIXGATE_CA_H

#include <stddef.h>

#include "hash.h"
#include "pathset.h"
#include "storepath.h"

#define CA_HASH_MAX 64 /* sha512 */

struct ca {
	int text;            /* text:sha256 (else fixed) */
	int recursive;       /* fixed:r: (NAR serialisation) */
	char algo[8];        /* md5, sha1, sha256, sha512 */
	unsigned char hash[CA_HASH_MAX];
	size_t hlen;
};

/* "text:sha256:<hash>", "fixed:[r:]<algo>:<hash>", hash in base16 or
 * Nix base32; -1 with fail(EXIT_REFUSED) otherwise. */
int ca_parse(struct ca *c, const char *s, size_t len);
/* The store path a CA claim gives for name and sorted refs; a ref equal to
 * self counts as a self-reference. -1 when the claim cannot have refs. */
int ca_path(char out[STORE_PATH_MAX + 1], const struct ca *c, const char *name,
	    const struct pathset *refs, const char *self);
/* Nix's makeStorePath(type, sha256 h, name), e.g. type "output:out". */
void ca_store_path(char out[STORE_PATH_MAX + 1], const char *type, const unsigned char h[SHA256_BYTES],
		   const char *name);
/* A fixed-output derivation's output: algo as in a derivation ("r:sha256",
 * "sha1"), hash in base16. */
int ca_fixed_output(char out[STORE_PATH_MAX + 1], const char *algo, const char *hash16, const char *name);

#endif
