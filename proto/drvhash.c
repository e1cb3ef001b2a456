#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aterm.h"
#include "ca.h"
#include "drvhash.h"
#include "err.h"
#include "sha256.h"

#define STR DRVTEXT_STR
#define LEN DRVTEXT_LEN

/* An input derivation's hash modulo, once read. */
struct memo {
	unsigned char h[SHA256_BYTES];
	int done, deferred; /* deferred: its outputs are not known before it is built */
	char *names;        /* its output names, each ended by a NUL */
	size_t nnames;
};

struct walk {
	drvhash_fetch fetch;
	void *ctx;
	unsigned flags;
	struct pathset seen; /* index i: m[i] */
	struct memo *m;
	size_t mcap, live, read;
	struct drvwhy *y;
};

static void walk_free(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->seen.n; i++)
		free(w->m[i].names);
	free(w->m);
	pathset_free(&w->seen);
}

/* Marks path as being read: a path met again before it is done is a cycle. */
static int enter(struct walk *w, const char *path, long *at)
{
	if (w->seen.n >= DRVHASH_VISIT_MAX)
		return drvwhy_no(w->y, "more than %u input derivations to read", DRVHASH_VISIT_MAX);
	if (w->seen.n == w->mcap) {
		size_t cap = w->mcap ? w->mcap * 2 : 64;
		struct memo *m = realloc(w->m, cap * sizeof *m);

		if (!m)
			return fail(EXIT_SYSTEM, "out of memory for input derivations");
		w->m = m;
		w->mcap = cap;
	}
	if (pathset_add(&w->seen, path, strlen(path)) < 0)
		return -1;
	*at = (long)w->seen.n - 1;
	memset(&w->m[*at], 0, sizeof w->m[*at]);
	return 0;
}

static int has_output(const struct memo *m, const char *name, size_t len)
{
	const char *p = m->names;
	size_t i;

	for (i = 0; i < m->nnames; i++, p += strlen(p) + 1)
		if (strlen(p) == len && !memcmp(p, name, len))
			return 1;
	return 0;
}

static int repl_cmp(const void *a, const void *b)
{
	const struct drvrepl *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int r = memcmp(x->h, y->h, SHA256_BYTES);

	if (!r)
		r = memcmp(x->name, y->name, n);
	return r ? r : (x->len > y->len) - (x->len < y->len);
}

static int visit(struct walk *w, const char *path, size_t len, unsigned depth, long *at);

/* Nix's hashDerivationModulo: a fixed-output derivation hashes to its
 * output's content address; any other to its text printed with each input
 * derivation replaced by its own hash modulo, the outputs masked (mask) for
 * the derivation whose outputs are checked. deferred: the result depends on
 * outputs not known before they are built (floating, impure, or deferred
 * outputs here or in an input), where the newest Nix has no hash modulo. */
static int modulo(struct walk *w, const struct drvtext *d, int mask, unsigned depth,
		  unsigned char h[SHA256_BYTES], int *deferred)
{
	struct sha256 st;
	struct drvrepl *r = NULL;
	size_t i, j, n = 0;
	long at;
	int e = 0;

	*deferred = d->type != DRVOUT_IA && d->type != DRVOUT_FIXED;
	if (d->type == DRVOUT_FIXED || d->type == DRVOUT_IMPURE) {
		sha256_init(&st);
		if (d->type == DRVOUT_IMPURE)
			sha256_update(&st, "impure", 6);
		else {
			sha256_update(&st, "fixed:out:", 10);
			sha256_update(&st, STR(d, 2), LEN(d, 2)); /* [r:]algo */
			sha256_update(&st, ":", 1);
			sha256_update(&st, STR(d, 3), LEN(d, 3)); /* base16 */
			sha256_update(&st, ":", 1);
			sha256_update(&st, STR(d, 1), LEN(d, 1)); /* computed by load */
		}
		sha256_final(&st, h);
		return 0;
	}
	if (d->nnames && !(r = malloc(d->nnames * sizeof *r)))
		return fail(EXIT_SYSTEM, "out of memory for input derivations");
	for (i = 0; i < d->nin && !e; i++) {
		const struct drvinput *in = &d->in[i];

		if ((e = visit(w, STR(d, in->path), LEN(d, in->path), depth + 1, &at)))
			break;
		*deferred |= w->m[at].deferred;
		for (j = 0; j < in->nnames; j++) {
			size_t s = in->names + j;

			if (!has_output(&w->m[at], STR(d, s), LEN(d, s))) {
				e = drvwhy_no(w->y, "its input derivation %.*s has no output %.*s",
					      (int)LEN(d, in->path), STR(d, in->path), (int)LEN(d, s), STR(d, s));
				break;
			}
			memcpy(r[n].h, w->m[at].h, SHA256_BYTES);
			r[n].name = STR(d, s);
			r[n++].len = LEN(d, s);
		}
	}
	if (!e) {
		/* inputs with the same hash share one entry (a map keyed by it) */
		if (n)
			qsort(r, n, sizeof *r, repl_cmp);
		for (i = j = 0; i < n; i++)
			if (!j || repl_cmp(&r[i], &r[j - 1]))
				r[j++] = r[i];
		drvtext_hash(h, d, mask, r, j);
	}
	free(r);
	return e;
}

