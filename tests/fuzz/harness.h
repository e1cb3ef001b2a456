/* harness: what the fuzz harnesses share. Each fuzz_NAME.c is one
 * LLVMFuzzerTestOneInput, linked with libFuzzer to fuzz and with replay.c
 * to run its corpus in the normal test run. */
#ifndef NIXGATE_HARNESS_H
#define NIXGATE_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A descriptor that takes any write, opened once: the harnesses write what a
 * peer would read there, and a memory writer would fill up. */
int devnull(void);

/* The input in a malloc'd buffer of exactly its size (one byte for none), so
 * that a read past its end is caught; NULL when out of memory. */
char *copy(const uint8_t *data, size_t size);
/* The same with a NUL after it, for the parsers of C strings. */
char *copy_str(const uint8_t *data, size_t size);

/* The bits of a session's first byte: how the key and client are set up. */
enum {
	SESSION_WRITE = 1, SESSION_TRUSTED = 2, SESSION_KEYS = 4, SESSION_SYSTEMS = 8,
	SESSION_FEATURES = 16, SESSION_NAR_CAP = 32, SESSION_READ_ONLY = 64,
	SESSION_NO_SUBST = 128
};

/* The input of the session harnesses: config (SESSION_* bits), daemon minor
 * byte, a length (u32 little endian), that many bytes for the server's
 * input, then the daemon's replies. 0, or -1 when it is too short. */
struct split {
	unsigned config, minor;
	const uint8_t *in, *daemon;
	size_t ilen, dlen;
};

int split_input(const uint8_t *data, size_t size, struct split *sp);

/* The sessions that follow speak the worker protocol (nix-daemon --stdio,
 * ssh-ng://) when on, the serve protocol when off (the default). */
void harness_worker(int on);

/* The parser's side of a session (server/parser.c): the client's bytes in,
 * what it forwards to the monitor out (malloc'd into *fwd, its length in
 * *flen; fwd NULL: dropped). The monitor always says go. */
void parser_session(unsigned config, const uint8_t *client, size_t clen, uint8_t **fwd, size_t *flen);

/* The monitor's side: what a parser forwards (chan), and the daemon's
 * replies read from memory by a daemon of protocol 1.minor. Every request
 * the monitor sends the daemon is decoded afterwards and checked against
 * the policy of config (fuzz_monitor.c's daemon_check): a request the
 * policy forbids aborts. */
void monitor_session(unsigned config, unsigned minor, const uint8_t *chan, size_t chlen,
		     const uint8_t *daemon, size_t dlen);

/* The client's bytes through the parser, what it forwards through the
 * monitor: one session as nixgate-serve runs it. */
void session(unsigned config, unsigned minor, const uint8_t *client, size_t clen,
	     const uint8_t *daemon, size_t dlen);

/* What the monitor sent the daemon, checked against the session's policy;
 * aborts on a request the policy forbids (daemoncheck.c). */
void daemon_check(unsigned config, unsigned minor, const struct policy *pol, const uint8_t *sent, size_t n);

#endif
