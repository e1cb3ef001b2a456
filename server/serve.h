/* serve: the server side of Nix's serve protocol (nix-store --serve), each
 * request performed through the host's nix-daemon. */
#ifndef NIXGATE_SERVE_H
#define NIXGATE_SERVE_H

#include "audit.h"
#include "nar.h"
#include "pathinfo.h"
#include "pathset.h"
#include "policy.h"
#include "slots.h"
#include "wire.h"
#include "storepath.h"
#include "worker.h"

#define SERVE_MAGIC_1 0x390c9deb
#define SERVE_MAGIC_2 0x5452eecb
#define SERVE_VERSION 0x207   /* 2.7: Nix 2.8's */
#define EXPORT_MAGIC 0x4558494e
/* nixgate's extension: the key's policy as the host applies it, as
 * name/value strings. nix-store ends the session at this unknown command,
 * which is how a client tells the two apart. */
#define CMD_NIXGATE_INFO 0x6e676901

/* AddToStoreNar NARs up to this size are checked whole (structure, size,
 * hash) in the spool file before the daemon sees them. */
#define SPOOL_SMALL_MAX (64ull << 20)
/* The largest NAR accepted when no policy sets one. */
#define SERVE_NAR_MAX (1ull << 40)

/* One request, for the audit line. */
struct req {
	const char *op;
	uint64_t paths, bytes;
	char first[STORE_PATH_MAX + 1];
	const char *rule;   /* the policy rule that refused it */
};

struct serve {
	struct rd in;
	struct wr out;
	struct worker *d;
	unsigned minor;
	int write_ok;       /* the client ran --serve --write */
	int sandboxed;
	const char *version;
	const struct policy *pol;
	struct audit *audit;
	struct slots *key_slots, *host_slots;
	struct req req;
	const char *key;
	int spool_fd;       /* for ImportPaths, whose metadata follows the NAR */
	uint64_t max_jobs;
	struct pathset ps, seen;
	struct nar nar;
	unsigned char inbuf[WIRE_BUFSZ], outbuf[WIRE_BUFSZ];
};

int serve_handshake(struct serve *s);
/* One command: 1 when the client ended the session, 0 after a command, -1 on
 * an error that ends it. */
int serve_one(struct serve *s);

#endif
