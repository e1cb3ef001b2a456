/* daemon: the nix-daemon operations nixgate asks for, one function each with
 * typed arguments: it writes the request, waits for the daemon's work
 * (worker_wait) and reads the typed answer, by the connection's protocol
 * minor. A failure is -1 with fail() (EXIT_SYSTEM) naming the operation,
 * and the daemon's own text when it refused. */
#ifndef NIXGATE_DAEMON_H
#define NIXGATE_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "buildresult.h"
#include "drv.h"
#include "pathinfo.h"
#include "pathset.h"
#include "realisation.h"
#include "storepath.h"
#include "worker.h"

/* A derivation's outputs as its store records them: a name each, and its
 * path ("" while not known, floating content-addressed). */
struct outmap {
	size_t n;
	struct {
		char name[STORE_NAME_MAX + 1];
		char path[STORE_PATH_MAX + 1];
	} out[DRV_OUTPUTS_MAX];
};

/* AddTempRoot: the daemon's GC keeps path while the connection lasts. */
int daemon_add_temp_root(struct worker *d, const char *path);
/* IsValidPath: 1 valid, 0 not. */
int daemon_is_valid(struct worker *d, const char *path);
/* QueryValidPaths of ps sent and waited for, the valid paths left to
 * follow on d->r for a caller that streams them; subst: the daemon may
 * substitute them (from 1.27; older daemons are not asked). */
int daemon_valid_begin(struct worker *d, const struct pathset *ps, int subst);
/* The same, the valid paths read into valid. */
int daemon_valid(struct worker *d, const struct pathset *ps, int subst, struct pathset *valid);
/* QueryPathInfo: 1 valid (info read, references into refs), 0 invalid. */
int daemon_path_info(struct worker *d, const char *path, struct pathinfo *in, struct pathset *refs);
/* QueryReferrers sent and waited for: the referrers follow on d->r as a
 * path list. */
int daemon_referrers_begin(struct worker *d, const char *path);
/* QueryPathFromHashPart: the valid path with that hash part into path, ""
 * when there is none. */
int daemon_path_from_hash_part(struct worker *d, const char *hash_part, char path[STORE_PATH_MAX + 1]);
/* QueryMissing of targets (path or drv!outputs strings) sent and waited
 * for: what would be built, substituted and is unknown follow on d->r as
 * three path lists, then the download and NAR sizes. */
int daemon_missing_begin(struct worker *d, const struct pathset *targets);
/* NarFromPath sent and waited for: the NAR follows raw on d->r, for the
 * caller to read to its end (its own structure says where that is). */
int daemon_nar_begin(struct worker *d, const char *path);
/* QueryDerivationOutputMap (from 1.22). */
int daemon_output_map(struct worker *d, const char *drv, struct outmap *m);
/* AddSignatures: sigs is a signature list in wire form, as struct pathinfo
 * keeps it. */
int daemon_add_signatures(struct worker *d, const char *path, const unsigned char *sigs, size_t len);
/* AddToStoreNar of path (in, refs), as a trusted client's copy: no repair,
 * no signature check. The header; then the NAR in frames (daemon_nar_frame,
 * from 1.23, where the NAR is framed), then daemon_add_nar_end. */
int daemon_add_nar_begin(struct worker *d, const char *path, const struct pathinfo *in, const struct pathset *refs);
int daemon_nar_frame(struct worker *d, const unsigned char *p, size_t n);
/* The end frame and the daemon's work: 0, or -2 when it refused the path
 * (its text in d->errmsg), -1 on any other failure. */
int daemon_add_nar_end(struct worker *d);
/* QueryRealisation of a DrvOutput id: 1 with its out path in out_path, 0
 * when the store has none. */
int daemon_query_realisation(struct worker *d, const char *id, char out_path[STORE_PATH_MAX + 1]);
/* The same, with the daemon's Realisation JSON (from 1.31; "" before) in
 * json, its length in len. */
int daemon_realisation(struct worker *d, const char *id, char out_path[STORE_PATH_MAX + 1],
		       char json[REALISATION_MAX + 1], size_t *len);
/* RegisterDrvOutput: json, a Realisation as Nix writes it (parsed into r),
 * goes as it is from 1.31; before, r's id and out path. */
int daemon_register_drv_output(struct worker *d, const struct realisation *r, const char *json, size_t len);

/* The builds answer -2 when the daemon refused or the build failed (its
 * text in d->errmsg), which the caller passes on as a failed build; -1 is
 * any other failure, d->build_late set when nixgate's clock ended a build
 * after timeout_s seconds (0: no limit; see worker_build_wait). */
/* BuildPaths of targets (path or drv!out,... strings), in normal mode. */
int daemon_build_paths(struct worker *d, const struct pathset *targets, uint64_t timeout_s);
/* The same for op BuildPaths or BuildPathsWithResults (from 1.34) in a
 * build mode (0 normal, 1 repair, 2 check); the latter's results follow
 * on d->r. */
int daemon_build_mode(struct worker *d, uint64_t op, const struct pathset *targets, uint64_t mode,
		      uint64_t timeout_s);
/* BuildDerivation of the derivation drv (its store path), in normal mode;
 * the result into br. */
int daemon_build_derivation(struct worker *d, const char *drv, const struct drvwire *w, uint64_t timeout_s,
			    struct build_result *br);

#endif
