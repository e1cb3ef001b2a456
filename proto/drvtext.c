#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aterm.h"
#include "ca.h"
#include "drv.h"
#include "drvtext.h"
#include "err.h"
#include "hash.h"
#include "sha256.h"

int drvwhy_no(struct drvwhy *y, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (y->buf[0])
		return 1;
	if (y->about)
		n = snprintf(y->buf, y->max, "input derivation %s: ", y->about);
	if (n >= 0 && (size_t)n < y->max) {
		va_start(ap, fmt);
		vsnprintf(y->buf + n, y->max - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return 1;
}

/* A check of another module that reports through fail(): its refusal
 * becomes ours. */
int drvwhy_err(struct drvwhy *y)
{
	if (err_kind() != EXIT_REFUSED)
		return -1;
	drvwhy_no(y, "%s", err_msg());
	err_clear();
	return 1;
}

void drvtext_free(struct drvtext *d)
{
	free(d->s);
	free(d->in);
}

#define STR DRVTEXT_STR
#define LEN DRVTEXT_LEN

struct cur {
	const char *p, *end;
	struct drvtext *d;
	struct drvwhy *y;
};

static int bad(struct cur *c, const char *what)
{
	return drvwhy_no(c->y, "malformed derivation: %s expected at byte %zu", what, (size_t)(c->p - c->d->t));
}

static int noncanon(struct cur *c, const char *what)
{
	return drvwhy_no(c->y, "derivation not in the form Nix writes: %s at byte %zu", what, (size_t)(c->p - c->d->t));
}

static int lit(struct cur *c, const char *s)
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

/* The next byte of an escaped string, from *i on; -1 at its end. */
static int unescape(const char *p, size_t n, size_t *i)
{
	int ch;

	if (*i >= n)
		return -1;
	ch = (unsigned char)p[(*i)++];
	if (ch != '\\')
		return ch;
	ch = (unsigned char)p[(*i)++];
	return ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch == 't' ? '\t' : ch;
}

/* std::string's order, which Nix's maps and sets keep, of the strings the
 * escapes stand for: not that of the escaped bytes ('\"' sorts before '#'). */
static int cmp(const struct drvtext *d, size_t a, size_t b)
{
	size_t i = 0, j = 0;
	int x, y;

	do {
		x = unescape(STR(d, a), LEN(d, a), &i);
		y = unescape(STR(d, b), LEN(d, b), &j);
	} while (x == y && x >= 0);
	return x - y;
}

enum { UNQUOTED, QUOTED };

static int str(struct cur *c, int quoted, size_t max, const char *what)
{
	const char *b;
	struct drvtext *d = c->d;
	size_t n;
	int r;

	if ((r = lit(c, "\"")))
		return r;
	for (b = c->p;; c->p++) {
		if (c->p >= c->end)
			return bad(c, "end of string");
		if (*c->p == '"')
			break;
		if (!*c->p)
			return drvwhy_no(c->y, "malformed derivation: %s with a NUL byte", what);
		if (*c->p == '\\') {
			if (!quoted)
				return noncanon(c, "a backslash where Nix prints a string unescaped");
			if (c->p + 1 >= c->end || !c->p[1] || !strchr("\"\\nrt", c->p[1]))
				return noncanon(c, "an escape other than \\\" \\\\ \\n \\r \\t");
			c->p++;
		} else if (quoted && (*c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
			return noncanon(c, "a newline, return or tab that Nix escapes");
	}
	n = (size_t)(c->p++ - b);
	if (n > max)
		return drvwhy_no(c->y, "malformed derivation: %s of %zu bytes, more than the limit of %zu", what, n, max);
	if (d->ns == d->scap) {
		size_t cap = d->scap ? d->scap * 2 : 64;
		struct drvspan *s = realloc(d->s, cap * sizeof *s);

		if (!s)
			return fail(EXIT_SYSTEM, "out of memory for a derivation");
		d->s = s;
		d->scap = cap;
	}
	d->s[d->ns].off = (uint32_t)(b - d->t);
	d->s[d->ns++].len = (uint32_t)n;
	return 0;
}

static int path_ok(struct cur *c, size_t i, int drv, const char *what)
{
	struct drvtext *d = c->d;

	if (storepath_check(STR(d, i), LEN(d, i), EXIT_REFUSED, what) < 0)
		return drvwhy_err(c->y);
	if (drv && (LEN(d, i) < 4 || memcmp(STR(d, i) + LEN(d, i) - 4, ".drv", 4)))
		return drvwhy_no(c->y, "%s %.*s is not a .drv", what, (int)LEN(d, i), STR(d, i));
	return 0;
}

/* An item after the first must sort after the one before it: Nix keeps
 * these in maps and sets, so it prints them sorted and once each. */
static int after(struct cur *c, size_t prev, size_t i, const char *what)
{
	if (cmp(c->d, prev, i) >= 0)
		return noncanon(c, what);
	return 0;
}

static int name_ok(struct cur *c, size_t i)
{
	if (storename_check(STR(c->d, i), LEN(c->d, i)) < 0)
		return drvwhy_no(c->y, "malformed derivation: an output name is not a valid store path name");
	return 0;
}

static int output(struct cur *c)
{
	struct drvtext *d = c->d;
	size_t i = d->ns;
	int r;

	if ((r = lit(c, "(")) || (r = str(c, UNQUOTED, STORE_NAME_MAX, "output name")) || (r = lit(c, ",")) ||
	    (r = str(c, UNQUOTED, STORE_PATH_MAX, "output path")) || (r = lit(c, ",")) ||
	    (r = str(c, UNQUOTED, DRV_ALGO_MAX, "output hash algorithm")) || (r = lit(c, ",")) ||
	    (r = str(c, UNQUOTED, DRV_HASH_MAX, "output hash")) || (r = lit(c, ")")) || (r = name_ok(c, i)))
		return r;
	if (LEN(d, i + 1) && (r = path_ok(c, i + 1, 0, "output path")))
		return r;
	if (d->nout && (r = after(c, i - 4, i, "outputs out of order")))
		return r;
	d->nout++;
	return 0;
}

static int input(struct cur *c)
{
	struct drvtext *d = c->d;
	struct drvinput *in;
	size_t i = d->ns;
	int r;

	if ((r = lit(c, "(")) || (r = str(c, UNQUOTED, STORE_PATH_MAX, "input derivation")) ||
	    (r = path_ok(c, i, 1, "input derivation")) || (r = lit(c, ",[")))
		return r;
	if (d->nin && (r = after(c, d->in[d->nin - 1].path, i, "input derivations out of order")))
		return r;
	if (d->nin == d->incap) {
		size_t cap = d->incap ? d->incap * 2 : 16;

		if (!(in = realloc(d->in, cap * sizeof *in)))
			return fail(EXIT_SYSTEM, "out of memory for a derivation");
		d->in = in;
		d->incap = cap;
	}
	in = &d->in[d->nin]; /* counted by list() */
	in->path = i;
	in->names = d->ns;
	in->nnames = 0;
	if (!peek(c, ']'))
		for (;;) {
			if (++d->nnames > DRVTEXT_LIST_MAX)
				return drvwhy_no(c->y, "malformed derivation: input derivations name more than %u outputs",
					  DRVTEXT_LIST_MAX);
			if ((r = str(c, UNQUOTED, STORE_NAME_MAX, "output name")) || (r = name_ok(c, d->ns - 1)))
				return r;
			if (in->nnames++ && (r = after(c, d->ns - 2, d->ns - 1, "output names out of order")))
				return r;
			if (peek(c, ']'))
				break;
			if ((r = lit(c, ",")))
				return r;
		}
	return lit(c, "])");
}

static int src(struct cur *c)
{
	size_t i = c->d->ns;
	int r;

	if ((r = str(c, UNQUOTED, STORE_PATH_MAX, "input source")) || (r = path_ok(c, i, 0, "input source")))
		return r;
	return c->d->nsrc ? after(c, i - 1, i, "input sources out of order") : 0;
}

static int arg(struct cur *c)
{
	return str(c, QUOTED, DRV_STR_MAX, "builder argument");
}

static int env(struct cur *c)
{
	size_t i = c->d->ns;
	int r;

	if ((r = lit(c, "(")) || (r = str(c, QUOTED, DRV_STR_MAX, "environment variable name")) ||
	    (r = lit(c, ",")) || (r = str(c, QUOTED, DRV_STR_MAX, "environment variable")) || (r = lit(c, ")")))
		return r;
	return c->d->nenv ? after(c, i - 2, i, "environment variables out of order") : 0;
}

/* '[' item (',' item)* ']', at most max items counted in *n */
static int list(struct cur *c, int (*item)(struct cur *), size_t *n, size_t max, const char *what)
{
	int r;

	if ((r = lit(c, "[")))
		return r;
	if (peek(c, ']'))
		return c->p++, 0;
	for (;;) {
		if (*n >= max)
			return drvwhy_no(c->y, "malformed derivation: more than %zu %s", max, what);
		if ((r = item(c)))
			return r;
		++*n;
		if (peek(c, ']'))
			return c->p++, 0;
		if ((r = lit(c, ",")))
			return r;
	}
}

static int parse(struct drvtext *d, const char *t, size_t len, struct drvwhy *y)
{
	struct cur c = {t, t + len, d, y};
	size_t nout = 0;
	int r;

	memset(d, 0, sizeof *d);
	d->t = t;
	d->len = len;
	if (len > ATERM_MAX)
		return drvwhy_no(y, "derivation of %zu bytes, more than the limit of %u", len, ATERM_MAX);
	if (len >= 15 && !memcmp(t, "DrvWithVersion(", 15))
		return drvwhy_no(y, "a derivation with a version (dynamic derivations), which Nix 2.8 cannot read");
	if ((r = lit(&c, "Derive(")) || (r = list(&c, output, &nout, DRV_OUTPUTS_MAX, "outputs")) ||
	    (r = lit(&c, ",")) || (r = list(&c, input, &d->nin, DRVTEXT_LIST_MAX, "input derivations")) ||
	    (r = lit(&c, ",")))
		return r;
	d->src = d->ns;
	if ((r = list(&c, src, &d->nsrc, DRVTEXT_LIST_MAX, "input sources")) || (r = lit(&c, ",")))
		return r;
	d->platform = d->ns;
	if ((r = str(&c, UNQUOTED, DRV_SYSTEM_MAX, "system")) || (r = lit(&c, ",")))
		return r;
	d->builder = d->ns;
	if ((r = str(&c, QUOTED, DRV_STR_MAX, "builder")) || (r = lit(&c, ",")))
		return r;
	d->arg = d->ns;
	if ((r = list(&c, arg, &d->narg, DRVTEXT_LIST_MAX, "builder arguments")) || (r = lit(&c, ",")))
		return r;
	d->env = d->ns;
	if ((r = list(&c, env, &d->nenv, DRVTEXT_LIST_MAX, "environment variables")) || (r = lit(&c, ")")))
		return r;
	return c.p == c.end ? 0 : bad(&c, "end of derivation");
}

/* Where printed text goes: into a hash, or compared with the text read. */
struct sink {
	struct sha256 *h;
	const char *want;
	size_t wlen, at;
	int differs;
};

static void put(struct sink *k, const char *s, size_t n)
{
	if (k->h)
		sha256_update(k->h, s, n);
	else if (k->differs || n > k->wlen - k->at || memcmp(k->want + k->at, s, n))
		k->differs = 1;
	else
		k->at += n;
}

static void putz(struct sink *k, const char *s)
{
	put(k, s, strlen(s));
}

static void quote(struct sink *k, const struct drvtext *d, size_t i)
{
	putz(k, "\"");
	put(k, STR(d, i), LEN(d, i));
	putz(k, "\"");
}

static void strings(struct sink *k, const struct drvtext *d, size_t first, size_t n)
{
	size_t i;

	putz(k, "[");
	for (i = 0; i < n; i++) {
		if (i)
			putz(k, ",");
		quote(k, d, first + i);
	}
	putz(k, "]");
}

static int is_output(const struct drvtext *d, size_t env)
{
	unsigned lo = 0, hi = d->nout;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		int r = cmp(d, 4 * mid, env);

		if (!r)
			return 1;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Nix's Derivation::unparse: with mask, the output paths and the
 * variables named after outputs blank; with r (nr entries, sorted), the
 * input derivations replaced by their hashes modulo. */
static void print(struct sink *k, const struct drvtext *d, int mask, const struct drvrepl *r, size_t nr)
{
	char hex[HASH_TEXT_MAX];
	size_t i, j;

	putz(k, "Derive([");
	for (i = 0; i < d->nout; i++) {
		putz(k, i ? ",(" : "(");
		quote(k, d, 4 * i);
		putz(k, ",");
		if (mask)
			putz(k, "\"\"");
		else
			quote(k, d, 4 * i + 1);
		putz(k, ",");
		quote(k, d, 4 * i + 2);
		putz(k, ",");
		quote(k, d, 4 * i + 3);
		putz(k, ")");
	}
	putz(k, "],[");
	if (r)
		for (i = 0; i < nr; i++) {
			if (!i || memcmp(r[i].h, r[i - 1].h, SHA256_BYTES)) {
				hash_fmt16(hex, r[i].h);
				putz(k, i ? "]),(\"" : "(\"");
				putz(k, hex);
				putz(k, "\",[\"");
			} else
				putz(k, ",\"");
			put(k, r[i].name, r[i].len);
			putz(k, i + 1 == nr ? "\"])" : "\"");
		}
	else
		for (i = 0; i < d->nin; i++) {
			putz(k, i ? ",(" : "(");
			quote(k, d, d->in[i].path);
			putz(k, ",");
			strings(k, d, d->in[i].names, d->in[i].nnames);
			putz(k, ")");
		}
	putz(k, "],");
	strings(k, d, d->src, d->nsrc);
	putz(k, ",");
	quote(k, d, d->platform);
	putz(k, ",");
	quote(k, d, d->builder);
	putz(k, ",");
	strings(k, d, d->arg, d->narg);
	putz(k, ",[");
	for (i = 0; i < d->nenv; i++) {
		j = d->env + 2 * i;
		putz(k, i ? ",(" : "(");
		quote(k, d, j);
		putz(k, ",");
		if (mask && is_output(d, j))
			putz(k, "\"\"");
		else
			quote(k, d, j + 1);
		putz(k, ")");
	}
	putz(k, "])");
}

int drvtext_is(const struct drvtext *d, size_t i, const char *s)
{
	return LEN(d, i) == strlen(s) && !memcmp(STR(d, i), s, LEN(d, i));
}

void drvtext_cstr(char *dst, const struct drvtext *d, size_t i)
{
	memcpy(dst, STR(d, i), LEN(d, i));
	dst[LEN(d, i)] = 0;
}

static int fixed_path(char out[STORE_PATH_MAX + 1], const struct drvtext *d, const char *drvname, struct drvwhy *y)
{
	char algo[DRV_ALGO_MAX + 1], hash[DRV_HASH_MAX + 1];

	drvtext_cstr(algo, d, 2);
	drvtext_cstr(hash, d, 3);
	return ca_fixed_output(out, algo, hash, drvname) < 0 ? drvwhy_err(y) : 0;
}

/* The hash algorithm of an output's "[r:]algo", NULL when Nix has none
 * of that name. */
static const char *hash_algo(const struct drvtext *d, size_t i)
{
	static const char *const known[] = {"md5", "sha1", "sha256", "sha512"};
	const char *p = STR(d, i);
	size_t n = LEN(d, i), k;

	if (n > 2 && !memcmp(p, "r:", 2))
		p += 2, n -= 2;
	for (k = 0; k < sizeof known / sizeof *known; k++)
		if (strlen(known[k]) == n && !memcmp(known[k], p, n))
			return known[k];
	return NULL;
}

/* Nix 2.8's BasicDerivation::type(), and the parse of each output: what
 * kind each is, and that they go together. A fixed output's path is
 * computed, not read, when Nix parses it: in canonical text it is the
 * computed one. */
static int kinds(struct drvtext *d, const char *drvname, unsigned flags, struct drvwhy *y)
{
	char want[STORE_PATH_MAX + 1];
	unsigned i;

	if (!d->nout)
		return drvwhy_no(y, "a derivation without outputs");
	for (i = 0; i < d->nout; i++) {
		size_t path = 4 * i + 1, algo = path + 1, hash = path + 2;

		if (!LEN(d, algo))
			d->kind[i] = LEN(d, hash) ? 0 : LEN(d, path) ? DRVOUT_IA : DRVOUT_DEFERRED;
		else if (drvtext_is(d, hash, "impure"))
			d->kind[i] = LEN(d, path) ? 0 : DRVOUT_IMPURE;
		else if (LEN(d, hash))
			d->kind[i] = LEN(d, path) ? DRVOUT_FIXED : 0;
		else
			d->kind[i] = LEN(d, path) ? 0 : DRVOUT_FLOATING;
		if (!d->kind[i])
			return drvwhy_no(y, "output %.*s: a path, hash algorithm and hash that do not go together",
					 (int)LEN(d, 4 * i), STR(d, 4 * i));
		if (i && d->kind[i] != d->kind[0])
			return drvwhy_no(y, "outputs of different kinds (input-addressed, fixed, floating, "
					    "deferred, impure)");
		if (d->kind[i] == DRVOUT_FLOATING && !(flags & DRVTEXT_CA_FLOATING))
			return drvwhy_no(y, "a floating content-addressed output, which the host's Nix reads "
					    "only with the experimental feature ca-derivations");
		if (d->kind[i] == DRVOUT_IMPURE && !(flags & DRVTEXT_IMPURE))
			return drvwhy_no(y, "an impure output, which the host's Nix reads only with the "
					    "experimental feature impure-derivations");
		if ((d->kind[i] == DRVOUT_FLOATING || d->kind[i] == DRVOUT_IMPURE) && !hash_algo(d, algo))
			return drvwhy_no(y, "output %.*s: a hash algorithm Nix does not know", (int)LEN(d, 4 * i),
					 STR(d, 4 * i));
		if (d->kind[i] == DRVOUT_FLOATING && i && strcmp(hash_algo(d, algo), hash_algo(d, 2)))
			return drvwhy_no(y, "floating outputs with different hash algorithms");
	}
	d->type = d->kind[0];
	if (d->type == DRVOUT_FIXED) {
		if (d->nout != 1 || !drvtext_is(d, 0, "out"))
			return drvwhy_no(y, "a fixed-output derivation whose one output is not named out");
		if (fixed_path(want, d, drvname, y))
			return 1;
		if (!drvtext_is(d, 1, want))
			return drvwhy_no(y, "fixed output path %.*s, which its hash makes %s", (int)LEN(d, 1), STR(d, 1), want);
	}
	return 0;
}

/* name: the .drv's store path name, whose part before ".drv" names the
 * derivation. Refuses text Nix would print back otherwise. */
int drvtext_load(struct drvtext *d, const char *name, const char *t, size_t len, unsigned flags, struct drvwhy *y)
{
	char drvname[STORE_NAME_MAX + 1];
	size_t n = strlen(name);
	struct sink k = {NULL, t, len, 0, 0};
	int r;

	memset(d, 0, sizeof *d);
	if (n <= 4 || n > STORE_NAME_MAX || memcmp(name + n - 4, ".drv", 4))
		return drvwhy_no(y, "a derivation's store path name must end in .drv");
	memcpy(drvname, name, n - 4);
	drvname[n - 4] = 0;
	if ((r = parse(d, t, len, y)) || (r = kinds(d, drvname, flags, y)))
		return r;
	print(&k, d, 0, NULL, 0);
	if (k.differs || k.at != len)
		return drvwhy_no(y, "derivation not in the form Nix writes: it prints back differently from byte %zu", k.at);
	return 0;
}

int drvtext_variable(const struct drvtext *d, unsigned i, const char *path, struct drvwhy *y)
{
	size_t lo = 0, hi = d->nenv, e;
	int c;

	/* an output name has no escapes: it sorts among the (decoded)
	 * variable names as its own bytes do */
	while (lo < hi) {
		e = d->env + 2 * ((lo + hi) / 2);
		if (!(c = cmp(d, e, 4 * i)) && drvtext_is(d, e + 1, path))
			return 0;
		if (!c)
			return drvwhy_no(y, "environment variable %.*s is not its output path %s", (int)LEN(d, 4 * i),
					 STR(d, 4 * i), path);
		if (c < 0)
			lo = (lo + hi) / 2 + 1;
		else
			hi = (lo + hi) / 2;
	}
	return drvwhy_no(y, "no environment variable %.*s for its output %s", (int)LEN(d, 4 * i), STR(d, 4 * i),
			 path);
}


void drvtext_hash(unsigned char h[SHA256_BYTES], const struct drvtext *d, int mask, const struct drvrepl *r,
		  size_t nr)
{
	static const struct drvrepl none;
	struct sha256 st;
	struct sink k = {&st, NULL, 0, 0, 0};

	sha256_init(&st);
	print(&k, d, mask, r ? r : &none, nr);
	sha256_final(&st, h);
}
