#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aterm.h"
#include "drvhash.h"
#include "drvstore.h"
#include "err.h"
#include "claim.h"
#include "hash.h"
#include "import.h"
#include "serve.h"
#include "sha256.h"
#include "sig.h"

static unsigned char spoolbuf[WIRE_BUFSZ];

int vouched(struct serve *s)
{
	uint64_t v;

	if (rd_u64(&s->in, &v) < 0)
		return -1;
	if (v != PRIVSEP_NAR_OK)
		return fail(EXIT_SYSTEM, "the parser did not vouch for the NAR it sent (%llu)", (unsigned long long)v);
	return 0;
}

struct narsrc {
	struct serve *s;
	int from_spool;
	uint64_t left, off;
};

static int nar_next(struct narsrc *n, const unsigned char **p, size_t *got, size_t max)
{
	struct serve *s = n->s;
	ssize_t k;

	if (n->from_spool) {
		size_t want = n->left < max ? (size_t)n->left : max;

		k = pread(s->spool_fd, spoolbuf, want, (off_t)n->off);
		if (k <= 0)
			return fail_sys("reading the import spool file");
		*p = spoolbuf;
		*got = (size_t)k;
		n->off += (uint64_t)k;
		n->left -= (uint64_t)k;
		return 0;
	}
	if (rd_chunk(&s->in, p, got, n->left < max ? n->left : max) < 0)
		return -1;
	n->left -= *got;
	s->req.bytes += *got;
	if (n->left > 0)
		return 0;
	/* reading the vouch may refill the buffer the NAR's last bytes are
	 * in: they move first (a chunk is never more than the buffer) */
	memmove(spoolbuf, *p, *got);
	*p = spoolbuf;
	return vouched(s);
}

static int tunnel(void *ctx, unsigned char *buf, size_t max, size_t *got)
{
	struct narsrc *n = ctx;
	const unsigned char *p;

	*got = 0;
	if (n->left == 0)
		return 0;
	if (nar_next(n, &p, got, max) < 0)
		return -1;
	memcpy(buf, p, *got);
	return 0;
}

/* AddToStoreNar on the daemon, the NAR from src. */
static int add_nar(struct serve *s, const struct addinfo *a, struct pathset *refs, struct narsrc *src)
{
	struct worker *d = s->d;
	const unsigned char *p;
	char h[HASH_TEXT_MAX];
	size_t got;
	int r, broken = 0;

	hash_fmt16(h, a->hash);
	if (wr_u64(&d->w, WOP_ADD_TO_STORE_NAR) < 0 || wr_cstr(&d->w, a->path) < 0 ||
	    wr_cstr(&d->w, a->deriver) < 0 || wr_cstr(&d->w, h) < 0 || pathset_write(refs, &d->w) < 0 ||
	    wr_u64(&d->w, a->regtime) < 0 || wr_u64(&d->w, a->nar_size) < 0 ||
	    wr_u64(&d->w, (uint64_t)a->ultimate) < 0 || wr_bytes(&d->w, a->sigs, a->sigs_len) < 0 ||
	    wr_cstr(&d->w, a->ca) < 0 || wr_u64(&d->w, (uint64_t)a->repair) < 0 ||
	    wr_u64(&d->w, 1) < 0 /* don't check signatures: the policy has */)
		return -1;
	if (d->minor >= 23) {
		while (src->left > 0 && !broken)
			if (nar_next(src, &p, &got, sizeof spoolbuf) < 0)
				broken = 1;
			else if (wr_u64(&d->w, got) < 0 || wr_bytes(&d->w, p, got) < 0)
				return -1;
		/* on a broken NAR the end frame comes early: the daemon fails the
		 * add and the connection stays usable for the clean-up */
		if (wr_u64(&d->w, 0) < 0)
			return -1;
		r = worker_wait(d, NULL, NULL);
	} else
		r = worker_wait(d, tunnel, src);
	if (broken)
		return -1;
	if (r == -2)
		return fail(EXIT_REFUSED, "adding '%s': nix-daemon: %s", a->path, d->errmsg);
	return r;
}

static int read_sigs(struct rd *r, struct addinfo *a)
{
	struct wr w;

	wr_init_mem(&w, a->sigs, sizeof a->sigs);
	if (sigs_copy(r, &w) < 0)
		return -1;
	a->sigs_len = w.len;
	return 0;
}

