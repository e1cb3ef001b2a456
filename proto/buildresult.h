/* buildresult: the outcome of a build (Nix's BuildResult) in the layouts of
 * the serve and worker protocols' versions. */
#ifndef NIXGATE_BUILDRESULT_H
#define NIXGATE_BUILDRESULT_H

#include <stddef.h>
#include <stdint.h>

#include "drv.h"
#include "pathset.h"
#include "wire.h"
#include "worker.h"

/* What a version carries after status and error message. */
#define BR_TIMES 1        /* times built, non-deterministic, start and stop time */
#define BR_CPU 2          /* user and system CPU time, each optional */
#define BR_OUTPUT_IDS 4   /* built outputs: DrvOutput id -> Realisation as JSON */
#define BR_OUTPUT_PATHS 8 /* built outputs: output name -> out path, signatures */

/* One built output's id or Realisation JSON; Nix's are a few hundred bytes. */
#define REALISATION_MAX (WORKER_TEXT_KEEP - 1)

struct build_result {
	uint64_t status;                 /* passed on as the daemon sent it */
	char msg[WORKER_TEXT_KEEP];      /* error text, cut to fit */
	uint64_t times_built, start_time, stop_time;
	int non_deterministic;
	int has_cpu_user, has_cpu_system;
	uint64_t cpu_user, cpu_system;   /* microseconds */
	/* Per output its key and value, then (out_paths) its nsigs signatures. */
	struct pathset outs;
	size_t nouts;
	unsigned char nsigs[DRV_OUTPUTS_MAX];
	int out_paths;
};

unsigned serve_result_fields(unsigned minor);
/* with_paths: the feature realisation-with-path-not-hash (1.38) */
unsigned worker_result_fields(unsigned minor, int with_paths);

/* A result with a status and message only, as for a refused build. */
void build_result_set(struct build_result *b, uint64_t status, const char *msg);
int build_result_read(struct rd *r, unsigned fields, struct build_result *b);
int build_result_write(struct wr *w, unsigned fields, const struct build_result *b);

#endif
