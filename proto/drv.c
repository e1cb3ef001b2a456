#include <stdlib.h>
#include <string.h>

#include "drv.h"
#include "err.h"
#include "storepath.h"

void drvwire_init(struct drvwire *d)
{
	memset(d, 0, sizeof *d);
}

void drvwire_free(struct drvwire *d)
{
	free(d->buf);
	drvwire_init(d);
}

static int put(struct drvwire *d, const void *p, size_t n)
{
	if (d->len + n > DRV_WIRE_MAX)
		return fail(EXIT_REFUSED, "derivation is larger than the limit of %u bytes", DRV_WIRE_MAX);
	if (d->len + n > d->cap) {
		size_t c = d->cap ? d->cap : 65536;
		unsigned char *b;

		while (c < d->len + n)
			c *= 2;
		if (!(b = realloc(d->buf, c)))
			return fail(EXIT_SYSTEM, "out of memory for a derivation");
		d->buf = b;
		d->cap = c;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
	return 0;
}

static int put_u64(struct drvwire *d, uint64_t v)
{
	unsigned char b[8];

	le64_put(b, v);
	return put(d, b, 8);
}

/* A string of at most max bytes, passed through; its start in d->buf and
 * its length are returned for the caller to look at. */
static int str(struct drvwire *d, struct rd *r, uint64_t max, size_t *at, uint64_t *len, const char *what)
{
	static const unsigned char zero[8];
	const unsigned char *p;
	uint64_t n, left;
	size_t got;

	if (rd_len(r, &n, max, what) < 0 || put_u64(d, n) < 0)
		return -1;
	if (at)
		*at = d->len;
	if (len)
		*len = n;
	for (left = n; left > 0; left -= got)
		if (rd_chunk(r, &p, &got, left) < 0 || put(d, p, got) < 0)
			return -1;
	if (memchr(d->buf + d->len - n, 0, (size_t)n))
		return fail(r->kind, "%s sent a derivation %s containing a NUL byte", r->who, what);
	if (rd_pad(r, n) < 0)
		return -1;
	return put(d, zero, (size_t)((8 - n % 8) % 8));
}

static int count(struct drvwire *d, struct rd *r, uint64_t *n, uint64_t max, const char *what)
{
	return rd_count(r, n, max, what) < 0 || put_u64(d, *n) < 0 ? -1 : 0;
}

static int path(struct drvwire *d, struct rd *r, int allow_empty, const char *what)
{
	size_t at;
	uint64_t n;

	if (str(d, r, STORE_PATH_MAX, &at, &n, what) < 0)
		return -1;
	if (n == 0 && allow_empty)
		return 0;
	return storepath_check((const char *)d->buf + at, (size_t)n, r->kind, what);
}

int drvwire_read(struct drvwire *d, struct rd *r)
{
	uint64_t n, i;
	size_t at;

	d->len = 0;
	/* outputs: name, path ("" for floating CA), hash algorithm, hash */
	if (count(d, r, &n, DRV_OUTPUTS_MAX, "derivation outputs") < 0)
		return -1;
	d->outputs = (unsigned)n;
	for (i = 0; i < n; i++)
		if (str(d, r, STORE_NAME_MAX, NULL, NULL, "derivation output name") < 0 ||
		    path(d, r, 1, "derivation output path") < 0 ||
		    str(d, r, 64, NULL, NULL, "derivation output hash algorithm") < 0 ||
		    str(d, r, 256, NULL, NULL, "derivation output hash") < 0)
			return -1;
	if (count(d, r, &n, DRV_LIST_MAX, "input sources") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (path(d, r, 0, "derivation input source") < 0)
			return -1;
	if (str(d, r, DRV_SYSTEM_MAX, &at, &n, "derivation system") < 0)
		return -1;
	memcpy(d->system, d->buf + at, (size_t)n);
	d->system[n] = 0;
	if (str(d, r, 4096, NULL, NULL, "derivation builder") < 0)
		return -1;
	if (count(d, r, &n, DRV_LIST_MAX, "arguments") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (str(d, r, DRV_STR_MAX, NULL, NULL, "derivation argument") < 0)
			return -1;
	if (count(d, r, &n, DRV_LIST_MAX, "environment variables") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (str(d, r, 4096, NULL, NULL, "derivation environment variable name") < 0 ||
		    str(d, r, DRV_STR_MAX, NULL, NULL, "derivation environment variable value") < 0)
			return -1;
	return 0;
}
