/* SHA-256 (FIPS 180-4) with the x86 SHA extensions, written from the
 * algorithm and Intel's description of the instructions:
 *
 *   SHA256RNDS2 dst, src, <xmm0>: two rounds. dst holds C,D,G,H (bits 127-96,
 *     95-64, 63-32, 31-0), src A,B,E,F, xmm0's low two lanes W+K of the two
 *     rounds; the result is the new A,B,E,F. The new C,D,G,H are the old
 *     A,B,E,F, so two registers that swap roles every two rounds hold the
 *     whole state.
 *   SHA256MSG1 a, b: lane i of a (W[t+i], t the oldest) plus sigma0 of the
 *     next word (lane i+1, lane 0 of b for i = 3).
 *   SHA256MSG2 a, b: adds sigma1(W[t-2]) to each lane of a, taking W[t-2]
 *     and W[t-1] from the top two lanes of b for the first two and the
 *     results just made for the last two.
 *
 * so that W[16..19] = MSG2(MSG1(W0-3, W4-7) + W9-12, W12-15), W9-12 being
 * the 4-byte right shift of W12-15:W8-11 (PALIGNR). Message words are big-
 * endian: each 32-bit lane is byte-swapped with PSHUFB after the load. */
#include <string.h>

#include "sha256.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

static const uint32_t K[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* four rounds, k the first one's number */
#define ROUNDS4(w, k)                                                                   \
	do {                                                                            \
		__m128i wk_ = _mm_add_epi32((w), _mm_load_si128((const __m128i *)(K + (k)))); \
		cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                          \
		abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0e)); \
	} while (0)
/* a (the oldest four words) becomes the next four */
#define NEXT4(a, b, c, d) \
	(a = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(a, b), _mm_alignr_epi8(d, c, 4)), d))
#define SIXTEEN(k)                                     \
	do {                                           \
		NEXT4(m0, m1, m2, m3); ROUNDS4(m0, k);      \
		NEXT4(m1, m2, m3, m0); ROUNDS4(m1, k + 4);  \
		NEXT4(m2, m3, m0, m1); ROUNDS4(m2, k + 8);  \
		NEXT4(m3, m0, m1, m2); ROUNDS4(m3, k + 12); \
	} while (0)

__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
	const __m128i swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
	/* _mm_set_epi32 takes the top lane first */
	__m128i abef = _mm_set_epi32((int)h[0], (int)h[1], (int)h[4], (int)h[5]);
	__m128i cdgh = _mm_set_epi32((int)h[2], (int)h[3], (int)h[6], (int)h[7]);
	uint32_t t[4];

	for (; n; n--, p += 64) {
		const __m128i abef0 = abef, cdgh0 = cdgh;
		__m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), swap);
		__m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), swap);
		__m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), swap);
		__m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), swap);

		ROUNDS4(m0, 0);
		ROUNDS4(m1, 4);
		ROUNDS4(m2, 8);
		ROUNDS4(m3, 12);
		SIXTEEN(16);
		SIXTEEN(32);
		SIXTEEN(48);
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	_mm_storeu_si128((__m128i *)t, abef); /* F E B A */
	h[0] = t[3], h[1] = t[2], h[4] = t[1], h[5] = t[0];
	_mm_storeu_si128((__m128i *)t, cdgh); /* H G D C */
	h[2] = t[3], h[3] = t[2], h[6] = t[1], h[7] = t[0];
}

static int detect(void)
{
	unsigned a, b, c, d;

	if (__get_cpuid_max(0, NULL) < 7)
		return 0;
	__cpuid(1, a, b, c, d);
	if (!(c & (1u << 9)) || !(c & (1u << 19))) /* SSSE3, SSE4.1 */
		return 0;
	__cpuid_count(7, 0, a, b, c, d);
	return (b >> 29) & 1; /* SHA */
}

int sha256_ni_available(void)
{
	static int have = -1; /* CPUID once: in a VM it is a trap to the host */

	if (have < 0)
		have = detect();
	return have;
}
#else
static void blocks_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
	(void)h, (void)p, (void)n;
}

int sha256_ni_available(void)
{
	return 0;
}
#endif

int sha256_init_path(struct sha256 *s, int ni)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	if (ni && !sha256_ni_available())
		return -1;
	s->ni = ni != 0;
	if (!s->ni)
		return crypto_hash_sha256_init(&s->u.so), 0;
	memcpy(s->u.x.h, iv, sizeof iv);
	s->u.x.n = 0;
	return 0;
}

void sha256_init(struct sha256 *s)
{
	sha256_init_path(s, sha256_ni_available());
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t have;

	if (!s->ni) {
		crypto_hash_sha256_update(&s->u.so, p, (unsigned long long)n);
		return;
	}
	if (n == 0)
		return;
	have = (size_t)(s->u.x.n & 63);
	s->u.x.n += n;
	if (have) {
		size_t take = 64 - have < n ? 64 - have : n;

		memcpy(s->u.x.buf + have, p, take);
		p += take, n -= take;
		if (have + take < 64)
			return;
		blocks_ni(s->u.x.h, s->u.x.buf, 1);
	}
	if (n >= 64) {
		blocks_ni(s->u.x.h, p, n / 64);
		p += n & ~(size_t)63;
		n &= 63;
	}
	if (n)
		memcpy(s->u.x.buf, p, n);
}

void sha256_final(struct sha256 *s, unsigned char out[32])
{
	size_t have, i;
	uint64_t bits;

	if (!s->ni) {
		crypto_hash_sha256_final(&s->u.so, out);
		return;
	}
	have = (size_t)(s->u.x.n & 63);
	bits = s->u.x.n << 3;
	s->u.x.buf[have++] = 0x80;
	if (have > 56) {
		memset(s->u.x.buf + have, 0, 64 - have);
		blocks_ni(s->u.x.h, s->u.x.buf, 1);
		have = 0;
	}
	memset(s->u.x.buf + have, 0, 56 - have);
	for (i = 0; i < 8; i++)
		s->u.x.buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	blocks_ni(s->u.x.h, s->u.x.buf, 1);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->u.x.h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->u.x.h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->u.x.h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->u.x.h[i];
	}
	memset(s, 0, sizeof *s);
}
