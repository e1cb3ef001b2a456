/* worker: the client side of the nix-daemon protocol, over its Unix socket. */
#ifndef NIXGATE_WORKER_H
#define NIXGATE_WORKER_H

#include <stdint.h>

#include "wire.h"

#define WORKER_MAGIC_1 0x6e697863
#define WORKER_MAGIC_2 0x6478696f
/* 1.38, Nix 2.26 to 2.35's. nixgate offers no 1.38 features: the one that
 * changes what it reads (realisation-with-path-not-hash, 2.35) only rekeys
 * built outputs, which the older form carries as well, so every daemon
 * from 1.21 on answers nixgate in one set of layouts. */
#define WORKER_VERSION 0x126
#define WORKER_MIN_MINOR 21 /* Nix 2.3 */
/* The daemon's feature list (1.38): Nix 2.35's has two short names. */
#define WORKER_FEATURES_MAX 64
#define WORKER_FEATURE_MAX 256

enum {
	WOP_IS_VALID_PATH = 1, WOP_QUERY_REFERRERS = 6, WOP_BUILD_PATHS = 9, WOP_ADD_TEMP_ROOT = 11, WOP_SET_OPTIONS = 19, WOP_COLLECT_GARBAGE = 20,
	WOP_QUERY_PATH_INFO = 26, WOP_QUERY_PATH_FROM_HASH_PART = 29, WOP_QUERY_VALID_PATHS = 31, WOP_BUILD_DERIVATION = 36, WOP_ADD_SIGNATURES = 37,
	WOP_NAR_FROM_PATH = 38, WOP_ADD_TO_STORE_NAR = 39, WOP_QUERY_MISSING = 40,
	WOP_QUERY_DERIVATION_OUTPUT_MAP = 41, WOP_REGISTER_DRV_OUTPUT = 42, WOP_QUERY_REALISATION = 43,
	WOP_BUILD_PATHS_WITH_RESULTS = 46
};

/* The daemon's log stream after each request. */
#define STDERR_NEXT 0x6f6c6d67
#define STDERR_READ 0x64617461
#define STDERR_WRITE 0x64617416
#define STDERR_LAST 0x616c7473
#define STDERR_ERROR 0x63787470
#define STDERR_START_ACTIVITY 0x53545254
#define STDERR_STOP_ACTIVITY 0x53544f50
#define STDERR_RESULT 0x52534c54

/* Daemon strings that are only shown (log lines, error text) are kept up to
 * this many bytes; longer ones are cut, and past WORKER_STR_MAX refused. */
#define WORKER_TEXT_KEEP 8192
#define WORKER_STR_MAX (64u << 20)
#define WORKER_FIELDS_MAX 64

#define DEFAULT_DAEMON_SOCKET "/nix/var/nix/daemon-socket/socket"

/* How long the daemon may send or take nothing outside builds. Generous:
 * honest waits are a large NAR's last hashing, substituter queries (their
 * progress messages count as bytes moving), and a path lock another
 * session holds, which that session's own idle timeout bounds; a hung
 * daemon must still not hold the session for good. */
#define WORKER_TIMEOUT_MS (30 * 60 * 1000ull)
/* nixgate's clock on a build runs this much past max-build-time, so that
 * the daemon, which kills its builds at that time itself and reports it,
 * gets there first whenever it can. */
#define WORKER_BUILD_GRACE_MS 5000
/* Builds of one request tracked at once (the daemon's max-jobs for the
 * connection bounds them); more run untimed by nixgate. */
#define WORKER_BUILDS_MAX 256
/* ActivityType actBuild: one derivation's build, from its start to its end. */
#define ACT_BUILD 105

struct worker {
	int fd;
	unsigned minor;          /* negotiated protocol minor */
	uint64_t round_trips;    /* requests answered: each waited for once */
	uint64_t wait_us;        /* time spent waiting for the daemon */
	int logfd;               /* build logs and daemon messages go here; -1: dropped */
	/* Log text that logfd did not take at once (a non-blocking stderr of
	 * a client that does not read it) is dropped and counted, and a note
	 * says how much when it takes text again: the daemon is never held up
	 * by the log, so its own timeouts keep running. */
	uint64_t log_dropped;
	int log_cut;             /* a line was cut short by the drop */
	const char *logtag;      /* starts the note: "nixgate-serve: key K" */
	/* When set, log lines go here instead of logfd: a worker-protocol
	 * client gets them in its own framing. */
	void (*logfn)(void *ctx, const char *text, size_t n);
	void *logctx;
	/* nixgate's own clock on the builds of one request: each build the
	 * daemon starts may run build_ms + build_grace_ms */
	uint64_t build_ms, build_grace_ms;
	struct { uint64_t id, t0; } builds[WORKER_BUILDS_MAX];
	unsigned nbuilds;
	int build_late;          /* the last wait ended a build past its time */
	/* The client's output (0: none): its hang-up ends a build wait, and
	 * the session, as Nix's daemon ends the builds of a client that hangs
	 * up; a build would otherwise run for no one, holding its slots. */
	int client_fd;
	uint64_t client_checked; /* mono_ms of the last look at it */
	struct rd r;
	struct wr w;
	char version[64];        /* the daemon's Nix version, when it says */
	char errmsg[WORKER_TEXT_KEEP]; /* the last STDERR_ERROR */
	unsigned char rbuf[WIRE_BUFSZ], wbuf[WIRE_BUFSZ];
};

/* Supplies data when an old daemon asks for it (STDERR_READ): up to max
 * bytes into buf, returns the count. */
typedef int (*worker_src)(void *ctx, unsigned char *buf, size_t max, size_t *got);

int worker_connect(struct worker *d, const char *socket_path);
/* The worker on a connected descriptor, with the default deadlines. */
void worker_init_fd(struct worker *d, int fd);
/* How long the daemon may send or take nothing outside builds. */
void worker_timeout(struct worker *d, uint64_t ms);
int worker_handshake(struct worker *d);

/* Whether the daemon trusts its client, as it says from 1.35 on. */
enum { TRUST_UNKNOWN, TRUST_YES, TRUST_NO };
#define DAEMON_VERSION_MAX 4096
int worker_trust_read(struct rd *r, int *trust);
/* The daemon's feature list (1.38), read past: nixgate offers none, so
 * none is in use whatever the daemon has. */
int worker_features_read(struct rd *r);
/* What the daemon sends after the versions: its Nix version (1.33, kept up
 * to cap - 1 bytes) and its trust (1.35). */
int worker_hello_read(struct rd *r, unsigned minor, char *version, size_t cap, int *trust);

/* The daemon's messages until the end of a request's work: 0 at
 * STDERR_LAST, -2 at STDERR_ERROR (the text in d->errmsg, connection still
 * usable), -1 on any other failure. src serves STDERR_READ; may be NULL. */
int worker_wait(struct worker *d, worker_src src, void *ctx);
/* The same for a build request: no deadline on the daemon's silence (a
 * build may be as quiet as max-silent-time lets it), but each build may run
 * timeout_s seconds (0: no limit) by nixgate's clock; past that (and the
 * grace) the connection is shut down, which makes the daemon kill the
 * build, and the wait fails with d->build_late set. */
int worker_build_wait(struct worker *d, uint64_t timeout_s);

struct build_opts {
	uint64_t max_silent_time, build_timeout, max_log_size, max_jobs;
	int use_substitutes;
};
int worker_set_options(struct worker *d, const struct build_opts *o);

#endif
