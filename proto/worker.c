#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "worker.h"

/* Result types whose first field is a line of a builder's log. */
#define RES_BUILD_LOG_LINE 101
#define RES_POST_BUILD_LOG_LINE 107

int worker_connect(struct worker *d, const char *path)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path)
		return fail(EXIT_SYSTEM, "daemon socket path '%s' is too long", path);
	strcpy(sa.sun_path, path);
	d->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->fd < 0)
		return fail_sys("socket");
	if (connect(d->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return fail_sys("cannot connect to the nix-daemon at %s", path);
	/* non-blocking after the connect, so that every wait has a deadline */
	if (fcntl(d->fd, F_SETFL, fcntl(d->fd, F_GETFL) | O_NONBLOCK) < 0)
		return fail_sys("fcntl on the daemon socket");
	worker_init_fd(d, d->fd);
	return 0;
}

void worker_init_fd(struct worker *d, int fd)
{
	d->fd = fd;
	rd_init_fd(&d->r, fd, d->rbuf, sizeof d->rbuf, EXIT_SYSTEM, "nix-daemon");
	wr_init_fd(&d->w, fd, d->wbuf, sizeof d->wbuf, "nix-daemon");
	worker_timeout(d, WORKER_TIMEOUT_MS);
	d->build_grace_ms = WORKER_BUILD_GRACE_MS;
}

void worker_timeout(struct worker *d, uint64_t ms)
{
	d->r.dl.idle_ms = d->w.dl.idle_ms = ms;
	d->r.dl.what = d->w.dl.what = "daemon timeout";
}

int worker_trust_read(struct rd *r, int *trust)
{
	uint64_t v;

	if (rd_u64(r, &v) < 0)
		return -1;
	if (v > TRUST_NO)
		return fail(r->kind, "%s sent %llu for its trust (0, 1 or 2 expected)", r->who, (unsigned long long)v);
	*trust = (int)v;
	return 0;
}

int worker_features_read(struct rd *r)
{
	char f[WORKER_FEATURE_MAX + 1];
	uint64_t n, i;

	if (rd_count(r, &n, WORKER_FEATURES_MAX, "protocol features") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (rd_str(r, f, WORKER_FEATURE_MAX, NULL, "protocol feature") < 0)
			return -1;
	return 0;
}

int worker_hello_read(struct rd *r, unsigned minor, char *version, size_t cap, int *trust)
{
	version[0] = 0;
	*trust = TRUST_UNKNOWN;
	if (minor >= 33 && rd_str_trunc(r, version, cap, DAEMON_VERSION_MAX, NULL, "version") < 0)
		return -1;
	if (minor >= 35 && worker_trust_read(r, trust) < 0)
		return -1;
	return 0;
}

int worker_handshake(struct worker *d)
{
	uint64_t magic, v;
	int r, trust;

	if (wr_u64(&d->w, WORKER_MAGIC_1) < 0 || wr_flush(&d->w) < 0 || rd_u64(&d->r, &magic) < 0)
		return -1;
	if (magic != WORKER_MAGIC_2)
		return fail(EXIT_SYSTEM, "nix-daemon protocol mismatch (magic %#llx)", (unsigned long long)magic);
	if (rd_u64(&d->r, &v) < 0)
		return -1;
	if ((v & 0xff00) != 0x100 || (v & 0xff) < WORKER_MIN_MINOR)
		return fail(EXIT_SYSTEM, "nix-daemon speaks protocol %llu.%llu; need 1.%d or newer",
			    (unsigned long long)(v >> 8), (unsigned long long)(v & 0xff), WORKER_MIN_MINOR);
	d->minor = (unsigned)(v & 0xff);
	if (d->minor > (WORKER_VERSION & 0xff))
		d->minor = WORKER_VERSION & 0xff;
	/* version, from 1.38 the features offered (none), cpu affinity (none),
	 * reserve space (no): the daemon reads them in this order, and sends
	 * its features only once it has read nixgate's */
	if (wr_u64(&d->w, WORKER_VERSION) < 0 || (d->minor >= 38 && wr_u64(&d->w, 0) < 0) ||
	    wr_u64(&d->w, 0) < 0 || wr_u64(&d->w, 0) < 0 || wr_flush(&d->w) < 0)
		return -1;
	if (d->minor >= 38 && worker_features_read(&d->r) < 0)
		return -1;
	if (worker_hello_read(&d->r, d->minor, d->version, sizeof d->version, &trust) < 0)
		return -1;
	r = worker_wait(d, NULL, NULL);
	if (r == -2)
		return fail(EXIT_SYSTEM, "nix-daemon refused the connection: %s", d->errmsg);
	return r;
}

/* As much of s as the log descriptor takes without waiting; the rest is
 * dropped and counted. Logs are best effort: a closed stderr must not end
 * a build either. */
static void emit(struct worker *d, const char *s, size_t n)
{
	size_t n0 = n;
	ssize_t k;

	while (n > 0) {
		k = write(d->logfd, s, n);
		if (k > 0) {
			s += k;
			n -= (size_t)k;
		} else if (k < 0 && errno == EINTR)
			continue;
		else
			break;
	}
	if (n) {
		d->log_dropped += n;
		if (n < n0)
			d->log_cut = 1;
	}
}

/* Dropping (rather than ending the session) keeps an honest client that
 * stops reading its stderr for a while (a slow link, a paused terminal)
 * getting its build result; the build itself stays bounded by
 * max-build-time and max-silent-time, which the daemon enforces since it
 * is never blocked on the log. */
static int show(struct worker *d, const char *s, size_t n)
{
	char note[256];
	ssize_t k;
	int len;

	if (n && d->logfn) {
		d->logfn(d->logctx, s, n);
		return 0;
	}
	if (d->logfd < 0 || n == 0)
		return 0;
	if (d->log_dropped) {
		/* shorter than PIPE_BUF: a pipe takes it whole or not at all */
		len = snprintf(note, sizeof note, "%s%s: %llu bytes of log dropped while the client did not read them\n",
			       d->log_cut ? "\n" : "", d->logtag ? d->logtag : "nixgate",
			       (unsigned long long)d->log_dropped);
		do
			k = write(d->logfd, note, (size_t)len);
		while (k < 0 && errno == EINTR);
		if (k <= 0) {
			d->log_dropped += n + (s[n - 1] != '\n');
			return 0;
		}
		d->log_dropped = 0;
		d->log_cut = 0;
	}
	emit(d, s, n);
	if (s[n - 1] != '\n')
		emit(d, "\n", 1);
	return 0;
}

/* The moment nixgate's clock ends the oldest build running: 0 for none. */
static uint64_t build_until(const struct worker *d)
{
	uint64_t t = UINT64_MAX;
	unsigned i;

	if (!d->build_ms || !d->nbuilds)
		return 0;
	for (i = 0; i < d->nbuilds; i++)
		if (d->builds[i].t0 < t)
			t = d->builds[i].t0;
	return t + d->build_ms + d->build_grace_ms;
}

static void build_started(struct worker *d, uint64_t act, uint64_t type)
{
	if (type != ACT_BUILD || !d->build_ms || d->nbuilds == WORKER_BUILDS_MAX)
		return;
	d->builds[d->nbuilds].id = act;
	d->builds[d->nbuilds++].t0 = mono_ms();
}

static void build_stopped(struct worker *d, uint64_t act)
{
	unsigned i;

	for (i = 0; i < d->nbuilds; i++)
		if (d->builds[i].id == act) {
			d->builds[i] = d->builds[--d->nbuilds];
			return;
		}
}

/* count, then per field: type 0 (u64) or 1 (string). The first string is
 * kept in text; the others are only read past. */
static int fields(struct worker *d, char *text, size_t cap)
{
	char other[64];
	uint64_t n, i, t, v;
	int kept = 0;

	text[0] = 0;
	if (rd_count(&d->r, &n, WORKER_FIELDS_MAX, "log fields") < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (rd_u64(&d->r, &t) < 0)
			return -1;
		if (t == 0) {
			if (rd_u64(&d->r, &v) < 0)
				return -1;
		} else if (t == 1) {
			if (rd_str_trunc(&d->r, kept ? other : text, kept ? sizeof other : cap,
					 WORKER_STR_MAX, NULL, "log field") < 0)
				return -1;
			kept = 1;
		} else
			return fail(EXIT_SYSTEM, "nix-daemon sent a log field of unknown type %llu",
				    (unsigned long long)t);
	}
	return 0;
}

static int read_error_raw(struct worker *d);

/* A daemon error as one line: its colour codes dropped and its line breaks
 * (hash mismatches span three lines) folded into spaces. */
static void oneline(char *s)
{
	char *o = s, *p = s;

	while (*p) {
		if (*p == '\033' && p[1] == '[') {
			for (p += 2; *p && !(*p >= '@' && *p <= '~'); p++)
				;
			if (*p)
				p++;
		} else if (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ') {
			while (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ')
				p++;
			if (o > s && *p)
				*o++ = ' ';
		} else
			*o++ = *p++;
	}
	*o = 0;
}

static int read_error(struct worker *d)
{
	int r = read_error_raw(d);

	if (r == -2)
		oneline(d->errmsg);
	return r;
}

static int read_error_raw(struct worker *d)
{
	uint64_t level, pos, n, i, status;
	char skip[64];

	if (d->minor < 26)
		return rd_str_trunc(&d->r, d->errmsg, sizeof d->errmsg, WORKER_STR_MAX, NULL, "error") < 0 ||
			       rd_u64(&d->r, &status) < 0 ? -1 : -2;
	/* "Error", level, name (unused), message, position (0), traces */
	if (rd_str_trunc(&d->r, skip, sizeof skip, 4096, NULL, "error type") < 0 ||
	    rd_u64(&d->r, &level) < 0 ||
	    rd_str_trunc(&d->r, skip, sizeof skip, 4096, NULL, "error name") < 0 ||
	    rd_str_trunc(&d->r, d->errmsg, sizeof d->errmsg, WORKER_STR_MAX, NULL, "error") < 0 ||
	    rd_u64(&d->r, &pos) < 0 || rd_count(&d->r, &n, 4096, "error traces") < 0)
		return -1;
	if (pos != 0)
		return fail(EXIT_SYSTEM, "nix-daemon sent an error position this client does not read");
	for (i = 0; i < n; i++) {
		char t[256];

		if (rd_u64(&d->r, &pos) < 0 || pos != 0 ||
		    rd_str_trunc(&d->r, t, sizeof t, WORKER_STR_MAX, NULL, "error trace") < 0)
			return err_kind() ? -1 : fail(EXIT_SYSTEM, "nix-daemon sent an error trace position");
	}
	return -2;
}

static int serve_read(struct worker *d, worker_src src, void *ctx)
{
	static unsigned char buf[WIRE_BUFSZ];
	uint64_t want;
	size_t got = 0;

	if (rd_u64(&d->r, &want) < 0)
		return -1;
	if (!src)
		return fail(EXIT_SYSTEM, "nix-daemon asked for data it was not offered");
	if (want > sizeof buf)
		want = sizeof buf;
	if (src(ctx, buf, (size_t)want, &got) < 0)
		return -1;
	if (wr_str(&d->w, buf, got) < 0 || wr_flush(&d->w) < 0)
		return -1;
	return 0;
}

/* A look at the client's output about once a second while the daemon
 * keeps sending (a build's log): the reader's own wait sees a hang-up
 * only when it has to wait. */
static int client_gone(struct worker *d)
{
	uint64_t now;

	if (d->r.dl.hup_fd <= 0 || (now = mono_ms()) - d->client_checked < 1000)
		return 0;
	d->client_checked = now;
	return fd_hung_up(d->r.dl.hup_fd, 0);
}

static int wait_loop(struct worker *d, worker_src src, void *ctx)
{
	char text[WORKER_TEXT_KEEP];
	uint64_t msg, act, lvl, type, parent, len;

	if (wr_flush(&d->w) < 0)
		return -1;
	for (;;) {
		/* checked here too: a daemon that never pauses never makes the
		 * reader wait, where the deadline is otherwise checked */
		d->r.dl.until_ms = build_until(d);
		if (d->r.dl.until_ms && mono_ms() >= d->r.dl.until_ms) {
			d->r.timed_out = 1;
			return fail(EXIT_SYSTEM, "nix-daemon's build passed its time");
		}
		if (client_gone(d))
			return fail(EXIT_REFUSED, "the client went away while waiting for nix-daemon");
		if (rd_u64(&d->r, &msg) < 0)
			return -1;
		switch (msg) {
		case STDERR_LAST:
			return 0;
		case STDERR_ERROR:
			return read_error(d);
		case STDERR_NEXT:
			if (rd_str_trunc(&d->r, text, sizeof text, WORKER_STR_MAX, &len, "log line") < 0)
				return -1;
			show(d, text, strlen(text));
			break;
		case STDERR_START_ACTIVITY:
			if (rd_u64(&d->r, &act) < 0 || rd_u64(&d->r, &lvl) < 0 || rd_u64(&d->r, &type) < 0 ||
			    rd_str_trunc(&d->r, text, sizeof text, WORKER_STR_MAX, NULL, "activity") < 0 ||
			    fields(d, text, sizeof text) < 0 || rd_u64(&d->r, &parent) < 0)
				return -1;
			build_started(d, act, type);
			break;
		case STDERR_STOP_ACTIVITY:
			if (rd_u64(&d->r, &act) < 0)
				return -1;
			build_stopped(d, act);
			break;
		case STDERR_RESULT:
			if (rd_u64(&d->r, &act) < 0 || rd_u64(&d->r, &type) < 0 ||
			    fields(d, text, sizeof text) < 0)
				return -1;
			if (type == RES_BUILD_LOG_LINE || type == RES_POST_BUILD_LOG_LINE)
				show(d, text, strlen(text));
			break;
		case STDERR_READ:
			if (serve_read(d, src, ctx) < 0)
				return -1;
			break;
		case STDERR_WRITE:
			if (rd_str_trunc(&d->r, text, sizeof text, WORKER_STR_MAX, NULL, "data") < 0)
				return -1;
			break;
		default:
			return fail(EXIT_SYSTEM, "nix-daemon sent an unknown message %#llx",
				    (unsigned long long)msg);
		}
	}
}

int worker_wait(struct worker *d, worker_src src, void *ctx)
{
	struct timespec t0, t1;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	d->r.timed_out = d->w.timed_out = 0;
	r = wait_loop(d, src, ctx);
	d->r.dl.until_ms = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	d->round_trips++;
	d->wait_us += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
	return r;
}

int worker_build_wait(struct worker *d, uint64_t timeout_s)
{
	struct deadline saved = d->r.dl;
	int r;

	/* past 2^40 s a client's timeout is none in practice, and its
	 * milliseconds could wrap */
	d->build_ms = timeout_s < (1ull << 40) ? timeout_s * 1000 : 0;
	d->nbuilds = 0;
	d->build_late = 0;
	d->r.dl.idle_ms = 0;
	d->r.dl.hup_fd = d->client_fd;
	d->client_checked = 0;
	r = worker_wait(d, NULL, NULL);
	d->r.dl = saved;
	if (r == -1 && d->r.timed_out && d->build_ms) {
		/* The daemon's worker kills its builds when its client hangs up
		 * (MonitorFdHup, Nix 2.8 to the newest): a shut-down socket is
		 * that hang-up, and the session cannot go on after it. */
		shutdown(d->fd, SHUT_RDWR);
		d->build_late = 1;
		err_clear();
		r = fail(EXIT_REFUSED, "build timed out after %llu s (max-build-time, ended by nixgate)",
			 (unsigned long long)timeout_s);
	}
	d->build_ms = 0;
	d->nbuilds = 0;
	return r;
}

static int setting(struct wr *w, const char *name, uint64_t v)
{
	char s[32];

	snprintf(s, sizeof s, "%llu", (unsigned long long)v);
	return wr_cstr(w, name) < 0 || wr_cstr(w, s) < 0 ? -1 : 0;
}

int worker_set_options(struct worker *d, const struct build_opts *o)
{
	struct wr *w = &d->w;
	int r;

	/* Setting names are Nix's canonical ones (2.3 to the newest): an unknown
	 * name is only a warning in the daemon's log, and the cap would be lost.
	 * keepFailed, keepGoing, tryFallback, verbosity (error: the daemon then
	 * sends build output), maxBuildJobs, maxSilentTime, useBuildHook,
	 * verboseBuild level, logType, printBuildTrace, buildCores, useSubstitutes */
	if (wr_u64(w, WOP_SET_OPTIONS) < 0 || wr_u64(w, 0) < 0 || wr_u64(w, 0) < 0 || wr_u64(w, 0) < 0 ||
	    wr_u64(w, 0) < 0 || wr_u64(w, o->max_jobs) < 0 || wr_u64(w, o->max_silent_time) < 0 ||
	    wr_u64(w, 1) < 0 || wr_u64(w, 0) < 0 || wr_u64(w, 0) < 0 || wr_u64(w, 0) < 0 ||
	    wr_u64(w, 0) < 0 || wr_u64(w, (uint64_t)o->use_substitutes) < 0)
		return -1;
	if (wr_u64(w, 2) < 0 || setting(w, "timeout", o->build_timeout) < 0 ||
	    setting(w, "max-build-log-size", o->max_log_size) < 0)
		return -1;
	r = worker_wait(d, NULL, NULL);
	if (r == -2)
		return fail(EXIT_SYSTEM, "nix-daemon refused build options: %s", d->errmsg);
	return r;
}
