/* wimport: the worker protocol's imports on the monitor's side. What the
 * parser forwards is the de-framed stream (wupload.c): the metadata, each
 * NAR of its declared size and the parser's vouch after it, read with the
 * same bounded readers and checked again here as import.c checks the serve
 * protocol's. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base32.h"

#include "cahash.h"
#include "err.h"
#include "import.h"
#include "wimport.h"
#include "wserve.h"

static void current(struct serve *s, const char *path)
{
	note(s, path);
	snprintf(s->req.first, sizeof s->req.first, "%s", path);
}

/* A path a key that is not trusted cannot prove, sent by a client that
 * asked not to check signatures (the build hook's copy of a build's
 * inputs): not imported, its NAR read past and checked all the same; the
 * client is told, and the request goes on. The host builds the path from its
 * derivation if a build needs it. */
static int skip(struct serve *s, const struct addinfo *a, struct pathset *skipped, const char *why)
{
	char m[1024], q[512];
	size_t i;

	if (import_skip(s, a) < 0 || pathset_insert(skipped, a->path, strlen(a->path)) < 0)
		return -1;
	snprintf(q, sizeof q, "%.500s", why);
	for (i = 0; q[i]; i++)
		if (q[i] == '"' || (unsigned char)q[i] < ' ')
			q[i] = '\'';
	audit_write(s->audit, "key=%s op=%s path=%s result=skipped reason=\"%s\"", s->key, s->req.op, a->path, q);
	snprintf(m, sizeof m, "not importing %s: %.500s; the host builds it from its derivation when a build needs it",
		 a->path, why);
	return wserve_next(s, m);
}

/* One path whose metadata has been read: checked, then its NAR added,
 * skipped or refused. check_sigs: the client did not ask to skip the
 * signature check, so a path nothing proves is refused. */
static int one(struct serve *s, struct addinfo *a, struct pathset *refs, int check_sigs, struct pathset *skipped)
{
	char why[768];
	int r;

	current(s, a->path);
	if ((r = import_check(s, a, refs, skipped, why, sizeof why)) < 0)
		return -1;
	if (r == 1 && check_sigs)
		return refuse(s, "import", "%s", why);
	if (serve_go(s) < 0)
		return -1;
	return r == 1 ? skip(s, a, skipped, why) : import_nar(s, a, refs);
}

/* The checks that need nothing of the bytes, before any is read. */
static int add_first(struct serve *s, int repair)
{
	if (need_write(s) < 0 || allowed(s, ALLOW_IMPORT) < 0)
		return -1;
	if (repair && !s->pol->trusted)
		return refuse(s, "repair", "only a trusted key may repair a path");
	return 0;
}

static int version_ok(struct serve *s, unsigned min)
{
	if (s->minor < min)
		return refuse(s, "version", "worker protocol 1.%u sends this request in a form nixgate-serve does not "
			      "serve (1.%u or newer)", s->minor, min);
	return 0;
}

int wadd_to_store_nar(struct serve *s)
{
	static struct addinfo a;
	static struct pathset skipped;
	int dont_check;

	if (version_ok(s, WADD_NAR_MIN_MINOR) < 0)
		return -1;
	if (addinfo_read(&s->in, &a, &s->ps, "AddToStoreNar") < 0 || rd_bool(&s->in, &a.repair, "repair") < 0 ||
	    rd_bool(&s->in, &dont_check, "dontCheckSigs") < 0)
		return -1;
	pathset_clear(&skipped);
	if (one(s, &a, &s->ps, !dont_check, &skipped) < 0)
		return -1;
	return wserve_last(s);
}

int wadd_multiple(struct serve *s)
{
	static struct addinfo a;
	static struct pathset skipped;
	int repair, dont_check;
	uint64_t n, i;

	if (version_ok(s, WADD_MULTIPLE_MIN_MINOR) < 0)
		return -1;
	if (rd_bool(&s->in, &repair, "repair") < 0 || rd_bool(&s->in, &dont_check, "dontCheckSigs") < 0)
		return -1;
	if (add_first(s, repair) < 0 || rd_count(&s->in, &n, WADD_PATHS_MAX, "paths to add") < 0)
		return -1;
	pathset_clear(&skipped);
	for (i = 0; i < n; i++) {
		if (addinfo_read(&s->in, &a, &s->ps, "AddMultipleToStore") < 0)
			return -1;
		a.repair = repair;
		if (one(s, &a, &s->ps, !dont_check, &skipped) < 0)
			return -1;
	}
	/* the parser's word that the stream ended where the list does */
	if (vouched(s) < 0)
		return -1;
	return wserve_last(s);
}

