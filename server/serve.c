/* serve: the session (handshake, dispatch, audit line) and what the request
 * modules share: refusals, permission checks, the daemon's answers. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "build.h"
#include "daemon.h"
#include "err.h"
#include "import.h"
#include "query.h"
#include "serve.h"

int serve_handshake(struct serve *s)
{
	uint64_t magic, v;

	if (rd_u64(&s->in, &magic) < 0)
		return -1;
	if (magic != SERVE_MAGIC_1)
		return fail(EXIT_REFUSED, "protocol mismatch: the client did not start with the serve protocol magic");
	if (wr_u64(&s->out, SERVE_MAGIC_2) < 0 || wr_u64(&s->out, SERVE_VERSION) < 0 ||
	    wr_flush(&s->out) < 0 || rd_u64(&s->in, &v) < 0)
		return -1;
	if ((v & 0xff00) != 0x200)
		return fail(EXIT_REFUSED, "unsupported serve protocol version %llu.%llu (2.x expected)",
			    (unsigned long long)(v >> 8), (unsigned long long)(v & 0xff));
	s->minor = (unsigned)(v & 0xff);
	if (s->minor > (SERVE_VERSION & 0xff))
		s->minor = SERVE_VERSION & 0xff;
	return 0;
}

/* A request the policy refuses: one line naming request, path and rule.
 * The caller ends the session (main's line names the key), or reports it
 * as a failed build (soft names it). */
int refuse(struct serve *s, const char *rule, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	s->req.rule = rule;
	err_clear();
	if (s->req.first[0])
		return fail(EXIT_REFUSED, "%s of '%s' refused by rule %s: %s", s->req.op, s->req.first, rule, why);
	return fail(EXIT_REFUSED, "%s refused by rule %s: %s", s->req.op, rule, why);
}

/* The reason a library call failed, to put into a refusal. */
const char *reason(void)
{
	static char m[512];

	snprintf(m, sizeof m, "%s", err_msg());
	return m;
}

int need_write(struct serve *s)
{
	if (!s->write_ok)
		return refuse(s, "write", "the client did not ask for --write");
	return 0;
}

int allowed(struct serve *s, unsigned op)
{
	if (!(s->pol->allow & op))
		return refuse(s, "allow", "this key may only %s", policy_ops(s->pol->allow));
	return 0;
}

void note(struct serve *s, const char *path)
{
	if (!s->req.paths++)
		snprintf(s->req.first, sizeof s->req.first, "%s", path);
}

void note_set(struct serve *s, const struct pathset *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		note(s, pathset_get(ps, i));
}

/* A request's paths, noted for the audit line, then the key's permission. */
int request_paths(struct serve *s, struct pathset *ps, unsigned op)
{
	if (pathset_read(ps, &s->in, "paths") < 0)
		return -1;
	note_set(s, ps);
	return allowed(s, op);
}

int temp_roots(struct serve *s, const struct pathset *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (daemon_add_temp_root(s->d, pathset_get(ps, i)) < 0)
			return -1;
	return 0;
}

int ask_valid(struct serve *s, const struct pathset *ps, int subst)
{
	return daemon_valid_begin(s->d, ps, subst);
}

int path_info(struct serve *s, const char *path, struct pathinfo *in, struct pathset *refs)
{
	return daemon_path_info(s->d, path, in, refs);
}

static int pair(struct serve *s, const char *name, const char *value)
{
	return wr_cstr(&s->out, name) < 0 || wr_cstr(&s->out, value) < 0 ? -1 : 0;
}

/* A number; none_if_zero for limits, where 0 means none. */
static int pair_num(struct serve *s, const char *name, uint64_t v, int none_if_zero)
{
	char t[24];

	snprintf(t, sizeof t, "%llu", (unsigned long long)v);
	return pair(s, name, v || !none_if_zero ? t : "none");
}

