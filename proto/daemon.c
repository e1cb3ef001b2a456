#include <string.h>

#include "daemon.h"
#include "err.h"

/* The daemon's work on a request already written; its refusal named with
 * the operation. */
static int done(struct worker *d, const char *op)
{
	int r = worker_wait(d, NULL, NULL);

	if (r == -2)
		return fail(EXIT_SYSTEM, "%s: nix-daemon: %s", op, d->errmsg);
	return r;
}

/* Answers that are always 1 (Nix writes them as a constant). */
static int one(struct worker *d, const char *op)
{
	uint64_t v;

	if (rd_u64(&d->r, &v) < 0)
		return -1;
	return v == 1 ? 0 : fail(EXIT_SYSTEM, "%s: nix-daemon answered %llu", op, (unsigned long long)v);
}

static int ask_path(struct worker *d, uint64_t op, const char *path)
{
	return wr_u64(&d->w, op) < 0 || wr_cstr(&d->w, path) < 0 ? -1 : 0;
}

int daemon_add_temp_root(struct worker *d, const char *path)
{
	if (ask_path(d, WOP_ADD_TEMP_ROOT, path) < 0 || done(d, "AddTempRoot") < 0)
		return -1;
	return one(d, "AddTempRoot");
}

int daemon_is_valid(struct worker *d, const char *path)
{
	int v;

	if (ask_path(d, WOP_IS_VALID_PATH, path) < 0 || done(d, "IsValidPath") < 0 ||
	    rd_bool(&d->r, &v, "validity") < 0)
		return -1;
	return v;
}

int daemon_valid_begin(struct worker *d, const struct pathset *ps, int subst)
{
	if (wr_u64(&d->w, WOP_QUERY_VALID_PATHS) < 0 || pathset_write(ps, &d->w) < 0 ||
	    (d->minor >= 27 && wr_u64(&d->w, subst ? 1 : 0) < 0))
		return -1;
	return done(d, "QueryValidPaths");
}

int daemon_valid(struct worker *d, const struct pathset *ps, int subst, struct pathset *valid)
{
	if (daemon_valid_begin(d, ps, subst) < 0)
		return -1;
	return pathset_read(valid, &d->r, "valid paths");
}

int daemon_path_info(struct worker *d, const char *path, struct pathinfo *in, struct pathset *refs)
{
	int valid = 1;

	if (ask_path(d, WOP_QUERY_PATH_INFO, path) < 0 || done(d, "QueryPathInfo") < 0)
		return -1;
	/* before 1.17 an invalid path was the daemon's error instead */
	if (d->minor >= 17 && rd_bool(&d->r, &valid, "validity") < 0)
		return -1;
	if (!valid)
		return 0;
	return pathinfo_read_worker(&d->r, d->minor, in, refs) < 0 ? -1 : 1;
}

int daemon_referrers_begin(struct worker *d, const char *path)
{
	if (ask_path(d, WOP_QUERY_REFERRERS, path) < 0)
		return -1;
	return done(d, "QueryReferrers");
}

int daemon_path_from_hash_part(struct worker *d, const char *hash_part, char path[STORE_PATH_MAX + 1])
{
	if (wr_u64(&d->w, WOP_QUERY_PATH_FROM_HASH_PART) < 0 || wr_cstr(&d->w, hash_part) < 0 ||
	    done(d, "QueryPathFromHashPart") < 0)
		return -1;
	return storepath_read(&d->r, path, 1, "path from hash part");
}

int daemon_missing_begin(struct worker *d, const struct pathset *targets)
{
	if (wr_u64(&d->w, WOP_QUERY_MISSING) < 0 || pathset_write(targets, &d->w) < 0)
		return -1;
	return done(d, "QueryMissing");
}

int daemon_nar_begin(struct worker *d, const char *path)
{
	if (ask_path(d, WOP_NAR_FROM_PATH, path) < 0)
		return -1;
	return done(d, "NarFromPath");
}

int daemon_output_map(struct worker *d, const char *drv, struct outmap *m)
{
	uint64_t n, i;
	size_t len;

	m->n = 0;
	if (d->minor < 22)
		return fail(EXIT_SYSTEM, "QueryDerivationOutputMap: nix-daemon speaks 1.%u, which does not have it",
			    d->minor);
	if (ask_path(d, WOP_QUERY_DERIVATION_OUTPUT_MAP, drv) < 0 || done(d, "QueryDerivationOutputMap") < 0 ||
	    rd_count(&d->r, &n, DRV_OUTPUTS_MAX, "derivation outputs") < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (rd_str(&d->r, m->out[i].name, STORE_NAME_MAX, &len, "output name") < 0 ||
		    storepath_read(&d->r, m->out[i].path, 1, "output path") < 0)
			return -1;
		if (!len)
			return fail(EXIT_SYSTEM, "QueryDerivationOutputMap: nix-daemon sent an empty output name for %s",
				    drv);
	}
	m->n = (size_t)n;
	return 0;
}

int daemon_add_signatures(struct worker *d, const char *path, const unsigned char *sigs, size_t len)
{
	if (len < 8 || len > SIGS_WIRE_MAX)
		return fail(EXIT_SYSTEM, "AddSignatures: a signature list of %zu bytes (8 to %zu)", len,
			    (size_t)SIGS_WIRE_MAX);
	if (ask_path(d, WOP_ADD_SIGNATURES, path) < 0 || wr_bytes(&d->w, sigs, len) < 0 ||
	    done(d, "AddSignatures") < 0)
		return -1;
	return one(d, "AddSignatures");
}