int addinfo_read(struct rd *r, struct addinfo *a, struct pathset *refs, const char *op)
{
	char h[HASH_TEXT_MAX + 1];
	size_t n;

	if (storepath_read(r, a->path, 0, "path") < 0 || storepath_read(r, a->deriver, 1, "deriver") < 0 ||
	    rd_str(r, h, HASH_TEXT_MAX, &n, "nar hash") < 0)
		return -1;
	if (hash_parse(a->hash, h, n) < 0)
		return fail(EXIT_REFUSED, "%s: '%s' is not a SHA-256 hash", op, h);
	if (pathset_read(refs, r, "references") < 0 || rd_u64(r, &a->regtime) < 0 || rd_u64(r, &a->nar_size) < 0 ||
	    rd_bool(r, &a->ultimate, "ultimate") < 0 || read_sigs(r, a) < 0 ||
	    rd_str(r, a->ca, CA_MAX, NULL, "content address") < 0)
		return -1;
	a->repair = 0;
	if (a->nar_size == 0)
		return fail(EXIT_REFUSED, "%s: '%s' has a NAR size of 0", op, a->path);
	return 0;
}

/* The largest NAR this key may import (a key that is not trusted always
 * has one: policy_untrusted_defaults). */
static uint64_t nar_max(struct serve *s)
{
	uint64_t m = s->pol->max_nar_size;

	return m && m < SERVE_NAR_MAX ? m : SERVE_NAR_MAX;
}

/* at_least: size is what the NAR has announced so far, not all of it. */
int nar_size_ok(struct serve *s, uint64_t size, int at_least)
{
	if (size > nar_max(s))
		return refuse(s, s->pol->max_nar_size || !s->pol->trusted ? "max-nar-size" : "nar-size",
			      "the NAR of %s%llu bytes is over the limit of %llu", at_least ? "at least " : "",
			      (unsigned long long)size, (unsigned long long)nar_max(s));
	return 0;
}

int narcheck_begin(struct serve *s, struct narcheck *c, const char *path, const char *ca, uint64_t size, int whole)
{
	nar_init(&s->nar);
	sha256_init(&c->st);
	c->whole = whole;
	c->hash = whole && (!s->pol->trusted || size <= SPOOL_SMALL_MAX);
	c->ca = 0;
	if (whole && !s->pol->trusted && ca[0]) {
		if (cacheck_init(&c->k, ca, path, &s->nar) < 0)
			return -1;
		c->ca = 1;
	}
	return 0;
}

int narcheck_feed(struct serve *s, struct narcheck *c, const unsigned char *p, size_t n)
{
	ssize_t k;

	if ((k = nar_feed(&s->nar, p, n)) < 0)
		return refuse(s, "nar", "%s", reason());
	if ((size_t)k < n)
		return fail(EXIT_REFUSED, "the NAR ends before its declared size");
	if (c->hash)
		sha256_update(&c->st, p, n);
	if (c->ca)
		cacheck_nar(&c->k, p, n);
	return 0;
}

void narcheck_free(struct narcheck *c)
{
	if (c->ca)
		cacheck_free(&c->k);
	c->ca = 0;
}

/* A derivation is one small regular file: what drv_import_ok reads from
 * the spool by its layout alone is all of it. */
static int drv_shape(struct serve *s)
{
	if (s->nar.root != NAR_REGULAR || s->nar.root_exec)
		return refuse(s, "import", "a derivation must be one regular, non-executable file");
	if (s->nar.root_len > ATERM_MAX)
		return refuse(s, "import", "its derivation of %llu bytes is over the limit of %u",
			      (unsigned long long)s->nar.root_len, ATERM_MAX);
	return 0;
}

int narcheck_end(struct serve *s, struct narcheck *c, const char *path, const unsigned char *hash)
{
	char why[768], want[HASH_TEXT_MAX], got[HASH_TEXT_MAX];
	unsigned char h[SHA256_BYTES];
	int r = 0;

	if (!nar_done(&s->nar))
		r = fail(EXIT_REFUSED, "the NAR does not end within its declared size");
	if (r == 0 && c->hash) {
		sha256_final(&c->st, h);
		if (memcmp(h, hash, SHA256_BYTES)) {
			hash_fmt32(want, hash);
			hash_fmt32(got, h);
			r = refuse(s, "nar-hash", "NAR hash mismatch for '%s': declared %s, got %s", path, want, got);
		}
	}
	if (r == 0 && c->ca && (r = cacheck_done(&c->k, cacheck_suffix(s->daemon_version), why, sizeof why)) == 1)
		r = refuse(s, "import", "%s", why);
	if (r == 0 && c->whole && !s->pol->trusted && storepath_is_drv(path))
		r = drv_shape(s);
	narcheck_free(c);
	return r != 0 ? -1 : 0;
}

