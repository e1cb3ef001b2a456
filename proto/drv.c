#include <stdlib.h>
#include <string.h>

#include "drv.h"
#include "err.h"
#include "storepath.h"

void drvwire_init(struct drvwire *d)
{
	memset(d, 0, sizeof *d);
}

void drvwire_free(struct drvwire *d)
{
	free(d->buf);
	drvwire_init(d);
}

static int put(struct drvwire *d, const void *p, size_t n)
{
	if (d->len + n > DRV_WIRE_MAX)
		return fail(EXIT_REFUSED, "derivation is larger than the limit of %u bytes", DRV_WIRE_MAX);
	if (d->len + n > d->cap) {
		size_t c = d->cap ? d->cap : 65536;
		unsigned char *b;

		while (c < d->len + n)
			c *= 2;
		if (!(b = realloc(d->buf, c)))
			return fail(EXIT_SYSTEM, "out of memory for a derivation");
		d->buf = b;
		d->cap = c;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
	return 0;
}

static int put_u64(struct drvwire *d, uint64_t v)
{
	unsigned char b[8];

	le64_put(b, v);
	return put(d, b, 8);
}

/* A string of at most max bytes, passed through; its start in d->buf and
 * its length are returned for the caller to look at. */
static int str(struct drvwire *d, struct rd *r, uint64_t max, size_t *at, uint64_t *len, const char *what)
{
	static const unsigned char zero[8];
	const unsigned char *p;
	uint64_t n, left;
	size_t got;

	if (rd_len(r, &n, max, what) < 0 || put_u64(d, n) < 0)
		return -1;
	if (at)
		*at = d->len;
	if (len)
		*len = n;
	for (left = n; left > 0; left -= got)
		if (rd_chunk(r, &p, &got, left) < 0 || put(d, p, got) < 0)
			return -1;
	if (memchr(d->buf + d->len - n, 0, (size_t)n))
		return fail(r->kind, "%s sent a derivation %s containing a NUL byte", r->who, what);
	if (rd_pad(r, n) < 0)
		return -1;
	return put(d, zero, (size_t)((8 - n % 8) % 8));
}

static int count(struct drvwire *d, struct rd *r, uint64_t *n, uint64_t max, const char *what)
{
	return rd_count(r, n, max, what) < 0 || put_u64(d, *n) < 0 ? -1 : 0;
}

/* A store path, also kept in dst when dst is not NULL. */
static int path(struct drvwire *d, struct rd *r, int allow_empty, char *dst, const char *what)
{
	size_t at;
	uint64_t n;

	if (str(d, r, STORE_PATH_MAX, &at, &n, what) < 0)
		return -1;
	if (dst) {
		memcpy(dst, d->buf + at, (size_t)n);
		dst[n] = 0;
	}
	if (n == 0 && allow_empty)
		return 0;
	return storepath_check((const char *)d->buf + at, (size_t)n, r->kind, what);
}

/* A string passed through and also kept in dst (max bytes). */
static int keep(struct drvwire *d, struct rd *r, char *dst, uint64_t max, const char *what)
{
	size_t at;
	uint64_t n;

	if (str(d, r, max, &at, &n, what) < 0)
		return -1;
	memcpy(dst, d->buf + at, (size_t)n);
	dst[n] = 0;
	return 0;
}

int drvwire_read(struct drvwire *d, struct rd *r)
{
	struct drvinfo *f = &d->info;
	uint64_t n, i, vlen;
	size_t at;
	char name[4097];

	d->len = 0;
	memset(f, 0, sizeof *f);
	/* outputs: name, path ("" for floating CA), hash algorithm, hash */
	if (count(d, r, &n, DRV_OUTPUTS_MAX, "derivation outputs") < 0)
		return -1;
	f->nout = (unsigned)n;
	for (i = 0; i < n; i++) {
		struct drvout *o = &f->out[i];

		if (keep(d, r, o->name, STORE_NAME_MAX, "derivation output name") < 0 ||
		    path(d, r, 1, o->path, "derivation output path") < 0 ||
		    keep(d, r, o->algo, DRV_ALGO_MAX, "derivation output hash algorithm") < 0 ||
		    keep(d, r, o->hash, DRV_HASH_MAX, "derivation output hash") < 0)
			return -1;
		drv_output(f, o);
	}
	if (count(d, r, &n, DRV_LIST_MAX, "input sources") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (path(d, r, 0, NULL, "derivation input source") < 0)
			return -1;
	if (keep(d, r, f->system, DRV_SYSTEM_MAX, "derivation system") < 0 ||
	    str(d, r, 4096, NULL, NULL, "derivation builder") < 0)
		return -1;
	if (count(d, r, &n, DRV_LIST_MAX, "arguments") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (str(d, r, DRV_STR_MAX, NULL, NULL, "derivation argument") < 0)
			return -1;
	if (count(d, r, &n, DRV_LIST_MAX, "environment variables") < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (keep(d, r, name, 4096, "derivation environment variable name") < 0 ||
		    str(d, r, DRV_STR_MAX, &at, &vlen, "derivation environment variable value") < 0)
			return -1;
		if (drv_env(f, name, (const char *)d->buf + at, (size_t)vlen) < 0)
			return -1;
	}
	return 0;
}

/* Attributes with which a build leaves the sandbox, as Nix's builder reads
 * them (2.8 to the newest): __noChroot runs it outside the chroot on hosts
 * with sandbox = relaxed; __impure makes an impure derivation (network, no
 * chroot); __impureHostDeps binds host paths into the sandbox (Linux too,
 * within allowed-impure-host-deps); __sandboxProfile and
 * __darwinAllowLocalNetworking loosen the darwin sandbox. The darwin ones
 * are refused on every host: nixgate does not know the host's platform
 * for certain, and no Linux derivation of nixpkgs sets them. A boolean
 * counts when "1" (Nix's true), the others when not empty. */
static const struct {
	const char *name;
	int boolean;
} weakening[] = {
	{"__noChroot", 1}, {"__impure", 1}, {"__darwinAllowLocalNetworking", 1},
	{"__sandboxProfile", 0}, {"__impureHostDeps", 0},
};

static int has(const char *v, size_t len, const char *w)
{
	size_t n = strlen(w), i;

	for (i = 0; i + n <= len; i++)
		if (v[i] == w[0] && !memcmp(v + i, w, n))
			return 1;
	return 0;
}

/* Structured attributes (__json) are Nix's source for all of these once
 * present. Rather than parse JSON, the text is refused when it names one
 * of them anywhere, or recursive-nix (a builder with the daemon), or
 * escapes a printable ASCII character (\u0041 for A), which is the only
 * way JSON can spell such a name without its letters; Nix's own writer
 * escapes only control characters. */
static const char *json_weak(const char *v, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof weakening / sizeof *weakening; i++)
		if (has(v, len, weakening[i].name))
			return weakening[i].name;
	if (has(v, len, "recursive-nix"))
		return "recursive-nix";
	if (has(v, len, "impureEnvVars"))
		return "impureEnvVars";
	for (i = 0; i + 6 <= len; i++)
		if (v[i] == '\\' && v[i + 1] == 'u' && v[i + 2] == '0' && v[i + 3] == '0' &&
		    v[i + 4] >= '2' && v[i + 4] <= '7')
			return "an escaped plain character in __json";
	return NULL;
}

/* impureEnvVars hands a fixed-output build those variables of the daemon's
 * own environment, which may hold the host's secrets (an S3 cache's keys).
 * A key that is not trusted gets only the ones nixpkgs' fetchers name: the
 * proxies (lib.fetchers.proxyImpureEnvVars) and the fetchers' own. */
static const char *const fetcher_vars[] = {
	"http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
	"FTP_PROXY", "ALL_PROXY", "NO_PROXY", "NIX_SSL_CERT_FILE", "NIX_CURL_FLAGS", "NIX_HASHED_MIRRORS",
	"NIX_CONNECT_TIMEOUT", "GIT_PROXY_COMMAND", "NIX_GIT_SSL_CAINFO", "SOCKS_SERVER",
};

static int fetcher_var(const char *w, size_t n)
{
	size_t i;

	if (n > 12 && !memcmp(w, "NIX_MIRRORS_", 12))
		return 1;
	for (i = 0; i < sizeof fetcher_vars / sizeof *fetcher_vars; i++)
		if (strlen(fetcher_vars[i]) == n && !memcmp(fetcher_vars[i], w, n))
			return 1;
	return 0;
}

/* Nix splits the list at blanks, tabs and line ends. */
static int impure_vars_ok(const char *v, size_t len)
{
	size_t i = 0, j;

	while (i < len) {
		if (strchr(" \t\n\r", v[i]) && v[i]) {
			i++;
			continue;
		}
		for (j = i; j < len && !(strchr(" \t\n\r", v[j]) && v[j]); j++)
			;
		if (!fetcher_var(v + i, j - i))
			return 0;
		i = j;
	}
	return 1;
}

int drv_env(struct drvinfo *f, const char *name, const char *v, size_t len)
{
	size_t i;

	if (!f->weak && !strcmp(name, "impureEnvVars") && !impure_vars_ok(v, len))
		f->weak = "impureEnvVars beyond the fetchers' proxy and mirror variables";

	for (i = 0; i < sizeof weakening / sizeof *weakening && !f->weak; i++)
		if (!strcmp(name, weakening[i].name) && (weakening[i].boolean ? len == 1 && v[0] == '1' : len > 0))
			f->weak = weakening[i].name;
	if (!strcmp(name, "__json")) {
		f->structured = 1;
		if (!f->weak)
			f->weak = json_weak(v, len);
	}
	if (strcmp(name, "requiredSystemFeatures"))
		return 0;
	if (len > DRV_FEATURES_MAX)
		return fail(EXIT_REFUSED, "requiredSystemFeatures of %zu bytes, more than the limit of %u",
			    len, DRV_FEATURES_MAX);
	memcpy(f->features, v, len);
	f->features[len] = 0;
	return 0;
}

/* An impure derivation's outputs are marked by the hash "impure". */
void drv_output(struct drvinfo *f, const struct drvout *o)
{
	if (!f->weak && !strcmp(o->hash, "impure"))
		f->weak = "__impure";
}
