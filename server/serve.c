#include <sodium.h>
#include <stdarg.h>
#include <sys/sysinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aterm.h"
#include "buildresult.h"
#include "ca.h"
#include "claim.h"
#include "drv.h"
#include "drvstore.h"
#include "err.h"
#include "hash.h"
#include "serve.h"
#include "serveopts.h"
#include "sha256.h"
#include "sig.h"
#include "storepath.h"
#include "words.h"

/* BuildResult statuses: the policy refused the inputs; the daemon refused
 * the request outright. */
#define BUILD_INPUT_REJECTED 4
#define BUILD_MISC_FAILURE 9

static unsigned char spoolbuf[WIRE_BUFSZ];

int serve_handshake(struct serve *s)
{
	uint64_t magic, v;

	if (rd_u64(&s->in, &magic) < 0)
		return -1;
	if (magic != SERVE_MAGIC_1)
		return fail(EXIT_REFUSED, "protocol mismatch: the client did not start with the serve protocol magic");
	if (wr_u64(&s->out, SERVE_MAGIC_2) < 0 || wr_u64(&s->out, SERVE_VERSION) < 0 ||
	    wr_flush(&s->out) < 0 || rd_u64(&s->in, &v) < 0)
		return -1;
	if ((v & 0xff00) != 0x200)
		return fail(EXIT_REFUSED, "unsupported serve protocol version %llu.%llu (2.x expected)",
			    (unsigned long long)(v >> 8), (unsigned long long)(v & 0xff));
	s->minor = (unsigned)(v & 0xff);
	if (s->minor > (SERVE_VERSION & 0xff))
		s->minor = SERVE_VERSION & 0xff;
	return 0;
}

/* A request the policy refuses: one line naming request, path and rule.
 * The caller ends the session (main's line names the key), or reports it
 * as a failed build (soft names it). */
static int refuse(struct serve *s, const char *rule, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	s->req.rule = rule;
	err_clear();
	if (s->req.first[0])
		return fail(EXIT_REFUSED, "%s of '%s' refused by rule %s: %s", s->req.op, s->req.first, rule, why);
	return fail(EXIT_REFUSED, "%s refused by rule %s: %s", s->req.op, rule, why);
}

/* The reason a library call failed, to put into a refusal. */
static const char *reason(void)
{
	static char m[512];

	snprintf(m, sizeof m, "%s", err_msg());
	return m;
}

static int need_write(struct serve *s)
{
	if (!s->write_ok)
		return refuse(s, "write", "the client did not ask for --write");
	return 0;
}

static int allowed(struct serve *s, unsigned op)
{
	if (!(s->pol->allow & op))
		return refuse(s, "allow", "this key may only %s", policy_ops(s->pol->allow));
	return 0;
}

static void note(struct serve *s, const char *path)
{
	if (!s->req.paths++)
		snprintf(s->req.first, sizeof s->req.first, "%s", path);
}

static void note_set(struct serve *s, const struct pathset *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		note(s, pathset_get(ps, i));
}

/* A request's paths, noted for the audit line, then the key's permission. */
static int request_paths(struct serve *s, struct pathset *ps, unsigned op)
{
	if (pathset_read(ps, &s->in, "paths") < 0)
		return -1;
	note_set(s, ps);
	return allowed(s, op);
}

/* The daemon's answer to a request that must succeed. */
static int daemon_ok(struct serve *s, const char *req)
{
	int r = worker_wait(s->d, NULL, NULL);

	if (r == -2)
		return fail(EXIT_SYSTEM, "%s: nix-daemon: %s", req, s->d->errmsg);
	return r;
}

static int expect_one(struct serve *s, const char *req)
{
	uint64_t v;

	if (rd_u64(&s->d->r, &v) < 0)
		return -1;
	return v == 1 ? 0 : fail(EXIT_SYSTEM, "%s: nix-daemon answered %llu", req, (unsigned long long)v);
}