/* Every reference but the path itself valid on the host: the daemon would
 * refuse the path otherwise, after writing it. 1 (why) when one is not
 * because this request skipped it. */
int refs_valid(struct serve *s, const struct pathset *refs, const char *self, struct pathset *skipped, char *why,
	       size_t max)
{
	static struct pathset ask, valid;
	size_t i;
	long v;

	pathset_clear(&ask);
	for (i = 0; i < refs->n; i++)
		if (strcmp(pathset_get(refs, i), self) &&
		    pathset_add(&ask, pathset_get(refs, i), strlen(pathset_get(refs, i))) < 0)
			return -1;
	if (!ask.n)
		return 0;
	/* temporary roots first: a garbage collection while the NAR is spooled
	 * must not make the daemon the one to refuse it */
	if (temp_roots(s, &ask) < 0 || ask_valid(s, &ask, 0) < 0 || pathset_read(&valid, &s->d->r, "valid paths") < 0)
		return -1;
	for (i = 0; i < ask.n; i++) {
		const char *r = pathset_get(&ask, i);

		if ((v = pathset_find(&valid, r, strlen(r))) == -2)
			return fail(EXIT_SYSTEM, "out of memory");
		if (v >= 0)
			continue;
		if (skipped && pathset_find(skipped, r, strlen(r)) >= 0) {
			snprintf(why, max, "its reference %s was not imported", r);
			return 1;
		}
		return refuse(s, "import", "its reference %s is not valid on this host", r);
	}
	return 0;
}

int import_check(struct serve *s, struct addinfo *a, struct pathset *refs, struct pathset *skipped, char *why,
		 size_t max)
{
	static unsigned char sigs[SIGS_WIRE_MAX];
	struct claim c = { a->path, a->ca, a->hash, a->nar_size, sigs, a->sigs_len };
	int r;

	if (need_write(s) < 0 || allowed(s, ALLOW_IMPORT) < 0 || nar_size_ok(s, a->nar_size, 0) < 0)
		return -1;
	if (a->repair && !s->pol->trusted)
		return refuse(s, "repair", "only a trusted key may repair a path");
	if (s->pol->trusted)
		return 0;
	memcpy(sigs, a->sigs, a->sigs_len);
	/* an untrusted key cannot claim the path was built here, nor by what,
	 * nor when it was added: the daemon dates it now */
	a->ultimate = 0;
	a->deriver[0] = 0;
	a->regtime = 0;
	if ((r = claim_check(&c, refs, s->pol->keys, s->pol->nkeys, why, max)) < 0)
		return -1;
	/* a content address that does not hold is a lie; a path without one
	 * that nothing proves may only be unprovable to this key */
	if (r == 1)
		return a->ca[0] ? refuse(s, "import", "%s", why) : 1;
	if ((r = refs_valid(s, refs, a->path, skipped, why, max)) != 0)
		return r;
	/* only what nixgate verified is registered: a junk signature next to
	 * a good one, or any on a content-addressed path, is dropped */
	if (claim_sigs(&c, refs, s->pol->keys, s->pol->nkeys, a->sigs, sizeof a->sigs, &a->sigs_len) < 0)
		return -1;
	return 0;
}

/* An input derivation of an imported one, from the host store. */
static int fetch_drv(void *ctx, const char *path, char **text, size_t *len)
{
	int r = drv_text_from_daemon(ctx, path, text, len);

	return r == -2 ? 1 : r;
}

/* A .drv import from a key that is not trusted, however it proves itself:
 * the daemon checks a derivation it registers (its outputs its own, reading
 * through a symlink on Nix 2.8), and a refusal there leaves its bytes in the
 * store. So it must be one regular file whose text is the derivation its
 * path and references say, with outputs that are its own (drvhash). Its
 * references were found valid before its NAR was read. */
