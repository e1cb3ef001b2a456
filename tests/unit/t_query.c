/* Unit tests of the serve requests of server/query.c against a daemon in
 * memory: what they ask the daemon, in what order, and what the client
 * gets back. */
#include <string.h>

#include "check.h"
#include "err.h"
#include "query.h"
#include "serve.h"

#define DRV "/nix/store/22222222222222222222222222222222-c.drv"
#define DEV "/nix/store/33333333333333333333333333333333-c-dev"
#define OUT "/nix/store/44444444444444444444444444444444-c"

static unsigned char from_daemon[8192], to_daemon[8192], from_client[1024], to_client[8192];

/* A path info with no references, as 1.34 sends it after STDERR_LAST. */
static void info(struct wr *w)
{
	wr_u64(w, STDERR_LAST);
	wr_u64(w, 1);
	wr_cstr(w, "");
	wr_cstr(w, "15e3c560894cbb27085cf65b5a2ecb18488c999497f4531b6907a7581ce6d527");
	wr_u64(w, 0);
	wr_u64(w, 1); wr_u64(w, 100); wr_u64(w, 0);
	wr_u64(w, 0);
	wr_cstr(w, "");
}

/* QueryClosure with outputs of a derivation of two outputs: the output map
 * is read whole before the validity of each output is asked, and the
 * closure has the .drv and both outputs. */
void t_query_closure_outputs(void)
{
	static struct serve s;
	static struct worker d;
	static struct policy pol;
	struct wr dw, cw;
	struct rd out;
	uint64_t n;
	char p[STORE_PATH_MAX + 1];

	wr_init_mem(&dw, from_daemon, sizeof from_daemon);
	info(&dw);                                           /* the .drv */
	wr_u64(&dw, STDERR_LAST); wr_u64(&dw, 2);             /* its outputs */
	wr_cstr(&dw, "dev"); wr_cstr(&dw, DEV);
	wr_cstr(&dw, "out"); wr_cstr(&dw, OUT);
	wr_u64(&dw, STDERR_LAST); wr_u64(&dw, 1);             /* dev valid */
	wr_u64(&dw, STDERR_LAST); wr_u64(&dw, 1);             /* out valid */
	info(&dw);                                           /* dev */
	info(&dw);                                           /* out */
	wr_init_mem(&cw, from_client, sizeof from_client);
	wr_u64(&cw, 1);                                      /* include outputs */
	wr_u64(&cw, 1); wr_cstr(&cw, DRV);

	memset(&s, 0, sizeof s);
	s.peer = -1;
	memset(&d, 0, sizeof d);
	policy_init(&pol);
	d.fd = -1;
	d.minor = 34;
	d.logfd = -1;
	rd_init_mem(&d.r, from_daemon, dw.len, EXIT_SYSTEM, "nix-daemon");
	wr_init_mem(&d.w, to_daemon, sizeof to_daemon);
	s.d = &d;
	s.pol = &pol;
	s.key = "test";
	s.req.op = "QueryClosure";
	rd_init_mem(&s.in, from_client, cw.len, EXIT_REFUSED, "client");
	wr_init_mem(&s.out, to_client, sizeof to_client);
	err_clear();

	CHECK(query_closure(&s) == 0);
	if (err_kind())
		printf("  %s\n", err_msg());
	CHECK(d.r.pos == d.r.len);
	rd_init_mem(&out, to_client, s.out.len, EXIT_SYSTEM, "test");
	CHECK(rd_u64(&out, &n) == 0 && n == 3);
	CHECK(storepath_read(&out, p, 0, "p") == 0 && !strcmp(p, DRV));
	CHECK(storepath_read(&out, p, 0, "p") == 0 && !strcmp(p, DEV));
	CHECK(storepath_read(&out, p, 0, "p") == 0 && !strcmp(p, OUT));
	pathset_free(&s.ps);
	pathset_free(&s.seen);
}
