/* wire: Nix's basic encoding (u64 little endian, strings padded to 8 bytes)
 * over a descriptor or a fixed buffer, with every length checked against a
 * limit the caller names. */
#ifndef NIXGATE_WIRE_H
#define NIXGATE_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Large enough that a NAR moves in few system calls, small enough that two
 * readers and two writers keep the server well under 2 MiB. */
#define WIRE_BUFSZ (128 * 1024)

/* How long a wait on a peer may last, by CLOCK_MONOTONIC in milliseconds:
 * idle_ms bounds each wait in which no byte moves (0: none); until_ms is a
 * moment no wait goes past (0: none). what names the limit in the error. A
 * descriptor only waits this way when it is O_NONBLOCK; a blocking one
 * blocks as before. */
struct deadline {
	uint64_t idle_ms, until_ms;
	const char *what;
	/* Watched too while waiting (0: none): its hang-up or error ends the
	 * wait, so a wait on the daemon ends when the client is gone. */
	int hup_fd;
};

struct rd {
	int fd;                 /* -1: only the bytes given to rd_init_mem */
	const unsigned char *p; /* the buffered bytes */
	size_t pos, len;
	unsigned char *buf;     /* storage for fd mode */
	size_t cap;
	uint64_t count;         /* bytes consumed, for audit and tests */
	int kind;               /* EXIT_REFUSED for the peer, EXIT_SYSTEM for the daemon */
	const char *who;        /* "client", "daemon": names the peer in errors */
	struct deadline dl;
	int timed_out;          /* the last failure was the deadline's */
	int drained;            /* the last read took all there was: poll first */
	int ended;              /* a read found the end of input or failed */
	/* Every byte consumed is copied here (NULL: none), and what it holds is
	 * sent before the reader waits: a relay that parses what it forwards. */
	struct wr *tee;
	int tee_failed;
	/* A reader of fd -1 with no bytes left asks this for more (NULL:
	 * none): a stream inside another, as Nix's framed one. Returns the
	 * count it put in buf (0 at its end), or -1 with fail(). */
	int (*pull)(void *ctx, unsigned char *buf, size_t cap, size_t *got);
	void *pull_ctx;
};

struct wr {
	int fd;                 /* -1: into buf only; overflow is an error */
	unsigned char *buf;
	size_t cap, len;
	uint64_t count;
	const char *who;
	struct deadline dl;
	int kind;               /* of a deadline's error: EXIT_SYSTEM unless set */
	int timed_out;
	int full;               /* the last write was cut short: poll first */
};

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t mono_ms(void);
/* Waits until fd is ready for ev (POLLIN, POLLOUT) within dl, the wait
 * having begun at start (mono_ms): 1 ready, 0 the deadline passed, 2 dl's
 * hup_fd hung up, -1 a poll error (errno). */
int fd_wait(int fd, short ev, const struct deadline *dl, uint64_t start);
/* 1 when the peer of fd has hung up (or fd is broken), looked for up to ms
 * milliseconds; 0 otherwise. */
int fd_hung_up(int fd, int ms);

/* The wire's u64: 8 bytes, little endian. */
void le64_put(unsigned char b[8], uint64_t v);
uint64_t le64_get(const unsigned char b[8]);

void rd_init_fd(struct rd *r, int fd, unsigned char *buf, size_t cap, int kind, const char *who);
void rd_init_mem(struct rd *r, const void *p, size_t len, int kind, const char *who);
/* A reader of what pull gives, buffered in buf (cap bytes). */
void rd_init_pull(struct rd *r, int (*pull)(void *, unsigned char *, size_t, size_t *), void *ctx, unsigned char *buf,
		  size_t cap, int kind, const char *who);
/* 1 when the reader is at a clean end of input (no byte buffered, EOF), 0 if
 * more input follows, -1 on a read error. */
int rd_at_eof(struct rd *r);
int rd_bytes(struct rd *r, void *dst, size_t n);
int rd_skip(struct rd *r, uint64_t n);
/* Up to want bytes without copying: *p points into the reader's buffer. */
int rd_chunk(struct rd *r, const unsigned char **p, size_t *got, uint64_t want);
/* The buffered bytes (reading if none are), without consuming them; then
 * rd_consume takes k of them. For parsers that stop mid-buffer. */
int rd_peek(struct rd *r, const unsigned char **p, size_t *got);
void rd_consume(struct rd *r, size_t k);
int rd_u64(struct rd *r, uint64_t *v);
/* u64 that must be 0 or 1. */
int rd_bool(struct rd *r, int *v, const char *what);
/* A string of at most max bytes into dst (max + 1 bytes, NUL-terminated);
 * embedded NUL bytes are refused. what names the field in errors. */
int rd_str(struct rd *r, char *dst, size_t max, size_t *len, const char *what);
/* The zero padding after a byte string of length len. */
int rd_pad(struct rd *r, uint64_t len);
/* A string's length, refused above max; what names the field in the error. */
int rd_len(struct rd *r, uint64_t *n, uint64_t max, const char *what);
/* A list count, refused above max. */
int rd_count(struct rd *r, uint64_t *n, uint64_t max, const char *what);

void wr_init_fd(struct wr *w, int fd, unsigned char *buf, size_t cap, const char *who);
void wr_init_mem(struct wr *w, unsigned char *buf, size_t cap);
int wr_bytes(struct wr *w, const void *p, size_t n);
int wr_u64(struct wr *w, uint64_t v);
int wr_str(struct wr *w, const void *p, size_t n);
int wr_cstr(struct wr *w, const char *s);
int wr_pad(struct wr *w, uint64_t len);
int wr_flush(struct wr *w);
/* What the peer takes now, never waiting: 1 when all is out, 0 when some
 * stays buffered (it goes first on the next write), -1 on an error. For
 * best-effort output (build logs) that must not hold up the writer. */
int wr_flush_now(struct wr *w);

/* Write all of n bytes to fd, retrying short writes. */
int write_all(int fd, const void *p, size_t n);

/* A string of up to hardmax bytes of which the first cap-1 are kept in dst
 * (NUL-terminated; *len is the full length): log text that need not be whole. */
int rd_str_trunc(struct rd *r, char *dst, size_t cap, uint64_t hardmax, uint64_t *len, const char *what);

#endif
