/* serveopts: the build options after BuildPaths and BuildDerivation in the
 * serve protocol, by client minor. */
#ifndef NIXGATE_SERVEOPTS_H
#define NIXGATE_SERVEOPTS_H

#include <stdint.h>

#include "wire.h"

struct serve_opts {
	uint64_t max_silent_time, build_timeout;
	uint64_t max_log_size;     /* 2.2 */
	uint64_t repeats;          /* 2.3 */
	int enforce_determinism;   /* 2.3 */
	uint64_t keep_failed;      /* 2.7; kept as sent so that it is sent back the same */
};

int serve_opts_read(struct rd *r, unsigned minor, struct serve_opts *o);
int serve_opts_write(struct wr *w, unsigned minor, const struct serve_opts *o);

#endif
