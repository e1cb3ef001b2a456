#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "policy.h"
#include "words.h"

enum { S_TRUSTED, S_ALLOW, S_KEYS, S_SYSTEMS, S_FEATURES, S_NAR, S_BUILD_TIME, S_SILENT_TIME,
       S_LOG_SIZE, S_SUBSTITUTE, S_AUDIT, S_MAX_JOBS, S_HOST_MAX_JOBS, S_STATE_DIR,
       S_IDLE_TIMEOUT, S_MAX_SESSIONS };

enum { BOOL, OPS, KEYS, WORDS, SIZE, DURATION, TEXT, COUNT };

static const struct { const char *name; int id, type; } settings[] = {
	{"trusted", S_TRUSTED, BOOL},
	{"allow", S_ALLOW, OPS},
	{"trusted-public-key", S_KEYS, KEYS},
	{"trusted-public-keys", S_KEYS, KEYS},
	{"systems", S_SYSTEMS, WORDS},
	{"features", S_FEATURES, WORDS},
	{"max-nar-size", S_NAR, SIZE},
	{"max-build-time", S_BUILD_TIME, DURATION},
	{"max-silent-time", S_SILENT_TIME, DURATION},
	{"max-log-size", S_LOG_SIZE, SIZE},
	{"substitute", S_SUBSTITUTE, BOOL},
	{"audit-log", S_AUDIT, TEXT},
	{"max-jobs", S_MAX_JOBS, COUNT},
	{"host-max-jobs", S_HOST_MAX_JOBS, COUNT},
	{"state-dir", S_STATE_DIR, TEXT},
	{"idle-timeout", S_IDLE_TIMEOUT, DURATION},
	{"max-sessions", S_MAX_SESSIONS, COUNT},
};

static const char *ops[] = {"query", "export", "import", "build"};

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof *p);
	p->allow = ALLOW_ALL;
	p->any_system = p->any_feature = 1;
	p->substitute = 1;
	p->idle_timeout = IDLE_TIMEOUT_DEFAULT;
}

void policy_untrusted_defaults(struct policy *p)
{
	if (p->trusted)
		return;
	if (!p->max_nar_size)
		p->max_nar_size = UNTRUSTED_NAR_MAX;
	if (!p->max_build_time)
		p->max_build_time = UNTRUSTED_BUILD_TIME;
	if (!p->max_silent_time)
		p->max_silent_time = UNTRUSTED_SILENT_TIME;
}

const char *policy_ops(unsigned allow)
{
	static char out[64];
	size_t i;

	out[0] = 0;
	for (i = 0; i < 4; i++)
		if (allow & (1u << i))
			snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", out[0] ? "," : "", ops[i]);
	return out[0] ? out : "nothing";
}

/* A number with an optional suffix from units (each with its factor). */
static int number(const char *v, const char *units, const uint64_t *factor, uint64_t *out, const char *what)
{
	unsigned long long n;
	const char *u;
	char *end;

	if (!strcmp(v, "none")) {
		*out = 0;
		return 0;
	}
	errno = 0;
	n = strtoull(v, &end, 10);
	if (!isdigit((unsigned char)*v) || errno || n == 0)
		goto bad;
	if (*end) {
		if (end[1] || !(u = strchr(units, *end)))
			goto bad;
		if (n > UINT64_MAX / factor[u - units])
			goto bad;
		n *= factor[u - units];
	}
	*out = n;
	return 0;
bad:
	if (!*units)
		return fail(EXIT_SYSTEM, "'%s' is not a %s (a positive number, or none)", v, what);
	return fail(EXIT_SYSTEM, "'%s' is not a %s (a positive number with an optional %s suffix, or none)",
		    v, what, units);
}

static int allow_list(struct policy *p, const char *v)
{
	const char *w;
	size_t n, i;

	p->allow = 0;
	while ((w = words_next(&v, &n, 1))) {
		for (i = 0; i < 4; i++)
			if (strlen(ops[i]) == n && !memcmp(ops[i], w, n))
				break;
		if (i == 4)
			return fail(EXIT_SYSTEM, "'%.*s' is not an operation (query, export, import, build)", (int)n, w);
		p->allow |= 1u << i;
	}
	return 0;
}

static int words(char *dst, const char *v)
{
	const char *w;
	size_t n, at = 0;

	while ((w = words_next(&v, &n, 1))) {
		if (at + n + 1 > POLICY_LIST_MAX)
			return fail(EXIT_SYSTEM, "list longer than %u bytes", POLICY_LIST_MAX);
		if (at)
			dst[at++] = ' ';
		memcpy(dst + at, w, n);
		at += n;
	}
	dst[at] = 0;
	return 0;
}

static int keys(struct policy *p, const char *v)
{
	const char *w;
	size_t n;

	while ((w = words_next(&v, &n, 0))) {
		if (p->nkeys >= POLICY_KEYS_MAX)
			return fail(EXIT_SYSTEM, "more than %u trusted public keys", POLICY_KEYS_MAX);
		if (pubkey_parse(&p->keys[p->nkeys], w, n) < 0)
			return -1;
		p->nkeys++;
	}
	return 0;
}

