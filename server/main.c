/* nixgate-serve: the forced command of a build host's authorized_keys line. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "checkpolicy.h"
#include "cmd.h"
#include "err.h"
#include "policy.h"
#include "privsep.h"
#include "sandbox.h"
#include "serve.h"
#include "slots.h"
#include "worker.h"
#include "wserve.h"

#define VERSION "0.1"
#define KEY_MAX POLICY_KEY_MAX
#define FLAGS_MAX 64

static struct serve sv;
static struct worker dm;
static struct policy pol;
static struct audit audit;
static struct slots key_slots, host_slots, sessions;
static int slot_fds[2 * SLOTS_MAX];
static const char *key = "-";
static char logtag[KEY_MAX + 32];

static void die(void)
{
	struct pollfd p = {2, POLLOUT, 0};

	/* stderr is non-blocking: a client that has not read it for a while
	 * gets a moment to make room for this last line */
	(void)poll(&p, 1, 2000);
	fprintf(stderr, "nixgate-serve: key %s: %s\n", key, err_msg());
	exit(err_kind() ? err_kind() : EXIT_SYSTEM);
}

/* A command refused before the session still leaves its audit line: it is
 * what a probe looks like. The refusal stays the one reported, whether or
 * not the log opens. */
/* A double quote inside a quoted audit value would end it early and let
 * the client write fields of its own: it becomes a single one, as in the
 * request lines' reasons. */
static void unquote(char *s)
{
	for (; *s; s++)
		if (*s == '"')
			*s = '\'';
}

static void refuse_command(const char *command)
{
	char why[512], cmd[601], logged[512];

	snprintf(why, sizeof why, "%s", err_msg());
	snprintf(logged, sizeof logged, "%s", why);
	snprintf(cmd, sizeof cmd, "%s", command);
	unquote(logged);
	unquote(cmd);
	if (audit_open(&audit, pol.audit) == 0)
		audit_write(&audit, "key=%s op=command result=refused rule=command reason=\"%s\" command=\"%s\"", key,
			    logged, cmd);
	fail(EXIT_REFUSED, "%s", why);
	die();
}

/* One of the key's max-sessions, held till the process exits, taken before
 * the daemon is asked for a worker: each session may hold one, a spool of
 * max-nar-size and temporary roots. */
static void session_slot(void)
{
	const char *dir = pol.state_dir[0] ? pol.state_dir : STATE_DIR;
	char prefix[KEY_MAX + 16];

	snprintf(prefix, sizeof prefix, "sessions-%s", key);
	if (slots_open(&sessions, dir, prefix, pol.max_sessions) < 0)
		die();
	if (slots_take(&sessions))
		return;
	if (audit_open(&audit, pol.audit) == 0)
		audit_write(&audit, "key=%s op=session result=refused rule=max-sessions", key);
	fail(EXIT_REFUSED, "session refused by rule max-sessions: this key has all its %u sessions open",
	     pol.max_sessions);
	die();
}

static void usage(FILE *f)
{
	fprintf(f, "usage: nixgate-serve [--key NAME] [--policy FILE] [SETTING]... [--daemon-socket PATH]\n"
		   "         [--no-sandbox] [-c COMMAND]\n"
		   "       nixgate-serve --check-policy FILE [--key NAME] [SETTING]...\n"
		   "       nixgate-serve --print-sandbox | --help | --version\n");
}

/* A wrong command line is the admin's: it says what is wrong and where
 * the right one is described, then the synopsis, and counts as a refusal
 * for the client that reached it. */
static void bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nixgate-serve: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see nixgate-serve --help\n");
	usage(stderr);
	exit(EXIT_REFUSED);
}

/* The value of the flag at argv[*i], or a usage error naming what it takes. */
static const char *value(int argc, char **argv, int *i, const char *what)
{
	if (*i + 1 >= argc)
		bad_usage("%s needs %s", argv[*i], what);
	return argv[++*i];
}

/* The file first, then the flags in their order. */
static void load_policy(const char *file, const char *const *set, const char *const *val, int n)
{
	policy_init(&pol);
	if ((file && policy_load(&pol, file, key) < 0) || policy_flags(&pol, set, val, n) < 0)
		die();
}

/* --check-policy: the policy as the forced command would apply it, on
 * stdout; the first problem on stderr, as the host would report it. */