static int visit(struct walk *w, const char *path, size_t len, unsigned depth, long *at)
{
	char p[STORE_PATH_MAX + 1], *text = NULL, *names;
	const char *about = w->y->about;
	struct drvtext d;
	unsigned char h[SHA256_BYTES];
	size_t n = 0, i, size;
	int r, deferred = 0;

	memcpy(p, path, len);
	p[len] = 0;
	if ((*at = pathset_find(&w->seen, p, len)) == -2)
		return -1;
	if (*at >= 0)
		return w->m[*at].done ? 0 : drvwhy_no(w->y, "derivations that refer to each other in a cycle, through %s", p);
	if (depth > DRVHASH_DEPTH_MAX)
		return drvwhy_no(w->y, "input derivations nested more than %u deep", DRVHASH_DEPTH_MAX);
	if ((r = enter(w, p, at)))
		return r;
	if ((r = w->fetch(w->ctx, p, &text, &n)) < 0)
		return -1;
	if (r)
		return drvwhy_no(w->y, "its input derivation %s is not in the host store", p);
	w->y->about = p;
	memset(&d, 0, sizeof d);
	if (n > ATERM_MAX)
		r = drvwhy_no(w->y, "%zu bytes, more than the limit of %u", n, ATERM_MAX);
	else {
		w->read += n;
		w->live += n;
		if (w->read > DRVHASH_READ_MAX || w->live > DRVHASH_LIVE_MAX)
			r = drvwhy_no(w->y, "more than %u bytes of input derivations in all, or %u along one chain",
				      DRVHASH_READ_MAX, DRVHASH_LIVE_MAX);
		else if (!(r = drvtext_load(&d, storepath_name(p), text, n, w->flags, w->y)))
			r = modulo(w, &d, 0, depth, h, &deferred);
		w->live -= n;
	}
	w->y->about = about;
	if (!r) {
		for (i = 0, size = 0; i < d.nout; i++)
			size += LEN(&d, 4 * i) + 1;
		if (!(names = malloc(size)))
			r = fail(EXIT_SYSTEM, "out of memory for input derivations");
		else {
			struct memo *m = &w->m[*at]; /* the walk below may have moved it */

			for (i = 0, size = 0; i < d.nout; i++, size++) {
				drvtext_cstr(names + size, &d, 4 * i);
				size += LEN(&d, 4 * i);
			}
			memcpy(m->h, h, SHA256_BYTES);
			m->deferred = deferred;
			m->names = names;
			m->nnames = d.nout;
			m->done = 1;
		}
	}
	drvtext_free(&d);
	free(text);
	return r;
}

/* Nix's makeOutputPath: type "output:<name>", named after the derivation
 * and, but for out, the output. */
