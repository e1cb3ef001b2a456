/* nixgate: the client side, run by root on the machine that sends builds. */
#include <stdio.h>
#include <string.h>

#include "doctor.h"
#include "hook.h"
#include "err.h"
#include "machines.h"
#include "ping.h"

#define VERSION "0.1"
/* Nothing answered as it should: the host is not usable as a builder. */
#define EXIT_UNUSABLE 1

static int cmd_version(int argc, char **argv)
{
	printf("nixgate " VERSION "\n");
	return 0;
}

static int failed(const char *what)
{
	fprintf(stderr, "nixgate: %s: %s\n", what, err_msg());
	return err_kind() ? err_kind() : EXIT_SYSTEM;
}

static int usage(const char *u)
{
	fprintf(stderr, "usage: nixgate %s\n", u);
	return EXIT_REFUSED;
}

static int cmd_ping(int argc, char **argv)
{
	static struct store_uri u;
	static struct ping p;
	int json = argc == 3 && !strcmp(argv[1], "--json");

	if (argc != 2 + json)
		return usage("ping [--json] ssh://[USER@]HOST[?ssh-key=PATH] | HOST");
	if (uri_parse(&u, argv[1 + json]) < 0 || ping(&p, &u) < 0)
		return failed("ping");
	if (json)
		ping_json(stdout, &p);
	else if (p.usable)
		ping_print(stdout, &p);
	else
		fprintf(stderr, "nixgate: %s is not usable: %s; fix: %s\n", p.uri, p.cause, p.fix);
	ping_free(&p);
	return p.usable ? 0 : EXIT_UNUSABLE;
}

static int cmd_doctor(int argc, char **argv)
{
	static struct machine m[MACHINES_MAX];
	static struct daemon_hook h;
	static char builders[BUILDERS_MAX + 1];
	int json = 0, n, i, bad;
	const char *given = NULL;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--builders") && i + 1 < argc)
			given = argv[++i];
		else
			return usage("doctor [--json] [--builders SPEC]");
	if (given)
		snprintf(builders, sizeof builders, "%s", given);
	else if (machines_builders(builders, sizeof builders) < 0)
		return failed("doctor");
	if ((n = machines_parse(m, MACHINES_MAX, builders, 0)) < 0)
		return failed("doctor");
	daemon_hook_look(&h);
	if (json)
		printf("{\"daemon\":");
	bad = doctor_daemon(stdout, &h, json);
	if (json)
		printf(",\"builders\":[");
	else if (n == 0)
		printf("no builders configured (builders = %s)\n", builders);
	bad += doctor_run(stdout, m, (unsigned)n, &h, json);
	if (json)
		printf("]}\n");
	return bad ? EXIT_UNUSABLE : 0;
}

static int cmd_help(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} cmds[] = {
	{"ping", cmd_ping, "check one build host: reachable, server, timings, the key's policy"},
	{"doctor", cmd_doctor, "check every builder of the local Nix configuration"},
	{"build-hook", hook_main, "the build hook of root's nix-daemon (or run as nixgate-build-hook)"},
	{"version", cmd_version, "print the version"},
	{"help", cmd_help, "list the commands"},
};

static int cmd_help(int argc, char **argv)
{
	size_t i;

	printf("usage: nixgate COMMAND [ARG...]\n");
	for (i = 0; i < sizeof cmds / sizeof *cmds; i++)
		printf("  %-10s %s\n", cmds[i].name, cmds[i].help);
	return 0;
}

int main(int argc, char **argv)
{
	size_t i;

	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	/* the daemon runs its hook as "<name> <verbosity>" */
	if (!strcmp(base, "nixgate-build-hook"))
		return hook_main(argc, argv);
	if (argc < 2)
		return cmd_help(argc, argv), EXIT_REFUSED;
	for (i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "nixgate: unknown command '%s' (try 'nixgate help')\n", argv[1]);
	return EXIT_REFUSED;
}
