/* The wire readers every request goes through, each run over the whole input
 * as a sequence of values: strings, cut log strings, store paths, path sets
 * and path lists passed on. A string read and written again must give back
 * exactly the bytes read. Input: wire-encoded values. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "harness.h"
#include "pathset.h"
#include "storepath.h"
#include "wire.h"

/* Strings, each written again and compared with what was read. */
static void strings(const uint8_t *data, size_t size)
{
	static unsigned char out[8 + 4096 + 8];
	char s[4097];
	uint64_t at;
	size_t n;
	struct rd r;
	struct wr w;

	rd_init_mem(&r, data, size, EXIT_REFUSED, "client");
	while (rd_at_eof(&r) == 0) {
		at = r.count;
		if (rd_str(&r, s, sizeof s - 1, &n, "string") < 0)
			break;
		wr_init_mem(&w, out, sizeof out);
		if (wr_str(&w, s, n) < 0 || w.len != r.count - at || memcmp(out, data + at, w.len))
			abort();
	}
	err_clear();
}

static void log_strings(const uint8_t *data, size_t size)
{
	char s[16];
	uint64_t n;
	struct rd r;

	rd_init_mem(&r, data, size, EXIT_SYSTEM, "nix-daemon");
	while (rd_at_eof(&r) == 0)
		if (rd_str_trunc(&r, s, sizeof s, 1u << 20, &n, "log") < 0 || strlen(s) > sizeof s - 1)
			break;
	err_clear();
}

static void paths(const uint8_t *data, size_t size)
{
	char p[STORE_PATH_MAX + 1];
	struct rd r;

	rd_init_mem(&r, data, size, EXIT_REFUSED, "client");
	while (rd_at_eof(&r) == 0)
		if (storepath_read(&r, p, 1, "path") < 0)
			break;
	err_clear();
}

/* Path sets, each also made unique (as QueryClosure does) and sorted; a
 * path inserted twice must be found the second time. */
static void path_sets(const uint8_t *data, size_t size)
{
	static unsigned char out[1 << 16];
	struct pathset s, u;
	struct rd r;
	struct wr w;
	size_t i;

	pathset_init(&s);
	pathset_init(&u);
	rd_init_mem(&r, data, size, EXIT_REFUSED, "client");
	while (rd_at_eof(&r) == 0) {
		if (pathset_read(&s, &r, "paths") < 0)
			break;
		pathset_clear(&u);
		for (i = 0; i < s.n; i++)
			if (pathset_insert(&u, pathset_get(&s, i), strlen(pathset_get(&s, i))) < 0)
				abort();
		for (i = 0; i < s.n; i++)
			if (pathset_insert(&u, pathset_get(&s, i), strlen(pathset_get(&s, i))) != 0)
				abort();
		pathset_sort(&u);
		wr_init_mem(&w, out, sizeof out);
		if (pathset_write(&u, &w) < 0)
			break;
	}
	pathset_free(&s);
	pathset_free(&u);
	err_clear();
}

static void path_lists(const uint8_t *data, size_t size)
{
	static unsigned char out[1 << 16];
	struct rd r;
	struct wr w;

	rd_init_mem(&r, data, size, EXIT_REFUSED, "client");
	wr_init_mem(&w, out, sizeof out);
	while (rd_at_eof(&r) == 0)
		if (pathlist_copy(&r, &w, "paths") < 0)
			break;
	err_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	strings(data, size);
	log_strings(data, size);
	paths(data, size);
	path_sets(data, size);
	path_lists(data, size);
	return 0;
}
