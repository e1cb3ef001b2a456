#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "choose.h"
#include "err.h"
#include "nixlog.h"
#include "ssh.h"
#include "words.h"

int list_has(const char *list, const char *w)
{
	return words_has(list, w, strlen(w), 1);
}

static int eligible(const struct chooser *c, const struct machine *m, const char *system,
		    char feats[][INFO_NAME_MAX + 1], unsigned nfeat)
{
	const char *p = m->mandatory, *w;
	unsigned i;
	size_t k;

	/* Nix's builtin builders (fetchurl) run anywhere, and its hook sends
	 * them to any machine */
	if (strcmp(system, "builtin") &&
	    (m->systems[0] ? !list_has(m->systems, system) : strcmp(system, c->this_system)))
		return 0;
	for (i = 0; i < nfeat; i++)
		if (!list_has(m->supported, feats[i]) && !list_has(m->mandatory, feats[i]))
			return 0;
	/* and every feature the machine accepts only for builds that ask for it */
	while ((w = words_next(&p, &k, 1))) {
		for (i = 0; i < nfeat && !(strlen(feats[i]) == k && !memcmp(feats[i], w, k)); i++)
			;
		if (i == nfeat)
			return 0;
	}
	return 1;
}

/* Hosts that failed to connect wait BACKOFF_SECONDS before the next try,
 * across hook runs: "URI UNTIL" lines in the state directory. */
static long backoff_until(const struct chooser *c, const char *uri)
{
	char path[1100], u[URI_MAX + 1];
	long until, found = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/nixgate-backoff", c->state_dir);
	if (!(f = fopen(path, "re")))
		return 0;
	while (fscanf(f, "%1024s %ld", u, &until) == 2)
		if (!strcmp(u, uri))
			found = until;
	fclose(f);
	return found;
}

/* The file is rewritten whole: entries that have run out are dropped, so
 * it stays as small as the set of hosts that are down. */
static void backoff_set(const struct chooser *c, const char *uri, long until)
{
	char path[1100], tmp[1200], u[URI_MAX + 1];
	long t, now = (long)time(NULL);
	FILE *in, *out;

	snprintf(path, sizeof path, "%s/nixgate-backoff", c->state_dir);
	snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
	if (!(out = fopen(tmp, "we")))
		return;
	if ((in = fopen(path, "re"))) {
		while (fscanf(in, "%1024s %ld", u, &t) == 2)
			if (t > now && strcmp(u, uri))
				fprintf(out, "%s %ld\n", u, t);
		fclose(in);
	}
	fprintf(out, "%s %ld\n", uri, until);
	if (fclose(out) != 0 || rename(tmp, path) != 0)
		unlink(tmp);
}

static double number(const char *s, double dflt)
{
	return s && strcmp(s, "none") ? atof(s) : dflt;
}

