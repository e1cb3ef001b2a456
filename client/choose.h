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
#define UPLOAD_WAIT_S (15 * 60)

struct chooser {
	struct machine *m;
	struct ping *pings;        /* one per machine */
	unsigned n;
	const char *this_system, *state_dir;
	int slot;                  /* the pick's slot lock: held while it builds */
	int ask;                   /* the pick's ping is still to do (choose_ask) */
	unsigned busy;             /* the pick's other slots in use here */
};

/* The pick's index, its session kept open in pings[pick] when a nixgate
 * host (c->ask: not asked yet, the only one eligible and warm); -1 when
 * no machine can take it; -2 when the ones that could are all full. */
int choose(struct chooser *c, const char *system, char feats[][INFO_NAME_MAX + 1], unsigned nfeat);
/* The pick's ping, when choose left it for after the accept (c->ask): its
 * session kept open in pings[pick]; -1 when the host cannot be used, now
 * backed off as choose does. The host's own max-jobs is not asked first:
 * a key's build past them waits there for a slot. meanwhile(ctx) runs
 * while the session starts (ping_all_while). */
int choose_ask(struct chooser *c, int pick, void (*meanwhile)(void *), void *ctx);
/* A file of Nix's for a machine, as its hook names them:
 * STATE/current-load/<URI, '/' as '_'><suffix>, opened (made if missing);
 * -1 when it cannot be. */
int load_file(char *out, size_t max, const char *state_dir, const char *uri, const char *suffix);
/* The host's upload lock (Nix's hook's too: one copy to a host at a
 * time), waited for up to UPLOAD_WAIT_S as Nix's hook waits: past that the
 * copy goes ahead, said on logfd as the wait is. Its fd, or -1 when none. */
int upload_lock(const char *state_dir, const struct machine *m, int logfd);
/* The features, space-separated, for a message. */
const char *features_text(char feats[][INFO_NAME_MAX + 1], unsigned n);
/* 1 if the word w is in the space- or comma-separated list. */
int list_has(const char *list, const char *w);

#endif
