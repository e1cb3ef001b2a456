/* Unit tests of --check-policy: the effective policy of every key as the
 * host applies it, and each kind of error named by file and line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "checkpolicy.h"
#include "err.h"
#include "policy.h"

#define OUT_MAX 16384

static char file[64], out[OUT_MAX];

/* check_policy on a file holding text; its output in out. */
static int run(const char *text, const char *key, const char *const *set, const char *const *val, int n)
{
	FILE *o;
	int fd, r;

	snprintf(file, sizeof file, "/tmp/nixgate-unit-policy.XXXXXX");
	if ((fd = mkstemp(file)) < 0)
		return -2;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -2;
	}
	close(fd);
	memset(out, 0, sizeof out);
	if (!(o = fmemopen(out, sizeof out - 1, "w")))
		return -2;
	err_clear();
	r = check_policy(o, file, key, set, val, n);
	fclose(o);
	unlink(file);
	return r;
}

/* The value a key's section of out gives name, or "". */
static const char *shown(const char *key, const char *name)
{
	static char v[512];
	char head[128], want[128];
	const char *s, *end, *l;

	v[0] = 0;
	snprintf(head, sizeof head, "\n[key %s]\n", key);
	if (!(s = strstr(out, head)))
		return v;
	s += strlen(head);
	end = strstr(s, "\n[key ");
	snprintf(want, sizeof want, "\n%s = ", name);
	if (!(l = strstr(s - 1, want)) || (end && l > end))
		return v;
	l += strlen(want);
	snprintf(v, sizeof v, "%.*s", (int)strcspn(l, "\n"), l);
	return v;
}

void t_checkpolicy_good(void)
{
	static const char *const set[] = {"max-jobs"}, *const val[] = {"3"};
	const char *text = "# a host\nhost-max-jobs = 4\nmax-log-size = 1M\n\n[key ci]\nallow = query, build\n"
			   "systems = x86_64-linux\nmax-build-time = 2h\n[key laptop]\ntrusted = true\n";
	size_t i;

	CHECK(run(text, NULL, NULL, NULL, 0) == 0);
	CHECK(!strncmp(out, "# ", 2));
	CHECK(strstr(out, "[key ci]") && strstr(out, "[key laptop]") && strstr(out, "[key ci]") < strstr(out, "[key laptop]"));
	/* every setting of the table, for each key */
	for (i = 0; i < policy_nsettings; i++)
		CHECK(*shown("ci", policy_settings[i].name) && *shown("laptop", policy_settings[i].name));
	CHECK(!strcmp(shown("ci", "allow"), "query,build") && !strcmp(shown("ci", "systems"), "x86_64-linux"));
	CHECK(!strcmp(shown("laptop", "allow"), "query,export,import,build") && !strcmp(shown("laptop", "systems"), "any"));
	/* the untrusted defaults apply to ci, not to the trusted laptop; a
	 * value the file sets stays */
	CHECK(!strcmp(shown("ci", "max-nar-size"), "4294967296") && !strcmp(shown("laptop", "max-nar-size"), "none"));
	CHECK(!strcmp(shown("ci", "max-build-time"), "7200") && !strcmp(shown("ci", "max-silent-time"), "7200"));
	/* the file's global settings hold for every key */
	CHECK(!strcmp(shown("ci", "host-max-jobs"), "4") && !strcmp(shown("laptop", "host-max-jobs"), "4"));
	CHECK(!strcmp(shown("laptop", "max-log-size"), "1048576"));
	CHECK(!strcmp(shown("ci", "state-dir"), "/var/lib/nixgate") && !strncmp(shown("ci", "audit-log"), "syslog", 6));

	/* one key, with the forced command's flags after the file */
	CHECK(run(text, "ci", set, val, 1) == 0);
	CHECK(!strcmp(shown("ci", "max-jobs"), "3") && !strstr(out, "[key laptop]"));
	CHECK(run(text, "laptop", NULL, NULL, 0) == 0 && !strcmp(shown("laptop", "max-jobs"), "none"));
}

/* Each kind of error: nothing printed, the message naming file, line and
 * problem. */
void t_checkpolicy_errors(void)
{
	static const struct {
		const char *text, *key, *want; /* want follows "FILE" */
		int line;
	} bad[] = {
		{"[key a]\nmax-nar-size = 12Q\n", NULL, "'12Q' is not a size", 2},
		{"# ok\n[key a]\nfrobnicate = yes\n", NULL, "unknown setting 'frobnicate'", 3},
		{"[key a]\n[key b]\ntrusted = yes\n", "a", "trusted must be true or false, not 'yes'", 3},
		{"[key a]\ntrusted-public-keys = nocolon\n", NULL, "'nocolon' is not a public key", 2},
		{"[key a\n", NULL, "a section is written [key NAME]", 1},
		{"allow = query\n[key a]\n[key b]\n[key a]\n", NULL, "a second section for key a", 4},
		{"[key a]\nhost-max-jobs = 2\n", NULL, "host-max-jobs is a host setting: its place is before any section", 2},
		{"[key a]\n[key ci/1]\n", NULL, "'ci/1' is not a key name", 2},
		{"max-jobs 3\n[key a]\n", NULL, "expected 'name = value' or '[key NAME]'", 1},
		{"trusted = true\n", NULL, ": no section [key NAME]: no key may use it", 0},
		{"[key a]\n", "b", ": no section [key b]", 0},
	};
	static const char *const set[] = {"allow"}, *const val[] = {"query,delete"};
	char want[512];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		CHECK(run(bad[i].text, bad[i].key, NULL, NULL, 0) == -1);
		if (bad[i].line)
			snprintf(want, sizeof want, "%s:%d: %s", file, bad[i].line, bad[i].want);
		else
			snprintf(want, sizeof want, "%s%s", file, bad[i].want);
		CHECK(strstr(err_msg(), want) == err_msg());
		CHECK(out[0] == 0);
		if (check_failed) {
			printf("  case %zu: '%s', want '%s'\n", i, err_msg(), want);
			return;
		}
	}
	CHECK(run("[key a]\n", NULL, set, val, 1) == -1 && strstr(err_msg(), "option --allow: 'delete' is not an operation"));
	CHECK(run("[key a]\n", "a b", NULL, NULL, 0) == -1 && strstr(err_msg(), "--key: a name"));
	err_clear();
	CHECK(check_policy(stdout, "/nonexistent/policy.conf", NULL, NULL, NULL, 0) == -1 &&
	      strstr(err_msg(), "/nonexistent/policy.conf"));
}
