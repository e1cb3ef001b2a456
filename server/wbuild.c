/* wbuild: the worker protocol's builds on the monitor's side, each after
 * the same rules as the serve protocol's (build.c does the building). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "daemon.h"
#include "drv.h"
#include "err.h"
#include "pathinfo.h"
#include "realisation.h"
#include "sig.h"
#include "wbuild.h"
#include "wparse.h"
#include "wserve.h"

/* BuildResult's status for a path that was valid already. */
#define BUILD_ALREADY_VALID 2

/* The session's build options: SetOptions' limits (none from a client
 * that never sent it), capped by the policy. */
static void build_opts(struct serve *s, struct build_opts *o)
{
	*o = s->wopts;
	build_opts_cap(s, o);
}

/* Log bytes the client did not take in time, for the note when it does. */
static uint64_t log_dropped;

/* A daemon log line to the client as STDERR_NEXT, cut at WORKER_TEXT_KEEP
 * as worker.c reads it. As worker.c does with stderr, what the client does
 * not take at once is never waited for: the rest of a line it took in part
 * stays buffered and goes first, and while any does, new lines are dropped
 * and counted. The daemon is never held up by the log, so its own timeouts
 * and nixgate's build clock keep running; the stream stays in step, a line
 * being a whole message or none. */
static void log_line(void *ctx, const char *text, size_t n)
{
	struct serve *s = ctx;
	char m[WORKER_TEXT_KEEP + 1];

	if (s->out.len && wr_flush_now(&s->out) != 1) {
		log_dropped += n;
		return;
	}
	if (log_dropped) {
		snprintf(m, sizeof m, "%llu bytes of log dropped while the client did not read them",
			 (unsigned long long)log_dropped);
		log_dropped = 0;
		(void)wserve_next(s, m);
	}
	if (n >= sizeof m - 1)
		n = sizeof m - 2;
	memcpy(m, text, n);
	if (n == 0 || m[n - 1] != '\n')
		m[n++] = '\n';
	m[n] = 0;
	if (wr_u64(&s->out, STDERR_NEXT) == 0 && wr_cstr(&s->out, m) == 0)
		(void)wr_flush_now(&s->out);
}

static void logs_to_client(struct serve *s, int on)
{
	s->d->logfn = on ? log_line : NULL;
	s->d->logctx = on ? s : NULL;
}

/* A target asks for a build (drv!outputs, or a bare .drv from a client
 * before 1.30, which meant all its outputs); any other only asks that the
 * path be valid. */
static int is_build(const struct serve *s, const char *t)
{
	return strchr(t, '!') || (s->minor < 30 && storepath_is_drv(t));
}

/* Targets that are store paths alone: valid ones are answered without the
 * daemon building anything (the stock client's path-info and copy --from
 * send such requests); one that is not valid fails the request, as the
 * daemon's would, and the session goes on. */
static int paths_valid(struct serve *s)
{
	static struct pathset valid;
	size_t i;

	if (allowed(s, ALLOW_QUERY) < 0 || daemon_valid(s->d, &s->ps, 0, &valid) < 0)
		return -1;
	for (i = 0; i < s->ps.n; i++) {
		const char *p = pathset_get(&s->ps, i);
		long k = pathset_find(&valid, p, strlen(p));

		if (k == -2)
			return fail(EXIT_SYSTEM, "out of memory for a path list");
		if (k == -1) {
			s->soft = 1;
			return fail(EXIT_REFUSED, "path '%s' is not valid on the host", p);
		}
	}
	return 0;
}

/* The request's targets and mode read; 1 when a target asks for a build,
 * which then has the key's permission, 0 when all only ask for
 * validity. */
static int targets(struct serve *s, uint64_t *mode)
{
	size_t i, builds = 0;

	if (wtargets_read(&s->in, &s->ps) < 0 || wmode_read(&s->in, s->minor, mode) < 0)
		return -1;
	note_set(s, &s->ps);
	for (i = 0; i < s->ps.n; i++)
		builds += is_build(s, pathset_get(&s->ps, i));
	if (*mode > 2)
		return refuse(s, "build-mode", "build mode %llu is none of Nix's (0 normal, 1 repair, 2 check)",
			      (unsigned long long)*mode);
	if (*mode != 0 && !s->pol->trusted)
		return refuse(s, "build-mode", "only the normal build mode is served to this key, not %s; "
			      "repair and check need a trusted key", *mode == 1 ? "repair" : "check");
	if (!builds)
		return 0;
	if (need_write(s) < 0 || allowed(s, ALLOW_BUILD) < 0)
		return -1;
	if (s->ps.n > WBUILD_TARGETS_MAX)
		return refuse(s, "targets", "%zu targets in one build, more than the limit of %d", s->ps.n,
			      WBUILD_TARGETS_MAX);
	return 1;
}

