/* Default kill, an allowlist as one table, architecture checked first (by
 * libseccomp: a foreign architecture is killed too). */
#include <errno.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "sandbox.h"

enum { ANY, FD_IN, FD_OUT, FD_ERR, FD_DAEMON, FD_SPOOL, FD_AUDIT, NO_EXEC, FD_SLOTS };

struct allow {
	const char *name;
	int arg;     /* ANY, which descriptor argument 0 must be, or NO_EXEC */
	const char *why;
};

static const struct allow table[] = {
	{"read", FD_IN, "the client's requests"},
	{"read", FD_DAEMON, "the daemon's replies"},
	{"write", FD_OUT, "replies to the client"},
	{"write", FD_ERR, "errors and build logs"},
	{"write", FD_DAEMON, "requests to the daemon"},
	{"write", FD_AUDIT, "the audit log"},
	{"writev", FD_ERR, "stdio's unbuffered stderr"},
	{"pread64", FD_SPOOL, "ImportPaths: the spooled NAR"},
	{"pwrite64", FD_SPOOL, "ImportPaths: spooling a NAR"},
	{"ftruncate", FD_SPOOL, "ImportPaths: reusing the spool"},
	{"mmap", NO_EXEC, "malloc, never executable"},
	{"mprotect", NO_EXEC, "malloc, never executable"},
	{"munmap", ANY, "free"},
	{"mremap", ANY, "realloc"},
	{"madvise", ANY, "free"},
	{"brk", ANY, "malloc"},
	{"poll", ANY, "deadlines: waiting for a peer, bounded by nixgate's clock"},
	{"ppoll", ANY, "deadlines: poll where the C library makes it ppoll"},
	{"shutdown", FD_DAEMON, "a build past max-build-time: the daemon kills it at the hang-up"},
	{"flock", FD_SLOTS, "build slots: taken, released, counted"},
	{"clock_nanosleep", ANY, "waiting for a build slot"},
	{"nanosleep", ANY, "waiting for a build slot"},
	{"sysinfo", ANY, "the host's load, for NixgateInfo"},
	{"clock_gettime", ANY, "audit and build times"},
	{"gettimeofday", ANY, "audit times"},
	{"rt_sigprocmask", ANY, "abort"},
	{"rt_sigreturn", ANY, "signal return"},
	{"exit", ANY, "exit"},
	{"exit_group", ANY, "exit"},
};

static int fd_of(const struct sandbox_fds *f, int which)
{
	switch (which) {
	case FD_IN: return f->in;
	case FD_OUT: return f->out;
	case FD_ERR: return f->err;
	case FD_DAEMON: return f->daemon;
	case FD_SPOOL: return f->spool;
	case FD_AUDIT: return f->audit;
	}
	return -1;
}

static int highest_fd(const struct sandbox_fds *f)
{
	int m = f->err, w[] = {f->in, f->out, f->daemon, f->spool, f->audit};
	size_t i;

	for (i = 0; i < sizeof w / sizeof *w; i++)
		if (w[i] > m)
			m = w[i];
	for (i = 0; i < f->nslots; i++)
		if (f->slots[i] > m)
			m = f->slots[i];
	return m;
}

static int is_file(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static int limits(const struct sandbox_fds *f)
{
	struct rlimit none = {0, 0}, files, fsize;
	/* A regular file among the outputs (a test's redirected stderr) would
	 * otherwise die by SIGXFSZ at the first write. */
	int writes_files = f->spool >= 0 || f->audit >= 0 || is_file(f->out) || is_file(f->err);

	files.rlim_cur = files.rlim_max = (rlim_t)highest_fd(f) + 1;
	fsize.rlim_cur = fsize.rlim_max = writes_files ? (rlim_t)f->fsize_max : 0;
	if (setrlimit(RLIMIT_NPROC, &none) < 0 || setrlimit(RLIMIT_NOFILE, &files) < 0 ||
	    setrlimit(RLIMIT_FSIZE, &fsize) < 0)
		return fail_sys("sandbox: setrlimit");
	return 0;
}

/* Landlock: a ruleset that handles every access the kernel knows and grants
 * none. The descriptors already open stay usable. */
struct ll_attr { uint64_t fs, net, scoped; };

static int landlock(void)
{
#ifdef SYS_landlock_create_ruleset
	struct ll_attr a = {0, 0, 0};
	size_t size = 8;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1UL /* VERSION */);
	int fd;

	if (abi < 1)
		return 0; /* no Landlock in this kernel: seccomp still holds */
	a.fs = (1ULL << 13) - 1;
	if (abi >= 2) a.fs |= 1ULL << 13;  /* REFER */
	if (abi >= 3) a.fs |= 1ULL << 14;  /* TRUNCATE */
	if (abi >= 5) a.fs |= 1ULL << 15;  /* IOCTL_DEV */
	if (abi >= 4) a.net = 3, size = 16; /* BIND_TCP, CONNECT_TCP */
	if (abi >= 6) a.scoped = 3, size = 24; /* abstract unix sockets, signals */
	fd = (int)syscall(SYS_landlock_create_ruleset, &a, size, 0);
	if (fd < 0)
		return fail_sys("sandbox: landlock_create_ruleset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
		close(fd);
		return fail_sys("sandbox: landlock_restrict_self");
	}
	close(fd);
#endif
	return 0;
}

static int seccomp(const struct sandbox_fds *f)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	size_t i;
	unsigned j;
	int r = 0, nr, fd;

	if (!ctx)
		return fail(EXIT_SYSTEM, "sandbox: seccomp_init failed");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0)
		r = -1;
	for (i = 0; r == 0 && i < sizeof table / sizeof *table; i++) {
		if ((nr = seccomp_syscall_resolve_name(table[i].name)) == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if (table[i].arg == ANY)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		else if (table[i].arg == NO_EXEC)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		else if (table[i].arg == FD_SLOTS)
			for (j = 0; r == 0 && j < f->nslots; j++)
				r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
						     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)f->slots[j]));
		else if ((fd = fd_of(f, table[i].arg)) >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fd));
	}
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		errno = -r;
		return fail_sys("sandbox: seccomp");
	}
	return 0;
}

int sandbox_enter(const struct sandbox_fds *f)
{
	/* Landlock first: its ruleset needs a descriptor above the NOFILE limit. */
	if (landlock() < 0 || limits(f) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail_sys("sandbox: PR_SET_NO_NEW_PRIVS");
	return seccomp(f);
}

void sandbox_print(FILE *o, const struct sandbox_fds *f)
{
	static const char *argname[] = {"", "client input", "client output", "stderr", "daemon socket",
					"spool file", "audit log", "no PROT_EXEC", "slot files"};
	size_t i;

	fprintf(o, "seccomp: default kill process (other architectures too); allowed:\n");
	for (i = 0; i < sizeof table / sizeof *table; i++)
		fprintf(o, "  %-14s %-14s %s\n", table[i].name, argname[table[i].arg], table[i].why);
	fprintf(o, "rlimits: NPROC 0, NOFILE highest descriptor + 1 (%d), FSIZE %llu when a file "
		   "is written (spool, audit, redirected output), else 0\n", highest_fd(f) + 1, (unsigned long long)f->fsize_max);
	fprintf(o, "landlock: every filesystem access the kernel knows handled, none granted; TCP bind "
		   "and connect denied (ABI 4+); abstract sockets and signals scoped (ABI 6+)\n");
	fprintf(o, "no_new_privs: set\n");
}