static int query_valid(struct serve *s)
{
	struct worker *d = s->d;
	int lock, subst;
	size_t i;

	if (rd_bool(&s->in, &lock, "lock") < 0 || rd_bool(&s->in, &subst, "substitute") < 0 ||
	    request_paths(s, &s->ps, ALLOW_QUERY) < 0)
		return -1;
	if (lock && s->write_ok)
		for (i = 0; i < s->ps.n; i++)
			if (wr_u64(&d->w, WOP_ADD_TEMP_ROOT) < 0 || wr_cstr(&d->w, pathset_get(&s->ps, i)) < 0 ||
			    daemon_ok(s, "AddTempRoot") < 0 || expect_one(s, "AddTempRoot") < 0)
				return -1;
	if (wr_u64(&d->w, WOP_QUERY_VALID_PATHS) < 0 || pathset_write(&s->ps, &d->w) < 0 ||
	    (d->minor >= 27 && wr_u64(&d->w, (uint64_t)(subst && s->write_ok && s->pol->substitute)) < 0) ||
	    daemon_ok(s, "QueryValidPaths") < 0)
		return -1;
	return pathlist_copy(&d->r, &s->out, "valid paths");
}

/* QueryPathInfo: 1 valid (info read, references into refs), 0 invalid. */
static int path_info(struct serve *s, const char *path, struct pathinfo *in, struct pathset *refs)
{
	struct worker *d = s->d;
	uint64_t valid = 1;

	if (wr_u64(&d->w, WOP_QUERY_PATH_INFO) < 0 || wr_cstr(&d->w, path) < 0)
		return -1;
	if (daemon_ok(s, "QueryPathInfo") < 0)
		return -1;
	if (d->minor >= 17 && rd_u64(&d->r, &valid) < 0)
		return -1;
	if (!valid)
		return 0;
	return pathinfo_read_worker(&d->r, d->minor, in, refs) < 0 ? -1 : 1;
}

static int query_infos(struct serve *s)
{
	static struct pathset refs;
	static struct pathinfo in;
	struct pathset req;
	size_t i;
	int v;

	pathset_init(&req);
	if (request_paths(s, &req, ALLOW_QUERY) < 0)
		goto bad;
	for (i = 0; i < req.n; i++) {
		const char *p = pathset_get(&req, i);

		if ((v = path_info(s, p, &in, &refs)) < 0)
			goto bad;
		if (!v)
			continue;
		if (wr_cstr(&s->out, p) < 0 || pathinfo_write_serve(&s->out, s->minor, &in, &refs) < 0)
			goto bad;
	}
	pathset_free(&req);
	return wr_cstr(&s->out, "");
bad:
	pathset_free(&req);
	return -1;
}

/* NarFromPath: the daemon sends the NAR raw after its log stream; the NAR's
 * own structure says where it ends. */
static int nar_from_daemon(struct serve *s, const char *path)
{
	struct worker *d = s->d;
	const unsigned char *p;
	size_t got;
	ssize_t k;

	if (wr_u64(&d->w, WOP_NAR_FROM_PATH) < 0 || wr_cstr(&d->w, path) < 0 ||
	    daemon_ok(s, "NarFromPath") < 0)
		return -1;
	nar_init(&s->nar);
	while (!nar_done(&s->nar)) {
		if (rd_peek(&d->r, &p, &got) < 0)
			return -1;
		if ((k = nar_feed(&s->nar, p, got)) < 0)
			return fail(EXIT_SYSTEM, "nix-daemon sent %s: %s", path, err_msg());
		if (wr_bytes(&s->out, p, (size_t)k) < 0)
			return -1;
		s->req.bytes += (uint64_t)k;
		rd_consume(&d->r, (size_t)k);
	}
	return 0;
}

static int dump_path(struct serve *s)
{
	char p[STORE_PATH_MAX + 1];

	if (storepath_read(&s->in, p, 0, "path") < 0)
		return -1;
	note(s, p);
	if (allowed(s, ALLOW_EXPORT) < 0)
		return -1;
	return nar_from_daemon(s, p);
}

static int export_paths(struct serve *s)
{
	static struct pathset refs;
	static struct pathinfo in;
	struct pathset req;
	uint64_t ignored;
	size_t i;
	int v;

	pathset_init(&req);
	if (rd_u64(&s->in, &ignored) < 0 || request_paths(s, &req, ALLOW_EXPORT) < 0)
		goto bad;
	for (i = 0; i < req.n; i++) {
		const char *p = pathset_get(&req, i);

		if ((v = path_info(s, p, &in, &refs)) < 0)
			goto bad;
		if (!v) {
			fail(EXIT_REFUSED, "ExportPaths: path '%s' is not valid", p);
			goto bad;
		}
		if (wr_u64(&s->out, 1) < 0 || nar_from_daemon(s, p) < 0 ||
		    wr_u64(&s->out, EXPORT_MAGIC) < 0 || wr_cstr(&s->out, p) < 0 ||
		    pathset_write(&refs, &s->out) < 0 || wr_cstr(&s->out, in.deriver) < 0 ||
		    wr_u64(&s->out, 0) < 0)
			goto bad;
	}
	pathset_free(&req);
	return wr_u64(&s->out, 0);
bad:
	pathset_free(&req);
	return -1;
}

