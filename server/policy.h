/* policy: what one key may do, from flags and the policy file. */
#ifndef NIXGATE_POLICY_H
#define NIXGATE_POLICY_H

#include <stdint.h>
#include <stdio.h>

#include "sig.h"

enum { ALLOW_QUERY = 1, ALLOW_EXPORT = 2, ALLOW_IMPORT = 4, ALLOW_BUILD = 8, ALLOW_ALL = 15 };

#define POLICY_KEYS_MAX 32
#define POLICY_LIST_MAX 1024        /* systems or features, space-separated */
#define POLICY_LINE_MAX 4096
#define POLICY_FILE_MAX (1u << 20)
#define AUDIT_SPEC_MAX 4096

/* Where a setting came from: a later source overrides an earlier one. */
enum { FROM_DEFAULT, FROM_FILE, FROM_SECTION, FROM_FLAG };

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
	unsigned char from[16];
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
/* One setting by name; -1 with fail() naming the problem. */
int policy_set(struct policy *p, const char *name, const char *value, int from);
/* The file's global settings, then the section [key NAME]; every section is
 * checked. Errors name file and line. */
int policy_load(struct policy *p, const char *file, const char *key);
/* The same from an open stream; file names it in errors. The fuzz harness
 * reads from memory through this. */
int policy_read(struct policy *p, FILE *f, const char *file, const char *key);
/* "query,export" for messages */
const char *policy_ops(unsigned allow);

#endif
