/* doctor: every builder of the local Nix configuration checked as root's
 * nix-daemon would use it, one line per problem with its cause and fix. */
#ifndef NIXGATE_DOCTOR_H
#define NIXGATE_DOCTOR_H

#include <stdio.h>

#include "machines.h"

/* The n builders checked at once, lines written to o (or JSON entries when
 * json): how many have a problem. */
int doctor_run(FILE *o, const struct machine *m, unsigned n, int json);

#endif
