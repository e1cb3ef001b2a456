#include <string.h>

#include "base32.h"
#include "hash.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Exactly 32 bytes from 44 characters of base64 (43 digits and one '='). */
static int b64_32(unsigned char out[SHA256_BYTES], const char *s)
{
	unsigned acc = 0;
	int bits = 0, i, v;
	size_t o = 0;

	if (s[43] != '=')
		return -1;
	for (i = 0; i < 43; i++) {
		if ((v = b64val((unsigned char)s[i])) < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < SHA256_BYTES)
				out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o == SHA256_BYTES && acc == 0 ? 0 : -1;
}

int hash_parse(unsigned char out[SHA256_BYTES], const char *s, size_t len)
{
	size_t i;

	if (len > 7 && memcmp(s, "sha256-", 7) == 0)
		return len == 7 + 44 ? b64_32(out, s + 7) : -1;
	if (len > 7 && memcmp(s, "sha256:", 7) == 0)
		s += 7, len -= 7;
	if (len == 64) {
		for (i = 0; i < 32; i++) {
			int a = hexval((unsigned char)s[2 * i]), b = hexval((unsigned char)s[2 * i + 1]);

			if (a < 0 || b < 0)
				return -1;
			out[i] = (unsigned char)(a << 4 | b);
		}
		return 0;
	}
	if (len == 52)
		return base32_decode(out, SHA256_BYTES, s, len);
	if (len == 44)
		return b64_32(out, s);
	return -1;
}

void hash_fmt32(char out[HASH_TEXT_MAX], const unsigned char h[SHA256_BYTES])
{
	memcpy(out, "sha256:", 7);
	base32_encode(out + 7, h, SHA256_BYTES);
}

void hash_hex(char *out, const unsigned char *h, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 15];
	}
	out[2 * n] = 0;
}

void hash_fmt16(char out[HASH_TEXT_MAX], const unsigned char h[SHA256_BYTES])
{
	hash_hex(out, h, SHA256_BYTES);
}
