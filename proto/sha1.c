/* SHA-1 written from FIPS 180-4, sections 5.1.1 (padding), 6.1 (the 80
 * steps over big-endian words and their expansion). */
#include <string.h>

#include "sha1.h"

static uint32_t rol(uint32_t x, unsigned s)
{
	return x << s | x >> (32 - s);
}

static void block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f, k, t;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       (uint32_t)p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void sha1_init(struct sha1 *s)
{
	static const uint32_t iv[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};

	memcpy(s->h, iv, sizeof iv);
	s->n = 0;
}

void sha1_update(struct sha1 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t have = (size_t)(s->n % 64), k;

	s->n += n;
	if (have) {
		k = 64 - have < n ? 64 - have : n;
		memcpy(s->buf + have, p, k);
		p += k;
		n -= k;
		if (have + k < 64)
			return;
		block(s->h, s->buf);
	}
	for (; n >= 64; p += 64, n -= 64)
		block(s->h, p);
	memcpy(s->buf, p, n);
}

void sha1_final(struct sha1 *s, unsigned char out[SHA1_BYTES])
{
	uint64_t bits = s->n * 8;
	unsigned char pad[72] = {0x80};
	size_t have = (size_t)(s->n % 64), padn = have < 56 ? 56 - have : 120 - have;
	unsigned i;

	for (i = 0; i < 8; i++)
		pad[padn + i] = (unsigned char)(bits >> (8 * (7 - i)));
	sha1_update(s, pad, padn + 8);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(s->h[i / 4] >> (8 * (3 - i % 4)));
}