/* Where the bytes of an incoming NAR come from: the client (validated as
 * they pass) or the spool file of ImportPaths (validated on the way in). */
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
	if ((k = nar_feed(&s->nar, *p, *got)) < 0)
		return -1;
	if ((size_t)k < *got)
		return fail(EXIT_REFUSED, "the NAR ends before its declared size");
	if (n->left == 0 && !nar_done(&s->nar))
		return fail(EXIT_REFUSED, "the NAR does not end within its declared size");
	return 0;
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

struct addinfo {
	char path[STORE_PATH_MAX + 1], deriver[STORE_PATH_MAX + 1];
	unsigned char hash[SHA256_BYTES];
	uint64_t regtime, nar_size;
	int ultimate;
	char ca[CA_MAX + 1];
	unsigned char sigs[SIGS_WIRE_MAX];
	size_t sigs_len;
};

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
	    wr_cstr(&d->w, a->ca) < 0 || wr_u64(&d->w, 0) < 0 /* repair */ ||
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

static int read_sigs(struct serve *s, struct addinfo *a)
{
	struct wr w;

	wr_init_mem(&w, a->sigs, sizeof a->sigs);
	if (sigs_copy(&s->in, &w) < 0)
		return -1;
	a->sigs_len = w.len;
	return 0;
}

/* The largest NAR this key may import. */
static uint64_t nar_max(struct serve *s)
{
	uint64_t m = s->pol->max_nar_size;

	return m && m < SERVE_NAR_MAX ? m : SERVE_NAR_MAX;
}

/* at_least: size is what the NAR has announced so far, not all of it. */
static int nar_size_ok(struct serve *s, uint64_t size, int at_least)
{
	if (size > nar_max(s))
		return refuse(s, s->pol->max_nar_size ? "max-nar-size" : "nar-size",
			      "the NAR of %s%llu bytes is over the limit of %llu", at_least ? "at least " : "",
			      (unsigned long long)size, (unsigned long long)nar_max(s));
	return 0;
}

/* Everything an import must pass before a byte of it reaches the daemon. */
static int import_ok(struct serve *s, struct addinfo *a, struct pathset *refs)
{
	struct claim c = { a->path, a->ca, a->hash, a->nar_size, a->sigs, a->sigs_len };
	char why[768];
	int r;

	if (need_write(s) < 0 || allowed(s, ALLOW_IMPORT) < 0 || nar_size_ok(s, a->nar_size, 0) < 0)
		return -1;
	if (s->pol->trusted)
		return 0;
	/* an untrusted key cannot claim the path was built here */
	a->ultimate = 0;
	if ((r = claim_check(&c, refs, s->pol->keys, s->pol->nkeys, why, sizeof why)) != 1)
		return r;
	return refuse(s, "import", "%s", why);
}

/* A NAR of known size from the client into the spool file, validated as
 * it passes; its hash must be the declared one. */
static int spool_known(struct serve *s, const struct addinfo *a, struct narsrc *src)
{
	struct sha256 st;
	unsigned char got_hash[SHA256_BYTES];
	char want[HASH_TEXT_MAX], got[HASH_TEXT_MAX];
	const unsigned char *p;
	uint64_t off = 0;
	size_t n;

	if (ftruncate(s->spool_fd, 0) < 0)
		return fail_sys("truncating the spool file");
	sha256_init(&st);
	while (src->left > 0) {
		if (nar_next(src, &p, &n, sizeof spoolbuf) < 0)
			return -1;
		sha256_update(&st, p, n);
		if (pwrite(s->spool_fd, p, n, (off_t)off) != (ssize_t)n)
			return fail_sys("writing the spool file");
		off += n;
	}
	sha256_final(&st, got_hash);
	if (memcmp(got_hash, a->hash, SHA256_BYTES)) {
		hash_fmt32(want, a->hash);
		hash_fmt32(got, got_hash);
		return fail(EXIT_REFUSED, "AddToStoreNar: NAR hash mismatch for '%s': declared %s, got %s", a->path,
			    want, got);
	}
	return 0;
}

