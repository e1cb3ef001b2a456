/* nixgate: the client side, run by root on the machine that sends builds.
 * A subcommand table; ping, doctor and the build hook come next. */
#include <stdio.h>
#include <string.h>

#include "err.h"

#define VERSION "0.1"

static int cmd_version(int argc, char **argv)
{
	printf("nixgate " VERSION "\n");
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} cmds[] = {
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

	if (argc < 2)
		return cmd_help(argc, argv), EXIT_REFUSED;
	for (i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "nixgate: unknown command '%s' (try 'nixgate help')\n", argv[1]);
	return EXIT_REFUSED;
}
