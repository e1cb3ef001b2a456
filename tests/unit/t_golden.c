/* Golden vectors of Nix's own test suite (serve-protocol/, worker-protocol/):
 * every .bin file decoded into C values and encoded again byte for byte,
 * some of the values checked against the .json beside it. Types nixgate
 * uses go through its own codecs; the others are read here from the wire
 * primitives. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildresult.h"
#include "check.h"
#include "err.h"
#include "hash.h"
#include "pathinfo.h"
#include "pathset.h"
#include "serve.h"
#include "serveopts.h"
#include "storepath.h"
#include "wire.h"
#include "worker.h"

#define FILE_MAX (1 << 16)
#define JSON_MAX (1 << 16)
#define LIST_MAX 16

/* One value: read from r, written to w, and either rendered as JSON (into
 * jb, which the driver compares with js) or compared with js by the codec;
 * js is compact, NULL when there is no .json. i is the value's place in the
 * file. */
typedef int (*codec)(struct rd *r, struct wr *w, unsigned minor, int i, const char *js);

struct vec {
	const char *name;
	codec fn;
	unsigned minor;   /* the protocol minor the file's name gives */
	int n;            /* values in the file */
};

/* --- JSON: only as much as the .json files need --- */

/* Drops the whitespace outside strings: the files are pretty-printed. */
static void compact(char *dst, size_t cap, const char *s, size_t n)
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
static size_t value_len(const char *s)
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

static int copy_value(const char *p, char *out, size_t cap)
{
	size_t n = value_len(p);

	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

/* Element i of a compact array. */
static int json_elem(const char *arr, int i, char *out, size_t cap)
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
static int json_get(const char *s, const char *key, char *out, size_t cap)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\":", key);
	if (!(p = strstr(s, pat)))
		return -1;
	return copy_value(p + strlen(pat), out, cap);
}

/* A string value without its quotes; other values as they are. */
static const char *unq(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '"') {
		v[n - 1] = 0;
		return v + 1;
	}
	return v;
}

static uint64_t json_num(const char *s, const char *key)
{
	char v[64];

	return json_get(s, key, v, sizeof v) < 0 ? UINT64_MAX : strtoull(v, NULL, 10);
}

static int json_bool(const char *s, const char *key)
{
	char v[16];

	return json_get(s, key, v, sizeof v) == 0 && !strcmp(v, "true");
}

