/* A .drv file in ATerm form, as the daemon hands it over for BuildPaths.
 * Input: the file. */
#include <stdlib.h>

#include "aterm.h"
#include "err.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct drvinfo f;
	char *s;

	if (!(s = copy(data, size)))
		return 0;
	aterm_drv(&f, s, size);
	free(s);
	err_clear();
	return 0;
}
