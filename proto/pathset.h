/* pathset: a bounded list of validated store paths read from a peer. */
#ifndef NIXGATE_PATHSET_H
#define NIXGATE_PATHSET_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* A QueryValidPaths of 10,000 paths is the benchmark; a closure of a large
 * system is ~20,000. Memory stays under PATHSET_MAX_BYTES. */
#define PATHSET_MAX_PATHS 262144
#define PATHSET_MAX_BYTES (32u << 20)

struct pathset {
	char *buf;          /* NUL-separated paths */
	size_t used, cap;
	uint32_t *off;      /* start of each path in buf */
	size_t n, ncap;
	uint32_t *tab;      /* open addressing over index+1, for pathset_insert */
	size_t tcap, tn;    /* tn: how many paths the table covers */
	uint64_t probes;    /* occupied slots passed over: tests check chains stay short */
};

/* The per-process key of the sets' hash, from libsodium's random source:
 * called before the sandbox, which has no getrandom. Done on first use
 * otherwise. */
void pathset_seed(void);

void pathset_init(struct pathset *s);
void pathset_free(struct pathset *s);
void pathset_clear(struct pathset *s);
int pathset_add(struct pathset *s, const char *p, size_t len);
const char *pathset_get(const struct pathset *s, size_t i);
/* Adds p unless present: 1 added, 0 present, -1 error. */
int pathset_insert(struct pathset *s, const char *p, size_t len);
/* p's index, -1 when absent, -2 when out of memory. */
long pathset_find(struct pathset *s, const char *p, size_t len);
void pathset_sort(struct pathset *s);
/* count, then each path (checked as a store path); what names the list. */
int pathset_read(struct pathset *s, struct rd *r, const char *what);
int pathset_write(const struct pathset *s, struct wr *w);
/* A path list passed from r to w one path at a time, each checked. */
int pathlist_copy(struct rd *r, struct wr *w, const char *what);
/* One store path string into dst (STORE_PATH_MAX + 1 bytes); empty allowed
 * when allow_empty (a missing deriver). */
int storepath_read(struct rd *r, char *dst, int allow_empty, const char *what);

#endif
