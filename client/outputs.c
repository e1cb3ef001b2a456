/* Why not the daemon, or `nix-store --import`: adding a path takes its lock,
 * which the goal that ran the hook holds until the hook exits, so the add
 * would wait forever. Nix's own hook passes over the lock inside its own
 * process; `nix-store --import` could be told of it by NIX_HELD_LOCKS until
 * Nix 2.28, and no longer. `nix-store --restore` and `nix-store
 * --register-validity --hash-given` take no path locks and are the same from
 * Nix 2.3 to the newest, so the one way works on all of them. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "err.h"
#include "outputs.h"

#define AHEAD_NICE 10

/* Back to the hook's priority, once it has work to do; as a user who may
 * not raise it, it stays where it is. */
static void ready(pid_t pid)
{
	setpriority(PRIO_PROCESS, (id_t)pid, getpriority(PRIO_PROCESS, 0));
}

/* A child running argv with its stdin from the returned pipe end; its
 * stdout goes to /dev/null, its stderr is the hook's. */
static int spawn(char *const argv[], pid_t *pid)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return fail_sys("pipe");
	if ((*pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return fail_sys("fork");
	}
	if (*pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (dup2(p[0], 0) < 0 || null < 0 || dup2(null, 1) < 0)
			_exit(127);
		/* started ahead, its start yields to other builds starting;
		 * given its input it runs as the hook does again (ready) */
		if (setpriority(PRIO_PROCESS, 0, AHEAD_NICE) < 0)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[0]);
	return p[1];
}

static int reap(pid_t pid, const char *what)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return fail_sys("waiting for %s", what);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return fail(EXIT_SYSTEM, "%s failed (%s %d)", what, WIFEXITED(st) ? "exit" : "signal",
			    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}

static int unlink_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
	return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

/* An invalid path's leftovers, or a restore that did not check out: only
 * ever a path of this build's outputs, whose lock the goal holds. */
