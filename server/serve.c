#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buildresult.h"
#include "drv.h"
#include "err.h"
#include "hash.h"
#include "serve.h"
#include "serveopts.h"
#include "storepath.h"

enum {
	CMD_QUERY_VALID_PATHS = 1, CMD_QUERY_PATH_INFOS, CMD_DUMP_STORE_PATH, CMD_IMPORT_PATHS,
	CMD_EXPORT_PATHS, CMD_BUILD_PATHS, CMD_QUERY_CLOSURE, CMD_BUILD_DERIVATION, CMD_ADD_TO_STORE_NAR
};

/* BuildResult status for a request the daemon refused outright. */
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

static int refuse(struct serve *s, const char *req, const char *why)
{
	return fail(EXIT_REFUSED, "key %s: %s refused: %s", s->key, req, why);
}

static int need_write(struct serve *s, const char *req)
{
	if (!s->write_ok)
		return refuse(s, req, "the client did not ask for --write");
	return 0;
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
	    pathset_read(&s->ps, &s->in, "paths") < 0)
		return -1;
	if (lock && s->write_ok)
		for (i = 0; i < s->ps.n; i++)
			if (wr_u64(&d->w, WOP_ADD_TEMP_ROOT) < 0 || wr_cstr(&d->w, pathset_get(&s->ps, i)) < 0 ||
			    daemon_ok(s, "AddTempRoot") < 0 || expect_one(s, "AddTempRoot") < 0)
				return -1;
	if (wr_u64(&d->w, WOP_QUERY_VALID_PATHS) < 0 || pathset_write(&s->ps, &d->w) < 0 ||
	    (d->minor >= 27 && wr_u64(&d->w, (uint64_t)(subst && s->write_ok)) < 0) ||
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
	if (pathset_read(&req, &s->in, "paths") < 0)
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
		rd_consume(&d->r, (size_t)k);
	}
	return 0;
}

static int dump_path(struct serve *s)
{
	char p[STORE_PATH_MAX + 1];

	if (storepath_read(&s->in, p, 0, "path") < 0)
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
	if (rd_u64(&s->in, &ignored) < 0 || pathset_read(&req, &s->in, "paths") < 0)
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
	int r;

	hash_fmt16(h, a->hash);
	if (wr_u64(&d->w, WOP_ADD_TO_STORE_NAR) < 0 || wr_cstr(&d->w, a->path) < 0 ||
	    wr_cstr(&d->w, a->deriver) < 0 || wr_cstr(&d->w, h) < 0 || pathset_write(refs, &d->w) < 0 ||
	    wr_u64(&d->w, a->regtime) < 0 || wr_u64(&d->w, a->nar_size) < 0 ||
	    wr_u64(&d->w, (uint64_t)a->ultimate) < 0 || wr_bytes(&d->w, a->sigs, a->sigs_len) < 0 ||
	    wr_cstr(&d->w, a->ca) < 0 || wr_u64(&d->w, 0) < 0 /* repair */ ||
	    wr_u64(&d->w, 1) < 0 /* don't check signatures: the policy has */)
		return -1;
	if (d->minor >= 23) {
		while (src->left > 0)
			if (nar_next(src, &p, &got, sizeof spoolbuf) < 0 || wr_u64(&d->w, got) < 0 || wr_bytes(&d->w, p, got) < 0)
				return -1;
		if (wr_u64(&d->w, 0) < 0)
			return -1;
		r = worker_wait(d, NULL, NULL);
	} else
		r = worker_wait(d, tunnel, src);
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

static int import_allowed(struct serve *s, const char *req, const struct addinfo *a)
{
	if (need_write(s, req) < 0)
		return -1;
	if (!s->trusted)
		return fail(EXIT_REFUSED, "key %s: %s of '%s' refused: the key is not trusted and "
			    "signature and content-address checks are not in this build", s->key, req, a->path);
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
	if (a.nar_size == 0)
		return fail(EXIT_REFUSED, "AddToStoreNar: '%s' has a NAR size of 0", a.path);
	if (a.nar_size > SERVE_NAR_MAX)
		return fail(EXIT_REFUSED, "AddToStoreNar: NAR of %llu bytes is over the limit of %llu",
			    (unsigned long long)a.nar_size, (unsigned long long)SERVE_NAR_MAX);
	if (import_allowed(s, "AddToStoreNar", &a) < 0)
		return -1;
	src.left = a.nar_size;
	nar_init(&s->nar);
	if (add_nar(s, &a, &s->ps, &src) < 0)
		return -1;
	return wr_u64(&s->out, 1);
}

/* One NAR of the export format into the spool file, validated and hashed. */
static int spool_nar(struct serve *s, struct addinfo *a)
{
	crypto_hash_sha256_state st;
	const unsigned char *p;
	size_t got;
	ssize_t k;

	if (s->spool_fd < 0)
		return fail(EXIT_SYSTEM, "ImportPaths needs a spool file and none could be opened");
	if (ftruncate(s->spool_fd, 0) < 0)
		return fail_sys("truncating the import spool file");
	crypto_hash_sha256_init(&st);
	nar_init(&s->nar);
	a->nar_size = 0;
	while (!nar_done(&s->nar)) {
		if (rd_peek(&s->in, &p, &got) < 0)
			return -1;
		if ((k = nar_feed(&s->nar, p, got)) < 0)
			return -1;
		if (a->nar_size + (uint64_t)k > SERVE_NAR_MAX)
			return fail(EXIT_REFUSED, "ImportPaths: NAR over the limit of %llu bytes",
				    (unsigned long long)SERVE_NAR_MAX);
		crypto_hash_sha256_update(&st, p, (unsigned long long)k);
		if (pwrite(s->spool_fd, p, (size_t)k, (off_t)a->nar_size) != k)
			return fail_sys("writing the import spool file");
		a->nar_size += (uint64_t)k;
		rd_consume(&s->in, (size_t)k);
	}
	crypto_hash_sha256_final(&st, a->hash);
	return 0;
}

static int import_paths(struct serve *s)
{
	static struct addinfo a;
	struct narsrc src = {s, 1, 0, 0};
	uint64_t more, magic, legacy_sig;

	if (need_write(s, "ImportPaths") < 0)
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
		if (import_allowed(s, "ImportPaths", &a) < 0)
			return -1;
		src.left = a.nar_size;
		src.off = 0;
		if (add_nar(s, &a, &s->ps, &src) < 0)
			return -1;
	}
	return wr_u64(&s->out, 1);
}

