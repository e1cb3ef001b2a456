/* query: the serve protocol's read-only requests (validity, path infos,
 * closures) and exports, each answered from the host's daemon. */
#ifndef NIXGATE_QUERY_H
#define NIXGATE_QUERY_H

#include "serve.h"

int query_valid(struct serve *s);
int query_infos(struct serve *s);
int query_closure(struct serve *s);
int dump_path(struct serve *s);
int export_paths(struct serve *s);
/* After daemon_nar_begin: the NAR from the daemon to the client, checked
 * as it goes. */
int nar_stream(struct serve *s, const char *path);

#endif
