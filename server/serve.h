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
/* A key that is not trusted has its imports spooled whole: the largest NAR
 * it may send when no policy sets max-nar-size. */
/* The largest NAR accepted when no policy sets one. */
#define SERVE_NAR_MAX (1ull << 40)

/* One request, for the audit line. */
struct req {
	const char *op;
	uint64_t paths, bytes;
	char first[STORE_PATH_MAX + 1];
	const char *rule;   /* the policy rule that refused it */
};

/* The words between parser and monitor besides the requests themselves
 * (privsep.h): the monitor's go-ahead, and the parser's word that a NAR it
 * forwarded passed every check. */
#define PRIVSEP_GO 1
#define PRIVSEP_NAR_OK 2

struct serve {
	/* The parser: the client's bytes, teed to the monitor (out's buffer
	 * holds them). The monitor: what the parser forwards. */
	struct rd in;
	struct wr out;
	struct worker *d;
	unsigned minor;
	int write_ok;       /* the client ran --serve --write */
	/* The front end: the worker protocol (nix-daemon --stdio, ssh-ng://)
	 * instead of the serve protocol; chosen by the command, before the
	 * parser starts. s->minor is then the worker protocol's. */
	int worker;
	int answered;       /* the worker request's STDERR_LAST is written */
	/* The worker request failed as the daemon fails one and goes on (a
	 * path that is not valid): the session stays in step. */
	int soft;
	struct build_opts wopts; /* SetOptions' build limits, as asked */
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
	/* The other process (privsep.c): the parser reads go-aheads from it,
	 * the monitor writes them; -1 in a harness that has no other side. */
	int peer;
	/* The monitor: called when the parser's stream ended (s->in.ended) to
	 * put the parser's own error in place of "closed". */
	int (*parser_end)(struct serve *s);
	char daemon_version[64];
	unsigned char inbuf[WIRE_BUFSZ], outbuf[WIRE_BUFSZ];
};

/* A serve-protocol request: read whole by the parser, then checked and
 * performed by the monitor, which reads it again from what the parser
 * forwarded. */
struct command {
	uint64_t op;
	const char *name;
	int (*parse)(struct serve *s);
	int (*serve)(struct serve *s);
};

const struct command *command_find(uint64_t op);

int serve_handshake(struct serve *s);
/* The client's magic, and its version (s->minor, capped at nixgate's). */
int serve_magic(uint64_t magic);
int serve_version(struct serve *s, uint64_t v);
/* The monitor's go-ahead to the parser: the request may go on. */
int serve_go(struct serve *s);

/* For the request modules (query, import, build). */

/* A request the policy refuses: one line naming request, path and rule;
 * always -1. */
int refuse(struct serve *s, const char *rule, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The last error's text, copied so it can go into a refusal. */
const char *reason(void);
int need_write(struct serve *s);
int allowed(struct serve *s, unsigned op);
/* A path of the request, for its audit line. */
void note(struct serve *s, const char *path);
void note_set(struct serve *s, const struct pathset *ps);
/* A request's path list read, noted, and the key's permission checked. */
int request_paths(struct serve *s, struct pathset *ps, unsigned op);
/* AddTempRoot for each path of ps: the daemon's GC keeps them while the
 * session lasts. */
int temp_roots(struct serve *s, const struct pathset *ps);
/* QueryValidPaths of ps sent and its answer begun (the valid paths follow
 * on s->d->r); subst: the daemon may substitute them. */
int ask_valid(struct serve *s, const struct pathset *ps, int subst);
/* QueryPathInfo: 1 valid (info read, references into refs), 0 invalid. */
int path_info(struct serve *s, const char *path, struct pathinfo *in, struct pathset *refs);
/* One command: 1 when the client ended the session, 0 after a command, -1 on
 * an error that ends it. */
int serve_one(struct serve *s);

#endif
