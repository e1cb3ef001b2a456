/* build: BuildPaths and BuildDerivation, with the key's platform and
 * output rules and its build slots; the serve protocol's requests, and
 * the build itself for the worker protocol's (wbuild.c). */
#ifndef NIXGATE_BUILD_H
#define NIXGATE_BUILD_H

#include "buildresult.h"
#include "drv.h"
#include "serve.h"

int build_paths(struct serve *s);
int build_derivation(struct serve *s);

/* The client's build limits capped by the key's policy; substitution only
 * where the policy allows it; the session's max-jobs. */
void build_opts_cap(struct serve *s, struct build_opts *o);
/* The daemon's build of the checked targets, within the timeout: 0, -1
 * failure, -2 the daemon failed it (d->errmsg). */
typedef int (*build_go)(struct serve *s, const struct pathset *targets, uint64_t timeout_s);
/* The build of s->ps (path or drv!outputs targets, the key's permission
 * checked) with options o, capped already: the key's rules over every
 * derivation the daemon would build for it, its build slots held while
 * go runs. bare_builds: a bare .drv means a build of all its outputs (the
 * serve protocol, worker clients before 1.30). 0 built, -1 refused
 * (s->req.rule) or failed (d->build_late when nixgate's clock ended it),
 * -2 the daemon failed it (d->errmsg). */
int build_run(struct serve *s, struct build_opts *o, int bare_builds, build_go go);
/* BuildDerivation of drv, sent inline for path, after the same rules as
 * the serve protocol's: 0 with the result in br (a failed build
 * included), -1 refused (s->req.rule) or failed (d->build_late). */
int build_inline(struct serve *s, const char *path, const struct drvwire *drv, struct build_opts *o,
		 struct build_result *br);

#endif
