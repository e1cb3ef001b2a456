#include <stddef.h>

#include "check.h"

#define T(f) void f(void);
#define LIST \
	T(t_wire_u64) T(t_wire_string) T(t_wire_limits) T(t_base32) T(t_hash_forms) \
	T(t_storepath) T(t_pathset_lookup) T(t_pathset_collisions) T(t_path_outputs) \
	T(t_nar_golden) T(t_nar_deep) T(t_nar_long_path) T(t_nar_trailing) T(t_nar_claimed) \
	T(t_slots) T(t_store_uri) T(t_machines) T(t_warm_dir) \
	T(t_audit_syslog) T(t_audit_file) T(t_audit_escape) \
	T(t_words) T(t_policy_values) T(t_policy_sources) T(t_policy_untrusted) \
	T(t_aterm) T(t_aterm_basic) T(t_drv_sandbox) T(t_missing_ops) \
	T(t_daemon_queries) T(t_daemon_ng_queries) T(t_daemon_builds) T(t_daemon_golden) T(t_query_closure_outputs) \
	T(t_drvhash_real) T(t_drvhash_changed) T(t_drvhash_canonical) \
	T(t_drvhash_graph) T(t_drvhash_floating) T(t_drvhash_refs) \
	T(t_realisation_ids) T(t_realisation_json) T(t_realisation_daemon) T(t_realisation_wire_id) \
	T(t_ca_paths) T(t_sha256_nist) T(t_sha256_random) T(t_md5_rfc1321) T(t_sha1_fips) \
	T(t_cacheck_text) T(t_cacheck_flat) T(t_cacheck_recursive) T(t_cacheck_self) T(t_cahash_pieces) \
	T(t_cacheck_versions) T(t_claim_self) T(t_claim_sigs) \
	T(t_signatures) T(t_sandbox_forbidden) T(t_sandbox_allowed) T(t_sandbox_parser) T(t_golden_serve) T(t_golden_worker) \
	T(t_deadline_read) T(t_deadline_write) T(t_deadline_build) T(t_deadline_log_drop) \
	T(t_settings_info) T(t_settings_readme) T(t_settings_usage) T(t_settings_man) \
	T(t_daemonhook_setting) T(t_daemonhook_nixgate) T(t_checkpolicy_good) T(t_checkpolicy_errors) \
	T(t_worker_handshake) T(t_worker_features_limits) T(t_buildresult_by_name) T(t_buildresult_by_name_refused) \
	T(t_wadd_method) T(t_wadd_flat_nar)
LIST
#undef T
#define T(f) {#f + 2, f},
const struct unit_test unit_tests[] = {LIST {NULL, NULL}};
