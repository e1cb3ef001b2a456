/* Why run the daemon's own Nix rather than read nix.conf: what a Nix version
 * makes of its configuration (defaults set after the files are read,
 * NIX_CONFIG, the user's files) is only known to that version, and the
 * daemon keeps no copy of its settings it would tell a client. The same
 * program with the same environment computes the same settings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemonhook.h"
#include "err.h"
#include "worker.h"

/* The daemon's environment, its nix.conf and what show-config prints: all
 * far below these in practice. */
#define ENVIRON_MAX (256u << 10)
#define ENV_VARS_MAX 4096
#define CONF_MAX (1u << 20)
#define SHOW_CONFIG_MAX (1u << 20)
#define SHOW_CONFIG_MS 20000
#define DAEMON_HELLO_MS 10000
/* sockets looked at per process: systemd's are many */
#define SOCKETS_MAX 16384

static void unknown(struct daemon_hook *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void unknown(struct daemon_hook *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->why, sizeof h->why, fmt, ap);
	va_end(ap);
	h->known = 0;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int daemon_hook_setting(const char *text, size_t len, const char *name, char *out, size_t cap)
{
	const char *p = text, *end = text + len;
	size_t nl = strlen(name);
	int found = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q, *v, *ve;

		if (!eol)
			eol = end;
		/* nix.conf comments run from '#' to the end of the line */
		ve = memchr(p, '#', (size_t)(eol - p));
		if (!ve)
			ve = eol;
		for (q = p; q < ve && blank(*q); q++)
			;
		if ((size_t)(ve - q) > nl && !memcmp(q, name, nl) && (blank(q[nl]) || q[nl] == '=')) {
			for (q += nl; q < ve && blank(*q); q++)
				;
			if (q < ve && *q == '=') {
				for (v = q + 1; v < ve && blank(*v); v++)
					;
				while (ve > v && blank(ve[-1]))
					ve--;
				if ((size_t)(ve - v) >= cap)
					return -1;
				memcpy(out, v, (size_t)(ve - v));
				out[ve - v] = 0;
				found = 1;
			}
		}
		p = eol + 1;
	}
	return found;
}

int daemon_hook_is_nixgate(const char *value)
{
	size_t k = strcspn(value, " \t");
	const char *b = value, *s;

	for (s = value; s < value + k; s++)
		if (*s == '/')
			b = s + 1;
	/* as main() decides: by the name it runs under, or the command word */
	if ((size_t)(value + k - b) == strlen("nixgate-build-hook") && !memcmp(b, "nixgate-build-hook", value + k - b))
		return 1;
	if ((size_t)(value + k - b) != strlen("nixgate") || memcmp(b, "nixgate", value + k - b))
		return 0;
	s = value + k + strspn(value + k, " \t");
	return !strncmp(s, "build-hook", 10) && (!s[10] || s[10] == ' ' || s[10] == '\t');
}

/* The first n bytes of a file (up to cap - 1, NUL after), or -1. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (got < cap - 1 && (r = read(fd, buf + got, cap - 1 - got)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	buf[got] = 0;
	return (ssize_t)got;
}

/* Whether pid was started as nix-daemon (argv[0]; its exe is often nix). */
static int is_daemon(pid_t pid)
{
	char path[64], arg0[PATH_MAX];
	const char *b;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	if (slurp(path, arg0, sizeof arg0) <= 0)
		return 0;
	b = strrchr(arg0, '/') ? strrchr(arg0, '/') + 1 : arg0;
	return !strcmp(b, "nix-daemon");
}

static pid_t parent_of(pid_t pid)
{
	char path[64], st[1024], *p;
	int ppid;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (slurp(path, st, sizeof st) <= 0 || !(p = strrchr(st, ')')) || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/* The sockets pid holds open (their inodes), up to max: how many. */
static size_t sockets_of(pid_t pid, unsigned long *ino, size_t max)
{
	char path[64], link[64];
	DIR *d;
	struct dirent *e;
	size_t n = 0;
	ssize_t k;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	if (!(d = opendir(path)))
		return 0;
	while ((e = readdir(d)) && n < max) {
		snprintf(path, sizeof path, "/proc/%d/fd/%.16s", (int)pid, e->d_name);
		if ((k = readlink(path, link, sizeof link - 1)) > 0) {
			link[k] = 0;
			if (sscanf(link, "socket:[%lu]", &ino[n]) == 1)
				n++;
		}
	}
	closedir(d);
	return n;
}

/* The daemon serving the connection fd: the process that listens on the
 * socket is its peer, unless the socket came from systemd (socket
 * activation), whose peer is systemd; then the nix-daemon that holds one
 * of the peer's sockets, the one handed to it. (Not by mount namespace:
 * the daemon may have one of its own, to remount the store writable.) */
static pid_t daemon_pid(int fd, struct daemon_hook *h)
{
	static unsigned long held[SOCKETS_MAX], mine[SOCKETS_MAX];
	struct ucred c;
	socklen_t l = sizeof c;
	DIR *d;
	struct dirent *e;
	size_t nheld, nmine, i, j;
	pid_t found = 0;
	int n = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &l) < 0 || c.pid <= 0) {
		unknown(h, "the daemon socket names no process (SO_PEERCRED): %s", strerror(errno));
		return 0;
	}
	if (is_daemon(c.pid))
		return c.pid;
	nheld = sockets_of(c.pid, held, SOCKETS_MAX);
	if (!(d = opendir("/proc"))) {
		unknown(h, "cannot read /proc: %s", strerror(errno));
		return 0;
	}
	while ((e = readdir(d))) {
		pid_t p = (pid_t)atoi(e->d_name);
		int shares = 0;

		if (p <= 0 || !is_daemon(p) || is_daemon(parent_of(p)))
			continue;
		nmine = sockets_of(p, mine, SOCKETS_MAX);
		for (i = 0; i < nmine && !shares; i++)
			for (j = 0; j < nheld && !shares; j++)
				shares = mine[i] == held[j];
		if (shares) {
			found = p;
			n++;
		}
	}
	closedir(d);
	if (n != 1)
		unknown(h, "%s nix-daemon process holds the socket that process %d listens on", n ? "more than one" : "no",
			(int)c.pid);
	return n == 1 ? found : 0;
}

