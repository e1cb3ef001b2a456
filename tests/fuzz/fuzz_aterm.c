/* A .drv file in ATerm form: read for the policy (BuildPaths, from the host
 * store), and turned into a BasicDerivation in wire form (the build hook's
 * BuildDerivation). Where both work, the server's reader of the wire form
 * must see what the ATerm reader saw: the policy cannot depend on the way a
 * derivation came. Input: the file. */
#include <stdlib.h>
#include <string.h>

#include "aterm.h"
#include "err.h"
#include "harness.h"

#define WIRE_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char wire[WIRE_MAX];
	static struct drvinfo f;
	static struct drvwire d;
	struct rd r;
	struct wr w;
	char *s;
	int ok;

	if (!(s = copy(data, size)))
		return 0;
	ok = aterm_drv(&f, s, size) == 0;
	err_clear();
	wr_init_mem(&w, wire, sizeof wire);
	if (aterm_basic(&w, s, size, NULL) == 0) {
		rd_init_mem(&r, wire, w.len, EXIT_REFUSED, "client");
		if (drvwire_read(&d, &r) == 0 && (r.pos != w.len || (ok && memcmp(&f, &d.info, sizeof f))))
			abort();
	}
	drvwire_free(&d);
	free(s);
	err_clear();
	return 0;
}
