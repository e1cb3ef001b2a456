/* Unit tests of policy settings: values, suffixes, and which source wins. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "policy.h"
#include "words.h"

static const char *K1 = "a-1:H7vJwcRAr64va2fujVmSXbICbxPGw5xSZQjW6jOxSrg=";
static const char *K2 = "b-1:UlC27exuDLYdv6PzIr/7UgNm96FQ7o710TjjaXQaOKA=";

static int set(struct policy *p, const char *n, const char *v, int from)
{
	err_clear();
	return policy_set(p, n, v, from);
}

void t_policy_values(void)
{
	struct policy p;

	policy_init(&p);
	CHECK(!p.trusted && p.allow == ALLOW_ALL && p.nkeys == 0 && p.any_system && p.substitute);
	CHECK(set(&p, "max-nar-size", "64K", FROM_FLAG) == 0 && p.max_nar_size == 65536);
	CHECK(set(&p, "max-nar-size", "3G", FROM_FLAG) == 0 && p.max_nar_size == 3ull << 30);
	CHECK(set(&p, "max-nar-size", "none", FROM_FLAG) == 0 && p.max_nar_size == 0);
	CHECK(set(&p, "max-nar-size", "0", FROM_FLAG) == -1);
	CHECK(set(&p, "max-nar-size", "12Q", FROM_FLAG) == -1 && strstr(err_msg(), "'12Q' is not a size"));
	CHECK(set(&p, "max-nar-size", "99999999999T", FROM_FLAG) == -1);
	CHECK(set(&p, "max-build-time", "2h", FROM_FLAG) == 0 && p.max_build_time == 7200);
	CHECK(set(&p, "max-silent-time", "90", FROM_FLAG) == 0 && p.max_silent_time == 90);
	CHECK(set(&p, "max-silent-time", "1.5m", FROM_FLAG) == -1);
	CHECK(p.idle_timeout == IDLE_TIMEOUT_DEFAULT && IDLE_TIMEOUT_DEFAULT == 600);
	CHECK(set(&p, "idle-timeout", "2m", FROM_FLAG) == 0 && p.idle_timeout == 120);
	CHECK(set(&p, "idle-timeout", "367d", FROM_FLAG) == -1 && strstr(err_msg(), "at most 366d"));
	CHECK(set(&p, "idle-timeout", "none", FROM_FLAG) == 0 && p.idle_timeout == 0);
	CHECK(set(&p, "allow", "query, export", FROM_FLAG) == 0 && p.allow == (ALLOW_QUERY | ALLOW_EXPORT));
	CHECK(!strcmp(policy_ops(p.allow), "query,export"));
	CHECK(set(&p, "allow", "query,delete", FROM_FLAG) == -1);
	CHECK(set(&p, "trusted", "yes", FROM_FLAG) == -1 && set(&p, "trusted", "true", FROM_FLAG) == 0 && p.trusted);
	CHECK(set(&p, "systems", "x86_64-linux,aarch64-linux", FROM_FLAG) == 0 && !p.any_system);
	CHECK(words_has(p.systems, "aarch64-linux", 13, 0) && !words_has(p.systems, "x86_64", 6, 0));
	CHECK(set(&p, "features", "", FROM_FLAG) == 0 && !p.any_feature && !words_has(p.features, "kvm", 3, 0));
	CHECK(set(&p, "audit-log", "relative/path", FROM_FLAG) == -1);
	CHECK(set(&p, "colour", "blue", FROM_FLAG) == -1 && strstr(err_msg(), "unknown setting 'colour'"));
}

void t_words(void)
{
	CHECK(words_has("out,dev bin", "dev", 3, 1) && !words_has("out,dev bin", "dev", 3, 0));
	CHECK(words_has(" \tkvm ", "kvm", 3, 0) && !words_has("", "kvm", 3, 1) && !words_has("kvmx", "kvm", 3, 1));
}

void t_policy_sources(void)
{
	char two[256];
	struct policy p;

	policy_init(&p);
	snprintf(two, sizeof two, "%s %s", K1, K2);
	/* the file's global list, then a section replaces it, then flags replace
	 * that and add up among themselves */
	CHECK(set(&p, "trusted-public-keys", two, FROM_FILE) == 0 && p.nkeys == 2);
	CHECK(set(&p, "trusted-public-keys", K2, FROM_SECTION) == 0 && p.nkeys == 1 && !strcmp(p.keys[0].name, "b-1"));
	CHECK(set(&p, "trusted-public-key", K1, FROM_FLAG) == 0 && p.nkeys == 1 && !strcmp(p.keys[0].name, "a-1"));
	CHECK(set(&p, "trusted-public-key", K2, FROM_FLAG) == 0 && p.nkeys == 2);
	CHECK(set(&p, "trusted-public-key", "c-1:AAAA", FROM_FLAG) == -1);
}

/* A key that is not trusted gets bounds where its policy sets none; set
 * values and trusted keys keep theirs. */
void t_policy_untrusted(void)
{
	struct policy p;

	policy_init(&p);
	policy_untrusted_defaults(&p);
	CHECK(p.max_nar_size == UNTRUSTED_NAR_MAX && p.max_build_time == UNTRUSTED_BUILD_TIME &&
	      p.max_silent_time == UNTRUSTED_SILENT_TIME);
	policy_init(&p);
	CHECK(set(&p, "max-build-time", "20h", FROM_FILE) == 0 && set(&p, "max-nar-size", "8G", FROM_FILE) == 0);
	policy_untrusted_defaults(&p);
	CHECK(p.max_build_time == 20 * 3600 && p.max_nar_size == 8ull << 30 && p.max_silent_time == UNTRUSTED_SILENT_TIME);
	policy_init(&p);
	CHECK(set(&p, "trusted", "true", FROM_FILE) == 0);
	policy_untrusted_defaults(&p);
	CHECK(!p.max_nar_size && !p.max_build_time && !p.max_silent_time);
}
