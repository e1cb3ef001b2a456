/* BuildResult from one protocol version's layout into another's, against
 * Nix's own vectors: the same three results in the DrvOutput-id form
 * (serve 2.6, 2.7, worker 1.29, 1.37) and keyed by output name (serve 2.8,
 * worker 1.38 with realisation-with-path-not-hash). What nixgate-serve
 * does when a daemon answers in the first and a client reads the second. */
#include <string.h>

#include "buildresult.h"
#include "check.h"
#include "err.h"
#include "golden.h"

static unsigned char a[FILE_MAX], b[FILE_MAX], out[FILE_MAX];

/* The three results of sub/from read with from_fields and written with
 * to_fields: 0 when that is sub/to byte for byte. */
static int convert(const char *sub, const char *from, unsigned from_fields, const char *to, unsigned to_fields)
{
	static struct build_result br;
	char dir[400];
	size_t alen, blen;
	struct rd r;
	struct wr w;
	int i;

	snprintf(dir, sizeof dir, "%s/%s", check_dir, sub);
	if (load(dir, from, ".bin", a, sizeof a, &alen) < 0 || load(dir, to, ".bin", b, sizeof b, &blen) < 0)
		return -1;
	rd_init_mem(&r, a, alen, EXIT_SYSTEM, "golden");
	wr_init_mem(&w, out, sizeof out);
	err_clear();
	for (i = 0; i < 3; i++)
		if (build_result_read(&r, from_fields, &br) < 0 || build_result_write(&w, to_fields, &br) < 0)
			return -1;
	return r.pos == r.len && w.len == blen && !memcmp(out, b, blen) ? 0 : -1;
}

void t_buildresult_by_name(void)
{
	unsigned s28 = serve_result_fields(8), w38 = worker_result_fields(38, 1);

	NEED_TEST_DATA();
	CHECK(s28 & BR_OUTPUT_PATHS);
	CHECK(convert("serve-protocol", "build-result-2.6", serve_result_fields(6), "build-result-2.8", s28) == 0);
	CHECK(convert("serve-protocol", "build-result-2.7-compat", serve_result_fields(7), "build-result-2.8", s28) == 0);
	CHECK(convert("worker-protocol", "build-result-1.37", worker_result_fields(37, 0),
		      "build-result-realisation-with-path-not-hash", w38) == 0);
	/* each form as it is */
	CHECK(convert("serve-protocol", "build-result-2.8", s28, "build-result-2.8", s28) == 0);
	CHECK(convert("serve-protocol", "build-result-2.7-compat", serve_result_fields(7), "build-result-2.7-compat",
		      serve_result_fields(7)) == 0);
	/* keyed by name, the derivation hash of the id form is not there */
	CHECK(convert("serve-protocol", "build-result-2.8", s28, "build-result-2.7-compat", serve_result_fields(7)) ==
	      -1 && strstr(err_msg(), "DrvOutput-id form"));
}

/* A built output in the id form is taken into the other only when its
 * Realisation is one Nix writes, for that id. */
void t_buildresult_by_name_refused(void)
{
	static const char *const bad[][3] = {
		{"sha256:6f869f9ea2823bda165e06076fd0de4366dead2c0e8d2dbbad277d4f15c373f5!out",
		 "{\"id\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000!out\","
		 "\"outPath\":\"g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-out\"}", "realisation is for"},
		{"sha256:6f869f9ea2823bda165e06076fd0de4366dead2c0e8d2dbbad277d4f15c373f5!out",
		 "{\"id\":\"sha256:6f869f9ea2823bda165e06076fd0de4366dead2c0e8d2dbbad277d4f15c373f5!out\"}", "no outPath"},
		{"sha256:6f869f9ea2823bda165e06076fd0de4366dead2c0e8d2dbbad277d4f15c373f5!out",
		 "{\"id\":\"sha256:6f869f9ea2823bda165e06076fd0de4366dead2c0e8d2dbbad277d4f15c373f5!out\","
		 "\"outPath\":\"../etc-out\"}", "outPath"},
		{"out", "{\"id\":\"out\",\"outPath\":\"g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-out\"}", "not sha256:"},
	};
	static struct build_result br;
	struct rd r;
	struct wr w;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		wr_init_mem(&w, a, sizeof a);
		wr_u64(&w, 0);
		wr_cstr(&w, "");
		wr_u64(&w, 1); wr_u64(&w, 0); wr_u64(&w, 0); wr_u64(&w, 0); /* times */
		wr_u64(&w, 1);
		wr_cstr(&w, bad[i][0]);
		wr_cstr(&w, bad[i][1]);
		rd_init_mem(&r, a, w.len, EXIT_SYSTEM, "nix-daemon");
		err_clear();
		CHECK(build_result_read(&r, serve_result_fields(7), &br) == 0 && br.nouts == 1);
		wr_init_mem(&w, out, sizeof out);
		CHECK(build_result_write(&w, serve_result_fields(8), &br) == -1 && strstr(err_msg(), bad[i][2]));
	}
}
