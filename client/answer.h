/* answer: what one build host says to ping, read from its bytes as they
 * come: the serve handshake, the answers to QueryValidPaths and
 * NixgateInfo (or the output a shell startup file printed in their place),
 * and ssh's stderr for the cause of a failure. It has no descriptors and
 * no clock: ping.c reads, writes and keeps the deadlines, and passes the
 * time in, so that the fuzz harness drives the same reader from memory. */
#ifndef NIXGATE_ANSWER_H
#define NIXGATE_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "ping.h"

#define ERRTEXT_MAX 16384
#define HANDSHAKE_LEN 16      /* SERVE_MAGIC_2 and the host's version */
#define STRAY_MAX 136         /* bytes kept of output before the protocol */
/* The most a host can answer to the handshake, the query and NixgateInfo:
 * count, then every pair at its limits (both multiples of 8, so padded). */
#define ANSWER_MAX (HANDSHAKE_LEN + 8 + 8 + INFO_PAIRS_MAX * (8 + INFO_NAME_MAX + 8 + INFO_VALUE_MAX))

/* ssh's stderr, kept for finding the cause of a failure. */
struct errtext {
	char buf[ERRTEXT_MAX + 1];
	size_t len;
	double auth_ms;      /* when ssh said the key was accepted */
};

enum answer_step {
	ANSWER_HANDSHAKE,    /* hello sent, waiting for the host's */
	ANSWER_ANSWERS,      /* QueryValidPaths and NixgateInfo sent */
	ANSWER_STRAY,        /* output before the protocol: a little more of it, for the cause */
	ANSWER_OVER          /* the check is over: r says how */
};

struct answer {
	struct ping *p;              /* filled in as the answers come */
	enum answer_step step;
	int r;                       /* once over: 1 answered (or cause set), 0 output closed early, -1 no answer in time */
	unsigned char *buf;          /* the host's answers so far */
	size_t len, cap, pos;        /* pos: how far they have been read */
	uint64_t npairs;             /* NixgateInfo's count, once read */
	int have_npairs;
	double t0, sent;             /* started, query sent (ms) */
	struct errtext e;
};

/* What answer_out asks of its caller, as bits, in this order. */
#define ANSWER_ASK 1     /* the handshake has come: send QueryValidPaths and NixgateInfo */
#define ANSWER_WAIT 2    /* output before the protocol: wait STRAY_WAIT_MS for the rest */
#define ANSWER_END 4     /* the check is over (step ANSWER_OVER, r says how) */

/* A check of p started at t0 (ms); p as ping_all set it up. */
void answer_init(struct answer *a, struct ping *p, double t0);
/* n more bytes of the host's stdout at time now (ms); eof: it ended (n is
 * then 0), late: this step's deadline has passed. Returns ANSWER_* bits.
 * After the end, bytes are ignored. */
int answer_out(struct answer *a, const unsigned char *b, size_t n, int eof, int late, double now);
/* n more bytes of ssh's stderr at time now: kept, as much as fits. */
void answer_err(struct answer *a, const char *b, size_t n, double now);
/* The cause of a check that ended without an answer (r <= 0), from ssh's
 * exit status (255: ssh's own failure) and its stderr. */
void answer_cause(struct answer *a, int status);
/* The bytes kept. */
void answer_free(struct answer *a);

#endif
