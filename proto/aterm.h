/* aterm: a derivation file (.drv) as Nix writes it, read for what the
 * policy needs: system, required features, outputs. */
#ifndef NIXGATE_ATERM_H
#define NIXGATE_ATERM_H

#include <stddef.h>

#include "drv.h"
#include "pathset.h"
#include "wire.h"

/* hello.drv of nixpkgs is 2 KiB; large env values (scripts) stay well below. */
#define ATERM_MAX (16u << 20)
#define ATERM_DEPTH_MAX 16

int aterm_drv(struct drvinfo *f, const char *s, size_t len);
/* The derivation as a BasicDerivation in wire form (what BuildDerivation
 * sends after the .drv path), onto w. When it has input derivations and srcs
 * is given, srcs (all its inputs) replace its sources, as Nix's hook does. */
int aterm_basic(struct wr *w, const char *s, size_t len, const struct pathset *srcs);

#endif
