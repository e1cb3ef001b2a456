/* check: the unit-test runner's one assertion and the test table. */
#ifndef NIXGATE_CHECK_H
#define NIXGATE_CHECK_H

#include <stddef.h>
#include <stdio.h>

extern int check_failed;
extern const char *check_dir; /* ../shared/nix-test-data, or NULL */
/* A test that needs check_dir and has nothing else to check says so:
 * it is reported as skipped, not passed. */
extern int check_skipped;
#define NEED_TEST_DATA() do { if (!check_dir) { check_skipped = 1; return; } } while (0)

#define CHECK(c) do { if (!(c)) { check_failed++; \
	printf("  %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

struct unit_test { const char *name; void (*fn)(void); };
/* A test-data file (up to 1 MiB, static buffer), or NULL. */
unsigned char *slurp(const char *dir, const char *name, size_t *n);
extern const struct unit_test unit_tests[];

#endif