static int count(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* Decoded values rendered as compact JSON, to compare with the file's. */
static char jb[JSON_MAX];
static size_t jn;

static void jput(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void jput(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jn += (size_t)vsnprintf(jb + jn, sizeof jb - jn, fmt, ap);
	va_end(ap);
	if (jn >= sizeof jb)
		jn = sizeof jb - 1;
}

static void jstart(void)
{
	jn = 0;
	jb[0] = 0;
}

/* Store paths appear in the JSON without the store directory. */
static const char *base(const char *path)
{
	return path[0] == '/' ? path + sizeof STORE_DIR : path;
}

static void jpath(const char *path)
{
	if (path[0])
		jput("\"%s\"", base(path));
	else
		jput("null");
}

static void json_is(const char *js, const char *what)
{
	if (js && strcmp(js, jb)) {
		printf("  %s: decoded %s\n  %*s  .json  %s\n", what, jb, (int)strlen(what), "", js);
		CHECK(0);
	}
}

/* The rendering so far against the value of key in js; then a fresh one,
 * for the parts of a value that are checked one by one. */
static void json_part(const char *js, const char *key)
{
	static char v[JSON_MAX];

	if (js) {
		CHECK(json_get(js, key, v, sizeof v) == 0);
		json_is(v, key);
	}
	jstart();
}

/* --- the codecs --- */

/* A string of at most max bytes, rendered with fmt. */
static int str_value(struct rd *r, struct wr *w, size_t max, const char *fmt)
{
	char s[REALISATION_MAX + 1];
	size_t n;

	if (rd_str(r, s, max, &n, "string") < 0 || wr_str(w, s, n) < 0)
		return -1;
	jput(fmt, s);
	return 0;
}

static int c_string(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return str_value(r, w, 255, "\"%s\"");
}

/* Before 2.8 and realisation-with-path-not-hash, a DrvOutput is
 * "sha256:<hash>!<output>" and a Realisation is JSON text: compact, as the
 * .json is once it is compact. */
static int c_output_id(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return str_value(r, w, REALISATION_MAX, "\"%s\"");
}

static int c_realisation_json(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return str_value(r, w, REALISATION_MAX, "%s");
}

static int path_value(struct rd *r, struct wr *w, int optional)
{
	char p[STORE_PATH_MAX + 1];

	if (storepath_read(r, p, optional, "path") < 0 || wr_cstr(w, p) < 0)
		return -1;
	jpath(p);
	return 0;
}

static int c_path(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return path_value(r, w, 0);
}

static int c_opt_path(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return path_value(r, w, 1);
}

static int strings(struct rd *r, struct wr *w)
{
	char s[256];
	uint64_t n, j;

	if (rd_count(r, &n, LIST_MAX, "list") < 0 || wr_u64(w, n) < 0)
		return -1;
	jput("[");
	for (j = 0; j < n; j++) {
		if (rd_str(r, s, sizeof s - 1, NULL, "string") < 0 || wr_cstr(w, s) < 0)
			return -1;
		jput("%s\"%s\"", j ? "," : "", s);
	}
	jput("]");
	return 0;
}

/* A list of strings, or (the fourth value of set and vector) of lists. */
static int c_list(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	uint64_t n, j;

	if (i < 3)
		return strings(r, w);
	if (rd_count(r, &n, LIST_MAX, "list") < 0 || wr_u64(w, n) < 0)
		return -1;
	jput("[");
	for (j = 0; j < n; j++) {
		jput("%s", j ? "," : "");
		if (strings(r, w) < 0)
			return -1;
	}
	jput("]");
	return 0;
}

/* A content address against its JSON {"hash": SRI, "method": ...}. */
static void ca_json(const char *ca, const char *js)
{
	static const struct { const char *prefix, *method; } forms[] = {
		{"text:", "text"}, {"fixed:r:", "nar"}, {"fixed:", "flat"},
	};
	unsigned char a[SHA256_BYTES], b[SHA256_BYTES];
	const char *h = NULL, *b64;
	char m[32], sri[128];
	size_t k;

	if (!js)
		return;
	for (k = 0; k < sizeof forms / sizeof *forms && !h; k++)
		if (!strncmp(ca, forms[k].prefix, strlen(forms[k].prefix)))
			h = ca + strlen(forms[k].prefix);
	CHECK(h && json_get(js, "method", m, sizeof m) == 0 && !strcmp(unq(m), forms[k - 1].method));
	CHECK(json_get(js, "hash", sri, sizeof sri) == 0);
	/* hash.c reads SHA-256 only: the SHA-1 address keeps its hash unchecked */
	if (!h || strncmp(h, "sha256:", 7))
		return;
	b64 = unq(sri);
	CHECK(hash_parse(a, h, strlen(h)) == 0 && hash_parse(b, b64, strlen(b64)) == 0 && !memcmp(a, b, sizeof a));
}

static int ca_value(struct rd *r, struct wr *w, int optional, const char *js)
{
	char ca[CA_MAX + 1];

	if (rd_str(r, ca, CA_MAX, NULL, "content address") < 0 || wr_cstr(w, ca) < 0)
		return -1;
	if (ca[0])
		ca_json(ca, js);
	else
		CHECK(optional && (!js || !strcmp(js, "null")));
	return 0;
}

static int c_ca(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return ca_value(r, w, 0, js);
}

static int c_opt_ca(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return ca_value(r, w, 1, js);
}

static int output_read(struct rd *r, struct wr *w)
{
	char p[STORE_PATH_MAX + 1], name[STORE_NAME_MAX + 1];

	if (storepath_read(r, p, 0, "derivation") < 0 || rd_str(r, name, STORE_NAME_MAX, NULL, "output") < 0 ||
	    wr_cstr(w, p) < 0 || wr_cstr(w, name) < 0)
		return -1;
	jput("{\"drvPath\":\"%s\",\"outputName\":\"%s\"}", base(p), name);
	return 0;
}

/* A signature list in wire form as JSON: [{"keyName": ..., "sig": ...}]. */
static void jsigs(const unsigned char *sigs, size_t len)
{
	char s[SIG_MAX + 1];
	uint64_t n, i;
	struct rd r;

	rd_init_mem(&r, sigs, len, EXIT_REFUSED, "signatures");
	if (rd_count(&r, &n, SIGS_MAX, "signatures") < 0)
		return;
	jput("[");
	for (i = 0; i < n && rd_str(&r, s, SIG_MAX, NULL, "signature") == 0; i++) {
		char *colon = strchr(s, ':');

		if (colon)
			*colon = 0;
		jput("%s{\"keyName\":\"%s\",\"sig\":\"%s\"}", i ? "," : "", s, colon ? colon + 1 : "");
	}
	jput("]");
}

static int unkeyed_read(struct rd *r, struct wr *w)
{
	unsigned char sigs[SIGS_WIRE_MAX];
	char p[STORE_PATH_MAX + 1];
	struct wr sw;

	wr_init_mem(&sw, sigs, sizeof sigs);
	if (storepath_read(r, p, 0, "out path") < 0 || sigs_copy(r, &sw) < 0 ||
	    wr_cstr(w, p) < 0 || wr_bytes(w, sigs, sw.len) < 0)
		return -1;
	jput("{\"outPath\":\"%s\",\"signatures\":", base(p));
	jsigs(sigs, sw.len);
	jput("}");
	return 0;
}

static int c_output(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return output_read(r, w);
}

static int c_unkeyed_realisation(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return unkeyed_read(r, w);
}

static int c_realisation(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	jput("{\"key\":");
	if (output_read(r, w) < 0)
		return -1;
	jput(",\"value\":");
	if (unkeyed_read(r, w) < 0)
		return -1;
	jput("}");
	return 0;
}

/* The values of Nix's serve-protocol test, by version. */
static int c_opts(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	struct serve_opts o;

	if (serve_opts_read(r, minor, &o) < 0 || serve_opts_write(w, minor, &o) < 0)
		return -1;
	CHECK(o.max_silent_time == 5 && o.build_timeout == 6);
	CHECK(o.max_log_size == (minor >= 2 ? 7 : 0));
	CHECK(o.repeats == (minor >= 3 ? 8 : 0) && o.enforce_determinism == (minor >= 3 && minor < 7));
	CHECK(o.keep_failed == (minor >= 7));
	return 0;
}

static const char *const status_names[] = {
	"Built", "Substituted", "AlreadyValid", "PermanentFailure", "InputRejected", "OutputRejected",
	"TransientFailure", "CachedFailure", "TimedOut", "MiscFailure", "DependencyFailed",
	"LogLimitExceeded", "NotDeterministic", "ResolvesToAlreadyValid", "NoSubstituters",
};

static void cpu_json(const char *js, const char *key, int has, uint64_t us)
{
	uint64_t v = json_num(js, key);

	CHECK(has ? v == us : v == UINT64_MAX);
}

/* Each built output's name and out path against the .json's builtOutputs. */
static void outputs_json(const struct build_result *b, const char *js)
{
	static char outs[JSON_MAX];
	char v[REALISATION_MAX + 1], pat[256], got[256];
	size_t i, k = 0;

	if (json_get(js, "builtOutputs", outs, sizeof outs) < 0) {
		CHECK(b->nouts == 0);
		return;
	}
	CHECK((size_t)count(outs, "\"outPath\":") == b->nouts);
	for (i = 0; i < b->nouts; i++) {
		const char *key = pathset_get(&b->outs, k), *val = pathset_get(&b->outs, k + 1);
		const char *name = b->out_paths ? key : strchr(key, '!'), *at;

		k += 2 + (b->out_paths ? b->nsigs[i] : 0);
		CHECK(name != NULL);
		if (!name)
			continue;
		name += !b->out_paths;
		if (b->out_paths)
			snprintf(v, sizeof v, "\"%s\"", base(val));
		else if (json_get(val, "outPath", v, sizeof v) < 0)
			v[0] = 0;
		snprintf(pat, sizeof pat, "\"%s\":", name);
		at = strstr(outs, pat);
		CHECK(at && json_get(at, "outPath", got, sizeof got) == 0 && !strcmp(got, v));
	}
}

static void result_json(const struct build_result *b, unsigned fields, const char *js)
{
	char v[REALISATION_MAX + 1];

	if (!js)
		return;
	CHECK(b->status < sizeof status_names / sizeof *status_names && json_get(js, "status", v, sizeof v) == 0 &&
	      !strcmp(unq(v), status_names[b->status]));
	CHECK(json_get(js, "errorMsg", v, sizeof v) == 0 ? !strcmp(unq(v), b->msg) : !b->msg[0]);
	CHECK(json_num(js, "timesBuilt") == b->times_built);
	CHECK(json_num(js, "startTime") == b->start_time && json_num(js, "stopTime") == b->stop_time);
	CHECK(json_bool(js, "isNonDeterministic") == b->non_deterministic);
	if (fields & BR_CPU) {
		cpu_json(js, "cpuUser", b->has_cpu_user, b->cpu_user);
		cpu_json(js, "cpuSystem", b->has_cpu_system, b->cpu_system);
	}
	if (fields & (BR_OUTPUT_IDS | BR_OUTPUT_PATHS))
		outputs_json(b, js);
}

static int result(struct rd *r, struct wr *w, unsigned fields, const char *js)
{
	static struct build_result b;

	if (build_result_read(r, fields, &b) < 0 || build_result_write(w, fields, &b) < 0)
		return -1;
	result_json(&b, fields, js);
	return 0;
}

static int c_serve_result(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return result(r, w, serve_result_fields(minor), js);
}

static int c_worker_result(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return result(r, w, worker_result_fields(minor, minor >= 38), js);
}

/* A DerivedPath in its legacy string form, path[!outputs], as BuildPaths
 * takes it. Before 1.30 a bare .drv stands for all its outputs. */
static int derived_read(struct rd *r, struct wr *w, unsigned minor)
{
	char s[PATH_OUTPUTS_MAX + 1], *bang, *o;
	size_t n;

	if (rd_str(r, s, PATH_OUTPUTS_MAX, &n, "derived path") < 0 || path_outputs_check(s, n, r->kind) < 0 ||
	    wr_cstr(w, s) < 0)
		return -1;
	if (!(bang = strchr(s, '!')) && (minor >= 30 || !storepath_is_drv(s))) {
		jpath(s);
		return 0;
	}
	if (!bang) {
		jput("{\"drvPath\":\"%s\",\"outputs\":[\"*\"]}", base(s));
		return 0;
	}
	*bang = 0;
	jput("{\"drvPath\":\"%s\",\"outputs\":[", base(s));
	for (o = strtok(bang + 1, ","); o; o = strtok(NULL, ","))
		jput("%s\"%s\"", o == bang + 1 ? "" : ",", o);
	jput("]}");
	return 0;
}

static int c_derived(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return derived_read(r, w, minor);
}

static int c_keyed_result(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	if (derived_read(r, w, minor) < 0)
		return -1;
	json_part(js, "path");
	return result(r, w, worker_result_fields(minor, 0), js);
}

static void info_json(const struct pathinfo *in, const struct pathset *refs, int hash, int worker,
		      const char *js)
{
	unsigned char h[SHA256_BYTES];
	const char *sri;
	char v[4096];
	size_t i;

	if (!js)
		return;
	CHECK(json_num(js, "narSize") == in->nar_size);
	jpath(in->deriver);
	json_part(js, "deriver");
	jput("[");
	for (i = 0; i < refs->n; i++)
		jput("%s\"%s\"", i ? "," : "", base(pathset_get(refs, i)));
	jput("]");
	json_part(js, "references");
	if (hash) {
		CHECK(json_get(js, "narHash", v, sizeof v) == 0);
		sri = unq(v);
		CHECK(hash_parse(h, sri, strlen(sri)) == 0 && !memcmp(h, in->hash, sizeof h));
	}
	CHECK(json_get(js, "ca", v, sizeof v) == 0);
	if (in->ca[0])
		ca_json(in->ca, v);
	else
		CHECK(!strcmp(v, "null"));
	CHECK(json_get(js, "signatures", v, sizeof v) == 0 && (uint64_t)count(v, "\"keyName\":") == le64_get(in->sigs));
	if (!worker)
		return;
	CHECK(json_num(js, "registrationTime") == in->regtime);
	CHECK(json_bool(js, "ultimate") == in->ultimate);
}

static struct pathinfo info;
static struct pathset refs;

static int c_serve_info(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	if (pathinfo_read_serve(r, minor, &info, &refs) < 0 || pathinfo_write_serve(w, minor, &info, &refs) < 0)
		return -1;
	info_json(&info, &refs, minor >= 4, 0, js);
	return 0;
}

static int c_worker_info(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	if (pathinfo_read_worker(r, minor, &info, &refs) < 0 || pathinfo_write_worker(w, minor, &info, &refs) < 0)
		return -1;
	info_json(&info, &refs, 1, 1, js);
	return 0;
}

static int c_worker_keyed_info(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	if (path_value(r, w, 0) < 0)
		return -1;
	json_part(js, "path");
	return c_worker_info(r, w, minor, i, js);
}

static int c_build_mode(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	uint64_t m;

	if (rd_u64(r, &m) < 0)
		return -1;
	if (m > 2)
		return fail(r->kind, "build mode %llu", (unsigned long long)m);
	jput("%llu", (unsigned long long)m);
	return wr_u64(w, m);
}

static int c_trust(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	static const char *const names[] = {"null", "true", "false"};
	int t;

	if (worker_trust_read(r, &t) < 0 || wr_u64(w, (uint64_t)t) < 0)
		return -1;
	jput("%s", names[t]);
	return 0;
}

/* ClientHandshakeInfo of Nix's worker-protocol test, by version. */
static int c_hello(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	char version[64];
	int trust;

	if (worker_hello_read(r, minor, version, sizeof version, &trust) < 0)
		return -1;
	if (minor >= 33 && wr_cstr(w, version) < 0)
		return -1;
	if (minor >= 35 && wr_u64(w, (uint64_t)trust) < 0)
		return -1;
	CHECK(!strcmp(version, minor < 33 ? "" : i ? "bar" : "foo"));
	CHECK(trust == (minor < 35 ? TRUST_UNKNOWN : i ? TRUST_YES : TRUST_NO));
	return 0;
}

/* What a server sends first: its magic and version. */
static int hello(struct rd *r, struct wr *w, uint64_t magic, uint64_t major)
{
	uint64_t m, v;

	if (rd_u64(r, &m) < 0 || rd_u64(r, &v) < 0)
		return -1;
	if (m != magic || v >> 8 != major)
		return fail(r->kind, "magic %#llx, version %#llx", (unsigned long long)m, (unsigned long long)v);
	return wr_u64(w, m) < 0 || wr_u64(w, v) < 0 ? -1 : 0;
}

static int c_serve_hello(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return hello(r, w, SERVE_MAGIC_2, 2);
}

static int c_daemon_hello(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	return hello(r, w, WORKER_MAGIC_2, 1);
}

/* In both folders, the same values the same way: versions do not matter. */
static const struct vec common_vecs[] = {
	{"content-address", c_ca, 0, 3},
	{"drv-output", c_output_id, 0, 2},
	{"optional-content-address", c_opt_ca, 0, 2},
	{"optional-store-path", c_opt_path, 0, 2},
	{"realisation", c_realisation_json, 0, 2},
	{"realisation-with-deps", c_realisation_json, 0, 1},
	{"set", c_list, 0, 4},
	{"store-path", c_path, 0, 2},
	{"string", c_string, 0, 5},
	{"vector", c_list, 0, 4},
	{NULL, NULL, 0, 0},
};

static const struct vec serve_vecs[] = {
	{"build-options-2.1", c_opts, 1, 1},
	{"build-options-2.2", c_opts, 2, 1},
	{"build-options-2.3", c_opts, 3, 1},
	{"build-options-2.7", c_opts, 7, 1},
	{"build-result-2.2", c_serve_result, 2, 3},
	{"build-result-2.3", c_serve_result, 3, 3},
	{"build-result-2.6", c_serve_result, 6, 3},
	{"build-result-2.7-compat", c_serve_result, 7, 3},
	{"build-result-2.8", c_serve_result, 8, 3},
	{"drv-output-2.8", c_output, 8, 2},
	{"handshake-to-client", c_serve_hello, 5, 1},
	{"realisation-2.8", c_realisation, 8, 1},
	{"unkeyed-realisation-2.8", c_unkeyed_realisation, 8, 1},
	{"unkeyed-valid-path-info-2.3", c_serve_info, 3, 2},
	{"unkeyed-valid-path-info-2.4", c_serve_info, 4, 2},
	{NULL, NULL, 0, 0},
};

/* Minor 38 stands for 1.38 with realisation-with-path-not-hash. */
static const struct vec worker_vecs[] = {
	{"build-mode", c_build_mode, 10, 3},
	{"build-result-1.27", c_worker_result, 27, 3},
	{"build-result-1.28", c_worker_result, 28, 3},
	{"build-result-1.29", c_worker_result, 29, 3},
	{"build-result-1.29-compat", c_worker_result, 29, 3},
	{"build-result-1.37", c_worker_result, 37, 3},
	{"build-result-realisation-with-path-not-hash", c_worker_result, 38, 3},
	{"client-handshake-info_1_30", c_hello, 30, 1},
	{"client-handshake-info_1_33", c_hello, 33, 2},
	{"client-handshake-info_1_35", c_hello, 35, 2},
	{"derived-path-1.29", c_derived, 29, 3},
	{"derived-path-1.30", c_derived, 30, 4},
	{"drv-output-realisation-with-path-not-hash", c_output, 38, 2},
	{"handshake-to-client", c_daemon_hello, 10, 1},
	{"keyed-build-result-1.29", c_keyed_result, 29, 2},
	{"optional-trusted-flag", c_trust, 10, 3},
	{"realisation-realisation-with-path-not-hash", c_realisation, 38, 1},
	{"unkeyed-realisation-realisation-with-path-not-hash", c_unkeyed_realisation, 38, 1},
	{"unkeyed-valid-path-info-1.15", c_worker_info, 15, 2},
	{"valid-path-info-1.15", c_worker_keyed_info, 15, 2},
	{"valid-path-info-1.16", c_worker_keyed_info, 16, 3},
	{NULL, NULL, 0, 0},
};

/* --- the driver --- */

/* -1 when the file is missing or too large. */
static int load(const char *dir, const char *name, const char *ext, unsigned char *buf, size_t cap, size_t *n)
{
	char path[512];
	ssize_t k;
	int fd;

	snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	k = read(fd, buf, cap);
	close(fd);
	if (k < 0 || (size_t)k == cap)
		return -1;
	*n = (size_t)k;
	return 0;
}

/* All n values of v from the bytes p; JSON compared when json is set. */
static int decode(const struct vec *v, const unsigned char *p, size_t len, const char *json,
		  unsigned char *out, size_t *outlen, size_t *used)
{
	static char el[JSON_MAX];
	struct rd r;
	struct wr w;
	int i;

	rd_init_mem(&r, p, len, EXIT_REFUSED, "golden");
	wr_init_mem(&w, out, FILE_MAX);
	for (i = 0; i < v->n; i++) {
		const char *js = NULL;

		if (json && v->n == 1 && json[0] == '{')
			js = json;
		else if (json) {
			CHECK(json_elem(json, i, el, sizeof el) == 0);
			js = el;
		}
		jstart();
		if (v->fn(&r, &w, v->minor, i, js) < 0)
			return -1;
		/* what a codec rendered is the whole value */
		if (jn)
			json_is(js, v->name);
	}
	*outlen = w.len;
	*used = r.pos;
	return 0;
}

static void one(const char *dir, const struct vec *v)
{
	static unsigned char bin[FILE_MAX], out[FILE_MAX], raw[JSON_MAX];
	static char json[JSON_MAX];
	size_t len, jlen, outlen, used, cut;

	if (load(dir, v->name, ".bin", bin, sizeof bin, &len) < 0) {
		printf("  %s.bin: missing\n", v->name);
		CHECK(0);
		return;
	}
	json[0] = 0;
	if (load(dir, v->name, ".json", raw, sizeof raw, &jlen) == 0)
		compact(json, sizeof json, (const char *)raw, jlen);
	err_clear();
	if (decode(v, bin, len, json[0] ? json : NULL, out, &outlen, &used) < 0) {
		printf("  %s.bin: %s\n", v->name, err_msg());
		CHECK(0);
		return;
	}
	if (used != len || outlen != len || memcmp(out, bin, len)) {
		printf("  %s.bin: %zu of %zu bytes read, %zu written back%s\n", v->name, used, len, outlen,
		       outlen == len ? ", not the same" : "");
		CHECK(0);
	}
	/* Cut short anywhere, the same decoding must stop at the end of input
	 * with an error: the bytes it reads are the file's up to there. */
	for (cut = 0; cut < len; cut++) {
		err_clear();
		if (decode(v, bin, cut, NULL, out, &outlen, &used) == 0 ||
		    !strstr(err_msg(), "in the middle of a message")) {
			printf("  %s.bin cut to %zu bytes: %s\n", v->name, cut, err_kind() ? err_msg() : "accepted");
			CHECK(0);
			return;
		}
	}
}

static int listed(const struct vec *vecs, const char *file, size_t n)
{
	for (; vecs->name; vecs++)
		if (strlen(vecs->name) == n && !strncmp(vecs->name, file, n))
			return 1;
	return 0;
}

/* Every vector of the tables, and a table entry for every .bin file. */
static void golden(const char *sub, const struct vec *vecs)
{
	char dir[400];
	struct dirent *e;
	DIR *d;
	int i;

	snprintf(dir, sizeof dir, "%s/%s", check_dir, sub);
	for (i = 0; common_vecs[i].name; i++)
		one(dir, &common_vecs[i]);
	for (i = 0; vecs[i].name; i++)
		one(dir, &vecs[i]);
	CHECK((d = opendir(dir)) != NULL);
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 4, ".bin"))
			continue;
		if (!listed(common_vecs, e->d_name, n - 4) && !listed(vecs, e->d_name, n - 4)) {
			printf("  %s/%s: no decoder\n", sub, e->d_name);
			CHECK(0);
		}
	}
	if (d)
		closedir(d);
}