static int drv_import_ok(struct serve *s, const struct addinfo *a, const struct pathset *refs)
{
	uint64_t len, off;
	char why[768], *text;
	int r;

	if ((r = nar_one_file(s->spool_fd, a->nar_size, &off, &len)) < 0)
		return -1;
	if (r == 1)
		return refuse(s, "import", "a derivation must be one regular, non-executable file");
	if (len > ATERM_MAX)
		return refuse(s, "import", "its derivation of %llu bytes is over the limit of %u", (unsigned long long)len,
			      ATERM_MAX);
	if (!(text = malloc(len + 1)))
		return fail(EXIT_SYSTEM, "out of memory for a derivation of %llu bytes", (unsigned long long)len);
	if (pread(s->spool_fd, text, len, (off_t)off) != (ssize_t)len)
		r = fail_sys("reading the import spool file");
	else if ((r = drv_path_own(a->path, text, len, refs, why, sizeof why)) == 0)
		r = drv_outputs_own(a->path, text, len, fetch_drv, s->d, 0, why, sizeof why);
	free(text);
	if (r == -1 && err_kind() == EXIT_REFUSED) {
		snprintf(why, sizeof why, "%s", reason());
		r = 1;
	}
	return r == 1 ? refuse(s, "import", "%s", why) : r;
}

/* A NAR of known size from the parser into the spool file (or only
 * checked: !keep). The parser has checked it on the way and vouches for it
 * at its end (vouched), but only the checks made here again decide: a
 * parser that lies gets a refusal in its own words, not the daemon's after
 * it has written the path. */
static int spool_known(struct serve *s, const struct addinfo *a, struct narsrc *src, int keep)
{
	static struct narcheck c;
	const unsigned char *p;
	uint64_t off = 0;
	size_t n;

	if (keep && ftruncate(s->spool_fd, 0) < 0)
		return fail_sys("truncating the spool file");
	if (narcheck_begin(s, &c, a->path, a->ca, a->nar_size, 1) < 0)
		return -1;
	while (src->left > 0) {
		if (nar_next(src, &p, &n, sizeof spoolbuf) < 0 || narcheck_feed(s, &c, p, n) < 0)
			goto fail;
		if (keep && pwrite(s->spool_fd, p, n, (off_t)off) != (ssize_t)n) {
			fail_sys("writing the spool file");
			goto fail;
		}
		off += n;
	}
	return narcheck_end(s, &c, a->path, a->hash);
fail:
	narcheck_free(&c);
	return -1;
}

/* A key that is not trusted: the whole NAR spooled and verified, whatever
 * its size, before the daemon sees a byte of it, since the daemon leaves the
 * bytes of an import it refuses in the store. */
static int add_untrusted(struct serve *s, struct addinfo *a, struct pathset *refs, struct narsrc *src)
{
	if (s->spool_fd < 0)
		return fail(EXIT_SYSTEM, "an import from a key that is not trusted needs a spool file, and none "
			    "could be opened");
	if (spool_known(s, a, src, 1) < 0 || (storepath_is_drv(a->path) && drv_import_ok(s, a, refs) < 0))
		return -1;
	src->from_spool = 1;
	src->off = 0;
	src->left = a->nar_size;
	return add_nar(s, a, refs, src);
}

int import_spooled(struct serve *s, struct addinfo *a, struct pathset *refs)
{
	struct narsrc src = {s, 1, a->nar_size, 0};

	if (spool_known(s, a, &src, 0) < 0 ||
	    (!s->pol->trusted && storepath_is_drv(a->path) && drv_import_ok(s, a, refs) < 0))
		return -1;
	src.off = 0;
	src.left = a->nar_size;
	return add_nar(s, a, refs, &src);
}

int import_skip(struct serve *s, const struct addinfo *a)
{
	struct narsrc src = {s, 0, a->nar_size, 0};

	return spool_known(s, a, &src, 0);
}

int add_to_store_nar(struct serve *s)
{
	static struct addinfo a;
	char why[768];
	int r;

	if (addinfo_read(&s->in, &a, &s->ps, "AddToStoreNar") < 0)
		return -1;
	note(s, a.path);
	if ((r = import_check(s, &a, &s->ps, NULL, why, sizeof why)) < 0)
		return -1;
	if (r == 1)
		return refuse(s, "import", "%s", why);
	if (serve_go(s) < 0 || import_nar(s, &a, &s->ps) < 0)
		return -1;
	return wr_u64(&s->out, 1);
}

int import_nar(struct serve *s, struct addinfo *a, struct pathset *refs)
{
	struct narsrc src = {s, 0, a->nar_size, 0};

	if (!s->pol->trusted)
		return add_untrusted(s, a, refs, &src);
	/* A NAR that fails the daemon's checks after it has started writing
	 * leaves an invalid, partly written path in the store (Nix's own
	 * behaviour). Up to SPOOL_SMALL_MAX it is checked whole before the
	 * daemon sees any of it; larger ones stream. */
	if (a->nar_size <= SPOOL_SMALL_MAX && s->spool_fd >= 0) {
		if (spool_known(s, a, &src, 1) < 0)
			return -1;
		src.from_spool = 1;
		src.off = 0;
		src.left = a->nar_size;
	}
	return add_nar(s, a, refs, &src);
}

