/* Unit tests of build slots: two sessions over the same lock files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "slots.h"

void t_slots(void)
{
	char dir[] = "/tmp/nixgate-slots.XXXXXX", cmd[128];
	struct slots a, b, none;
	unsigned i;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(slots_open(&a, dir, "key-x", 2) == 0 && slots_open(&b, dir, "key-x", 2) == 0);
	CHECK(slots_open(&none, dir, "key-y", 0) == 0 && none.n == 0 && slots_take(&none) == 1);
	CHECK(slots_busy(&a) == 0);
	CHECK(slots_take(&a) == 1 && slots_busy(&b) == 1 && slots_busy(&a) == 1);
	CHECK(slots_take(&b) == 1 && slots_busy(&a) == 2);
	/* a third session finds both taken */
	{
		struct slots c;

		CHECK(slots_open(&c, dir, "key-x", 2) == 0 && slots_take(&c) == 0);
		slots_release(&a);
		CHECK(slots_take(&c) == 1 && slots_busy(&b) == 2);
		for (i = 0; i < c.n; i++)
			close(c.fd[i]);
	}
	/* one session holds as many as it takes (a build of several
	 * derivations), and gives them all back at once */
	CHECK(slots_take(&a) == 1 && slots_take(&a) == 0 && a.nheld == 1);
	slots_release(&b);
	CHECK(slots_take(&a) == 1 && a.nheld == 2 && slots_busy(&b) == 2 && slots_take(&b) == 0);
	slots_drop(&a);
	CHECK(a.nheld == 1 && slots_busy(&b) == 1 && slots_take(&b) == 1 && slots_take(&a) == 0);
	slots_release(&b);
	slots_release(&a);
	CHECK(a.nheld == 0 && slots_busy(&b) == 0);
	err_clear();
	CHECK(slots_open(&none, dir, "key-z", SLOTS_MAX + 1) == -1 && strstr(err_msg(), "more than"));
	for (i = 0; i < a.n; i++) {
		close(a.fd[i]);
		close(b.fd[i]);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}
