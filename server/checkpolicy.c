#include <stdio.h>
#include <string.h>

#include "checkpolicy.h"
#include "err.h"
#include "policy.h"
#include "slots.h"

static char names[POLICY_SECTIONS_MAX][POLICY_KEY_MAX + 1];

/* What an empty audit-log or state-dir means on the host; the default
 * audit log depends on /dev/log there, which this run may not see (a
 * NixOS build checks the file in its sandbox). */
static const char *value(const struct policy *p, const struct setting *s, char *buf, size_t n)
{
	const char *v = policy_show(p, s, buf, n);

	if (*v)
		return v;
	if (s->kind == KIND_AUDIT)
		return "syslog  # the default: when the host has /dev/log, else none";
	if (s->kind == KIND_DIR)
		return STATE_DIR;
	return v;
}

/* Nothing is printed for a key whose policy fails to load, so an error
 * leaves no half policy on out. */
static int show(FILE *out, const char *file, const char *key, const char *const *set, const char *const *val,
		int nset, int first)
{
	static char buf[POLICY_SHOW_MAX];
	static struct policy p;
	size_t i;

	policy_init(&p);
	if (policy_load(&p, file, key) < 0 || policy_flags(&p, set, val, nset) < 0)
		return -1;
	policy_untrusted_defaults(&p);
	if (first)
		fprintf(out, "# %s: the effective policy of each key, as nixgate-serve applies it\n", file);
	fprintf(out, "\n[key %s]\n", key);
	for (i = 0; i < policy_nsettings; i++)
		fprintf(out, "%s = %s\n", policy_settings[i].name, value(&p, &policy_settings[i], buf, sizeof buf));
	return 0;
}

int check_policy(FILE *out, const char *file, const char *key, const char *const *set, const char *const *val,
		 int nset)
{
	FILE *f;
	unsigned n, i;
	int r;

	if (key && !policy_key_ok(key))
		return fail(EXIT_SYSTEM, "--key: a name of up to %d letters, digits and ._@+- is expected",
			    POLICY_KEY_MAX);
	if (!(f = fopen(file, "re")))
		return fail_sys("policy file %s", file);
	r = policy_sections(f, file, names, POLICY_SECTIONS_MAX, &n);
	fclose(f);
	if (r < 0)
		return -1;
	if (!n)
		return fail(EXIT_SYSTEM, "%s: no section [key NAME]: no key may use it", file);
	if (key)
		return show(out, file, key, set, val, nset, 1);
	for (i = 0; i < n; i++)
		if (show(out, file, names[i], set, val, nset, i == 0) < 0)
			return -1;
	return 0;
}
