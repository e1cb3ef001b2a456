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
#include "parser.h"
#include "query.h"
#include "serve.h"
#include "wserve.h"

static int nixgate_info(struct serve *s);

static const struct command commands[] = {
	{CMD_QUERY_VALID_PATHS, "QueryValidPaths", parse_query_valid, query_valid},
	{CMD_QUERY_PATH_INFOS, "QueryPathInfos", parse_query_infos, query_infos},
	{CMD_DUMP_STORE_PATH, "DumpStorePath", parse_dump_path, dump_path},
	{CMD_IMPORT_PATHS, "ImportPaths", parse_import_paths, import_paths},
	{CMD_EXPORT_PATHS, "ExportPaths", parse_export_paths, export_paths},
	{CMD_BUILD_PATHS, "BuildPaths", parse_build_paths, build_paths},
	{CMD_QUERY_CLOSURE, "QueryClosure", parse_query_closure, query_closure},
	{CMD_BUILD_DERIVATION, "BuildDerivation", parse_build_derivation, build_derivation},
	{CMD_ADD_TO_STORE_NAR, "AddToStoreNar", parse_add_to_store_nar, add_to_store_nar},
	{CMD_NIXGATE_INFO, "NixgateInfo", parse_nothing, nixgate_info},
};

const struct command *command_find(uint64_t op)
{
	size_t i;

	for (i = 0; i < sizeof commands / sizeof *commands; i++)
		if (commands[i].op == op)
			return &commands[i];
	return NULL;
}

int serve_go(struct serve *s)
{
	unsigned char b[8];

	if (s->peer < 0)
		return 0;
	le64_put(b, PRIVSEP_GO);
	return write_all(s->peer, b, sizeof b) < 0 ? fail_sys("telling the parser to go on") : 0;
}

int serve_magic(uint64_t magic)
{
	if (magic != SERVE_MAGIC_1)
		return fail(EXIT_REFUSED, "protocol mismatch: the client did not start with the serve protocol magic");
	return 0;
}

int serve_version(struct serve *s, uint64_t v)
{
	if ((v & 0xff00) != 0x200)
		return fail(EXIT_REFUSED, "unsupported serve protocol version %llu.%llu (2.x expected)",
			    (unsigned long long)(v >> 8), (unsigned long long)(v & 0xff));
	s->minor = (unsigned)(v & 0xff);
	if (s->minor > (SERVE_VERSION & 0xff))
		s->minor = SERVE_VERSION & 0xff;
	return 0;
}

int serve_handshake(struct serve *s)
{
	uint64_t magic, v;

	if (rd_u64(&s->in, &magic) < 0 || serve_magic(magic) < 0)
		return -1;
	if (wr_u64(&s->out, SERVE_MAGIC_2) < 0 || wr_u64(&s->out, SERVE_VERSION) < 0 ||
	    wr_flush(&s->out) < 0 || rd_u64(&s->in, &v) < 0)
		return -1;
	return serve_version(s, v);
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

static int pairs(struct serve *s, const char *const (*p)[2], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pair(s, p[i][0], p[i][1]) < 0)
			return -1;
	return 0;
}

/* The key's settings NixgateInfo shows at info, in the table's order. */
static int settings(struct serve *s, enum setting_info info)
{
	char v[POLICY_SHOW_MAX];
	size_t i;

	for (i = 0; i < policy_nsettings; i++)
		if (policy_settings[i].info == info &&
		    pair(s, policy_settings[i].name, policy_show(s->pol, &policy_settings[i], v, sizeof v)) < 0)
			return -1;
	return 0;
}

/* The session's pairs, then the key's settings, then the host's load
 * figures, then the settings added after those. */
static int nixgate_info(struct serve *s)
{
	char builds[24], host_builds[24], load[32], cores[24];
	const char *const head[][2] = {{"server", "nixgate-serve"}, {"version", s->version}, {"key", s->key}};
	const char *const figures[][2] = {{"builds", builds}, {"host-builds", host_builds}, {"load", load},
					  {"cores", cores}};
	const size_t nhead = sizeof head / sizeof *head, nfigures = sizeof figures / sizeof *figures;
	struct sysinfo si;

	snprintf(builds, sizeof builds, "%u", slots_busy(s->key_slots));
	snprintf(host_builds, sizeof host_builds, "%u", slots_busy(s->host_slots));
	snprintf(load, sizeof load, "%.2f", sysinfo(&si) == 0 ? (double)si.loads[0] / 65536.0 : -1.0);
	snprintf(cores, sizeof cores, "%llu", (unsigned long long)s->max_jobs);
	if (wr_u64(&s->out, nhead + policy_shown(INFO_POLICY) + nfigures + policy_shown(INFO_LATE)) < 0 ||
	    pairs(s, head, nhead) < 0 || settings(s, INFO_POLICY) < 0 || pairs(s, figures, nfigures) < 0 ||
	    settings(s, INFO_LATE) < 0)
		return -1;
	return 0;
}

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
	const struct command *c;
	struct timespec t0;
	uint64_t trips0, wait0;
	uint64_t cmd;
	int e, r;

	if (wr_flush(&s->out) < 0)
		return -1;
	if ((e = rd_at_eof(&s->in)) != 0) {
		/* the parser ends when the client does, or on an error of its own */
		if (e > 0 && s->parser_end && s->parser_end(s) < 0)
			e = -1;
		return e < 0 ? -1 : 1;
	}
	if (rd_u64(&s->in, &cmd) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	trips0 = s->d->round_trips;
	wait0 = s->d->wait_us;
	memset(&s->req, 0, sizeof s->req);
	s->answered = s->soft = 0;
	s->d->errmsg[0] = 0;
	if ((c = s->worker ? wcommand_find(cmd) : command_find(cmd))) {
		s->req.op = c->name;
		r = c->serve(s);
	} else {
		s->req.op = "unknown";
		r = fail(EXIT_REFUSED, "unknown %s %llu", s->worker ? "worker operation" : "serve command",
			 (unsigned long long)cmd);
	}
	if (r < 0 && s->in.ended && s->parser_end)
		(void)s->parser_end(s);
	audited(s, r, &t0, trips0, wait0);
	/* the worker protocol tells the client why in its own framing; a
	 * request the daemon failed, or one failed as the daemon would, leaves
	 * the session in step, and it goes on as the daemon's would */
	if (r < 0 && s->worker) {
		wserve_error(s);
		if (!s->answered && !s->req.rule && !s->in.ended && (s->soft || s->d->errmsg[0])) {
			err_clear();
			r = 0;
		}
	}
	if (r == 0 && (wr_flush(&s->out) < 0 || serve_go(s) < 0))
		r = -1;
	return r < 0 ? -1 : 0;
}
