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
#include "golden.h"
#include "json.h"
#include "pathinfo.h"
#include "pathset.h"
#include "realisation.h"
#include "serve.h"
#include "serveopts.h"
#include "storepath.h"
#include "wire.h"
#include "worker.h"



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

/* and what the build hook takes from one: its id and out path */
static int c_realisation_json(struct rd *r, struct wr *w, unsigned minor, int i, const char *js)
{
	static struct realisation re;
	size_t at = jn;

	if (str_value(r, w, REALISATION_MAX, "%s") < 0)
		return -1;
	CHECK(realisation_parse(&re, jb + at, jn - at) == 0 && strstr(jb + at, base(re.out_path)) &&
	      strstr(jb + at, re.id));
	return 0;
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
		if (!b->out_paths) {
			static struct realisation re;

			CHECK(realisation_parse(&re, val, strlen(val)) == 0 && !strcmp(re.id, key));
		}
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

void t_golden_serve(void)
{
	static unsigned char bin[FILE_MAX];
	char dir[400];
	size_t len;
	struct rd r;

	NEED_TEST_DATA();
	golden("serve-protocol", serve_vecs, common_vecs);
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
	golden("worker-protocol", worker_vecs, common_vecs);
	daemon_hello();
}
