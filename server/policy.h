/* policy: what one key may do, from flags and the policy file. */
#ifndef NIXGATE_POLICY_H
#define NIXGATE_POLICY_H

#include <stdint.h>
#include <stdio.h>

#include "sig.h"

enum { ALLOW_QUERY = 1, ALLOW_EXPORT = 2, ALLOW_IMPORT = 4, ALLOW_BUILD = 8, ALLOW_ALL = 15 };

#define POLICY_KEYS_MAX 32
#define POLICY_KEY_MAX 64           /* a --key NAME, a section's name */
#define POLICY_SECTIONS_MAX 1024
#define POLICY_LIST_MAX 1024        /* systems or features, space-separated */
#define POLICY_LINE_MAX 4096
#define POLICY_FILE_MAX (1u << 20)
#define AUDIT_SPEC_MAX 4096

/* Where a setting came from: a later source overrides an earlier one. */
enum { FROM_DEFAULT, FROM_FILE, FROM_SECTION, FROM_FLAG };

/* What a setting's value is: how it is parsed and how NixgateInfo shows it. */
enum setting_kind {
	KIND_BOOL,      /* true or false */
	KIND_OPS,       /* operations, see policy_ops */
	KIND_KEYS,      /* Nix signing keys name:base64 */
	KIND_LIST,      /* words; unset: any */
	KIND_SIZE,      /* bytes, K/M/G/T suffix, or none */
	KIND_DURATION,  /* seconds, s/m/h/d suffix, or none */
	KIND_COUNT,     /* a number up to 256, or none */
	KIND_AUDIT,     /* syslog, none or an absolute path */
	KIND_DIR,       /* an absolute path */
};

/* A host setting names what all keys share (the host's build slots and
 * where they live): its place is before any section. */
enum setting_scope { SCOPE_KEY, SCOPE_HOST };

/* Where NixgateInfo shows a setting: not at all, among the key's policy,
 * or after the session's load figures, where it was added last (clients
 * read pairs by name, but the wire stays as it was). */
enum setting_info { INFO_NONE, INFO_POLICY, INFO_LATE };

/* One setting: the policy file, the flags, usage and NixgateInfo all read
 * this. */
struct setting {
	const char *name;       /* the policy file's key, NixgateInfo's name */
	const char *alias;      /* another spelling the file takes, or NULL */
	const char *flag;       /* or NULL */
	const char *flag_value; /* what a flag without argument sets; NULL: it takes one */
	const char *arg;        /* the argument's name in usage */
	enum setting_kind kind;
	enum setting_scope scope;
	enum setting_info info;
	const char *help;       /* one line */
	size_t at, any;         /* where the value and "unset: any" live in struct policy */
	uint64_t max;           /* the largest value, 0: no bound */
};

#define POLICY_SETTINGS_MAX 32
extern const struct setting policy_settings[];
extern const size_t policy_nsettings;

struct policy {
	int trusted;
	unsigned allow;
	struct pubkey keys[POLICY_KEYS_MAX];
	unsigned nkeys;
	char systems[POLICY_LIST_MAX + 1], features[POLICY_LIST_MAX + 1]; /* "" with any_*: any */
	int any_system, any_feature;
	uint64_t max_nar_size, max_build_time, max_silent_time, max_log_size; /* 0: no cap */
	uint64_t idle_timeout;           /* seconds the client may move no byte; 0: none */
	int substitute;
	char audit[AUDIT_SPEC_MAX + 1];  /* "syslog", "none", a path, or "" for the default */
	unsigned max_jobs, host_max_jobs; /* builds at once: this key's, all keys'; 0: no limit */
	unsigned max_sessions;            /* this key's sessions at once; 0: no limit */
	char state_dir[AUDIT_SPEC_MAX + 1]; /* slot files; "" for the default */
	unsigned char from[POLICY_SETTINGS_MAX]; /* FROM_*, by place in policy_settings */
};

/* Long enough for a client that keeps its connection between requests
 * while it evaluates or hashes (Nix reuses ssh store connections) and for
 * slow links, whose bytes still move; short enough that a stalled session
 * frees its daemon worker and path locks within minutes. */
#define IDLE_TIMEOUT_DEFAULT 600

/* What a key that is not trusted gets where its policy sets nothing: its
 * imports are spooled whole, so their size needs a bound; its builds hold
 * a daemon worker and slots while they run, so their time does (Hydra's
 * defaults: 10 h a build, 2 h of silence). A host sets larger values per
 * key. (max-jobs has no default: its slot files need a state directory
 * the host user can write, which a host sets up with it.) */
#define UNTRUSTED_NAR_MAX (4ull << 30)
#define UNTRUSTED_BUILD_TIME (10 * 3600)
#define UNTRUSTED_SILENT_TIME (2 * 3600)
void policy_untrusted_defaults(struct policy *p);

/* The safe defaults: untrusted, all four operations, no keys, no caps,
 * the default idle timeout. */
void policy_init(struct policy *p);
/* One setting by name (or alias); -1 with fail() naming the problem. */
int policy_set(struct policy *p, const char *name, const char *value, int from);
/* The setting a flag sets, or NULL. A flag that takes a value is spelled
 * "--" and the name or alias, so policy_set takes it without the dashes
 * and its errors name the flag. */
const struct setting *policy_flag(const char *flag);
/* Each flag and policy file line with its help, for usage. */
void policy_usage(FILE *f);
/* How many settings NixgateInfo shows at info. */
unsigned policy_shown(enum setting_info info);
/* A setting's value as NixgateInfo shows it, in buf (or a constant). */
const char *policy_show(const struct policy *p, const struct setting *s, char *buf, size_t n);
/* Room for any value policy_show renders. */
#define POLICY_SHOW_MAX (POLICY_KEYS_MAX * (KEY_NAME_MAX + 48))
/* The file's global settings, then the section [key NAME]; every section is
 * checked. Errors name file and line. */
int policy_load(struct policy *p, const char *file, const char *key);
/* The same from an open stream; file names it in errors. The fuzz harness
 * reads from memory through this. */
int policy_read(struct policy *p, FILE *f, const char *file, const char *key);
/* Every section's key name, in the file's order, into names; the whole
 * file is checked as policy_read checks it. */
int policy_sections(FILE *f, const char *file, char (*names)[POLICY_KEY_MAX + 1], unsigned max, unsigned *n);
/* Settings given as flags (set[i] as policy_flag's setting names it), in
 * their order; errors name the flag. */
int policy_flags(struct policy *p, const char *const *set, const char *const *val, int n);
/* A name --key and a section may have: up to POLICY_KEY_MAX letters,
 * digits and ._@+- (it names slot files and audit lines). */
int policy_key_ok(const char *name);
/* "query,export" for messages */
const char *policy_ops(unsigned allow);

#endif
