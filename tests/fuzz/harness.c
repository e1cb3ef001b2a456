#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "err.h"
#include "harness.h"
#include "parser.h"
#include "serve.h"
#include "wserve.h"

/* Signed the paths of tests/unit/t_trust.c: seeds can carry real signatures. */
#define FUZZ_KEY "vec-key-1:H7vJwcRAr64va2fujVmSXbICbxPGw5xSZQjW6jOxSrg="

int devnull(void)
{
	static int fd = -1;

	if (fd < 0 && (fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		abort();
	return fd;
}

char *copy(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);

	if (s)
		memcpy(s, data, size);
	return s;
}

char *copy_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = 0;
	}
	return s;
}

static int worker;

void harness_worker(int on)
{
	worker = on;
}

/* The ImportPaths spool: in memory, kept across inputs as main keeps its file
 * across requests. */
static int spool(void)
{
	static int fd = -1;

	if (fd < 0 && (fd = memfd_create("nixgate-fuzz-spool", MFD_CLOEXEC)) < 0)
		abort();
	return fd;
}

static void policy(struct policy *p, unsigned config)
{
	static const struct { unsigned bit; const char *name, *value; } set[] = {
		{SESSION_TRUSTED, "trusted", "true"},
		{SESSION_KEYS, "trusted-public-keys", FUZZ_KEY},
		{SESSION_SYSTEMS, "systems", "x86_64-linux"},
		{SESSION_FEATURES, "features", "kvm big-parallel"},
		{SESSION_NAR_CAP, "max-nar-size", "1K"},
		{SESSION_READ_ONLY, "allow", "query,export"},
		{SESSION_NO_SUBST, "substitute", "false"},
	};
	size_t i;

	policy_init(p);
	for (i = 0; i < sizeof set / sizeof *set; i++)
		if ((config & set[i].bit) && policy_set(p, set[i].name, set[i].value, FROM_FLAG) < 0)
			abort();
}

int split_input(const uint8_t *data, size_t size, struct split *sp)
{
	size_t n;

	if (size < 6)
		return -1;
	n = (size_t)(data[2] | data[3] << 8 | (uint32_t)data[4] << 16 | (uint32_t)data[5] << 24);
	if (n > size - 6)
		n = size - 6;
	sp->config = data[0];
	/* the daemon speaks a minor between the oldest nixgate takes and its own */
	sp->minor = WORKER_MIN_MINOR + data[1] % ((WORKER_VERSION & 0xff) - WORKER_MIN_MINOR + 1);
	sp->in = data + 6;
	sp->ilen = n;
	sp->daemon = data + 6 + n;
	sp->dlen = size - 6 - n;
	return 0;
}

/* A memory file for what one side writes, emptied first. */
static int capture(int *fd, const char *name)
{
	if (*fd < 0 && (*fd = memfd_create(name, MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(*fd, 0) < 0 || lseek(*fd, 0, SEEK_SET) < 0)
		abort();
	return *fd;
}

static uint8_t *captured(int fd, size_t *n)
{
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t *b = malloc(end > 0 ? (size_t)end : 1);

	if (end < 0 || !b || pread(fd, b, (size_t)end, 0) != (ssize_t)end)
		abort();
	*n = (size_t)end;
	return b;
}

static void setup(struct serve *s, struct policy *pol, unsigned config)
{
	static struct audit audit;
	static struct slots slots;

	if (sodium_init() < 0)
		abort();
	policy(pol, config);
	audit.fd = devnull();
	audit.syslog = 0;
	audit.pid = 1;
	s->pol = pol;
	s->audit = &audit;
	s->key = "fuzz";
	s->version = "fuzz";
	s->peer = -1;
	s->parser_end = NULL;
	/* no build limit: a slot is always free, and no file is opened */
	if (slots_open(&slots, "/nonexistent", "fuzz", 0) < 0)
		abort();
	s->key_slots = s->host_slots = &slots;
	/* the worker protocol has no read-only mode (cmd.c) */
	s->worker = worker;
	s->write_ok = worker || (config & SESSION_WRITE) != 0;
	s->max_jobs = 1;
}

void parser_session(unsigned config, const uint8_t *client, size_t clen, uint8_t **fwd, size_t *flen)
{
	static struct serve s;
	static struct policy pol;
	static int fd = -1;

	setup(&s, &pol, config);
	s.d = NULL;
	s.spool_fd = -1;
	snprintf(s.daemon_version, sizeof s.daemon_version, "%s", "2.18.1");
	wr_init_fd(&s.out, fwd ? capture(&fd, "nixgate-fuzz-fwd") : devnull(), s.outbuf, sizeof s.outbuf, "the monitor");
	rd_init_mem(&s.in, client, clen, EXIT_REFUSED, "client");
	s.in.tee = &s.out;
	(void)parser_run(&s);
	if (getenv("NIXGATE_FUZZ_DEBUG"))
		dprintf(3, "parser: %s\n", err_msg());
	s.in.tee = NULL;
	(void)wr_flush(&s.out);
	if (fwd)
		*fwd = captured(fd, flen);
	pathset_free(&s.ps);
	err_clear();
}

void monitor_session(unsigned config, unsigned minor, const uint8_t *chan, size_t chlen,
		     const uint8_t *daemon, size_t dlen)
{
	static struct serve s;
	static struct worker d;
	static struct policy pol;
	static int fd = -1;
	uint8_t *sent;
	size_t n;

	setup(&s, &pol, config);
	memset(&d, 0, sizeof d);
	d.fd = -1;
	d.minor = minor;
	d.logfd = devnull();
	rd_init_mem(&d.r, daemon, dlen, EXIT_SYSTEM, "nix-daemon");
	wr_init_fd(&d.w, capture(&fd, "nixgate-fuzz-daemon"), d.wbuf, sizeof d.wbuf, "nix-daemon");
	s.d = &d;
	s.spool_fd = spool();
	rd_init_mem(&s.in, chan, chlen, EXIT_REFUSED, "client");
	wr_init_fd(&s.out, devnull(), s.outbuf, sizeof s.outbuf, "client");
	if ((worker ? wserve_handshake(&s) : serve_handshake(&s)) == 0)
		while (serve_one(&s) == 0)
			;
	(void)wr_flush(&d.w);
	/* why a seed ended where it did, when writing one */
	if (getenv("NIXGATE_FUZZ_DEBUG"))
		dprintf(3, "monitor: %s\n", err_msg());
	sent = captured(fd, &n);
	daemon_check(worker ? config | SESSION_WRITE : config, minor, &pol, sent, n);
	free(sent);
	pathset_free(&s.ps);
	pathset_free(&s.seen);
	err_clear();
}

void session(unsigned config, unsigned minor, const uint8_t *client, size_t clen,
	     const uint8_t *daemon, size_t dlen)
{
	uint8_t *fwd;
	size_t n;

	parser_session(config, client, clen, &fwd, &n);
	monitor_session(config, minor, fwd, n, daemon, dlen);
	free(fwd);
}
