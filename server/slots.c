#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "slots.h"

int slots_open(struct slots *s, const char *dir, const char *prefix, unsigned n)
{
	char path[4096];
	unsigned i;

	s->n = 0;
	s->nheld = 0;
	memset(s->held, 0, sizeof s->held);
	if (n == 0)
		return 0;
	if (n > SLOTS_MAX)
		return fail(EXIT_SYSTEM, "max-jobs %u is more than %u", n, SLOTS_MAX);
	snprintf(path, sizeof path, "%s/slots", dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return fail_sys("state directory %s", dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return fail_sys("slot directory %s", path);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/slots/%s.%u", dir, prefix, i);
		if ((s->fd[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
			return fail_sys("slot file %s", path);
		s->n++;
	}
	return 0;
}

int slots_take(struct slots *s)
{
	unsigned i;

	if (s->n == 0)
		return 1;
	for (i = 0; i < s->n; i++)
		if (!s->held[i] && flock(s->fd[i], LOCK_EX | LOCK_NB) == 0) {
			s->held[i] = 1;
			s->nheld++;
			return 1;
		}
	return 0;
}

void slots_drop(struct slots *s)
{
	unsigned i;

	for (i = s->n; i-- > 0;)
		if (s->held[i]) {
			flock(s->fd[i], LOCK_UN);
			s->held[i] = 0;
			s->nheld--;
			return;
		}
}

void slots_release(struct slots *s)
{
	unsigned i;

	for (i = 0; i < s->n && s->nheld; i++)
		if (s->held[i]) {
			flock(s->fd[i], LOCK_UN);
			s->held[i] = 0;
			s->nheld--;
		}
}

unsigned slots_busy(const struct slots *s)
{
	unsigned i, busy = 0;

	for (i = 0; i < s->n; i++) {
		if (s->held[i])
			busy++;
		else if (flock(s->fd[i], LOCK_EX | LOCK_NB) == 0)
			flock(s->fd[i], LOCK_UN);
		else
			busy++;
	}
	return busy;
}