/* The server's own handshake against the one in the vector: same magic,
 * and the vector's version (2.5) accepted as the client's. */
static void serve_hello(void)
{
	static struct serve s;
	unsigned char in[16], out[64], vec[64];
	char dir[400];
	size_t len;

	snprintf(dir, sizeof dir, "%s/serve-protocol", check_dir);
	CHECK(load(dir, "handshake-to-client", ".bin", vec, sizeof vec, &len) == 0 && len == 16);
	le64_put(in, SERVE_MAGIC_1);
	memcpy(in + 8, vec + 8, 8);
	rd_init_mem(&s.in, in, sizeof in, EXIT_REFUSED, "client");
	wr_init_mem(&s.out, out, sizeof out);
	err_clear();
	CHECK(serve_handshake(&s) == 0 && s.minor == 5);
	CHECK(s.out.len == 16 && !memcmp(out, vec, 8) && le64_get(out + 8) == SERVE_VERSION);
}

/* The daemon's greeting in the vector is 1.10: nixgate reads its magic and
 * refuses the version as too old. */
static void daemon_hello(void)
{
	static struct worker d;
	unsigned char out[64], vec[64];
	char dir[400];
	size_t len;

	snprintf(dir, sizeof dir, "%s/worker-protocol", check_dir);
	CHECK(load(dir, "handshake-to-client", ".bin", vec, sizeof vec, &len) == 0 && len == 16);
	rd_init_mem(&d.r, vec, len, EXIT_SYSTEM, "nix-daemon");
	wr_init_mem(&d.w, out, sizeof out);
	d.logfd = -1;
	err_clear();
	CHECK(worker_handshake(&d) == -1 && strstr(err_msg(), "speaks protocol 1.10;"));
	vec[0] ^= 1;
	rd_init_mem(&d.r, vec, len, EXIT_SYSTEM, "nix-daemon");
	err_clear();
	CHECK(worker_handshake(&d) == -1 && strstr(err_msg(), "protocol mismatch"));
}

void t_golden_serve(void)
{
	static unsigned char bin[FILE_MAX];
	char dir[400];
	size_t len;
	struct rd r;

	NEED_TEST_DATA();
	golden("serve-protocol", serve_vecs);
	serve_hello();
	/* a store path set must hold store paths: set.bin's "" is refused */
	snprintf(dir, sizeof dir, "%s/serve-protocol", check_dir);
	CHECK(load(dir, "set", ".bin", bin, sizeof bin, &len) == 0);
	rd_init_mem(&r, bin, len, EXIT_REFUSED, "golden");
	CHECK(pathset_read(&refs, &r, "paths") == 0 && refs.n == 0);
	CHECK(pathset_read(&refs, &r, "paths") == -1);
}

void t_golden_worker(void)
{
	NEED_TEST_DATA();
	golden("worker-protocol", worker_vecs);
	daemon_hello();
}
