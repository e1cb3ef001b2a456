/* wimport: the worker protocol's imports (AddToStoreNar from 1.23,
 * AddMultipleToStore from 1.32), the NARs in Nix's framed stream, checked
 * as the serve protocol's AddToStoreNar is (import.c) before the daemon
 * sees a byte. The monitor's side here; the parser's in wupload.c. */
#ifndef NIXGATE_WIMPORT_H
#define NIXGATE_WIMPORT_H

#include "ca.h"
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
/* AddToStore from 1.25 (its dump framed): a file, a NAR or a text the
 * client made, of which nixgate makes the content-addressed path itself;
 * AddTextToStore: a text. Both end as any import (import.c). */
#define WADD_CA_MIN_MINOR 25
int wadd_to_store(struct serve *s);
int wadd_text(struct serve *s);

/* AddToStore's method string: "text:sha256", "fixed:<algo>",
 * "fixed:r:<algo>"; its longest form is far under this. */
#define WADD_METHOD_MAX 64
/* A text (a derivation, a file the evaluator writes): Nix holds it whole
 * in memory on both sides. */
#define WADD_TEXT_MAX (16u << 20)
/* The method into c (its hash unset): -1 with fail(EXIT_REFUSED) for one
 * nixgate does not serve (git hashing among them). */
int wadd_method(struct ca *c, const char *m);
/* A text or a flat file goes into the spool as the NAR of one regular,
 * non-executable file: its contents after a header of fixed size, which
 * is written last, when their length is known. That NAR's size for
 * contents of len bytes. */
#define FLAT_HEAD 96
#define FLAT_TAIL 16
uint64_t wadd_flat_nar(uint64_t len);

#endif