int daemon_add_nar_begin(struct worker *d, const char *path, const struct pathinfo *in, const struct pathset *refs)
{
	char h[HASH_TEXT_MAX];

	if (d->minor < 23)
		return fail(EXIT_SYSTEM, "AddToStoreNar: nix-daemon speaks 1.%u, which does not take a framed NAR",
			    d->minor);
	hash_fmt16(h, in->hash);
	if (ask_path(d, WOP_ADD_TO_STORE_NAR, path) < 0 || wr_cstr(&d->w, in->deriver) < 0 || wr_cstr(&d->w, h) < 0 ||
	    pathset_write(refs, &d->w) < 0 || wr_u64(&d->w, in->regtime) < 0 || wr_u64(&d->w, in->nar_size) < 0 ||
	    wr_u64(&d->w, (uint64_t)in->ultimate) < 0 || wr_bytes(&d->w, in->sigs, in->sigs_len) < 0 ||
	    wr_cstr(&d->w, in->ca) < 0 || wr_u64(&d->w, 0) < 0 /* repair */ ||
	    wr_u64(&d->w, 1) < 0 /* don't check signatures */)
		return -1;
	return 0;
}

int daemon_nar_frame(struct worker *d, const unsigned char *p, size_t n)
{
	if (!n)
		return 0;
	return wr_u64(&d->w, n) < 0 || wr_bytes(&d->w, p, n) < 0 ? -1 : 0;
}

int daemon_add_nar_end(struct worker *d)
{
	if (wr_u64(&d->w, 0) < 0)
		return -1;
	return worker_wait(d, NULL, NULL);
}

int daemon_query_realisation(struct worker *d, const char *id, char out_path[STORE_PATH_MAX + 1])
{
	static char json[REALISATION_MAX + 1];
	size_t len;

	return daemon_realisation(d, id, out_path, json, &len);
}

int daemon_realisation(struct worker *d, const char *id, char out_path[STORE_PATH_MAX + 1],
		       char json[REALISATION_MAX + 1], size_t *len)
{
	static struct realisation r;
	uint64_t n;

	out_path[0] = json[0] = 0;
	*len = 0;
	if (ask_path(d, WOP_QUERY_REALISATION, id) < 0 || done(d, "QueryRealisation") < 0 ||
	    rd_count(&d->r, &n, 1, "realisations") < 0)
		return -1;
	if (!n)
		return 0;
	if (d->minor < 31)
		return storepath_read(&d->r, out_path, 0, "realisation") < 0 ? -1 : 1;
	if (rd_str(&d->r, json, REALISATION_MAX, len, "realisation") < 0 || realisation_parse(&r, json, *len) < 0)
		return -1;
	if (strcmp(r.id, id))
		return fail(EXIT_SYSTEM, "QueryRealisation: nix-daemon answered for %s, not %s", r.id, id);
	memcpy(out_path, r.out_path, sizeof r.out_path);
	return 1;
}

int daemon_register_drv_output(struct worker *d, const struct realisation *r, const char *json, size_t len)
{
	if (wr_u64(&d->w, WOP_REGISTER_DRV_OUTPUT) < 0)
		return -1;
	if (d->minor < 31 ? wr_cstr(&d->w, r->id) < 0 || wr_cstr(&d->w, r->out_path) < 0
			  : wr_str(&d->w, json, len) < 0)
		return -1;
	return done(d, "RegisterDrvOutput");
}

int daemon_build_paths(struct worker *d, const struct pathset *targets, uint64_t timeout_s)
{
	return daemon_build_mode(d, WOP_BUILD_PATHS, targets, 0, timeout_s);
}

int daemon_build_mode(struct worker *d, uint64_t op, const struct pathset *targets, uint64_t mode, uint64_t timeout_s)
{
	int r;

	d->build_late = 0;
	if (op == WOP_BUILD_PATHS_WITH_RESULTS && d->minor < 34)
		return fail(EXIT_SYSTEM, "BuildPathsWithResults: nix-daemon speaks 1.%u, which does not have it",
			    d->minor);
	/* the build mode, from 1.15 */
	if (mode && d->minor < 15)
		return fail(EXIT_SYSTEM, "BuildPaths: nix-daemon speaks 1.%u, which takes no build mode", d->minor);
	if (wr_u64(&d->w, op) < 0 || pathset_write(targets, &d->w) < 0 ||
	    (d->minor >= 15 && wr_u64(&d->w, mode) < 0))
		return -1;
	/* the daemon's refusal stays -2: a failed build, not a failure */
	if ((r = worker_build_wait(d, timeout_s)) < 0)
		return r;
	return op == WOP_BUILD_PATHS ? one(d, "BuildPaths") : 0;
}

int daemon_build_derivation(struct worker *d, const char *drv, const struct drvwire *w, uint64_t timeout_s,
			    struct build_result *br)
{
	int r;

	d->build_late = 0;
	if (ask_path(d, WOP_BUILD_DERIVATION, drv) < 0 || wr_bytes(&d->w, w->buf, w->len) < 0 ||
	    wr_u64(&d->w, 0) < 0)
		return -1;
	/* the daemon's refusal stays -2: a failed build, not a failure */
	if ((r = worker_build_wait(d, timeout_s)) < 0)
		return r;
	return build_result_read(&d->r, worker_result_fields(d->minor, 0), br);
}
