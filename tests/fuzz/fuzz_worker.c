/* The daemon's side of the worker protocol as proto/worker.c reads it: the
 * handshake, then log streams (each up to STDERR_LAST or STDERR_ERROR) until
 * the input ends. Input: the daemon's bytes. */
#include <string.h>

#include "err.h"
#include "harness.h"
#include "worker.h"

/* Data for the daemon's STDERR_READ: a little at a time, like a short file. */
static int give(void *ctx, unsigned char *buf, size_t max, size_t *got)
{
	size_t *left = ctx;

	*got = max < *left ? max : *left;
	memset(buf, 'x', *got);
	*left -= *got;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct worker d;
	size_t left = 100;

	d.fd = -1;
	d.logfd = devnull();
	rd_init_mem(&d.r, data, size, EXIT_SYSTEM, "nix-daemon");
	wr_init_fd(&d.w, devnull(), d.wbuf, sizeof d.wbuf, "nix-daemon");
	if (worker_handshake(&d) == 0)
		while (rd_at_eof(&d.r) == 0 && worker_wait(&d, give, &left) != -1)
			;
	err_clear();
	return 0;
}
