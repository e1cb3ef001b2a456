#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "ping.h"
#include "serveproto.h"

#define ERRTEXT_MAX 16384
#define HANDSHAKE_LEN 16      /* SERVE_MAGIC_2 and the host's version */
#define STRAY_MAX 136         /* bytes kept of output before the protocol */
#define STRAY_WAIT_MS 300     /* for the rest of such output */
#define DRAIN_MS 5000         /* for ssh's last words after the check */
/* The most a host can answer to the handshake, the query and NixgateInfo:
 * count, then every pair at its limits (both multiples of 8, so padded). */
#define ANSWER_MAX (HANDSHAKE_LEN + 8 + 8 + INFO_PAIRS_MAX * (8 + INFO_NAME_MAX + 8 + INFO_VALUE_MAX))

/* ssh's stderr, kept for finding the cause of a failure. */
struct errtext {
	char buf[ERRTEXT_MAX + 1];
	size_t len;
	double auth_ms;      /* when ssh said the key was accepted */
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000 + (double)t.tv_nsec / 1e6;
}

static void u64_put(unsigned char *b, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t u64_get(const unsigned char *b)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static int send_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int send_u64s(int fd, const uint64_t *v, size_t n)
{
	unsigned char b[64];
	size_t i;

	for (i = 0; i < n; i++)
		u64_put(b + 8 * i, v[i]);
	return send_all(fd, b, 8 * n);
}

static void take_err(struct errtext *e, const char *p, size_t n, double t0)
{
	size_t start = e->len;

	if (n > ERRTEXT_MAX - e->len)
		n = ERRTEXT_MAX - e->len;
	memcpy(e->buf + e->len, p, n);
	e->len += n;
	e->buf[e->len] = 0;
	/* "Authenticated to" from OpenSSH 8.9 on, "Authentication succeeded" before */
	if (e->auth_ms < 0 && (strstr(e->buf + (start > 40 ? start - 40 : 0), "Authenticated to ") ||
			       strstr(e->buf + (start > 40 ? start - 40 : 0), "Authentication succeeded")))
		e->auth_ms = now_ms() - t0;
}

static void set_cause(struct ping *p, const char *cause, const char *fix)
{
	snprintf(p->cause, sizeof p->cause, "%s", cause);
	snprintf(p->fix, sizeof p->fix, "%s", fix);
}

/* The last line of ssh's stderr that is not its -v chatter. */
static void last_line(const struct errtext *e, char *out, size_t max)
{
	const char *p = e->buf, *nl;

	out[0] = 0;
	while (*p) {
		size_t n;

		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n && n < 300 && strncmp(p, "debug", 5) && strncmp(p, "OpenSSH_", 8) &&
		    strncmp(p, "Transferred:", 12) && strncmp(p, "Bytes per second", 16) &&
		    !(n > 0 && p[n - 1] == '\r'))
			snprintf(out, max, "%.*s", (int)n, p);
		p = nl ? nl + 1 : p + n;
	}
}

static const struct { const char *needle, *cause, *fix; } ssh_causes[] = {
	{"Could not resolve hostname", "the host name does not resolve (DNS)", "check the name in the builder URI or ssh_config"},
	{"Connection refused", "the connection was refused: no sshd listens there", "start sshd on the host, or check the port in ssh_config"},
	{"Connection timed out", "the connection timed out", "check the network path and firewall to the host"},
	{"No route to host", "there is no route to the host", "check the network path to the host"},
	{"Network is unreachable", "the network is unreachable", "check the network path to the host"},
	{"UNPROTECTED PRIVATE KEY FILE", "the ssh key file is readable by others, so ssh ignores it", "chmod 600 the key file"},
	{"Host key verification failed", "the host key is unknown or has changed", "add the host's key to root's known_hosts (or the builder's host-key field)"},
	{"Permission denied", "the host refuses the key", "put the key's public half in the build user's authorized_keys, or check ssh-key= and NIX_SSHOPTS"},
	{"Too many authentication failures", "the host refuses the key", "give the builder its key (ssh-key=, IdentitiesOnly)"},
	{"no such identity", "the ssh key file cannot be read", "check the key path and that root can read it"},
};

