#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "err.h"
#include "ping.h"
#include "serveproto.h"
#include "wire.h"

#define STRAY_WAIT_MS 300     /* for the rest of output before the protocol */
#define DRAIN_MS 5000         /* for ssh's last words after the check */
#define READ_CHUNK 16384      /* what one read of a host's stdout or stderr takes */

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000 + (double)t.tv_nsec / 1e6;
}

static int send_u64s(int fd, const uint64_t *v, size_t n)
{
	unsigned char b[64];
	size_t i;

	for (i = 0; i < n; i++)
		le64_put(b + 8 * i, v[i]);
	return write_all(fd, b, 8 * n);
}

void ping_set_cause(struct ping *p, const char *cause, const char *fix)
{
	snprintf(p->cause, sizeof p->cause, "%s", cause);
	snprintf(p->fix, sizeof p->fix, "%s", fix);
}

/* One host's check under way. Every host is checked at once (the build
 * hook asks them all before each choice), so each is a step that moves on
 * as its bytes arrive, under one poll for all; what the bytes say is
 * answer.c's to read. */
enum step {
	CHECK,       /* the host's answers, read as they come (a.step says which) */
	DRAIN,       /* check over: ssh's stderr to its end, for the cause */
	KEPT,        /* check over, session left open (PING_KEEP) */
	DONE
};

struct probe {
	struct answer a;
	struct sshconn c;
	int keep;
	double deadline;             /* this step's end (ms) */
	enum step step;
};

/* The check is over. A nixgate host that answered just what was asked
 * stays connected when the caller wants to keep it; otherwise ssh is told
 * the session is over and its stderr read to the end. */
static void end(struct probe *b)
{
	if (b->keep && b->a.p->nixgate && b->a.pos == b->a.len) {
		b->step = KEPT;
		return;
	}
	/* a host that did not answer in time need not be waited for either
	 * (its cause is known); the others see the end of their input */
	if (b->a.r < 0)
		kill(b->c.pid, SIGTERM);
	close(b->c.in);
	close(b->c.out);
	b->c.in = b->c.out = -1;
	b->step = b->c.err >= 0 ? DRAIN : DONE;
	b->deadline = now_ms() + DRAIN_MS;
}

/* The step after n new bytes of stdout, the end of it (eof) or the step's
 * deadline (late): what the reader asks for, done. */
static void advance(struct probe *b, const unsigned char *bytes, size_t n, int eof, int late)
{
	static const uint64_t query[5] = {CMD_QUERY_VALID_PATHS, 0, 0, 0, CMD_NIXGATE_INFO};
	int todo;

	if (b->step == DRAIN) {
		if (late)
			b->step = DONE;
		return;
	}
	todo = answer_out(&b->a, bytes, n, eof, late, now_ms());
	if (todo & ANSWER_ASK)
		send_u64s(b->c.in, query, 5);
	if (todo & ANSWER_WAIT)
		b->deadline = now_ms() + STRAY_WAIT_MS;
	if (todo & ANSWER_END)
		end(b);
}

/* What the host wrote on stdout, into the answers so far. */
static void read_out(struct probe *b)
{
	unsigned char buf[READ_CHUNK];
	ssize_t k;

	if ((k = read(b->c.out, buf, sizeof buf)) < 0 && errno == EINTR)
		return;
	advance(b, buf, k > 0 ? (size_t)k : 0, k <= 0, 0);
}

/* What ssh wrote on stderr, kept for the cause of a failure. */
static void read_err(struct probe *b)
{
	char buf[READ_CHUNK];
	ssize_t k;

	if ((k = read(b->c.err, buf, sizeof buf)) < 0 && errno == EINTR)
		return;
	if (k > 0) {
		answer_err(&b->a, buf, (size_t)k, now_ms());
		return;
	}
	close(b->c.err);
	b->c.err = -1;
	if (b->step == DRAIN)
		b->step = DONE;
}

