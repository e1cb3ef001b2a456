#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "policy.h"
#include "slots.h"
#include "words.h"

#define AT(field) offsetof(struct policy, field)

/* In NixgateInfo's order (INFO_POLICY, then INFO_LATE). */
const struct setting policy_settings[] = {
	{"trusted", NULL, "--trusted", "true", NULL, KIND_BOOL, SCOPE_KEY, INFO_POLICY,
	 "like a Nix trusted user: may import unsigned paths and build any derivation", AT(trusted)},
	{"allow", NULL, "--allow", NULL, "LIST", KIND_OPS, SCOPE_KEY, INFO_POLICY,
	 "operations: query, export, import, build (default: all four)", AT(allow)},
	{"systems", NULL, "--systems", NULL, "LIST", KIND_LIST, SCOPE_KEY, INFO_POLICY,
	 "the systems a build may be for, its inputs included (default: any)", AT(systems), AT(any_system)},
	{"features", NULL, "--features", NULL, "LIST", KIND_LIST, SCOPE_KEY, INFO_POLICY,
	 "the requiredSystemFeatures a build may ask for (default: any)", AT(features), AT(any_feature)},
	{"max-nar-size", NULL, "--max-nar-size", NULL, "SIZE", KIND_SIZE, SCOPE_KEY, INFO_POLICY,
	 "largest NAR accepted on import (untrusted default: 4G)", AT(max_nar_size)},
	{"max-build-time", NULL, "--max-build-time", NULL, "DURATION", KIND_DURATION, SCOPE_KEY, INFO_POLICY,
	 "cap on a build's time (untrusted default: 10h)", AT(max_build_time)},
	{"max-silent-time", NULL, "--max-silent-time", NULL, "DURATION", KIND_DURATION, SCOPE_KEY, INFO_POLICY,
	 "cap on a build's time without output (untrusted default: 2h)", AT(max_silent_time)},
	{"max-log-size", NULL, "--max-log-size", NULL, "SIZE", KIND_SIZE, SCOPE_KEY, INFO_POLICY,
	 "cap on a build's log size", AT(max_log_size)},
	{"substitute", NULL, "--no-substitute", "false", NULL, KIND_BOOL, SCOPE_KEY, INFO_POLICY,
	 "ignore the client's request to substitute on the host", AT(substitute)},
	{"trusted-public-keys", "trusted-public-key", "--trusted-public-key", NULL, "KEY", KIND_KEYS, SCOPE_KEY,
	 INFO_POLICY, "a Nix signing key name:base64 whose signature makes an import acceptable (repeatable)"},
	{"max-jobs", NULL, "--max-jobs", NULL, "N", KIND_COUNT, SCOPE_KEY, INFO_POLICY,
	 "builds this key runs at once, across its sessions", AT(max_jobs), 0, 256},
	{"max-sessions", NULL, "--max-sessions", NULL, "N", KIND_COUNT, SCOPE_KEY, INFO_POLICY,
	 "sessions this key has open at once", AT(max_sessions), 0, 256},
	{"host-max-jobs", NULL, "--host-max-jobs", NULL, "N", KIND_COUNT, SCOPE_HOST, INFO_POLICY,
	 "builds all keys run at once", AT(host_max_jobs), 0, 256},
	/* counted in milliseconds: a year is none in practice */
	{"idle-timeout", NULL, "--idle-timeout", NULL, "DURATION", KIND_DURATION, SCOPE_KEY, INFO_LATE,
	 "how long a session may move no byte (default: 10m)", AT(idle_timeout), 0, 366 * 86400ull},
	{"audit-log", NULL, "--audit-log", NULL, "syslog|PATH|none", KIND_AUDIT, SCOPE_KEY, INFO_NONE,
	 "where the audit lines go (default: syslog when /dev/log exists)", AT(audit)},
	{"state-dir", NULL, "--state-dir", NULL, "PATH", KIND_DIR, SCOPE_HOST, INFO_NONE,
	 "where the slot lock files live (default: " STATE_DIR ")", AT(state_dir)},
};
const size_t policy_nsettings = sizeof policy_settings / sizeof *policy_settings;

_Static_assert(sizeof policy_settings / sizeof *policy_settings <= POLICY_SETTINGS_MAX, "from[] too small");
/* KIND_AUDIT and KIND_DIR values are bounded by AUDIT_SPEC_MAX */
_Static_assert(sizeof ((struct policy *)0)->audit == AUDIT_SPEC_MAX + 1 &&
	       sizeof ((struct policy *)0)->state_dir == AUDIT_SPEC_MAX + 1, "text settings' room");

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

static const struct setting *find(const char *name)
{
	size_t i;

	for (i = 0; i < policy_nsettings; i++)
		if (!strcmp(policy_settings[i].name, name) ||
		    (policy_settings[i].alias && !strcmp(policy_settings[i].alias, name)))
			return &policy_settings[i];
	return NULL;
}

