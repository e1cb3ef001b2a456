/* Runs files through one harness without libFuzzer, for the normal test run:
 *   fuzz_NAME FILE|DIR...
 * Each file runs in a child of its own, so that a crash, an exit or a hang
 * names its file; prints "PASS fuzz/NAME" or "FAIL fuzz/NAME: FILE (why)". */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define INPUT_MAX (1u << 20)
#define SECONDS_MAX 10
/* The child's status when the harness returned: library code that calls
 * exit(), even exit(0), shows up as another one. */
#define RETURNED 73

static const char *name;
static unsigned failed;

static int run(const char *path, char *why, size_t max)
{
	static uint8_t buf[INPUT_MAX];
	ssize_t n;
	pid_t pid;
	int fd, st;

	if ((fd = open(path, O_RDONLY)) < 0 || (n = read(fd, buf, sizeof buf)) < 0) {
		snprintf(why, max, "cannot read it");
		return -1;
	}
	close(fd);
	fflush(stdout);
	if ((pid = fork()) < 0) {
		snprintf(why, max, "cannot fork");
		return -1;
	}
	if (pid == 0) {
		/* refusals the serve code reports on stderr are expected here */
		dup2(devnull(), 2);
		alarm(SECONDS_MAX);
		LLVMFuzzerTestOneInput(buf, (size_t)n);
		_exit(RETURNED);
	}
	if (waitpid(pid, &st, 0) < 0) {
		snprintf(why, max, "lost its child");
		return -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == RETURNED)
		return 0;
	if (WIFSIGNALED(st))
		snprintf(why, max, WTERMSIG(st) == SIGALRM ? "still running after %d s" : "killed by signal %d",
			 WTERMSIG(st) == SIGALRM ? SECONDS_MAX : WTERMSIG(st));
	else
		snprintf(why, max, "exited %d", WEXITSTATUS(st));
	return -1;
}

static void one(const char *path)
{
	char why[64];

	if (run(path, why, sizeof why) < 0 && !failed++)
		printf("FAIL fuzz/%s: %s (%s)\n", name, path, why);
}

static void walk(const char *path)
{
	struct dirent *e;
	struct stat st;
	char sub[4096];
	DIR *d;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode) || !(d = opendir(path))) {
		one(path);
		return;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
			one(sub);
		}
	closedir(d);
}

int main(int argc, char **argv)
{
	const char *b = strrchr(argv[0], '/');
	int i;

	name = b ? b + 1 : argv[0];
	if (!strncmp(name, "fuzz_", 5))
		name += 5;
	for (i = 1; i < argc; i++)
		walk(argv[i]);
	if (failed > 1)
		printf("  and %u more failing files\n", failed - 1);
	else if (!failed)
		printf("PASS fuzz/%s\n", name);
	return failed != 0;
}
