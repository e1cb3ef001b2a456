/* parser: reads requests for the monitor; what it reads is forwarded by the
 * tee on s->in, so each parse only has to read the request whole. */
#include <string.h>

#include "drv.h"
#include "err.h"
#include "parser.h"
#include "serveopts.h"
#include "wparse.h"
#include "wserve.h"

static int paths(struct serve *s)
{
	if (pathset_read(&s->ps, &s->in, "paths") < 0)
		return -1;
	note_set(s, &s->ps);
	return 0;
}

int parse_query_valid(struct serve *s)
{
	int lock, subst;

	if (rd_bool(&s->in, &lock, "lock") < 0 || rd_bool(&s->in, &subst, "substitute") < 0)
		return -1;
	return paths(s);
}

int parse_query_infos(struct serve *s)
{
	return paths(s);
}

int parse_dump_path(struct serve *s)
{
	char p[STORE_PATH_MAX + 1];

	if (storepath_read(&s->in, p, 0, "path") < 0)
		return -1;
	note(s, p);
	return 0;
}

int parse_export_paths(struct serve *s)
{
	uint64_t ignored;

	return rd_u64(&s->in, &ignored) < 0 ? -1 : paths(s);
}

int parse_query_closure(struct serve *s)
{
	int outs;

	return rd_bool(&s->in, &outs, "include outputs") < 0 ? -1 : paths(s);
}

int parse_build_paths(struct serve *s)
{
	char p[PATH_OUTPUTS_MAX + 1];
	struct serve_opts so;
	uint64_t n, i;
	size_t len;

	if (rd_count(&s->in, &n, PATHSET_MAX_PATHS, "build paths") < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (rd_str(&s->in, p, PATH_OUTPUTS_MAX, &len, "build path") < 0 ||
		    path_outputs_check(p, len, EXIT_REFUSED) < 0)
			return -1;
		note(s, p);
	}
	return serve_opts_read(&s->in, s->minor, &so);
}

int parse_build_derivation(struct serve *s)
{
	static struct drvwire drv;
	char path[STORE_PATH_MAX + 1];
	struct serve_opts so;

	if (storepath_read(&s->in, path, 0, "derivation path") < 0)
		return -1;
	if (!storepath_is_drv(path))
		return fail(EXIT_REFUSED, "BuildDerivation: '%s' is not a .drv path", path);
	note(s, path);
	if (drvwire_read(&drv, &s->in) < 0)
		return -1;
	return serve_opts_read(&s->in, s->minor, &so);
}

int parse_nothing(struct serve *s)
{
	return 0;
}

int parser_wait(struct serve *s)
{
	static unsigned char buf[64];
	static struct rd ctl;
	uint64_t v;

	if (wr_flush(&s->out) < 0)
		return -1;
	if (s->peer < 0)
		return 0;
	if (ctl.buf != buf)
		rd_init_fd(&ctl, s->peer, buf, sizeof buf, EXIT_SYSTEM, "the monitor");
	if (rd_at_eof(&ctl) == 1)
		return 1;
	if (rd_u64(&ctl, &v) < 0)
		return -1;
	if (v != PRIVSEP_GO)
		return fail(EXIT_SYSTEM, "the monitor sent %llu, not its go-ahead", (unsigned long long)v);
	return 0;
}

/* The monitor answers the client's magic (serve_handshake) from what the
 * tee forwards, before the parser waits for the version. */
static int handshake(struct serve *s)
{
	uint64_t magic, v;

	if (rd_u64(&s->in, &magic) < 0 || serve_magic(magic) < 0 || rd_u64(&s->in, &v) < 0)
		return -1;
	return serve_version(s, v);
}

int parser_run(struct serve *s)
{
	const struct command *c;
	uint64_t op;
	int e;

	if ((s->worker ? wparse_handshake(s) : handshake(s)) < 0)
		return -1;
	for (;;) {
		if (wr_flush(&s->out) < 0)
			return -1;
		if ((e = rd_at_eof(&s->in)) != 0)
			return e < 0 ? -1 : 0;
		if (rd_u64(&s->in, &op) < 0)
			return -1;
		memset(&s->req, 0, sizeof s->req);
		if (!(c = s->worker ? wcommand_find(op) : command_find(op)))
			return fail(EXIT_REFUSED, "unknown %s %llu", s->worker ? "worker operation" : "serve command",
				    (unsigned long long)op);
		s->req.op = c->name;
		if (c->parse(s) < 0)
			return -1;
		/* the monitor answers the client itself; the next request is read
		 * only once it has, so the idle timeout never runs during a build */
		if ((e = parser_wait(s)) != 0)
			return e < 0 ? -1 : 0;
	}
}