const struct setting *policy_flag(const char *flag)
{
	size_t i;

	for (i = 0; i < policy_nsettings; i++)
		if (policy_settings[i].flag && !strcmp(policy_settings[i].flag, flag))
			return &policy_settings[i];
	return NULL;
}

/* A bound in the largest unit that divides it ("366d"), for messages. */
static void bound(char *out, size_t n, uint64_t v, const char *units, const uint64_t *factor)
{
	size_t i = strlen(units);

	while (i > 0 && v % factor[i - 1])
		i--;
	if (i == 0)
		snprintf(out, n, "%llu", (unsigned long long)v);
	else
		snprintf(out, n, "%llu%c", (unsigned long long)(v / factor[i - 1]), units[i - 1]);
}

int policy_set(struct policy *p, const char *name, const char *v, int from)
{
	static const uint64_t sizes[] = {1ull << 10, 1ull << 20, 1ull << 30, 1ull << 40}, times[] = {1, 60, 3600, 86400},
			      one[] = {1};
	const struct setting *s = find(name);
	char *at = (char *)p, max[32];
	const uint64_t *factor = one;
	const char *units = "", *what = "count";
	uint64_t n = 0;
	size_t id;
	int again;

	if (!s)
		return fail(EXIT_SYSTEM, "unknown setting '%s'", name);
	at += s->at;
	id = (size_t)(s - policy_settings);
	/* a list given again by the same source adds to it (repeated flags);
	 * a later source replaces it */
	again = p->from[id] == from;
	p->from[id] = (unsigned char)from;
	switch (s->kind) {
	case KIND_BOOL:
		if (strcmp(v, "true") && strcmp(v, "false"))
			return fail(EXIT_SYSTEM, "%s must be true or false, not '%s'", name, v);
		*(int *)at = !strcmp(v, "true");
		return 0;
	case KIND_OPS:
		return allow_list(p, v);
	case KIND_KEYS:
		if (!again)
			p->nkeys = 0;
		return keys(p, v);
	case KIND_LIST:
		*(int *)((char *)p + s->any) = 0;
		return words(at, v);
	case KIND_SIZE:
		units = "KMGT", factor = sizes, what = "size";
		/* fall through */
	case KIND_DURATION:
		if (s->kind == KIND_DURATION)
			units = "smhd", factor = times, what = "duration";
		/* fall through */
	case KIND_COUNT:
		if (number(v, units, factor, &n, what) < 0)
			return -1;
		if (s->max && n > s->max) {
			bound(max, sizeof max, s->max, units, factor);
			return fail(EXIT_SYSTEM, "%s must be at most %s, not %s", name, max, v);
		}
		if (s->kind == KIND_COUNT)
			*(unsigned *)at = (unsigned)n;
		else
			*(uint64_t *)at = n;
		return 0;
	case KIND_DIR:
		if (*v != '/' || strlen(v) > AUDIT_SPEC_MAX)
			return fail(EXIT_SYSTEM, "%s must be an absolute path, not '%s'", name, v);
		strcpy(at, v);
		return 0;
	case KIND_AUDIT:
		if (!*v || strlen(v) > AUDIT_SPEC_MAX || (strcmp(v, "syslog") && strcmp(v, "none") && *v != '/'))
			return fail(EXIT_SYSTEM, "%s must be syslog, none or an absolute path, not '%s'", name, v);
		strcpy(at, v);
		return 0;
	}
	return fail(EXIT_SYSTEM, "setting %s has no kind", name);
}

unsigned policy_shown(enum setting_info info)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < policy_nsettings; i++)
		n += policy_settings[i].info == info;
	return n;
}

