/* choose: which builder takes a build, as the hook decides it. Eligible
 * are the machine entries for the system and features, not backed off
 * after a failed connection, with a free slot of the entry's max-jobs (Nix's
 * own slot files, so its hook and this one count each other's builds).
 * They are asked all at once for their load, and the lowest load per speed
 * wins. */
#ifndef NIXGATE_CHOOSE_H
#define NIXGATE_CHOOSE_H

#include <stddef.h>

#include "machines.h"
#include "ping.h"

#define BACKOFF_SECONDS 60
#define FEATURES_MAX 64

struct chooser {
	struct machine *m;
	struct ping *pings;        /* one per machine */
	unsigned n;
	const char *this_system, *state_dir;
	int slot;                  /* the pick's slot lock: held while it builds */
};

/* The pick's index, its session kept open in pings[pick] when a nixgate
 * host; -1 when no machine can take it; -2 when the ones that could are
 * all full. */
int choose(struct chooser *c, const char *system, char feats[][INFO_NAME_MAX + 1], unsigned nfeat);
/* A file of Nix's for a machine, as its hook names them:
 * STATE/current-load/<URI, '/' as '_'><suffix>, opened (made if missing);
 * -1 when it cannot be. */
int load_file(char *out, size_t max, const char *state_dir, const char *uri, const char *suffix);
/* 1 if the word w is in the space- or comma-separated list. */
int list_has(const char *list, const char *w);

#endif