static uint64_t the_mode;

static int go_paths(struct serve *s, const struct pathset *t, uint64_t timeout_s)
{
	return daemon_build_mode(s->d, WOP_BUILD_PATHS, t, the_mode, timeout_s);
}

static int go_results(struct serve *s, const struct pathset *t, uint64_t timeout_s)
{
	return daemon_build_mode(s->d, WOP_BUILD_PATHS_WITH_RESULTS, t, the_mode, timeout_s);
}

/* build_run with the daemon's logs on the client's stream; its outcome as
 * the worker protocol has it: a refusal ends the session (serve_one
 * writes the error), the daemon's failure fails the request only. */
static int run(struct serve *s, build_go go)
{
	struct build_opts o;
	int r;

	build_opts(s, &o);
	logs_to_client(s, 1);
	r = build_run(s, &o, s->minor < 30, go);
	logs_to_client(s, 0);
	if (r == -2)
		return fail(EXIT_REFUSED, "%s", s->d->errmsg);
	return r;
}

int wbuild_paths(struct serve *s)
{
	uint64_t mode;
	int r;

	if ((r = targets(s, &mode)) < 0)
		return -1;
	the_mode = mode;
	if ((r ? run(s, go_paths) : paths_valid(s)) < 0 || wserve_last(s) < 0)
		return -1;
	return wr_u64(&s->out, 1);
}

/* The daemon's results, in the client's layout; the daemon keys them by
 * the targets it got, which are the client's (bare_builds aside, which
 * only clients before 1.30 mean, and this operation is 1.34's). */
