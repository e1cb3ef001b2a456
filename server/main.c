/* nixgate-serve: the forced command of a build host's authorized_keys line. */
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "sandbox.h"
#include "err.h"
#include "serve.h"
#include "worker.h"

#define VERSION "0.1"

static struct serve sv;
static struct worker dm;
static const char *key = "-";

static void die(void)
{
	fprintf(stderr, "nixgate-serve: key %s: %s\n", key, err_msg());
	exit(err_kind() ? err_kind() : EXIT_SYSTEM);
}

static void usage(void)
{
	fprintf(stderr, "usage: nixgate-serve [--key NAME] [--trusted] [--daemon-socket PATH]\n"
			"                     [--no-sandbox] [--print-sandbox] [-c COMMAND]\n");
	exit(EXIT_REFUSED);
}

int main(int argc, char **argv)
{
	const char *sock = getenv("NIX_DAEMON_SOCKET_PATH"), *command = NULL;
	struct cmd c = {CMD_SERVE, 1};
	struct sandbox_fds fds = {0, 1, 2, -1, -1, -1, SERVE_NAR_MAX};
	int i, r, trusted = 0, sandbox = 1;
	long cpus;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!strcmp(argv[i], "--trusted"))
			trusted = 1;
		else if (!strcmp(argv[i], "--daemon-socket") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "--no-sandbox"))
			sandbox = 0;
		else if (!strcmp(argv[i], "--print-sandbox")) {
			sandbox_print(stdout, &fds);
			return 0;
		} else if (!strcmp(argv[i], "-c") && i + 1 < argc)
			command = argv[++i];
		else if (!strcmp(argv[i], "--version")) {
			printf("nixgate-serve " VERSION "\n");
			return 0;
		} else
			usage();
	}
	if (!command)
		command = getenv("SSH_ORIGINAL_COMMAND");
	/* Run directly (no command from sshd): serve with writes, as the admin
	 * configured this key. */
	if (command && cmd_parse(&c, command, strlen(command)) < 0)
		die();
	if (c.what == CMD_ECHO_STARTED) {
		printf("started\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fail(EXIT_SYSTEM, "libsodium failed to initialise");
		die();
	}
	dm.logfd = 2;
	if (worker_connect(&dm, sock && *sock ? sock : DEFAULT_DAEMON_SOCKET) < 0 || worker_handshake(&dm) < 0)
		die();
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	sv.max_jobs = cpus > 0 ? (uint64_t)cpus : 1;
	sv.d = &dm;
	sv.key = key;
	sv.trusted = trusted;
	sv.write_ok = c.write;
	/* ImportPaths puts a NAR's metadata after it: the NAR waits here,
	 * unnamed, so memory stays flat. */
	sv.spool_fd = open(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	fds.daemon = dm.fd;
	fds.spool = sv.spool_fd;
	if (!sandbox)
		fprintf(stderr, "nixgate-serve: key %s: running WITHOUT the sandbox (--no-sandbox)\n", key);
	else if (sandbox_enter(&fds) < 0)
		die();
	rd_init_fd(&sv.in, 0, sv.inbuf, sizeof sv.inbuf, EXIT_REFUSED, "client");
	wr_init_fd(&sv.out, 1, sv.outbuf, sizeof sv.outbuf, "client");
	if (serve_handshake(&sv) < 0)
		die();
	while ((r = serve_one(&sv)) == 0)
		;
	if (r < 0)
		die();
	return 0;
}
