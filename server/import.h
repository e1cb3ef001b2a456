/* import: paths the client adds to the host store (AddToStoreNar,
 * ImportPaths), checked against the key's policy before the daemon sees a
 * byte of them. */
#ifndef NIXGATE_IMPORT_H
#define NIXGATE_IMPORT_H

#include "serve.h"

int add_to_store_nar(struct serve *s);
int import_paths(struct serve *s);
/* A NAR's size against the key's limit (at_least: what it has announced so
 * far, not all of it); -1 with the refusal. */
int nar_size_ok(struct serve *s, uint64_t size, int at_least);

#endif