static int check(const char *file, const char *const *set, const char *const *val, int n)
{
	if (check_policy(stdout, file, strcmp(key, "-") ? key : NULL, set, val, n) == 0 && fflush(stdout) == 0)
		return 0;
	fprintf(stderr, "nixgate-serve: %s\n", err_msg()[0] ? err_msg() : "writing the policy failed");
	return err_kind() ? err_kind() : EXIT_SYSTEM;
}

/* A descriptor among 0, 1, 2 that is closed would be taken by the daemon
 * socket or the spool, and replies would go there: fill the gap first. */
static void std_fds(void)
{
	int fd, bad = -1;

	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			if (open("/dev/null", O_RDWR) != fd)
				exit(EXIT_SYSTEM);
			if (fd < 2 && bad < 0)
				bad = fd;
		}
	if (bad >= 0) {
		fail(EXIT_SYSTEM, "standard %s is closed", bad ? "output" : "input");
		die();
	}
}

/* Every wait on the client is bounded by the key's idle timeout, on the
 * daemon by its own; a poll runs only when a descriptor has nothing ready.
 * Set before the sandbox: fcntl is not allowed after it. */
static void nonblocking(void)
{
	int fd, fl;

	for (fd = 0; fd < 3; fd++)
		if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			fail_sys("fcntl on descriptor %d", fd);
			die();
		}
	/* Room for two of our writes where stdout is a pipe (sshd's): a
	 * non-blocking 128 KiB write into the default 64 KiB could never go in
	 * whole, and each rest would cost a poll. 256 KiB a session keeps 256
	 * sessions of one user under the kernel's default soft limit on pipe
	 * buffers (fs.pipe-user-pages-soft). Best effort: not a pipe, or over
	 * the limits, it stays as it is. */
	(void)fcntl(1, F_SETPIPE_SZ, 2 * WIRE_BUFSZ);
	(void)fcntl(0, F_SETPIPE_SZ, 2 * WIRE_BUFSZ);
}

