/* privsep: the fork, the parser's side of the session, and what the
 * monitor learns when the parser ends. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "parser.h"
#include "privsep.h"

/* The parser's last error, one record on its own pipe: "KIND RULE\nTEXT". */
#define RECORD_MAX 1024
#define RULE_MAX 32
/* How long the monitor waits for a parser that closed its channel to exit
 * before it kills it: a parser that lingers holds nothing, but the
 * session's end must not wait on it. */
#define PARSER_EXIT_MS 2000

static pid_t parser;
static int errpipe = -1;

/* Every descriptor but the standard ones and keep: the daemon socket, the
 * audit log, the spool and the slot files stay with the monitor. */
static void close_others(const int *keep, int n)
{
	struct rlimit r;
	int fd, max = 4096, i;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < (rlim_t)max)
		max = (int)r.rlim_cur;
	for (fd = 3; fd < max; fd++) {
		for (i = 0; i < n && keep[i] != fd; i++)
			;
		if (i == n)
			(void)close(fd);
	}
}

static void parser_exit(struct serve *s, int errw, int r)
{
	char rec[RECORD_MAX];
	int n;

	if (r == 0)
		_exit(0);
	/* what was read before the error goes on first: the monitor decides
	 * on it, and its refusal comes first as it would in one process */
	s->in.tee = NULL;
	(void)wr_flush(&s->out);
	n = snprintf(rec, sizeof rec, "%d %s\n%s", err_kind() ? err_kind() : EXIT_SYSTEM,
		     s->req.rule ? s->req.rule : "-", err_msg());
	if (n > (int)sizeof rec - 1)
		n = (int)sizeof rec - 1;
	(void)write(errw, rec, (size_t)n);
	_exit(err_kind() ? err_kind() : EXIT_SYSTEM);
}

static void run_parser(struct serve *s, pid_t monitor, const int ch[3], int null, int sandbox, uint64_t idle_ms)
{
	int chan = ch[0], ctl = ch[1], errw = ch[2];
	struct sandbox_fds f = {0, -1, 2, -1, -1, -1, 0, NULL, 0, chan, errw, 0, ctl};

	/* the parser lives no longer than the monitor, whatever it does */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != monitor || dup2(null, 1) < 0)
		_exit(EXIT_SYSTEM);
	close_others(ch, 3);
	s->d = NULL;
	s->audit = NULL;
	s->spool_fd = -1;
	s->key_slots = s->host_slots = NULL;
	s->peer = ctl;
	s->parser_end = NULL;
	wr_init_fd(&s->out, chan, s->outbuf, sizeof s->outbuf, "the monitor");
	rd_init_fd(&s->in, 0, s->inbuf, sizeof s->inbuf, EXIT_REFUSED, "client");
	s->in.dl.idle_ms = idle_ms;
	s->in.dl.what = "idle-timeout";
	s->in.tee = &s->out;
	if (sandbox && sandbox_enter_parser(&f) < 0)
		parser_exit(s, errw, -1);
#ifdef NIXGATE_PARSER_CONNECT
	/* the test build: a parser that tries what a compromised one would */
	(void)socket(AF_UNIX, SOCK_STREAM, 0);
#endif
	parser_exit(s, errw, parser_run(s));
}

/* A rule name from the parser, kept only if it looks like one. */
static const char *rule_of(const char *r, size_t n)
{
	static char rule[RULE_MAX + 1];
	size_t i;

	if (n == 0 || n > RULE_MAX || (n == 1 && r[0] == '-'))
		return NULL;
	for (i = 0; i < n; i++)
		if ((r[i] < 'a' || r[i] > 'z') && r[i] != '-')
			return NULL;
	memcpy(rule, r, n);
	rule[n] = 0;
	return rule;
}

/* The parser's end: its exit status and, when it failed, its record. 0
 * for a clean end (the client closed), -1 with the error to report. */