const char *policy_show(const struct policy *p, const struct setting *s, char *buf, size_t n)
{
	const char *at = (const char *)p + s->at;
	char b64[sodium_base64_ENCODED_LEN(PUBKEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	uint64_t v;
	unsigned i;

	buf[0] = 0;
	switch (s->kind) {
	case KIND_BOOL:
		return *(const int *)at ? "true" : "false";
	case KIND_OPS:
		return policy_ops(*(const unsigned *)at);
	case KIND_KEYS:
		for (i = 0; i < p->nkeys; i++) {
			sodium_bin2base64(b64, sizeof b64, p->keys[i].key, PUBKEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
			snprintf(buf + strlen(buf), n - strlen(buf), "%s%s:%s", i ? " " : "", p->keys[i].name, b64);
		}
		return buf[0] ? buf : "none";
	case KIND_LIST:
		return *(const int *)((const char *)p + s->any) ? "any" : *at ? at : "none";
	case KIND_SIZE:
	case KIND_DURATION:
	case KIND_COUNT:
		v = s->kind == KIND_COUNT ? *(const unsigned *)at : *(const uint64_t *)at;
		if (!v)
			return "none";
		snprintf(buf, n, "%llu", (unsigned long long)v);
		return buf;
	case KIND_DIR:
	case KIND_AUDIT:
		return at;
	}
	return "";
}

void policy_usage(FILE *f)
{
	static const char *const scopes[] = {
		[SCOPE_KEY] = "a key's settings (flags win over the policy file)",
		[SCOPE_HOST] = "the host's settings (the same for every key: in the policy file, before any section)",
	};
	char flag[64], line[64];
	size_t i;
	int scope;

	for (scope = SCOPE_KEY; scope <= SCOPE_HOST; scope++) {
		fprintf(f, "%s:\n", scopes[scope]);
		for (i = 0; i < policy_nsettings; i++) {
			const struct setting *s = &policy_settings[i];

			if ((int)s->scope != scope)
				continue;
			snprintf(flag, sizeof flag, "%s%s%s", s->flag ? s->flag : "(no flag)", s->flag_value ? "" : " ",
				 s->flag_value ? "" : s->arg);
			snprintf(line, sizeof line, "%s = %s", s->name, s->flag_value ? s->flag_value : s->arg);
			fprintf(f, "  %-34s %s\n      %s\n", flag, line, s->help);
		}
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

int policy_key_ok(const char *k)
{
	size_t i, n = strlen(k);

	if (n == 0 || n > POLICY_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && !strchr("._@+-", k[i]))
			return 0;
	return 1;
}

/* The sections seen, for policy_sections. */
struct names {
	char (*name)[POLICY_KEY_MAX + 1];
	unsigned n, max;
};

static int add_name(struct names *ns, const char *name)
{
	unsigned i;

	for (i = 0; i < ns->n; i++)
		if (!strcmp(ns->name[i], name))
			return fail(EXIT_SYSTEM, "a second section for key %s", name);
	if (ns->n == ns->max)
		return fail(EXIT_SYSTEM, "more than %u sections", ns->max);
	strcpy(ns->name[ns->n++], name);
	return 0;
}

/* One line: a section header, a setting or nothing. *section: 0 before
 * any, 1 inside our key's, 2 inside another's. key NULL: no section is
 * ours, each is named in ns. */
static int line(struct policy *p, struct policy *scratch, char *s, const char *key, int *section, int *found,
		struct names *ns)
{
	const struct setting *st;
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
		/* no --key could ever choose it */
		if (!policy_key_ok(name))
			return fail(EXIT_SYSTEM, "'%s' is not a key name (up to %d letters, digits and ._@+-)", name,
				    POLICY_KEY_MAX);
		if (ns && add_name(ns, name) < 0)
			return -1;
		*section = key && !strcmp(name, key) ? 1 : 2;
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
	/* in a section it would hold for one key, and the host's slots are
	 * every key's */
	if (*section && (st = find(name)) && st->scope == SCOPE_HOST)
		return fail(EXIT_SYSTEM, "%s is a host setting: its place is before any section", name);
	if (*section == 2)
		return policy_set(scratch, name, s, FROM_SECTION);
	return policy_set(p, name, s, *section ? FROM_SECTION : FROM_FILE);
}

static int parse(struct policy *p, FILE *f, const char *file, const char *key, struct names *ns)
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
			r = line(p, &scratch, buf, key, &section, &found, ns);
	}
	if (r == 0 && ferror(f))
		r = fail_sys("reading");
	if (r < 0) {
		char m[512];

		snprintf(m, sizeof m, "%s", err_msg());
		err_clear();
		return fail(EXIT_SYSTEM, "%s:%u: %s", file, lineno, m);
	}
	if (key && !found)
		return fail(EXIT_SYSTEM, "%s: no section [key %s]", file, key);
	return 0;
}

int policy_read(struct policy *p, FILE *f, const char *file, const char *key)
{
	return parse(p, f, file, key, NULL);
}

int policy_sections(FILE *f, const char *file, char (*names)[POLICY_KEY_MAX + 1], unsigned max, unsigned *n)
{
	struct names ns = {names, 0, max};
	struct policy p;

	policy_init(&p);
	*n = 0;
	if (parse(&p, f, file, NULL, &ns) < 0)
		return -1;
	*n = ns.n;
	return 0;
}

int policy_flags(struct policy *p, const char *const *set, const char *const *val, int n)
{
	char m[512];
	int i;

	for (i = 0; i < n; i++)
		if (policy_set(p, set[i], val[i], FROM_FLAG) < 0) {
			snprintf(m, sizeof m, "%s", err_msg());
			err_clear();
			return fail(EXIT_SYSTEM, "option --%s: %s", set[i], m);
		}
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
