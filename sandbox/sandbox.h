/* sandbox: what each process of nixgate-serve may still do once the
 * parser reads the network. */
#ifndef NIXGATE_SANDBOX_H
#define NIXGATE_SANDBOX_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct sandbox_fds {
	int in, out, err;     /* the client's channel and stderr; -1 if not held */
	int daemon;           /* the nix-daemon socket */
	int spool;            /* ImportPaths spool file, or -1 */
	int audit;            /* audit log, or -1 */
	uint64_t fsize_max;   /* largest file the process may write */
	const int *slots;     /* build slot lock files (flock only) */
	unsigned nslots;
	int chan;             /* what the parser forwards: its write end, the monitor's read end */
	int errpipe;          /* the parser's last error, to the monitor */
	pid_t parser;         /* the monitor's one child */
	int ctl;              /* the monitor's go-aheads: its write end, the parser's read end */
};

/* Landlock where the kernel has it (and no_new_privs), entered before the
 * fork: both processes are in its domain, so the monitor may still signal
 * the parser where the kernel scopes signals. Before the NOFILE limit: its
 * ruleset needs a descriptor. */
int sandbox_landlock(void);
/* rlimits, no_new_privs, seccomp; any failure is returned (the caller
 * exits 111). */
int sandbox_enter_monitor(const struct sandbox_fds *f);
int sandbox_enter_parser(const struct sandbox_fds *f);
/* Both allowlists and the limits, for an admin to read. */
void sandbox_print(FILE *o, const struct sandbox_fds *f);

#endif
