/* Deadlines of the wire over pipes and of the worker's build clock over a
 * socketpair, a forked child playing the peer. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "wire.h"
#include "worker.h"

static struct worker dm;

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* A child that writes n bytes of p to fd, pause_ms apart in pieces of
 * step bytes (0: all at once), then again and again if forever. */
static pid_t peer(int fd, const void *p, size_t n, size_t step, int pause_ms, int forever)
{
	pid_t pid = fork();
	size_t k;

	if (pid != 0)
		return pid;
	signal(SIGPIPE, SIG_DFL);
	do
		for (k = 0; k < n; k += step ? step : n) {
			if (write(fd, (const char *)p + k, step && step < n - k ? step : n - k) < 0)
				_exit(0);
			if (pause_ms)
				usleep((useconds_t)pause_ms * 1000);
		}
	while (forever);
	_exit(0);
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

void t_deadline_read(void)
{
	unsigned char buf[64], ten[10];
	struct rd r;
	uint64_t v, t0, ms;
	int p[2];
	pid_t pid;

	/* nothing comes: refused after the idle time, named */
	CHECK(pipe(p) == 0);
	nonblock(p[0]);
	rd_init_fd(&r, p[0], buf, sizeof buf, EXIT_REFUSED, "client");
	r.dl.idle_ms = 300;
	r.dl.what = "idle-timeout";
	t0 = mono_ms();
	CHECK(rd_u64(&r, &v) == -1);
	ms = mono_ms() - t0;
	CHECK(ms >= 290 && ms < 2000);
	CHECK(r.timed_out == 1 && err_kind() == EXIT_REFUSED);
	CHECK(strstr(err_msg(), "client sent nothing for 0 s (idle-timeout)") != NULL);
	close(p[1]);
	close(p[0]);

	/* a byte every 100 ms for a second: progress, never idle for 300 ms */
	CHECK(pipe(p) == 0);
	nonblock(p[0]);
	memset(ten, 7, sizeof ten);
	pid = peer(p[1], ten, sizeof ten, 1, 100, 0);
	rd_init_fd(&r, p[0], buf, sizeof buf, EXIT_REFUSED, "client");
	r.dl.idle_ms = 300;
	err_clear();
	CHECK(rd_bytes(&r, ten, sizeof ten) == 0 && r.timed_out == 0);
	/* an absolute moment bounds it even while bytes move */
	r.dl.until_ms = mono_ms() + 200;
	r.dl.idle_ms = 0;
	reap(pid);
	pid = peer(p[1], ten, sizeof ten, 1, 100, 1);
	t0 = mono_ms();
	while (rd_bytes(&r, ten, 1) == 0 && mono_ms() - t0 < 3000)
		;
	CHECK(r.timed_out == 1 && mono_ms() - t0 < 1000);
	reap(pid);
	close(p[1]);
	close(p[0]);
}

void t_deadline_write(void)
{
	static unsigned char big[1 << 20];
	unsigned char buf[64];
	struct wr w;
	uint64_t t0, ms;
	int p[2];

	/* nobody reads: cut off after the idle time, with the writer's kind */
	CHECK(pipe(p) == 0);
	nonblock(p[1]);
	wr_init_fd(&w, p[1], buf, sizeof buf, "client");
	w.dl.idle_ms = 300;
	w.dl.what = "idle-timeout";
	w.kind = EXIT_REFUSED;
	t0 = mono_ms();
	CHECK(wr_bytes(&w, big, sizeof big) == -1);
	ms = mono_ms() - t0;
	CHECK(ms >= 290 && ms < 2000);
	CHECK(w.timed_out == 1 && err_kind() == EXIT_REFUSED);
	CHECK(strstr(err_msg(), "client read nothing for 0 s (idle-timeout)") != NULL);
	close(p[0]);
	close(p[1]);
}

static size_t msg_u64(unsigned char *b, uint64_t v)
{
	le64_put(b, v);
	return 8;
}

static size_t msg_str(unsigned char *b, const char *s)
{
	size_t n = strlen(s), pad = (8 - n % 8) % 8;

	msg_u64(b, n);
	memcpy(b + 8, s, n);
	memset(b + 8 + n, 0, pad);
	return 8 + n + pad;
}

/* STDERR_START_ACTIVITY of a build (no fields) */
static size_t msg_start(unsigned char *b, uint64_t act)
{
	size_t k = 0;

	k += msg_u64(b + k, STDERR_START_ACTIVITY);
	k += msg_u64(b + k, act);
	k += msg_u64(b + k, 3);
	k += msg_u64(b + k, ACT_BUILD);
	k += msg_str(b + k, "building");
	k += msg_u64(b + k, 0);
	k += msg_u64(b + k, 0);
	return k;
}

static void worker_on(int fd)
{
	memset(&dm, 0, sizeof dm);
	nonblock(fd);
	worker_init_fd(&dm, fd);
	dm.minor = 34;
	dm.logfd = -1;
	dm.build_grace_ms = 0;
}

void t_deadline_build(void)
{
	unsigned char b[4096], line[512];
	size_t n = 0;
	uint64_t t0, ms;
	int s[2];
	pid_t pid;

	/* a build that starts and then goes quiet: ended at its time, and the
	 * daemon sees the hang-up */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
	worker_on(s[0]);
	n = msg_start(b, 7);
	CHECK(write(s[1], b, n) == (ssize_t)n);
	t0 = mono_ms();
	CHECK(worker_build_wait(&dm, 1) == -1);
	ms = mono_ms() - t0;
	CHECK(ms >= 990 && ms < 3000);
	CHECK(dm.build_late == 1 && err_kind() == EXIT_REFUSED);
	CHECK(strstr(err_msg(), "build timed out after 1 s") != NULL);
	CHECK(read(s[1], b, sizeof b) == 0);
	close(s[0]);
	close(s[1]);

	/* a build that ends in time, the daemon then silent a while: no
	 * deadline on silence in a build request once no build runs */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
	worker_on(s[0]);
	n = msg_start(b, 7);
	n += msg_u64(b + n, STDERR_STOP_ACTIVITY);
	n += msg_u64(b + n, 7);
	CHECK(write(s[1], b, n) == (ssize_t)n);
	msg_u64(b, STDERR_LAST);
	if ((pid = fork()) == 0) {
		usleep(1500 * 1000);
		_exit(write(s[1], b, 8) == 8 ? 0 : 1);
	}
	err_clear();
	CHECK(worker_build_wait(&dm, 1) == 0 && dm.build_late == 0);
	waitpid(pid, NULL, 0);
	close(s[0]);
	close(s[1]);

	/* a build whose log never pauses: the clock is checked between
	 * messages too, not only when the reader waits */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
	worker_on(s[0]);
	n = msg_start(b, 9);
	CHECK(write(s[1], b, n) == (ssize_t)n);
	memset(line, 'x', 200);
	line[200] = 0;
	n = msg_u64(b, STDERR_NEXT);
	n += msg_str(b + n, (char *)line);
	pid = peer(s[1], b, n, 0, 0, 1);
	t0 = mono_ms();
	CHECK(worker_build_wait(&dm, 1) == -1 && dm.build_late == 1);
	CHECK(mono_ms() - t0 < 3000);
	reap(pid);
	close(s[0]);
	close(s[1]);
}

/* Log text for a stderr nobody reads is dropped, not waited for; a note
 * says how much once it is read again. */
void t_deadline_log_drop(void)
{
	static unsigned char b[1 << 20], out[1 << 18];
	char line[8000];
	size_t n = 0, i;
	ssize_t k, got = 0;
	int s[2], p[2];
	pid_t pid;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0 && pipe(p) == 0);
	worker_on(s[0]);
	nonblock(p[1]);
	dm.logfd = p[1];
	dm.logtag = "nixgate-serve: key k";
	memset(line, 'y', sizeof line - 1);
	line[sizeof line - 1] = 0;
	for (i = 0; i < 40; i++) { /* 320 KB, five times a pipe */
		n += msg_u64(b + n, STDERR_NEXT);
		n += msg_str(b + n, line);
	}
	n += msg_u64(b + n, STDERR_LAST);
	pid = peer(s[1], b, n, 0, 0, 0);
	CHECK(worker_wait(&dm, NULL, NULL) == 0);
	CHECK(dm.log_dropped > 100000);
	waitpid(pid, NULL, 0);
	nonblock(p[0]);
	while ((k = read(p[0], out, sizeof out)) > 0)
		;
	n = msg_u64(b, STDERR_NEXT);
	n += msg_str(b + n, "after");
	n += msg_u64(b + n, STDERR_LAST);
	CHECK(write(s[1], b, n) == (ssize_t)n);
	CHECK(worker_wait(&dm, NULL, NULL) == 0 && dm.log_dropped == 0);
	got = read(p[0], out, sizeof out - 1);
	CHECK(got > 0);
	out[got > 0 ? got : 0] = 0;
	CHECK(strstr((char *)out, "nixgate-serve: key k: ") && strstr((char *)out, " bytes of log dropped"));
	CHECK(strstr((char *)out, "\nafter\n") != NULL);
	close(s[0]);
	close(s[1]);
	close(p[0]);
	close(p[1]);
}
