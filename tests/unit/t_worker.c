/* Unit tests of the daemon handshake (proto/worker.c) as each daemon
 * version answers it: Nix 2.8's 1.34, 1.37, 2.26 to 2.34's 1.38 with an
 * empty feature list, 2.35's 1.38 with features, and a newer number; the
 * bytes nixgate sends checked whole, since a daemon reads them blind. */
#include <string.h>

#include "check.h"
#include "err.h"
#include "worker.h"

static struct worker d;
static unsigned char in[1 << 12], sent[1 << 12], want[1 << 12];
static struct wr a, e;

/* The daemon's greeting at version v; the rest is the caller's. */
static void daemon_says(uint64_t v)
{
	wr_init_mem(&a, in, sizeof in);
	wr_init_mem(&e, want, sizeof want);
	wr_u64(&a, WORKER_MAGIC_2);
	wr_u64(&a, v);
}

static void daemon_hello_tail(unsigned minor, const char *version, uint64_t trust)
{
	if (minor >= 33)
		wr_cstr(&a, version);
	if (minor >= 35)
		wr_u64(&a, trust);
	wr_u64(&a, STDERR_LAST);
}

static int shake(void)
{
	memset(&d, 0, sizeof d);
	d.logfd = -1;
	rd_init_mem(&d.r, in, a.len, EXIT_SYSTEM, "nix-daemon");
	wr_init_mem(&d.w, sent, sizeof sent);
	err_clear();
	return worker_handshake(&d);
}

/* nixgate's side: its magic and version, the features it offers (none)
 * from 1.38, no CPU affinity, no reserved space */
static void client_says(unsigned minor)
{
	wr_u64(&e, WORKER_MAGIC_1);
	wr_u64(&e, WORKER_VERSION);
	if (minor >= 38)
		wr_u64(&e, 0);
	wr_u64(&e, 0);
	wr_u64(&e, 0);
}

static int sent_ok(void)
{
	return d.w.len == e.len && !memcmp(sent, want, e.len);
}

static int in_step(void)
{
	return d.r.pos == d.r.len;
}

void t_worker_handshake(void)
{
	static const unsigned minors[] = {21, 34, 35, 37};
	size_t i;

	CHECK(WORKER_VERSION == 0x126);
	for (i = 0; i < sizeof minors / sizeof *minors; i++) {
		daemon_says(0x100 | minors[i]);
		daemon_hello_tail(minors[i], "2.x", 1);
		client_says(minors[i]);
		CHECK(shake() == 0 && d.minor == minors[i] && sent_ok() && in_step());
		CHECK(!strcmp(d.version, minors[i] >= 33 ? "2.x" : ""));
	}

	/* 2.26 to 2.34: 1.38 and no features */
	daemon_says(0x126);
	wr_u64(&a, 0);
	daemon_hello_tail(38, "2.34.8", 2);
	client_says(38);
	CHECK(shake() == 0 && d.minor == 38 && sent_ok() && in_step() && !strcmp(d.version, "2.34.8"));

	/* 2.35: features nixgate does not offer, so none is in use; a daemon
	 * numbering itself past 1.38 is spoken to at 1.38 */
	daemon_says(0x127);
	wr_u64(&a, 2);
	wr_cstr(&a, "delete-dead-specific-referrers");
	wr_cstr(&a, "realisation-with-path-not-hash");
	daemon_hello_tail(38, "2.35.0", 1);
	client_says(38);
	CHECK(shake() == 0 && d.minor == 38 && sent_ok() && in_step() && !strcmp(d.version, "2.35.0"));
}

void t_worker_features_limits(void)
{
	char big[WORKER_FEATURE_MAX + 2];
	int i;

	/* more features than nixgate reads */
	daemon_says(0x126);
	wr_u64(&a, WORKER_FEATURES_MAX + 1);
	for (i = 0; i <= WORKER_FEATURES_MAX; i++)
		wr_cstr(&a, "f");
	daemon_hello_tail(38, "2.35.0", 1);
	CHECK(shake() == -1 && strstr(err_msg(), "features"));

	/* one feature name past its limit */
	memset(big, 'f', sizeof big - 1);
	big[sizeof big - 1] = 0;
	daemon_says(0x126);
	wr_u64(&a, 1);
	wr_cstr(&a, big);
	daemon_hello_tail(38, "2.35.0", 1);
	CHECK(shake() == -1 && strstr(err_msg(), "feature"));

	/* and one just within it */
	big[sizeof big - 2] = 0;
	daemon_says(0x126);
	wr_u64(&a, 1);
	wr_cstr(&a, big);
	daemon_hello_tail(38, "2.35.0", 1);
	CHECK(shake() == 0 && d.minor == 38 && in_step());
}
