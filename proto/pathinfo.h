/* pathinfo: a store path's metadata (Nix's UnkeyedValidPathInfo) in the
 * layouts of the serve protocol (QueryPathInfos) and of the worker protocol
 * (QueryPathInfo), by protocol minor. */
#ifndef NIXGATE_PATHINFO_H
#define NIXGATE_PATHINFO_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "pathset.h"
#include "storepath.h"
#include "wire.h"

#define SIGS_MAX 64
#define SIG_MAX 1024
/* A signature list in wire form: count, then padded strings. */
#define SIGS_WIRE_MAX (8 + SIGS_MAX * (8 + SIG_MAX + 8))
#define CA_MAX 512

struct pathinfo {
	char deriver[STORE_PATH_MAX + 1];  /* "" when there is none */
	unsigned char hash[SHA256_BYTES];  /* of the NAR */
	uint64_t regtime, nar_size;
	int ultimate;
	char ca[CA_MAX + 1];               /* "" unless content-addressed */
	unsigned char sigs[SIGS_WIRE_MAX]; /* kept in wire form: only passed on */
	size_t sigs_len;
};

/* A signature list from r, each signature checked against SIG_MAX, passed to
 * w (or only read past when w is NULL). */
int sigs_copy(struct rd *r, struct wr *w);

/* The references go to refs, which the caller owns. */
int pathinfo_read_serve(struct rd *r, unsigned minor, struct pathinfo *in, struct pathset *refs);
int pathinfo_write_serve(struct wr *w, unsigned minor, const struct pathinfo *in, const struct pathset *refs);
int pathinfo_read_worker(struct rd *r, unsigned minor, struct pathinfo *in, struct pathset *refs);
int pathinfo_write_worker(struct wr *w, unsigned minor, const struct pathinfo *in, const struct pathset *refs);

#endif