/* Build options of the serve protocol, by client version. */
static int read_build_opts(struct serve *s, struct build_opts *o)
{
	struct serve_opts so;

	memset(o, 0, sizeof *o);
	if (serve_opts_read(&s->in, s->minor, &so) < 0)
		return -1;
	/* keep-failed would leave the build directory on the host: ignored */
	o->max_silent_time = so.max_silent_time;
	o->build_timeout = so.build_timeout;
	o->max_log_size = so.max_log_size;
	o->use_substitutes = 1;
	o->max_jobs = s->max_jobs;
	return 0;
}

static int build_paths(struct serve *s)
{
	char p[PATH_OUTPUTS_MAX + 1];
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
	if (read_build_opts(s, &o) < 0 || need_write(s, "BuildPaths") < 0)
		return -1;
	if (worker_set_options(d, &o) < 0)
		return -1;
	if (wr_u64(&d->w, WOP_BUILD_PATHS) < 0 || pathset_write(&s->ps, &d->w) < 0 ||
	    (d->minor >= 15 && wr_u64(&d->w, 0) < 0))
		return -1;
	r = worker_wait(d, NULL, NULL);
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

	if (storepath_read(&s->in, path, 0, "derivation path") < 0 || drvwire_read(&drv, &s->in) < 0 ||
	    read_build_opts(s, &o) < 0 || need_write(s, "BuildDerivation") < 0)
		return -1;
	if (!s->trusted)
		return refuse(s, "BuildDerivation", "the key is not trusted; build the .drv by path instead");
	if (worker_set_options(d, &o) < 0)
		return -1;
	if (wr_u64(&d->w, WOP_BUILD_DERIVATION) < 0 || wr_cstr(&d->w, path) < 0 ||
	    wr_bytes(&d->w, drv.buf, drv.len) < 0 || wr_u64(&d->w, 0) < 0)
		return -1;
	r = worker_wait(d, NULL, NULL);
	if (r == -1)
		return -1;
	if (r == -2)
		build_result_set(&br, BUILD_MISC_FAILURE, d->errmsg);
	else if (build_result_read(&d->r, worker_result_fields(d->minor, 0), &br) < 0)
		return -1;
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

	if (rd_bool(&s->in, &outs, "include outputs") < 0 || pathset_read(&s->ps, &s->in, "paths") < 0)
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

int serve_one(struct serve *s)
{
	uint64_t cmd;
	int e, r;

	if (wr_flush(&s->out) < 0)
		return -1;
	if ((e = rd_at_eof(&s->in)) != 0)
		return e < 0 ? -1 : 1;
	if (rd_u64(&s->in, &cmd) < 0)
		return -1;
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
	default:
		return fail(EXIT_REFUSED, "unknown serve command %llu", (unsigned long long)cmd);
	}
	return r < 0 ? -1 : 0;
}
