/* doctor: every builder of the local Nix configuration checked as root's
 * nix-daemon would use it, one line per problem with its cause and fix. */
#ifndef NIXGATE_DOCTOR_H
#define NIXGATE_DOCTOR_H

#include <stdio.h>

#include "daemonhook.h"
#include "machines.h"

/* The local nix-daemon's build hook (h, from daemon_hook_look) checked
 * against its nix.conf: a line to o (or a JSON object when json), and
 * how many problems. */
int doctor_daemon(FILE *o, const struct daemon_hook *h, int json);

/* The n builders checked at once, lines written to o (or JSON entries when
 * json): how many have a problem. A key that is not trusted is one only
 * when h does not say the daemon runs nixgate's hook. */
int doctor_run(FILE *o, const struct machine *m, unsigned n, const struct daemon_hook *h, int json);

#endif
