#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cacheck.h"
#include "hash.h"
#include "err.h"

static void contents(void *ctx, const unsigned char *p, size_t n)
{
	cahash_update(ctx, p, n);
}

int cacheck_init(struct cacheck *k, const char *ca_text, const char *path, struct nar *n)
{
	memset(k, 0, sizeof *k);
	if (ca_parse(&k->ca, ca_text, strlen(ca_text)) < 0 ||
	    cahash_init(&k->h, k->ca.text ? "sha256" : k->ca.algo, k->ca.text ? NULL : path + sizeof STORE_DIR) < 0)
		return -1;
	k->flat = !k->ca.recursive;
	k->nar = n;
	if (k->flat) {
		n->contents = contents;
		n->ctx = &k->h;
	}
	return 0;
}

void cacheck_nar(struct cacheck *k, const unsigned char *p, size_t len)
{
	if (!k->flat)
		cahash_update(&k->h, p, len);
}

int cacheck_suffix(const char *v)
{
	unsigned long major, minor;
	char *end;

	if (!v || !*v)
		return -1;
	major = strtoul(v, &end, 10);
	if (*end != '.' || end == v)
		return -1;
	minor = strtoul(end + 1, &end, 10);
	return major < 2 || (major == 2 && minor < 17);
}

static int no(char *why, size_t max, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int no(char *why, size_t max, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, max, fmt, ap);
	va_end(ap);
	return 1;
}

int cacheck_done(struct cacheck *k, int suffix, char *why, size_t max)
{
	unsigned char plain[CAHASH_BYTES_MAX], suffixed[CAHASH_BYTES_MAX];
	const unsigned char *got;
	char x[2 * CAHASH_BYTES_MAX + 1];
	const char *kind = k->ca.text ? "text:" : k->flat ? "a flat fixed:" : NULL;
	const struct nar *n = k->nar;

	if (cahash_final(&k->h, plain, suffixed) < 0) {
		if (err_kind() != EXIT_REFUSED)
			return -1;
		no(why, max, "%s", err_msg());
		err_clear();
		return 1;
	}
	if (kind && n->root != NAR_REGULAR)
		return no(why, max, "%s content address needs one regular file, and its NAR is %s", kind,
			  n->root == NAR_SYMLINK ? "a symlink" : "a directory");
	if (kind && n->root_exec)
		return no(why, max, "%s content address needs a file that is not executable, and its file is", kind);
	if (suffix < 0 && memcmp(plain, suffixed, k->h.len))
		return no(why, max, "it refers to itself, and the host's nix-daemon does not say which Nix it is, "
			  "so how it hashes self-references is not known");
	got = suffix > 0 ? suffixed : plain;
	if (memcmp(got, k->ca.hash, k->h.len)) {
		hash_hex(x, got, k->h.len);
		return no(why, max, "its content is not what its content address says: %s of its %s is %s",
			  k->ca.text ? "sha256" : k->ca.algo, k->flat ? "file" : "NAR", x);
	}
	return 0;
}

void cacheck_free(struct cacheck *k)
{
	cahash_free(&k->h);
}
