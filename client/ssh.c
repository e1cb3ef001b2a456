#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "sha256.h"
#include "ssh.h"

#define ARGS_MAX 64

/* One query parameter's value into dst; 0, or -1 when too long. */
static int param(const char *q, const char *name, char *dst, size_t max)
{
	size_t n = strlen(name), len;
	const char *p = q, *end;

	while (p && *p) {
		end = strchr(p, '&');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len > n && !strncmp(p, name, n) && p[n] == '=') {
			if (len - n - 1 > max)
				return -1;
			memcpy(dst, p + n + 1, len - n - 1);
			dst[len - n - 1] = 0;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

int uri_parse(struct store_uri *u, const char *s)
{
	const char *h = s, *q;
	size_t n;

	memset(u, 0, sizeof *u);
	if (strstr(s, "://")) {
		if (strncmp(s, "ssh://", 6))
			return fail(EXIT_REFUSED, "'%s': only ssh:// stores are checked (ssh-ng:// and others are not)", s);
		h = s + 6;
	}
	q = strchr(h, '?');
	n = q ? (size_t)(q - h) : strlen(h);
	if (n == 0 || n > HOST_MAX || h[0] == '-' || memchr(h, '/', n) || strlen(s) + 6 > URI_MAX)
		return fail(EXIT_REFUSED, "'%s' is not a host name or ssh:// store URI", s);
	memcpy(u->host, h, n);
	snprintf(u->text, sizeof u->text, "%s%s", h == s ? "ssh://" : "", s);
	strcpy(u->program, "nix-store");
	if (q && (param(q + 1, "ssh-key", u->key, sizeof u->key - 1) < 0 ||
		  param(q + 1, "remote-program", u->program, HOST_MAX) < 0 ||
		  param(q + 1, "base64-ssh-public-host-key", u->hostkey, HOSTKEY_MAX) < 0))
		return fail(EXIT_REFUSED, "'%s': a parameter is too long", s);
	return 0;
}

/* A pinned host key (base64 of a known_hosts key line) into a temporary
 * known_hosts file, as Nix does. */
static int pin(struct sshconn *c, const struct store_uri *u)
{
	char line[HOSTKEY_MAX + HOST_MAX + 4];
	const char *at = strrchr(u->host, '@');
	size_t n;
	int fd;

	strcpy(c->known_hosts, "/tmp/nixgate-hostkey.XXXXXX");
	if (sodium_base642bin((unsigned char *)line, sizeof line - HOST_MAX - 3, u->hostkey, strlen(u->hostkey), NULL,
			      &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return fail(EXIT_REFUSED, "the pinned host key of %s is not base64", u->text);
	if ((fd = mkstemp(c->known_hosts)) < 0)
		return fail_sys("a temporary known_hosts file");
	dprintf(fd, "%s %.*s\n", at ? at + 1 : u->host, (int)n, line);
	close(fd);
	return 0;
}

/* ssh HOST -x -a [NIX_SSHOPTS] [-i KEY]: what every ssh of a URI starts
 * with, and what ssh -G is asked about. opts holds the tokens. */
static int base_args(char **args, char *opts, size_t max, const struct store_uri *u)
{
	const char *env = getenv("NIX_SSHOPTS");
	char *t;
	int n = 0;

	args[n++] = "ssh";
	args[n++] = (char *)u->host;
	args[n++] = "-x";
	args[n++] = "-a";
	snprintf(opts, max, "%s", env ? env : "");
	for (t = strtok(opts, " \t\n"); t && n < ARGS_MAX - 16; t = strtok(NULL, " \t\n"))
		args[n++] = t;
	if (u->key[0]) {
		args[n++] = "-i";
		args[n++] = (char *)u->key;
	}
	return n;
}

/* Warm connections (ssh_warm): the hook's own control master per builder,
 * so that a build after the first pays no key exchange. */
static struct {
	int on;
	unsigned persist;
	char dir[WARM_DIR_MAX + 1];
} warm;

/* What ssh -G said of a URI, once per process (it costs a few ms). */
static struct {
	unsigned char id[32];           /* the URI, its key and host key */
	char path[WARM_DIR_MAX + 40];   /* the control path but the group, or "": not warmed */
	int alive;                      /* no ServerAliveInterval of the user's */
} seen[WARM_HOSTS];
static unsigned nseen;

int ssh_warm(const char *dir, unsigned persist)
{
	struct stat st;

	warm.on = 0;
	if (!persist)
		return 0;
	if (strlen(dir) > WARM_DIR_MAX)
		return fail(EXIT_SYSTEM, "%s is too long a directory for ssh control sockets", dir);
	/* ssh would expand '%' and '~' in a ControlPath, and split it at blanks */
	if (dir[0] != '/' || strpbrk(dir, "%~ \t\n\"'\\"))
		return fail(EXIT_SYSTEM, "%s: a directory for ssh control sockets is an absolute path without "
			    "'%%', '~', blanks or quotes", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail_sys("%s", dir);
	/* whoever can reach a control socket runs commands as this key */
	if (lstat(dir, &st) < 0)
		return fail_sys("%s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return fail(EXIT_SYSTEM, "%s is not a directory that only uid %u can enter", dir, (unsigned)geteuid());
	snprintf(warm.dir, sizeof warm.dir, "%s", dir);
	warm.persist = persist > WARM_SECONDS_MAX ? WARM_SECONDS_MAX : persist;
	warm.on = 1;
	return 0;
}

int ssh_warm_env(void)
{
	const char *s = getenv("NIXGATE_WARM_SECONDS"), *d = getenv("NIXGATE_WARM_DIR"), *x;
	char dir[WARM_DIR_MAX + 2];
	unsigned long n = WARM_SECONDS_DEFAULT;
	char *end;

	if (s && *s) {
		errno = 0;
		n = strtoul(s, &end, 10);
		if (errno || *end || n > WARM_SECONDS_MAX)
			return fail(EXIT_SYSTEM, "NIXGATE_WARM_SECONDS=%s is not a number of seconds up to %u", s,
				    WARM_SECONDS_MAX);
	}
	if (d && *d)
		snprintf(dir, sizeof dir, "%s", d);
	else if (geteuid() == 0)
		snprintf(dir, sizeof dir, "/run/nixgate");
	else if ((x = getenv("XDG_RUNTIME_DIR")) && *x)
		snprintf(dir, sizeof dir, "%s/nixgate", x);
	else
		return 0;
	return ssh_warm(dir, (unsigned)n);
}

/* The value of a keyword in ssh -G's output, or NULL. */
static const char *g_value(const char *out, const char *key, size_t *len)
{
	size_t k = strlen(key);
	const char *p = out, *nl;

	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		if (!strncmp(p, key, k) && p[k] == ' ') {
			*len = (size_t)(nl - p - k - 1);
			return p + k + 1;
		}
	}
	return NULL;
}

static int g_is(const char *out, const char *key, const char *want)
{
	size_t n;
	const char *v = g_value(out, key, &n);

	return v && n == strlen(want) && !strncmp(v, want, n);
}

/* ssh -G for u started, its output to come on *fd: its pid, or -1. */
static pid_t g_start(const struct store_uri *u, int *fd)
{
	static char opts[4096];
	char *args[ARGS_MAX + 1];
	int p[2], n;
	pid_t pid;

	n = base_args(args, opts, sizeof opts, u);
	args[n++] = "-G";
	args[n] = NULL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(p[1], 1);
		dup2(null, 2);
		execvp("ssh", args);
		_exit(127);
	}
	close(p[1]);
	*fd = p[0];
	return pid;
}

/* What it said, into out: 0, or -1 when ssh said no or too much. */
static int g_finish(pid_t pid, int fd, char *out, size_t max)
{
	size_t got = 0;
	ssize_t k;
	int st;

	while (got < max - 1 && ((k = read(fd, out + got, max - 1 - got)) > 0 || (k < 0 && errno == EINTR)))
		got += k > 0 ? (size_t)k : 0;
	out[got] = 0;
	close(fd);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return got < max - 1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* The entry of u in seen, made (its path "") when new: its index, or -1
 * when the table is full; *fresh says it was made. */
static int seen_at(const struct store_uri *u, int *fresh)
{
	unsigned char id[32];
	struct sha256 s;
	unsigned at;

	/* machine entries give the key apart from the URI's text */
	sha256_init(&s);
	sha256_update(&s, u->text, strlen(u->text) + 1);
	sha256_update(&s, u->key, strlen(u->key) + 1);
	sha256_update(&s, u->hostkey, strlen(u->hostkey));
	sha256_final(&s, id);
	*fresh = 0;
	for (at = 0; at < nseen; at++)
		if (!memcmp(seen[at].id, id, sizeof id))
			return (int)at;
	if (nseen == WARM_HOSTS)
		return -1;
	*fresh = 1;
	memcpy(seen[nseen].id, id, sizeof id);
	seen[nseen].path[0] = 0;
	return (int)nseen++;
}

/* Which control master, if any, ssh -G's answer (out) for u allows. None
 * when the user's config has its own (that one then works as it always
 * did) or when it would log to the build log (a master keeps a debug
 * stderr open for its life). The path is a hash of the whole effective
 * config and the pinned host key: two entries for one host with another
 * key, user or option never share a master, which would run one's builds
 * under the other's key. */
/* The link under the warm directory that remembers, across hook runs, the
 * control path ssh -G last gave u (its name hashes what ssh was asked
 * with), so that a run can tell a warm master without asking ssh first. */
static void known_name(char *name, size_t max, const struct store_uri *u, const char *kind)
{
	const char *env = getenv("NIX_SSHOPTS");
	unsigned char h[32];
	struct sha256 s;
	size_t i, n;

	sha256_init(&s);
	sha256_update(&s, u->text, strlen(u->text) + 1);
	sha256_update(&s, u->key, strlen(u->key) + 1);
	sha256_update(&s, u->hostkey, strlen(u->hostkey) + 1);
	sha256_update(&s, env ? env : "", env ? strlen(env) : 0);
	sha256_final(&s, h);
	n = (size_t)snprintf(name, max, "%s/%s", warm.dir, kind);
	for (i = 0; i < 16 && n < max; i++)
		n += (size_t)snprintf(name + n, max - n, "%02x", h[i]);
}

static void known_set(const struct store_uri *u, const char *path)
{
	char name[WARM_DIR_MAX + 40], tmp[WARM_DIR_MAX + 60];

	known_name(name, sizeof name, u, "g-");
	if (!path) {
		unlink(name);
		return;
	}
	snprintf(tmp, sizeof tmp, "%s.%d", name, (int)getpid());
	unlink(tmp);
	if (symlink(strrchr(path, '/') + 1, tmp) < 0 || rename(tmp, name) < 0)
		unlink(tmp);
}

int ssh_warm_ready(const struct store_uri *u)
{
	char name[WARM_DIR_MAX + 40], to[40], sock[WARM_DIR_MAX + 128];
	struct stat st;
	ssize_t n;

	if (!warm.on || u->group >= WARM_GROUPS)
		return 0;
	known_name(name, sizeof name, u, "l-");
	if (lstat(name, &st) == 0)
		return 0;
	known_name(name, sizeof name, u, "g-");
	if ((n = readlink(name, to, sizeof to - 1)) != 32)
		return 0;
	to[n] = 0;
	snprintf(sock, sizeof sock, "%s/%s-%u", warm.dir, to, u->group);
	return lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == geteuid();
}

void ssh_warm_limited(const struct store_uri *u, int limited)
{
	char name[WARM_DIR_MAX + 40];

	if (!warm.on)
		return;
	known_name(name, sizeof name, u, "l-");
	if (!limited)
		unlink(name);
	else if (symlink("limited", name) < 0 && errno != EEXIST)
		return;
}

static void seen_set(unsigned at, const struct store_uri *u, const char *out)
{
	unsigned char h[32];
	struct sha256 s;
	const char *lv;
	size_t i, n;

	/* ssh -G leaves out a ControlPath that is not set */
	if (!g_is(out, "controlmaster", "false") || (g_value(out, "controlpath", &n) && !g_is(out, "controlpath", "none")) ||
	    !(lv = g_value(out, "loglevel", &n)) || !strncmp(lv, "DEBUG", 5)) {
		known_set(u, NULL);
		return;
	}
	seen[at].alive = g_is(out, "serveraliveinterval", "0");
	sha256_init(&s);
	sha256_update(&s, out, strlen(out));
	sha256_update(&s, "", 1);
	sha256_update(&s, u->hostkey, strlen(u->hostkey));
	sha256_final(&s, h);
	n = (size_t)snprintf(seen[at].path, sizeof seen[at].path, "%s/", warm.dir);
	for (i = 0; i < 16; i++)
		n += (size_t)snprintf(seen[at].path + n, sizeof seen[at].path - n, "%02x", h[i]);
	known_set(u, seen[at].path);
}

void ssh_warm_prepare(const struct store_uri *const *u, unsigned n)
{
	static char out[WARM_G_MAX];
	const struct store_uri *asked[WARM_HOSTS];
	pid_t pid[WARM_HOSTS];
	int fd[WARM_HOSTS], at[WARM_HOSTS], fresh;
	unsigned i, k = 0;

	/* all at once: a choice among many builders waits for one ssh -G */
	for (i = 0; warm.on && i < n && k < WARM_HOSTS; i++)
		if ((at[k] = seen_at(u[i], &fresh)) >= 0 && fresh && (pid[k] = g_start(u[i], &fd[k])) > 0)
			asked[k++] = u[i];
	for (i = 0; i < k; i++)
		if (g_finish(pid[i], fd[i], out, sizeof out) == 0)
			seen_set((unsigned)at[i], asked[i], out);
}

static const char *warm_path(const struct store_uri *u, int *alive)
{
	int at, fresh;

	ssh_warm_prepare(&u, 1);
	if ((at = seen_at(u, &fresh)) < 0)
		return NULL;
	*alive = seen[at].alive;
	return seen[at].path[0] ? seen[at].path : NULL;
}

int ssh_start(struct sshconn *c, const struct store_uri *u, const char *const *extra, int errfd)
{
	static char opts[4096], kh[128], cmd[HOST_MAX + 32], cpath[WARM_DIR_MAX + 64], persist[48];
	char *args[ARGS_MAX + 1];
	const char *wp = NULL;
	int in[2], out[2], err[2], n, alive = 0;

	memset(c, 0, sizeof *c);
	c->pid = -1;
	if (u->hostkey[0] && pin(c, u) < 0)
		return -1;
	if (warm.on && u->group < WARM_GROUPS)
		wp = warm_path(u, &alive);
	n = base_args(args, opts, sizeof opts, u);
	if (c->known_hosts[0]) {
		snprintf(kh, sizeof kh, "-oUserKnownHostsFile=%s", c->known_hosts);
		args[n++] = kh;
	}
	if (wp) {
		args[n++] = "-oControlMaster=auto";
		snprintf(cpath, sizeof cpath, "-oControlPath=%s-%u", wp, u->group);
		args[n++] = cpath;
		snprintf(persist, sizeof persist, "-oControlPersist=%u", warm.persist);
		args[n++] = persist;
		/* a master that lost its host goes within 30 s, not with TCP's hours */
		if (alive)
			args[n++] = "-oServerAliveInterval=10";
	}
	while (extra && *extra && n < ARGS_MAX - 3)
		args[n++] = (char *)*extra++;
	snprintf(cmd, sizeof cmd, "%s --serve --write", u->program);
	args[n++] = "--";
	args[n++] = cmd;
	args[n] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return fail_sys("pipe");
	if (errfd >= 0)
		err[0] = -1, err[1] = errfd;
	else if (pipe2(err, O_CLOEXEC) < 0)
		return fail_sys("pipe");
	if ((c->pid = fork()) < 0)
		return fail_sys("fork");
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execvp("ssh", args);
		dprintf(2, "nixgate: cannot run ssh: %s\n", strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (errfd < 0)
		close(err[1]);
	c->in = in[1];
	c->out = out[0];
	c->err = err[0];
	return 0;
}

int ssh_finish(struct sshconn *c)
{
	int st;

	if (c->in >= 0)
		close(c->in);
	if (c->out >= 0)
		close(c->out);
	if (c->err >= 0)
		close(c->err);
	c->in = c->out = c->err = -1;
	if (c->known_hosts[0])
		unlink(c->known_hosts);
	if (c->pid <= 0 || waitpid(c->pid, &st, 0) < 0)
		return -1;
	c->pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
