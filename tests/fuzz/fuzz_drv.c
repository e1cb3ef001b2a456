/* BasicDerivations in wire form (BuildDerivation), one after another until
 * the input ends. What drvwire_read keeps to pass on must be exactly the
 * bytes it read. */
#include <stdlib.h>
#include <string.h>

#include "drv.h"
#include "err.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct drvwire d;
	struct rd r;
	uint64_t at;

	rd_init_mem(&r, data, size, EXIT_REFUSED, "client");
	while (rd_at_eof(&r) == 0) {
		at = r.count;
		if (drvwire_read(&d, &r) < 0)
			break;
		if (d.len != r.count - at || memcmp(d.buf, data + at, d.len))
			abort();
	}
	drvwire_free(&d);
	err_clear();
	return 0;
}
