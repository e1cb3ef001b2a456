#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sig.h"

/* name:base64 into name and exactly n bytes; 0 or -1. */
static int split(const char *s, size_t len, char name[KEY_NAME_MAX + 1], unsigned char *out, size_t n)
{
	const char *colon = memchr(s, ':', len);
	size_t nlen, got;
	const char *end;

	if (!colon || colon == s || (nlen = (size_t)(colon - s)) > KEY_NAME_MAX)
		return -1;
	memcpy(name, s, nlen);
	name[nlen] = 0;
	if (sodium_base642bin(out, n, colon + 1, len - nlen - 1, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || got != n || end != s + len)
		return -1;
	return 0;
}

int pubkey_parse(struct pubkey *k, const char *s, size_t len)
{
	if (split(s, len, k->name, k->key, PUBKEY_BYTES) < 0)
		return fail(EXIT_REFUSED, "'%.*s' is not a public key of the form name:base64 (32 bytes)",
			    (int)(len > 200 ? 200 : len), s);
	return 0;
}

char *fingerprint(const char *path, const unsigned char nar_hash[SHA256_BYTES], uint64_t nar_size,
		  const struct pathset *refs, size_t *len)
{
	char h[HASH_TEXT_MAX], *fp;
	size_t n, i, at;
	int k;

	hash_fmt32(h, nar_hash);
	/* every part is bounded: the refs by PATHSET_MAX_BYTES */
	n = 2 + strlen(path) + 1 + strlen(h) + 1 + 20 + 1 + 1;
	for (i = 0; i < refs->n; i++)
		n += strlen(pathset_get(refs, i)) + 1;
	if (!(fp = malloc(n))) {
		fail(EXIT_SYSTEM, "out of memory for a fingerprint of %zu bytes", n);
		return NULL;
	}
	k = snprintf(fp, n, "1;%s;%s;%llu;", path, h, (unsigned long long)nar_size);
	at = (size_t)k;
	for (i = 0; i < refs->n; i++) {
		const char *r = pathset_get(refs, i);
		size_t rl = strlen(r);

		if (i)
			fp[at++] = ',';
		memcpy(fp + at, r, rl);
		at += rl;
	}
	fp[at] = 0;
	*len = at;
	return fp;
}

int sig_check(const struct pubkey *keys, size_t nkeys, const char *msg, size_t len, const char *sig)
{
	char name[KEY_NAME_MAX + 1];
	unsigned char raw[SIG_BYTES];
	size_t i;
	int r = SIG_UNKNOWN_KEY;

	if (split(sig, strlen(sig), name, raw, SIG_BYTES) < 0)
		return SIG_MALFORMED;
	/* an admin may list two keys under one name (a rotation): either will do */
	for (i = 0; i < nkeys; i++) {
		if (strcmp(keys[i].name, name))
			continue;
		if (crypto_sign_verify_detached(raw, (const unsigned char *)msg, len, keys[i].key) == 0)
			return SIG_VALID;
		r = SIG_INVALID;
	}
	return r;
}
