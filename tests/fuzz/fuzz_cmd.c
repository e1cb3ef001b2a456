/* The forced-command string (SSH_ORIGINAL_COMMAND). Input: the string. */
#include <stdlib.h>

#include "cmd.h"
#include "err.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmd c;
	char *s;

	if (!(s = copy(data, size)))
		return 0;
	cmd_parse(&c, s, size);
	free(s);
	err_clear();
	return 0;
}
