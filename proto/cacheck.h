/* cacheck: a content address checked against the whole NAR in the pass
 * that spools it, as Nix's daemon checks it (LocalStore::addToStore with
 * hashCAPath) and stricter where the daemon reads through what it should
 * not: text: and flat fixed: must be one regular, non-executable file. */
#ifndef NIXGATE_CACHECK_H
#define NIXGATE_CACHECK_H

#include <stddef.h>

#include "ca.h"
#include "cahash.h"
#include "nar.h"

struct cacheck {
	struct ca ca;
	int flat;           /* hashed over the root file's contents, not the NAR */
	struct cahash h;
	const struct nar *nar;
};

/* For the path's claim ca_text (already checked to give the path: claim.h),
 * watching the NAR through n, which must have been nar_init'ed: it sets n's
 * contents callback. -1 with fail() on a claim it cannot parse. */
int cacheck_init(struct cacheck *k, const char *ca_text, const char *path, struct nar *n);
/* Every byte of the NAR, in order (the ones n consumed). */
void cacheck_nar(struct cacheck *k, const unsigned char *p, size_t len);

/* How the host's daemon hashes self-references, from its version string:
 * 1 with the offsets' suffix (Nix up to 2.16), 0 without (2.17 on), -1
 * not known (then only a path that does not name itself is accepted). */
int cacheck_suffix(const char *nix_version);

/* After the whole NAR: 0 the claim holds, 1 it does not (why says how),
 * -1 on a failure that is not the claim's. */
int cacheck_done(struct cacheck *k, int suffix, char *why, size_t max);
void cacheck_free(struct cacheck *k);

#endif
