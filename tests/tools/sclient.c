/* sclient: a small serve-protocol client for tests and benchmarks. It runs a
 * server command on pipes, speaks a chosen protocol minor, and prints what it
 * got in plain text.
 *   sclient MINOR OP [ARG...] -- COMMAND [ARG...]
 * OP: hello | valid PATH... | info PATH... | build PATH[!OUT]... | closure PATH...
 *     | build-valid PATH[!OUT] PATH... (that build, then in the same session
 *       whether the other paths are valid: a session still in step after it)
 *     | export PATH... (the raw reply) | import FILE (an export stream)
 *     | sessions N (N handshakes + one QueryValidPaths each, for timing)
 *     | head CMD PATH (only the start of a request, the rest never sent:
 *       BuildPaths (6) counting 1000 paths with PATH the first, or
 *       BuildDerivation (8) of PATH without its derivation)
 *   sclient 0 dsessions N -- SOCKET: the same straight to a nix-daemon socket,
 *     the floor under any server that uses the daemon */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static FILE *to, *from;
static unsigned minor;
static pid_t child;
static int finish(pid_t p);

static void die(const char *m) { fprintf(stderr, "sclient: %s\n", m); exit(2); }

static void put(uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
	fwrite(b, 1, 8, to);
}

static void puts_(const char *s)
{
	size_t n = strlen(s);
	static const char z[8];
	put(n);
	fwrite(s, 1, n, to);
	fwrite(z, 1, (8 - n % 8) % 8, to);
}

static uint64_t get(void)
{
	unsigned char b[8];
	uint64_t v = 0;
	if (fread(b, 1, 8, from) != 8) {
		/* a refusal ends the session: its exit status is the answer */
		if (!child) die("server closed the connection");
		printf("closed\nexit %d\n", finish(child));
		exit(0);
	}
	for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
	return v;
}

static char *gets_(void)
{
	uint64_t n = get();
	char *s, pad[8];
	if (n > 1 << 20) die("string too long");
	s = malloc(n + 1);
	if (fread(s, 1, n, from) != n || fread(pad, 1, (8 - n % 8) % 8, from) != (8 - n % 8) % 8)
		die("short string");
	s[n] = 0;
	return s;
}

static void list(char **a, int n) { put((uint64_t)n); for (int i = 0; i < n; i++) puts_(a[i]); }
static void getlist(const char *label)
{
	uint64_t n = get();
	for (uint64_t i = 0; i < n; i++) printf("%s %s\n", label, gets_());
}

