/* wimport: the worker protocol's imports (AddToStoreNar from 1.23,
 * AddMultipleToStore from 1.32), the NARs in Nix's framed stream, checked
 * as the serve protocol's AddToStoreNar is (import.c) before the daemon
 * sees a byte. The monitor's side here; the parser's in wupload.c. */
#ifndef NIXGATE_WIMPORT_H
#define NIXGATE_WIMPORT_H

#include "serve.h"

/* A frame of the client's framed stream: Nix writes what its buffered
 * sink holds or a NAR parser's chunk at once, some KiB; this is far over. */
#define WFRAME_MAX (8u << 20)
/* The paths of one AddMultipleToStore: a closure copied at once. */
#define WADD_PATHS_MAX PATHSET_MAX_PATHS
/* The oldest minors whose imports are served: the NAR framed (1.23), the
 * many-path request (1.32). */
#define WADD_NAR_MIN_MINOR 23
#define WADD_MULTIPLE_MIN_MINOR 32

int wadd_to_store_nar(struct serve *s);
int wadd_multiple(struct serve *s);
/* AddToStore, AddTextToStore: refused by name (wimport.c says why). */
int wadd_unserved(struct serve *s);

/* The parser's side (wupload.c): de-frames the client's stream, checks
 * each NAR's structure, forwards the de-framed bytes with its vouch after
 * each NAR and after the stream's end. */
int wparse_add_to_store_nar(struct serve *s);
int wparse_add_multiple(struct serve *s);

#endif