/* The build slots of this key and of the host, when the policy limits them. */
static int open_slots(struct sandbox_fds *fds)
{
	const char *dir = pol.state_dir[0] ? pol.state_dir : STATE_DIR;
	char prefix[KEY_MAX + 8];
	unsigned i;

	snprintf(prefix, sizeof prefix, "key-%s", key);
	if (slots_open(&key_slots, dir, prefix, pol.max_jobs) < 0 ||
	    slots_open(&host_slots, dir, "host", pol.host_max_jobs) < 0)
		return -1;

	for (i = 0; i < key_slots.n; i++)
		slot_fds[fds->nslots++] = key_slots.fd[i];
	for (i = 0; i < host_slots.n; i++)
		slot_fds[fds->nslots++] = host_slots.fd[i];
	fds->slots = slot_fds;
	sv.key_slots = &key_slots;
	sv.host_slots = &host_slots;
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = getenv("NIX_DAEMON_SOCKET_PATH"), *command = NULL;
	struct cmd c = {CMD_SERVE, 1};
	struct sandbox_fds fds = {0, 1, 2, -1, -1, -1, SERVE_NAR_MAX, NULL, 0, -1, -1, 0, -1};
	const char *policy = NULL, *checked = NULL, *set[FLAGS_MAX], *val[FLAGS_MAX];
	const struct setting *st;
	int i, r, sandbox = 1, nset = 0;
	long cpus;

	std_fds();
	for (i = 1; i < argc; i++) {
		/* policy settings: applied after the file, so they win */
		if ((st = policy_flag(argv[i]))) {
			if (nset == FLAGS_MAX)
				bad_usage("more than %d settings as flags: put them in a policy file (--policy FILE)",
					  FLAGS_MAX);
			set[nset] = st->flag_value ? st->name : st->flag + 2;
			val[nset++] = st->flag_value ? st->flag_value : value(argc, argv, &i, st->arg);
		} else if (!strcmp(argv[i], "--key"))
			key = value(argc, argv, &i, "a NAME");
		else if (!strcmp(argv[i], "--policy"))
			policy = value(argc, argv, &i, "a FILE");
		else if (!strcmp(argv[i], "--daemon-socket"))
			sock = value(argc, argv, &i, "a PATH");
		else if (!strcmp(argv[i], "--check-policy"))
			checked = value(argc, argv, &i, "a FILE");
		else if (!strcmp(argv[i], "--no-sandbox"))
			sandbox = 0;
		else if (!strcmp(argv[i], "--print-sandbox")) {
			sandbox_print(stdout, &fds);
			return 0;
		} else if (!strcmp(argv[i], "-c"))
			command = value(argc, argv, &i, "a COMMAND");
		else if (!strcmp(argv[i], "--version")) {
			printf("nixgate-serve " VERSION "\n");
			return 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			policy_usage(stdout);
			printf("more in nixgate-serve(8) and nixgate-policy(5)\n");
			return 0;
		} else
			bad_usage("unknown %s '%s'", argv[i][0] == '-' ? "option" : "argument", argv[i]);
	}
	if (checked)
		return check(checked, set, val, nset);
	if (!policy_key_ok(key) && strcmp(key, "-")) {
		fail(EXIT_SYSTEM, "--key: a name of up to %d letters, digits and ._@+- is expected", KEY_MAX);
		key = "-";
		die();
	}
	if (policy && !strcmp(key, "-")) {
		fail(EXIT_SYSTEM, "--policy needs --key to choose a section");
		die();
	}
	load_policy(policy, set, val, nset);
	policy_untrusted_defaults(&pol);
	if (!command)
		command = getenv("SSH_ORIGINAL_COMMAND");
	/* Run directly (no command from sshd): serve with writes, as the admin
	 * configured this key. */
	if (command && cmd_parse(&c, command, strlen(command)) < 0)
		refuse_command(command);
	if (c.what == CMD_ECHO_STARTED) {
		printf("started\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fail(EXIT_SYSTEM, "libsodium failed to initialise");
		die();
	}
	pathset_seed();
	session_slot();
	dm.logfd = 2;
	dm.client_fd = 1;
	snprintf(logtag, sizeof logtag, "nixgate-serve: key %s", key);
	dm.logtag = logtag;
	if (worker_connect(&dm, sock && *sock ? sock : DEFAULT_DAEMON_SOCKET) < 0 || worker_handshake(&dm) < 0)
		die();
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	sv.max_jobs = cpus > 0 ? (uint64_t)cpus : 1;
	sv.d = &dm;
	sv.key = key;
	sv.pol = &pol;
	sv.version = VERSION;
	sv.sandboxed = sandbox;
	sv.audit = &audit;
	sv.write_ok = c.write;
	sv.worker = c.what == CMD_DAEMON;
	/* ImportPaths puts a NAR's metadata after it: the NAR waits here,
	 * unnamed, so memory stays flat. */
	sv.spool_fd = open(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (audit_open(&audit, pol.audit) < 0 || open_slots(&fds) < 0)
		die();
	fds.daemon = dm.fd;
	fds.spool = sv.spool_fd;
	fds.audit = audit.fd;
	/* a path lock held by a stalled session of another key lasts up to
	 * that session's idle timeout: the daemon may take longer than it */
	if (pol.idle_timeout * 1000 + 300000 > WORKER_TIMEOUT_MS)
		worker_timeout(&dm, pol.idle_timeout * 1000 + 300000);
	nonblocking();
	wr_init_fd(&sv.out, 1, sv.outbuf, sizeof sv.outbuf, "client");
	sv.in.dl.idle_ms = sv.out.dl.idle_ms = pol.idle_timeout * 1000;
	sv.out.dl.what = "idle-timeout";
	sv.out.kind = EXIT_REFUSED;
	snprintf(sv.daemon_version, sizeof sv.daemon_version, "%s", dm.version);
	if (privsep_start(&sv, &fds, sandbox) < 0)
		die();
	if (!sandbox)
		fprintf(stderr, "nixgate-serve: key %s: running WITHOUT the sandbox (--no-sandbox)\n", key);
	else if (sandbox_enter_monitor(&fds) < 0)
		die();
	r = sv.worker ? wserve_handshake(&sv) : serve_handshake(&sv);
	if (r < 0 && sv.in.ended)
		(void)sv.parser_end(&sv);
	audit_write(&audit, "key=%s op=session client=%d.%u write=%d trusted=%d allow=%s sandbox=%s result=%s", key,
		    sv.worker ? 1 : 2, sv.minor, sv.write_ok, pol.trusted, policy_ops(pol.allow), sandbox ? "on" : "OFF",
		    r < 0 ? "error" : "ok");
	if (r < 0)
		die();
	while ((r = serve_one(&sv)) == 0)
		;
	if (r < 0)
		die();
	return 0;
}
