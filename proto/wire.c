#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "wire.h"

void le64_put(unsigned char b[8], uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

uint64_t le64_get(const unsigned char b[8])
{
	uint64_t x = 0;
	int i;

	for (i = 7; i >= 0; i--)
		x = x << 8 | b[i];
	return x;
}

void rd_init_fd(struct rd *r, int fd, unsigned char *buf, size_t cap, int kind, const char *who)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->buf = buf;
	r->p = buf;
	r->cap = cap;
	r->kind = kind;
	r->who = who;
}

void rd_init_mem(struct rd *r, const void *p, size_t len, int kind, const char *who)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	r->p = p;
	r->len = len;
	r->kind = kind;
	r->who = who;
}

void rd_init_pull(struct rd *r, int (*pull)(void *, unsigned char *, size_t, size_t *), void *ctx, unsigned char *buf,
		  size_t cap, int kind, const char *who)
{
	rd_init_fd(r, -1, buf, cap, kind, who);
	r->pull = pull;
	r->pull_ctx = ctx;
}

/* fill for a pull reader: the same results. */
static int pull(struct rd *r)
{
	size_t n = 0;

	if (r->tee && wr_flush(r->tee) < 0) {
		r->tee_failed = 1;
		return -1;
	}
	r->pos = r->len = 0;
	if (r->pull(r->pull_ctx, r->buf, r->cap, &n) < 0) {
		r->ended = 1;
		return -1;
	}
	r->ended = n == 0;
	r->len = n;
	return n > 0;
}

uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

