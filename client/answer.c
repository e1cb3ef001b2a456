#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "serveproto.h"
#include "wire.h"

/* The first buffer for the host's answers; it doubles up to ANSWER_MAX. */
#define ANSWER_FIRST 4096
/* How far back of new stderr text a success line may have begun. */
#define AUTH_OVERLAP 40
/* The longest line of ssh's stderr shown as a cause. */
#define LINE_MAX_SHOWN 300

void answer_init(struct answer *a, struct ping *p, double t0)
{
	memset(a, 0, sizeof *a);
	a->p = p;
	a->step = ANSWER_HANDSHAKE;
	a->e.auth_ms = -1;
	a->t0 = t0;
}

void answer_free(struct answer *a)
{
	free(a->buf);
	a->buf = NULL;
	a->len = a->cap = a->pos = 0;
}

void answer_err(struct answer *a, const char *p, size_t n, double now)
{
	struct errtext *e = &a->e;
	size_t start = e->len;
	const char *from;

	if (n > ERRTEXT_MAX - e->len)
		n = ERRTEXT_MAX - e->len;
	memcpy(e->buf + e->len, p, n);
	e->len += n;
	e->buf[e->len] = 0;
	from = e->buf + (start > AUTH_OVERLAP ? start - AUTH_OVERLAP : 0);
	/* "Authenticated to" from OpenSSH 8.9 on, "Authentication succeeded" before */
	if (e->auth_ms < 0 && (strstr(from, "Authenticated to ") || strstr(from, "Authentication succeeded")))
		e->auth_ms = now - a->t0;
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
		if (n && n < LINE_MAX_SHOWN && strncmp(p, "debug", 5) && strncmp(p, "OpenSSH_", 8) &&
		    strncmp(p, "Transferred:", 12) && strncmp(p, "Bytes per second", 16) && p[n - 1] != '\r')
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

void answer_cause(struct answer *a, int status)
{
	char line[LINE_MAX_SHOWN + 20], why[PING_TEXT];
	size_t i;

	if (a->r < 0) {
		ping_set_cause(a->p, "no answer within 30 s", "check that the host is up and its sshd responds");
		return;
	}
	if (a->r > 0)
		return;
	for (i = 0; i < sizeof ssh_causes / sizeof *ssh_causes; i++)
		if (strstr(a->e.buf, ssh_causes[i].needle)) {
			ping_set_cause(a->p, ssh_causes[i].cause, ssh_causes[i].fix);
			return;
		}
	last_line(&a->e, line, sizeof line);
	if (status == 255)
		snprintf(why, sizeof why, "ssh failed: %s", line[0] ? line : "no message");
	else
		snprintf(why, sizeof why, "the remote command ended (status %d) without speaking the serve protocol%s%s",
			 status, line[0] ? ": " : "", line);
	ping_set_cause(a->p, why, status == 255 ? "run ssh by hand with the same options to see more"
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
	ping_set_cause(p, why, "remove output from the build user's shell startup files (.bashrc) or forced command");
}

/* A u64 at pos: 1, or 0 until it has arrived. */
static int take_u64(struct answer *a, uint64_t *v)
{
	if (a->len - a->pos < 8)
		return 0;
	*v = le64_get(a->buf + a->pos);
	a->pos += 8;
	return 1;
}

/* A string at pos, at most max bytes: 1, 0 until all of it has arrived, -1 longer. */
static int take_str(struct answer *a, char *dst, size_t max)
{
	uint64_t n;

	if (a->len - a->pos < 8)
		return 0;
	if ((n = le64_get(a->buf + a->pos)) > max)
		return -1;
	if (a->len - a->pos - 8 < (n + 7) / 8 * 8)
		return 0;
	memcpy(dst, a->buf + a->pos + 8, n);
	dst[n] = 0;
	a->pos += 8 + (n + 7) / 8 * 8;
	return 1;
}

/* The answers to QueryValidPaths (the empty set) and NixgateInfo, as far
 * as they have come: 1 both, 0 not yet, -1 not what a host answers. */
static int answers(struct answer *a, double now)
{
	static char val[INFO_VALUE_MAX + 1];
	struct ping *p = a->p;
	uint64_t v;
	size_t at;
	int r;

	if (!p->usable) {
		if (!take_u64(a, &v))
			return 0;
		if (v != 0)
			return -1;
		p->query_ms = now - a->sent;
		p->usable = 1;
	}
	if (!a->have_npairs) {
		if (!take_u64(a, &a->npairs))
			return 0;
		if (a->npairs > INFO_PAIRS_MAX)
			return -1;
		a->have_npairs = 1;
	}
	while (p->ninfo < a->npairs) {
		at = a->pos;
		if ((r = take_str(a, p->name[p->ninfo], INFO_NAME_MAX)) != 1 || (r = take_str(a, val, INFO_VALUE_MAX)) != 1) {
			a->pos = at;
			return r;
		}
		if (!(p->value[p->ninfo] = strdup(val)))
			return -1;
		p->ninfo++;
	}
	p->nixgate = 1;
	return 1;
}

static int over(struct answer *a, int r)
{
	a->r = r;
	a->step = ANSWER_OVER;
	return ANSWER_END;
}

/* The serve handshake has come: the query is next, QueryValidPaths of
 * nothing, to see the host answer a request, and NixgateInfo with it (one
 * round trip for both; nix-store ends the session at the second, which is
 * an answer too). */
static int handshake(struct answer *a, double now)
{
	uint64_t v = le64_get(a->buf + 8);
	struct ping *p = a->p;
	char why[PING_TEXT];

	p->handshake_ms = now - a->t0;
	p->ssh_ms = a->e.auth_ms;
	if (a->e.auth_ms >= 0)
		p->handshake_ms -= a->e.auth_ms;
	p->minor = (unsigned)(v & 0xff);
	a->pos = HANDSHAKE_LEN;
	if ((v & 0xff00) != 0x200) {
		snprintf(why, sizeof why, "the host speaks serve protocol %u.%u, not 2.x", (unsigned)(v >> 8 & 0xff), p->minor);
		ping_set_cause(p, why, "use nix-store --serve or nixgate-serve as the forced command");
		return over(a, 1);
	}
	a->sent = now;
	a->step = ANSWER_ANSWERS;
	return ANSWER_ASK;
}

/* The step after new bytes, the end of the output (eof) or the step's
 * deadline (late). */
static int advance(struct answer *a, int eof, int late, double now)
{
	unsigned char magic2[8];
	int todo = 0, r = 0;

	le64_put(magic2, SERVE_MAGIC_2);
	if (a->step == ANSWER_HANDSHAKE && a->len && memcmp(a->buf, magic2, a->len < 8 ? a->len : 8)) {
		a->step = ANSWER_STRAY;
		todo |= ANSWER_WAIT;
	}
	if (a->step == ANSWER_HANDSHAKE) {
		if (a->len >= HANDSHAKE_LEN)
			todo |= handshake(a, now);
		else if (eof || late)
			todo |= over(a, eof ? 0 : -1);
		if (a->step != ANSWER_ANSWERS)
			return todo;
	}
	if (a->step == ANSWER_STRAY && (eof || late || a->len >= STRAY_MAX)) {
		stray_output(a->p, a->buf, a->len);
		todo |= over(a, 1);
	} else if (a->step == ANSWER_ANSWERS && ((r = answers(a, now)) != 0 || eof || late)) {
		if (!a->p->usable)
			ping_set_cause(a->p, "the host answered the handshake but not a query",
				       "see the host's nix-daemon and the forced command's errors");
		else if (r != 1)
			ping_free(a->p);   /* nix-store, or NixgateInfo cut short: no policy */
		todo |= over(a, 1);
	}
	return todo;
}

/* Room for n more bytes, or as many as there can be: how many fit. */
static size_t room(struct answer *a, size_t n)
{
	size_t cap = a->cap;
	unsigned char *b;

	while (cap - a->len < n && cap < ANSWER_MAX)
		cap = cap ? (2 * cap < ANSWER_MAX ? 2 * cap : ANSWER_MAX) : ANSWER_FIRST;
	if (cap != a->cap) {
		if (!(b = realloc(a->buf, cap)))
			return 0;
		a->buf = b;
		a->cap = cap;
	}
	return a->cap - a->len < n ? a->cap - a->len : n;
}

int answer_out(struct answer *a, const unsigned char *b, size_t n, int eof, int late, double now)
{
	size_t k;
	int todo;

	if (a->step == ANSWER_OVER)
		return 0;
	k = room(a, n);
	if (k)
		memcpy(a->buf + a->len, b, k);
	a->len += k;
	todo = advance(a, eof, late, now);
	/* more than any answer to what was asked, or no memory to keep it:
	 * the host has had its say */
	if (k < n && a->step != ANSWER_OVER)
		todo |= advance(a, 0, 1, now);
	return todo;
}
