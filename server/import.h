/* import: paths the client adds to the host store (AddToStoreNar,
 * ImportPaths), checked against the key's policy before the daemon sees a
 * byte of them. */
#ifndef NIXGATE_IMPORT_H
#define NIXGATE_IMPORT_H

#include "cacheck.h"
#include "serve.h"
#include "sha256.h"

int add_to_store_nar(struct serve *s);
int import_paths(struct serve *s);
/* A NAR's size against the key's limit (at_least: what it has announced so
 * far, not all of it); -1 with the refusal. */
int nar_size_ok(struct serve *s, uint64_t size, int at_least);

/* An AddToStoreNar NAR checked as it passes, in s->nar: its structure, its
 * declared size and hash and, for a key that is not trusted, its content
 * address and a derivation's shape. The parser checks it on the way; the
 * monitor again as it spools it, since a parser that lies must not make the
 * daemon the one to refuse. */
struct narcheck {
	struct sha256 st;
	struct cacheck k;
	int ca;             /* the content address is checked (k is live) */
	int hash;           /* the NAR hash is checked */
	int whole;          /* all of it, not only the structure */
};

/* For a NAR of size bytes; whole: its hash, content address and a
 * derivation's shape too, else its structure only. A trusted key's NAR too big
 * to spool streams on to the daemon, which hashes it: that one is not
 * hashed here too. */
int narcheck_begin(struct serve *s, struct narcheck *c, const char *path, const char *ca, uint64_t size, int whole);
/* The NAR's next bytes: -1 with the refusal of what is no NAR, or of a NAR
 * that ends inside them. */
int narcheck_feed(struct serve *s, struct narcheck *c, const unsigned char *p, size_t n);
/* After the declared size: -1 with the refusal, else 0. Frees c. */
int narcheck_end(struct serve *s, struct narcheck *c, const char *path, const unsigned char *hash);
/* Frees c after a failure (and harmlessly after narcheck_end). */
void narcheck_free(struct narcheck *c);

#endif
