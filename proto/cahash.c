#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cahash.h"
#include "err.h"

enum { A_MD5, A_SHA1, A_SHA256, A_SHA512 };

size_t anyhash_init(struct anyhash *h, const char *algo)
{
	if (!strcmp(algo, "md5"))
		return h->algo = A_MD5, md5_init(&h->u.md5), MD5_BYTES;
	if (!strcmp(algo, "sha1"))
		return h->algo = A_SHA1, sha1_init(&h->u.sha1), SHA1_BYTES;
	if (!strcmp(algo, "sha256"))
		return h->algo = A_SHA256, sha256_init(&h->u.sha256), 32;
	if (!strcmp(algo, "sha512"))
		return h->algo = A_SHA512, crypto_hash_sha512_init(&h->u.sha512), crypto_hash_sha512_BYTES;
	return 0;
}

void anyhash_update(struct anyhash *h, const void *p, size_t n)
{
	switch (h->algo) {
	case A_MD5: md5_update(&h->u.md5, p, n); break;
	case A_SHA1: sha1_update(&h->u.sha1, p, n); break;
	case A_SHA256: sha256_update(&h->u.sha256, p, n); break;
	default: crypto_hash_sha512_update(&h->u.sha512, p, n); break;
	}
}

void anyhash_final(struct anyhash *h, unsigned char out[CAHASH_BYTES_MAX])
{
	switch (h->algo) {
	case A_MD5: md5_final(&h->u.md5, out); break;
	case A_SHA1: sha1_final(&h->u.sha1, out); break;
	case A_SHA256: sha256_final(&h->u.sha256, out); break;
	default: crypto_hash_sha512_final(&h->u.sha512, out); break;
	}
}

int cahash_init(struct cahash *c, const char *algo, const char hash_part[STORE_HASH_CHARS])
{
	memset(c, 0, sizeof *c);
	if (!(c->len = anyhash_init(&c->h, algo)))
		return fail(EXIT_REFUSED, "'%s' is not a hash algorithm nixgate knows", algo);
	c->plain = !hash_part;
	if (hash_part)
		memcpy(c->part, hash_part, STORE_HASH_CHARS);
	return 0;
}

static void self_at(struct cahash *c, uint64_t at)
{
	uint64_t *n;

	if (c->over)
		return;
	if (c->nself == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;

		if (cap > CAHASH_SELF_MAX || !(n = realloc(c->self, cap * sizeof *n))) {
			c->over = 1;
			return;
		}
		c->self = n;
		c->cap = cap;
	}
	c->self[c->nself++] = at;
}

/* The window holds the last bytes that might still begin an occurrence
 * (fewer than its length), then the new piece: occurrences are found left
 * to right, without overlap, as one search over the whole stream would. */
static void piece(struct cahash *c, const unsigned char *p, size_t n)
{
	size_t total, keep, j = 0;
	unsigned char *m;

	memcpy(c->win + c->wlen, p, n);
	total = c->wlen + n;
	while (!c->plain && total - j >= STORE_HASH_CHARS &&
	       (m = memmem(c->win + j, total - j, c->part, STORE_HASH_CHARS))) {
		self_at(c, c->pos + (uint64_t)(m - c->win));
		memset(m, 0, STORE_HASH_CHARS);
		j = (size_t)(m - c->win) + STORE_HASH_CHARS;
	}
	keep = total < STORE_HASH_CHARS ? total : STORE_HASH_CHARS - 1;
	anyhash_update(&c->h, c->win, total - keep);
	c->pos += total - keep;
	memmove(c->win, c->win + total - keep, keep);
	c->wlen = keep;
}

void cahash_update(struct cahash *c, const unsigned char *p, size_t n)
{
	size_t k;

	while (n) {
		k = n < CAHASH_PIECE ? n : CAHASH_PIECE;
		piece(c, p, k);
		p += k;
		n -= k;
	}
}

int cahash_final(struct cahash *c, unsigned char plain[CAHASH_BYTES_MAX], unsigned char suffixed[CAHASH_BYTES_MAX])
{
	struct anyhash copy;
	char t[24];
	size_t i;

	if (c->over) {
		cahash_free(c);
		return fail(EXIT_REFUSED, "it names its own hash part more than %d times", CAHASH_SELF_MAX);
	}
	anyhash_update(&c->h, c->win, c->wlen);
	c->pos += c->wlen;
	c->wlen = 0;
	copy = c->h;
	anyhash_final(&copy, plain);
	for (i = 0; i < c->nself; i++) {
		snprintf(t, sizeof t, "|%llu", (unsigned long long)c->self[i]);
		anyhash_update(&c->h, t, strlen(t));
	}
	anyhash_final(&c->h, suffixed);
	cahash_free(c);
	return 0;
}

void cahash_free(struct cahash *c)
{
	free(c->self);
	c->self = NULL;
	c->nself = c->cap = 0;
}
