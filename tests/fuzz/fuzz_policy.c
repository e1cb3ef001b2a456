/* A policy file, read for the section [key laptop]. Input: the file. */
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "harness.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy p;
	char *s;
	FILE *f;

	/* fmemopen refuses an empty buffer */
	if (size == 0 || !(s = copy(data, size)))
		return 0;
	if ((f = fmemopen(s, size, "r"))) {
		policy_init(&p);
		policy_read(&p, f, "policy", "laptop");
		fclose(f);
	}
	free(s);
	err_clear();
	return 0;
}
