#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "err.h"
#include "harness.h"
#include "serve.h"

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
	};
	size_t i;

	policy_init(p);
	for (i = 0; i < sizeof set / sizeof *set; i++)
		if ((config & set[i].bit) && policy_set(p, set[i].name, set[i].value, FROM_FLAG) < 0)
			abort();
}

void session(unsigned config, unsigned minor, const uint8_t *client, size_t clen,
	     const uint8_t *daemon, size_t dlen)
{
	static struct serve s;
	static struct worker d;
	static struct policy pol;
	static struct audit audit;
	static struct slots slots;

	if (sodium_init() < 0)
		abort();
	policy(&pol, config);
	d.fd = -1;
	d.minor = minor;
	d.logfd = devnull();
	rd_init_mem(&d.r, daemon, dlen, EXIT_SYSTEM, "nix-daemon");
	wr_init_fd(&d.w, devnull(), d.wbuf, sizeof d.wbuf, "nix-daemon");
	audit.fd = devnull();
	audit.syslog = 0;
	audit.pid = 1;
	s.d = &d;
	s.pol = &pol;
	s.audit = &audit;
	s.key = "fuzz";
	s.version = "fuzz";
	/* no build limit: a slot is always free, and no file is opened */
	if (slots_open(&slots, "/nonexistent", "fuzz", 0) < 0)
		abort();
	s.key_slots = s.host_slots = &slots;
	s.write_ok = (config & SESSION_WRITE) != 0;
	s.spool_fd = spool();
	s.max_jobs = 1;
	rd_init_mem(&s.in, client, clen, EXIT_REFUSED, "client");
	wr_init_fd(&s.out, devnull(), s.outbuf, sizeof s.outbuf, "client");
	if (serve_handshake(&s) == 0)
		while (serve_one(&s) == 0)
			;
	pathset_free(&s.ps);
	pathset_free(&s.seen);
	err_clear();
}
