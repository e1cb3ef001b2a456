/* ssh: a build host's store URI, opened the way Nix opens it: ssh running
 * the serve command, with NIX_SSHOPTS, the key and the pinned host key. */
#ifndef NIXGATE_SSH_H
#define NIXGATE_SSH_H

#include <limits.h>
#include <sys/types.h>

#define URI_MAX 1024
#define HOST_MAX 256
#define HOSTKEY_MAX 2048
/* ssh_warm: a control socket's directory (sun_path's 107 hold it, '/', the
 * hash's 32, '-', a group below WARM_GROUPS and ssh's temporary suffix of
 * 17), its masters' idle lifetime, the builders one hook run asks ssh -G
 * about, and the most of ssh -G's output it reads */
#define WARM_DIR_MAX 52
#define WARM_GROUPS 1000
#define WARM_SECONDS_MAX 3600
#define WARM_SECONDS_DEFAULT 60
#define WARM_HOSTS 64
#define WARM_G_MAX 65536
/* sessions over one master at most: sshd's MaxSessions is 10 by default,
 * and a session it refuses would make the host look dead */
#define WARM_SESSIONS 8

struct store_uri {
	char text[URI_MAX + 1];      /* as given, with ssh:// added when bare */
	char host[HOST_MAX + 1];     /* [user@]host */
	char key[PATH_MAX];          /* ssh-key=, or "" */
	char program[HOST_MAX + 1];  /* remote-program=, default nix-store */
	char hostkey[HOSTKEY_MAX + 1]; /* base64-ssh-public-host-key=, or "" */
	unsigned group;              /* ssh_warm: which of the host's masters */
};

struct sshconn {
	pid_t pid;
	int in, out, err;            /* the remote's stdin, stdout, stderr (-1: passed on) */
	char known_hosts[64];        /* temporary file for a pinned host key */
};

/* ssh://[user@]host[?ssh-key=PATH&remote-program=P&base64-ssh-public-host-key=K],
 * or a bare host. Other stores (ssh-ng://, daemon) are refused by name. */
int uri_parse(struct store_uri *u, const char *s);
/* ssh HOST -x -a [NIX_SSHOPTS] [-i KEY] [known hosts] [extra] -- PROGRAM --serve --write;
 * errfd >= 0 makes that descriptor ssh's stderr instead of a pipe. */
int ssh_start(struct sshconn *c, const struct store_uri *u, const char *const *extra, int errfd);
/* From now on ssh_start goes over a control master of its own per store
 * URI, under dir (made 0700 if missing, refused unless only this uid can
 * enter it), that ends once idle for persist seconds (one per group of
 * the URI: callers keep at most WARM_SESSIONS sessions in one); not for a host whose
 * ssh config has a ControlMaster or ControlPath of the user's. persist 0:
 * no masters. */
int ssh_warm(const char *dir, unsigned persist);
/* ssh -G for every URI of u not asked yet, all at once, for the ssh_start
 * of each that follows. */
void ssh_warm_prepare(const struct store_uri *const *u, unsigned n);
/* 1 when the last ssh -G of u (in any process) gave a master of the hook's,
 * that master's socket for u's group is there, and the host's key was not
 * limited (ssh_warm_limited): a session over it
 * costs milliseconds, and the host answered not long ago. Asks no one:
 * ssh_start still asks ssh -G. */
int ssh_warm_ready(const struct store_uri *u);
/* Whether the host last said it holds u's key to a number of builds at
 * once: then ssh_warm_ready is 0, since only the host can tell whether
 * one more fits now. */
void ssh_warm_limited(const struct store_uri *u, int limited);
/* ssh_warm as the environment says: NIXGATE_WARM_SECONDS (default
 * WARM_SECONDS_DEFAULT, 0: none), NIXGATE_WARM_DIR (default /run/nixgate
 * for root, else $XDG_RUNTIME_DIR/nixgate, else none). */
int ssh_warm_env(void);
/* Closes the pipes and reaps ssh: its exit status, or 128 + signal. */
int ssh_finish(struct sshconn *c);

#endif
