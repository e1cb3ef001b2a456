/* Runs every unit test; prints PASS/FAIL lines that tests/run.sh counts, and
 * SKIP lines (not counted) for tests whose test data is absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "err.h"

/* Under ASan (build/asan-unit) the lines get their own prefix, and the
 * sandbox's tests are left out: ASan reserves terabytes of address space and
 * calls what the seccomp filter forbids, so they cannot pass there. */
#ifdef __SANITIZE_ADDRESS__
#define PREFIX "asan/unit/"
#define ASAN 1
#else
#define PREFIX "unit/"
#define ASAN 0
#endif

int check_failed, check_skipped;
const char *check_dir;

int main(int argc, char **argv)
{
	const struct unit_test *t;
	int fails = 0;

	check_dir = getenv("NIX_TEST_DATA");
	for (t = unit_tests; t->name; t++) {
		if ((argc > 1 && !strstr(t->name, argv[1])) || (ASAN && !strncmp(t->name, "sandbox_", 8)))
			continue;
		check_failed = check_skipped = 0;
		err_clear();
		t->fn();
		if (check_skipped && !check_failed) {
			printf("SKIP " PREFIX "%s: no test data (NIX_TEST_DATA)\n", t->name);
			continue;
		}
		printf("%s " PREFIX "%s\n", check_failed ? "FAIL" : "PASS", t->name);
		fails += check_failed != 0;
	}
	return fails != 0;
}
