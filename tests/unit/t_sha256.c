/* Unit tests of proto/sha256.c: both paths (the SHA instructions where the
 * CPU has them, and libsodium's) against FIPS 180-4's example vectors, and
 * against libsodium's one-shot hash over random lengths and random splits
 * of the input into update calls. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sha256.h"

static int hexeq(const unsigned char d[32], const char *hex)
{
	char x[65];
	size_t i;

	for (i = 0; i < 32; i++)
		snprintf(x + 2 * i, 3, "%02x", d[i]);
	return !strcmp(x, hex);
}

/* the paths this machine can run: libsodium's, and the SHA instructions if
 * present (said once, so a run without them shows it) */
static int paths(int out[2])
{
	static int said;
	int n = 0;

	out[n++] = 0;
	if (sha256_ni_available())
		out[n++] = 1;
	else if (!said++)
		printf("  sha256: no SHA instructions here; only libsodium's path tested\n");
	return n;
}

void t_sha256_nist(void)
{
	static const struct { const char *msg; const char *hex; } v[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	static unsigned char a[1000];
	struct sha256 s;
	unsigned char d[32];
	int p[2], np = paths(p), i, j, k;

	/* absent, the SHA-instruction path is refused, not silently replaced */
	CHECK(sha256_init_path(&s, 1) == (sha256_ni_available() ? 0 : -1));
	memset(a, 'a', sizeof a);
	for (i = 0; i < np; i++) {
		for (j = 0; j < (int)(sizeof v / sizeof *v); j++) {
			CHECK(sha256_init_path(&s, p[i]) == 0 && s.ni == p[i]);
			sha256_update(&s, v[j].msg, strlen(v[j].msg));
			sha256_final(&s, d);
			if (!hexeq(d, v[j].hex))
				printf("  path %d, vector %d\n", p[i], j);
			CHECK(hexeq(d, v[j].hex));
		}
		/* one million 'a', in 1000 updates */
		sha256_init_path(&s, p[i]);
		for (k = 0; k < 1000; k++)
			sha256_update(&s, a, sizeof a);
		sha256_final(&s, d);
		CHECK(hexeq(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
	}
	/* sha256_init takes the SHA instructions when they are there */
	sha256_init(&s);
	CHECK(s.ni == sha256_ni_available());
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

void t_sha256_random(void)
{
	static unsigned char buf[4096 + 64];
	unsigned char want[32], got[32];
	struct sha256 s;
	int p[2], np = paths(p), i, bad = 0;
	size_t len, j, off, k;

	for (j = 0; j < sizeof buf; j++)
		buf[j] = (unsigned char)next();
	for (len = 0; len <= 4096; len++) {
		/* an unaligned start now and then */
		const unsigned char *m = buf + (len % 7 ? 0 : len % 61);

		crypto_hash_sha256(want, m, len);
		for (i = 0; i < np; i++) {
			/* whole */
			sha256_init_path(&s, p[i]);
			sha256_update(&s, m, len);
			sha256_final(&s, got);
			bad += memcmp(got, want, 32) != 0;
			/* cut at random points, empty updates included */
			sha256_init_path(&s, p[i]);
			for (off = 0; off < len; off += k) {
				k = next() % 4 == 0 ? next() % 3 : next() % (len - off + 1);
				if (k > len - off)
					k = len - off;
				sha256_update(&s, m + off, k);
			}
			sha256_final(&s, got);
			if (memcmp(got, want, 32) && bad++ < 5)
				printf("  path %d, %zu bytes cut up: differs from libsodium's\n", p[i], len);
		}
	}
	CHECK(bad == 0);
}