static int nixgate_info(struct serve *s)
{
	const struct policy *p = s->pol;
	char keys[POLICY_KEYS_MAX * (KEY_NAME_MAX + 48)] = "";
	char b64[48];
	unsigned i;

	for (i = 0; i < p->nkeys; i++) {
		sodium_bin2base64(b64, sizeof b64, p->keys[i].key, PUBKEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
		snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s:%s", i ? " " : "", p->keys[i].name, b64);
	}
	struct sysinfo si;
	char load[32];

	snprintf(load, sizeof load, "%.2f", sysinfo(&si) == 0 ? (double)si.loads[0] / 65536.0 : -1.0);
	if (wr_u64(&s->out, 21) < 0 || pair(s, "server", "nixgate-serve") < 0 || pair(s, "version", s->version) < 0 ||
	    pair(s, "key", s->key) < 0 || pair(s, "trusted", p->trusted ? "true" : "false") < 0 ||
	    pair(s, "allow", policy_ops(p->allow)) < 0 ||
	    pair(s, "systems", p->any_system ? "any" : p->systems[0] ? p->systems : "none") < 0 ||
	    pair(s, "features", p->any_feature ? "any" : p->features[0] ? p->features : "none") < 0 ||
	    pair_num(s, "max-nar-size", p->max_nar_size, 1) < 0 ||
	    pair_num(s, "max-build-time", p->max_build_time, 1) < 0 ||
	    pair_num(s, "max-silent-time", p->max_silent_time, 1) < 0 || pair_num(s, "max-log-size", p->max_log_size, 1) < 0 ||
	    pair(s, "substitute", p->substitute ? "true" : "false") < 0 ||
	    pair(s, "trusted-public-keys", keys[0] ? keys : "none") < 0 ||
	    pair_num(s, "max-jobs", p->max_jobs, 1) < 0 ||
	    pair_num(s, "max-sessions", p->max_sessions, 1) < 0 || pair_num(s, "host-max-jobs", p->host_max_jobs, 1) < 0 ||
	    pair_num(s, "builds", slots_busy(s->key_slots), 0) < 0 ||
	    pair_num(s, "host-builds", slots_busy(s->host_slots), 0) < 0 ||
	    pair(s, "load", load) < 0 || pair_num(s, "cores", s->max_jobs, 0) < 0 ||
	    pair_num(s, "idle-timeout", p->idle_timeout, 1) < 0)
		return -1;
	return 0;
}

static const char *cmd_names[] = {
	"unknown", "QueryValidPaths", "QueryPathInfos", "DumpStorePath", "ImportPaths", "ExportPaths",
	"BuildPaths", "QueryClosure", "BuildDerivation", "AddToStoreNar"
};

static uint64_t us_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)((t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000);
}

/* The audit line of the request just done. */
static void audited(struct serve *s, int r, const struct timespec *t0, uint64_t trips0, uint64_t wait0)
{
	uint64_t us = us_since(t0), wait = s->d->wait_us - wait0;
	char why[300];
	size_t i;

	if (r < 0 && !s->req.rule) {
		/* one line of plain text inside quotes */
		snprintf(why, sizeof why, "%s", err_msg());
		for (i = 0; why[i]; i++)
			if (why[i] == '"' || (unsigned char)why[i] < ' ')
				why[i] = '\'';
	}
	audit_write(s->audit, "key=%s op=%s paths=%llu first=%s bytes=%llu result=%s%s%s ms=%llu.%03llu daemon=%llu daemon_ms=%llu.%03llu",
		    s->key, s->req.op, (unsigned long long)s->req.paths, s->req.first[0] ? s->req.first : "-",
		    (unsigned long long)s->req.bytes, s->req.rule ? "refused rule=" : r < 0 ? "error reason=\"" : "ok",
		    s->req.rule ? s->req.rule : r < 0 ? why : "", r < 0 && !s->req.rule ? "\"" : "",
		    (unsigned long long)(us / 1000), (unsigned long long)(us % 1000),
		    (unsigned long long)(s->d->round_trips - trips0), (unsigned long long)(wait / 1000),
		    (unsigned long long)(wait % 1000));
}

int serve_one(struct serve *s)
{
	struct timespec t0;
	uint64_t trips0, wait0;
	uint64_t cmd;
	int e, r;

	if (wr_flush(&s->out) < 0)
		return -1;
	if ((e = rd_at_eof(&s->in)) != 0)
		return e < 0 ? -1 : 1;
	if (rd_u64(&s->in, &cmd) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	trips0 = s->d->round_trips;
	wait0 = s->d->wait_us;
	memset(&s->req, 0, sizeof s->req);
	s->req.op = cmd_names[cmd < sizeof cmd_names / sizeof *cmd_names ? cmd : 0];
	switch (cmd) {
	case CMD_QUERY_VALID_PATHS: r = query_valid(s); break;
	case CMD_QUERY_PATH_INFOS: r = query_infos(s); break;
	case CMD_DUMP_STORE_PATH: r = dump_path(s); break;
	case CMD_IMPORT_PATHS: r = import_paths(s); break;
	case CMD_EXPORT_PATHS: r = export_paths(s); break;
	case CMD_BUILD_PATHS: r = build_paths(s); break;
	case CMD_QUERY_CLOSURE: r = query_closure(s); break;
	case CMD_BUILD_DERIVATION: r = build_derivation(s); break;
	case CMD_ADD_TO_STORE_NAR: r = add_to_store_nar(s); break;
	case CMD_NIXGATE_INFO: s->req.op = "NixgateInfo"; r = nixgate_info(s); break;
	default:
		r = fail(EXIT_REFUSED, "unknown serve command %llu", (unsigned long long)cmd);
	}
	audited(s, r, &t0, trips0, wait0);
	return r < 0 ? -1 : 0;
}

