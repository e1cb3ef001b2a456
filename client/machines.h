/* machines: Nix's builders setting and machines file (/etc/nix/machines):
 * URI, systems, ssh key, max jobs, speed factor, supported and mandatory
 * features, host key; "-" or a missing field takes the default. */
#ifndef NIXGATE_MACHINES_H
#define NIXGATE_MACHINES_H

#include "ssh.h"

#define MACHINES_MAX 64
#define MACHINE_LIST_MAX 1024
#define BUILDERS_MAX (64u << 10)
#define MACHINES_DEPTH_MAX 4

struct machine {
	struct store_uri uri;
	char systems[MACHINE_LIST_MAX + 1];   /* space-separated; "" = this machine's */
	unsigned max_jobs, speed;
	char supported[MACHINE_LIST_MAX + 1], mandatory[MACHINE_LIST_MAX + 1];
	char line[MACHINE_LIST_MAX + 1];      /* as written, for messages */
};

/* The builders value ("a; b\n@/etc/nix/machines"), files expanded as Nix
 * does (a missing file is no builders). Returns how many, or -1. */
int machines_parse(struct machine *m, unsigned max, const char *builders, unsigned depth);
/* The builders of the local Nix configuration (nix show-config). */
int machines_builders(char *out, size_t max);

#endif
