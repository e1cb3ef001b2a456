/* The monitor of a worker-protocol (ssh-ng://) session driven by a
 * compromised parser: arbitrary bytes where the forwarded requests would
 * be, the daemon's replies also from the input; every request the monitor
 * sends the daemon is checked against the policy (daemoncheck.c). Then the
 * same client bytes through the parser first, as nixgate-serve runs them.
 * Input: config (SESSION_* bits), daemon minor, channel length (u32 little
 * endian), the channel's bytes, then the daemon's. */
#include "harness.h"
#include "wire.h"
#include "worker.h"

#define HEAD 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned minor;
	size_t clen;

	if (size < HEAD)
		return 0;
	clen = (size_t)(data[2] | data[3] << 8 | (uint32_t)data[4] << 16 | (uint32_t)data[5] << 24);
	if (clen > size - HEAD)
		clen = size - HEAD;
	minor = WORKER_MIN_MINOR + data[1] % ((WORKER_VERSION & 0xff) - WORKER_MIN_MINOR + 1);
	harness_worker(1);
	monitor_session(data[0], minor, data + HEAD, clen, data + HEAD + clen, size - HEAD - clen);
	session(data[0], minor, data + HEAD, clen, data + HEAD + clen, size - HEAD - clen);
	return 0;
}