int chunks_read(struct serve *s, chunk_fn take, void *ctx)
{
	const unsigned char *p;
	uint64_t len;
	size_t got;

	for (;;) {
		if (rd_u64(&s->in, &len) < 0)
			return -1;
		if (len == 0)
			return 0;
		if (len > WIRE_BUFSZ)
			return fail(EXIT_SYSTEM, "the parser sent a chunk of %llu bytes", (unsigned long long)len);
		while (len > 0) {
			if (rd_chunk(&s->in, &p, &got, len) < 0 || take(ctx, s, p, got) < 0)
				return -1;
			len -= got;
		}
	}
}

struct spooling {
	struct addinfo *a;
	struct sha256 st;
};

static int spool_take(void *ctx, struct serve *s, const unsigned char *p, size_t n)
{
	struct spooling *sp = ctx;

	if (nar_size_ok(s, sp->a->nar_size + n, 1) < 0)
		return -1;
	sha256_update(&sp->st, p, n);
	if (pwrite(s->spool_fd, p, n, (off_t)sp->a->nar_size) != (ssize_t)n)
		return fail_sys("writing the import spool file");
	sp->a->nar_size += n;
	s->req.bytes += n;
	return 0;
}

/* One NAR of the export format into the spool file, hashed: it comes from
 * the parser in chunks (upload.c), checked there, measured here too. */
static int spool_nar(struct serve *s, struct addinfo *a)
{
	static struct spooling sp;

	if (s->spool_fd < 0)
		return fail(EXIT_SYSTEM, "ImportPaths needs a spool file and none could be opened");
	if (ftruncate(s->spool_fd, 0) < 0)
		return fail_sys("truncating the import spool file");
	sp.a = a;
	sha256_init(&sp.st);
	a->nar_size = 0;
	if (chunks_read(s, spool_take, &sp) < 0)
		return -1;
	sha256_final(&sp.st, a->hash);
	return 0;
}

int import_paths(struct serve *s)
{
	static struct addinfo a;
	struct narsrc src = {s, 1, 0, 0};
	uint64_t more, magic, legacy_sig;

	if (need_write(s) < 0 || allowed(s, ALLOW_IMPORT) < 0)
		return -1;
	/* its metadata follows the NAR and has neither content address nor
	 * signatures: nothing in it could ever prove a path */
	if (!s->pol->trusted)
		return refuse(s, "import", "ImportPaths cannot prove a path to a key that is not trusted (the export "
			      "format has no content address or signature); clients of serve protocol 2.5 or newer use "
			      "AddToStoreNar");
	if (serve_go(s) < 0)
		return -1;
	for (;;) {
		if (rd_u64(&s->in, &more) < 0)
			return -1;
		if (more == 0)
			break;
		if (more != 1)
			return fail(EXIT_REFUSED, "ImportPaths: expected 0 or 1 before a path, got %llu",
				    (unsigned long long)more);
		if (spool_nar(s, &a) < 0 || rd_u64(&s->in, &magic) < 0)
			return -1;
		if (magic != EXPORT_MAGIC)
			return fail(EXIT_REFUSED, "ImportPaths: the export magic does not follow the NAR");
		if (storepath_read(&s->in, a.path, 0, "path") < 0 ||
		    pathset_read(&s->ps, &s->in, "references") < 0 ||
		    storepath_read(&s->in, a.deriver, 1, "deriver") < 0 || rd_u64(&s->in, &legacy_sig) < 0)
			return -1;
		if (legacy_sig != 0)
			return fail(EXIT_REFUSED, "ImportPaths: legacy signatures are not supported");
		a.regtime = 0;
		a.ultimate = 0;
		a.ca[0] = 0;
		a.sigs_len = 8;
		a.repair = 0;
		memset(a.sigs, 0, 8);
		note(s, a.path);
		/* trusted keys only (above): nothing is left unproven */
		if (import_check(s, &a, &s->ps, NULL, NULL, 0) < 0)
			return -1;
		src.left = a.nar_size;
		src.off = 0;
		if (add_nar(s, &a, &s->ps, &src) < 0 || serve_go(s) < 0)
			return -1;
	}
	return wr_u64(&s->out, 1);
}

