/* A .drv checked for outputs of its own (drvhash), its input derivations
 * served from the input itself. Input: one byte of flags (DRVTEXT_*, '0'
 * to '3'), then sections separated by "\n@@\n", each a store path, a
 * newline and the text of the .drv at that path; the first is the one
 * checked. What drvhash finds canonical the policy's own reader (aterm_drv)
 * must read, with the same outputs; an answer is 0, 1 with a reason, or -1.
 */
#include <stdlib.h>
#include <string.h>

#include "aterm.h"
#include "drvhash.h"
#include "err.h"
#include "harness.h"

#define SECTIONS_MAX 64

struct section {
	char path[STORE_PATH_MAX + 1];
	const char *text;
	size_t len;
};

static struct section sec[SECTIONS_MAX];
static unsigned nsec;

static int fetch(void *ctx, const char *path, char **text, size_t *len)
{
	unsigned i;

	for (i = 1; i < nsec; i++)
		if (!strcmp(sec[i].path, path)) {
			/* exactly its bytes: a read past them is caught */
			if (!(*text = malloc(sec[i].len ? sec[i].len : 1)))
				return fail(EXIT_SYSTEM, "out of memory");
			memcpy(*text, sec[i].text, sec[i].len);
			*len = sec[i].len;
			return 0;
		}
	return 1;
}

static void split(const char *s, size_t n)
{
	const char *end = s + n, *nl, *stop, *next;

	for (nsec = 0; s < end && nsec < SECTIONS_MAX; s = next) {
		stop = memmem(s, (size_t)(end - s), "\n@@\n", 4);
		next = stop ? stop + 4 : end;
		stop = stop ? stop : end;
		if (!(nl = memchr(s, '\n', (size_t)(stop - s))) || (size_t)(nl - s) > STORE_PATH_MAX)
			continue;
		memcpy(sec[nsec].path, s, (size_t)(nl - s));
		sec[nsec].path[nl - s] = 0;
		sec[nsec].text = nl + 1;
		sec[nsec].len = (size_t)(stop - (nl + 1));
		nsec++;
	}
}

/* -1 when aterm_drv saw other outputs than drvtext */
static int same(const struct drvinfo *f, const char *t, size_t len, const char *path, unsigned flags)
{
	char why[256];
	struct drvwhy y = {why, sizeof why, NULL};
	struct drvtext d;
	unsigned i;
	int r = 0;

	why[0] = 0;
	if (drvtext_load(&d, storepath_name(path), t, len, flags, &y) || d.nout != f->nout)
		r = -1;
	for (i = 0; !r && i < d.nout; i++)
		if (!drvtext_is(&d, 4 * i, f->out[i].name) || !drvtext_is(&d, 4 * i + 1, f->out[i].path) ||
		    !drvtext_is(&d, 4 * i + 2, f->out[i].algo) || !drvtext_is(&d, 4 * i + 3, f->out[i].hash))
			r = -1;
	drvtext_free(&d);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct drvinfo f;
	char why[256], path[STORE_PATH_MAX + 1], *t;
	struct pathset refs;
	unsigned flags, i;
	int own, canon;

	if (size < 1)
		return 0;
	flags = data[0] & 3;
	split((const char *)data + 1, size - 1);
	if (!nsec || !(t = copy((const uint8_t *)sec[0].text, sec[0].len)))
		return 0;
	own = drv_outputs_own(sec[0].path, t, sec[0].len, fetch, NULL, flags, why, sizeof why);
	if (own < -1 || own > 1 || (own == 1 && (!why[0] || !memchr(why, 0, sizeof why))))
		abort();
	err_clear();
	canon = drv_canonical(sec[0].path, t, sec[0].len, flags, why, sizeof why);
	if (canon < -1 || canon > 1 || (own == 0 && canon != 0))
		abort();
	err_clear();
	if (canon == 0) {
		if (aterm_drv(&f, t, sec[0].len) < 0 || same(&f, t, sec[0].len, sec[0].path, flags) < 0)
			abort();
		/* its path from its text, and no references but its inputs */
		pathset_init(&refs);
		for (i = 1; i < nsec; i++)
			if (storepath_check(sec[i].path, strlen(sec[i].path), EXIT_REFUSED, "path") == 0)
				pathset_insert(&refs, sec[i].path, strlen(sec[i].path));
		err_clear();
		if (drv_text_path(path, storepath_name(sec[0].path), t, sec[0].len, why, sizeof why) != 0 ||
		    drv_path_own(path, t, sec[0].len, &refs, why, sizeof why) < 0)
			abort();
		pathset_free(&refs);
	}
	free(t);
	err_clear();
	return 0;
}
