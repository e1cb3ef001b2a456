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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "err.h"
#include "outputs.h"

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

static int restore(struct remote *h, struct worker *local, const char *path, const struct pathinfo *in)
{
	char *argv[] = { "nix-store", "--restore", (char *)path, NULL };
	unsigned char hash[SHA256_BYTES];
	uint64_t size;
	pid_t pid;
	int fd, r;

	/* never a valid path: the caller asked, but a store path is too dear */
	if ((r = daemon_is_valid(local, path)) != 0)
		return r < 0 ? -1 : fail(EXIT_SYSTEM, "%s is already valid here", path);
	if (remove_tree(path) < 0 || (fd = spawn(argv, &pid)) < 0)
		return -1;
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

int outputs_import(struct remote *h, struct worker *local, const struct pathset *outs)
{
	static struct pathinfo in;
	static struct pathset refs;
	char *argv[] = { "nix-store", "--register-validity", "--hash-given", NULL };
	unsigned char buf[4096], **sigs;
	size_t *nsigs, i, done;
	struct wr w;
	pid_t pid;
	int fd, k, r = -1;

	sigs = calloc(outs->n + 1, sizeof *sigs);
	nsigs = calloc(outs->n + 1, sizeof *nsigs);
	if (!sigs || !nsigs) {
		free(sigs);
		free(nsigs);
		return fail(EXIT_SYSTEM, "out of memory");
	}
	/* it canonicalises each path as it reads it and registers them all,
	 * in one transaction, at the end of its input */
	if ((fd = spawn(argv, &pid)) < 0)
		goto out;
	wr_init_fd(&w, fd, buf, sizeof buf, "nix-store --register-validity");
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
		if (restore(h, local, o, &in) < 0 || reg_write(&w, o, &in, &refs) < 0) {
			done++;
			goto undo;
		}
	}
	k = wr_flush(&w);
	close(fd);
	if (k < 0 || reap(pid, "nix-store --register-validity") < 0)
		goto clean;
	for (i = 0; i < outs->n; i++)
		if (add_sigs(local, pathset_get(outs, i), sigs[i], nsigs[i]) < 0)
			goto out;
	r = 0;
	goto out;
undo:
	/* killed before its input ends, it registers nothing */
	kill(pid, SIGKILL);
	close(fd);
	waitpid(pid, NULL, 0);
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
