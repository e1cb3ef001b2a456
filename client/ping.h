/* ping: one build host checked the way Nix connects to it: reachable, which
 * server, how fast, and for nixgate the key's policy as the host applies it. */
#ifndef NIXGATE_PING_H
#define NIXGATE_PING_H

#include <stdio.h>

#include "ssh.h"

#define PING_TEXT 512
#define INFO_PAIRS_MAX 32
#define INFO_NAME_MAX 64
#define INFO_VALUE_MAX 8192
#define PING_TIMEOUT_MS 30000

struct ping {
	char uri[URI_MAX + 1];
	int usable;
	char cause[PING_TEXT], fix[PING_TEXT];   /* when not usable */
	double ssh_ms, handshake_ms, query_ms;   /* -1: not measured */
	unsigned minor;                          /* serve protocol 2.minor */
	int nixgate;                             /* NixgateInfo answered */
	unsigned ninfo;
	char name[INFO_PAIRS_MAX][INFO_NAME_MAX + 1];
	char *value[INFO_PAIRS_MAX];
	int kept;                                /* conn is open (PING_KEEP) */
	struct sshconn conn;
};

/* With ping_all: a usable nixgate host's connection stays open in conn,
 * after NixgateInfo, for the build hook to build through (remote_park);
 * ssh then says only its errors, since its stderr becomes the build log. */
#define PING_KEEP 1

/* Fills p; returns 0 when it could run the check at all (p->usable says
 * how it went), -1 on a local failure. */
int ping(struct ping *p, const struct store_uri *u);
/* ping for n hosts at once, p[i] for u[i], each with its own deadline of
 * PING_TIMEOUT_MS from the start: it takes as long as the slowest host.
 * -1 when a host could not be checked at all (its cause says why); p[i]
 * is overwritten, so ping_free it first. */
int ping_all(struct ping *const *p, const struct store_uri *const *u, unsigned n, int flags);
/* The same, with meanwhile(ctx) run once every ssh has started: local
 * work that overlaps the sessions' start instead of coming before it. */
int ping_all_while(struct ping *const *p, const struct store_uri *const *u, unsigned n, int flags,
		   void (*meanwhile)(void *), void *ctx);
/* Ends the connections that PING_KEEP left open, all at once. */
void ping_close(struct ping *const *p, unsigned n);
/* The NixgateInfo values, and a kept connection. */
void ping_free(struct ping *p);
/* A host found not usable: why, and what to do about it. */
void ping_set_cause(struct ping *p, const char *cause, const char *fix);
/* A NixgateInfo value, or NULL. */
const char *ping_info(const struct ping *p, const char *name);
void ping_print(FILE *o, const struct ping *p);
void ping_json(FILE *o, const struct ping *p);
/* A JSON string literal. */
void json_str(FILE *o, const char *s);

#endif
