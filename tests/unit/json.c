/* json: the golden vectors' JSON, only as much as their .json files need. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "storepath.h"

/* Drops the whitespace outside strings: the files are pretty-printed. */
void compact(char *dst, size_t cap, const char *s, size_t n)
{
	size_t o = 0, i;
	int str = 0;

	for (i = 0; i < n && o + 2 < cap; i++) {
		char c = s[i];

		if (str) {
			if (c == '\\' && i + 1 < n) {
				dst[o++] = c;
				c = s[++i];
			} else if (c == '"')
				str = 0;
		} else if (c == '"')
			str = 1;
		else if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
			continue;
		dst[o++] = c;
	}
	dst[o] = 0;
}

/* The length of the compact value at s. */
size_t value_len(const char *s)
{
	size_t i;
	int depth = 0, str = 0;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"' && (str = 0, depth == 0))
				return i + 1;
		} else if (c == '"')
			str = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (c == ',' && depth == 0)
			return i;
	}
	return i;
}

int copy_value(const char *p, char *out, size_t cap)
{
	size_t n = value_len(p);

	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

/* Element i of a compact array. */
int json_elem(const char *arr, int i, char *out, size_t cap)
{
	const char *p = arr + 1;

	if (arr[0] != '[')
		return -1;
	for (; i > 0; i--) {
		p += value_len(p);
		if (*p++ != ',')
			return -1;
	}
	return copy_value(p, out, cap);
}

/* The value of the first "key" in s, at any depth. */
int json_get(const char *s, const char *key, char *out, size_t cap)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\":", key);
	if (!(p = strstr(s, pat)))
		return -1;
	return copy_value(p + strlen(pat), out, cap);
}

/* A string value without its quotes; other values as they are. */
const char *unq(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '"') {
		v[n - 1] = 0;
		return v + 1;
	}
	return v;
}

uint64_t json_num(const char *s, const char *key)
{
	char v[64];

	return json_get(s, key, v, sizeof v) < 0 ? UINT64_MAX : strtoull(v, NULL, 10);
}

int json_bool(const char *s, const char *key)
{
	char v[16];

	return json_get(s, key, v, sizeof v) == 0 && !strcmp(v, "true");
}

int count(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* Decoded values rendered as compact JSON, to compare with the file's. */
char jb[JSON_MAX];
size_t jn;

void jput(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void jput(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jn += (size_t)vsnprintf(jb + jn, sizeof jb - jn, fmt, ap);
	va_end(ap);
	if (jn >= sizeof jb)
		jn = sizeof jb - 1;
}

void jstart(void)
{
	jn = 0;
	jb[0] = 0;
}

/* Store paths appear in the JSON without the store directory. */
const char *base(const char *path)
{
	return path[0] == '/' ? path + sizeof STORE_DIR : path;
}

void jpath(const char *path)
{
	if (path[0])
		jput("\"%s\"", base(path));
	else
		jput("null");
}

void json_is(const char *js, const char *what)
{
	if (js && strcmp(js, jb)) {
		printf("  %s: decoded %s\n  %*s  .json  %s\n", what, jb, (int)strlen(what), "", js);
		CHECK(0);
	}
}

/* The rendering so far against the value of key in js; then a fresh one,
 * for the parts of a value that are checked one by one. */
void json_part(const char *js, const char *key)
{
	static char v[JSON_MAX];

	if (js) {
		CHECK(json_get(js, key, v, sizeof v) == 0);
		json_is(v, key);
	}
	jstart();
}
