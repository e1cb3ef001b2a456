/* Serve-protocol requests, end to end as nixgate-serve runs them: the
 * client's bytes through the parser, what it forwards through the monitor,
 * with the daemon's replies taken from the input, and what reaches the
 * daemon checked against the policy (daemoncheck.c).
 * Input: config (SESSION_* bits), daemon minor, client length (u32 little
 * endian), the client's bytes, then the daemon's. */
#include "harness.h"
#include "wire.h"
#include "worker.h"

#define HEAD 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t clen;

	if (size < HEAD)
		return 0;
	clen = (size_t)(data[2] | data[3] << 8 | (uint32_t)data[4] << 16 | (uint32_t)data[5] << 24);
	if (clen > size - HEAD)
		clen = size - HEAD;
	/* the daemon speaks a minor between the oldest nixgate takes and its own */
	session(data[0], WORKER_MIN_MINOR + data[1] % ((WORKER_VERSION & 0xff) - WORKER_MIN_MINOR + 1),
		data + HEAD, clen, data + HEAD + clen, size - HEAD - clen);
	return 0;
}
