/* wserve: the worker protocol's operations on the monitor's side. Each
 * reads its request again from what the parser forwarded, checks it, asks
 * the daemon, then answers: STDERR_LAST and the result. */
#include <stdio.h>
#include <string.h>

#include "base32.h"
#include "buildresult.h"
#include "daemon.h"
#include "err.h"
#include "parser.h"
#include "query.h"
#include "wbuild.h"
#include "wimport.h"
#include "wparse.h"
#include "wupload.h"
#include "wserve.h"

/* Nix's lvlError: the level of an error record. */
#define LVL_ERROR 0

static int is_valid(struct serve *s);
static int referrers(struct serve *s);
static int temp_root(struct serve *s);
static int set_options(struct serve *s);
static int path_info_op(struct serve *s);
static int hash_part(struct serve *s);
static int valid_paths(struct serve *s);
static int nar_from_path(struct serve *s);
static int output_map(struct serve *s);
static int query_missing(struct serve *s);
static int unserved(struct serve *s);

/* Every operation of Nix's worker protocol, by the name Nix gives it; those
 * nixgate does not serve are refused by that name before any of their
 * request is read. */
static const struct command wcommands[] = {
	{1, "IsValidPath", wparse_path, is_valid},
	{6, "QueryReferrers", wparse_path, referrers},
	{7, "AddToStore", wparse_add_to_store, wadd_to_store},
	{8, "AddTextToStore", wparse_add_text, wadd_text},
	{9, "BuildPaths", wparse_build, wbuild_paths},
	{10, "EnsurePath", wparse_path, wbuild_ensure},
	{11, "AddTempRoot", wparse_path, temp_root},
	{12, "AddIndirectRoot", parse_nothing, unserved},
	{13, "SyncWithGC", parse_nothing, unserved},
	{14, "FindRoots", parse_nothing, unserved},
	{16, "ExportPath", parse_nothing, unserved},
	{18, "QueryDeriver", parse_nothing, unserved},
	{19, "SetOptions", wparse_set_options, set_options},
	{20, "CollectGarbage", parse_nothing, unserved},
	{21, "QuerySubstitutablePathInfo", parse_nothing, unserved},
	{22, "QueryDerivationOutputs", parse_nothing, unserved},
	{23, "QueryAllValidPaths", parse_nothing, unserved},
	{26, "QueryPathInfo", wparse_path, path_info_op},
	{27, "ImportPaths", parse_nothing, unserved},
	{28, "QueryDerivationOutputNames", parse_nothing, unserved},
	{29, "QueryPathFromHashPart", wparse_hash_part, hash_part},
	{30, "QuerySubstitutablePathInfos", parse_nothing, unserved},
	{31, "QueryValidPaths", wparse_valid_paths, valid_paths},
	{32, "QuerySubstitutablePaths", parse_nothing, unserved},
	{33, "QueryValidDerivers", parse_nothing, unserved},
	{34, "OptimiseStore", parse_nothing, unserved},
	{35, "VerifyStore", parse_nothing, unserved},
	{36, "BuildDerivation", wparse_build_derivation, wbuild_derivation},
	{37, "AddSignatures", wparse_add_signatures, wbuild_add_signatures},
	{38, "NarFromPath", wparse_path, nar_from_path},
	{39, "AddToStoreNar", wparse_add_to_store_nar, wadd_to_store_nar},
	{40, "QueryMissing", wparse_targets, query_missing},
	{41, "QueryDerivationOutputMap", wparse_path, output_map},
	{42, "RegisterDrvOutput", parse_nothing, unserved},
	{43, "QueryRealisation", wparse_realisation, wbuild_realisation},
	{44, "AddMultipleToStore", wparse_add_multiple, wadd_multiple},
	{45, "AddBuildLog", parse_nothing, unserved},
	{46, "BuildPathsWithResults", wparse_build, wbuild_results},
	{47, "AddPermRoot", parse_nothing, unserved},
};

const struct command *wcommand_find(uint64_t op)
{
	size_t i;

	for (i = 0; i < sizeof wcommands / sizeof *wcommands; i++)
		if (wcommands[i].op == op)
			return &wcommands[i];
	return NULL;
}

