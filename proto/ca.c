#include <string.h>

#include "base32.h"
#include "ca.h"
#include "err.h"
#include "sha256.h"

static const struct { const char *name; size_t len; } algos[] = {
	{"md5", 16}, {"sha1", 20}, {"sha256", 32}, {"sha512", 64},
};

static size_t algo_len(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof algos / sizeof *algos; i++)
		if (strlen(algos[i].name) == n && !memcmp(algos[i].name, s, n))
			return algos[i].len;
	return 0;
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* base16 (2n digits) or Nix base32 of exactly n bytes */
static int digest_parse(unsigned char *out, size_t n, const char *s, size_t len)
{
	size_t i;

	if (len == base32_len(n))
		return base32_decode(out, n, s, len);
	if (len != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int ca_parse(struct ca *c, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *colon;

	memset(c, 0, sizeof *c);
	if (len > 5 && !memcmp(s, "text:", 5))
		c->text = 1, p += 5;
	else if (len > 6 && !memcmp(s, "fixed:", 6))
		p += 6;
	else
		goto bad;
	if (!c->text && end - p > 2 && !memcmp(p, "r:", 2))
		c->recursive = 1, p += 2;
	if (!(colon = memchr(p, ':', (size_t)(end - p))) || !(c->hlen = algo_len(p, (size_t)(colon - p))))
		goto bad;
	memcpy(c->algo, p, (size_t)(colon - p));
	if ((c->text && c->hlen != SHA256_BYTES) ||
	    digest_parse(c->hash, c->hlen, colon + 1, (size_t)(end - colon - 1)) < 0)
		goto bad;
	return 0;
bad:
	return fail(EXIT_REFUSED, "'%.*s' is not a content address nixgate understands", (int)(len > 200 ? 200 : len), s);
}

static void put(struct sha256 *st, const char *s)
{
	sha256_update(st, s, strlen(s));
}

/* Nix's makeStorePath: sha256 of "<type>:sha256:<hex>:/nix/store:<name>",
 * where st already holds <type>, folded to 20 bytes. */
static void finish(char out[STORE_PATH_MAX + 1], struct sha256 *st,
		   const unsigned char h[SHA256_BYTES], const char *name)
{
	unsigned char d[SHA256_BYTES], f[20] = {0};
	char x[2 * SHA256_BYTES + 1];
	size_t i;

	hash_hex(x, h, SHA256_BYTES);
	put(st, ":sha256:");
	put(st, x);
	put(st, ":" STORE_DIR ":");
	put(st, name);
	sha256_final(st, d);
	for (i = 0; i < SHA256_BYTES; i++)
		f[i % 20] ^= d[i];
	memcpy(out, STORE_DIR "/", sizeof STORE_DIR);
	base32_encode(out + sizeof STORE_DIR, f, 20);
	out[sizeof STORE_DIR + STORE_HASH_CHARS] = '-';
	strcpy(out + sizeof STORE_DIR + STORE_HASH_CHARS + 1, name);
}

/* "fixed:out:[r:]<algo>:<hex>:" hashed, under type "output:out" */
static void fixed_flat(char out[STORE_PATH_MAX + 1], int recursive, const char *algo,
		       const unsigned char *h, size_t n, const char *name)
{
	struct sha256 st;
	unsigned char inner[SHA256_BYTES];
	char x[2 * CA_HASH_MAX + 1];

	hash_hex(x, h, n);
	sha256_init(&st);
	put(&st, "fixed:out:");
	put(&st, recursive ? "r:" : "");
	put(&st, algo);
	put(&st, ":");
	put(&st, x);
	put(&st, ":");
	sha256_final(&st, inner);
	sha256_init(&st);
	put(&st, "output:out");
	finish(out, &st, inner, name);
}

int ca_path(char out[STORE_PATH_MAX + 1], const struct ca *c, const char *name,
	    const struct pathset *refs, const char *self)
{
	struct sha256 st;
	size_t i;
	int has_self = 0;

	if (strlen(name) > STORE_NAME_MAX)
		return fail(EXIT_REFUSED, "store path name of %zu bytes", strlen(name));
	if (!c->text && !(c->recursive && c->hlen == SHA256_BYTES)) {
		if (refs->n)
			return fail(EXIT_REFUSED, "a fixed:%s%s path cannot have references",
				    c->recursive ? "r:" : "", c->algo);
		fixed_flat(out, c->recursive, c->algo, c->hash, c->hlen, name);
		return 0;
	}
	sha256_init(&st);
	put(&st, c->text ? "text" : "source");
	for (i = 0; i < refs->n; i++) {
		const char *r = pathset_get(refs, i);

		/* text paths cannot refer to themselves: Nix keeps such a ref
		 * as an ordinary one, and so does this */
		if (!c->text && self && !strcmp(r, self)) {
			has_self = 1;
			continue;
		}
		put(&st, ":");
		put(&st, r);
	}
	if (has_self)
		put(&st, ":self");
	finish(out, &st, c->hash, name);
	return 0;
}

int ca_fixed_output(char out[STORE_PATH_MAX + 1], const char *algo, const char *hash16, const char *name)
{
	struct ca c;
	int rec = !strncmp(algo, "r:", 2);
	const char *a = algo + (rec ? 2 : 0);

	memset(&c, 0, sizeof c);
	if (!(c.hlen = algo_len(a, strlen(a))) || strlen(hash16) != 2 * c.hlen ||
	    digest_parse(c.hash, c.hlen, hash16, strlen(hash16)) < 0)
		return fail(EXIT_REFUSED, "output hash '%s:%.*s' is not one nixgate understands", algo,
			    (int)(strlen(hash16) > 130 ? 130 : strlen(hash16)), hash16);
	if (strlen(name) > STORE_NAME_MAX)
		return fail(EXIT_REFUSED, "store path name of %zu bytes", strlen(name));
	if (rec && c.hlen == SHA256_BYTES) {
		struct sha256 st;

		sha256_init(&st);
		put(&st, "source");
		finish(out, &st, c.hash, name);
	} else
		fixed_flat(out, rec, a, c.hash, c.hlen, name);
	return 0;
}

void ca_store_path(char out[STORE_PATH_MAX + 1], const char *type, const unsigned char h[SHA256_BYTES],
		   const char *name)
{
	struct sha256 st;

	sha256_init(&st);
	put(&st, type);
	finish(out, &st, h, name);
}