static int add_to_store_nar(struct serve *s)
{
	static struct addinfo a;
	char h[HASH_TEXT_MAX + 1];
	struct narsrc src = {s, 0, 0, 0};
	size_t n;

	if (storepath_read(&s->in, a.path, 0, "path") < 0 ||
	    storepath_read(&s->in, a.deriver, 1, "deriver") < 0 ||
	    rd_str(&s->in, h, HASH_TEXT_MAX, &n, "nar hash") < 0)
		return -1;
	if (hash_parse(a.hash, h, n) < 0)
		return fail(EXIT_REFUSED, "AddToStoreNar: '%s' is not a SHA-256 hash", h);
	if (pathset_read(&s->ps, &s->in, "references") < 0 || rd_u64(&s->in, &a.regtime) < 0 ||
	    rd_u64(&s->in, &a.nar_size) < 0 || rd_bool(&s->in, &a.ultimate, "ultimate") < 0 ||
	    read_sigs(s, &a) < 0 || rd_str(&s->in, a.ca, CA_MAX, NULL, "content address") < 0)
		return -1;
	note(s, a.path);
	if (a.nar_size == 0)
		return fail(EXIT_REFUSED, "AddToStoreNar: '%s' has a NAR size of 0", a.path);
	if (import_ok(s, &a, &s->ps) < 0)
		return -1;
	src.left = a.nar_size;
	nar_init(&s->nar);
	/* A NAR that fails the daemon's checks after it has started writing
	 * leaves an invalid, partly written path in the store (Nix's own
	 * behaviour). Up to SPOOL_SMALL_MAX it is checked whole before the
	 * daemon sees any of it; larger ones stream. */
	if (a.nar_size <= SPOOL_SMALL_MAX && s->spool_fd >= 0) {
		if (spool_known(s, &a, &src) < 0)
			return -1;
		src.from_spool = 1;
		src.off = 0;
		src.left = a.nar_size;
	}
	if (add_nar(s, &a, &s->ps, &src) < 0)
		return -1;
	return wr_u64(&s->out, 1);
}

/* One NAR of the export format into the spool file, validated and hashed. */
static int spool_nar(struct serve *s, struct addinfo *a)
{
	struct sha256 st;
	const unsigned char *p;
	size_t got;
	ssize_t k;

	if (s->spool_fd < 0)
		return fail(EXIT_SYSTEM, "ImportPaths needs a spool file and none could be opened");
	if (ftruncate(s->spool_fd, 0) < 0)
		return fail_sys("truncating the import spool file");
	sha256_init(&st);
	nar_init(&s->nar);
	a->nar_size = 0;
	while (!nar_done(&s->nar)) {
		if (rd_peek(&s->in, &p, &got) < 0)
			return -1;
		if ((k = nar_feed(&s->nar, p, got)) < 0)
			return -1;
		/* a file's length is a claim like AddToStoreNar's size: refused
		 * when it is read, not after the limit's worth of its bytes */
		if (nar_size_ok(s, nar_claimed(&s->nar), 1) < 0)
			return -1;
		sha256_update(&st, p, (size_t)k);
		if (pwrite(s->spool_fd, p, (size_t)k, (off_t)a->nar_size) != k)
			return fail_sys("writing the import spool file");
		a->nar_size += (uint64_t)k;
		s->req.bytes += (uint64_t)k;
		rd_consume(&s->in, (size_t)k);
	}
	sha256_final(&st, a->hash);
	return 0;
}

static int import_paths(struct serve *s)
{
	static struct addinfo a;
	struct narsrc src = {s, 1, 0, 0};
	uint64_t more, magic, legacy_sig;

	if (need_write(s) < 0 || allowed(s, ALLOW_IMPORT) < 0)
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
		memset(a.sigs, 0, 8);
		note(s, a.path);
		if (import_ok(s, &a, &s->ps) < 0)
			return -1;
		src.left = a.nar_size;
		src.off = 0;
		if (add_nar(s, &a, &s->ps, &src) < 0)
			return -1;
	}
	return wr_u64(&s->out, 1);
}

static uint64_t cap(uint64_t v, uint64_t limit)
{
	return limit && (v == 0 || v > limit) ? limit : v;
}

/* A build slot of the key and one of the host, waited for with one notice
 * on stderr (which the client shows in the build log). */
static void slot_wait(struct serve *s)
{
	struct timespec pause = {0, 200 * 1000 * 1000};
	int noticed = 0;

	for (;;) {
		if (slots_take(s->key_slots)) {
			if (slots_take(s->host_slots))
				return;
			slots_release(s->key_slots);
		}
		if (!noticed++)
			fprintf(stderr, "nixgate-serve: key %s: waiting for a build slot (max-jobs %u, host-max-jobs %u)\n",
				s->key, s->pol->max_jobs, s->pol->host_max_jobs);
		nanosleep(&pause, NULL);
	}
}

