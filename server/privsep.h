/* privsep: nixgate-serve as two processes, as OpenSSH splits sshd. The
 * parser reads the network and holds nothing worth stealing: the client's
 * input, a channel to the monitor, stderr. The monitor holds the daemon
 * socket, the policy, the audit log, the spool and the slots, and reads
 * only what the parser forwards, with the same bounded readers, deciding
 * on it as if the parser were the client. */
#ifndef NIXGATE_PRIVSEP_H
#define NIXGATE_PRIVSEP_H

#include "sandbox.h"
#include "serve.h"

/* Forks the parser, which runs the session's input side in its own
 * sandbox (if sandbox) and exits. In the monitor: 0, with s->in reading the
 * channel, or -1. fds: the monitor's descriptors; the parser closes all of
 * them. */
int privsep_start(struct serve *s, struct sandbox_fds *fds, int sandbox);

#endif
