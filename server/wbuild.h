/* wbuild: the worker protocol's (ssh-ng://) builds and what goes with
 * them, on the monitor's side: BuildPaths and BuildPathsWithResults of
 * derivations on the host, BuildDerivation of one sent inline, EnsurePath
 * and AddSignatures; each after the same rules as the serve protocol's
 * twin (build.c), the daemon's log lines passed to the client as
 * STDERR_NEXT. */
#ifndef NIXGATE_WBUILD_H
#define NIXGATE_WBUILD_H

#include "serve.h"

/* Targets of one build request: Nix's clients send one per installable or
 * per derivation the hook builds remotely. */
#define WBUILD_TARGETS_MAX 4096

int wbuild_paths(struct serve *s);
int wbuild_results(struct serve *s);
int wbuild_ensure(struct serve *s);
int wbuild_derivation(struct serve *s);
int wbuild_add_signatures(struct serve *s);
int wbuild_realisation(struct serve *s);

/* The parser's side of BuildDerivation, AddSignatures and
 * QueryRealisation. */
int wparse_build_derivation(struct serve *s);
int wparse_add_signatures(struct serve *s);
int wparse_realisation(struct serve *s);
/* A DrvOutput id, checked: sha256:<64 hex digits>!<output name>, into id
 * (DRV_OUTPUT_ID_MAX + 1 bytes, realisation.h). */
int wrealisation_id_read(struct rd *r, char *id);

#endif