int fd_wait(int fd, short ev, const struct deadline *dl, uint64_t start)
{
	struct pollfd p[2];
	uint64_t now, left, end;
	int n, bounded;
	nfds_t nfds = dl->hup_fd > 0 ? 2 : 1;

	for (;;) {
		now = mono_ms();
		left = UINT64_MAX;
		if (dl->idle_ms) {
			end = start + dl->idle_ms;
			left = end > now ? end - now : 0;
		}
		if (dl->until_ms)
			left = dl->until_ms <= now ? 0 : dl->until_ms - now < left ? dl->until_ms - now : left;
		bounded = left <= INT_MAX;
		p[0].fd = fd;
		p[0].events = ev;
		p[0].revents = 0;
		p[1].fd = dl->hup_fd;
		p[1].events = 0;
		p[1].revents = 0;
		/* a hang-up or error wakes it too: the read or write reports it */
		n = poll(p, nfds, bounded ? (int)left : -1);
		if (n > 0 && nfds == 2 && (p[1].revents & (POLLERR | POLLHUP | POLLNVAL)))
			return 2;
		if (n > 0 && p[0].revents)
			return 1;
		if (n > 0)
			continue;
		if (n == 0 && bounded)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

int fd_hung_up(int fd, int ms)
{
	struct pollfd p = {fd, 0, 0};

	return poll(&p, 1, ms) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

/* The error of a wait that passed its deadline: the peer and what it did
 * not do, for how long, and the limit's name. */
static int late(int kind, const char *who, const char *verb, const struct deadline *dl, uint64_t start, int *flag)
{
	*flag = 1;
	return fail(kind, "%s %s for %llu s (%s)", who, verb, (unsigned long long)((mono_ms() - start + 500) / 1000),
		    dl->what ? dl->what : "deadline");
}

static int has_deadline(const struct deadline *dl)
{
	return dl->idle_ms || dl->until_ms;
}

/* A wait of a reader or writer for its descriptor (ev), its idle time
 * counted from *start (set at the first wait): 0 ready, -1 with the error
 * (the deadline passed, marked in *late_flag; the client gone; poll). */
static int await_fd(int fd, short ev, const struct deadline *dl, uint64_t *start, int kind, const char *who,
		    const char *verb, int *late_flag)
{
	int w;

	if (!*start)
		*start = mono_ms();
	if ((w = fd_wait(fd, ev, dl, *start)) == 0)
		return late(kind, who, verb, dl, *start, late_flag);
	if (w == 2)
		return fail(EXIT_REFUSED, "the client went away while waiting for %s", who);
	if (w < 0)
		return fail_sys("waiting for %s", who);
	return 0;
}

/* 1: bytes available; 0: end of input; -1: read error. A non-blocking
 * descriptor is read first when the last read filled the buffer (more is
 * likely there), polled first when it did not (a read would most likely
 * find nothing): one poll per read at most, none while data streams. */
static int fill(struct rd *r)
{
	uint64_t start = 0;
	ssize_t n;
	int wait = r->drained && has_deadline(&r->dl);

	if (r->tee_failed)
		return -1;
	if (r->pos < r->len)
		return 1;
	if (r->fd < 0)
		return r->pull ? pull(r) : 0;
	if (r->tee && wr_flush(r->tee) < 0) {
		r->tee_failed = 1;
		return -1;
	}
	r->pos = r->len = 0;
	for (;;) {
		if (wait && await_fd(r->fd, POLLIN, &r->dl, &start, r->kind, r->who, "sent nothing", &r->timed_out) < 0)
			return -1;
		n = read(r->fd, r->buf, r->cap);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			r->ended = 1;
			return fail_sys("reading from %s", r->who);
		}
		wait = 1;
	}
	r->ended = n == 0;
	r->len = (size_t)n;
	r->drained = (size_t)n < r->cap;
	return n > 0;
}

static int need(struct rd *r)
{
	int e = fill(r);

	if (e == 0)
		return fail(r->kind, "%s closed the connection in the middle of a message", r->who);
	return e < 0 ? -1 : 0;
}

int rd_at_eof(struct rd *r)
{
	int e = fill(r);

	return e < 0 ? -1 : !e;
}

int rd_peek(struct rd *r, const unsigned char **p, size_t *got)
{
	if (need(r) < 0)
		return -1;
	*p = r->p + r->pos;
	*got = r->len - r->pos;
	return 0;
}

static int wr_out(struct wr *w, const void *p, size_t n);

static void tee(struct rd *r, size_t k)
{
	struct wr *w = r->tee;

	if (!w || r->tee_failed)
		return;
	/* a big run (a NAR) goes straight on, not through the buffer */
	if (w->len == 0 && w->fd >= 0 && k >= w->cap / 4) {
		w->count += k;
		if (wr_out(w, r->p + r->pos, k) < 0)
			r->tee_failed = 1;
		return;
	}
	if (wr_bytes(w, r->p + r->pos, k) < 0)
		r->tee_failed = 1;
}

void rd_consume(struct rd *r, size_t k)
{
	tee(r, k);
	r->pos += k;
	r->count += k;
}

int rd_chunk(struct rd *r, const unsigned char **p, size_t *got, uint64_t want)
{
	size_t n;

	if (need(r) < 0)
		return -1;
	n = r->len - r->pos;
	if (n > want)
		n = (size_t)want;
	*p = r->p + r->pos;
	*got = n;
	tee(r, n);
	if (r->tee_failed)
		return -1;
	r->pos += n;
	r->count += n;
	return 0;
}

int rd_bytes(struct rd *r, void *dst, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *p;
	size_t got;

	while (n > 0) {
		if (rd_chunk(r, &p, &got, n) < 0)
			return -1;
		memcpy(d, p, got);
		d += got;
		n -= got;
	}
	return 0;
}

int rd_skip(struct rd *r, uint64_t n)
{
	const unsigned char *p;
	size_t got;

	while (n > 0) {
		if (rd_chunk(r, &p, &got, n) < 0)
			return -1;
		n -= got;
	}
	return 0;
}

int rd_u64(struct rd *r, uint64_t *v)
{
	unsigned char b[8];

	if (rd_bytes(r, b, 8) < 0)
		return -1;
	*v = le64_get(b);
	return 0;
}

int rd_bool(struct rd *r, int *v, const char *what)
{
	uint64_t x;

	if (rd_u64(r, &x) < 0)
		return -1;
	if (x > 1)
		return fail(r->kind, "%s sent %llu for the flag %s (0 or 1 expected)",
			    r->who, (unsigned long long)x, what);
	*v = (int)x;
	return 0;
}

int rd_pad(struct rd *r, uint64_t len)
{
	unsigned char z[8];
	size_t n = (size_t)((8 - len % 8) % 8), i;

	if (rd_bytes(r, z, n) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (z[i])
			return fail(r->kind, "%s sent non-zero padding after a string", r->who);
	return 0;
}

int rd_len(struct rd *r, uint64_t *n, uint64_t max, const char *what)
{
	if (rd_u64(r, n) < 0)
		return -1;
	if (*n > max)
		return fail(r->kind, "%s sent a %s of %llu bytes, more than the limit of %llu",
			    r->who, what, (unsigned long long)*n, (unsigned long long)max);
	return 0;
}

int rd_str(struct rd *r, char *dst, size_t max, size_t *len, const char *what)
{
	uint64_t n;

	if (rd_len(r, &n, max, what) < 0)
		return -1;
	if (rd_bytes(r, dst, (size_t)n) < 0 || rd_pad(r, n) < 0)
		return -1;
	dst[n] = 0;
	if (memchr(dst, 0, (size_t)n))
		return fail(r->kind, "%s sent a %s containing a NUL byte", r->who, what);
	if (len)
		*len = (size_t)n;
	return 0;
}

int rd_count(struct rd *r, uint64_t *n, uint64_t max, const char *what)
{
	if (rd_u64(r, n) < 0)
		return -1;
	if (*n > max)
		return fail(r->kind, "%s sent a list of %llu %s, more than the limit of %llu",
			    r->who, (unsigned long long)*n, what, (unsigned long long)max);
	return 0;
}

void wr_init_fd(struct wr *w, int fd, unsigned char *buf, size_t cap, const char *who)
{
	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->buf = buf;
	w->cap = cap;
	w->who = who;
	w->kind = EXIT_SYSTEM;
}

void wr_init_mem(struct wr *w, unsigned char *buf, size_t cap)
{
	wr_init_fd(w, -1, buf, cap, "buffer");
}

int write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;
	ssize_t k;

	while (n > 0) {
		k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* All of n bytes to the writer's descriptor; each write that moves bytes
 * starts the deadline's idle wait again. */
static int wr_out(struct wr *w, const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t start = 0;
	ssize_t k;
	int wait = w->full && has_deadline(&w->dl);

	while (n > 0) {
		/* after a short write the peer is behind: wait for room first
		 * rather than find none */
		if (wait && await_fd(w->fd, POLLOUT, &w->dl, &start, w->kind, w->who, "read nothing", &w->timed_out) < 0)
			return -1;
		k = write(w->fd, c, n);
		if (k > 0) {
			c += k;
			n -= (size_t)k;
			start = 0;
			w->full = n > 0;
			wait = w->full && has_deadline(&w->dl);
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0 || errno != EAGAIN)
			return fail_sys("writing to %s", w->who);
		w->full = wait = 1;
	}
	return 0;
}

int wr_flush(struct wr *w)
{
	if (w->fd < 0 || w->len == 0)
		return 0;
	if (wr_out(w, w->buf, w->len) < 0)
		return -1;
	w->len = 0;
	return 0;
}

int wr_flush_now(struct wr *w)
{
	size_t done = 0;
	ssize_t k;

	while (w->fd >= 0 && done < w->len) {
		k = write(w->fd, w->buf + done, w->len - done);
		if (k > 0)
			done += (size_t)k;
		else if (k < 0 && errno == EINTR)
			continue;
		else if (k < 0 && errno == EAGAIN)
			break;
		else
			return fail_sys("writing to %s", w->who);
	}
	memmove(w->buf, w->buf + done, w->len - done);
	w->len -= done;
	w->full = w->len > 0;
	return w->len == 0;
}

int wr_bytes(struct wr *w, const void *p, size_t n)
{
	w->count += n;
	if (w->len + n <= w->cap) {
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		return 0;
	}
	if (w->fd < 0)
		return fail(EXIT_SYSTEM, "output buffer of %zu bytes is full", w->cap);
	if (wr_flush(w) < 0)
		return -1;
	if (n >= w->cap) {
		/* Large data goes straight out rather than through the buffer. */
		return wr_out(w, p, n);
	}
	memcpy(w->buf, p, n);
	w->len = n;
	return 0;
}

int wr_u64(struct wr *w, uint64_t v)
{
	unsigned char b[8];

	le64_put(b, v);
	return wr_bytes(w, b, 8);
}

int wr_pad(struct wr *w, uint64_t len)
{
	static const unsigned char z[8];

	return wr_bytes(w, z, (size_t)((8 - len % 8) % 8));
}

int wr_str(struct wr *w, const void *p, size_t n)
{
	if (wr_u64(w, n) < 0 || wr_bytes(w, p, n) < 0)
		return -1;
	return wr_pad(w, n);
}

int wr_cstr(struct wr *w, const char *s)
{
	return wr_str(w, s, strlen(s));
}

int rd_str_trunc(struct rd *r, char *dst, size_t cap, uint64_t hardmax, uint64_t *len, const char *what)
{
	uint64_t n;
	size_t keep;

	if (rd_len(r, &n, hardmax, what) < 0)
		return -1;
	keep = n < cap - 1 ? (size_t)n : cap - 1;
	if (rd_bytes(r, dst, keep) < 0 || rd_skip(r, n - keep) < 0 || rd_pad(r, n) < 0)
		return -1;
	dst[keep] = 0;
	if (len)
		*len = n;
	return 0;
}
