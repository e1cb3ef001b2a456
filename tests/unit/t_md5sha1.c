/* Unit tests of proto/md5.c and proto/sha1.c: the RFC 1321 (appendix A.5)
 * and FIPS 180 example vectors, and the same digests over every split of
 * the input into two update calls. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "md5.h"
#include "sha1.h"

static int hexeq(const unsigned char *d, size_t n, const char *hex)
{
	char x[2 * 64 + 1];
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(x + 2 * i, 3, "%02x", d[i]);
	return !strcmp(x, hex);
}

static void md5_of(const char *s, size_t n, size_t split, unsigned char out[MD5_BYTES])
{
	struct md5 m;

	md5_init(&m);
	md5_update(&m, s, split);
	md5_update(&m, s + split, n - split);
	md5_final(&m, out);
}

static void sha1_of(const char *s, size_t n, size_t split, unsigned char out[SHA1_BYTES])
{
	struct sha1 h;

	sha1_init(&h);
	sha1_update(&h, s, split);
	sha1_update(&h, s + split, n - split);
	sha1_final(&h, out);
}

void t_md5_rfc1321(void)
{
	static const struct { const char *in, *out; } v[] = {
		{"", "d41d8cd98f00b204e9800998ecf8427e"},
		{"a", "0cc175b9c0f1b6a831c399e269772661"},
		{"abc", "900150983cd24fb0d6963f7d28e17f72"},
		{"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
		{"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
		{"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		 "57edf4a22be3c955ac49da2e2107b67a"},
	};
	unsigned char d[MD5_BYTES];
	size_t i, k, n;

	for (i = 0; i < sizeof v / sizeof *v; i++)
		for (n = strlen(v[i].in), k = 0; k <= n; k++) {
			md5_of(v[i].in, n, k, d);
			CHECK(hexeq(d, MD5_BYTES, v[i].out));
		}
}

void t_sha1_fips(void)
{
	static const struct { const char *in, *out; } v[] = {
		{"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		 "a49b2446a02c645bf419f995b67091253a04a259"},
	};
	static char mil[1000000];
	unsigned char d[SHA1_BYTES];
	size_t i, k, n;

	for (i = 0; i < sizeof v / sizeof *v; i++)
		for (n = strlen(v[i].in), k = 0; k <= n; k++) {
			sha1_of(v[i].in, n, k, d);
			CHECK(hexeq(d, SHA1_BYTES, v[i].out));
		}
	memset(mil, 'a', sizeof mil);
	sha1_of(mil, sizeof mil, 333333, d);
	CHECK(hexeq(d, SHA1_BYTES, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"));
	md5_of(mil, sizeof mil, 77, d);
	CHECK(hexeq(d, MD5_BYTES, "7707d6ae4e027c70eea2a935c2296f21"));
}
