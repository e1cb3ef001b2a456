#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pathset.h"
#include "storepath.h"

void pathset_init(struct pathset *s)
{
	memset(s, 0, sizeof *s);
}

void pathset_free(struct pathset *s)
{
	free(s->buf);
	free(s->off);
	free(s->tab);
	pathset_init(s);
}

void pathset_clear(struct pathset *s)
{
	s->used = s->n = s->tn = 0;
	if (s->tab)
		memset(s->tab, 0, s->tcap * sizeof *s->tab);
}

int pathset_add(struct pathset *s, const char *p, size_t len)
{
	if (s->n >= PATHSET_MAX_PATHS || s->used + len + 1 > PATHSET_MAX_BYTES)
		return fail(EXIT_REFUSED, "more than %u paths or %u bytes of paths in one request",
			    PATHSET_MAX_PATHS, PATHSET_MAX_BYTES);
	if (s->used + len + 1 > s->cap) {
		size_t c = s->cap ? s->cap * 2 : 16384;
		char *b;

		while (c < s->used + len + 1)
			c *= 2;
		if (!(b = realloc(s->buf, c)))
			return fail(EXIT_SYSTEM, "out of memory for a path list");
		s->buf = b;
		s->cap = c;
	}
	if (s->n == s->ncap) {
		size_t c = s->ncap ? s->ncap * 2 : 256;
		uint32_t *o = realloc(s->off, c * sizeof *o);

		if (!o)
			return fail(EXIT_SYSTEM, "out of memory for a path list");
		s->off = o;
		s->ncap = c;
	}
	s->off[s->n++] = (uint32_t)s->used;
	memcpy(s->buf + s->used, p, len);
	s->buf[s->used + len] = 0;
	s->used += len + 1;
	return 0;
}

const char *pathset_get(const struct pathset *s, size_t i)
{
	return s->buf + s->off[i];
}

/* Paths come from peers: with a public hash function they could choose
 * paths that all land in one chain and make every lookup a walk of the set.
 * SipHash under a key the peer cannot know keeps the chains short. */
static unsigned char key[crypto_shorthash_KEYBYTES];
static int keyed;

void pathset_seed(void)
{
	randombytes_buf(key, sizeof key);
	keyed = 1;
}

static size_t hash(const char *p, size_t len)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	if (!keyed)
		pathset_seed();
	crypto_shorthash(h, (const unsigned char *)p, len, key);
	memcpy(&v, h, sizeof v);
	return (size_t)v;
}

static void place(uint32_t *t, size_t cap, struct pathset *s, size_t i)
{
	const char *p = pathset_get(s, i);
	size_t j;

	for (j = hash(p, strlen(p)) & (cap - 1); t[j]; j = (j + 1) & (cap - 1))
		s->probes++;
	t[j] = (uint32_t)i + 1;
}

/* The table covers paths [0, tn): pathset_add and pathset_read grow the set
 * without it, clear and sort reset it, so each lookup first takes in what
 * came since. */
static int index_all(struct pathset *s)
{
	size_t c = s->tcap ? s->tcap * 2 : 1024, i;
	uint32_t *t;

	if ((s->n + 1) * 2 <= s->tcap) {
		for (; s->tn < s->n; s->tn++)
			place(s->tab, s->tcap, s, s->tn);
		return 0;
	}
	while ((s->n + 1) * 2 > c)
		c *= 2;
	if (!(t = calloc(c, sizeof *t)))
		return fail(EXIT_SYSTEM, "out of memory for a path set");
	for (i = 0; i < s->n; i++)
		place(t, c, s, i);
	free(s->tab);
	s->tab = t;
	s->tcap = c;
	s->tn = s->n;
	return 0;
}

/* p's index, or -1 with the free slot it would take in *slot; -2 when out
 * of memory. */
static long lookup(struct pathset *s, const char *p, size_t len, size_t *slot)
{
	size_t j;

	if (index_all(s) < 0)
		return -2;
	for (j = hash(p, len) & (s->tcap - 1); s->tab[j]; j = (j + 1) & (s->tcap - 1)) {
		const char *q = pathset_get(s, s->tab[j] - 1);

		s->probes++;
		if (strlen(q) == len && !memcmp(q, p, len))
			return (long)s->tab[j] - 1;
	}
	*slot = j;
	return -1;
}

int pathset_insert(struct pathset *s, const char *p, size_t len)
{
	size_t j;
	long i = lookup(s, p, len, &j);

	if (i != -1)
		return i == -2 ? -1 : 0;
	if (pathset_add(s, p, len) < 0)
		return -1;
	s->tab[j] = (uint32_t)s->n;
	s->tn = s->n;
	return 1;
}

long pathset_find(struct pathset *s, const char *p, size_t len)
{
	size_t j;

	return lookup(s, p, len, &j);
}

static const char *sort_base;

static int cmp(const void *a, const void *b)
{
	return strcmp(sort_base + *(const uint32_t *)a, sort_base + *(const uint32_t *)b);
}

void pathset_sort(struct pathset *s)
{
	if (s->n < 2)
		return;
	sort_base = s->buf;
	qsort(s->off, s->n, sizeof *s->off, cmp);
	/* the table's indexes no longer name the same paths */
	s->tn = 0;
	if (s->tab)
		memset(s->tab, 0, s->tcap * sizeof *s->tab);
}

int storepath_read(struct rd *r, char *dst, int allow_empty, const char *what)
{
	size_t len;

	if (rd_str(r, dst, STORE_PATH_MAX, &len, what) < 0)
		return -1;
	if (len == 0 && allow_empty)
		return 0;
	return storepath_check(dst, len, r->kind, what);
}

int pathset_read(struct pathset *s, struct rd *r, const char *what)
{
	char p[STORE_PATH_MAX + 1], entry[64];
	uint64_t n, i;

	pathset_clear(s);
	snprintf(entry, sizeof entry, "%s entry", what);
	if (rd_count(r, &n, PATHSET_MAX_PATHS, what) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (storepath_read(r, p, 0, entry) < 0 || pathset_add(s, p, strlen(p)) < 0)
			return -1;
	return 0;
}

int pathset_write(const struct pathset *s, struct wr *w)
{
	size_t i;

	if (wr_u64(w, s->n) < 0)
		return -1;
	for (i = 0; i < s->n; i++)
		if (wr_cstr(w, pathset_get(s, i)) < 0)
			return -1;
	return 0;
}

int pathlist_copy(struct rd *r, struct wr *w, const char *what)
{
	char p[STORE_PATH_MAX + 1];
	uint64_t n, i;

	if (rd_count(r, &n, PATHSET_MAX_PATHS, what) < 0 || wr_u64(w, n) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (storepath_read(r, p, 0, what) < 0 || wr_cstr(w, p) < 0)
			return -1;
	return 0;
}
