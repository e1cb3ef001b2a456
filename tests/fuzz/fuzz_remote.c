/* The build host's replies as the build hook reads them (client/remote.c):
 * a host is a peer too, and the hook runs as root beside the client's
 * daemon. One request of each kind, in turn, on one reply stream.
 * Input: the serve protocol minor the host agreed to, then its replies. */
#include <string.h>

#include "err.h"
#include "harness.h"
#include "realisation.h"
#include "remote.h"

#define P "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-hello-2.12"
#define DRV "/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-hello.txt.drv"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct remote h;
	static struct pathset paths, got, refs;
	static struct pathinfo in;
	static struct build_result br;
	static struct realisation re;
	size_t i;
	static const unsigned char wire[8]; /* an empty BasicDerivation's first count */
	unsigned char hash[SHA256_BYTES];
	uint64_t narsize;
	char msg[256];

	if (size < 1)
		return 0;
	h.minor = data[0] % 8;
	rd_init_mem(&h.r, data + 1, size - 1, EXIT_SYSTEM, "host");
	wr_init_fd(&h.w, devnull(), h.wbuf, sizeof h.wbuf, "host");
	pathset_clear(&paths);
	if (pathset_add(&paths, DRV "!out", strlen(DRV "!out")) < 0)
		return 0;
	/* each request reads on where the last stopped, whatever became of it */
	remote_valid(&h, &paths, &got);
	err_clear();
	remote_info(&h, P, &in, &refs);
	err_clear();
	remote_build(&h, &paths, msg, sizeof msg);
	err_clear();
	/* the built outputs' realisations as the hook parses them */
	if (remote_build_inline(&h, DRV, wire, sizeof wire, &br) >= 0 && !br.out_paths)
		for (i = 0; i < br.nouts; i++) {
			const char *j = pathset_get(&br.outs, 2 * i + 1);

			realisation_parse(&re, j, strlen(j));
			err_clear();
		}
	err_clear();
	remote_dump(&h, P, devnull(), hash, &narsize);
	err_clear();
	pathset_free(&paths);
	pathset_free(&got);
	pathset_free(&refs);
	return 0;
}
