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

/* Exactly n bytes from the remote's stdout, stderr drained meanwhile:
 * n read, 0 at end of file before n, -1 at the deadline. */
static int recv_n(struct sshconn *c, struct errtext *e, unsigned char *p, size_t n, size_t *got, double t0,
		  double deadline)
{
	struct pollfd fds[2];
	char buf[4096];
	ssize_t k;

	*got = 0;
	while (*got < n) {
		int left = (int)(deadline - now_ms());

		if (left <= 0)
			return -1;
		fds[0].fd = c->out;
		fds[0].events = POLLIN;
		fds[1].fd = c->err;
		fds[1].events = POLLIN;
		if (poll(fds, c->err >= 0 ? 2 : 1, left) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (c->err >= 0 && fds[1].revents) {
			if ((k = read(c->err, buf, sizeof buf)) > 0)
				take_err(e, buf, (size_t)k, t0);
			else {
				close(c->err);
				c->err = -1;
			}
		}
		if (fds[0].revents) {
			if ((k = read(c->out, p + *got, n - *got)) <= 0)
				return 0;
			*got += (size_t)k;
		}
	}
	return 1;
}

static int recv_u64(struct sshconn *c, struct errtext *e, uint64_t *v, double t0, double deadline)
{
	unsigned char b[8];
	size_t got;
	int r = recv_n(c, e, b, 8, &got, t0, deadline), i;

	if (r != 1)
		return r;
	for (*v = 0, i = 7; i >= 0; i--)
		*v = *v << 8 | b[i];
	return 1;
}

static int recv_str(struct sshconn *c, struct errtext *e, char *dst, size_t max, double t0, double deadline)
{
	unsigned char pad[8];
	uint64_t n;
	size_t got;
	int r;

	if ((r = recv_u64(c, e, &n, t0, deadline)) != 1)
		return r;
	if (n > max)
		return -1;
	if ((r = recv_n(c, e, (unsigned char *)dst, (size_t)n, &got, t0, deadline)) != 1)
		return r;
	dst[n] = 0;
	if ((n % 8) && (r = recv_n(c, e, pad, 8 - n % 8, &got, t0, deadline)) != 1)
		return r;
	return 1;
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

static int info_read(struct ping *p, struct sshconn *c, struct errtext *e, double t0, double deadline)
{
	static char val[INFO_VALUE_MAX + 1];
	uint64_t n, i;
	int r;

	if ((r = recv_u64(c, e, &n, t0, deadline)) != 1)
		return r;
	if (n > INFO_PAIRS_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		if ((r = recv_str(c, e, p->name[i], INFO_NAME_MAX, t0, deadline)) != 1 ||
		    (r = recv_str(c, e, val, INFO_VALUE_MAX, t0, deadline)) != 1)
			return r;
		if (!(p->value[i] = strdup(val)))
			return -1;
		p->ninfo++;
	}
	return 1;
}

/* The bytes a shell startup file printed where the magic should be. */
static void stray_output(struct ping *p, struct sshconn *c, struct errtext *e, const unsigned char *first,
			 size_t nfirst, double t0)
{
	unsigned char more[120];
	char shown[160], why[PING_TEXT];
	size_t got = 0, i, j = 0;

	if (nfirst == 16)
		recv_n(c, e, more, sizeof more, &got, t0, now_ms() + 300);
	for (i = 0; i < nfirst + got && j < sizeof shown - 1; i++) {
		unsigned char ch = i < nfirst ? first[i] : more[i - nfirst];

		/* the text ends where binary (the protocol's magic) begins */
		if (ch != '\n' && ch != '\t' && (ch < ' ' || ch >= 127))
			break;
		if (ch != '\n' && ch != '\t')
			shown[j++] = (char)ch;
		else if (j && shown[j - 1] != ' ')
			shown[j++] = ' ';
	}
	while (j && shown[j - 1] == ' ')
		j--;
	shown[j] = 0;
	snprintf(why, sizeof why, "the remote side printed \"%s\" before the serve protocol", shown);
	set_cause(p, why, "remove output from the build user's shell startup files (.bashrc) or forced command");
}

/* The rest of ssh's stderr, until ssh closes it or 5 s pass. */
static void drain(struct sshconn *c, struct errtext *e, double t0)
{
	double deadline = now_ms() + 5000;
	struct pollfd f;
	char buf[4096];
	ssize_t k;

	while (c->err >= 0 && now_ms() < deadline) {
		f.fd = c->err;
		f.events = POLLIN;
		if (poll(&f, 1, (int)(deadline - now_ms()) + 1) <= 0)
			break;
		if ((k = read(c->err, buf, sizeof buf)) <= 0)
			break;
		take_err(e, buf, (size_t)k, t0);
	}
}

int ping(struct ping *p, const struct store_uri *u)
{
	static const char *const extra[] = {"-v", "-oConnectTimeout=10", NULL};
	static struct errtext e;
	unsigned char hs[16];
	struct sshconn c;
	double t0, deadline;
	uint64_t hello[2] = {SERVE_MAGIC_1, SERVE_VERSION}, q[4] = {CMD_QUERY_VALID_PATHS, 0, 0, 0}, v;
	uint64_t info = CMD_NIXGATE_INFO;
	unsigned char magic2[8];
	size_t got;
	int r, st;

	memset(p, 0, sizeof *p);
	snprintf(p->uri, sizeof p->uri, "%s", u->text);
	p->ssh_ms = p->handshake_ms = p->query_ms = -1;
	memset(&e, 0, sizeof e);
	e.auth_ms = -1;
	signal(SIGPIPE, SIG_IGN);
	u64_put(magic2, SERVE_MAGIC_2);
	t0 = now_ms();
	deadline = t0 + PING_TIMEOUT_MS;
	if (ssh_start(&c, u, extra, -1) < 0)
		return -1;
	send_u64s(c.in, hello, 2);
	r = recv_n(&c, &e, hs, 16, &got, t0, deadline);
	if (got > 0 && memcmp(hs, magic2, got < 8 ? got : 8)) {
		stray_output(p, &c, &e, hs, got, t0);
		r = 2;
	} else if (r == 1) {
		p->handshake_ms = now_ms() - t0;
		p->ssh_ms = e.auth_ms;
		if (e.auth_ms >= 0)
			p->handshake_ms -= e.auth_ms;
		p->minor = hs[8];
		t0 = now_ms();
		if (send_u64s(c.in, q, 4) == 0 && recv_u64(&c, &e, &v, t0, deadline) == 1 && v == 0) {
			p->query_ms = now_ms() - t0;
			p->usable = 1;
			/* nix-store ends the session here: that is the answer too */
			if (send_u64s(c.in, &info, 1) == 0 && info_read(p, &c, &e, t0, deadline) == 1)
				p->nixgate = 1;
		} else
			set_cause(p, "the host answered the handshake but not a query", "see the host's nix-daemon and the forced command's errors");
	}
	close(c.in);
	c.in = -1;
	drain(&c, &e, t0);
	st = ssh_finish(&c);
	if (r == 0)
		ssh_cause(p, &e, st);
	else if (r < 0)
		set_cause(p, "no answer within 30 s", "check that the host is up and its sshd responds");
	return 0;
}

void ping_free(struct ping *p)
{
	unsigned i;

	for (i = 0; i < p->ninfo; i++)
		free(p->value[i]);
	p->ninfo = 0;
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