/* The daemon's answer to a build request already written, the build
 * holding a slot while the daemon works on it. */
static int build_wait(struct serve *s)
{
	int r;

	slot_wait(s);
	r = worker_wait(s->d, NULL, NULL);
	slots_release(s->host_slots);
	slots_release(s->key_slots);
	return r;
}

/* Build options of the serve protocol, by client version. */
static int read_build_opts(struct serve *s, struct build_opts *o)
{
	struct serve_opts so;

	memset(o, 0, sizeof *o);
	if (serve_opts_read(&s->in, s->minor, &so) < 0)
		return -1;
	/* keep-failed would leave the build directory on the host: ignored */
	o->max_silent_time = cap(so.max_silent_time, s->pol->max_silent_time);
	o->build_timeout = cap(so.build_timeout, s->pol->max_build_time);
	o->max_log_size = cap(so.max_log_size, s->pol->max_log_size);
	o->use_substitutes = s->pol->substitute;
	o->max_jobs = s->max_jobs;
	return 0;
}

/* What the build may run on: the key's systems and features. */
static int platform_ok(struct serve *s, const struct drvinfo *f)
{
	const struct policy *pol = s->pol;
	const char *l = f->features, *w;
	size_t n;

	if (!pol->any_system && !words_has(pol->systems, f->system, strlen(f->system), 0))
		return refuse(s, "systems", "it is for system %s; this key may build for: %s", f->system,
			      pol->systems[0] ? pol->systems : "no system");
	if (pol->any_feature)
		return 0;
	if (f->structured)
		return refuse(s, "features", "it uses structured attributes (__json), whose required features "
			      "nixgate does not read; such builds need a key without a features rule");
	while ((w = words_next(&l, &n, 0)))
		if (!words_has(pol->features, w, n, 0))
			return refuse(s, "features", "it requires the feature %.*s; this key may use: %s", (int)n, w,
				      pol->features[0] ? pol->features : "none");
	return 0;
}

/* An inline derivation's claimed outputs, for an untrusted key: they must
 * follow from the derivation itself. */
static int outputs_ok(struct serve *s, const char *drv, const struct drvinfo *f)
{
	char name[STORE_NAME_MAX + 1], want[STORE_PATH_MAX + 1];
	const struct drvout *o = &f->out[0];
	unsigned i;

	if (s->pol->trusted)
		return 0;
	if (f->nout == 1 && o->hash[0]) {
		/* fixed output: the path is the output hash's */
		snprintf(name, sizeof name, "%.*s", (int)(strlen(storepath_name(drv)) - 4), storepath_name(drv));
		if (strcmp(o->name, "out"))
			return refuse(s, "build", "a fixed-output derivation's output must be called out, not %s", o->name);
		if (ca_fixed_output(want, o->algo, o->hash, name) < 0)
			return refuse(s, "build", "%s", reason());
		if (strcmp(want, o->path))
			return refuse(s, "build", "its output hash gives the path %s, not the claimed %s", want, o->path);
		return 0;
	}
	for (i = 0; i < f->nout; i++)
		if (f->out[i].path[0] || !f->out[i].algo[0] || f->out[i].hash[0])
			break;
	if (f->nout && i == f->nout)
		return 0; /* floating content-addressed: the daemon computes the paths */
	return refuse(s, "build", "it is input-addressed, and nothing proves the output paths the client claims "
		      "for it; a trusted key can build it, or copy the .drv to the host and build it by path "
		      "(nix-store --realise over ssh, or the nixgate build hook)");
}

/* A .drv from the host store, parsed. -2: the daemon refused (its text in
 * d->errmsg). */
static int drv_from_store(struct serve *s, const char *path, struct drvinfo *f)
{
	int r = drv_from_daemon(s->d, path, f);

	if (r == -1 && err_kind() == EXIT_REFUSED)
		return refuse(s, "derivation", "%s: %s", path, reason());
	return r;
}

/* A refused build is answered as a failed build, so the client shows the
 * reason with the key; the line also goes to stderr and the session goes
 * on. */
static int soft(struct serve *s, char *msg, size_t max)
{
	if (err_kind() != EXIT_REFUSED || !s->req.rule)
		return -1;
	snprintf(msg, max, "key %s: %s", s->key, err_msg());
	fprintf(stderr, "nixgate-serve: %s\n", msg);
	err_clear();
	return 0;
}