static int start(struct probe *b, struct ping *p, const struct store_uri *u, int flags)
{
	/* -v for the time ssh took to authenticate; kept connections carry
	 * the build log on stderr later, where only ssh's errors belong. A
	 * check leaves no ssh master behind (ControlPersist in the user's
	 * config): one that stays keeps the -v stderr open, and the check
	 * waited for it. */
	static const char *const verbose[] = {"-v", "-oConnectTimeout=10", "-oControlPersist=no", NULL};
	static const char *const quiet[] = {"-oLogLevel=ERROR", "-oConnectTimeout=10", NULL};
	static const uint64_t hello[2] = {SERVE_MAGIC_1, SERVE_VERSION};

	answer_init(&b->a, p, now_ms());
	b->keep = flags & PING_KEEP;
	b->deadline = b->a.t0 + PING_TIMEOUT_MS;
	if (ssh_start(&b->c, u, b->keep ? quiet : verbose, -1) < 0) {
		ping_set_cause(p, err_msg(), "see the cause");
		b->step = DONE;
		b->a.r = 1;
		return -1;
	}
	send_u64s(b->c.in, hello, 2);
	return 0;
}

/* ssh's exit status, and from it and its stderr the cause of a failure. */
static void finish(struct probe *b)
{
	if (b->step == KEPT) {
		b->a.p->conn = b->c;
		b->a.p->kept = 1;
	} else if (b->c.pid > 0)
		answer_cause(&b->a, ssh_finish(&b->c));
	answer_free(&b->a);
}

/* One round of poll over every host's stdout and stderr, then each step
 * whose deadline has passed. Returns how many checks are still going. */
static unsigned round_all(struct probe *b, unsigned n, struct pollfd *fds, unsigned *owner)
{
	double next = 1e300, t;
	unsigned i, nf = 0, going = 0;

	for (i = 0; i < n; i++) {
		if (b[i].step >= KEPT)
			continue;
		going++;
		if (b[i].deadline < next)
			next = b[i].deadline;
		if (b[i].c.out >= 0) {
			fds[nf] = (struct pollfd){.fd = b[i].c.out, .events = POLLIN};
			owner[nf++] = i;
		}
		if (b[i].c.err >= 0) {
			fds[nf] = (struct pollfd){.fd = b[i].c.err, .events = POLLIN};
			owner[nf++] = i;
		}
	}
	if (!going)
		return 0;
	t = next - now_ms();
	/* on a failure of poll itself only the deadlines move the checks on */
	if (poll(fds, nf, t > 0 ? (int)t + 1 : 0) < 0)
		nf = 0;
	for (i = 0; i < nf; i++) {
		struct probe *o = &b[owner[i]];

		/* an earlier descriptor's step may have closed this one */
		if (!fds[i].revents || o->step >= KEPT)
			continue;
		if (fds[i].fd == o->c.out)
			read_out(o);
		else if (fds[i].fd == o->c.err)
			read_err(o);
	}
	t = now_ms();
	for (i = 0; i < n; i++)
		if (b[i].step < KEPT && t >= b[i].deadline)
			advance(&b[i], NULL, 0, 0, 1);
	return going;
}

int ping_all(struct ping *const *p, const struct store_uri *const *u, unsigned n, int flags)
{
	return ping_all_while(p, u, n, flags, NULL, NULL);
}

int ping_all_while(struct ping *const *p, const struct store_uri *const *u, unsigned n, int flags,
		   void (*meanwhile)(void *), void *ctx)
{
	struct probe *b = calloc(n ? n : 1, sizeof *b);
	struct pollfd *fds = calloc(2 * n + 1, sizeof *fds);
	unsigned *owner = calloc(2 * n + 1, sizeof *owner), i;
	int r = 0;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++) {
		memset(p[i], 0, sizeof *p[i]);
		snprintf(p[i]->uri, sizeof p[i]->uri, "%s", u[i]->text);
		p[i]->ssh_ms = p[i]->handshake_ms = p[i]->query_ms = -1;
		if (!b || !fds || !owner)
			ping_set_cause(p[i], "out of memory", "see the cause");
	}
	if (!b || !fds || !owner) {
		r = fail(EXIT_SYSTEM, "out of memory for %u checks", n);
		n = 0;
	}
	/* every ssh started first: the checks take as long as the slowest */
	for (i = 0; i < n; i++)
		if (start(&b[i], p[i], u[i], flags) < 0)
			r = -1;
	if (meanwhile)
		meanwhile(ctx);
	while (round_all(b, n, fds, owner))
		;
	for (i = 0; i < n; i++)
		finish(&b[i]);
	free(b);
	free(fds);
	free(owner);
	return r;
}

int ping(struct ping *p, const struct store_uri *u)
{
	return ping_all(&p, &u, 1, 0);
}

