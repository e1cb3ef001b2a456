/* Unit tests of proto/cahash.c and proto/cacheck.c: content addresses of
 * each kind checked against NARs made here (right and wrong content, the
 * wrong file types), and hashing modulo a path's own hash part against a
 * path made by Nix 2.8 (`nix store make-content-addressed` of a build whose
 * output is its own path and a newline, in a throwaway store:
 *   derivation { name = "selfref"; builder = "/bin/sh";
 *                args = ["-c" "echo $out > $out"]; ... }
 * its path and content address below are what Nix printed). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cacheck.h"
#include "check.h"
#include "err.h"
#include "md5.h"
#include "sha1.h"
#include "wire.h"

#define SELF "/nix/store/j9xpm5a9yzp9v5slnxsgvay2lnwqi2l6-selfref"
#define SELF_CA "fixed:r:sha256:14869lj9vs5fmpd0f1p5msrn1jdl7hd146xaimv4l6zivgmc71zl"
#define ANY "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-x"

static unsigned char nar[4096];
static size_t narlen;

static void tok(const char *s, size_t n)
{
	le64_put(nar + narlen, n);
	memcpy(nar + narlen + 8, s, n);
	narlen += 8 + n;
	while (narlen % 8)
		nar[narlen++] = 0;
}

static void toks(const char *s)
{
	tok(s, strlen(s));
}

enum { REG, EXEC, LINK, DIR };

/* nix-archive-1 with one node of kind holding data (a directory holds one
 * regular file named f) */
static void mknar(int kind, const char *data)
{
	narlen = 0;
	toks("nix-archive-1");
	toks("(");
	toks("type");
	switch (kind) {
	case REG:
	case EXEC:
		toks("regular");
		if (kind == EXEC)
			toks("executable"), toks("");
		toks("contents");
		toks(data);
		break;
	case LINK:
		toks("symlink");
		toks("target");
		toks(data);
		break;
	default:
		toks("directory");
		toks("entry"), toks("("), toks("name"), toks("f"), toks("node");
		toks("("), toks("type"), toks("regular"), toks("contents"), toks(data), toks(")");
		toks(")");
	}
	toks(")");
}

static void hexs(char *out, const unsigned char *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* "fixed:[r:]algo:<hex>" (or "text:sha256:<hex>") of p */
static void claim(char *out, const char *kind, const char *algo, const void *p, size_t n)
{
	struct anyhash h;
	unsigned char d[CAHASH_BYTES_MAX];
	size_t len = anyhash_init(&h, algo);

	anyhash_update(&h, p, n);
	anyhash_final(&h, d);
	sprintf(out, "%s%s:", kind, algo);
	hexs(out + strlen(out), d, len);
}

/* the check of ca over the NAR in nar, fed in pieces of step bytes */
static int run(const char *ca, const char *path, int suffix, size_t step, char *why)
{
	static struct nar n;
	static struct cacheck k;
	size_t i, m;
	int r;

	nar_init(&n);
	if (cacheck_init(&k, ca, path, &n) < 0)
		return -1;
	for (i = 0; i < narlen; i += m) {
		m = narlen - i < step ? narlen - i : step;
		if (nar_feed(&n, nar + i, m) != (ssize_t)m)
			return -1;
		cacheck_nar(&k, nar + i, m);
	}
	if (!nar_done(&n))
		return -1;
	why[0] = 0;
	r = cacheck_done(&k, suffix, why, 512);
	cacheck_free(&k);
	return r;
}

static int holds(const char *ca, const char *path, int suffix)
{
	char why[512];
	size_t steps[] = {1, 7, 64, 4096};
	int r = run(ca, path, suffix, steps[0], why), i;

	for (i = 1; i < 4; i++)
		if (run(ca, path, suffix, steps[i], why) != r)
			return -2;
	return r;
}

static int refused_for(const char *ca, const char *what)
{
	char why[512];

	return run(ca, ANY, 1, 4096, why) == 1 && strstr(why, what);
}

void t_cacheck_text(void)
{
	char ca[256];

	mknar(REG, "Derive([])");
	claim(ca, "text:", "sha256", "Derive([])", 10);
	CHECK(holds(ca, ANY, 1) == 0 && holds(ca, ANY, 0) == 0 && holds(ca, ANY, -1) == 0);
	mknar(REG, "Derive([x])");
	CHECK(refused_for(ca, "its content is not what its content address says"));
	/* the daemon hashes a symlink's or an executable file's contents as if
	 * they were the file: the claim would hold for it */
	claim(ca, "text:", "sha256", "", 0);
	mknar(LINK, "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-q");
	CHECK(refused_for(ca, "text: content address needs one regular file, and its NAR is a symlink"));
	mknar(DIR, "");
	CHECK(refused_for(ca, "its NAR is a directory"));
	mknar(EXEC, "");
	CHECK(refused_for(ca, "needs a file that is not executable"));
	mknar(REG, "");
	CHECK(holds(ca, ANY, 1) == 0);
}

void t_cacheck_flat(void)
{
	static const char *algos[] = {"md5", "sha1", "sha256", "sha512"};
	char ca[256];
	size_t i;

	for (i = 0; i < 4; i++) {
		claim(ca, "fixed:", algos[i], "tarball bytes", 13);
		mknar(REG, "tarball bytes");
		CHECK(holds(ca, ANY, 1) == 0 && holds(ca, ANY, 0) == 0);
		mknar(REG, "tarball bytez");
		CHECK(refused_for(ca, "its content is not what its content address says"));
		CHECK(refused_for(ca, algos[i]));
		mknar(EXEC, "tarball bytes");
		CHECK(refused_for(ca, "flat fixed: content address needs a file that is not executable"));
		mknar(DIR, "tarball bytes");
		CHECK(refused_for(ca, "its NAR is a directory"));
	}
	claim(ca, "fixed:", "sha256", "", 0);
	mknar(LINK, "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-q");
	CHECK(refused_for(ca, "its NAR is a symlink"));
}

void t_cacheck_recursive(void)
{
	static const char *algos[] = {"md5", "sha1", "sha256", "sha512"};
	static const int kinds[] = {REG, EXEC, LINK, DIR};
	char ca[256];
	size_t i, j;

	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++) {
			mknar(kinds[j], "some tree");
			claim(ca, "fixed:r:", algos[i], nar, narlen);
			CHECK(holds(ca, ANY, 1) == 0 && holds(ca, ANY, -1) == 0);
			mknar(kinds[j], "some trey");
			CHECK(refused_for(ca, "its content is not what its content address says"));
		}
}

