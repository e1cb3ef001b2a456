/* Unit tests of the daemon ops a build asks first: QueryMissing's answer,
 * and QueryDerivationOutputMap's (names, the daemon's error, limits), over
 * bytes in memory as a 1.34 daemon sends them. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "missing.h"

#define DRV "/nix/store/00000000000000000000000000000000-a.drv"
#define OUT "/nix/store/11111111111111111111111111111111-a"

static struct worker d;
static unsigned char in[65536], sent[4096];

/* The daemon's bytes so far, as what the worker reads next. */
static void answer(struct wr *w, unsigned minor)
{
	memset(&d, 0, sizeof d);
	d.minor = minor;
	d.logfd = -1;
	rd_init_mem(&d.r, in, w->len, EXIT_SYSTEM, "nix-daemon");
	wr_init_mem(&d.w, sent, sizeof sent);
	err_clear();
}

void t_missing_ops(void)
{
	static struct missing m;
	static struct pathset t;
	char names[64];
	struct wr w;
	int i;

	/* QueryMissing: what it sends, and the three sets and two sizes back */
	wr_init_mem(&w, in, sizeof in);
	wr_u64(&w, STDERR_LAST);
	wr_u64(&w, 1); wr_cstr(&w, DRV);
	wr_u64(&w, 1); wr_cstr(&w, OUT);
	wr_u64(&w, 0);
	wr_u64(&w, 7); wr_u64(&w, 9);
	answer(&w, 34);
	pathset_init(&t);
	missing_init(&m);
	CHECK(pathset_add(&t, DRV "!out", strlen(DRV "!out")) == 0);
	CHECK(missing_query(&d, &t, &m) == 0 && m.build.n == 1 && !strcmp(pathset_get(&m.build, 0), DRV) &&
	      m.subst.n == 1 && m.unknown.n == 0 && m.download_size == 7 && m.nar_size == 9);
	CHECK(le64_get(sent) == 40 && le64_get(sent + 8) == 1 && le64_get(sent + 16) == strlen(DRV "!out"));
	/* a path in an answer that is not a store path is the daemon's fault */
	wr_init_mem(&w, in, sizeof in);
	wr_u64(&w, STDERR_LAST);
	wr_u64(&w, 1); wr_cstr(&w, "/etc/passwd");
	answer(&w, 34);
	CHECK(missing_query(&d, &t, &m) == -1);

	/* QueryDerivationOutputMap: names in order, paths ignored */
	wr_init_mem(&w, in, sizeof in);
	wr_u64(&w, STDERR_LAST);
	wr_u64(&w, 2); wr_cstr(&w, "dev"); wr_cstr(&w, ""); wr_cstr(&w, "out"); wr_cstr(&w, OUT);
	answer(&w, 34);
	CHECK(missing_outputs(&d, DRV, names, sizeof names) == 0 && !strcmp(names, "dev,out"));
	CHECK(le64_get(sent) == 41);
	/* more names than fit: refused, every byte read */
	wr_init_mem(&w, in, sizeof in);
	wr_u64(&w, STDERR_LAST);
	wr_u64(&w, 20);
	for (i = 0; i < 20; i++) {
		wr_cstr(&w, "output-name");
		wr_cstr(&w, "");
	}
	answer(&w, 34);
	CHECK(missing_outputs(&d, DRV, names, sizeof names) == -1 && err_kind() == EXIT_REFUSED &&
	      d.r.pos == d.r.len);
	/* an output name that would change the target's meaning */
	wr_init_mem(&w, in, sizeof in);
	wr_u64(&w, STDERR_LAST);
	wr_u64(&w, 1); wr_cstr(&w, "out,dev"); wr_cstr(&w, "");
	answer(&w, 34);
	CHECK(missing_outputs(&d, DRV, names, sizeof names) == -1 && err_kind() == EXIT_SYSTEM);
	/* a .drv that is not valid: the daemon's error, in band */
	wr_init_mem(&w, in, sizeof in);
	wr_u64(&w, STDERR_ERROR);
	wr_cstr(&w, "Error"); wr_u64(&w, 0); wr_cstr(&w, "Error");
	wr_cstr(&w, "path '" DRV "' is not valid"); wr_u64(&w, 0); wr_u64(&w, 0);
	answer(&w, 34);
	CHECK(missing_outputs(&d, DRV, names, sizeof names) == -2 && strstr(d.errmsg, "is not valid"));
	/* a daemon before 1.22 has no such op: nothing is sent */
	answer(&w, 21);
	CHECK(missing_outputs(&d, DRV, names, sizeof names) == 1 && d.w.len == 0);
	pathset_free(&t);
	missing_free(&m);
}
