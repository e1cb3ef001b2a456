/* Serve-protocol requests, end to end as nixgate-serve runs them: the
 * client's bytes through the parser, what it forwards through the monitor,
 * with the daemon's replies taken from the input, and what reaches the
 * daemon checked against the policy (daemoncheck.c).
 * Input: as split_input (harness.h), the client's bytes first. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct split sp;

	if (split_input(data, size, &sp) == 0)
		session(sp.config, sp.minor, sp.in, sp.ilen, sp.daemon, sp.dlen);
	return 0;
}
