/* checkpolicy: nixgate-serve --check-policy, a policy file as the host applies it. */
#ifndef NIXGATE_CHECKPOLICY_H
#define NIXGATE_CHECKPOLICY_H

#include <stdio.h>

/* The effective policy of the key named (every key's when key is NULL)
 * on out, as a forced command with flags set/val after the file would
 * apply it: the untrusted defaults included. -1 with fail() naming file,
 * line and problem on any error in the file or the flags. */
int check_policy(FILE *out, const char *file, const char *key, const char *const *set, const char *const *val,
		 int nset);

#endif
