/* drvstore: a derivation (.drv) read from a store through its daemon, which
 * sends it as the NAR of one regular file. */
#ifndef NIXGATE_DRVSTORE_H
#define NIXGATE_DRVSTORE_H

#include "drv.h"
#include "worker.h"

/* 0; -2 when the daemon refused (its text in d->errmsg); -1 on failure, of
 * kind EXIT_REFUSED when the derivation itself is malformed. */
int drv_from_daemon(struct worker *d, const char *path, struct drvinfo *f);
/* Its text, malloc'd, as the same NAR brings it. */
int drv_text_from_daemon(struct worker *d, const char *path, char **text, size_t *len);

#endif
