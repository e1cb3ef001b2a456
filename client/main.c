/* nixgate: the client side, run by root on the machine that sends builds. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* A wrong command line names what is wrong and where the right one is
 * described, then the synopsis, on stderr. */
static int usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cmd_ping(int argc, char **argv)
{
	static struct store_uri u;
	static struct ping p;
	int json = argc >= 2 && !strcmp(argv[1], "--json");

	if (argc > 1 + json && argv[1 + json][0] == '-')
		return usage("ping", "unknown option '%s'", argv[1 + json]);
	if (argc < 2 + json)
		return usage("ping", "a host is expected");
	if (argc > 2 + json)
		return usage("ping", "one host at a time: '%s' is one too many", argv[2 + json]);
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
		else if (!strcmp(argv[i], "--builders"))
			return usage("doctor", "--builders needs a SPEC, as in nix.conf's builders");
		else
			return usage("doctor", "unknown argument '%s'", argv[i]);
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

static int cmd_hook(int argc, char **argv)
{
	/* the daemon's end is a pipe: at a terminal, a person typed it */
	if (isatty(0))
		return usage("build-hook", "nix-daemon runs the hook: build-hook = PATH/nixgate-build-hook in nix.conf");
	return hook_main(argc, argv);
}

static const struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *args;
	const char *help;
} cmds[] = {
	{"ping", cmd_ping, "[--json] ssh://[USER@]HOST[?ssh-key=PATH] | HOST",
	 "check one build host: reachable, server, timings, the key's policy"},
	{"doctor", cmd_doctor, "[--json] [--builders SPEC]", "check every builder of the local Nix configuration"},
	{"build-hook", cmd_hook, "VERBOSITY", "the build hook of root's nix-daemon (or run as nixgate-build-hook)"},
	{"version", cmd_version, "", "print the version (also --version)"},
	{"help", cmd_help, "[COMMAND]", "list the commands, or describe one (also --help, COMMAND --help)"},
};
#define NCMDS (sizeof cmds / sizeof *cmds)

static const struct command *command(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (!strcmp(name, cmds[i].name))
			return &cmds[i];
	return NULL;
}

static void synopsis(FILE *f, const struct command *c)
{
	fprintf(f, "usage: nixgate %s%s%s\n", c->name, *c->args ? " " : "", c->args);
}

static int usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nixgate %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see nixgate %s --help\n", cmd);
	synopsis(stderr, command(cmd));
	return EXIT_REFUSED;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;
	size_t i;

	if (argc > 2) {
		fprintf(stderr, "nixgate help: one command at a time; see nixgate --help\n");
		return EXIT_REFUSED;
	}
	if (argc == 2 && !(c = command(argv[1]))) {
		fprintf(stderr, "nixgate help: no command '%s'; see nixgate --help\n", argv[1]);
		return EXIT_REFUSED;
	}
	if (argc == 2) {
		synopsis(stdout, c);
		printf("  %s\nmore in nixgate(1)\n", c->help);
		return 0;
	}
	printf("usage: nixgate COMMAND [ARG...]\n");
	for (i = 0; i < NCMDS; i++)
		printf("  %-10s %s\n", cmds[i].name, cmds[i].help);
	printf("nixgate COMMAND --help describes one; more in nixgate(1)\n");
	return 0;
}

static int help_asked(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

int main(int argc, char **argv)
{
	const struct command *c;
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	/* the daemon runs its hook as "<name> <verbosity>" */
	if (!strcmp(base, "nixgate-build-hook")) {
		if (argc == 2 && help_asked(argv[1]))
			return cmd_help(2, (char *[]){"help", "build-hook", NULL});
		if (argc == 2 && !strcmp(argv[1], "--version"))
			return cmd_version(1, argv);
		return cmd_hook(argc, argv);
	}
	if (argc < 2) {
		fprintf(stderr, "nixgate: a command is expected (ping, doctor, build-hook, version, help); "
				"see nixgate --help\n");
		return EXIT_REFUSED;
	}
	if (help_asked(argv[1]))
		return cmd_help(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	if (!(c = command(argv[1]))) {
		fprintf(stderr, "nixgate: unknown %s '%s'; see nixgate --help\n", argv[1][0] == '-' ? "option" : "command",
			argv[1]);
		return EXIT_REFUSED;
	}
	if (argc == 3 && help_asked(argv[2]))
		return cmd_help(2, (char *[]){"help", argv[1], NULL});
	return c->fn(argc - 1, argv + 1);
}
