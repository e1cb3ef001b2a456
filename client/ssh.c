#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
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

int ssh_start(struct sshconn *c, const struct store_uri *u, const char *const *extra, int errfd)
{
	static char opts[4096], kh[128], cmd[HOST_MAX + 32];
	char *args[ARGS_MAX + 1], *t;
	int in[2], out[2], err[2], n = 0;
	const char *env = getenv("NIX_SSHOPTS");

	memset(c, 0, sizeof *c);
	c->pid = -1;
	if (u->hostkey[0] && pin(c, u) < 0)
		return -1;
	args[n++] = "ssh";
	args[n++] = (char *)u->host;
	args[n++] = "-x";
	args[n++] = "-a";
	snprintf(opts, sizeof opts, "%s", env ? env : "");
	for (t = strtok(opts, " \t\n"); t && n < ARGS_MAX - 12; t = strtok(NULL, " \t\n"))
		args[n++] = t;
	if (u->key[0]) {
		args[n++] = "-i";
		args[n++] = (char *)u->key;
	}
	if (c->known_hosts[0]) {
		snprintf(kh, sizeof kh, "-oUserKnownHostsFile=%s", c->known_hosts);
		args[n++] = kh;
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