/* The platform of every derivation to be built, read from the host store:
 * 0 fine, 1 refused (the reason in msg), 2 the daemon refused (in
 * d->errmsg), -1 failure. */
static int build_paths_ok(struct serve *s, char *msg, size_t max)
{
	static struct drvinfo f;
	char drv[STORE_PATH_MAX + 1];
	size_t i;
	int r;

	if (s->pol->any_system && s->pol->any_feature)
		return 0;
	for (i = 0; i < s->ps.n; i++) {
		const char *p = pathset_get(&s->ps, i), *bang = strchr(p, '!');
		size_t n = bang ? (size_t)(bang - p) : strlen(p);

		memcpy(drv, p, n);
		drv[n] = 0;
		if (!storepath_is_drv(drv))
			continue; /* a path to substitute: nothing is built here */
		snprintf(s->req.first, sizeof s->req.first, "%s", drv);
		if ((r = drv_from_store(s, drv, &f)) == -2)
			return 2;
		if (r == 0)
			r = platform_ok(s, &f);
		if (r < 0)
			return soft(s, msg, max) < 0 ? -1 : 1;
	}
	return 0;
}

static int build_paths(struct serve *s)
{
	char p[PATH_OUTPUTS_MAX + 1], msg[1024];
	struct build_opts o;
	struct worker *d = s->d;
	uint64_t n, i;
	size_t len;
	int r;

	if (rd_count(&s->in, &n, PATHSET_MAX_PATHS, "build paths") < 0)
		return -1;
	pathset_clear(&s->ps);
	for (i = 0; i < n; i++)
		if (rd_str(&s->in, p, PATH_OUTPUTS_MAX, &len, "build path") < 0 ||
		    path_outputs_check(p, len, EXIT_REFUSED) < 0 || pathset_add(&s->ps, p, len) < 0)
			return -1;
	note_set(s, &s->ps);
	if (read_build_opts(s, &o) < 0 || need_write(s) < 0 || allowed(s, ALLOW_BUILD) < 0)
		return -1;
	if ((r = build_paths_ok(s, msg, sizeof msg)) != 0)
		return r < 0 ? -1 : wr_u64(&s->out, 1) < 0 || wr_cstr(&s->out, r == 1 ? msg : d->errmsg) < 0 ? -1 : 0;
	if (worker_set_options(d, &o) < 0)
		return -1;
	if (wr_u64(&d->w, WOP_BUILD_PATHS) < 0 || pathset_write(&s->ps, &d->w) < 0 ||
	    (d->minor >= 15 && wr_u64(&d->w, 0) < 0))
		return -1;
	r = build_wait(s);
	if (r == -1)
		return -1;
	if (r == -2)
		return wr_u64(&s->out, 1) < 0 || wr_cstr(&s->out, d->errmsg) < 0 ? -1 : 0;
	if (expect_one(s, "BuildPaths") < 0)
		return -1;
	return wr_u64(&s->out, 0);
}

static int build_derivation(struct serve *s)
{
	static struct drvwire drv;
	static struct build_result br;
	char path[STORE_PATH_MAX + 1];
	struct worker *d = s->d;
	struct build_opts o;
	int r;

	if (storepath_read(&s->in, path, 0, "derivation path") < 0 || !storepath_is_drv(path) ||
	    drvwire_read(&drv, &s->in) < 0)
		return !err_kind() ? fail(EXIT_REFUSED, "BuildDerivation: '%s' is not a .drv path", path) : -1;
	note(s, path);
	if (read_build_opts(s, &o) < 0 || need_write(s) < 0 || allowed(s, ALLOW_BUILD) < 0)
		return -1;
	if (platform_ok(s, &drv.info) < 0 || outputs_ok(s, path, &drv.info) < 0) {
		char text[1024];

		if (soft(s, text, sizeof text) < 0)
			return -1;
		build_result_set(&br, BUILD_INPUT_REJECTED, text);
	} else {
		if (worker_set_options(d, &o) < 0)
			return -1;
		if (wr_u64(&d->w, WOP_BUILD_DERIVATION) < 0 || wr_cstr(&d->w, path) < 0 ||
		    wr_bytes(&d->w, drv.buf, drv.len) < 0 || wr_u64(&d->w, 0) < 0)
			return -1;
		r = build_wait(s);
		if (r == -1)
			return -1;
		if (r == -2)
			build_result_set(&br, BUILD_MISC_FAILURE, d->errmsg);
		else if (build_result_read(&d->r, worker_result_fields(d->minor, 0), &br) < 0)
			return -1;
	}
	/* built outputs: DrvOutput id -> Realisation JSON, passed through */
	return build_result_write(&s->out, serve_result_fields(s->minor), &br);
}

