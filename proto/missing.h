/* missing: what nix-daemon says about a build before it is asked for one:
 * the derivations it would build (QueryMissing), and a derivation's output
 * names as its store records them (QueryDerivationOutputMap). */
#ifndef NIXGATE_MISSING_H
#define NIXGATE_MISSING_H

#include <stddef.h>
#include <stdint.h>

#include "pathset.h"
#include "worker.h"

/* Outputs of one derivation in the daemon's answer: more than any
 * derivation nixgate reads (DRV_OUTPUTS_MAX), read past so the connection
 * stays in step. */
#define MISSING_OUTPUTS_MAX 65536

struct missing {
	struct pathset build, subst, unknown;
	uint64_t download_size, nar_size;
};

void missing_init(struct missing *m);
void missing_free(struct missing *m);
/* targets: path or drv!out,... strings, as BuildPaths takes them. 0; -2
 * when the daemon refused (its text in d->errmsg); -1 on failure. */
int missing_query(struct worker *d, const struct pathset *targets, struct missing *m);
/* drv's output names, comma separated, into names (cap bytes): 0; 1 when
 * the daemon is too old to say (before 1.22); -2 when it refused (drv is
 * not valid: its text in d->errmsg); -1 on failure, EXIT_REFUSED when the
 * names do not fit. */
int missing_outputs(struct worker *d, const char *drv, char *names, size_t cap);

#endif
