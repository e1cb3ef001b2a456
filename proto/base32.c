#include <string.h>

#include "base32.h"

static const char chars[] = "0123456789abcdfghijklmnpqrsvwxyz";

size_t base32_len(size_t n)
{
	return n == 0 ? 0 : (n * 8 - 1) / 5 + 1;
}

void base32_encode(char *out, const unsigned char *in, size_t n)
{
	size_t len = base32_len(n), k;

	for (k = 0; k < len; k++) {
		size_t g = len - 1 - k, b = g * 5, i = b / 8, j = b % 8;
		unsigned c = in[i] >> j;

		if (i + 1 < n)
			c |= (unsigned)in[i + 1] << (8 - j);
		out[k] = chars[c & 0x1f];
	}
	out[len] = 0;
}

static int digit(int c)
{
	const char *p;

	if (c == 0 || !(p = strchr(chars, c)))
		return -1;
	return (int)(p - chars);
}

int base32_char_ok(int c)
{
	return digit(c) >= 0;
}

int base32_decode(unsigned char *out, size_t n, const char *in, size_t len)
{
	size_t k;

	if (len != base32_len(n))
		return -1;
	memset(out, 0, n);
	for (k = 0; k < len; k++) {
		int d = digit((unsigned char)in[len - 1 - k]);
		size_t b = k * 5, i = b / 8, j = b % 8;

		if (d < 0)
			return -1;
		out[i] |= (unsigned char)(d << j);
		if (i + 1 < n)
			out[i + 1] |= (unsigned char)(d >> (8 - j));
		else if (d >> (8 - j))
			return -1;
	}
	return 0;
}