int wadd_method(struct ca *c, const char *m)
{
	struct anyhash h;
	const char *algo;

	memset(c, 0, sizeof *c);
	if (!strcmp(m, "text:sha256"))
		c->text = 1, algo = "sha256";
	else if (!strncmp(m, "fixed:r:", 8))
		c->recursive = 1, algo = m + 8;
	else if (!strncmp(m, "fixed:", 6))
		algo = m + 6;
	else
		algo = "";
	if (strlen(algo) < sizeof c->algo && (c->hlen = anyhash_init(&h, algo))) {
		strcpy(c->algo, algo);
		return 0;
	}
	/* shown only when it cannot break the line it is shown in */
	if (strspn(m, "abcdefghijklmnopqrstuvwxyz0123456789:-") != strlen(m))
		m = "(not shown)";
	return fail(EXIT_REFUSED, "'%.80s' is not a content-address method nixgate serves (text:sha256, "
		    "fixed:<algo>, fixed:r:<algo>; algo md5, sha1, sha256 or sha512)", m);
}

/* What the client sends nixgate to make a path of. */
struct dump {
	struct ca ca;
	struct anyhash h;    /* over the contents (flat) or the NAR */
	uint64_t len;        /* bytes so far */
};

static int dump_begin(struct serve *s, struct dump *d)
{
	if (s->spool_fd < 0)
		return fail(EXIT_SYSTEM, "adding a path needs a spool file, and none could be opened");
	if (ftruncate(s->spool_fd, 0) < 0)
		return fail_sys("truncating the spool file");
	anyhash_init(&d->h, d->ca.algo);
	d->len = 0;
	return 0;
}

uint64_t wadd_flat_nar(uint64_t len)
{
	return FLAT_HEAD + len + (8 - len % 8) % 8 + FLAT_TAIL;
}

/* at_least: len is what the dump has sent so far. */
static int dump_size_ok(struct serve *s, struct dump *d, uint64_t len, int at_least)
{
	if (d->ca.text && len > WADD_TEXT_MAX)
		return refuse(s, "text-size", "a text of %s%llu bytes is over the limit of %u", at_least ? "at least " : "",
			      (unsigned long long)len, WADD_TEXT_MAX);
	return nar_size_ok(s, d->ca.recursive ? len : wadd_flat_nar(len), at_least);
}

static int dump_feed(struct serve *s, struct dump *d, const unsigned char *p, size_t n)
{
	uint64_t at = d->len + (d->ca.recursive ? 0 : FLAT_HEAD);

	if (dump_size_ok(s, d, d->len + n, 1) < 0)
		return -1;
	anyhash_update(&d->h, p, n);
	if (pwrite(s->spool_fd, p, n, (off_t)at) != (ssize_t)n)
		return fail_sys("writing the spool file");
	d->len += n;
	s->req.bytes += n;
	return 0;
}

/* The NAR's hash and size, read back from the spool. */
static int spool_hash(struct serve *s, struct addinfo *a)
{
	static unsigned char buf[WIRE_BUFSZ];
	struct sha256 st;
	uint64_t off = 0;
	ssize_t k;

	sha256_init(&st);
	while ((k = pread(s->spool_fd, buf, sizeof buf, (off_t)off)) > 0) {
		sha256_update(&st, buf, (size_t)k);
		off += (uint64_t)k;
	}
	if (k < 0)
		return fail_sys("reading the spool file");
	sha256_final(&st, a->hash);
	a->nar_size = off;
	return 0;
}

/* The dump made a path: the flat file's NAR completed, the content address
 * and path computed here from the bytes, then checked and added as any
 * import, the daemon given only that. */
static int dump_end(struct serve *s, struct dump *d, const char *name, struct pathset *refs, int repair,
		    struct addinfo *a)
{
	unsigned char b[FLAT_HEAD + FLAT_TAIL + 8];
	char h[CA_HASH_MAX * 2], why[768];
	struct wr w;
	int r;

