/* serve: the server side of Nix's serve protocol (nix-store --serve), each
 * request performed through the host's nix-daemon. */
#ifndef NIXGATE_SERVE_H
#define NIXGATE_SERVE_H

#include "audit.h"
#include "nar.h"
#include "pathinfo.h"
#include "pathset.h"
#include "policy.h"
#include "serveproto.h"
#include "slots.h"
#include "wire.h"
#include "storepath.h"
#include "worker.h"


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