/* Nix 2.8 zeroes the path's hash part and hashes "|<offset>" of each after;
 * 2.17 on only zeroes it. */
void t_cacheck_self(void)
{
	unsigned char z[4096], d[32];
	char ca[256], why[512], *at;
	struct sha256 st;

	mknar(REG, SELF "\n");
	CHECK(holds(SELF_CA, SELF, 1) == 0);
	CHECK(run(SELF_CA, SELF, 0, 4096, why) == 1 && strstr(why, "its content is not"));
	CHECK(run(SELF_CA, SELF, -1, 4096, why) == 1 && strstr(why, "does not say which Nix"));
	/* the same claim for another path: no self-reference to take out */
	CHECK(holds(SELF_CA, ANY, 1) == 1);
	/* 2.17's form, made here by zeroing: the hash part is at 107 */
	memcpy(z, nar, narlen);
	at = memmem(z, narlen, SELF + 11, 32);
	CHECK(at && at - (char *)z == 107);
	memset(at, 0, 32);
	claim(ca, "fixed:r:", "sha256", z, narlen);
	CHECK(holds(ca, SELF, 0) == 0 && holds(ca, SELF, 1) == 1);
	sha256_init(&st);
	sha256_update(&st, z, narlen);
	sha256_update(&st, "|107", 4);
	sha256_final(&st, d);
	strcpy(ca, "fixed:r:sha256:");
	hexs(ca + strlen(ca), d, 32);
	CHECK(holds(ca, SELF, 1) == 0);
	/* a byte changed beside the reference */
	nar[147] ^= 1; /* its newline */
	CHECK(holds(SELF_CA, SELF, 1) == 1);
}

/* occurrences overlapping a piece boundary, back to back, and a
 * stream full of them */
void t_cahash_pieces(void)
{
	static unsigned char buf[3 * CAHASH_PIECE];
	unsigned char a[CAHASH_BYTES_MAX], b[CAHASH_BYTES_MAX], a2[CAHASH_BYTES_MAX], b2[CAHASH_BYTES_MAX];
	const char *part = SELF + 11;
	struct cahash c;
	size_t i, offs[] = {0, 32, CAHASH_PIECE - 5, 2 * CAHASH_PIECE - 31, sizeof buf - 32};

	memset(buf, 'x', sizeof buf);
	for (i = 0; i < sizeof offs / sizeof *offs; i++)
		memcpy(buf + offs[i], part, 32);
	CHECK(cahash_init(&c, "sha1", part) == 0);
	cahash_update(&c, buf, sizeof buf);
	CHECK(c.nself == 0 || c.nself == 5);
	CHECK(cahash_final(&c, a, b) == 0);
	CHECK(cahash_init(&c, "sha1", part) == 0);
	for (i = 0; i < sizeof buf; i++)
		cahash_update(&c, buf + i, 1);
	CHECK(c.nself == 5 && c.self[2] == CAHASH_PIECE - 5 && c.self[4] == sizeof buf - 32);
	CHECK(cahash_final(&c, a2, b2) == 0);
	CHECK(!memcmp(a, a2, SHA1_BYTES) && !memcmp(b, b2, SHA1_BYTES) && memcmp(a, b, SHA1_BYTES));
	CHECK(cahash_init(&c, "sha1", part) == 0);
	for (i = 0; i + 32 <= sizeof buf && i < 32 * (CAHASH_SELF_MAX + 1); i += 32)
		cahash_update(&c, (const unsigned char *)part, 32);
	for (; i < 32 * (CAHASH_SELF_MAX + 1); i += 32)
		cahash_update(&c, (const unsigned char *)part, 32);
	CHECK(cahash_final(&c, a, b) == -1 && strstr(err_msg(), "more than 65536 times"));
	err_clear();
	CHECK(cahash_init(&c, "sha3", part) == -1);
	err_clear();
}

void t_cacheck_versions(void)
{
	CHECK(cacheck_suffix("2.8.0") == 1);
	CHECK(cacheck_suffix("2.16.2") == 1);
	CHECK(cacheck_suffix("1.11") == 1);
	CHECK(cacheck_suffix("2.17.0") == 0);
	CHECK(cacheck_suffix("2.26.3") == 0);
	CHECK(cacheck_suffix("2.34.1") == 0);
	CHECK(cacheck_suffix("3.0") == 0);
	CHECK(cacheck_suffix("") == -1);
	CHECK(cacheck_suffix("nix") == -1);
	CHECK(cacheck_suffix("2") == -1);
}
