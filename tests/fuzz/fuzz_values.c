/* The values with codecs of their own, read at every layout their protocol
 * versions give them: path info (serve and worker), build results, serve
 * build options. A value read, written, read again and written again must
 * give the same bytes both times; a build result of the DrvOutput-id form
 * written keyed by output name (what a serve 2.8 client gets) must read
 * back in that form the same way. Input: one value. */
#include <stdlib.h>
#include <string.h>

#include "buildresult.h"
#include "err.h"
#include "harness.h"
#include "pathinfo.h"
#include "serveopts.h"

#define OUT_MAX (4u << 20)

enum { SERVE_INFO, WORKER_INFO, RESULT, OPTS };

/* Layouts, each a codec and the minor (or build result fields) it reads by. */
static const struct { int codec; unsigned minor; } layouts[] = {
	{SERVE_INFO, 3}, {SERVE_INFO, 4}, {WORKER_INFO, 15}, {WORKER_INFO, 16},
	{OPTS, 1}, {OPTS, 2}, {OPTS, 3}, {OPTS, 7},
	{RESULT, 0}, {RESULT, BR_TIMES}, {RESULT, BR_TIMES | BR_OUTPUT_IDS}, {RESULT, BR_TIMES | BR_OUTPUT_PATHS},
	{RESULT, BR_OUTPUT_IDS}, {RESULT, BR_TIMES | BR_CPU | BR_OUTPUT_IDS},
	{RESULT, BR_TIMES | BR_CPU | BR_OUTPUT_PATHS},
};

static struct pathinfo info;
static struct pathset refs;
static struct build_result result;
static struct serve_opts opts;

static int rw(int codec, unsigned minor, struct rd *r, struct wr *w)
{
	switch (codec) {
	case SERVE_INFO:
		return pathinfo_read_serve(r, minor, &info, &refs) < 0 ? -1 :
		       pathinfo_write_serve(w, minor, &info, &refs);
	case WORKER_INFO:
		return pathinfo_read_worker(r, minor, &info, &refs) < 0 ? -1 :
		       pathinfo_write_worker(w, minor, &info, &refs);
	case RESULT:
		return build_result_read(r, minor, &result) < 0 ? -1 : build_result_write(w, minor, &result);
	default:
		return serve_opts_read(r, minor, &opts) < 0 ? -1 : serve_opts_write(w, minor, &opts);
	}
}

static void by_name(const uint8_t *data, size_t size, unsigned to, unsigned from)
{
	static unsigned char out1[OUT_MAX], out2[OUT_MAX];
	struct rd r;
	struct wr w1, w2;

	rd_init_mem(&r, data, size, EXIT_SYSTEM, "nix-daemon");
	wr_init_mem(&w1, out1, sizeof out1);
	if (build_result_read(&r, from, &result) == 0 && build_result_write(&w1, to, &result) == 0) {
		rd_init_mem(&r, out1, w1.len, EXIT_SYSTEM, "nix-daemon");
		wr_init_mem(&w2, out2, sizeof out2);
		if (rw(RESULT, to, &r, &w2) < 0 || w1.len != w2.len || memcmp(out1, out2, w1.len) || r.pos != r.len)
			abort();
	}
	err_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out1[OUT_MAX], out2[OUT_MAX];
	struct rd r;
	struct wr w1, w2;
	size_t i;

	for (i = 0; i < sizeof layouts / sizeof *layouts; i++) {
		rd_init_mem(&r, data, size, EXIT_SYSTEM, "nix-daemon");
		wr_init_mem(&w1, out1, sizeof out1);
		if (rw(layouts[i].codec, layouts[i].minor, &r, &w1) == 0) {
			/* what this side writes, its peer must read back the same */
			rd_init_mem(&r, out1, w1.len, EXIT_SYSTEM, "nix-daemon");
			wr_init_mem(&w2, out2, sizeof out2);
			if (rw(layouts[i].codec, layouts[i].minor, &r, &w2) < 0 || w1.len != w2.len ||
			    memcmp(out1, out2, w1.len) || r.pos != r.len)
				abort();
		}
		err_clear();
		if (layouts[i].codec == RESULT && (layouts[i].minor & BR_OUTPUT_IDS))
			by_name(data, size, (layouts[i].minor & ~BR_OUTPUT_IDS) | BR_OUTPUT_PATHS, layouts[i].minor);
	}
	pathset_free(&refs);
	pathset_free(&result.outs);
	return 0;
}
