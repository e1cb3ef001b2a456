/* sandbox: what nixgate-serve may still do once it reads the network. */
#ifndef NIXGATE_SANDBOX_H
#define NIXGATE_SANDBOX_H

#include <stdint.h>
#include <stdio.h>

struct sandbox_fds {
	int in, out, err;     /* the client's channel and stderr */
	int daemon;           /* the nix-daemon socket */
	int spool;            /* ImportPaths spool file, or -1 */
	int audit;            /* audit log, or -1 */
	uint64_t fsize_max;   /* largest file the process may write */
	const int *slots;     /* build slot lock files (flock only) */
	unsigned nslots;
};

/* rlimits, Landlock where the kernel has it, no_new_privs, seccomp; any
 * failure is returned (the caller exits 111). */
int sandbox_enter(const struct sandbox_fds *f);
/* The allowlist and limits, for an admin to read. */
void sandbox_print(FILE *o, const struct sandbox_fds *f);

#endif