static int parser_ended(struct serve *s)
{
	char rec[RECORD_MAX + 1], *nl, *sp;
	int st = 0, kind, waited = 0;
	ssize_t n;
	pid_t w;

	while ((w = waitpid(parser, &st, WNOHANG)) == 0 && waited < PARSER_EXIT_MS) {
		(void)poll(NULL, 0, 10);
		waited += 10;
	}
	if (w == 0) {
		(void)kill(parser, SIGKILL);
		w = waitpid(parser, &st, 0);
	}
	if (w < 0)
		return fail_sys("waiting for the parser process");
	n = read(errpipe, rec, RECORD_MAX);
	if (n > 0) {
		rec[n] = 0;
		kind = (int)strtol(rec, &sp, 10);
		if (kind != EXIT_REFUSED)
			kind = EXIT_SYSTEM;
		/* the parser's error is the cause; the channel's end, its consequence */
		err_clear();
		if (*sp == ' ' && (nl = strchr(sp, '\n'))) {
			s->req.rule = rule_of(sp + 1, (size_t)(nl - sp - 1));
			return fail(kind, "%s", nl + 1);
		}
		return fail(EXIT_SYSTEM, "the parser process ended with an unreadable error record");
	}
	if (WIFSIGNALED(st) || WEXITSTATUS(st) != 0)
		err_clear();
	if (WIFSIGNALED(st))
		return fail(EXIT_SYSTEM, "the parser process died by signal %d%s", WTERMSIG(st),
			    WTERMSIG(st) == SIGSYS ? " (a system call its sandbox does not allow)" : "");
	if (WEXITSTATUS(st) != 0)
		return fail(EXIT_SYSTEM, "the parser process exited with status %d", WEXITSTATUS(st));
	return 0;
}

/* Room for a few of the parser's writes in the channel: a NAR moves in
 * big writes, each a wake-up of the monitor. Best effort, as for stdout. */
#define CHANNEL_PIPE_SIZE (4 * WIRE_BUFSZ)

int privsep_start(struct serve *s, struct sandbox_fds *fds, int sandbox)
{
	int data[2], ctl[2], ep[2], null, ch[3];
	pid_t monitor = getpid();
	uint64_t idle_ms = s->in.dl.idle_ms;

	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return fail_sys("privsep: /dev/null");
	if (sandbox && sandbox_landlock() < 0)
		return -1;
	/* pipes, not a socket pair: what the parser forwards (NARs) moves
	 * through a pipe with a copy less per byte */
	if (pipe2(data, O_CLOEXEC) < 0 || pipe2(ctl, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0)
		return fail_sys("privsep: the parser's channel");
	(void)fcntl(data[1], F_SETPIPE_SZ, CHANNEL_PIPE_SIZE);
	if ((parser = fork()) < 0)
		return fail_sys("privsep: fork");
	if (parser == 0) {
		close(data[0]);
		close(ctl[1]);
		close(ep[0]);
		ch[0] = data[1];
		ch[1] = ctl[0];
		ch[2] = ep[1];
		run_parser(s, monitor, ch, null, sandbox, idle_ms);
	}
	close(data[1]);
	close(ctl[0]);
	close(ep[1]);
	/* the monitor never reads the client: its input is the parser's */
	if (dup2(null, 0) < 0 || close(null) < 0)
		return fail_sys("privsep: /dev/null");
	if (fcntl(ep[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(data[0], F_SETFL, O_NONBLOCK) < 0)
		return fail_sys("privsep: fcntl");
	errpipe = ep[0];
	s->peer = ctl[1];
	s->parser_end = parser_ended;
	/* What the parser forwards is the client's bytes: refused in the same
	 * words. Its own idle timeout ends a silent client first. */
	rd_init_fd(&s->in, data[0], s->inbuf, sizeof s->inbuf, EXIT_REFUSED, "client");
	s->in.dl.idle_ms = idle_ms ? idle_ms + 10000 : 0;
	s->in.dl.what = "idle-timeout";
	fds->in = -1;
	fds->chan = data[0];
	fds->ctl = ctl[1];
	fds->errpipe = ep[0];
	fds->parser = parser;
	return 0;
}
