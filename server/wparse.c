/* wparse: the worker protocol's requests as the parser reads them; each
 * read is forwarded by the tee on s->in. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "wbuild.h"
#include "wparse.h"
#include "drv.h"
#include "pathinfo.h"
#include "realisation.h"

int wversion(struct serve *s, uint64_t v)
{
	if ((v & 0xff00) != 0x100 || (v & 0xff) < WSERVE_MIN_MINOR || v > 0xffff)
		return fail(EXIT_REFUSED, "unsupported worker protocol version %llu.%llu (1.%d or newer expected)",
			    (unsigned long long)(v >> 8), (unsigned long long)(v & 0xff), WSERVE_MIN_MINOR);
	s->minor = (unsigned)(v & 0xff);
	if (s->minor > (WSERVE_VERSION & 0xff))
		s->minor = WSERVE_VERSION & 0xff;
	return 0;
}

int whello_tail(struct rd *r, unsigned minor)
{
	uint64_t affinity, cpu, reserve;

	/* a CPU number follows a set affinity flag (1.14) */
	if (minor >= 14 && (rd_u64(r, &affinity) < 0 || (affinity && rd_u64(r, &cpu) < 0)))
		return -1;
	return minor >= 11 ? rd_u64(r, &reserve) : 0;
}

/* A setting's value as a number; anything else leaves v as it was, as
 * the daemon ignores a setting it cannot parse. */
static void number(const char *text, uint64_t len, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (len == 0 || len >= 21 || text[0] < '0' || text[0] > '9')
		return;
	x = strtoull(text, &end, 10);
	if (*end == 0)
		*v = x;
}

int wopts_read(struct rd *r, struct wopts *o)
{
	/* keepFailed, keepGoing, tryFallback, verbosity, maxBuildJobs,
	 * maxSilentTime, useBuildHook, verboseBuild, logType,
	 * printBuildTrace, buildCores, useSubstitutes */
	uint64_t f[12], n, i, len;
	char name[WOPT_NAME_MAX + 1], value[24];
	size_t nlen;

	memset(o, 0, sizeof *o);
	for (i = 0; i < 12; i++)
		if (rd_u64(r, &f[i]) < 0)
			return -1;
	o->max_jobs = f[4];
	o->max_silent_time = f[5];
	o->use_substitutes = f[11] != 0;
	if (rd_count(r, &n, WOPT_OVERRIDES_MAX, "settings") < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (rd_str(r, name, WOPT_NAME_MAX, &nlen, "setting name") < 0 ||
		    rd_str_trunc(r, value, sizeof value, WOPT_VALUE_MAX, &len, "setting value") < 0)
			return -1;
		if (!strcmp(name, "max-silent-time"))
			number(value, len, &o->max_silent_time);
		else if (!strcmp(name, "timeout") || !strcmp(name, "build-timeout"))
			number(value, len, &o->build_timeout);
		else if (!strcmp(name, "max-build-log-size"))
			number(value, len, &o->max_log_size);
	}
	return 0;
}

int wparse_handshake(struct serve *s)
{
	uint64_t magic, v;

	if (rd_u64(&s->in, &magic) < 0)
		return -1;
	if (magic != WORKER_MAGIC_1)
		return fail(EXIT_REFUSED, "protocol mismatch: the client did not start with the worker protocol magic");
	/* the monitor answers with its version as soon as the magic reaches it */
	if (rd_u64(&s->in, &v) < 0 || wversion(s, v) < 0)
		return -1;
	if (s->minor >= 38 && worker_features_read(&s->in) < 0)
		return -1;
	return whello_tail(&s->in, s->minor);
}

int wparse_path(struct serve *s)
{
	char p[STORE_PATH_MAX + 1];

	if (storepath_read(&s->in, p, 0, "path") < 0)
		return -1;
	note(s, p);
	return 0;
}

int wparse_valid_paths(struct serve *s)
{
	int subst;

	if (pathset_read(&s->ps, &s->in, "paths") < 0)
		return -1;
	note_set(s, &s->ps);
	return s->minor >= 27 ? rd_bool(&s->in, &subst, "substitute") : 0;
}

int wparse_hash_part(struct serve *s)
{
	char h[HASH_PART_READ_MAX + 1];
	size_t len;

	return rd_str(&s->in, h, HASH_PART_READ_MAX, &len, "hash part");
}

int wparse_set_options(struct serve *s)
{
	struct wopts o;

	return wopts_read(&s->in, &o);
}

int wtargets_read(struct rd *r, struct pathset *ps)
{
	char t[PATH_OUTPUTS_MAX + 1];
	uint64_t n, i;
	size_t len;

	pathset_clear(ps);
	if (rd_count(r, &n, PATHSET_MAX_PATHS, "targets") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (rd_str(r, t, PATH_OUTPUTS_MAX, &len, "target") < 0 || path_outputs_check(t, len, EXIT_REFUSED) < 0 ||
		    pathset_add(ps, t, len) < 0)
			return -1;
	return 0;
}

int wmode_read(struct rd *r, unsigned minor, uint64_t *mode)
{
	*mode = 0;
	return minor >= 15 ? rd_u64(r, mode) : 0;
}

int wparse_targets(struct serve *s)
{
	if (wtargets_read(&s->in, &s->ps) < 0)
		return -1;
	note_set(s, &s->ps);
	return 0;
}

int wparse_build(struct serve *s)
{
	uint64_t mode;

	return wparse_targets(s) < 0 ? -1 : wmode_read(&s->in, s->minor, &mode);
}

int wparse_build_derivation(struct serve *s)
{
	static struct drvwire drv;
	char p[STORE_PATH_MAX + 1];
	uint64_t mode;

	if (storepath_read(&s->in, p, 0, "derivation path") < 0)
		return -1;
	note(s, p);
	return drvwire_read(&drv, &s->in) < 0 ? -1 : wmode_read(&s->in, s->minor, &mode);
}

int wparse_add_signatures(struct serve *s)
{
	char p[STORE_PATH_MAX + 1], sig[SIG_MAX + 1];
	uint64_t n, i;
	size_t len;

	if (storepath_read(&s->in, p, 0, "path") < 0 || rd_count(&s->in, &n, SIGS_MAX, "signatures") < 0)
		return -1;
	note(s, p);
	for (i = 0; i < n; i++)
		if (rd_str(&s->in, sig, SIG_MAX, &len, "signature") < 0)
			return -1;
	return 0;
}

int wparse_realisation(struct serve *s)
{
	char id[DRV_OUTPUT_ID_MAX + 1];

	return wrealisation_id_read(&s->in, id);
}