static void ssh_cause(struct ping *p, const struct errtext *e, int status)
{
	char line[320], why[PING_TEXT];
	size_t i;

	for (i = 0; i < sizeof ssh_causes / sizeof *ssh_causes; i++)
		if (strstr(e->buf, ssh_causes[i].needle)) {
			set_cause(p, ssh_causes[i].cause, ssh_causes[i].fix);
			return;
		}
	last_line(e, line, sizeof line);
	if (status == 255)
		snprintf(why, sizeof why, "ssh failed: %s", line[0] ? line : "no message");
	else
		snprintf(why, sizeof why, "the remote command ended (status %d) without speaking the serve protocol%s%s",
			 status, line[0] ? ": " : "", line);
	set_cause(p, why, status == 255 ? "run ssh by hand with the same options to see more"
					 : "check the forced command in authorized_keys (nixgate-serve or nix-store --serve)");
}


/* The bytes a shell startup file printed where the magic should be. */
static void stray_output(struct ping *p, const unsigned char *b, size_t n)
{
	char shown[160], why[PING_TEXT];
	size_t i, j = 0;

	for (i = 0; i < n && j < sizeof shown - 1; i++) {
		/* the text ends where binary (the protocol's magic) begins */
		if (b[i] != '\n' && b[i] != '\t' && (b[i] < ' ' || b[i] >= 127))
			break;
		if (b[i] != '\n' && b[i] != '\t')
			shown[j++] = (char)b[i];
		else if (j && shown[j - 1] != ' ')
			shown[j++] = ' ';
	}
	while (j && shown[j - 1] == ' ')
		j--;
	shown[j] = 0;
	snprintf(why, sizeof why, "the remote side printed \"%s\" before the serve protocol", shown);
	set_cause(p, why, "remove output from the build user's shell startup files (.bashrc) or forced command");
}

/* One host's check under way. Every host is checked at once (the build
 * hook asks them all before each choice), so each is a step that moves on
 * as its bytes arrive, under one poll for all. */
enum step {
	HANDSHAKE,   /* hello sent, waiting for the host's */
	ANSWERS,     /* QueryValidPaths and NixgateInfo sent */
	STRAY,       /* output before the protocol: a little more of it, for the cause */
	DRAIN,       /* check over: ssh's stderr to its end, for the cause */
	KEPT,        /* check over, session left open (PING_KEEP) */
	DONE
};

struct probe {
	struct ping *p;
	struct sshconn c;
	struct errtext e;
	unsigned char *buf;          /* the host's answers so far */
	size_t len, cap, pos;        /* pos: how far they have been read */
	uint64_t npairs;             /* NixgateInfo's count, once read */
	int have_npairs, keep;
	double t0, sent, deadline;   /* started, query sent, this step's end (ms) */
	enum step step;
	int r;                       /* 1 answered (or cause set), 0 output closed early, -1 no answer in time */
};

/* A u64 at pos: 1, or 0 until it has arrived. */
static int take_u64(struct probe *b, uint64_t *v)
{
	if (b->len - b->pos < 8)
		return 0;
	*v = u64_get(b->buf + b->pos);
	b->pos += 8;
	return 1;
}

/* A string at pos, at most max bytes: 1, 0 until all of it has arrived, -1 longer. */
static int take_str(struct probe *b, char *dst, size_t max)
{
	uint64_t n;

	if (b->len - b->pos < 8)
		return 0;
	if ((n = u64_get(b->buf + b->pos)) > max)
		return -1;
	if (b->len - b->pos - 8 < (n + 7) / 8 * 8)
		return 0;
	memcpy(dst, b->buf + b->pos + 8, n);
	dst[n] = 0;
	b->pos += 8 + (n + 7) / 8 * 8;
	return 1;
}

