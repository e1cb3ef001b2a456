#include <string.h>

#include "cmd.h"
#include "err.h"

static int plain(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("/._=:+,@%-", c));
}

/* Words separated by spaces; a word may be single-quoted as Nix's
 * shellEscape writes it. Any other shell syntax is refused. */
static int split(const char *s, size_t len, char words[CMD_WORDS_MAX][CMD_MAX + 1], int *n)
{
	size_t i = 0, k;

	*n = 0;
	while (i < len) {
		if (s[i] == ' ' || s[i] == '\t') {
			i++;
			continue;
		}
		if (*n == CMD_WORDS_MAX)
			return fail(EXIT_REFUSED, "command has more than %d words", CMD_WORDS_MAX);
		k = 0;
		while (i < len && s[i] != ' ' && s[i] != '\t') {
			if (s[i] == '\'') {
				for (i++; i < len && s[i] != '\''; i++)
					words[*n][k++] = s[i];
				if (i == len)
					return fail(EXIT_REFUSED, "command has an unterminated quote");
				i++;
			} else if (plain((unsigned char)s[i]))
				words[*n][k++] = s[i++];
			else
				return fail(EXIT_REFUSED, "command contains the shell character '%c' (0x%02x)",
					    s[i] > 32 && s[i] < 127 ? s[i] : '?', (unsigned char)s[i]);
		}
		words[*n][k] = 0;
		(*n)++;
	}
	return 0;
}

static int is_prog(const char *w, const char *name)
{
	const char *b = strrchr(w, '/');

	return !strcmp(b ? b + 1 : w, name);
}

/* --store daemon or --store auto (a remote-store parameter): the daemon is
 * the store nixgate always uses. */
static int store_arg(char w[][CMD_MAX + 1], int n, int *i)
{
	if (strcmp(w[*i], "--store") || *i + 1 == n || (strcmp(w[*i + 1], "daemon") && strcmp(w[*i + 1], "auto")))
		return 0;
	++*i;
	return 1;
}

/* ssh-ng:// runs nix-daemon --stdio, with --store when the store URI has a
 * remote-store parameter. --process-ops (mounted-ssh-ng://) would have the
 * client share the host's file system, and the --force-* switches are the
 * host's to choose: refused like any other argument. */
static int daemon_args(struct cmd *c, char w[][CMD_MAX + 1], int n)
{
	int i, stdio = 0;

	for (i = 1; i < n; i++) {
		if (!strcmp(w[i], "--stdio"))
			stdio = 1;
		else if (!store_arg(w, n, &i))
			return fail(EXIT_REFUSED, "command has the argument '%.60s', which nixgate does not accept", w[i]);
	}
	if (!stdio)
		return fail(EXIT_REFUSED, "command lacks --stdio");
	/* the worker protocol has no read-only mode: the policy decides */
	c->write = 1;
	c->what = CMD_DAEMON;
	return 0;
}

int cmd_parse(struct cmd *c, const char *s, size_t len)
{
	static char w[CMD_WORDS_MAX][CMD_MAX + 1];
	int n, i, serve = 0;

	memset(c, 0, sizeof *c);
	if (len > CMD_MAX)
		return fail(EXIT_REFUSED, "command of %zu bytes is longer than the limit of %d", len, CMD_MAX);
	if (memchr(s, 0, len) || memchr(s, '\n', len))
		return fail(EXIT_REFUSED, "command contains a NUL or newline");
	if (split(s, len, w, &n) < 0)
		return -1;
	if (n == 2 && !strcmp(w[0], "echo") && !strcmp(w[1], "started")) {
		c->what = CMD_ECHO_STARTED;
		return 0;
	}
	if (n > 0 && is_prog(w[0], "nix-daemon"))
		return daemon_args(c, w, n);
	if (n == 0 || !(is_prog(w[0], "nix-store") || is_prog(w[0], "nixgate-serve")))
		return fail(EXIT_REFUSED, "command '%.60s' is not nix-store --serve or nix-daemon --stdio", n ? w[0] : "");
	for (i = 1; i < n; i++) {
		if (!strcmp(w[i], "--serve"))
			serve = 1;
		else if (!strcmp(w[i], "--write"))
			c->write = 1;
		else if (store_arg(w, n, &i))
			;
		else
			return fail(EXIT_REFUSED, "command has the argument '%.60s', which nixgate does not accept", w[i]);
	}
	if (!serve)
		return fail(EXIT_REFUSED, "command lacks --serve");
	c->what = CMD_SERVE;
	return 0;
}
