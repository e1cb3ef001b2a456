#include <stdlib.h>
#include <string.h>

#include "aterm.h"
#include "drvstore.h"
#include "err.h"
#include "nar.h"

/* The rest of a NAR of which the strings head and then type have been
 * read, checked to its end so that the daemon connection stays in step. */
static int nar_skip(struct worker *d, const char **head, const char *type)
{
	static struct nar nar;
	unsigned char b[128];
	const unsigned char *p;
	struct wr w;
	size_t got, i;
	ssize_t k;

	wr_init_mem(&w, b, sizeof b);
	for (i = 0; i < 3; i++)
		wr_cstr(&w, head[i]);
	wr_cstr(&w, type);
	nar_init(&nar);
	if (nar_feed(&nar, b, w.len) < 0)
		return fail(EXIT_SYSTEM, "nix-daemon sent a derivation NAR: %s", err_msg());
	while (!nar_done(&nar)) {
		if (rd_peek(&d->r, &p, &got) < 0)
			return -1;
		if ((k = nar_feed(&nar, p, got)) < 0)
			return fail(EXIT_SYSTEM, "nix-daemon sent a derivation NAR: %s", err_msg());
		rd_consume(&d->r, (size_t)k);
	}
	return 0;
}

int drv_text_from_daemon(struct worker *d, const char *path, char **out, size_t *len)
{
	static const char *head[] = {"nix-archive-1", "(", "type", "regular"};
	char tok[16], *text;
	const unsigned char *p;
	uint64_t n, at;
	size_t got, i;
	int r;

	if (wr_u64(&d->w, WOP_NAR_FROM_PATH) < 0 || wr_cstr(&d->w, path) < 0)
		return -1;
	if ((r = worker_wait(d, NULL, NULL)) < 0)
		return r;
	for (i = 0; i < 4; i++)
		if (rd_str(&d->r, tok, sizeof tok - 1, NULL, "derivation NAR") < 0)
			return -1;
		else if (strcmp(tok, head[i])) {
			/* Nix takes a symlink to a derivation as one (it reads
			 * through the link): that is the client's doing, refused
			 * like a malformed derivation once its NAR is read */
			if (i < 3 || nar_skip(d, head, tok) < 0)
				return fail(EXIT_SYSTEM, "%s is not a regular file in the store", path);
			return fail(EXIT_REFUSED, "%s is a %s in the store, not a regular file", path, tok);
		}
	if (rd_str(&d->r, tok, sizeof tok - 1, NULL, "derivation NAR") < 0)
		return -1;
	if (!strcmp(tok, "executable") && (rd_str(&d->r, tok, sizeof tok - 1, NULL, "derivation NAR") < 0 ||
					   rd_str(&d->r, tok, sizeof tok - 1, NULL, "derivation NAR") < 0))
		return -1;
	if (strcmp(tok, "contents"))
		return fail(EXIT_SYSTEM, "nix-daemon sent a derivation NAR without contents");
	if (rd_u64(&d->r, &n) < 0)
		return -1;
	/* any key can put a large .drv in the store: refuse it, in step */
	if (n > ATERM_MAX) {
		if (rd_skip(&d->r, n) < 0 || rd_pad(&d->r, n) < 0 ||
		    rd_str(&d->r, tok, sizeof tok - 1, NULL, "derivation NAR") < 0 || strcmp(tok, ")"))
			return -1;
		return fail(EXIT_REFUSED, "%s is a derivation of %llu bytes, more than %u", path, (unsigned long long)n,
			    ATERM_MAX);
	}
	if (!(text = malloc(n ? n : 1)))
		return fail(EXIT_SYSTEM, "out of memory for a derivation of %llu bytes", (unsigned long long)n);
	for (at = 0; at < n; at += got)
		if (rd_chunk(&d->r, &p, &got, n - at) < 0)
			goto bad;
		else
			memcpy(text + at, p, got);
	if (rd_pad(&d->r, n) < 0 || rd_str(&d->r, tok, sizeof tok - 1, NULL, "derivation NAR") < 0 || strcmp(tok, ")"))
		goto bad;
	*out = text;
	*len = (size_t)n;
	return 0;
bad:
	free(text);
	return -1;
}


int drv_from_daemon(struct worker *d, const char *path, struct drvinfo *f)
{
	char *text;
	size_t n;
	int r;

	if ((r = drv_text_from_daemon(d, path, &text, &n)) < 0)
		return r;
	r = aterm_drv(f, text, n);
	free(text);
	return r;
}