static int output_path(char out[STORE_PATH_MAX + 1], const struct drvtext *d, unsigned i, const char *drvname,
		       const unsigned char h[SHA256_BYTES], struct drvwhy *y)
{
	char type[7 + STORE_NAME_MAX + 1], name[STORE_NAME_MAX + 1];
	size_t n = strlen(drvname), k = LEN(d, 4 * i);

	if (drvtext_is(d, 4 * i, "out"))
		k = 0;
	else if (n + 1 + k > STORE_NAME_MAX)
		return drvwhy_no(y, "output %.*s: its path's name would be longer than %u bytes", (int)k,
				 STR(d, 4 * i), STORE_NAME_MAX);
	memcpy(name, drvname, n + 1);
	if (k) {
		name[n] = '-';
		memcpy(name + n + 1, STR(d, 4 * i), k);
		name[n + 1 + k] = 0;
	}
	memcpy(type, "output:", 7);
	drvtext_cstr(type + 7, d, 4 * i);
	ca_store_path(out, type, h, name);
	return 0;
}

static int drv_path_name(const char *drvpath, struct drvwhy *y)
{
	if (storepath_check(drvpath, strlen(drvpath), EXIT_REFUSED, "derivation") < 0)
		return drvwhy_err(y);
	if (!storepath_is_drv(drvpath))
		return drvwhy_no(y, "a derivation's store path name must end in .drv");
	return 0;
}

int drv_canonical(const char *drvpath, const char *text, size_t len, unsigned flags, char *why, size_t max)
{
	struct drvwhy y = {why, max, NULL};
	struct drvtext d;
	int r;

	why[0] = 0;
	memset(&d, 0, sizeof d);
	if (!(r = drv_path_name(drvpath, &y)))
		r = drvtext_load(&d, storepath_name(drvpath), text, len, flags, &y);
	drvtext_free(&d);
	return r;
}

int drv_outputs_own(const char *drvpath, const char *text, size_t len, drvhash_fetch fetch, void *ctx,
		    unsigned flags, char *why, size_t max)
{
	struct drvwhy y = {why, max, NULL};
	struct walk w = {fetch, ctx, flags, {0}, NULL, 0, 0, 0, &y};
	char name[STORE_NAME_MAX + 1], want[STORE_PATH_MAX + 1];
	unsigned char h[SHA256_BYTES];
	struct drvtext d;
	int r, hashed = 0, deferred = 0;
	unsigned i;
	long at;

	why[0] = 0;
	memset(&d, 0, sizeof d);
	pathset_init(&w.seen);
	if ((r = drv_path_name(drvpath, &y)) || (r = drvtext_load(&d, storepath_name(drvpath), text, len, flags, &y)))
		goto out;
	/* an input that names it is a cycle */
	if ((r = enter(&w, drvpath, &at)))
		goto out;
	memcpy(name, storepath_name(drvpath), strlen(storepath_name(drvpath)) - 4);
	name[strlen(storepath_name(drvpath)) - 4] = 0;
	for (i = 0; i < d.nout && !r; i++)
		switch (d.kind[i]) {
		case DRVOUT_IA:
			if (!hashed++ && (r = modulo(&w, &d, 1, 0, h, &deferred)))
				break;
			/* Nix 2.8 would check a path from this hash; the newest
			 * has none to check it against and refuses any */
			if (deferred) {
				r = drvwhy_no(&y, "output %.*s has a path, but the derivation depends on outputs not known "
					   "before they are built: it must be deferred", (int)LEN(&d, 4 * i), STR(&d, 4 * i));
				break;
			}
			if ((r = output_path(want, &d, i, name, h, &y)))
				break;
			if (!drvtext_is(&d, 4 * i + 1, want))
				r = drvwhy_no(&y, "output %.*s is %.*s, not the path its derivation gives, %s",
					      (int)LEN(&d, 4 * i), STR(&d, 4 * i), (int)LEN(&d, 4 * i + 1),
					      STR(&d, 4 * i + 1), want);
			else
				r = drvtext_variable(&d, i, want, &y);
			break;
		case DRVOUT_FIXED: /* load checked the path */
			drvtext_cstr(want, &d, 1);
			r = drvtext_variable(&d, i, want, &y);
			break;
		default: /* floating, deferred, impure: no path before the build */
			break;
		}
out:
	drvtext_free(&d);
	walk_free(&w);
	return r;
}

