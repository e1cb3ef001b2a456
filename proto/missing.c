#include <string.h>

#include "err.h"
#include "missing.h"
#include "storepath.h"

void missing_init(struct missing *m)
{
	memset(m, 0, sizeof *m);
	pathset_init(&m->build);
	pathset_init(&m->subst);
	pathset_init(&m->unknown);
}

void missing_free(struct missing *m)
{
	pathset_free(&m->build);
	pathset_free(&m->subst);
	pathset_free(&m->unknown);
}

int missing_query(struct worker *d, const struct pathset *targets, struct missing *m)
{
	int r;

	/* DerivedPath strings from 1.30, path!outputs before: the same text
	 * for what BuildPaths takes */
	if (wr_u64(&d->w, WOP_QUERY_MISSING) < 0 || pathset_write(targets, &d->w) < 0)
		return -1;
	if ((r = worker_wait(d, NULL, NULL)) < 0)
		return r;
	if (pathset_read(&m->build, &d->r, "derivations to build") < 0 ||
	    pathset_read(&m->subst, &d->r, "paths to substitute") < 0 ||
	    pathset_read(&m->unknown, &d->r, "unknown paths") < 0 ||
	    rd_u64(&d->r, &m->download_size) < 0 || rd_u64(&d->r, &m->nar_size) < 0)
		return -1;
	return 0;
}

int missing_outputs(struct worker *d, const char *drv, char *names, size_t cap)
{
	char name[STORE_NAME_MAX + 1], path[STORE_PATH_MAX + 1];
	size_t used = 0, len;
	uint64_t n, i;
	int r, over = 0;

	if (d->minor < 22)
		return 1;
	if (wr_u64(&d->w, WOP_QUERY_DERIVATION_OUTPUT_MAP) < 0 || wr_cstr(&d->w, drv) < 0)
		return -1;
	if ((r = worker_wait(d, NULL, NULL)) < 0)
		return r;
	if (rd_count(&d->r, &n, MISSING_OUTPUTS_MAX, "derivation outputs") < 0)
		return -1;
	names[0] = 0;
	/* name, then its path ("" when not known yet) */
	for (i = 0; i < n; i++) {
		if (rd_str(&d->r, name, STORE_NAME_MAX, &len, "output name") < 0 ||
		    rd_str(&d->r, path, STORE_PATH_MAX, NULL, "output path") < 0)
			return -1;
		if (!len || strchr(name, ',') || strchr(name, '!'))
			return fail(EXIT_SYSTEM, "nix-daemon sent an output name '%s' of %s", name, drv);
		if (used + len + 2 > cap) {
			over = 1;
			continue;
		}
		if (used)
			names[used++] = ',';
		memcpy(names + used, name, len + 1);
		used += len;
	}
	if (over)
		return fail(EXIT_REFUSED, "%s has %llu outputs, whose names are more than %zu bytes",
			    drv, (unsigned long long)n, cap - 1);
	if (!n)
		return fail(EXIT_SYSTEM, "nix-daemon says %s has no outputs", drv);
	return 0;
}
