/* remote: the client side of the serve protocol, to a build host over ssh:
 * what the build hook needs to copy paths there, build, and copy back. */
#ifndef NIXGATE_REMOTE_H
#define NIXGATE_REMOTE_H

#include "buildresult.h"
#include "pathinfo.h"
#include "pathset.h"
#include "serveopts.h"
#include "ssh.h"
#include "wire.h"
#include "worker.h"

struct remote {
	struct sshconn c;
	pid_t relay;                 /* copies a parked session's stderr, or -1 */
	unsigned minor;
	struct rd r;
	struct wr w;
	unsigned char rbuf[WIRE_BUFSZ], wbuf[WIRE_BUFSZ];
	/* what the client's Nix settings ask of the host, as Nix's own hook
	 * passes them: set by the caller, sent with every build */
	struct serve_opts opts;
	int substitute;              /* builders-use-substitutes: the host may
				      * substitute what it lacks */
	/* when set, called once a build's request is on its way, for what
	 * can overlap the host's work; its -1 fails the build */
	int (*sent)(void *ctx);
	void *sent_ctx;
};

/* ssh to the host, its stderr (build logs) to errfd, and the handshake;
 * or the session parked for that host. */
int remote_open(struct remote *h, const struct store_uri *u, int errfd);
/* An open session to u, its handshake done (the host's serve protocol
 * 2.minor) and no request under way, its stderr a pipe: the next
 * remote_open of u takes it instead of starting ssh. */
void remote_park(const struct store_uri *u, struct sshconn *c, unsigned minor);
int remote_close(struct remote *h);
/* Which of paths the host has (or, with substitute, has substituted), into
 * valid. */
int remote_valid(struct remote *h, const struct pathset *paths, struct pathset *valid);
/* A path's metadata in the local store (through its daemon); a path it
 * does not hold is an error. */
int local_info(struct worker *d, const char *path, struct pathinfo *in, struct pathset *refs);
/* One path from the local store (through its daemon) to the host. */
int remote_add(struct remote *h, struct worker *local, const char *path);
/* BuildPaths of "drv!outputs" entries: 0 built, 1 failed (the host's
 * message in msg), -1 on a failure of the connection. */
int remote_build(struct remote *h, const struct pathset *paths, char *msg, size_t max);
/* BuildDerivation of drv with the derivation in wire form (aterm_basic),
 * the host's BuildResult into br: 0 built, 1 failed (the host's message in
 * br->msg), -1 on a failure. */
int remote_build_inline(struct remote *h, const char *drv, const unsigned char *wire, size_t len,
			struct build_result *br);
/* A path's metadata on the host: 1, or 0 when it has no such path. */
int remote_info(struct remote *h, const char *path, struct pathinfo *in, struct pathset *refs);
/* Takes the next n bytes of a NAR: 0, or -1 with fail(). */
typedef int (*remote_sink)(void *ctx, const unsigned char *p, size_t n);
/* A path's NAR from the host, checked as it passes, to sink; its SHA-256
 * and size to hash and size. */
int remote_dump_to(struct remote *h, const char *path, remote_sink sink, void *ctx, unsigned char hash[SHA256_BYTES],
		   uint64_t *size);
/* The same, written to fd. */
int remote_dump(struct remote *h, const char *path, int fd, unsigned char hash[SHA256_BYTES], uint64_t *size);

#endif
