#include <stdio.h>
#include <string.h>

#include "buildresult.h"
#include "err.h"
#include "pathinfo.h"
#include "realisation.h"

unsigned serve_result_fields(unsigned minor)
{
	unsigned f = 0;

	if (minor >= 3)
		f |= BR_TIMES;
	if (minor >= 8)
		f |= BR_OUTPUT_PATHS;
	else if (minor >= 6)
		f |= BR_OUTPUT_IDS;
	return f;
}

unsigned worker_result_fields(unsigned minor, int with_paths)
{
	unsigned f = 0;

	if (minor >= 29)
		f |= BR_TIMES;
	if (minor >= 37)
		f |= BR_CPU;
	if (with_paths)
		f |= BR_OUTPUT_PATHS;
	else if (minor >= 28)
		f |= BR_OUTPUT_IDS;
	return f;
}

void build_result_set(struct build_result *b, uint64_t status, const char *msg)
{
	b->status = status;
	snprintf(b->msg, sizeof b->msg, "%s", msg);
	b->times_built = b->start_time = b->stop_time = 0;
	b->non_deterministic = 0;
	b->has_cpu_user = b->has_cpu_system = 0;
	b->cpu_user = b->cpu_system = 0;
	pathset_clear(&b->outs);
	b->nouts = 0;
	b->out_paths = 0;
}

static int str_add(struct rd *r, struct pathset *ps, size_t max, const char *what)
{
	char s[REALISATION_MAX + 1];
	size_t len;

	if (rd_str(r, s, max, &len, what) < 0)
		return -1;
	return pathset_add(ps, s, len);
}

static int outputs_read(struct rd *r, struct build_result *b)
{
	char p[STORE_PATH_MAX + 1];
	uint64_t n, i, k, j;

	if (rd_count(r, &n, DRV_OUTPUTS_MAX, "built outputs") < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (str_add(r, &b->outs, REALISATION_MAX, "built output") < 0)
			return -1;
		if (!b->out_paths) {
			if (str_add(r, &b->outs, REALISATION_MAX, "realisation") < 0)
				return -1;
			continue;
		}
		if (storepath_read(r, p, 0, "output path") < 0 || pathset_add(&b->outs, p, strlen(p)) < 0 ||
		    rd_count(r, &k, SIGS_MAX, "signatures") < 0)
			return -1;
		b->nsigs[i] = (unsigned char)k;
		for (j = 0; j < k; j++)
			if (str_add(r, &b->outs, SIG_MAX, "signature") < 0)
				return -1;
	}
	b->nouts = (size_t)n;
	return 0;
}

/* A built output of the DrvOutput-id form in the form keyed by output name
 * (serve 2.8): its name from the id, its path from the Realisation, no
 * signatures, as Nix reads the id form itself. The old form's signatures
 * sign the old fingerprint, which names the derivation hash: they would not
 * verify in the new. */
static int output_by_name(struct wr *w, const char *id, const char *json)
{
	static struct realisation re;

	if (realisation_parse(&re, json, strlen(json)) < 0)
		return -1;
	if (strcmp(re.id, id))
		return fail(EXIT_SYSTEM, "a built output %s whose realisation is for %s", id, re.id);
	return wr_cstr(w, strchr(re.id, '!') + 1) < 0 || wr_cstr(w, re.out_path) < 0 || wr_u64(w, 0) < 0 ? -1 : 0;
}

static int outputs_write(struct wr *w, const struct build_result *b, int by_name)
{
	size_t i, j, k = 0;

	if (wr_u64(w, b->nouts) < 0)
		return -1;
	if (by_name && !b->out_paths) {
		for (i = 0; i < b->nouts; i++, k += 2)
			if (output_by_name(w, pathset_get(&b->outs, k), pathset_get(&b->outs, k + 1)) < 0)
				return -1;
		return 0;
	}
	for (i = 0; i < b->nouts; i++) {
		if (wr_cstr(w, pathset_get(&b->outs, k)) < 0 || wr_cstr(w, pathset_get(&b->outs, k + 1)) < 0)
			return -1;
		k += 2;
		if (!b->out_paths)
			continue;
		if (wr_u64(w, b->nsigs[i]) < 0)
			return -1;
		for (j = 0; j < b->nsigs[i]; j++)
			if (wr_cstr(w, pathset_get(&b->outs, k++)) < 0)
				return -1;
	}
	return 0;
}

/* An optional duration: 0, or 1 and the microseconds. */
static int cpu_read(struct rd *r, int *has, uint64_t *us)
{
	if (rd_bool(r, has, "CPU time present") < 0)
		return -1;
	return *has ? rd_u64(r, us) : 0;
}

static int cpu_write(struct wr *w, int has, uint64_t us)
{
	if (wr_u64(w, (uint64_t)has) < 0)
		return -1;
	return has ? wr_u64(w, us) : 0;
}

int build_result_read(struct rd *r, unsigned fields, struct build_result *b)
{
	build_result_set(b, 0, "");
	if (rd_u64(r, &b->status) < 0 ||
	    rd_str_trunc(r, b->msg, sizeof b->msg, WORKER_STR_MAX, NULL, "build error") < 0)
		return -1;
	if ((fields & BR_TIMES) &&
	    (rd_u64(r, &b->times_built) < 0 || rd_bool(r, &b->non_deterministic, "non-deterministic") < 0 ||
	     rd_u64(r, &b->start_time) < 0 || rd_u64(r, &b->stop_time) < 0))
		return -1;
	if ((fields & BR_CPU) &&
	    (cpu_read(r, &b->has_cpu_user, &b->cpu_user) < 0 || cpu_read(r, &b->has_cpu_system, &b->cpu_system) < 0))
		return -1;
	b->out_paths = (fields & BR_OUTPUT_PATHS) != 0;
	if (fields & (BR_OUTPUT_IDS | BR_OUTPUT_PATHS))
		return outputs_read(r, b);
	return 0;
}

int build_result_write(struct wr *w, unsigned fields, const struct build_result *b)
{
	if (wr_u64(w, b->status) < 0 || wr_cstr(w, b->msg) < 0)
		return -1;
	if ((fields & BR_TIMES) &&
	    (wr_u64(w, b->times_built) < 0 || wr_u64(w, (uint64_t)b->non_deterministic) < 0 ||
	     wr_u64(w, b->start_time) < 0 || wr_u64(w, b->stop_time) < 0))
		return -1;
	if ((fields & BR_CPU) &&
	    (cpu_write(w, b->has_cpu_user, b->cpu_user) < 0 || cpu_write(w, b->has_cpu_system, b->cpu_system) < 0))
		return -1;
	if (!(fields & (BR_OUTPUT_IDS | BR_OUTPUT_PATHS)))
		return 0;
	/* The id form goes into the one keyed by name (a daemon, which nixgate
	 * never asks for the new form, answering a serve 2.8 client). The other
	 * way Nix makes up a derivation hash; no peer of nixgate needs it. */
	if (b->nouts && b->out_paths && !(fields & BR_OUTPUT_PATHS))
		return fail(EXIT_SYSTEM, "built outputs keyed by output name cannot be sent in the DrvOutput-id form");
	return outputs_write(w, b, (fields & BR_OUTPUT_PATHS) != 0);
}
