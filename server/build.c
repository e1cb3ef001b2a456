#include <stdio.h>
#include <time.h>
#include <string.h>

#include "err.h"
#include "build.h"
#include "buildresult.h"
#include "ca.h"
#include "daemon.h"
#include "drv.h"
#include "drvstore.h"
#include "missing.h"
#include "serve.h"
#include "serveopts.h"
#include "words.h"

/* BuildResult statuses: the policy refused the inputs; the daemon refused
 * the request outright. */
#define BUILD_INPUT_REJECTED 4
#define BUILD_TIMED_OUT 8
#define BUILD_MISC_FAILURE 9

static uint64_t cap(uint64_t v, uint64_t limit)
{
	return limit && (v == 0 || v > limit) ? limit : v;
}

/* Slots for a build of n derivations (0: none, the client went away): one of the key and one of the host,
 * waited for with one notice on stderr (which the client shows in the
 * build log), then more while both have one free, up to n and the CPU
 * count. The daemon's max-jobs for the connection is the count held, so
 * that a key's max-jobs bounds the builds the daemon runs for it; with
 * neither limit set it is the CPU count, as the daemon's own default. */
static uint64_t slots_hold(struct serve *s, uint64_t n, int *waited)
{
	uint64_t held = 1;
	int noticed = 0;

	for (;;) {
		if (slots_take(s->key_slots)) {
			if (slots_take(s->host_slots))
				break;
			slots_release(s->key_slots);
		}
		if (!noticed++)
			fprintf(stderr, "nixgate-serve: key %s: waiting for a build slot (max-jobs %u, host-max-jobs %u)\n",
				s->key, s->pol->max_jobs, s->pol->host_max_jobs);
		/* the pause watches the client: one that hangs up while its
		 * session waits ends the session, not a build started later for
		 * no one */
		if (fd_hung_up(s->out.fd, 200)) {
			fail(EXIT_REFUSED, "the client went away while waiting for a build slot");
			return 0;
		}
	}
	*waited = noticed > 0;
	if (!s->key_slots->n && !s->host_slots->n)
		return s->max_jobs;
	if (n > s->max_jobs)
		n = s->max_jobs;
	while (held < n && slots_take(s->key_slots)) {
		if (!slots_take(s->host_slots)) {
			slots_drop(s->key_slots);
			break;
		}
		held++;
	}
	return held;
}

/* Every slot the session holds given back. */
static void slots_free(struct serve *s)
{
	slots_release(s->host_slots);
	slots_release(s->key_slots);
}

/* A build nixgate's clock ended: the client hears it as a failed build if
 * it still reads, then the session ends (the daemon connection is shut). */
static int timed_out(struct serve *s, struct build_result *br)
{
	char m[512];

	if (!s->d->build_late)
		return -1;
	snprintf(m, sizeof m, "%s: %s", s->req.op, err_msg());
	s->req.rule = "max-build-time";
	if (br) {
		build_result_set(br, BUILD_TIMED_OUT, m);
		(void)build_result_write(&s->out, serve_result_fields(s->minor), br);
	} else if (wr_u64(&s->out, 1) == 0)
		(void)wr_cstr(&s->out, m);
	(void)wr_flush(&s->out);
	err_clear();
	return fail(EXIT_REFUSED, "%s", m);
}

/* Build options of the serve protocol, by client version. */
static int read_build_opts(struct serve *s, struct build_opts *o)
{
	struct serve_opts so;

	memset(o, 0, sizeof *o);
	if (serve_opts_read(&s->in, s->minor, &so) < 0)
		return -1;
	/* keep-failed would leave the build directory on the host: ignored;
	 * substitution is the host's to decide, as nix-store --serve's */
	o->max_silent_time = so.max_silent_time;
	o->build_timeout = so.build_timeout;
	o->max_log_size = so.max_log_size;
	o->use_substitutes = 1;
	build_opts_cap(s, o);
	return 0;
}

