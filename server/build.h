/* build: BuildPaths and BuildDerivation, with the key's platform and
 * output rules and its build slots. */
#ifndef NIXGATE_BUILD_H
#define NIXGATE_BUILD_H

#include "serve.h"

int build_paths(struct serve *s);
int build_derivation(struct serve *s);

#endif