/* The answers to QueryValidPaths (the empty set) and NixgateInfo, as far
 * as they have come: 1 both, 0 not yet, -1 not what a host answers. */
static int answers(struct probe *b)
{
	static char val[INFO_VALUE_MAX + 1];
	struct ping *p = b->p;
	uint64_t v;
	size_t at;
	int r;

	if (!p->usable) {
		if (!take_u64(b, &v))
			return 0;
		if (v != 0)
			return -1;
		p->query_ms = now_ms() - b->sent;
		p->usable = 1;
	}
	if (!b->have_npairs) {
		if (!take_u64(b, &b->npairs))
			return 0;
		if (b->npairs > INFO_PAIRS_MAX)
			return -1;
		b->have_npairs = 1;
	}
	while (p->ninfo < b->npairs) {
		at = b->pos;
		if ((r = take_str(b, p->name[p->ninfo], INFO_NAME_MAX)) != 1 || (r = take_str(b, val, INFO_VALUE_MAX)) != 1) {
			b->pos = at;
			return r;
		}
		if (!(p->value[p->ninfo] = strdup(val)))
			return -1;
		p->ninfo++;
	}
	p->nixgate = 1;
	return 1;
}

/* The check is over (r as in struct probe). A nixgate host that answered
 * just what was asked stays connected when the caller wants to keep it;
 * otherwise ssh is told the session is over and its stderr read to the end. */
static void end(struct probe *b, int r)
{
	b->r = r;
	if (b->keep && b->p->nixgate && b->pos == b->len) {
		b->step = KEPT;
		return;
	}
	/* a host that did not answer in time need not be waited for either
	 * (its cause is known); the others see the end of their input */
	if (r < 0)
		kill(b->c.pid, SIGTERM);
	close(b->c.in);
	close(b->c.out);
	b->c.in = b->c.out = -1;
	b->step = b->c.err >= 0 ? DRAIN : DONE;
	b->deadline = now_ms() + DRAIN_MS;
}

/* The serve handshake has come: QueryValidPaths of nothing, to see the
 * host answer a request, and NixgateInfo with it (one round trip for both;
 * nix-store ends the session at the second, which is an answer too). */
static void handshake_done(struct probe *b)
{
	uint64_t q[5] = {CMD_QUERY_VALID_PATHS, 0, 0, 0, CMD_NIXGATE_INFO}, v = u64_get(b->buf + 8);
	struct ping *p = b->p;
	char why[PING_TEXT];

	p->handshake_ms = now_ms() - b->t0;
	p->ssh_ms = b->e.auth_ms;
	if (b->e.auth_ms >= 0)
		p->handshake_ms -= b->e.auth_ms;
	p->minor = (unsigned)(v & 0xff);
	b->pos = HANDSHAKE_LEN;
	if ((v & 0xff00) != 0x200) {
		snprintf(why, sizeof why, "the host speaks serve protocol %u.%u, not 2.x", (unsigned)(v >> 8 & 0xff), p->minor);
		set_cause(p, why, "use nix-store --serve or nixgate-serve as the forced command");
		end(b, 1);
		return;
	}
	b->sent = now_ms();
	b->step = ANSWERS;
	send_u64s(b->c.in, q, 5);
}

/* The step after new bytes, the end of the host's output (eof) or the
 * step's deadline (late). */
