/* daemonhook: the build hook the local nix-daemon really runs. Its nix.conf
 * is not enough: Nix 2.26 (up to the fix of NixOS/nix#15083) resets
 * build-hook to its own after reading nix.conf, so the daemon's effective
 * setting is asked of the daemon's own Nix, in the daemon's environment. */
#ifndef NIXGATE_DAEMONHOOK_H
#define NIXGATE_DAEMONHOOK_H

#include <limits.h>
#include <stddef.h>

#define DAEMONHOOK_TEXT 1024

struct daemon_hook {
	int answered;                    /* a nix-daemon answered on the socket */
	int known;                       /* the fields below hold: the daemon was looked at */
	char why[512];                   /* when not known: why not */
	char version[64];                /* the daemon's Nix version, when it says */
	char effective[DAEMONHOOK_TEXT]; /* build-hook as the daemon runs it */
	char conf[PATH_MAX];             /* the daemon's nix.conf */
	char configured[DAEMONHOOK_TEXT]; /* build-hook in that file; "" if none */
	char env_hook[DAEMONHOOK_TEXT];  /* build-hook in its NIX_CONFIG; "" if none */
	int nixgate, conf_nixgate;       /* effective, configured is nixgate's hook */
};

/* Looks at the nix-daemon behind the local socket; never fails: h->known
 * and h->why say what came of it. */
void daemon_hook_look(struct daemon_hook *h);

/* Whether a build-hook value runs nixgate as the hook. */
int daemon_hook_is_nixgate(const char *value);

/* The value of setting name in nix.conf syntax (the last line that sets it
 * wins, as in Nix), into out: 1 found, 0 not, -1 too long for cap. */
int daemon_hook_setting(const char *text, size_t len, const char *name, char *out, size_t cap);

#endif
