/* The monitor driven by a compromised parser: arbitrary bytes where the
 * parser's forwarded requests would be, the daemon's replies also from the
 * input. Whatever arrives, every request the monitor sends the daemon is
 * checked against the policy (daemoncheck.c): one it forbids aborts.
 * Input: as split_input (harness.h), the channel's bytes first. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct split sp;

	if (split_input(data, size, &sp) == 0)
		monitor_session(sp.config, sp.minor, sp.in, sp.ilen, sp.daemon, sp.dlen);
	return 0;
}