/* The daemon's environment, split in place into envp. */
static int daemon_env(pid_t pid, char *buf, size_t cap, char **envp, size_t max)
{
	char path[64];
	ssize_t n;
	size_t i = 0, k = 0;

	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	if ((n = slurp(path, buf, cap)) < 0)
		return -1;
	if ((size_t)n == cap - 1)
		return -1;
	while (i < (size_t)n && k < max - 1) {
		envp[k++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	envp[k] = NULL;
	return i < (size_t)n ? -1 : 0;
}

static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* `nix show-config` (every version from 2.4 has it; `nix config show`
 * came later) of the daemon's program with its environment, into out. */
static int show_config(const char *exe, char **envp, char *out, size_t cap, struct daemon_hook *h)
{
	char *argv[] = {"nix", "--extra-experimental-features", "nix-command", "show-config", NULL};
	int p[2], st, dead = 0;
	size_t got = 0;
	uint64_t until = now_ms() + SHOW_CONFIG_MS;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return unknown(h, "pipe: %s", strerror(errno)), -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return unknown(h, "fork: %s", strerror(errno)), -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(p[1], 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		execve(exe, argv, envp);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pf = {p[0], POLLIN, 0};
		uint64_t t = now_ms();
		ssize_t r;

		if (t >= until || got == cap - 1) {
			dead = 1;
			break;
		}
		if (poll(&pf, 1, (int)(until - t)) < 0 && errno != EINTR)
			break;
		if (!pf.revents)
			continue;
		r = read(p[0], out + got, cap - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(p[0]);
	if (dead)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return unknown(h, "waiting for %s show-config: %s", exe, strerror(errno)), -1;
	out[got] = 0;
	if (dead)
		return unknown(h, "%s show-config %s", exe, got == cap - 1 ? "printed too much" : "took too long"), -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return unknown(h, "%s show-config failed (%s %d)", exe, WIFEXITED(st) ? "exit" : "signal",
			       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st)), -1;
	return 0;
}

void daemon_hook_look(struct daemon_hook *h)
{
	static struct worker d;
	static char env[ENVIRON_MAX], text[SHOW_CONFIG_MAX > CONF_MAX ? SHOW_CONFIG_MAX : CONF_MAX];
	static char *envp[ENV_VARS_MAX];
	const char *sock = getenv("NIX_DAEMON_SOCKET_PATH"), *v;
	char path[64], exe[PATH_MAX];
	struct stat a, b;
	ssize_t n;
	pid_t pid;
	int r;

	memset(h, 0, sizeof *h);
	sock = sock && *sock ? sock : DEFAULT_DAEMON_SOCKET;
	d.logfd = -1;
	d.fd = -1;
	if (worker_connect(&d, sock) < 0 || (worker_timeout(&d, DAEMON_HELLO_MS), worker_handshake(&d)) < 0) {
		unknown(h, "%s", err_msg());
		err_clear();
		if (d.fd >= 0)
			close(d.fd);
		return;
	}
	h->answered = 1;
	snprintf(h->version, sizeof h->version, "%s", d.version);
	/* the connection stays open while the daemon is looked for: a
	 * socket-activated one is running then */
	pid = daemon_pid(d.fd, h);
	if (pid <= 0)
		goto out;
	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	if ((n = readlink(path, exe, sizeof exe - 1)) < 0) {
		unknown(h, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	exe[n] = 0;
	/* its program under that name must be the one it runs, in this root */
	if (stat(path, &a) < 0 || stat(exe, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		unknown(h, "the nix-daemon's program %s is not the one it runs (replaced since it started, or in another root)",
			exe);
		goto out;
	}
	if (daemon_env(pid, env, sizeof env, envp, ENV_VARS_MAX) < 0) {
		unknown(h, "cannot read the nix-daemon's environment (/proc/%d/environ)", (int)pid);
		goto out;
	}
	if (show_config(exe, envp, text, sizeof text, h) < 0)
		goto out;
	if ((r = daemon_hook_setting(text, strlen(text), "build-hook", h->effective, sizeof h->effective)) <= 0) {
		unknown(h, "%s show-config printed %s build-hook", exe, r ? "too long a" : "no");
		goto out;
	}
	/* without NIX_CONF_DIR, Nix reads /etc/nix: its sysconfdir in every
	 * distribution's build */
	v = env_get(envp, "NIX_CONF_DIR");
	snprintf(h->conf, sizeof h->conf, "%s/nix.conf", v && *v ? v : "/etc/nix");
	if ((n = slurp(h->conf, text, CONF_MAX)) >= 0 && (size_t)n < CONF_MAX - 1 &&
	    daemon_hook_setting(text, (size_t)n, "build-hook", h->configured, sizeof h->configured) < 0)
		h->configured[0] = 0;
	if ((v = env_get(envp, "NIX_CONFIG")) &&
	    daemon_hook_setting(v, strlen(v), "build-hook", h->env_hook, sizeof h->env_hook) < 0)
		h->env_hook[0] = 0;
	h->nixgate = daemon_hook_is_nixgate(h->effective);
	h->conf_nixgate = h->configured[0] && daemon_hook_is_nixgate(h->configured);
	h->known = 1;
out:
	close(d.fd);
}