static void advance(struct probe *b, int eof, int late)
{
	unsigned char magic2[8];
	int r;

	u64_put(magic2, SERVE_MAGIC_2);

	if (b->step == HANDSHAKE && b->len && memcmp(b->buf, magic2, b->len < 8 ? b->len : 8)) {
		b->step = STRAY;
		b->deadline = now_ms() + STRAY_WAIT_MS;
	}
	if (b->step == HANDSHAKE) {
		if (b->len >= HANDSHAKE_LEN)
			handshake_done(b);
		else if (eof || late)
			end(b, eof ? 0 : -1);
		if (b->step != ANSWERS)
			return;
	}
	if (b->step == STRAY && (eof || late || b->len >= STRAY_MAX)) {
		stray_output(b->p, b->buf, b->len);
		end(b, 1);
	} else if (b->step == ANSWERS && ((r = answers(b)) != 0 || eof || late)) {
		if (!b->p->usable)
			set_cause(b->p, "the host answered the handshake but not a query",
				  "see the host's nix-daemon and the forced command's errors");
		else if (r != 1)
			ping_free(b->p);   /* nix-store, or NixgateInfo cut short: no policy */
		end(b, 1);
	} else if (b->step == DRAIN && late)
		b->step = DONE;
}

/* What the host wrote on stdout, into the answers so far. */
static void read_out(struct probe *b)
{
	unsigned char *n;
	ssize_t k;

	if (b->len == b->cap) {
		if (b->cap == ANSWER_MAX) {
			/* more than any answer to what was asked */
			advance(b, 0, 1);
			return;
		}
		b->cap = b->cap ? (2 * b->cap < ANSWER_MAX ? 2 * b->cap : ANSWER_MAX) : 4096;
		if (!(n = realloc(b->buf, b->cap))) {
			b->cap = b->len;
			advance(b, 0, 1);
			return;
		}
		b->buf = n;
	}
	if ((k = read(b->c.out, b->buf + b->len, b->cap - b->len)) < 0 && errno == EINTR)
		return;
	if (k > 0)
		b->len += (size_t)k;
	advance(b, k <= 0, 0);
}

/* What ssh wrote on stderr, kept for the cause of a failure. */
static void read_err(struct probe *b)
{
	char buf[4096];
	ssize_t k;

	if ((k = read(b->c.err, buf, sizeof buf)) < 0 && errno == EINTR)
		return;
	if (k > 0) {
		take_err(&b->e, buf, (size_t)k, b->t0);
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
	 * the build log on stderr later, where only ssh's errors belong */
	static const char *const verbose[] = {"-v", "-oConnectTimeout=10", NULL};
	static const char *const quiet[] = {"-oLogLevel=ERROR", "-oConnectTimeout=10", NULL};
	uint64_t hello[2] = {SERVE_MAGIC_1, SERVE_VERSION};

	b->p = p;
	b->keep = flags & PING_KEEP;
	b->e.auth_ms = -1;
	b->t0 = now_ms();
	b->deadline = b->t0 + PING_TIMEOUT_MS;
	if (ssh_start(&b->c, u, b->keep ? quiet : verbose, -1) < 0) {
		set_cause(p, err_msg(), "see the cause");
		b->step = DONE;
		b->r = 1;
		return -1;
	}
	send_u64s(b->c.in, hello, 2);
	return 0;
}

/* ssh's exit status, and from it and its stderr the cause of a failure. */
static void finish(struct probe *b)
{
	int st;

	if (b->step == KEPT) {
		b->p->conn = b->c;
		b->p->kept = 1;
	} else if (b->c.pid > 0) {
		st = ssh_finish(&b->c);
		if (b->r == 0)
			ssh_cause(b->p, &b->e, st);
		else if (b->r < 0)
			set_cause(b->p, "no answer within 30 s", "check that the host is up and its sshd responds");
	}
	free(b->buf);
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
			advance(&b[i], 0, 1);
	return going;
}

int ping_all(struct ping *const *p, const struct store_uri *const *u, unsigned n, int flags)
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
			set_cause(p[i], "out of memory", "see the cause");
	}
	if (!b || !fds || !owner) {
		r = fail(EXIT_SYSTEM, "out of memory for %u checks", n);
		n = 0;
	}
	/* every ssh started first: the checks take as long as the slowest */
	for (i = 0; i < n; i++)
		if (start(&b[i], p[i], u[i], flags) < 0)
			r = -1;
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
					    "trusted-public-keys", "max-jobs", "host-max-jobs", "builds", "host-builds",
					    "load", "cores"};
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