/* Outputs of a derivation that are valid, into set. */
static int drv_outputs(struct serve *s, const char *drv, struct pathset *set)
{
	struct worker *d = s->d;
	char name[STORE_NAME_MAX + 1], out[STORE_PATH_MAX + 1];
	uint64_t n, i, valid;

	if (wr_u64(&d->w, WOP_QUERY_DERIVATION_OUTPUT_MAP) < 0 || wr_cstr(&d->w, drv) < 0 ||
	    daemon_ok(s, "QueryDerivationOutputMap") < 0 ||
	    rd_count(&d->r, &n, DRV_OUTPUTS_MAX, "outputs") < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (rd_str(&d->r, name, STORE_NAME_MAX, NULL, "output name") < 0 ||
		    storepath_read(&d->r, out, 1, "output path") < 0)
			return -1;
		if (!out[0])
			continue;
		if (wr_u64(&d->w, WOP_IS_VALID_PATH) < 0 || wr_cstr(&d->w, out) < 0 ||
		    daemon_ok(s, "IsValidPath") < 0 || rd_u64(&d->r, &valid) < 0)
			return -1;
		if (valid && pathset_insert(set, out, strlen(out)) < 0)
			return -1;
	}
	return 0;
}

static int query_closure(struct serve *s)
{
	static struct pathset refs;
	static struct pathinfo in;
	struct pathset *seen = &s->seen;
	size_t i, j;
	int outs, v;

	if (rd_bool(&s->in, &outs, "include outputs") < 0 || request_paths(s, &s->ps, ALLOW_QUERY) < 0)
		return -1;
	pathset_clear(seen);
	for (i = 0; i < s->ps.n; i++)
		if (pathset_insert(seen, pathset_get(&s->ps, i), strlen(pathset_get(&s->ps, i))) < 0)
			return -1;
	/* seen grows while it is walked: a breadth-first closure */
	for (i = 0; i < seen->n; i++) {
		char p[STORE_PATH_MAX + 1];

		strcpy(p, pathset_get(seen, i));
		if ((v = path_info(s, p, &in, &refs)) < 0)
			return -1;
		if (!v)
			return fail(EXIT_REFUSED, "QueryClosure: path '%s' is not valid", p);
		for (j = 0; j < refs.n; j++)
			if (pathset_insert(seen, pathset_get(&refs, j), strlen(pathset_get(&refs, j))) < 0)
				return -1;
		if (outs && storepath_is_drv(p) && drv_outputs(s, p, seen) < 0)
			return -1;
	}
	pathset_sort(seen);
	return pathset_write(seen, &s->out);
}

static int pair(struct serve *s, const char *name, const char *value)
{
	return wr_cstr(&s->out, name) < 0 || wr_cstr(&s->out, value) < 0 ? -1 : 0;
}

/* A number; none_if_zero for limits, where 0 means none. */
static int pair_num(struct serve *s, const char *name, uint64_t v, int none_if_zero)
{
	char t[24];

	snprintf(t, sizeof t, "%llu", (unsigned long long)v);
	return pair(s, name, v || !none_if_zero ? t : "none");
}

