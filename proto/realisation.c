#include <stdio.h>
#include <string.h>

#include "err.h"
#include "realisation.h"

struct cur {
	const char *p, *end;
};

static int bad(const char *what)
{
	return fail(EXIT_SYSTEM, "a realisation that is not what Nix writes: %s", what);
}

static void ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int lit(struct cur *c, char ch)
{
	ws(c);
	if (c->p >= c->end || *c->p != ch)
		return -1;
	c->p++;
	return 0;
}

/* A string's bytes between its quotes, escapes left as they are; plain:
 * whether it has none. */
static int string(struct cur *c, const char **s, size_t *len, int *plain)
{
	if (lit(c, '"') < 0)
		return bad("a string expected");
	*s = c->p;
	*plain = 1;
	while (c->p < c->end && *c->p != '"') {
		if ((unsigned char)*c->p < 0x20)
			return bad("a control character in a string");
		if (*c->p == '\\') {
			*plain = 0;
			if (++c->p >= c->end)
				break;
		}
		c->p++;
	}
	if (c->p >= c->end)
		return bad("a string without its end");
	*len = (size_t)(c->p - *s);
	c->p++;
	return 0;
}

static int value(struct cur *c, unsigned depth);

/* The members or elements of an object or array, its opening consumed. */
static int items(struct cur *c, unsigned depth, char close)
{
	const char *s;
	size_t n;
	int plain;

	if (depth > REALISATION_DEPTH_MAX)
		return bad("nested too deep");
	ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return 0;
	}
	for (;;) {
		if (close == '}' && string(c, &s, &n, &plain) < 0)
			return -1;
		if (close == '}' && lit(c, ':') < 0)
			return bad("a colon expected");
		if (value(c, depth + 1) < 0)
			return -1;
		ws(c);
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return 0;
		}
		if (lit(c, ',') < 0)
			return bad("a comma expected");
	}
}

static int value(struct cur *c, unsigned depth)
{
	static const char *const words[] = {"true", "false", "null"};
	const char *s;
	size_t n, i;
	int plain;

	ws(c);
	if (c->p >= c->end)
		return bad("a value expected");
	if (*c->p == '"')
		return string(c, &s, &n, &plain);
	if (*c->p == '{' || *c->p == '[') {
		char close = *c->p == '{' ? '}' : ']';

		c->p++;
		return items(c, depth, close);
	}
	for (i = 0; i < 3; i++) {
		n = strlen(words[i]);
		if ((size_t)(c->end - c->p) >= n && !memcmp(c->p, words[i], n)) {
			c->p += n;
			return 0;
		}
	}
	for (s = c->p; c->p < c->end && *c->p && strchr("-+.eE0123456789", *c->p); c->p++)
		;
	return c->p > s ? 0 : bad("a value expected");
}

void drv_output_id(char id[DRV_OUTPUT_ID_MAX + 1], const unsigned char h[SHA256_BYTES], const char *out)
{
	char hex[2 * SHA256_BYTES + 1];

	hash_hex(hex, h, SHA256_BYTES);
	snprintf(id, DRV_OUTPUT_ID_MAX + 1, "sha256:%s!%s", hex, out);
}

const char *drv_output_id_fault(const char *s, size_t n)
{
	size_t i;

	if (n > DRV_OUTPUT_ID_MAX || n < 7 + 2 * SHA256_BYTES + 2 || memcmp(s, "sha256:", 7) ||
	    s[7 + 2 * SHA256_BYTES] != '!')
		return "an id that is not sha256:<hex>!<output>";
	for (i = 7; i < 7 + 2 * SHA256_BYTES; i++)
		if (!s[i] || !strchr("0123456789abcdef", s[i]))
			return "an id that is not sha256:<hex>!<output>";
	if (storename_check(s + 8 + 2 * SHA256_BYTES, n - 8 - 2 * SHA256_BYTES) < 0)
		return "an id whose output name is not a name";
	return NULL;
}

static int id_ok(const char *s, size_t n)
{
	const char *why = drv_output_id_fault(s, n);

	return why ? bad(why) : 0;
}

/* outPath is the path's base name; a whole store path is taken too. */
static int path_ok(char out[STORE_PATH_MAX + 1], const char *s, size_t n)
{
	size_t dir = sizeof STORE_DIR;

	if (n && s[0] == '/') {
		if (n > STORE_PATH_MAX)
			return bad("an outPath too long for a store path");
		memcpy(out, s, n);
		out[n] = 0;
	} else {
		if (dir + n > STORE_PATH_MAX)
			return bad("an outPath too long for a store path");
		memcpy(out, STORE_DIR "/", dir);
		memcpy(out + dir, s, n);
		out[dir + n] = 0;
	}
	if (storepath_check(out, strlen(out), EXIT_SYSTEM, "realisation outPath") < 0)
		return -1;
	return strlen(out) == (n && s[0] == '/' ? n : dir + n) ? 0 : bad("a NUL in the outPath");
}

int realisation_parse(struct realisation *r, const char *json, size_t len)
{
	struct cur c = {json, json + len};
	const char *k, *v;
	size_t kn, vn;
	int plain, have_id = 0, have_path = 0;

	r->id[0] = r->out_path[0] = 0;
	if (lit(&c, '{') < 0)
		return bad("not an object");
	ws(&c);
	if (c.p < c.end && *c.p == '}')
		return bad("no id and outPath");
	for (;;) {
		if (string(&c, &k, &kn, &plain) < 0)
			return -1;
		if (lit(&c, ':') < 0)
			return bad("a colon expected");
		if ((kn == 2 && !memcmp(k, "id", 2)) || (kn == 7 && !memcmp(k, "outPath", 7))) {
			int is_id = kn == 2, *seen = is_id ? &have_id : &have_path;

			if ((*seen)++)
				return bad(is_id ? "two ids" : "two outPaths");
			if (string(&c, &v, &vn, &plain) < 0)
				return -1;
			if (!plain)
				return bad("an escape in its id or outPath");
			if (is_id) {
				if (id_ok(v, vn) < 0)
					return -1;
				memcpy(r->id, v, vn);
				r->id[vn] = 0;
			} else if (path_ok(r->out_path, v, vn) < 0)
				return -1;
		} else if (value(&c, 1) < 0)
			return -1;
		ws(&c);
		if (c.p < c.end && *c.p == '}')
			break;
		if (lit(&c, ',') < 0)
			return bad("a comma expected");
	}
	c.p++;
	ws(&c);
	if (c.p != c.end)
		return bad("more after the object");
	if (!have_id || !have_path)
		return bad(have_id ? "no outPath" : "no id");
	return 0;
}