int policy_set(struct policy *p, const char *name, const char *v, int from)
{
	static const uint64_t sizes[] = {1ull << 10, 1ull << 20, 1ull << 30, 1ull << 40}, times[] = {1, 60, 3600, 86400};
	size_t i;
	int id, again;

	for (i = 0; i < sizeof settings / sizeof *settings; i++)
		if (!strcmp(settings[i].name, name))
			break;
	if (i == sizeof settings / sizeof *settings)
		return fail(EXIT_SYSTEM, "unknown setting '%s'", name);
	id = settings[i].id;
	/* a list given again by the same source adds to it (repeated flags);
	 * a later source replaces it */
	again = p->from[id] == from;
	p->from[id] = (unsigned char)from;
	switch (settings[i].type) {
	case BOOL:
		if (strcmp(v, "true") && strcmp(v, "false"))
			return fail(EXIT_SYSTEM, "%s must be true or false, not '%s'", name, v);
		*(id == S_TRUSTED ? &p->trusted : &p->substitute) = !strcmp(v, "true");
		return 0;
	case OPS:
		return allow_list(p, v);
	case KEYS:
		if (!again)
			p->nkeys = 0;
		return keys(p, v);
	case WORDS:
		if (id == S_SYSTEMS)
			p->any_system = 0;
		else
			p->any_feature = 0;
		return words(id == S_SYSTEMS ? p->systems : p->features, v);
	case SIZE:
		return number(v, "KMGT", sizes, id == S_NAR ? &p->max_nar_size : &p->max_log_size, "size");
	case DURATION:
		if (number(v, "smhd", times, id == S_BUILD_TIME ? &p->max_build_time :
			   id == S_SILENT_TIME ? &p->max_silent_time : &p->idle_timeout, "duration") < 0)
			return -1;
		/* counted in milliseconds: a year is none in practice */
		if (id == S_IDLE_TIMEOUT && p->idle_timeout > 366 * 86400ull)
			return fail(EXIT_SYSTEM, "%s must be at most 366d, not %s", name, v);
		return 0;
	case COUNT: {
		uint64_t n;
		static const uint64_t one[] = {1};

		if (number(v, "", one, &n, "count") < 0)
			return -1;
		if (n > 256)
			return fail(EXIT_SYSTEM, "%s must be at most 256, not %s", name, v);
		*(id == S_MAX_JOBS ? &p->max_jobs : id == S_MAX_SESSIONS ? &p->max_sessions : &p->host_max_jobs) = (unsigned)n;
		return 0;
	}
	default:
		if (id == S_STATE_DIR) {
			if (*v != '/' || strlen(v) > AUDIT_SPEC_MAX)
				return fail(EXIT_SYSTEM, "state-dir must be an absolute path, not '%s'", v);
			strcpy(p->state_dir, v);
			return 0;
		}
		if (!*v || strlen(v) > AUDIT_SPEC_MAX || (strcmp(v, "syslog") && strcmp(v, "none") && *v != '/'))
			return fail(EXIT_SYSTEM, "audit-log must be syslog, none or an absolute path, not '%s'", v);
		strcpy(p->audit, v);
		return 0;
	}
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* One line: a section header, a setting or nothing. *section: 0 before
 * any, 1 inside our key's, 2 inside another's. */
static int line(struct policy *p, struct policy *scratch, char *s, const char *key, int *section, int *found)
{
	char *eq, *name;
	size_t n;

	if ((eq = strchr(s, '#')))
		*eq = 0;
	s = trim(s);
	if (!*s)
		return 0;
	if (*s == '[') {
		n = strlen(s);
		if (n < 7 || strncmp(s, "[key ", 5) || s[n - 1] != ']')
			return fail(EXIT_SYSTEM, "a section is written [key NAME]");
		s[n - 1] = 0;
		name = trim(s + 5);
		if (!*name || strchr(name, ' ') || strchr(name, '\t'))
			return fail(EXIT_SYSTEM, "a section is written [key NAME]");
		*section = strcmp(name, key) ? 2 : 1;
		if (*section == 1 && (*found)++)
			return fail(EXIT_SYSTEM, "a second section for key %s", key);
		policy_init(scratch);
		return 0;
	}
	if (!(eq = strchr(s, '=')))
		return fail(EXIT_SYSTEM, "expected 'name = value' or '[key NAME]'");
	*eq = 0;
	name = trim(s);
	s = trim(eq + 1);
	if (*section == 2)
		return policy_set(scratch, name, s, FROM_SECTION);
	return policy_set(p, name, s, *section ? FROM_SECTION : FROM_FILE);
}

int policy_read(struct policy *p, FILE *f, const char *file, const char *key)
{
	static struct policy scratch;
	char buf[POLICY_LINE_MAX + 2];
	unsigned lineno = 0;
	size_t total = 0;
	int section = 0, found = 0, r = 0;

	while (r == 0 && fgets(buf, sizeof buf, f)) {
		lineno++;
		total += strlen(buf);
		if (total > POLICY_FILE_MAX)
			r = fail(EXIT_SYSTEM, "longer than %u bytes", POLICY_FILE_MAX);
		else if (!strchr(buf, '\n') && !feof(f))
			r = fail(EXIT_SYSTEM, "line longer than %u bytes", POLICY_LINE_MAX);
		else
			r = line(p, &scratch, buf, key, &section, &found);
	}
	if (r == 0 && ferror(f))
		r = fail_sys("reading");
	if (r < 0) {
		char m[512];

		snprintf(m, sizeof m, "%s", err_msg());
		err_clear();
		return fail(EXIT_SYSTEM, "%s:%u: %s", file, lineno, m);
	}
	if (!found)
		return fail(EXIT_SYSTEM, "%s: no section [key %s]", file, key);
	return 0;
}

int policy_load(struct policy *p, const char *file, const char *key)
{
	FILE *f = fopen(file, "re");
	int r;

	if (!f)
		return fail_sys("policy file %s", file);
	r = policy_read(p, f, file, key);
	fclose(f);
	return r;
}
