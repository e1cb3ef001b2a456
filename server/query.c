#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "err.h"
#include "drv.h"
#include "query.h"
#include "serve.h"

int query_valid(struct serve *s)
{
	int lock, subst;

	if (rd_bool(&s->in, &lock, "lock") < 0 || rd_bool(&s->in, &subst, "substitute") < 0 ||
	    request_paths(s, &s->ps, ALLOW_QUERY) < 0)
		return -1;
	if (lock && s->write_ok && temp_roots(s, &s->ps) < 0)
		return -1;
	/* substituting adds paths to the store: a key that may neither import
	 * nor build only asks */
	subst = subst && s->write_ok && s->pol->substitute && (s->pol->allow & (ALLOW_IMPORT | ALLOW_BUILD));
	if (ask_valid(s, &s->ps, subst) < 0)
		return -1;
	return pathlist_copy(&s->d->r, &s->out, "valid paths");
}

/* QueryPathInfo: 1 valid (info read, references into refs), 0 invalid. */
int query_infos(struct serve *s)
{
	static struct pathset refs;
	static struct pathinfo in;
	struct pathset req;
	size_t i;
	int v;

	pathset_init(&req);
	if (request_paths(s, &req, ALLOW_QUERY) < 0)
		goto bad;
	for (i = 0; i < req.n; i++) {
		const char *p = pathset_get(&req, i);

		if ((v = path_info(s, p, &in, &refs)) < 0)
			goto bad;
		if (!v)
			continue;
		if (wr_cstr(&s->out, p) < 0 || pathinfo_write_serve(&s->out, s->minor, &in, &refs) < 0)
			goto bad;
	}
	pathset_free(&req);
	return wr_cstr(&s->out, "");
bad:
	pathset_free(&req);
	return -1;
}

/* The daemon sends NarFromPath's NAR raw after its log stream; the NAR's
 * own structure says where it ends. */
int nar_stream(struct serve *s, const char *path)
{
	struct worker *d = s->d;
	const unsigned char *p;
	size_t got;
	ssize_t k;

	nar_init(&s->nar);
	while (!nar_done(&s->nar)) {
		if (rd_peek(&d->r, &p, &got) < 0)
			return -1;
		if ((k = nar_feed(&s->nar, p, got)) < 0)
			return fail(EXIT_SYSTEM, "nix-daemon sent %s: %s", path, err_msg());
		if (wr_bytes(&s->out, p, (size_t)k) < 0)
			return -1;
		s->req.bytes += (uint64_t)k;
		rd_consume(&d->r, (size_t)k);
	}
	return 0;
}

static int nar_from_daemon(struct serve *s, const char *path)
{
	return daemon_nar_begin(s->d, path) < 0 ? -1 : nar_stream(s, path);
}

int dump_path(struct serve *s)
{
	char p[STORE_PATH_MAX + 1];

	if (storepath_read(&s->in, p, 0, "path") < 0)
		return -1;
	note(s, p);
	if (allowed(s, ALLOW_EXPORT) < 0)
		return -1;
	return nar_from_daemon(s, p);
}

int export_paths(struct serve *s)
{
	static struct pathset refs;
	static struct pathinfo in;
	struct pathset req;
	uint64_t ignored;
	size_t i;
	int v;

	pathset_init(&req);
	if (rd_u64(&s->in, &ignored) < 0 || request_paths(s, &req, ALLOW_EXPORT) < 0)
		goto bad;
	for (i = 0; i < req.n; i++) {
		const char *p = pathset_get(&req, i);

		if ((v = path_info(s, p, &in, &refs)) < 0)
			goto bad;
		if (!v) {
			fail(EXIT_REFUSED, "ExportPaths: path '%s' is not valid", p);
			goto bad;
		}
		if (wr_u64(&s->out, 1) < 0 || nar_from_daemon(s, p) < 0 ||
		    wr_u64(&s->out, EXPORT_MAGIC) < 0 || wr_cstr(&s->out, p) < 0 ||
		    pathset_write(&refs, &s->out) < 0 || wr_cstr(&s->out, in.deriver) < 0 ||
		    wr_u64(&s->out, 0) < 0)
			goto bad;
	}
	pathset_free(&req);
	return wr_u64(&s->out, 0);
bad:
	pathset_free(&req);
	return -1;
}

/* drv's outputs that are valid on the host, into set. The whole map is
 * read before the first IsValidPath: its answer follows the map's. */
static int drv_outputs(struct serve *s, const char *drv, struct pathset *set)
{
	static struct outmap m;
	size_t i;
	int v;

	if (daemon_output_map(s->d, drv, &m) < 0)
		return -1;
	for (i = 0; i < m.n; i++) {
		const char *out = m.out[i].path;

		if (!out[0])
			continue;
		if ((v = daemon_is_valid(s->d, out)) < 0)
			return -1;
		if (v && pathset_insert(set, out, strlen(out)) < 0)
			return -1;
	}
	return 0;
}

int query_closure(struct serve *s)
{
	static struct pathset refs;
	static struct pathinfo in;
	struct pathset *seen = &s->seen;
	size_t i, j;
	int outs, v;

	if (rd_bool(&s->in, &outs, "include outputs") < 0 || request_paths(s, &s->ps, ALLOW_QUERY) < 0)
		return -1;
	pathset_clear(seen);
	for (i = 0; i < s->ps.n; i++)
		if (pathset_insert(seen, pathset_get(&s->ps, i), strlen(pathset_get(&s->ps, i))) < 0)
			return -1;
	/* seen grows while it is walked: a breadth-first closure */
	for (i = 0; i < seen->n; i++) {
		char p[STORE_PATH_MAX + 1];

		strcpy(p, pathset_get(seen, i));
		if ((v = path_info(s, p, &in, &refs)) < 0)
			return -1;
		if (!v)
			return fail(EXIT_REFUSED, "QueryClosure: path '%s' is not valid", p);
		for (j = 0; j < refs.n; j++)
			if (pathset_insert(seen, pathset_get(&refs, j), strlen(pathset_get(&refs, j))) < 0)
				return -1;
		if (outs && storepath_is_drv(p) && drv_outputs(s, p, seen) < 0)
			return -1;
	}
	pathset_sort(seen);
	return pathset_write(seen, &s->out);
}

