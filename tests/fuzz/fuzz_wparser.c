/* The parser of the worker protocol (ssh-ng://) alone: a client's bytes,
 * the monitor saying go to everything. Input: config (SESSION_* bits),
 * then the client's bytes. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	harness_worker(1);
	parser_session(data[0], data + 1, size - 1, NULL, NULL);
	return 0;
}
