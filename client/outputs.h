/* outputs: a build's outputs from the host into the local store while the
 * building goal holds their locks, as the build hook must. */
#ifndef NIXGATE_OUTPUTS_H
#define NIXGATE_OUTPUTS_H

#include "pathset.h"
#include "remote.h"
#include "worker.h"

/* Of outs, the ones not valid locally: their nix-store processes started
 * (a restore each, and one register) before the build, so that their
 * start overlaps it. The goal holds their locks all along. */
int outputs_start(struct worker *local, const struct pathset *outs);
/* Those outputs from the host: each restored at its store path with its
 * NAR checked against the host's hash and size, then all registered valid
 * at once, then the host's signatures added through the local daemon;
 * *copied says how many. On a failure no restored path is left behind. */
int outputs_finish(struct remote *h, struct worker *local, size_t *copied);
/* What outputs_start began, ended: nothing restored, nothing registered. */
void outputs_abort(void);
/* An output of a floating content-addressed derivation from the host,
 * added through the local daemon with the host's metadata, its content
 * address included, which the daemon checks against the NAR (as Nix's own
 * hook copies it). The goal holds no lock on such a path (only one named
 * after the .drv and the output), so the daemon's add does not wait. */
int outputs_add(struct remote *h, struct worker *local, const char *path);

#endif
