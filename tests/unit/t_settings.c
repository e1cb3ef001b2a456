/* Unit tests of the settings table: NixgateInfo's pairs as clients parse
 * them, and the README's settings table and usage() naming every setting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "policy.h"
#include "serve.h"

#define INFO_OUT_MAX 8192

/* The pairs NixgateInfo sends for policy p, read back into names[] and
 * values[] (n of them); -1 when the answer is not well formed. */
static int info(const struct policy *p, char names[][64], char values[][512], size_t cap, size_t *n)
{
	static struct serve s;
	static struct worker d;
	static struct slots none;
	static unsigned char out[INFO_OUT_MAX];
	unsigned char in[8];
	struct audit a = {-1, 0, 0};
	struct rd r;
	uint64_t count, i;

	memset(&s, 0, sizeof s);
	le64_put(in, CMD_NIXGATE_INFO);
	rd_init_mem(&s.in, in, sizeof in, EXIT_REFUSED, "client");
	wr_init_mem(&s.out, out, sizeof out);
	s.d = &d;
	s.pol = p;
	s.key = "ci";
	s.version = "9.9";
	s.audit = &a;
	s.key_slots = s.host_slots = &none;
	s.max_jobs = 3;
	err_clear();
	if (serve_one(&s) != 0)
		return -1;
	rd_init_mem(&r, out, s.out.len, EXIT_REFUSED, "server");
	if (rd_u64(&r, &count) < 0 || count > cap)
		return -1;
	for (i = 0; i < count; i++)
		if (rd_str(&r, names[i], 63, NULL, "name") < 0 || rd_str(&r, values[i], 511, NULL, "value") < 0)
			return -1;
	*n = (size_t)count;
	return rd_at_eof(&r) == 1 ? 0 : -1;
}

/* NixgateInfo's order and spelling are what the client's ping and hook
 * parse: a change to either must be deliberate. load is the host's, so
 * only its form is checked. */
void t_settings_info(void)
{
	static const char *const want[][2] = {
		{"server", "nixgate-serve"}, {"version", "9.9"}, {"key", "ci"}, {"trusted", "false"},
		{"allow", "query,build"}, {"systems", "x86_64-linux aarch64-linux"}, {"features", "any"},
		{"max-nar-size", "1048576"}, {"max-build-time", "7200"}, {"max-silent-time", "none"},
		{"max-log-size", "none"}, {"substitute", "false"},
		{"trusted-public-keys", "a-1:H7vJwcRAr64va2fujVmSXbICbxPGw5xSZQjW6jOxSrg= "
					"b-1:UlC27exuDLYdv6PzIr/7UgNm96FQ7o710TjjaXQaOKA="},
		{"max-jobs", "4"}, {"max-sessions", "none"}, {"host-max-jobs", "16"}, {"builds", "0"},
		{"host-builds", "0"}, {"load", NULL}, {"cores", "3"}, {"idle-timeout", "120"},
	};
	static char names[64][64], values[64][512];
	struct policy p;
	size_t n = 0, i;
	char *end;

	policy_init(&p);
	CHECK(policy_set(&p, "allow", "query build", FROM_FILE) == 0);
	CHECK(policy_set(&p, "systems", "x86_64-linux aarch64-linux", FROM_FILE) == 0);
	CHECK(policy_set(&p, "max-nar-size", "1M", FROM_FILE) == 0);
	CHECK(policy_set(&p, "max-build-time", "2h", FROM_FILE) == 0);
	CHECK(policy_set(&p, "substitute", "false", FROM_FILE) == 0);
	CHECK(policy_set(&p, "trusted-public-keys", "a-1:H7vJwcRAr64va2fujVmSXbICbxPGw5xSZQjW6jOxSrg= "
		"b-1:UlC27exuDLYdv6PzIr/7UgNm96FQ7o710TjjaXQaOKA=", FROM_FILE) == 0);
	CHECK(policy_set(&p, "max-jobs", "4", FROM_FILE) == 0);
	CHECK(policy_set(&p, "host-max-jobs", "16", FROM_FILE) == 0);
	CHECK(policy_set(&p, "idle-timeout", "2m", FROM_FILE) == 0);
	CHECK(policy_set(&p, "audit-log", "none", FROM_FILE) == 0);
	CHECK(policy_set(&p, "state-dir", "/tmp/x", FROM_FILE) == 0);
	CHECK(info(&p, names, values, 64, &n) == 0);
	CHECK(n == sizeof want / sizeof *want);
	for (i = 0; i < n && i < sizeof want / sizeof *want; i++) {
		CHECK(!strcmp(names[i], want[i][0]));
		if (want[i][1])
			CHECK(!strcmp(values[i], want[i][1]));
		else
			CHECK(strtod(values[i], &end) >= 0 && !*end && end - values[i] >= 4 && end[-3] == '.');
		if (check_failed) {
			printf("  pair %zu: %s = %s\n", i, names[i], values[i]);
			break;
		}
	}

	/* the defaults, and a list that allows nothing */
	policy_init(&p);
	CHECK(policy_set(&p, "features", "", FROM_FILE) == 0 && policy_set(&p, "trusted", "true", FROM_FILE) == 0);
	CHECK(info(&p, names, values, 64, &n) == 0 && n == sizeof want / sizeof *want);
	CHECK(!strcmp(values[3], "true") && !strcmp(values[4], "query,export,import,build"));
	CHECK(!strcmp(values[5], "any") && !strcmp(values[6], "none") && !strcmp(values[11], "true"));
	CHECK(!strcmp(values[12], "none") && !strcmp(values[7], "none") && !strcmp(values[20], "600"));
}
