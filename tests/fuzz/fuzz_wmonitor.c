/* The monitor of a worker-protocol (ssh-ng://) session driven by a
 * compromised parser: arbitrary bytes where the forwarded requests would
 * be, the daemon's replies also from the input; every request the monitor
 * sends the daemon is checked against the policy (daemoncheck.c). Then the
 * same client bytes through the parser first, as nixgate-serve runs them.
 * Input: as split_input (harness.h). */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct split sp;

	if (split_input(data, size, &sp) < 0)
		return 0;
	harness_worker(1);
	monitor_session(sp.config, sp.minor, sp.in, sp.ilen, sp.daemon, sp.dlen);
	session(sp.config, sp.minor, sp.in, sp.ilen, sp.daemon, sp.dlen);
	return 0;
}