int wserve_handshake(struct serve *s)
{
	const char *version = s->daemon_version[0] ? s->daemon_version : s->version;
	uint64_t magic, v;

	if (rd_u64(&s->in, &magic) < 0)
		return -1;
	if (magic != WORKER_MAGIC_1)
		return fail(EXIT_REFUSED, "protocol mismatch: the client did not start with the worker protocol magic");
	/* newer clients send their version with the magic, older ones after
	 * this answer: it goes first either way */
	if (wr_u64(&s->out, WORKER_MAGIC_2) < 0 || wr_u64(&s->out, WSERVE_VERSION) < 0 || wr_flush(&s->out) < 0 ||
	    rd_u64(&s->in, &v) < 0 || wversion(s, v) < 0)
		return -1;
	if (s->minor >= 38 && (worker_features_read(&s->in) < 0 || wr_u64(&s->out, 0) < 0 || wr_flush(&s->out) < 0))
		return -1;
	if (whello_tail(&s->in, s->minor) < 0)
		return -1;
	/* the host daemon's version, which clients only show; the key's trust
	 * as nixgate applies it, whatever the daemon thinks of the host user */
	if ((s->minor >= 33 && wr_cstr(&s->out, version) < 0) ||
	    (s->minor >= 35 && wr_u64(&s->out, s->pol->trusted ? TRUST_YES : TRUST_NO) < 0) ||
	    wr_u64(&s->out, STDERR_LAST) < 0)
		return -1;
	return wr_flush(&s->out);
}

void wserve_error(struct serve *s)
{
	char m[1024];

	if (s->answered)
		return;
	/* the first error stays the one reported (err.h): a client gone by now
	 * changes nothing */
	snprintf(m, sizeof m, "nixgate-serve: key %s: %s", s->key, err_msg());
	if (wr_u64(&s->out, STDERR_ERROR) < 0)
		return;
	if (s->minor >= 26) {
		if (wr_cstr(&s->out, "Error") < 0 || wr_u64(&s->out, LVL_ERROR) < 0 || wr_cstr(&s->out, "Error") < 0 ||
		    wr_cstr(&s->out, m) < 0 || wr_u64(&s->out, 0) < 0 || wr_u64(&s->out, 0) < 0)
			return;
	} else if (wr_cstr(&s->out, m) < 0 || wr_u64(&s->out, 1) < 0)
		return;
	(void)wr_flush(&s->out);
}

/* A line the client shows (STDERR_NEXT), from nixgate, in the middle of a
 * request: a path it skipped, a limit it applied. */
int wserve_next(struct serve *s, const char *text)
{
	char m[1024];

	snprintf(m, sizeof m, "nixgate-serve: key %s: %s\n", s->key, text);
	return wr_u64(&s->out, STDERR_NEXT) < 0 || wr_cstr(&s->out, m) < 0 ? -1 : 0;
}

int wserve_last(struct serve *s)
{
	s->answered = 1;
	return wr_u64(&s->out, STDERR_LAST);
}

/* A request of one store path: read, noted, the key's permission checked. */
static int one_path(struct serve *s, char p[STORE_PATH_MAX + 1], unsigned op)
{
	if (storepath_read(&s->in, p, 0, "path") < 0)
		return -1;
	note(s, p);
	return allowed(s, op);
}

static int unserved(struct serve *s)
{
	return refuse(s, "operation", "nixgate-serve does not serve this operation");
}

static int is_valid(struct serve *s)
{
	char p[STORE_PATH_MAX + 1];
	int v;

	if (one_path(s, p, ALLOW_QUERY) < 0 || (v = daemon_is_valid(s->d, p)) < 0)
		return -1;
	return wserve_last(s) < 0 ? -1 : wr_u64(&s->out, (uint64_t)v);
}

static int referrers(struct serve *s)
{
	char p[STORE_PATH_MAX + 1];

	if (one_path(s, p, ALLOW_QUERY) < 0 || daemon_referrers_begin(s->d, p) < 0 || wserve_last(s) < 0)
		return -1;
	return pathlist_copy(&s->d->r, &s->out, "referrers");
}

/* The daemon's GC keeps the path while the session lasts, as the serve
 * protocol's QueryValidPaths with lock does. */
static int temp_root(struct serve *s)
{
	char p[STORE_PATH_MAX + 1];

	if (one_path(s, p, ALLOW_QUERY) < 0 || daemon_add_temp_root(s->d, p) < 0 || wserve_last(s) < 0)
		return -1;
	return wr_u64(&s->out, 1);
}

