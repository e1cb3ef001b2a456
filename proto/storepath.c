#include <string.h>

#include "base32.h"
#include "err.h"
#include "storepath.h"

/* The most of a path an error message shows. */
#define STORE_SHOWN_MAX 91

static int name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("+-._?=", c) != NULL;
}

int storename_check(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > STORE_NAME_MAX || s[0] == '.')
		return -1;
	for (i = 0; i < len; i++)
		if (!s[i] || !name_char((unsigned char)s[i]))
			return -1;
	return 0;
}

int storepath_check(const char *s, size_t len, int kind, const char *what)
{
	const size_t dir = sizeof STORE_DIR - 1;
	/* s need not end at len (the path of path!out, a derivation's buffer):
	 * messages show at most len bytes of it */
	const int shown = (int)(len < STORE_SHOWN_MAX ? len : STORE_SHOWN_MAX);
	const char *h;
	size_t i;

	if (len < dir + 1 || memcmp(s, STORE_DIR "/", dir + 1) != 0)
		return fail(kind, "%s '%.*s' is not in %s", what, shown, s, STORE_DIR);
	h = s + dir + 1;
	if (len < dir + 1 + STORE_HASH_CHARS + 2 || h[STORE_HASH_CHARS] != '-')
		return fail(kind, "%s '%.*s' has no 32-character hash part", what, shown, s);
	for (i = 0; i < STORE_HASH_CHARS; i++)
		if (!base32_char_ok((unsigned char)h[i]))
			return fail(kind, "%s '%.*s' has a hash character outside Nix's base32", what, shown, s);
	if (storename_check(h + STORE_HASH_CHARS + 1, len - dir - 1 - STORE_HASH_CHARS - 1) < 0)
		return fail(kind, "%s '%.*s' has an invalid name", what, shown, s);
	return 0;
}

const char *storepath_name(const char *path)
{
	return path + sizeof STORE_DIR + STORE_HASH_CHARS + 1;
}

static int is_drv(const char *path, size_t n)
{
	return n > 4 && memcmp(path + n - 4, ".drv", 4) == 0;
}

int storepath_is_drv(const char *path)
{
	return is_drv(path, strlen(path));
}

int path_outputs_check(const char *s, size_t len, int kind)
{
	const char *bang = memchr(s, '!', len), *o, *e, *end = s + len;

	if (!bang)
		return storepath_check(s, len, kind, "build path");
	if (storepath_check(s, (size_t)(bang - s), kind, "build path") < 0)
		return -1;
	if (!is_drv(s, (size_t)(bang - s)))
		return fail(kind, "build path '%.*s' names outputs of a path that is not a .drv",
			    (int)(bang - s), s);
	o = bang + 1;
	if (end - o == 1 && *o == '*')
		return 0;
	for (;;) {
		e = memchr(o, ',', (size_t)(end - o));
		if (!e)
			e = end;
		if (storename_check(o, (size_t)(e - o)) < 0)
			return fail(kind, "build path '%.*s' has an invalid output name", (int)len, s);
		if (e == end)
			return 0;
		o = e + 1;
	}
}
