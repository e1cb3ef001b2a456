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

enum { ANY, FD_IN, FD_OUT, FD_ERR, FD_DAEMON, FD_SPOOL, FD_AUDIT, NO_EXEC, FD_SLOTS, FD_CHAN, FD_ERRPIPE,
       PID_PARSER, FD_CTL };

struct allow {
	const char *name;
	int arg;     /* ANY, what argument 0 must be, or NO_EXEC */
	const char *why;
};

/* What both processes may do: memory that is never executable, and exit. */
static const struct allow both_table[] = {
	{"mmap", NO_EXEC, "malloc, never executable"},
	{"mprotect", NO_EXEC, "malloc, never executable"},
	{"munmap", ANY, "free"},
	{"mremap", ANY, "realloc"},
	{"madvise", ANY, "free"},
	{"brk", ANY, "malloc"},
	{"rt_sigprocmask", ANY, "abort"},
	{"rt_sigreturn", ANY, "signal return"},
	{"exit", ANY, "exit"},
	{"exit_group", ANY, "exit"},
};

/* The parser reads the network: it may read the client and write to the
 * monitor, and little else. */
static const struct allow parser_table[] = {
	{"read", FD_IN, "the client's requests"},
	{"read", FD_CTL, "the monitor's go-ahead"},
	{"write", FD_CHAN, "the requests, forwarded to the monitor"},
	{"write", FD_ERRPIPE, "its last error, to the monitor"},
	{"poll", ANY, "the idle timeout: waiting for the client"},
	{"ppoll", ANY, "poll where the C library makes it ppoll"},
	{"clock_gettime", ANY, "deadlines"},
};

/* The monitor holds the daemon socket: it reads only the parser and the
 * daemon, and writes the client's answers. */
static const struct allow monitor_table[] = {
	{"read", FD_CHAN, "the requests, as the parser forwards them"},
	{"read", FD_ERRPIPE, "the parser's last error"},
	{"read", FD_DAEMON, "the daemon's replies"},
	{"write", FD_CTL, "the go-ahead to the parser"},
	{"write", FD_OUT, "replies to the client"},
	{"write", FD_ERR, "errors and build logs"},
	{"write", FD_DAEMON, "requests to the daemon"},
	{"write", FD_AUDIT, "the audit log"},
	{"writev", FD_ERR, "stdio's unbuffered stderr"},
	{"pread64", FD_SPOOL, "imports: the spooled NAR"},
	{"pwrite64", FD_SPOOL, "imports: spooling a NAR"},
	{"ftruncate", FD_SPOOL, "imports: reusing the spool"},
	{"wait4", PID_PARSER, "the parser's end"},
	{"kill", PID_PARSER, "a parser that lingers after closing its channel"},
	{"poll", ANY, "deadlines: waiting for a peer, bounded by nixgate's clock"},
	{"ppoll", ANY, "deadlines: poll where the C library makes it ppoll"},
	{"shutdown", FD_DAEMON, "a build past max-build-time: the daemon kills it at the hang-up"},
	{"flock", FD_SLOTS, "build slots: taken, released, counted"},
	{"clock_nanosleep", ANY, "waiting for a build slot"},
	{"nanosleep", ANY, "waiting for a build slot"},
	{"sysinfo", ANY, "the host's load, for NixgateInfo"},
	{"clock_gettime", ANY, "audit and build times"},
	{"gettimeofday", ANY, "audit times"},
};

#define N(t) (sizeof t / sizeof *t)

static int fd_of(const struct sandbox_fds *f, int which)
{
	switch (which) {
	case FD_IN: return f->in;
	case FD_OUT: return f->out;
	case FD_ERR: return f->err;
	case FD_DAEMON: return f->daemon;
	case FD_SPOOL: return f->spool;
	case FD_AUDIT: return f->audit;
	case FD_CHAN: return f->chan;
	case FD_ERRPIPE: return f->errpipe;
	case PID_PARSER: return f->parser > 0 ? (int)f->parser : -1;
	case FD_CTL: return f->ctl;
	}
	return -1;
}

static int highest_fd(const struct sandbox_fds *f)
{
	int m = f->err, w[] = {f->in, f->out, f->daemon, f->spool, f->audit, f->chan, f->errpipe, f->ctl};
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

int sandbox_landlock(void)
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

static int rules(scmp_filter_ctx ctx, const struct allow *table, size_t n, const struct sandbox_fds *f)
{
	size_t i;
	unsigned j;
	int r = 0, nr, fd;

	for (i = 0; r == 0 && i < n; i++) {
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
	return r;
}

static int seccomp(const struct allow *table, size_t n, const struct sandbox_fds *f)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r = 0;

	if (!ctx)
		return fail(EXIT_SYSTEM, "sandbox: seccomp_init failed");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0)
		r = -1;
	if (r == 0)
		r = rules(ctx, both_table, N(both_table), f);
	if (r == 0)
		r = rules(ctx, table, n, f);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		errno = -r;
		return fail_sys("sandbox: seccomp");
	}
	return 0;
}

static int enter(const struct allow *table, size_t n, const struct sandbox_fds *f)
{
	if (limits(f) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail_sys("sandbox: PR_SET_NO_NEW_PRIVS");
	return seccomp(table, n, f);
}

int sandbox_enter_monitor(const struct sandbox_fds *f)
{
	return enter(monitor_table, N(monitor_table), f);
}

int sandbox_enter_parser(const struct sandbox_fds *f)
{
	return enter(parser_table, N(parser_table), f);
}

static void print_table(FILE *o, const char *who, const struct allow *table, size_t n)
{
	static const char *argname[] = {"", "client input", "client output", "stderr", "daemon socket",
					"spool file", "audit log", "no PROT_EXEC", "slot files", "channel",
					"error pipe", "the parser", "go-ahead pipe"};
	size_t i;

	fprintf(o, "%s seccomp: default kill process (other architectures too); allowed:\n", who);
	for (i = 0; i < n; i++)
		fprintf(o, "  %-15s %-14s %s\n", table[i].name, argname[table[i].arg], table[i].why);
}

void sandbox_print(FILE *o, const struct sandbox_fds *f)
{
	fprintf(o, "two processes: the parser reads the client and holds nothing else; the monitor holds the "
		   "daemon socket and decides on what the parser forwards\n");
	print_table(o, "each process's", both_table, N(both_table));
	print_table(o, "parser", parser_table, N(parser_table));
	print_table(o, "monitor", monitor_table, N(monitor_table));
	fprintf(o, "rlimits (both): NPROC 0, NOFILE highest descriptor + 1, FSIZE %llu when a file "
		   "is written (spool, audit, redirected output), else 0\n", (unsigned long long)f->fsize_max);
	fprintf(o, "landlock (both): every filesystem access the kernel knows handled, none granted; TCP bind "
		   "and connect denied (ABI 4+); abstract sockets and signals scoped (ABI 6+)\n");
	fprintf(o, "no_new_privs (both): set\n");
}