/* Only the build limits are kept, for the builds of this session, which
 * cap them by the policy (build_opts_cap); every other setting is ignored,
 * as the daemon ignores them for a client it does not trust. */
static int set_options(struct serve *s)
{
	struct wopts o;

	if (wopts_read(&s->in, &o) < 0)
		return -1;
	s->wopts.max_silent_time = o.max_silent_time;
	s->wopts.build_timeout = o.build_timeout;
	s->wopts.max_log_size = o.max_log_size;
	s->wopts.use_substitutes = o.use_substitutes;
	return wserve_last(s);
}

static int path_info_op(struct serve *s)
{
	static struct pathset refs;
	static struct pathinfo in;
	char p[STORE_PATH_MAX + 1];
	int v;

	if (one_path(s, p, ALLOW_QUERY) < 0 || (v = path_info(s, p, &in, &refs)) < 0)
		return -1;
	if (wserve_last(s) < 0 || wr_u64(&s->out, (uint64_t)v) < 0)
		return -1;
	return v ? pathinfo_write_worker(&s->out, s->minor, &in, &refs) : 0;
}

/* Exactly a hash part: the daemon looks up the first path at or after the
 * prefix, so a shorter one would walk the store's listing. */
static int hash_part(struct serve *s)
{
	char h[HASH_PART_READ_MAX + 1], p[STORE_PATH_MAX + 1];
	size_t len, i;

	if (rd_str(&s->in, h, HASH_PART_READ_MAX, &len, "hash part") < 0)
		return -1;
	for (i = 0; i < len && base32_char_ok((unsigned char)h[i]); i++)
		;
	if (len != STORE_HASH_CHARS || i != len)
		return refuse(s, "hash-part", "a hash part is %d characters of Nix's base32", STORE_HASH_CHARS);
	if (allowed(s, ALLOW_QUERY) < 0 || daemon_path_from_hash_part(s->d, h, p) < 0)
		return -1;
	if (p[0])
		note(s, p);
	return wserve_last(s) < 0 ? -1 : wr_cstr(&s->out, p);
}

static int valid_paths(struct serve *s)
{
	int subst = 0;

	if (pathset_read(&s->ps, &s->in, "paths") < 0)
		return -1;
	note_set(s, &s->ps);
	if ((s->minor >= 27 && rd_bool(&s->in, &subst, "substitute") < 0) || allowed(s, ALLOW_QUERY) < 0)
		return -1;
	/* substituting adds paths to the store: a key that may neither import
	 * nor build only asks */
	subst = subst && s->pol->substitute && (s->pol->allow & (ALLOW_IMPORT | ALLOW_BUILD));
	if (ask_valid(s, &s->ps, subst) < 0 || wserve_last(s) < 0)
		return -1;
	return pathlist_copy(&s->d->r, &s->out, "valid paths");
}

static int nar_from_path(struct serve *s)
{
	char p[STORE_PATH_MAX + 1];

	if (one_path(s, p, ALLOW_EXPORT) < 0 || daemon_nar_begin(s->d, p) < 0 || wserve_last(s) < 0)
		return -1;
	return nar_stream(s, p);
}

static int output_map(struct serve *s)
{
	static struct outmap m;
	char p[STORE_PATH_MAX + 1];
	size_t i;

	if (one_path(s, p, ALLOW_QUERY) < 0 || daemon_output_map(s->d, p, &m) < 0 || wserve_last(s) < 0 ||
	    wr_u64(&s->out, m.n) < 0)
		return -1;
	for (i = 0; i < m.n; i++)
		if (wr_cstr(&s->out, m.out[i].name) < 0 || wr_cstr(&s->out, m.out[i].path) < 0)
			return -1;
	return 0;
}

static int query_missing(struct serve *s)
{
	uint64_t v;
	int i;

	if (wtargets_read(&s->in, &s->ps) < 0)
		return -1;
	note_set(s, &s->ps);
	if (allowed(s, ALLOW_QUERY) < 0 || daemon_missing_begin(s->d, &s->ps) < 0 || wserve_last(s) < 0)
		return -1;
	/* will build, will substitute, unknown; download and NAR sizes */
	for (i = 0; i < 3; i++)
		if (pathlist_copy(&s->d->r, &s->out, "missing paths") < 0)
			return -1;
	for (i = 0; i < 2; i++)
		if (rd_u64(&s->d->r, &v) < 0 || wr_u64(&s->out, v) < 0)
			return -1;
	return 0;
}