int load_file(char *out, size_t max, const char *state_dir, const char *uri, const char *suffix)
{
	char u[URI_MAX + 1], dir[1100], *q;
	int n, fd;

	snprintf(u, sizeof u, "%s", uri);
	for (q = u; *q; q++)
		if (*q == '/')
			*q = '_';
	n = snprintf(out, max, "%s/current-load/%s%s", state_dir, u, suffix);
	if (n < 0 || (size_t)n >= max)
		return -1;
	if ((fd = open(out, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) >= 0 || errno != ENOENT)
		return fd;
	/* the directory only the first time, not at every slot of every choice */
	snprintf(dir, sizeof dir, "%s/current-load", state_dir);
	mkdir(dir, 0755);
	return open(out, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* A free slot of the entry's max-jobs, its file locked, or -1 when all are
 * busy; *busy counts the busy ones, *at is the slot's number. */
static int slot_take(const struct chooser *c, const struct machine *m, unsigned *busy, unsigned *at)
{
	char path[4096], suffix[32];
	unsigned i;
	int fd, got = -1;

	*busy = 0;
	for (i = 0; i < m->max_jobs; i++) {
		snprintf(suffix, sizeof suffix, "-%u", i);
		if ((fd = load_file(path, sizeof path, c->state_dir, m->uri.text, suffix)) < 0) {
			/* a slot that cannot be counted is taken as busy */
			(*busy)++;
			continue;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			(*busy)++;
		else if (got < 0) {
			got = fd;
			*at = i;
			continue;
		}
		/* closing a free one's file lets go of the lock just taken */
		close(fd);
	}
	return got;
}

int choose(struct chooser *c, const char *system, char feats[][INFO_NAME_MAX + 1], unsigned nfeat)
{
	struct ping *asked[MACHINES_MAX];
	const struct store_uri *uris[MACHINES_MAX];
	unsigned at[MACHINES_MAX], busy[MACHINES_MAX], k = 0, j, others = 0, nslot = 0;
	int slot[MACHINES_MAX];
	double best = 1e300;
	int pick = -1, full = 0;
	long now = (long)time(NULL);

	c->slot = -1;
	c->ask = 0;
	for (j = 0; j < c->n; j++) {
		if (!eligible(c, &c->m[j], system, feats, nfeat) || backoff_until(c, c->m[j].uri.text) > now)
			continue;
		/* the machine entry's own limit comes first: no slot, no question */
		if ((slot[k] = slot_take(c, &c->m[j], &busy[k], &nslot)) < 0) {
			full = 1;
			continue;
		}
		/* a session per slot, so no master carries more than its share */
		c->m[j].uri.group = nslot / WARM_SESSIONS;
		ping_free(&c->pings[j]);
		asked[k] = &c->pings[j];
		uris[k] = &c->m[j].uri;
		at[k++] = j;
	}
	/* one builder to choose from, its master up: nothing to ask before the
	 * accept (choose_ask then), so that the daemon's next build need not
	 * wait for a session to this one */
	if (k == 1 && ssh_warm_ready(uris[0])) {
		c->slot = slot[0];
		c->busy = busy[0];
		c->ask = 1;
		return (int)at[0];
	}
	ssh_warm_prepare(uris, k);
	ping_all(asked, uris, k, PING_KEEP);
	err_clear();
	for (j = 0; j < k; j++) {
		struct ping *p = asked[j];
		const struct machine *m = &c->m[at[j]];
		double load, cores, score, maxj;

		if (!p->usable) {
			nix_msg(NIX_WARN, "nixgate: cannot build on %s: %s; not trying it again for %d s", m->uri.text,
				p->cause, BACKOFF_SECONDS);
			backoff_set(c, m->uri.text, now + BACKOFF_SECONDS);
			continue;
		}
		maxj = number(ping_info(p, "max-jobs"), 0);
		ssh_warm_limited(&m->uri, maxj > 0);
		if (maxj > 0 && number(ping_info(p, "builds"), 0) >= maxj) {
			full = 1;
			continue;
		}
		if (p->nixgate) {
			cores = number(ping_info(p, "cores"), 1);
			load = number(ping_info(p, "host-builds"), 0) + number(ping_info(p, "load"), 0);
		} else {
			/* a plain nix-store host tells nothing: this machine's builds there */
			cores = m->max_jobs;
			load = busy[j];
		}
		score = load / (cores > 0 ? cores : 1) / (m->speed ? m->speed : 1);
		if (score < best) {
			best = score;
			pick = (int)at[j];
		}
	}
	/* the others' sessions end and their slots go back before the build */
	for (j = 0; j < k; j++)
		if ((int)at[j] != pick) {
			asked[others++] = asked[j];
			close(slot[j]);
		} else {
			c->slot = slot[j];
			c->busy = busy[j];
		}
	ping_close(asked, others);
	return pick >= 0 ? pick : full ? -2 : -1;
}

int choose_ask(struct chooser *c, int pick, void (*meanwhile)(void *), void *ctx)
{
	struct ping *p = &c->pings[pick];
	const struct store_uri *u = &c->m[pick].uri;

	c->ask = 0;
	ping_all_while(&p, &u, 1, PING_KEEP, meanwhile, ctx);
	err_clear();
	if (p->usable) {
		ssh_warm_limited(u, number(ping_info(p, "max-jobs"), 0) > 0);
		return 0;
	}
	backoff_set(c, u->text, (long)time(NULL) + BACKOFF_SECONDS);
	return fail(EXIT_SYSTEM, "cannot build on %s: %s; not trying it again for %d s", u->text, p->cause,
		    BACKOFF_SECONDS);
}

static void woken(int sig)
{
	(void)sig;
}

/* An exclusive flock of fd, waited for at most seconds (SIGALRM's, without
 * SA_RESTART, ends the wait with EINTR): 0, or -1. */
static int lock_wait(int fd, unsigned seconds)
{
	struct sigaction sa, old;
	int r;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = woken;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, &old) < 0)
		return -1;
	alarm(seconds);
	r = flock(fd, LOCK_EX);
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	return r;
}

int upload_lock(const char *state_dir, const struct machine *m, int logfd)
{
	char path[4096];
	int fd;

	if ((fd = load_file(path, sizeof path, state_dir, m->uri.text, ".upload-lock")) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	dprintf(logfd, "nixgate: waiting for another copy to %s\n", m->uri.text);
	/* builds that start together take turns as soon as the lock is free */
	if (lock_wait(fd, UPLOAD_WAIT_S) == 0)
		return fd;
	dprintf(logfd, "nixgate: the copy to %s waited %d s for another; copying anyway\n", m->uri.text, UPLOAD_WAIT_S);
	close(fd);
	return -1;
}

const char *features_text(char feats[][INFO_NAME_MAX + 1], unsigned n)
{
	static char t[FEATURES_MAX * (INFO_NAME_MAX + 1) + 1];
	unsigned i;

	t[0] = 0;
	for (i = 0; i < n; i++)
		snprintf(t + strlen(t), sizeof t - strlen(t), "%s%s", i ? " " : "", feats[i]);
	return t;
}
