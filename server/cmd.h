/* cmd: the forced-command contract. sshd gives the client's command in
 * SSH_ORIGINAL_COMMAND (or, in login-shell mode, as -c STRING); it is split
 * into words without any shell semantics and must be one Nix sends. */
#ifndef NIXGATE_CMD_H
#define NIXGATE_CMD_H

#include <stddef.h>

/* git-shell's CVE-2022-39260 came from an unbounded command string. */
#define CMD_MAX 4096
#define CMD_WORDS_MAX 16

/* nix-store --serve (ssh://), nix-daemon --stdio (ssh-ng://), echo started */
enum { CMD_SERVE, CMD_DAEMON, CMD_ECHO_STARTED };

struct cmd {
	int what;        /* CMD_* */
	int write;       /* --write */
};

/* Parses s (len bytes); -1 with fail(EXIT_REFUSED, ...) naming the problem. */
int cmd_parse(struct cmd *c, const char *s, size_t len);

#endif