int drv_output_hash(const char *drvpath, const char *text, size_t len, drvhash_fetch fetch, void *ctx,
		    unsigned flags, unsigned char h[SHA256_BYTES], char *why, size_t max)
{
	struct drvwhy y = {why, max, NULL};
	struct walk w = {fetch, ctx, flags, {0}, NULL, 0, 0, 0, &y};
	struct drvtext d;
	int r, deferred;
	long at;

	why[0] = 0;
	memset(&d, 0, sizeof d);
	pathset_init(&w.seen);
	if (!(r = drv_path_name(drvpath, &y)) &&
	    !(r = drvtext_load(&d, storepath_name(drvpath), text, len, flags, &y)) && !(r = enter(&w, drvpath, &at)))
		r = modulo(&w, &d, 1, 0, h, &deferred);
	drvtext_free(&d);
	walk_free(&w);
	return r;
}

/* Its references as Nix writes them: input derivations and sources. */
static int inputs(struct pathset *refs, const struct drvtext *d)
{
	size_t i;

	for (i = 0; i < d->nin + d->nsrc; i++) {
		size_t s = i < d->nin ? d->in[i].path : d->src + i - d->nin;

		if (pathset_insert(refs, STR(d, s), LEN(d, s)) < 0)
			return -1;
	}
	pathset_sort(refs);
	return 0;
}

static int text_path(char out[STORE_PATH_MAX + 1], const char *name, const char *text, size_t len,
		     struct pathset *refs, struct drvwhy *y)
{
	struct drvtext d;
	struct sha256 st;
	struct ca c;
	int r;

	/* which outputs the host reads is drv_outputs_own's question */
	if (!(r = drvtext_load(&d, name, text, len, DRVTEXT_CA_FLOATING | DRVTEXT_IMPURE, y)) &&
	    !(r = inputs(refs, &d))) {
		memset(&c, 0, sizeof c);
		c.text = 1;
		strcpy(c.algo, "sha256");
		c.hlen = SHA256_BYTES;
		sha256_init(&st);
		sha256_update(&st, text, len);
		sha256_final(&st, c.hash);
		if (ca_path(out, &c, name, refs, NULL) < 0)
			r = drvwhy_err(y);
	}
	drvtext_free(&d);
	return r;
}

int drv_text_path(char out[STORE_PATH_MAX + 1], const char *name, const char *text, size_t len, char *why,
		  size_t max)
{
	struct drvwhy y = {why, max, NULL};
	struct pathset refs;
	int r;

	why[0] = 0;
	pathset_init(&refs);
	r = text_path(out, name, text, len, &refs, &y);
	pathset_free(&refs);
	return r;
}

int drv_path_own(const char *drvpath, const char *text, size_t len, const struct pathset *refs, char *why,
		 size_t max)
{
	struct drvwhy y = {why, max, NULL};
	struct pathset have, claimed;
	char want[STORE_PATH_MAX + 1];
	size_t i;
	long k;
	int r;

	why[0] = 0;
	pathset_init(&have);
	pathset_init(&claimed);
	if ((r = drv_path_name(drvpath, &y)) ||
	    (r = text_path(want, storepath_name(drvpath), text, len, &have, &y)))
		goto out;
	for (i = 0; i < refs->n && !r; i++)
		if ((k = pathset_find(&have, pathset_get(refs, i), strlen(pathset_get(refs, i)))) == -2 ||
		    pathset_insert(&claimed, pathset_get(refs, i), strlen(pathset_get(refs, i))) < 0)
			r = -1;
		else if (k < 0)
			r = drvwhy_no(&y, "it claims the reference %s, which is not one of its inputs", pathset_get(refs, i));
	for (i = 0; i < have.n && !r; i++)
		if ((k = pathset_find(&claimed, pathset_get(&have, i), strlen(pathset_get(&have, i)))) == -2)
			r = -1;
		else if (k < 0)
			r = drvwhy_no(&y, "its input %s is missing from its claimed references", pathset_get(&have, i));
	if (!r && strcmp(want, drvpath))
		r = drvwhy_no(&y, "its text makes its store path %s, not this one", want);
out:
	pathset_free(&have);
	pathset_free(&claimed);
	return r;
}
