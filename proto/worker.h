/* worker: the client side of the nix-daemon protocol, over its Unix socket. */
#ifndef NIXGATE_WORKER_H
#define NIXGATE_WORKER_H

#include <stdint.h>

#include "wire.h"

#define WORKER_MAGIC_1 0x6e697863
#define WORKER_MAGIC_2 0x6478696f
/* 1.34, Nix 2.8's: daemons up to the newest still speak it without the
 * feature exchange of 1.38. */
#define WORKER_VERSION 0x122
#define WORKER_MIN_MINOR 21 /* Nix 2.3 */

enum {
	WOP_IS_VALID_PATH = 1, WOP_BUILD_PATHS = 9, WOP_ADD_TEMP_ROOT = 11, WOP_SET_OPTIONS = 19, WOP_COLLECT_GARBAGE = 20,
	WOP_QUERY_PATH_INFO = 26, WOP_QUERY_VALID_PATHS = 31, WOP_BUILD_DERIVATION = 36, WOP_ADD_SIGNATURES = 37,
	WOP_NAR_FROM_PATH = 38, WOP_ADD_TO_STORE_NAR = 39, WOP_QUERY_MISSING = 40,
	WOP_QUERY_DERIVATION_OUTPUT_MAP = 41
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

struct worker {
	int fd;
	unsigned minor;          /* negotiated protocol minor */
	uint64_t round_trips;    /* requests answered: each waited for once */
	uint64_t wait_us;        /* time spent waiting for the daemon */
	int logfd;               /* build logs and daemon messages go here; -1: dropped */
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
int worker_handshake(struct worker *d);

/* Whether the daemon trusts its client, as it says from 1.35 on. */
enum { TRUST_UNKNOWN, TRUST_YES, TRUST_NO };
#define DAEMON_VERSION_MAX 4096
int worker_trust_read(struct rd *r, int *trust);
/* What the daemon sends after the versions: its Nix version (1.33, kept up
 * to cap - 1 bytes) and its trust (1.35). */
int worker_hello_read(struct rd *r, unsigned minor, char *version, size_t cap, int *trust);

/* The daemon's messages until the end of a request's work: 0 at
 * STDERR_LAST, -2 at STDERR_ERROR (the text in d->errmsg, connection still
 * usable), -1 on any other failure. src serves STDERR_READ; may be NULL. */
int worker_wait(struct worker *d, worker_src src, void *ctx);

struct build_opts {
	uint64_t max_silent_time, build_timeout, max_log_size, max_jobs;
	int use_substitutes;
};
int worker_set_options(struct worker *d, const struct build_opts *o);

#endif
