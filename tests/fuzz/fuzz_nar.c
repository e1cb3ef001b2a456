/* The streaming NAR validator. The verdict must not depend on how the stream
 * is cut: the input is fed whole, then in pieces, and both must agree on
 * accepting, refusing, and where the NAR ends. Input: the NAR. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "harness.h"
#include "nar.h"

/* -1 refused, else the bytes the NAR took (done or not) */
static ssize_t feed(struct nar *n, const uint8_t *p, size_t size, size_t step, int *done)
{
	size_t off = 0, k;
	ssize_t got;

	nar_init(n);
	while (off < size && !nar_done(n)) {
		k = size - off < step ? size - off : step;
		if ((got = nar_feed(n, p + off, k)) < 0)
			return -1;
		off += (size_t)got;
	}
	*done = nar_done(n);
	return (ssize_t)off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nar n;
	ssize_t whole, cut;
	int done1, done2;

	whole = feed(&n, data, size, size ? size : 1, &done1);
	if (whole >= 0 && (uint64_t)whole != n.total)
		abort();
	err_clear();
	cut = feed(&n, data, size, 1 + size % 13, &done2);
	err_clear();
	if (whole != cut || (whole >= 0 && done1 != done2))
		abort();
	return 0;
}