static int nixgate_info(struct serve *s)
{
	const struct policy *p = s->pol;
	char keys[POLICY_KEYS_MAX * (KEY_NAME_MAX + 48)] = "";
	char b64[48];
	unsigned i;

	for (i = 0; i < p->nkeys; i++) {
		sodium_bin2base64(b64, sizeof b64, p->keys[i].key, PUBKEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
		snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s:%s", i ? " " : "", p->keys[i].name, b64);
	}
	struct sysinfo si;
	char load[32];

	snprintf(load, sizeof load, "%.2f", sysinfo(&si) == 0 ? (double)si.loads[0] / 65536.0 : -1.0);
	if (wr_u64(&s->out, 19) < 0 || pair(s, "server", "nixgate-serve") < 0 || pair(s, "version", s->version) < 0 ||
	    pair(s, "key", s->key) < 0 || pair(s, "trusted", p->trusted ? "true" : "false") < 0 ||
	    pair(s, "allow", policy_ops(p->allow)) < 0 ||
	    pair(s, "systems", p->any_system ? "any" : p->systems[0] ? p->systems : "none") < 0 ||
	    pair(s, "features", p->any_feature ? "any" : p->features[0] ? p->features : "none") < 0 ||
	    pair_num(s, "max-nar-size", p->max_nar_size, 1) < 0 || pair_num(s, "max-build-time", p->max_build_time, 1) < 0 ||
	    pair_num(s, "max-silent-time", p->max_silent_time, 1) < 0 || pair_num(s, "max-log-size", p->max_log_size, 1) < 0 ||
	    pair(s, "substitute", p->substitute ? "true" : "false") < 0 ||
	    pair(s, "trusted-public-keys", keys[0] ? keys : "none") < 0 ||
	    pair_num(s, "max-jobs", p->max_jobs, 1) < 0 || pair_num(s, "host-max-jobs", p->host_max_jobs, 1) < 0 ||
	    pair_num(s, "builds", slots_busy(s->key_slots), 0) < 0 ||
	    pair_num(s, "host-builds", slots_busy(s->host_slots), 0) < 0 ||
	    pair(s, "load", load) < 0 || pair_num(s, "cores", s->max_jobs, 0) < 0)
		return -1;
	return 0;
}

static const char *cmd_names[] = {
	"unknown", "QueryValidPaths", "QueryPathInfos", "DumpStorePath", "ImportPaths", "ExportPaths",
	"BuildPaths", "QueryClosure", "BuildDerivation", "AddToStoreNar"
};

static uint64_t us_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)((t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000);
}

/* The audit line of the request just done. */
static void audited(struct serve *s, int r, const struct timespec *t0, uint64_t trips0, uint64_t wait0)
{
	uint64_t us = us_since(t0), wait = s->d->wait_us - wait0;
	char why[300];
	size_t i;

	if (r < 0 && !s->req.rule) {
		/* one line of plain text inside quotes */
		snprintf(why, sizeof why, "%s", err_msg());
		for (i = 0; why[i]; i++)
			if (why[i] == '"' || (unsigned char)why[i] < ' ')
				why[i] = '\'';
	}
	audit_write(s->audit, "key=%s op=%s paths=%llu first=%s bytes=%llu result=%s%s%s ms=%llu.%03llu daemon=%llu daemon_ms=%llu.%03llu",
		    s->key, s->req.op, (unsigned long long)s->req.paths, s->req.first[0] ? s->req.first : "-",
		    (unsigned long long)s->req.bytes, s->req.rule ? "refused rule=" : r < 0 ? "error reason=\"" : "ok",
		    s->req.rule ? s->req.rule : r < 0 ? why : "", r < 0 && !s->req.rule ? "\"" : "",
		    (unsigned long long)(us / 1000), (unsigned long long)(us % 1000),
		    (unsigned long long)(s->d->round_trips - trips0), (unsigned long long)(wait / 1000),
		    (unsigned long long)(wait % 1000));
}

int serve_one(struct serve *s)
{
	struct timespec t0;
	uint64_t trips0, wait0;
	uint64_t cmd;
	int e, r;

	if (wr_flush(&s->out) < 0)
		return -1;
	if ((e = rd_at_eof(&s->in)) != 0)
		return e < 0 ? -1 : 1;
	if (rd_u64(&s->in, &cmd) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	trips0 = s->d->round_trips;
	wait0 = s->d->wait_us;
	memset(&s->req, 0, sizeof s->req);
	s->req.op = cmd_names[cmd < sizeof cmd_names / sizeof *cmd_names ? cmd : 0];
	switch (cmd) {
	case CMD_QUERY_VALID_PATHS: r = query_valid(s); break;
	case CMD_QUERY_PATH_INFOS: r = query_infos(s); break;
	case CMD_DUMP_STORE_PATH: r = dump_path(s); break;
	case CMD_IMPORT_PATHS: r = import_paths(s); break;
	case CMD_EXPORT_PATHS: r = export_paths(s); break;
	case CMD_BUILD_PATHS: r = build_paths(s); break;
	case CMD_QUERY_CLOSURE: r = query_closure(s); break;
	case CMD_BUILD_DERIVATION: r = build_derivation(s); break;
	case CMD_ADD_TO_STORE_NAR: r = add_to_store_nar(s); break;
	case CMD_NIXGATE_INFO: s->req.op = "NixgateInfo"; r = nixgate_info(s); break;
	default:
		r = fail(EXIT_REFUSED, "unknown serve command %llu", (unsigned long long)cmd);
	}
	audited(s, r, &t0, trips0, wait0);
	return r < 0 ? -1 : 0;
}
