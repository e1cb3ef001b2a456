/* The real sandbox in forked children: every forbidden call kills by
 * SIGSYS, the allowed paths exit 0. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "sandbox.h"

static int daemon_fd = -1, input_fd = -1, chan_fd = -1;

/* parser: the parser's profile, else the monitor's */
static int in_profile(void (*fn)(void), int parser)
{
	int p[2], st = 0, sock[2], chan[2];
	pid_t pid;

	if (pipe(p) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sock) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, chan) < 0)
		return -1;
	/* Input the child leaves unread. Written before the fork: a write after
	 * it races the child's death and can kill this process by SIGPIPE. */
	(void)!write(p[1], "unread input", 12);
	daemon_fd = sock[0];
	input_fd = p[0];
	chan_fd = chan[0];
	if ((pid = fork()) == 0) {
		struct sandbox_fds m = {-1, 1, 2, sock[0], -1, -1, 1 << 20, NULL, 0, chan[0], -1, 1, chan[0]};
		struct sandbox_fds q = {p[0], -1, 2, -1, -1, -1, 0, NULL, 0, chan[0], -1, 0, chan[0]};
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 1);
		if (sandbox_landlock() < 0 || (parser ? sandbox_enter_parser(&q) : sandbox_enter_monitor(&m)) < 0) {
			fprintf(stderr, "sandbox: %s\n", err_msg());
			_exit(111);
		}
		fn();
		_exit(0);
	}
	close(p[0]);
	close(sock[0]);
	waitpid(pid, &st, 0);
	close(p[1]);
	close(sock[1]);
	close(chan[0]);
	close(chan[1]);
	return st;
}

static int in_sandbox(void (*fn)(void))
{
	return in_profile(fn, 0);
}

static int killed_by_sigsys(void (*fn)(void))
{
	int st = in_sandbox(fn);

	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static void do_open(void) { open("/etc/passwd", O_RDONLY); }
static void do_exec(void) { char *a[] = {"/bin/true", NULL}; execve(a[0], a, a + 1); }
static void do_socket(void) { socket(AF_INET, SOCK_STREAM, 0); }
static void do_connect(void) { struct sockaddr sa = {AF_UNIX, {0}}; connect(3, &sa, sizeof sa); }
static void do_fork(void) { syscall(SYS_fork); }
static void do_clone(void) { syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); }
static void do_ptrace(void) { ptrace(PTRACE_TRACEME, 0, 0, 0); }
static void do_mmap_exec(void) { mmap(0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); }
static void do_mprotect_exec(void)
{
	void *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	mprotect(p, 4096, PROT_READ | PROT_EXEC);
}
static void do_write_other_fd(void) { (void)!write(40, "x", 1); }
static void do_shutdown_other_fd(void) { shutdown(1, SHUT_RDWR); }

static void do_allowed(void)
{
	size_t i;

	for (i = 0; i < 8; i++) {
		char *p = malloc((size_t)64 << 20);

		if (!p)
			_exit(3);
		memset(p, 1, (size_t)64 << 20);
		p = realloc(p, (size_t)96 << 20);
		free(p);
		free(malloc(100));
	}
	if (write(1, "out\n", 4) != 4)
		_exit(4);
	/* deadlines: a wait on the client's input, then a build ended by
	 * hanging up on the daemon */
	struct pollfd pf = {input_fd, POLLIN, 0};

	if (poll(&pf, 1, 1000) != 1)
		_exit(5);
	if (shutdown(daemon_fd, SHUT_RDWR) < 0)
		_exit(6);
}

static int parser_killed(void (*fn)(void))
{
	int st = in_profile(fn, 1);

	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static void do_read_daemon(void) { char c; (void)!read(daemon_fd, &c, 1); }
static void do_write_daemon(void) { (void)!write(daemon_fd, "x", 1); }
static void do_write_out(void) { (void)!write(1, "x", 1); }
static void do_read_input(void) { char c; (void)!read(input_fd, &c, 1); }
static void do_kill(void) { kill(getppid(), SIGTERM); }

/* What a compromised parser would try first: the daemon, the network, the
 * client's answers, a new process. */
static void do_parser_allowed(void)
{
	char *p = malloc((size_t)8 << 20), c;
	struct pollfd pf = {input_fd, POLLIN, 0};

	if (!p)
		_exit(3);
	memset(p, 1, (size_t)8 << 20);
	free(p);
	if (poll(&pf, 1, 1000) != 1 || read(input_fd, &c, 1) != 1 || write(chan_fd, "x", 1) != 1)
		_exit(4);
}

void t_sandbox_parser(void)
{
	int st = in_profile(do_parser_allowed, 1);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(parser_killed(do_open));
	CHECK(parser_killed(do_exec));
	CHECK(parser_killed(do_socket));
	CHECK(parser_killed(do_connect));
	CHECK(parser_killed(do_fork));
	CHECK(parser_killed(do_read_daemon));
	CHECK(parser_killed(do_write_daemon));
	CHECK(parser_killed(do_write_out));
	CHECK(parser_killed(do_kill));
	CHECK(parser_killed(do_mmap_exec));
	CHECK(!parser_killed(do_read_input));
	/* the monitor never reads the client */
	CHECK(killed_by_sigsys(do_read_input));
}

void t_sandbox_forbidden(void)
{
	CHECK(killed_by_sigsys(do_open));
	CHECK(killed_by_sigsys(do_exec));
	CHECK(killed_by_sigsys(do_socket));
	CHECK(killed_by_sigsys(do_connect));
	CHECK(killed_by_sigsys(do_fork));
	CHECK(killed_by_sigsys(do_clone));
	CHECK(killed_by_sigsys(do_ptrace));
	CHECK(killed_by_sigsys(do_mmap_exec));
	CHECK(killed_by_sigsys(do_mprotect_exec));
	CHECK(killed_by_sigsys(do_write_other_fd));
	CHECK(killed_by_sigsys(do_shutdown_other_fd));
}

void t_sandbox_allowed(void)
{
	int st = in_sandbox(do_allowed);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
