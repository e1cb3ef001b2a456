#include <stdio.h>
#include <time.h>
#include <string.h>

#include "err.h"
#include "build.h"
#include "buildresult.h"
#include "ca.h"
#include "drv.h"
#include "drvstore.h"
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
 * holding a slot while the daemon works on it, each build bounded by
 * nixgate's clock. */
static int build_wait(struct serve *s, const struct build_opts *o)
{
	int r;

	slot_wait(s);
	r = worker_build_wait(s->d, o->build_timeout);
	slots_release(s->host_slots);
	slots_release(s->key_slots);
	return r;
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

int build_paths(struct serve *s)
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
	r = build_wait(s, &o);
	if (r == -1)
		return timed_out(s, NULL);
	if (r == -2)
		return wr_u64(&s->out, 1) < 0 || wr_cstr(&s->out, d->errmsg) < 0 ? -1 : 0;
	if (expect_one(s, "BuildPaths") < 0)
		return -1;
	return wr_u64(&s->out, 0);
}

int build_derivation(struct serve *s)
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
		r = build_wait(s, &o);
		if (r == -1)
			return timed_out(s, &br);
		if (r == -2)
			build_result_set(&br, BUILD_MISC_FAILURE, d->errmsg);
		else if (build_result_read(&d->r, worker_result_fields(d->minor, 0), &br) < 0)
			return -1;
	}
	/* built outputs: DrvOutput id -> Realisation JSON, passed through */
	return build_result_write(&s->out, serve_result_fields(s->minor), &br);
}

/* Outputs of a derivation that are valid, into set. */
