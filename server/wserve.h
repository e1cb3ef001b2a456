/* wserve: the monitor's side of the worker protocol (nix-daemon --stdio,
 * ssh-ng://): the daemon's side of the handshake, the operations nixgate
 * serves, each checked against the key's policy as its serve-protocol
 * twin is and performed through the host's daemon, and the answers in the
 * protocol's STDERR framing. Every other operation is refused by name. */
#ifndef NIXGATE_WSERVE_H
#define NIXGATE_WSERVE_H

#include "serve.h"

/* The worker protocol's operations, for parser and monitor alike. */
const struct command *wcommand_find(uint64_t op);

int wserve_handshake(struct serve *s);
/* After a request failed: its error to the client as STDERR_ERROR (the
 * key and the error's text, one line), unless its answer had begun. */
void wserve_error(struct serve *s);
/* One line for the client to show (STDERR_NEXT) before the request's
 * answer: "nixgate-serve: key K: TEXT". */
int wserve_next(struct serve *s, const char *text);
/* The request's work is done (STDERR_LAST): its result follows. */
int wserve_last(struct serve *s);

#endif
