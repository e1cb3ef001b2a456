/* import: paths the client adds to the host store (AddToStoreNar,
 * ImportPaths), checked against the key's policy before the daemon sees a
 * byte of them. */
#ifndef NIXGATE_IMPORT_H
#define NIXGATE_IMPORT_H

#include "cacheck.h"
#include "serve.h"
#include "sha256.h"

/* A path to add: its metadata as both protocols send it (path, deriver,
 * NAR hash, references apart, registration time, NAR size, ultimate,
 * signatures, content address), and whether to repair it. */
struct addinfo {
	char path[STORE_PATH_MAX + 1], deriver[STORE_PATH_MAX + 1];
	unsigned char hash[SHA256_BYTES];
	uint64_t regtime, nar_size;
	int ultimate, repair;
	char ca[CA_MAX + 1];
	unsigned char sigs[SIGS_WIRE_MAX];
	size_t sigs_len;
};

/* The metadata from r, the references into refs (repair 0); op names the
 * request in errors. A NAR size of 0 is refused. */
int addinfo_read(struct rd *r, struct addinfo *a, struct pathset *refs, const char *op);
/* Everything an import must pass before a byte of its NAR is read (the rest,
 * its content, is checked as it is spooled): 0 it may go on; 1 a key that is
 * not trusted cannot prove this input-addressed path, or one of its
 * references is in skipped (may be NULL), the reason in why, for the caller
 * to refuse or skip; -1 with the refusal. Clears what an untrusted key may
 * not claim, keeps only the signatures that verify. */
int import_check(struct serve *s, struct addinfo *a, struct pathset *refs, struct pathset *skipped, char *why,
		 size_t max);
/* After import_check and the parser's go-ahead: the NAR (a->nar_size bytes
 * from the parser, and its vouch) checked and added through the daemon. */
int import_nar(struct serve *s, struct addinfo *a, struct pathset *refs);
/* After import_check: a NAR nixgate wrote into the spool file itself
 * (a->nar_size bytes), checked whole as any import and added through the
 * daemon. */
int import_spooled(struct serve *s, struct addinfo *a, struct pathset *refs);
/* Every reference but self valid on the host (and a temporary root):
 * 0; 1 when one is not because it is in skipped (may be NULL), why says
 * which; -1 with the refusal. */
int refs_valid(struct serve *s, const struct pathset *refs, const char *self, struct pathset *skipped, char *why,
	       size_t max);
/* The NAR of a path not imported, read past and checked all the same (a
 * NAR that lies is refused either way). */
int import_skip(struct serve *s, const struct addinfo *a);
/* The parser's word (PRIVSEP_NAR_OK) that what it forwarded passed its
 * checks. */
int vouched(struct serve *s);
/* Bytes the parser forwards in chunks (u64 length, the bytes; a 0 length
 * last), for a stream whose length it did not know: each piece to take,
 * which returns -1 with the refusal. */
typedef int (*chunk_fn)(void *ctx, struct serve *s, const unsigned char *p, size_t n);
int chunks_read(struct serve *s, chunk_fn take, void *ctx);

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