static int results_copy(struct serve *s)
{
	static struct build_result br;
	char t[PATH_OUTPUTS_MAX + 1];
	unsigned from = worker_result_fields(s->d->minor, 0), to = worker_result_fields(s->minor, 0);
	uint64_t n, i;
	size_t len;

	if (rd_count(&s->d->r, &n, WBUILD_TARGETS_MAX, "build results") < 0 || wr_u64(&s->out, n) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (rd_str(&s->d->r, t, PATH_OUTPUTS_MAX, &len, "build result target") < 0 ||
		    build_result_read(&s->d->r, from, &br) < 0 || wr_str(&s->out, t, len) < 0 ||
		    build_result_write(&s->out, to, &br) < 0)
			return -1;
	return 0;
}

int wbuild_results(struct serve *s)
{
	static struct build_result br;
	unsigned fields = worker_result_fields(s->minor, 0);
	uint64_t mode;
	size_t i;
	int r;

	if ((r = targets(s, &mode)) < 0)
		return -1;
	the_mode = mode;
	if (r) {
		if (run(s, go_results) < 0 || wserve_last(s) < 0)
			return -1;
		return results_copy(s);
	}
	if (paths_valid(s) < 0 || wserve_last(s) < 0 || wr_u64(&s->out, s->ps.n) < 0)
		return -1;
	build_result_set(&br, BUILD_ALREADY_VALID, "");
	for (i = 0; i < s->ps.n; i++)
		if (wr_cstr(&s->out, pathset_get(&s->ps, i)) < 0 || build_result_write(&s->out, fields, &br) < 0)
			return -1;
	return 0;
}

/* A path that is not valid is substituted when the key's policy lets the
 * host substitute and the key may add paths at all; a store path alone is
 * only ever substituted, never built. */
int wbuild_ensure(struct serve *s)
{
	char p[STORE_PATH_MAX + 1];
	int v;

	if (storepath_read(&s->in, p, 0, "path") < 0)
		return -1;
	note(s, p);
	pathset_clear(&s->ps);
	if (pathset_add(&s->ps, p, strlen(p)) < 0 || allowed(s, ALLOW_QUERY) < 0 || (v = daemon_is_valid(s->d, p)) < 0)
		return -1;
	if (!v && s->pol->substitute && (s->pol->allow & (ALLOW_IMPORT | ALLOW_BUILD))) {
		logs_to_client(s, 1);
		v = daemon_build_paths(s->d, &s->ps, 0);
		logs_to_client(s, 0);
		if (v == -1 || (v = daemon_is_valid(s->d, p)) < 0)
			return -1;
	}
	if (!v) {
		s->soft = 1;
		return fail(EXIT_REFUSED, "path '%s' is not valid on the host", p);
	}
	return wserve_last(s) < 0 ? -1 : wr_u64(&s->out, 1);
}

int wbuild_derivation(struct serve *s)
{
	static struct drvwire drv;
	static struct build_result br;
	char path[STORE_PATH_MAX + 1];
	struct build_opts o;
	uint64_t mode;
	int r;

	if (storepath_read(&s->in, path, 0, "derivation path") < 0)
		return -1;
	note(s, path);
	if (!storepath_is_drv(path))
		return refuse(s, "build", "'%s' is not a .drv path", path);
	if (need_write(s) < 0 || allowed(s, ALLOW_BUILD) < 0 || drvwire_read(&drv, &s->in) < 0 ||
	    wmode_read(&s->in, s->minor, &mode) < 0)
		return -1;
	if (mode != 0)
		return refuse(s, "build-mode", "BuildDerivation is served in the normal build mode only, not %s",
			      mode == 1 ? "repair" : mode == 2 ? "check" : "an unknown one");
	build_opts(s, &o);
	logs_to_client(s, 1);
	r = build_inline(s, path, &drv, &o, &br);
	logs_to_client(s, 0);
	if (r < 0 || wserve_last(s) < 0)
		return -1;
	return build_result_write(&s->out, worker_result_fields(s->minor, 0), &br);
}

/* Signatures for a key that is not trusted: each one by a key of its
 * trusted-public-keys, over the path's fingerprint as the host has it. */
static int sigs_verified(struct serve *s, const char *p, const char sigs[][SIG_MAX + 1], size_t n)
{
	static struct pathset refs;
	static struct pathinfo in;
	char *fp;
	size_t i, len;
	int v;

	if ((v = path_info(s, p, &in, &refs)) < 0)
		return -1;
	if (!v)
		return refuse(s, "signatures", "the path is not valid on the host");
	if (!(fp = fingerprint(p, in.hash, in.nar_size, &refs, &len)))
		return -1;
	for (i = 0; i < n; i++)
		if (sig_check(s->pol->keys, s->pol->nkeys, fp, len, sigs[i]) != SIG_VALID) {
			free(fp);
			return refuse(s, "signatures", "signature %.80s is not a valid one by a key of this key's "
				      "trusted-public-keys", sigs[i]);
		}
	free(fp);
	return 0;
}

int wbuild_add_signatures(struct serve *s)
{
	static char sigs[SIGS_MAX][SIG_MAX + 1];
	static unsigned char wire[SIGS_WIRE_MAX];
	char p[STORE_PATH_MAX + 1];
	uint64_t n, i;
	size_t len;
	struct wr w;

	if (storepath_read(&s->in, p, 0, "path") < 0)
		return -1;
	note(s, p);
	if (rd_count(&s->in, &n, SIGS_MAX, "signatures") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (rd_str(&s->in, sigs[i], SIG_MAX, &len, "signature") < 0)
			return -1;
	if (need_write(s) < 0 || allowed(s, ALLOW_IMPORT) < 0)
		return -1;
	if (!s->pol->trusted && sigs_verified(s, p, (const char (*)[SIG_MAX + 1])sigs, (size_t)n) < 0)
		return -1;
	wr_init_mem(&w, wire, sizeof wire);
	if (wr_u64(&w, n) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (wr_cstr(&w, sigs[i]) < 0)
			return -1;
	if (daemon_add_signatures(s->d, p, wire, w.len) < 0 || wserve_last(s) < 0)
		return -1;
	return wr_u64(&s->out, 1);
}

/* A DrvOutput id as Nix prints it: sha256:<64 hex digits>!<output name>. */
int wrealisation_id_read(struct rd *r, char *id)
{
	size_t len;

	if (rd_str(r, id, DRV_OUTPUT_ID_MAX, &len, "DrvOutput id") < 0)
		return -1;
	if (drv_output_id_fault(id, len))
		return fail(EXIT_REFUSED, "'%.100s' is not a DrvOutput id (sha256:<hash>!<output>)", id);
	return 0;
}

/* The client's layout: a set of out paths before 1.31, of Realisation JSON
 * from then on; a daemon before 1.31 gives only the path, which the JSON
 * then carries alone, as Nix writes it (the path's base name). */
int wbuild_realisation(struct serve *s)
{
	static char json[REALISATION_MAX + 1];
	char id[DRV_OUTPUT_ID_MAX + 1], out[STORE_PATH_MAX + 1];
	size_t len;
	int v;

	if (wrealisation_id_read(&s->in, id) < 0)
		return -1;
	if (allowed(s, ALLOW_QUERY) < 0 || (v = daemon_realisation(s->d, id, out, json, &len)) < 0 || wserve_last(s) < 0 ||
	    wr_u64(&s->out, (uint64_t)v) < 0)
		return -1;
	if (!v)
		return 0;
	note(s, out);
	if (s->minor < 31)
		return wr_cstr(&s->out, out);
	if (!len)
		len = (size_t)snprintf(json, sizeof json, "{\"dependentRealisations\":{},\"id\":\"%s\",\"outPath\":\"%s\","
				       "\"signatures\":[]}", id, out + sizeof STORE_DIR);
	return wr_str(&s->out, json, len);
}
