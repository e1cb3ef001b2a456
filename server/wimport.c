/* wimport: the worker protocol's imports on the monitor's side. What the
 * parser forwards is the de-framed stream (wupload.c): the metadata, each
 * NAR of its declared size and the parser's vouch after it, read with the
 * same bounded readers and checked again here as import.c checks the serve
 * protocol's. */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "import.h"
#include "wimport.h"
#include "wserve.h"

static void current(struct serve *s, const char *path)
{
	note(s, path);
	snprintf(s->req.first, sizeof s->req.first, "%s", path);
}

/* A path a key that is not trusted cannot prove, sent by a client that
 * asked not to check signatures (the build hook's copy of a build's
 * inputs): not imported, its NAR read past and checked all the same; the
 * client is told, and the request goes on. The host builds the path from its
 * derivation if a build needs it. */
static int skip(struct serve *s, const struct addinfo *a, struct pathset *skipped, const char *why)
{
	char m[1024], q[512];
	size_t i;

	if (import_skip(s, a) < 0 || pathset_insert(skipped, a->path, strlen(a->path)) < 0)
		return -1;
	snprintf(q, sizeof q, "%.500s", why);
	for (i = 0; q[i]; i++)
		if (q[i] == '"' || (unsigned char)q[i] < ' ')
			q[i] = '\'';
	audit_write(s->audit, "key=%s op=%s path=%s result=skipped reason=\"%s\"", s->key, s->req.op, a->path, q);
	snprintf(m, sizeof m, "not importing %s: %.500s; the host builds it from its derivation when a build needs it",
		 a->path, why);
	return wserve_next(s, m);
}

/* One path whose metadata has been read: checked, then its NAR added,
 * skipped or refused. check_sigs: the client did not ask to skip the
 * signature check, so a path nothing proves is refused. */
static int one(struct serve *s, struct addinfo *a, struct pathset *refs, int check_sigs, struct pathset *skipped)
{
	char why[768];
	int r;

	current(s, a->path);
	if ((r = import_check(s, a, refs, skipped, why, sizeof why)) < 0)
		return -1;
	if (r == 1 && check_sigs)
		return refuse(s, "import", "%s", why);
	if (serve_go(s) < 0)
		return -1;
	return r == 1 ? skip(s, a, skipped, why) : import_nar(s, a, refs);
}

static int version_ok(struct serve *s, unsigned min)
{
	if (s->minor < min)
		return refuse(s, "version", "worker protocol 1.%u sends this request in a form nixgate-serve does not "
			      "serve (1.%u or newer)", s->minor, min);
	return 0;
}

int wadd_to_store_nar(struct serve *s)
{
	static struct addinfo a;
	static struct pathset skipped;
	int dont_check;

	if (version_ok(s, WADD_NAR_MIN_MINOR) < 0)
		return -1;
	if (addinfo_read(&s->in, &a, &s->ps, "AddToStoreNar") < 0 || rd_bool(&s->in, &a.repair, "repair") < 0 ||
	    rd_bool(&s->in, &dont_check, "dontCheckSigs") < 0)
		return -1;
	pathset_clear(&skipped);
	if (one(s, &a, &s->ps, !dont_check, &skipped) < 0)
		return -1;
	s->answered = 1;
	return wr_u64(&s->out, STDERR_LAST);
}

int wadd_multiple(struct serve *s)
{
	static struct addinfo a;
	static struct pathset skipped;
	int repair, dont_check;
	uint64_t n, i;

	if (version_ok(s, WADD_MULTIPLE_MIN_MINOR) < 0)
		return -1;
	if (rd_bool(&s->in, &repair, "repair") < 0 || rd_bool(&s->in, &dont_check, "dontCheckSigs") < 0)
		return -1;
	if (need_write(s) < 0 || allowed(s, ALLOW_IMPORT) < 0)
		return -1;
	if (repair && !s->pol->trusted)
		return refuse(s, "repair", "only a trusted key may repair a path");
	if (rd_count(&s->in, &n, WADD_PATHS_MAX, "paths to add") < 0)
		return -1;
	pathset_clear(&skipped);
	for (i = 0; i < n; i++) {
		if (addinfo_read(&s->in, &a, &s->ps, "AddMultipleToStore") < 0)
			return -1;
		a.repair = repair;
		if (one(s, &a, &s->ps, !dont_check, &skipped) < 0)
			return -1;
	}
	/* the parser's word that the stream ended where the list does */
	if (vouched(s) < 0)
		return -1;
	s->answered = 1;
	return wr_u64(&s->out, STDERR_LAST);
}

/* AddToStore and AddTextToStore: a client sends them to write a file or a
 * derivation it made itself into the host store (evaluation against the
 * store: nix build --store ssh-ng://); nix copy and remote builds send
 * AddMultipleToStore and AddToStoreNar with Nix 2.8, 2.26 and 2.34 alike.
 * Refused by name before their payload is read. */
int wadd_unserved(struct serve *s)
{
	return refuse(s, "operation", "nixgate-serve does not add files or derivations a client made on the host "
		      "(as nix build --store ssh-ng:// does); copy them with nix copy, which it serves");
}