	if (!d->ca.recursive) {
		static const char *const head[] = {"nix-archive-1", "(", "type", "regular", "contents"};
		size_t i;

		wr_init_mem(&w, b, sizeof b);
		for (i = 0; i < 5; i++)
			wr_cstr(&w, head[i]);
		wr_u64(&w, d->len);
		if (pwrite(s->spool_fd, b, w.len, 0) != (ssize_t)w.len)
			return fail_sys("writing the spool file");
		wr_init_mem(&w, b, sizeof b);
		wr_pad(&w, d->len);
		wr_cstr(&w, ")");
		if (pwrite(s->spool_fd, b, w.len, (off_t)(FLAT_HEAD + d->len)) != (ssize_t)w.len)
			return fail_sys("writing the spool file");
	}
	if (spool_hash(s, a) < 0)
		return -1;
	anyhash_final(&d->h, d->ca.hash);
	pathset_sort(refs);
	if (ca_path(a->path, &d->ca, name, refs, NULL) < 0)
		return refuse(s, "import", "%s", reason());
	snprintf(s->req.first, sizeof s->req.first, "%s", a->path);
	base32_encode(h, d->ca.hash, d->ca.hlen);
	snprintf(a->ca, sizeof a->ca, "%s:%s%s:%s", d->ca.text ? "text" : "fixed", d->ca.recursive ? "r:" : "",
		 d->ca.algo, h);
	a->deriver[0] = 0;
	a->regtime = 0;
	a->ultimate = 0;
	a->repair = repair;
	memset(a->sigs, 0, 8);
	a->sigs_len = 8;
	if ((r = import_check(s, a, refs, NULL, why, sizeof why)) < 0)
		return -1;
	if (r == 1)
		return refuse(s, "import", "%s", why);
	return import_spooled(s, a, refs);
}

/* The name first: refusals name the request by it until its path is
 * known, and only a store path name cannot break their line. */
static int add_name(struct serve *s, const char *name)
{
	if (storename_check(name, strlen(name)) < 0)
		return refuse(s, "name", "its name is not a store path name of at most %d characters", STORE_NAME_MAX);
	snprintf(s->req.first, sizeof s->req.first, "%s", name);
	return 0;
}

static int add_refs_ok(struct serve *s, const struct pathset *refs)
{
	char why[768];

	return refs_valid(s, refs, "", NULL, why, sizeof why) != 0 ? -1 : 0;
}

/* The answer: the path's info as the daemon has it now. */
static int added(struct serve *s, const char *path, int info)
{
	static struct pathinfo in;
	static struct pathset refs;
	int v;

	if (!info)
		return wserve_last(s) < 0 ? -1 : wr_cstr(&s->out, path);
	if ((v = path_info(s, path, &in, &refs)) < 0)
		return -1;
	if (v == 0)
		return fail(EXIT_SYSTEM, "%s is not valid on the host after it was added", path);
	if (wserve_last(s) < 0 || wr_cstr(&s->out, path) < 0)
		return -1;
	return pathinfo_write_worker(&s->out, s->minor, &in, &refs);
}

static int dump_take(void *ctx, struct serve *s, const unsigned char *p, size_t n)
{
	return dump_feed(s, ctx, p, n);
}

int wadd_to_store(struct serve *s)
{
	static struct addinfo a;
	static struct dump d;
	char name[STORE_NAME_MAX + 1], m[WADD_METHOD_MAX + 1];
	int repair;

	if (version_ok(s, WADD_CA_MIN_MINOR) < 0)
		return -1;
	if (rd_str(&s->in, name, STORE_NAME_MAX, NULL, "name") < 0 ||
	    rd_str(&s->in, m, WADD_METHOD_MAX, NULL, "content-address method") < 0 ||
	    pathset_read(&s->ps, &s->in, "references") < 0 || rd_bool(&s->in, &repair, "repair") < 0)
		return -1;
	if (add_name(s, name) < 0)
		return -1;
	if (wadd_method(&d.ca, m) < 0)
		return refuse(s, "method", "%s", reason());
	if (add_first(s, repair) < 0 || add_refs_ok(s, &s->ps) < 0 || dump_begin(s, &d) < 0 || serve_go(s) < 0)
		return -1;
	/* the de-framed dump, in the parser's chunks */
	if (chunks_read(s, dump_take, &d) < 0 || vouched(s) < 0 || dump_end(s, &d, name, &s->ps, repair, &a) < 0)
		return -1;
	return added(s, a.path, 1);
}

int wadd_text(struct serve *s)
{
	static struct addinfo a;
	static struct dump d;
	char name[STORE_NAME_MAX + 1];
	const unsigned char *p;
	uint64_t len, left;
	size_t got;

	if (rd_str(&s->in, name, STORE_NAME_MAX, NULL, "name") < 0 || rd_u64(&s->in, &len) < 0)
		return -1;
	if (add_name(s, name) < 0)
		return -1;
	wadd_method(&d.ca, "text:sha256");
	if (add_first(s, 0) < 0 || dump_size_ok(s, &d, len, 0) < 0 || dump_begin(s, &d) < 0)
		return -1;
	for (left = len; left > 0; left -= got)
		if (rd_chunk(&s->in, &p, &got, left) < 0 || dump_feed(s, &d, p, got) < 0)
			return -1;
	if (rd_pad(&s->in, len) < 0 || pathset_read(&s->ps, &s->in, "references") < 0 ||
	    add_refs_ok(s, &s->ps) < 0 || dump_end(s, &d, name, &s->ps, 0, &a) < 0)
		return -1;
	return added(s, a.path, 0);
}
