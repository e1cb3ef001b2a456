/* wupload: the parser's side of the worker protocol's imports. It
 * de-frames the client's stream, checks each NAR's structure (and a dump's
 * size), and forwards the de-framed bytes with its vouch after each NAR and
 * after the stream's end. */
#ifndef NIXGATE_WUPLOAD_H
#define NIXGATE_WUPLOAD_H

#include "serve.h"

int wparse_add_to_store_nar(struct serve *s);
int wparse_add_multiple(struct serve *s);
/* AddToStore's dump goes on in chunks of at most WIRE_BUFSZ, a 0 chunk and
 * the vouch last, since its size is known only at its end. */
int wparse_add_to_store(struct serve *s);
int wparse_add_text(struct serve *s);

#endif