void build_opts_cap(struct serve *s, struct build_opts *o)
{
	o->max_silent_time = cap(o->max_silent_time, s->pol->max_silent_time);
	o->build_timeout = cap(o->build_timeout, s->pol->max_build_time);
	o->max_log_size = cap(o->max_log_size, s->pol->max_log_size);
	o->use_substitutes = o->use_substitutes && s->pol->substitute;
	o->max_jobs = s->max_jobs;
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

/* A build that does not happen, answered as a failed build: r -1 is a
 * refusal (soft() makes the line; another failure ends the session), -2
 * the daemon's error. */
static int build_failed(struct serve *s, int r)
{
	char msg[1024];

	if (r == -1 && soft(s, msg, sizeof msg) < 0)
		return -1;
	return wr_u64(&s->out, 1) < 0 || wr_cstr(&s->out, r == -1 ? msg : s->d->errmsg) < 0 ? -1 : 0;
}

/* The sandbox a build keeps, for a key that is not trusted: no attribute
 * that takes the build out of it (drv_env lists them), and not
 * recursive-nix, which hands the builder a store it can add paths to. */
static int sandbox_ok(struct serve *s, const struct drvinfo *f)
{
	if (s->pol->trusted)
		return 0;
	if (f->weak)
		return refuse(s, "sandbox", "it uses %s, which weakens the build sandbox; only a trusted key may", f->weak);
	if (words_has(f->features, "recursive-nix", 13, 0))
		return refuse(s, "sandbox", "it requires the feature recursive-nix, which gives the builder "
			      "a store to add to; only a trusted key may");
	return 0;
}

/* Whether the key's rules read the derivations a build makes. */
static int reads_drvs(const struct serve *s)
{
	return !s->pol->trusted || !s->pol->any_system || !s->pol->any_feature;
}

/* Whether a build asks the daemon for its plan: to read what it builds,
 * or to count the slots it needs. */
static int plan_asks(const struct serve *s)
{
	return reads_drvs(s) || s->key_slots->n || s->host_slots->n;
}

/* What a BuildPaths becomes before the daemon sees it: the targets (each
 * named .drv valid, a bare one with all its outputs named), the .drvs
 * named (with their output names, in step), those read so far, and the
 * daemon's plan. Kept across requests for their memory. */
static struct pathset targets, named, outnames, checked;
static struct missing plan;

static void plan_reset(void)
{
	static int ready;

	if (!ready++) {
		pathset_init(&targets);
		pathset_init(&named);
		pathset_init(&outnames);
		pathset_init(&checked);
		missing_init(&plan);
	}
	pathset_clear(&targets);
	pathset_clear(&named);
	pathset_clear(&outnames);
	pathset_clear(&checked);
}

/* drv, named in the request: known valid on the host (the daemon's error
 * when it is not) and its output names; each .drv asked about once. 0,
 * -1 (a refusal or failure), -2 (the daemon's error in d->errmsg). Sets
 * *names (NULL when the daemon cannot say). */
static int named_drv(struct serve *s, const char *drv, const char **names)
{
	static char buf[4097];
	static struct pathset refs;
	struct pathinfo in;
	long at = pathset_find(&named, drv, strlen(drv));
	int r;

	if (at == -2)
		return -1;
	if (at >= 0) {
		*names = pathset_get(&outnames, (size_t)at);
		*names = **names ? *names : NULL;
		return 0;
	}
	snprintf(s->req.first, sizeof s->req.first, "%s", drv);
	if ((r = missing_outputs(s->d, drv, buf, sizeof buf)) < 0) {
		if (r == -1 && err_kind() == EXIT_REFUSED)
			return refuse(s, "derivation", "%s", reason());
		return r;
	}
	if (r == 1) {
		/* before 1.22: validity alone; such a daemon reads a bare .drv
		 * as all its outputs */
		if ((r = path_info(s, drv, &in, &refs)) < 0)
			return -1;
		if (r == 0)
			return refuse(s, "derivation", "%s is not valid on the host", drv);
		buf[0] = 0;
	}
	if (pathset_add(&named, drv, strlen(drv)) < 0 || pathset_add(&outnames, buf, strlen(buf)) < 0)
		return -1;
	*names = buf[0] ? buf : NULL;
	return 0;
}

/* drv read from the host store, once per request, and held to the key's
 * rules. */
static int drv_ok(struct serve *s, const char *drv)
{
	static struct drvinfo f;
	int r = pathset_insert(&checked, drv, strlen(drv));

	if (r <= 0)
		return r;
	snprintf(s->req.first, sizeof s->req.first, "%s", drv);
	if ((r = drv_from_store(s, drv, &f)) != 0)
		return r;
	return platform_ok(s, &f) < 0 || sandbox_ok(s, &f) < 0 ? -1 : 0;
}

/* The request's targets as the daemon is to get them, and the key's rules
 * over every derivation it would build for them (QueryMissing says which):
 * 0 fine, -1 refused or failed, -2 the daemon refused (d->errmsg). *n gets
 * the count of derivations to build. The build's options o are set on the
 * connection first when the daemon is asked. */
static int plan_check(struct serve *s, struct build_opts *o, int bare_builds, uint64_t *n)
{
	char drv[STORE_PATH_MAX + 1], t[PATH_OUTPUTS_MAX + 1];
	const char *p, *names;
	size_t i;
	int r;

	plan_reset();
	*n = 1;
	for (i = 0; i < s->ps.n; i++) {
		const char *bang;
		size_t len;

		p = pathset_get(&s->ps, i);
		bang = strchr(p, '!');
		len = bang ? (size_t)(bang - p) : strlen(p);
		memcpy(drv, p, len);
		drv[len] = 0;
		if (storepath_is_drv(drv) && (!bang || reads_drvs(s))) {
			if ((r = named_drv(s, drv, &names)) < 0)
				return r;
			/* from 1.30 the daemon reads a bare path as one to make
			 * valid, not build: all its outputs are named instead
			 * where the client meant a build */
			if (!bang && names && bare_builds && s->d->minor >= 30) {
				snprintf(t, sizeof t, "%s!%s", drv, names);
				p = t;
			}
		}
		if (pathset_insert(&targets, p, strlen(p)) < 0)
			return -1;
	}
	if (!plan_asks(s))
		return 0;
	/* the daemon plans with the connection's options, substitution
	 * included: they are the build's (max-jobs aside) from here on */
	o->max_jobs = 1;
	if (worker_set_options(s->d, o) < 0)
		return -1;
	if ((r = missing_query(s->d, &targets, &plan)) < 0)
		return r;
	*n = plan.build.n ? plan.build.n : 1;
	if (!reads_drvs(s))
		return 0;
	/* A path the host neither has nor can substitute fails an honest
	 * build anyway; a derivation whose outputs the daemon meant to
	 * substitute but cannot (a closure the cache lacks part of) it
	 * builds with its inputs, which QueryMissing did not list. */
	if (plan.unknown.n) {
		p = pathset_get(&plan.unknown, 0);
		snprintf(s->req.first, sizeof s->req.first, "%s", p);
		return refuse(s, "derivation", "%s is neither valid on the host nor substitutable, so nixgate cannot "
			      "know what the daemon would build for it", p);
	}
	for (i = 0; i < named.n; i++)
		if ((r = drv_ok(s, pathset_get(&named, i))) < 0)
			return r;
	for (i = 0; i < plan.build.n; i++)
		if ((r = drv_ok(s, pathset_get(&plan.build, i))) < 0)
			return r;
	return 0;
}

/* The same, the audit line's first path kept: a refusal names the .drv
 * refused, a plan that passes the request's first path as it came. */
static int build_plan(struct serve *s, struct build_opts *o, int bare_builds, uint64_t *n)
{
	char first[sizeof s->req.first];
	int r;

	memcpy(first, s->req.first, sizeof first);
	if ((r = plan_check(s, o, bare_builds, n)) == 0)
		memcpy(s->req.first, first, sizeof first);
	return r;
}

/* The plan counts an output as substituted when the host's cache has a
 * narinfo for it; should the substitute then fail or be rejected (not
 * signed by a key the host trusts: "no substituters"), Nix builds its
 * derivation, and that one's inputs, which the plan did not list and the
 * key's rules did not read. So for a key whose builds nixgate reads, the
 * substitutes are fetched first, on their own (a store path alone is only
 * substituted, never built), and a failure fails the build: 0 go on, -1
 * refused or failed. */
static int substitutes_first(struct serve *s)
{
	struct worker *d = s->d;
	int r;

	if (!reads_drvs(s) || !plan.subst.n)
		return 0;
	if ((r = daemon_build_paths(d, &plan.subst, 0)) == -2)
		return refuse(s, "substitute", "a substitute it counts on failed, and the daemon would build in its place "
			      "what this key's rules have not read: %.600s", d->errmsg);
	return r;
}

/* The plan asked for again once the build holds its slots, when it waited
 * for them or for its substitutes: a garbage collection in that time can
 * remove outputs the first plan found valid, whose derivations the daemon
 * would then build, unread. From the BuildPaths on, the daemon's goals
 * hold temporary roots on what they find valid, so what is left is the
 * moment between this plan and that request. 0, -1 refused or failed, -2
 * the daemon refused (d->errmsg). */
static int plan_again(struct serve *s)
{
	const char *p;
	size_t i;
	int r;

	if ((r = missing_query(s->d, &targets, &plan)) < 0)
		return r;
	if (plan.unknown.n || plan.subst.n) {
		p = pathset_get(plan.unknown.n ? &plan.unknown : &plan.subst, 0);
		snprintf(s->req.first, sizeof s->req.first, "%s", p);
		return refuse(s, "derivation", "%s changed on the host while the build waited, so nixgate cannot know "
			      "what the daemon would build for it", p);
	}
	for (i = 0; i < plan.build.n; i++)
		if ((r = drv_ok(s, pathset_get(&plan.build, i))) < 0)
			return r;
	return 0;
}

static int daemon_paths(struct serve *s, const struct pathset *t, uint64_t timeout_s)
{
	return daemon_build_paths(s->d, t, timeout_s);
}

int build_run(struct serve *s, struct build_opts *o, int bare_builds, build_go go)
{
	struct worker *d = s->d;
	uint64_t jobs;
	int r, waited;

	if ((r = build_plan(s, o, bare_builds, &jobs)) < 0 || (r = substitutes_first(s)) < 0)
		return r;
	/* the options are on the connection already when the plan was asked
	 * for, with max-jobs 1 */
	if (!(jobs = slots_hold(s, jobs, &waited)))
		return -1;
	if (reads_drvs(s) && (waited || plan.subst.n) && (r = plan_again(s)) < 0) {
		slots_free(s);
		return r;
	}
	if (!plan_asks(s) || jobs != 1) {
		o->max_jobs = jobs;
		if (worker_set_options(d, o) < 0) {
			slots_free(s);
			return -1;
		}
	}
	/* the slots are held while the daemon works on the build */
	r = go(s, &targets, o->build_timeout);
	slots_free(s);
	return r;
}

/* BuildPaths: the key's permission is checked once the first path is
 * read, before the rest of the request. */
int build_paths(struct serve *s)
{
	char p[PATH_OUTPUTS_MAX + 1];
	struct build_opts o;
	uint64_t n, i;
	size_t len;
	int r;

	if (rd_count(&s->in, &n, PATHSET_MAX_PATHS, "build paths") < 0)
		return -1;
	pathset_clear(&s->ps);
	for (i = 0; i < n; i++) {
		if (rd_str(&s->in, p, PATH_OUTPUTS_MAX, &len, "build path") < 0 ||
		    path_outputs_check(p, len, EXIT_REFUSED) < 0 || pathset_add(&s->ps, p, len) < 0)
			return -1;
		note(s, p);
		if (i == 0 && (need_write(s) < 0 || allowed(s, ALLOW_BUILD) < 0))
			return -1;
	}
	if ((n == 0 && (need_write(s) < 0 || allowed(s, ALLOW_BUILD) < 0)) || read_build_opts(s, &o) < 0)
		return -1;
	r = build_run(s, &o, 1, daemon_paths);
	if (r == -1 && s->d->build_late)
		return timed_out(s, NULL);
	if (r < 0)
		return build_failed(s, r);
	return wr_u64(&s->out, 0);
}

/* An inline derivation's input sources, for an untrusted key: all valid on
 * the host, so that the daemon builds with what is there and fetches
 * nothing in their place. They follow the outputs in drvwire's encoding. */
static int inputs_ok(struct serve *s, const struct drvwire *drv)
{
	static struct pathset in, valid;
	char skip[PATH_OUTPUTS_MAX + 1];
	uint64_t n, i;
	struct rd r;
	size_t k;

	if (s->pol->trusted)
		return 0;
	rd_init_mem(&r, drv->buf, drv->len, EXIT_SYSTEM, "derivation");
	if (rd_count(&r, &n, DRV_OUTPUTS_MAX, "outputs") < 0)
		return -1;
	for (i = 0; i < 4 * n; i++)
		if (rd_str(&r, skip, PATH_OUTPUTS_MAX, NULL, "output field") < 0)
			return -1;
	if (pathset_read(&in, &r, "input sources") < 0 || daemon_valid(s->d, &in, 0, &valid) < 0)
		return -1;
	for (k = 0; k < in.n; k++) {
		const char *p = pathset_get(&in, k);

		if (pathset_find(&valid, p, strlen(p)) == -1)
			return refuse(s, "build", "its input %s is not valid on the host", p);
	}
	return 0;
}

int build_inline(struct serve *s, const char *path, const struct drvwire *drv, struct build_opts *o,
		 struct build_result *br)
{
	struct worker *d = s->d;
	int r;

	if (platform_ok(s, &drv->info) < 0 || sandbox_ok(s, &drv->info) < 0 || outputs_ok(s, path, &drv->info) < 0 ||
	    inputs_ok(s, drv) < 0)
		return -1;
	if (!(o->max_jobs = slots_hold(s, 1, &r)))
		return -1;
	if (worker_set_options(d, o) < 0) {
		slots_free(s);
		return -1;
	}
	r = daemon_build_derivation(d, path, drv, o->build_timeout, br);
	slots_free(s);
	if (r == -2)
		build_result_set(br, BUILD_MISC_FAILURE, d->errmsg);
	return r == -2 ? 0 : r;
}

/* BuildDerivation: the key's permission is checked once the .drv path is
 * read, before the derivation (up to DRV_WIRE_MAX) is. */
int build_derivation(struct serve *s)
{
	static struct drvwire drv;
	static struct build_result br;
	char path[STORE_PATH_MAX + 1], text[1024];
	struct build_opts o;

	if (storepath_read(&s->in, path, 0, "derivation path") < 0)
		return -1;
	if (!storepath_is_drv(path))
		return fail(EXIT_REFUSED, "BuildDerivation: '%s' is not a .drv path", path);
	note(s, path);
	if (need_write(s) < 0 || allowed(s, ALLOW_BUILD) < 0 || drvwire_read(&drv, &s->in) < 0 ||
	    read_build_opts(s, &o) < 0)
		return -1;
	if (build_inline(s, path, &drv, &o, &br) < 0) {
		if (s->d->build_late)
			return timed_out(s, &br);
		/* a refusal is answered as a build whose inputs were rejected */
		if (soft(s, text, sizeof text) < 0)
			return -1;
		build_result_set(&br, BUILD_INPUT_REJECTED, text);
	}
	/* built outputs: DrvOutput id -> Realisation JSON, passed through */
	return build_result_write(&s->out, serve_result_fields(s->minor), &br);
}
