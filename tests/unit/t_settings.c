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
	s.peer = -1;
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

#define README_MAX (1 << 20)

/* The text of the first backquoted span in cell (up to |), or "". */
static void quoted(const char *cell, char *out, size_t n)
{
	const char *a = strchr(cell, '`'), *bar = strchr(cell, '|'), *b;

	out[0] = 0;
	if (!a || (bar && a > bar) || !(b = strchr(a + 1, '`')) || (size_t)(b - a) > n)
		return;
	snprintf(out, n, "%.*s", (int)(b - a - 1), a + 1);
}

/* Each row of README.md's settings table against policy_settings: the
 * same settings, each flag spelled as the table has it, taking an argument
 * where the README shows one, and a flag without one setting the value the
 * README's policy file line gives. */
void t_settings_readme(void)
{
	static char text[README_MAX + 1];
	static unsigned seen[POLICY_SETTINGS_MAX];
	unsigned char *raw;
	char flag[128], line[128], *row, *next, *eq, *sp;
	const struct setting *s;
	size_t n, i, rows = 0;
	int failed;

	/* the runner runs from the source tree (tests/run.sh) */
	CHECK((raw = slurp(".", "README.md", &n)) != NULL && n < README_MAX);
	if (!raw || n >= README_MAX)
		return;
	memcpy(text, raw, n);
	text[n] = 0;
	row = strstr(text, "\n| flag | policy file line |");
	CHECK(row != NULL);
	for (row = row ? strchr(row + 1, '\n') : NULL; row && row[1] == '|'; row = next) {
		row++;
		next = strchr(row, '\n');
		if (!strncmp(row, "|---", 4))
			continue;
		rows++;
		failed = check_failed;
		quoted(row + 1, flag, sizeof flag);
		quoted(strchr(row + 1, '|') + 1, line, sizeof line);
		CHECK((eq = strstr(line, " = ")) != NULL);
		if (!eq)
			continue;
		*eq = 0;
		s = NULL;
		for (i = 0; i < policy_nsettings; i++)
			if (!strcmp(policy_settings[i].name, line))
				s = &policy_settings[i];
		if (!s) {
			CHECK(!"README names a setting the table lacks");
			printf("  README row of '%s'\n", line);
			continue;
		}
		seen[s - policy_settings]++;
		if ((sp = strchr(flag, ' ')))
			*sp = 0;
		CHECK(s->flag && !strcmp(s->flag, flag));
		CHECK(!sp == (s->flag_value != NULL));
		CHECK(!s->flag_value || !strcmp(s->flag_value, eq + 3));
		if (check_failed > failed)
			printf("  README row of '%s': flag '%s', value '%s'\n", line, flag, eq + 3);
	}
	CHECK(rows == policy_nsettings);
	for (i = 0; i < policy_nsettings; i++)
		if (seen[i] != 1) {
			CHECK(seen[i] == 1);
			printf("  setting %s: %u README rows\n", policy_settings[i].name, seen[i]);
		}
}

/* usage names every setting's flag and file spelling; a flag taking a
 * value is spelled as a name policy_set takes, so main can hand it on and
 * its errors name the flag. */
void t_settings_usage(void)
{
	static char out[16384];
	char want[128];
	struct policy p;
	FILE *f = fmemopen(out, sizeof out - 1, "w");
	size_t i;

	CHECK(f != NULL);
	if (!f)
		return;
	policy_usage(f);
	CHECK(!ferror(f) && ftell(f) < (long)sizeof out - 2);
	fclose(f);
	for (i = 0; i < policy_nsettings; i++) {
		const struct setting *s = &policy_settings[i];

		CHECK(s->flag && policy_flag(s->flag) == s && s->help && *s->help && !strchr(s->help, '\n'));
		snprintf(want, sizeof want, " %s%s%s ", s->flag, s->flag_value ? "" : " ", s->flag_value ? "" : s->arg);
		CHECK(strstr(out, want) != NULL);
		snprintf(want, sizeof want, " %s = %s\n", s->name, s->flag_value ? s->flag_value : s->arg);
		CHECK(strstr(out, want) != NULL);
		policy_init(&p);
		err_clear();
		if (s->flag_value)
			CHECK(policy_set(&p, s->name, s->flag_value, FROM_FLAG) == 0);
		else
			CHECK(policy_set(&p, s->flag + 2, "", FROM_FLAG) == 0 || !strstr(err_msg(), "unknown setting"));
		if (check_failed) {
			printf("  setting %s\n", s->name);
			return;
		}
	}
	CHECK(policy_flag("--key") == NULL && policy_flag("trusted") == NULL);
}

/* How many lines of text are exactly want. */
static unsigned lines_equal(const char *text, const char *want)
{
	size_t n = strlen(want);
	unsigned count = 0;
	const char *at;

	for (at = text; (at = strstr(at, want)); at += n)
		if ((at == text || at[-1] == '\n') && (at[n] == '\n' || !at[n]))
			count++;
	return count;
}

static char *man_page(const char *name, char *buf, size_t cap)
{
	unsigned char *raw;
	size_t n;

	if (!(raw = slurp("man", name, &n)) || n >= cap)
		return NULL;
	memcpy(buf, raw, n);
	buf[n] = 0;
	return buf;
}

/* nixgate-policy(5) names each setting of the table once, in its list of
 * settings (".It Cm NAME No = Ar VALUE"), and no other; nixgate-serve(8)
 * names each setting's flag once, with the table's argument. */
void t_settings_man(void)
{
	static char policy[README_MAX + 1], serve[README_MAX + 1];
	char want[128];
	const char *at;
	size_t i, items = 0;

	CHECK(man_page("nixgate-policy.5", policy, sizeof policy) && man_page("nixgate-serve.8", serve, sizeof serve));
	if (check_failed)
		return;
	for (i = 0; i < policy_nsettings; i++) {
		const struct setting *s = &policy_settings[i];
		const char *arg = s->kind == KIND_BOOL ? "true|false" : s->kind == KIND_KEYS ? "KEY ..." : s->arg;

		snprintf(want, sizeof want, ".It Cm %s No = Ar %s", s->name, arg);
		if (lines_equal(policy, want) != 1) {
			CHECK(!"nixgate-policy(5) lacks a setting of the table, or has it twice");
			printf("  want one line '%s'\n", want);
		}
		snprintf(want, sizeof want, ".It Fl %s%s%s", s->flag + 1, s->flag_value ? "" : " Ar ",
			 s->flag_value ? "" : s->arg);
		if (lines_equal(serve, want) != 1) {
			CHECK(!"nixgate-serve(8) lacks a flag of the table, or has it twice");
			printf("  want one line '%s'\n", want);
		}
	}
	for (at = policy; (at = strstr(at, "\n.It Cm ")); at++)
		items += !!strstr(at, " No = ") && strstr(at, " No = ") < strchr(at + 1, '\n');
	CHECK(items == policy_nsettings);
}
