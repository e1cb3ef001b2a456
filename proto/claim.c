#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "claim.h"
#include "err.h"
#include "pathinfo.h"

static int no(char *why, size_t max, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int no(char *why, size_t max, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, max, fmt, ap);
	va_end(ap);
	return 1;
}

/* A malformed claim is the claim's failure, not the checker's. */
static int no_err(char *why, size_t max)
{
	if (err_kind() != EXIT_REFUSED)
		return -1;
	no(why, max, "%s", err_msg());
	err_clear();
	return 1;
}

static int has(const struct pathset *refs, const char *path)
{
	size_t i;

	for (i = 0; i < refs->n; i++)
		if (!strcmp(pathset_get(refs, i), path))
			return 1;
	return 0;
}

static int ca_holds(const struct claim *c, const struct pathset *refs, char *why, size_t max)
{
	char want[STORE_PATH_MAX + 1];
	struct ca ca;

	if (ca_parse(&ca, c->ca, strlen(c->ca)) < 0)
		return no_err(why, max);
	if (ca.text && has(refs, c->path))
		return no(why, max, "a text: path cannot refer to itself");
	if (ca_path(want, &ca, storepath_name(c->path), refs, c->path) < 0)
		return no_err(why, max);
	if (strcmp(want, c->path))
		return no(why, max, "its content address %s gives the path %s, not this one", c->ca, want);
	/* claim_content checks the content; this costs nothing and needs none,
	 * but holds only for a path that does not name itself (hashed modulo
	 * its own hash part) */
	if (ca.recursive && ca.hlen == SHA256_BYTES && !has(refs, c->path) &&
	    memcmp(ca.hash, c->hash, SHA256_BYTES))
		return no(why, max, "its content address %s does not match its NAR hash", c->ca);
	return 0;
}

static int sig_holds(const struct claim *c, const struct pathset *refs, const struct pubkey *keys, size_t nkeys,
		     char *why, size_t max)
{
	char sig[SIG_MAX + 1], seen[256] = "";
	int r, best = SIG_UNKNOWN_KEY;
	uint64_t n, i;
	struct rd rd;
	size_t len;
	char *fp;

	rd_init_mem(&rd, c->sigs, c->sigs_len, EXIT_REFUSED, "client");
	if (rd_count(&rd, &n, SIGS_MAX, "signatures") < 0)
		return no_err(why, max);
	if (n == 0)
		return no(why, max, "it is not content-addressed and has no signature; it needs a signature by one of "
			  "this key's trusted-public-keys (nix store sign), or a trusted key");
	if (!(fp = fingerprint(c->path, c->hash, c->nar_size, refs, &len)))
		return -1;
	for (i = 0; i < n; i++) {
		if (rd_str(&rd, sig, SIG_MAX, NULL, "signature") < 0)
			break;
		if ((r = sig_check(keys, nkeys, fp, len, sig)) == SIG_VALID) {
			free(fp);
			return 0;
		}
		if (r == SIG_INVALID)
			best = r;
		if (strlen(seen) + strlen(sig) < 120)
			snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "%s%.*s", seen[0] ? ", " : "",
				 (int)(strchr(sig, ':') ? strchr(sig, ':') - sig : 0), sig);
	}
	free(fp);
	if (err_kind())
		return no_err(why, max);
	if (best == SIG_INVALID)
		return no(why, max, "its signature (%s) does not verify against this key's trusted-public-keys", seen);
	return no(why, max, "it is signed only by keys this key does not trust (%s)", seen[0] ? seen : "malformed");
}

int claim_sigs(const struct claim *c, const struct pathset *refs, const struct pubkey *keys, size_t nkeys,
	       unsigned char *out, size_t cap, size_t *len)
{
	char sig[SIG_MAX + 1];
	uint64_t n, i, kept = 0;
	struct rd rd;
	struct wr w;
	size_t flen;
	char *fp;

	wr_init_mem(&w, out, cap);
	if (wr_u64(&w, 0) < 0)
		return -1;
	rd_init_mem(&rd, c->sigs, c->sigs_len, EXIT_REFUSED, "client");
	if (rd_count(&rd, &n, SIGS_MAX, "signatures") < 0)
		return -1;
	if (n && !(fp = fingerprint(c->path, c->hash, c->nar_size, refs, &flen)))
		return -1;
	for (i = 0; i < n; i++) {
		if (rd_str(&rd, sig, SIG_MAX, NULL, "signature") < 0) {
			free(fp);
			return -1;
		}
		if (sig_check(keys, nkeys, fp, flen, sig) != SIG_VALID)
			continue;
		if (wr_cstr(&w, sig) < 0) {
			free(fp);
			return -1;
		}
		kept++;
	}
	if (n)
		free(fp);
	le64_put(out, kept);
	*len = w.len;
	return 0;
}

int claim_check(const struct claim *c, struct pathset *refs, const struct pubkey *keys, size_t nkeys, char *why,
		size_t max)
{
	size_t i;

	pathset_sort(refs);
	for (i = 1; i < refs->n; i++)
		if (!strcmp(pathset_get(refs, i - 1), pathset_get(refs, i)))
			return no(why, max, "its references list %s twice", pathset_get(refs, i));
	return c->ca[0] ? ca_holds(c, refs, why, max) : sig_holds(c, refs, keys, nkeys, why, max);
}