void ping_close(struct ping *const *p, unsigned n)
{
	unsigned i;

	/* every session told it is over before any is waited for */
	for (i = 0; i < n; i++)
		if (p[i]->kept && p[i]->conn.in >= 0) {
			close(p[i]->conn.in);
			p[i]->conn.in = -1;
		}
	for (i = 0; i < n; i++)
		if (p[i]->kept) {
			ssh_finish(&p[i]->conn);
			p[i]->kept = 0;
		}
}

void ping_free(struct ping *p)
{
	unsigned i;

	for (i = 0; i < p->ninfo; i++)
		free(p->value[i]);
	p->ninfo = 0;
	ping_close(&p, 1);
}

const char *ping_info(const struct ping *p, const char *name)
{
	unsigned i;

	for (i = 0; i < p->ninfo; i++)
		if (!strcmp(p->name[i], name))
			return p->value[i];
	return NULL;
}

void json_str(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(o, "\\%c", ch);
		else if (ch < ' ')
			fprintf(o, "\\u%04x", ch);
		else
			fputc(ch, o);
	}
	fputc('"', o);
}

static void json_ms(FILE *o, const char *name, double v)
{
	if (v < 0)
		fprintf(o, ",\"%s\":null", name);
	else
		fprintf(o, ",\"%s\":%.1f", name, v);
}

void ping_json(FILE *o, const struct ping *p)
{
	unsigned i;

	fprintf(o, "{\"uri\":");
	json_str(o, p->uri);
	fprintf(o, ",\"usable\":%s", p->usable ? "true" : "false");
	if (!p->usable) {
		fprintf(o, ",\"cause\":");
		json_str(o, p->cause);
		fprintf(o, ",\"fix\":");
		json_str(o, p->fix);
	}
	json_ms(o, "ssh_ms", p->ssh_ms);
	json_ms(o, "handshake_ms", p->handshake_ms);
	json_ms(o, "query_ms", p->query_ms);
	if (p->usable) {
		fprintf(o, ",\"protocol\":\"2.%u\",\"server\":", p->minor);
		json_str(o, p->nixgate ? "nixgate-serve" : "nix-store");
		fprintf(o, ",\"policy\":");
		if (!p->nixgate)
			fprintf(o, "null");
		for (i = 0; i < p->ninfo; i++) {
			fprintf(o, "%s", i ? "," : "{");
			json_str(o, p->name[i]);
			fputc(':', o);
			json_str(o, p->value[i]);
		}
		if (p->ninfo)
			fputc('}', o);
	}
	fprintf(o, "}\n");
}

static void row(FILE *o, const char *name, const char *value)
{
	fprintf(o, "  %-20s %s\n", name, value);
}

void ping_print(FILE *o, const struct ping *p)
{
	static const char *const shown[] = {"key", "trusted", "allow", "systems", "features", "max-nar-size",
					    "max-build-time", "max-silent-time", "max-log-size", "substitute",
					    "trusted-public-keys", "max-jobs", "max-sessions", "host-max-jobs", "builds", "host-builds",
					    "load", "cores", "idle-timeout"};
	char t[PING_TEXT + 64];
	size_t i;

	fprintf(o, "%s\n", p->uri);
	if (!p->usable) {
		row(o, "usable", "no");
		row(o, "cause", p->cause);
		row(o, "fix", p->fix);
		return;
	}
	if (p->ssh_ms >= 0)
		snprintf(t, sizeof t, "yes: ssh %.0f ms, handshake %.0f ms, query %.1f ms", p->ssh_ms, p->handshake_ms,
			 p->query_ms);
	else
		snprintf(t, sizeof t, "yes: ssh and handshake %.0f ms, query %.1f ms", p->handshake_ms, p->query_ms);
	row(o, "usable", t);
	if (!p->nixgate) {
		snprintf(t, sizeof t, "nix-store --serve (no per-key policy), serve protocol 2.%u", p->minor);
		row(o, "server", t);
		return;
	}
	snprintf(t, sizeof t, "nixgate-serve %s, serve protocol 2.%u", ping_info(p, "version") ? ping_info(p, "version") : "?",
		 p->minor);
	row(o, "server", t);
	for (i = 0; i < sizeof shown / sizeof *shown; i++)
		if (ping_info(p, shown[i]))
			row(o, shown[i], ping_info(p, shown[i]));
}
