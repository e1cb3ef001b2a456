/* import: paths the client adds to the host store (AddToStoreNar,
 * ImportPaths), checked against the key's policy before the daemon sees a
 * byte of them. */
#ifndef NIXGATE_IMPORT_H
#define NIXGATE_IMPORT_H

#include "serve.h"

int add_to_store_nar(struct serve *s);
int import_paths(struct serve *s);

#endif