static int remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : fail_sys("%s", path);
	if (nftw(path, unlink_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return fail_sys("removing %s", path);
	return 0;
}

/* What outputs_start began for the build's missing outputs: nix-store
 * processes started ahead, so that their start (some 10 ms each, loading
 * Nix and opening its database) overlaps the host's work, not follows it. */
#define RESTORE_AHEAD 8
static struct {
	struct pathset missing;
	pid_t reg, rest[RESTORE_AHEAD];
	int reg_fd, rest_fd[RESTORE_AHEAD];
	size_t nrest;
	int on;
} job;

/* nix-store --restore of path, waiting for its NAR on *fd. Never a valid
 * path: the caller asked, but a store path is too dear. */
static int restore_spawn(struct worker *local, const char *path, pid_t *pid, int *fd)
{
	char *argv[] = { "nix-store", "--restore", (char *)path, NULL };
	int r;

	if ((r = daemon_is_valid(local, path)) != 0)
		return r < 0 ? -1 : fail(EXIT_SYSTEM, "%s is already valid here", path);
	if (remove_tree(path) < 0 || (*fd = spawn(argv, pid)) < 0)
		return -1;
	return 0;
}

static int restore(struct remote *h, const char *path, const struct pathinfo *in, pid_t pid, int fd)
{
	unsigned char hash[SHA256_BYTES];
	uint64_t size;
	int r;

	r = remote_dump(h, path, fd, hash, &size);
	close(fd);
	if (r < 0) {
		/* the host's failure is the one to tell, not the restore's */
		waitpid(pid, NULL, 0);
		return -1;
	}
	if (reap(pid, "nix-store --restore") < 0)
		return -1;
	if (size != in->nar_size || memcmp(hash, in->hash, sizeof hash))
		return fail(EXIT_SYSTEM, "the host's NAR of %s does not match the hash and size it gave for it", path);
	return 0;
}

/* --register-validity --hash-given reads: path, NAR hash, NAR size,
 * deriver, the number of references, the references, a line each. */
static int reg_write(struct wr *w, const char *path, const struct pathinfo *in, const struct pathset *refs)
{
	char line[3 * STORE_PATH_MAX + HASH_TEXT_MAX + 64], h[HASH_TEXT_MAX];
	size_t i;
	int k;

	hash_fmt16(h, in->hash);
	k = snprintf(line, sizeof line, "%s\n%s\n%llu\n%s\n%zu\n", path, h, (unsigned long long)in->nar_size,
		     in->deriver, refs->n);
	if (k < 0 || (size_t)k >= sizeof line || wr_bytes(w, line, (size_t)k) < 0)
		return k < 0 || (size_t)k >= sizeof line ? fail(EXIT_SYSTEM, "registering %s", path) : -1;
	for (i = 0; i < refs->n; i++) {
		const char *r = pathset_get(refs, i);

		if (wr_bytes(w, r, strlen(r)) < 0 || wr_bytes(w, "\n", 1) < 0)
			return -1;
	}
	return 0;
}

/* The host's signatures, as the stock hook's copy keeps them: AddSignatures
 * takes no path lock. */
static int add_sigs(struct worker *d, const char *path, const unsigned char *sigs, size_t len)
{
	if (len <= 8)
		return 0;
	return daemon_add_signatures(d, path, sigs, len);
}

int outputs_start(struct worker *local, const struct pathset *outs)
{
	static struct pathset valid;
	char *argv[] = { "nix-store", "--register-validity", "--hash-given", NULL };
	size_t i;

	outputs_abort();
	if (daemon_valid(local, outs, 0, &valid) < 0)
		return -1;
	for (i = 0; i < outs->n; i++) {
		const char *o = pathset_get(outs, i);

		if (pathset_insert(&valid, o, strlen(o)) == 1 && pathset_add(&job.missing, o, strlen(o)) < 0)
			return -1;
	}
	if (!job.missing.n)
		return 0;
	job.on = 1;
	/* it canonicalises each path as it reads it and registers them all,
	 * in one transaction, at the end of its input */
	if ((job.reg_fd = spawn(argv, &job.reg)) < 0)
		return -1;
	for (; job.nrest < job.missing.n && job.nrest < RESTORE_AHEAD; job.nrest++)
		if (restore_spawn(local, pathset_get(&job.missing, job.nrest), &job.rest[job.nrest],
				  &job.rest_fd[job.nrest]) < 0)
			return -1;
	return 0;
}

/* Killed before their input ends, they register and restore nothing;
 * what a restore wrote of a path, its caller removes. */
static void stop_all(void)
{
	size_t i;

	if (job.on && job.reg > 0) {
		kill(job.reg, SIGKILL);
		close(job.reg_fd);
		waitpid(job.reg, NULL, 0);
	}
	for (i = 0; i < job.nrest; i++)
		if (job.rest[i] > 0) {
			kill(job.rest[i], SIGKILL);
			close(job.rest_fd[i]);
			waitpid(job.rest[i], NULL, 0);
		}
	job.reg = 0;
	job.nrest = 0;
}

void outputs_abort(void)
{
	stop_all();
	job.on = 0;
	pathset_clear(&job.missing);
}

int outputs_finish(struct remote *h, struct worker *local, size_t *copied)
{
	static struct pathinfo in;
	static struct pathset refs;
	const struct pathset *outs = &job.missing;
	unsigned char buf[4096], **sigs;
	size_t *nsigs, i, done;
	struct wr w;
	pid_t pid;
	int fd, k, r = -1;

	*copied = outs->n;
	if (!outs->n)
		return 0;
	sigs = calloc(outs->n + 1, sizeof *sigs);
	nsigs = calloc(outs->n + 1, sizeof *nsigs);
	if (!sigs || !nsigs) {
		free(sigs);
		free(nsigs);
		return fail(EXIT_SYSTEM, "out of memory");
	}
	wr_init_fd(&w, job.reg_fd, buf, sizeof buf, "nix-store --register-validity");
	for (done = 0; done < outs->n; done++) {
		const char *o = pathset_get(outs, done);

		if ((k = remote_info(h, o, &in, &refs)) != 1) {
			if (k == 0)
				fail(EXIT_SYSTEM, "the host has no %s after the build", o);
			goto undo;
		}
		if (!(sigs[done] = malloc(in.sigs_len + 1))) {
			fail(EXIT_SYSTEM, "out of memory");
			goto undo;
		}
		memcpy(sigs[done], in.sigs, in.sigs_len);
		nsigs[done] = in.sigs_len;
		if (done < job.nrest) {
			pid = job.rest[done];
			fd = job.rest_fd[done];
			job.rest[done] = 0;
		} else if (restore_spawn(local, o, &pid, &fd) < 0)
			goto undo;
		ready(pid);
		if (restore(h, o, &in, pid, fd) < 0 || reg_write(&w, o, &in, &refs) < 0) {
			done++;
			goto undo;
		}
	}
	ready(job.reg);
	k = wr_flush(&w);
	close(job.reg_fd);
	pid = job.reg;
	job.reg = 0;
	if (k < 0 || reap(pid, "nix-store --register-validity") < 0)
		goto clean;
	for (i = 0; i < outs->n; i++)
		if (add_sigs(local, pathset_get(outs, i), sigs[i], nsigs[i]) < 0)
			goto out;
	r = 0;
	goto out;
undo:
	/* every process still waiting, the register's included */
	stop_all();
clean:
	/* a path that did become valid is the store's now, not debris */
	for (i = 0; i < done; i++)
		if (daemon_is_valid(local, pathset_get(outs, i)) == 0)
			remove_tree(pathset_get(outs, i));
out:
	for (i = 0; i < outs->n; i++)
		free(sigs[i]);
	free(sigs);
	free(nsigs);
	outputs_abort();
	return r;
}

static int to_daemon(void *ctx, const unsigned char *p, size_t n)
{
	return daemon_nar_frame(ctx, p, n);
}

int outputs_add(struct remote *h, struct worker *local, const char *path)
{
	static struct pathinfo in;
	static struct pathset refs;
	unsigned char hash[SHA256_BYTES];
	uint64_t size;
	int k;

	if ((k = remote_info(h, path, &in, &refs)) != 1)
		return k == 0 ? fail(EXIT_SYSTEM, "the host has no %s after the build", path) : -1;
	/* what the copy proves the path by, here and to the next host */
	if (!in.ca[0])
		return fail(EXIT_SYSTEM, "the host gives no content address for %s, the output of a floating "
			    "content-addressed derivation", path);
	if (daemon_add_nar_begin(local, path, &in, &refs) < 0)
		return -1;
	if (remote_dump_to(h, path, to_daemon, local, hash, &size) < 0) {
		/* the end frame early: the daemon fails the add and keeps nothing */
		daemon_add_nar_end(local);
		return -1;
	}
	k = daemon_add_nar_end(local);
	if (size != in.nar_size || memcmp(hash, in.hash, sizeof hash))
		return fail(EXIT_SYSTEM, "the host's NAR of %s does not match the hash and size it gave for it", path);
	if (k == -2)
		return fail(EXIT_SYSTEM, "the local daemon did not take %s from the host: %s", path, local->errmsg);
	return k;
}