static pid_t spawn(char **cmd)
{
	int a[2], b[2];
	pid_t p;
	if (pipe(a) || pipe(b)) die("pipe");
	if ((p = fork()) == 0) {
		dup2(a[0], 0); dup2(b[1], 1);
		close(a[0]); close(a[1]); close(b[0]); close(b[1]);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(a[0]); close(b[1]);
	to = fdopen(a[1], "w");
	from = fdopen(b[0], "r");
	return p;
}

static int finish(pid_t p)
{
	int st;
	if (to) fclose(to);
	to = NULL;
	if (from && fgetc(from) != EOF) printf("trailing bytes after the reply\n");
	if (from) fclose(from);
	from = NULL;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void hello(void)
{
	put(0x390c9deb);
	put(0x200 | minor);
	fflush(to);
	if (get() != 0x5452eecb) die("bad magic from server");
	printf("server-version 2.%llu\n", (unsigned long long)(get() & 0xff));
}

/* The daemon's log stream up to STDERR_LAST; these requests log nothing. */
static void daemon_last(void)
{
	uint64_t m = get();

	if (m != 0x616c7473) die("the daemon did not answer with STDERR_LAST");
}

static void daemon_session(const char *sock)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint64_t v;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("cannot connect to the daemon");
	to = fdopen(fd, "w");
	from = fdopen(dup(fd), "r");
	put(0x6e697863);
	fflush(to);
	if (get() != 0x6478696f) die("bad daemon magic");
	v = get() & 0xff;
	put(0x122);
	put(0); /* no CPU affinity */
	put(0); /* reserve space */
	fflush(to);
	if (v >= 33) free(gets_());
	if (v >= 35) get();
	daemon_last();
	put(31); put(0); put(0); /* QueryValidPaths: no paths, no substitution */
	fflush(to);
	daemon_last();
	get();
	fclose(to); fclose(from);
	to = from = NULL;
}

int main(int argc, char **argv)
{
	int sep = 0, n;
	char **args;
	const char *op;
	pid_t p;

	if (argc < 5) die("usage: sclient MINOR OP [ARG...] -- COMMAND...");
	for (int i = 1; i < argc; i++) if (!strcmp(argv[i], "--")) { sep = i; break; }
	if (!sep || sep + 1 >= argc) die("no command after --");
	minor = (unsigned)atoi(argv[1]);
	op = argv[2];
	args = argv + 3;
	n = sep - 3;
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(op, "dsessions")) {
		for (int i = atoi(args[0]); i > 0; i--)
			daemon_session(argv[sep + 1]);
		return 0;
	}
	if (!strcmp(op, "sessions")) {
		int count = atoi(args[0]);
		for (int i = 0; i < count; i++) {
			p = spawn(argv + sep + 1);
			hello();
			put(1); put(0); put(0); put(0);
			fflush(to);
			get();
			if (finish(p) != 0) die("session failed");
		}
		return 0;
	}
	p = child = spawn(argv + sep + 1);
	hello();
	if (!strcmp(op, "valid")) {
		put(1); put(0); put(0); list(args, n); fflush(to);
		getlist("valid");
	} else if (!strcmp(op, "info")) {
		put(2); list(args, n); fflush(to);
		for (;;) {
			char *path = gets_();
			if (!*path) break;
			printf("path %s\nderiver %s\n", path, gets_());
			getlist("ref");
			printf("download-size %llu\n", (unsigned long long)get());
			printf("nar-size %llu\n", (unsigned long long)get());
			if (minor >= 4) {
				printf("nar-hash %s\n", gets_());
				printf("ca %s\n", gets_());
				getlist("sig");
			}
		}
	} else if (!strcmp(op, "closure")) {
		put(7); put(0); list(args, n); fflush(to);
		getlist("closure");
	} else if (!strcmp(op, "build") || !strcmp(op, "build-valid")) {
		int then_valid = !strcmp(op, "build-valid");

		if (then_valid && n < 2) die("build-valid needs a build path and a path to query");
		put(6); list(args, then_valid ? 1 : n);
		put(0); put(0);                 /* max silent time, timeout */
		if (minor >= 2) put(0);         /* max log size */
		if (minor >= 3) { put(0); put(0); }
		if (minor >= 7) put(0);
		fflush(to);
		uint64_t st = get();
		printf("status %llu\n", (unsigned long long)st);
		if (st) printf("error %s\n", gets_());
		if (then_valid) {
			put(1); put(0); put(0); list(args + 1, n - 1); fflush(to);
			getlist("valid");
		}
	} else if (!strcmp(op, "export")) {
		int c;
		put(5); put(0); list(args, n); fclose(to); to = NULL;
		while ((c = fgetc(from)) != EOF) putchar(c);
		fclose(from); from = NULL;
	} else if (!strcmp(op, "import")) {
		FILE *f = fopen(args[0], "rb");
		int c;
		if (!f) die("cannot open the export file");
		put(4);
		while ((c = fgetc(f)) != EOF) fputc(c, to);
		fclose(f);
		fflush(to);
		printf("import %llu\n", (unsigned long long)get());
	} else if (!strcmp(op, "head")) {
		int c = atoi(args[0]);

		if (n < 2 || (c != 6 && c != 8)) die("head needs 6 or 8 and a path");
		put((uint64_t)c);
		if (c == 6) put(1000);
		puts_(args[1]);
		fflush(to);
		printf("answer %llu\n", (unsigned long long)get());
	} else if (strcmp(op, "hello"))
		die("unknown op");
	printf("exit %d\n", finish(p));
	return 0;
}
