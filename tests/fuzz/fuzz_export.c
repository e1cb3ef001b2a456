/* ImportPaths: the export format (NAR, then its metadata) from a client of
 * protocol 2.7 running --write, the daemon accepting every path.
 * Input: config (SESSION_* bits), daemon minor (odd: 21, whose daemon asks
 * for the NAR by STDERR_READ; even: 34), then the export stream. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "serve.h"

#define PATHS_MAX 1024

/* What a daemon that takes every path sends, for up to PATHS_MAX paths. */
static size_t accept_all(unsigned char *b, int old)
{
	size_t n = 0, i;

	for (i = 0; i < PATHS_MAX; i++) {
		if (old) {
			le64_put(b + n, STDERR_READ);
			le64_put(b + n + 8, WIRE_BUFSZ);
			n += 16;
		}
		le64_put(b + n, STDERR_LAST);
		n += 8;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char replies[2][PATHS_MAX * 24];
	static size_t rlen[2];
	unsigned char *client;
	int old;

	if (size < 2 || !(client = malloc(24 + size - 2)))
		return 0;
	old = data[1] & 1;
	if (!rlen[old])
		rlen[old] = accept_all(replies[old], old);
	le64_put(client, SERVE_MAGIC_1);
	le64_put(client + 8, SERVE_VERSION);
	le64_put(client + 16, 4); /* ImportPaths */
	memcpy(client + 24, data + 2, size - 2);
	session(data[0] | SESSION_WRITE, old ? WORKER_MIN_MINOR : WORKER_VERSION & 0xff, client, 24 + size - 2,
		replies[old], rlen[old]);
	free(client);
	return 0;
}
