/* slots: how many builds a key, and the host, run at once, across all
 * sessions: one lock file per slot, opened before the sandbox, held with
 * flock while a build runs. */
#ifndef NIXGATE_SLOTS_H
#define NIXGATE_SLOTS_H

#define SLOTS_MAX 256
#define STATE_DIR "/var/lib/nixgate"

struct slots {
	int fd[SLOTS_MAX];
	unsigned n;
	unsigned char held[SLOTS_MAX]; /* the slots this session holds */
	unsigned nheld;
};

/* n lock files named prefix.0 ... under dir/slots (made when missing);
 * n == 0 opens nothing. */
int slots_open(struct slots *s, const char *dir, const char *prefix, unsigned n);
/* Takes one more free slot: 1 taken (or no limit), 0 all busy. */
int slots_take(struct slots *s);
/* Gives back one slot this session holds. */
void slots_drop(struct slots *s);
/* Releases every slot this session holds. */
void slots_release(struct slots *s);
/* Slots held by any session, this one included. */
unsigned slots_busy(const struct slots *s);

#endif
