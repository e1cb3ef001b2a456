#include <stdlib.h>
#include <string.h>

#include "aterm.h"
#include "err.h"

struct cur {
	const char *p, *start, *end;
};

static int bad(struct cur *c, const char *what)
{
	return fail(EXIT_REFUSED, "malformed derivation: %s expected at byte %zu", what, (size_t)(c->p - c->start));
}

static int lit(struct cur *c, char ch)
{
	char what[4] = {'\'', ch, '\'', 0};

	if (c->p >= c->end || *c->p != ch)
		return bad(c, what);
	c->p++;
	return 0;
}

static int lit_s(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n))
		return bad(c, s);
	c->p += n;
	return 0;
}

static int peek(struct cur *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

/* A quoted string, decoded into dst (NUL-terminated) when dst is not NULL.
 * *len gets the decoded length, which may pass max: dst then holds a prefix. */
static int string(struct cur *c, char *dst, size_t max, size_t *len)
{
	size_t n = 0;
	char ch;

	if (lit(c, '"') < 0)
		return -1;
	for (;;) {
		if (c->p >= c->end)
			return bad(c, "end of string");
		ch = *c->p++;
		if (ch == '"')
			break;
		if (ch == '\\') {
			if (c->p >= c->end)
				return bad(c, "escaped character");
			ch = *c->p++;
			ch = ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch == 't' ? '\t' : ch;
		}
		if (ch == 0)
			return bad(c, "string without NUL");
		if (dst && n < max)
			dst[n] = ch;
		n++;
	}
	if (dst)
		dst[n < max ? n : max] = 0;
	if (len)
		*len = n;
	return 0;
}

static int term(struct cur *c, unsigned depth)
{
	char close;

	if (depth > ATERM_DEPTH_MAX)
		return bad(c, "shallower nesting");
	if (peek(c, '"'))
		return string(c, NULL, 0, NULL);
	if (peek(c, '['))
		close = ']';
	else if (peek(c, '('))
		close = ')';
	else
		return bad(c, "string, list or tuple");
	c->p++;
	if (peek(c, close))
		return c->p++, 0;
	for (;;) {
		if (term(c, depth + 1) < 0)
			return -1;
		if (peek(c, close))
			return c->p++, 0;
		if (lit(c, ',') < 0)
			return -1;
	}
}

/* '[' item (',' item)* ']' with item parsed by fn */
static int list(struct cur *c, struct drvinfo *f, int (*fn)(struct cur *, struct drvinfo *))
{
	if (lit(c, '[') < 0)
		return -1;
	if (peek(c, ']'))
		return c->p++, 0;
	for (;;) {
		if (fn(c, f) < 0)
			return -1;
		if (peek(c, ']'))
			return c->p++, 0;
		if (lit(c, ',') < 0)
			return -1;
	}
}

static int field(struct cur *c, char *dst, size_t max, const char *what)
{
	size_t n;

	if (string(c, dst, max, &n) < 0)
		return -1;
	if (n > max)
		return fail(EXIT_REFUSED, "malformed derivation: %s of %zu bytes, more than the limit of %zu", what, n, max);
	if (strlen(dst) != n)
		return fail(EXIT_REFUSED, "malformed derivation: %s contains a NUL byte", what);
	return 0;
}

static int output(struct cur *c, struct drvinfo *f)
{
	struct drvout *o;

	if (f->nout >= DRV_OUTPUTS_MAX)
		return fail(EXIT_REFUSED, "malformed derivation: more than %u outputs", DRV_OUTPUTS_MAX);
	o = &f->out[f->nout++];
	if (lit(c, '(') < 0 || field(c, o->name, STORE_NAME_MAX, "output name") < 0 || lit(c, ',') < 0 ||
	    field(c, o->path, STORE_PATH_MAX, "output path") < 0 || lit(c, ',') < 0 ||
	    field(c, o->algo, DRV_ALGO_MAX, "output hash algorithm") < 0 || lit(c, ',') < 0 ||
	    field(c, o->hash, DRV_HASH_MAX, "output hash") < 0 || lit(c, ')') < 0)
		return -1;
	if (o->path[0] && storepath_check(o->path, strlen(o->path), EXIT_REFUSED, "derivation output path") < 0)
		return -1;
	drv_output(f, o);
	return 0;
}

static int env(struct cur *c, struct drvinfo *f)
{
	static char value[DRV_FEATURES_MAX + 1];
	char name[32], *whole;
	const char *at;
	size_t nlen, vlen;
	int r;

	if (lit(c, '(') < 0 || string(c, name, sizeof name - 1, &nlen) < 0 || lit(c, ',') < 0)
		return -1;
	at = c->p;
	if (string(c, value, DRV_FEATURES_MAX, &vlen) < 0 || lit(c, ')') < 0)
		return -1;
	if (nlen >= sizeof name - 1)
		return 0; /* longer than any name the policy reads */
	if (strcmp(name, "__json") || vlen <= DRV_FEATURES_MAX)
		return drv_env(f, name, value, vlen > DRV_FEATURES_MAX ? DRV_FEATURES_MAX + 1 : vlen);
	/* the policy looks through all of it: decoded again, whole (never
	 * longer than its encoding, which ATERM_MAX bounds) */
	if (!(whole = malloc(vlen + 1)))
		return fail(EXIT_SYSTEM, "out of memory for a derivation's __json of %zu bytes", vlen);
	c->p = at;
	r = string(c, whole, vlen, NULL) < 0 || lit(c, ')') < 0 ? -1 : drv_env(f, name, whole, vlen);
	free(whole);
	return r;
}

int aterm_drv(struct drvinfo *f, const char *s, size_t len)
{
	struct cur c = {s, s, s + len};

	memset(f, 0, sizeof *f);
	if (len > ATERM_MAX)
		return fail(EXIT_REFUSED, "derivation of %zu bytes, more than the limit of %u", len, ATERM_MAX);
	if (len > 15 && !memcmp(s, "DrvWithVersion(", 15)) {
		c.p += 15;
		/* the only version Nix writes so far: dynamic derivations */
		if (lit_s(&c, "\"xp-dyn-drv\",") < 0)
			return -1;
	} else if (lit_s(&c, "Derive(") < 0)
		return -1;
	if (list(&c, f, output) < 0 || lit(&c, ',') < 0 || term(&c, 0) < 0 || lit(&c, ',') < 0 ||
	    term(&c, 0) < 0 || lit(&c, ',') < 0 || field(&c, f->system, DRV_SYSTEM_MAX, "system") < 0 ||
	    lit(&c, ',') < 0 || term(&c, 0) < 0 || lit(&c, ',') < 0 || term(&c, 0) < 0 || lit(&c, ',') < 0 ||
	    list(&c, f, env) < 0 || lit(&c, ')') < 0)
		return -1;
	if (c.p != c.end)
		return bad(&c, "end of derivation");
	return 0;
}

/* Strings of a derivation passed on to w as wire strings; scratch holds one
 * decoded string at a time and is as long as the whole text, which no
 * decoded string exceeds. */
struct emit {
	struct cur c;
	struct wr *w;
	char *scratch;
	size_t cap;
};

static int pass(struct emit *e)
{
	size_t n;

	if (string(&e->c, e->scratch, e->cap, &n) < 0)
		return -1;
	return wr_str(e->w, e->scratch, n);
}

/* '[' s (',' s)* ']' of strings, or of tuples of k strings, with the count first */
static int pass_list(struct emit *e, unsigned k)
{
	const char *at = e->c.p;
	uint64_t n = 0;
	unsigned i;

	/* the wire puts the count before the items: count them first */
	if (term(&e->c, 0) < 0)
		return -1;
	e->c.p = at;
	if (lit(&e->c, '[') < 0)
		return -1;
	{
		struct cur probe = e->c;

		if (!peek(&probe, ']'))
			for (n = 1;; n++) {
				if (term(&probe, 1) < 0)
					return -1;
				if (peek(&probe, ']'))
					break;
				if (lit(&probe, ',') < 0)
					return -1;
			}
	}
	if (wr_u64(e->w, n) < 0)
		return -1;
	for (uint64_t j = 0; j < n; j++) {
		if (j && lit(&e->c, ',') < 0)
			return -1;
		if (k > 1 && lit(&e->c, '(') < 0)
			return -1;
		for (i = 0; i < k; i++)
			if ((i && lit(&e->c, ',') < 0) || pass(e) < 0)
				return -1;
		if (k > 1 && lit(&e->c, ')') < 0)
			return -1;
	}
	return lit(&e->c, ']');
}

int aterm_basic(struct wr *w, const char *s, size_t len, const struct pathset *srcs)
{
	struct emit e = {{s, s, s + len}, w, NULL, len + 1};
	int r = -1;

	if (len > ATERM_MAX)
		return fail(EXIT_REFUSED, "derivation of %zu bytes, more than the limit of %u", len, ATERM_MAX);
	if (!(e.scratch = malloc(e.cap)))
		return fail(EXIT_SYSTEM, "out of memory for a derivation");
	if (len > 15 && !memcmp(s, "DrvWithVersion(", 15)) {
		fail(EXIT_REFUSED, "dynamic derivations cannot be sent inline");
		goto out;
	}
	/* outputs as they are; the input derivations only count for whether
	 * srcs replaces the sources (as Nix's own hook does) */
	if (lit_s(&e.c, "Derive(") < 0 || pass_list(&e, 4) < 0 || lit(&e.c, ',') < 0)
		goto out;
	{
		int has_drvs = e.c.p + 1 < e.c.end && e.c.p[1] != ']';

		if (term(&e.c, 0) < 0 || lit(&e.c, ',') < 0)
			goto out;
		if (has_drvs && srcs) {
			if (term(&e.c, 0) < 0 || pathset_write(srcs, w) < 0)
				goto out;
		} else if (pass_list(&e, 1) < 0)
			goto out;
	}
	if (lit(&e.c, ',') < 0 || pass(&e) < 0 || lit(&e.c, ',') < 0 || pass(&e) < 0 || lit(&e.c, ',') < 0 ||
	    pass_list(&e, 1) < 0 || lit(&e.c, ',') < 0 || pass_list(&e, 2) < 0 || lit(&e.c, ')') < 0)
		goto out;
	r = e.c.p == e.c.end ? 0 : bad(&e.c, "end of derivation");
out:
	free(e.scratch);
	return r;
}
