/* doctor: every builder of the local Nix configuration checked as root's
 * nix-daemon would use it, one line per problem with its cause and fix. */
#ifndef NIXGATE_DOCTOR_H
#define NIXGATE_DOCTOR_H

#include <stdio.h>

#include "machines.h"

/* Problems found for one builder (0: a clean bill), lines written to o (or
 * JSON when json). */
int doctor_check(FILE *o, const struct machine *m, int json, int *first);

#endif
