/* wparse: the worker protocol (nix-daemon --stdio, ssh-ng://) as the parser
 * reads it: the client's side of the handshake and each operation's
 * request, read whole with named limits. The readers of the handshake and
 * of SetOptions are shared with the monitor (wserve.c), which reads the
 * forwarded bytes again with them. */
#ifndef NIXGATE_WPARSE_H
#define NIXGATE_WPARSE_H

#include "serve.h"

/* 1.38: Nix 2.34's, with the feature exchange (nixgate offers none). The
 * clients of the test matrix speak 1.34 (2.8), 1.37 (2.26) and 1.38. */
#define WSERVE_VERSION 0x126
/* Nix 2.3: the oldest client whose layouts nixgate writes. */
#define WSERVE_MIN_MINOR 21
/* SetOptions' overrides: a client sends the settings it changed; Nix has
 * a few hundred. Values (substituters, keys, builders) can be long, but
 * only numbers are kept. */
#define WOPT_OVERRIDES_MAX 1024
#define WOPT_NAME_MAX 256
#define WOPT_VALUE_MAX (1u << 20)
/* A store path's hash part, as QueryPathFromHashPart takes it. */
#define HASH_PART_READ_MAX STORE_PATH_MAX

/* The client's version: s->minor is the one both speak, or -1 when it is
 * not 1.WSERVE_MIN_MINOR or newer. */
int wversion(struct serve *s, uint64_t v);
/* The obsolete CPU affinity and reserve-space fields after the versions. */
int whello_tail(struct rd *r, unsigned minor);

/* SetOptions as the client sends it: the build limits it asks for (0:
 * none), everything else read past. */
struct wopts {
	uint64_t max_silent_time, build_timeout, max_log_size, max_jobs;
	int use_substitutes;
};
int wopts_read(struct rd *r, struct wopts *o);

/* Build targets (path or path!outputs) into ps, which is emptied first. */
int wtargets_read(struct rd *r, struct pathset *ps);
/* The build mode after a build request's targets: Nix's bmNormal is 0. */
int wmode_read(struct rd *r, unsigned minor, uint64_t *mode);

/* The parser's side of a worker session: the handshake, then requests
 * until the client ends it (parser_run's loop). */
int wparse_handshake(struct serve *s);
int wparse_path(struct serve *s);
int wparse_valid_paths(struct serve *s);
int wparse_hash_part(struct serve *s);
int wparse_set_options(struct serve *s);
int wparse_targets(struct serve *s);
int wparse_build(struct serve *s);

#endif
