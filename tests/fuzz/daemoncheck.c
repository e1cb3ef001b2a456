/* daemoncheck: what the monitor sent the daemon, decoded as the daemon
 * would read it, and held against the session's policy. The monitor is fed
 * arbitrary bytes as a compromised parser would send: whatever they are,
 * no request the policy forbids may reach the daemon. A violation aborts,
 * which libFuzzer reports and the corpus replay fails on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "ca.h"
#include "claim.h"
#include "drv.h"
#include "err.h"
#include "harness.h"
#include "hash.h"
#include "pathinfo.h"
#include "pathset.h"
#include "storepath.h"
#include "words.h"
#include "worker.h"
#include "wparse.h"

#define FIELD_MAX 65536

static char field[FIELD_MAX + 1];

static void violation(const char *what, uint64_t op)
{
	fprintf(stderr, "daemoncheck: %s (worker op %llu)\n", what, (unsigned long long)op);
	abort();
}

static int str(struct rd *r)
{
	return rd_str(r, field, FIELD_MAX, NULL, "field");
}

static int strs(struct rd *r, struct pathset *ps)
{
	return pathset_read(ps, r, "list");
}

/* AddToStoreNar from a key that is not trusted: only what import_ok lets
 * through, a claim that holds, and a NAR of the declared size. */
static int add_nar(struct rd *r, unsigned minor, const struct policy *pol, uint64_t op)
{
	static struct pathset refs;
	static unsigned char sigs[SIGS_WIRE_MAX];
	char path[FIELD_MAX + 1], deriver[FIELD_MAX + 1], ca[FIELD_MAX + 1], why[768];
	unsigned char hash[SHA256_BYTES];
	uint64_t regtime, size, ultimate, repair, nocheck, len, total = 0;
	size_t n;
	struct wr w;

	wr_init_mem(&w, sigs, sizeof sigs);
	if (rd_str(r, path, FIELD_MAX, NULL, "path") < 0 || rd_str(r, deriver, FIELD_MAX, NULL, "deriver") < 0 ||
	    rd_str(r, field, FIELD_MAX, &n, "hash") < 0)
		return -1;
	if (hash_parse(hash, field, n) < 0)
		violation("AddToStoreNar with a NAR hash that is not SHA-256", op);
	if (strs(r, &refs) < 0 || rd_u64(r, &regtime) < 0 || rd_u64(r, &size) < 0 || rd_u64(r, &ultimate) < 0 ||
	    sigs_copy(r, &w) < 0 || rd_str(r, ca, FIELD_MAX, NULL, "ca") < 0 || rd_u64(r, &repair) < 0 ||
	    rd_u64(r, &nocheck) < 0)
		return -1;
	/* a trusted key may repair, as a trusted user of Nix may */
	if (repair && !pol->trusted)
		violation("AddToStoreNar with repair from an untrusted key", op);
	if (pol->max_nar_size && size > pol->max_nar_size)
		violation("AddToStoreNar over max-nar-size", op);
	if (!pol->trusted) {
		struct claim c = {path, ca, hash, size, sigs, w.len};

		if (deriver[0] || ultimate || regtime)
			violation("AddToStoreNar from an untrusted key with a deriver, ultimate or a time", op);
		struct ca k;

		if (claim_check(&c, &refs, pol->keys, pol->nkeys, why, sizeof why) != 0)
			violation("AddToStoreNar from an untrusted key whose claim does not hold", op);
		/* the one content address that must be the NAR hash the daemon checks */
		if (ca[0] && ca_parse(&k, ca, strlen(ca)) == 0 && !k.text && k.recursive && !strcmp(k.algo, "sha256") &&
		    pathset_find(&refs, path, strlen(path)) == -1 && memcmp(k.hash, hash, SHA256_BYTES))
			violation("AddToStoreNar from an untrusted key whose fixed:r:sha256 is not its NAR hash", op);
	}
	if (!size)
		violation("AddToStoreNar of size 0", op);
	/* before 1.23 the NAR goes as answers to the daemon's reads, which
	 * leave no mark of where they end: the decoding stops here */
	if (minor < 23)
		return -1;
	for (;;) {
		if (rd_u64(r, &len) < 0)
			return -1;
		if (!len)
			break;
		total += len;
		if (rd_skip(r, len) < 0)
			return -1;
	}
	/* a NAR cut short ends the add early, and the daemon fails it */
	if (total > size)
		violation("AddToStoreNar with more NAR than declared", op);
	return 0;
}

static int build_drv(struct rd *r, const struct policy *pol, uint64_t op)
{
	static struct drvwire drv;
	uint64_t mode;
	unsigned i;

	if (str(r) < 0 || drvwire_read(&drv, r) < 0 || rd_u64(r, &mode) < 0)
		return -1;
	if (!pol->any_system && !words_has(pol->systems, drv.info.system, strlen(drv.info.system), 0))
		violation("BuildDerivation for a system the key may not build", op);
	if (!pol->trusted) {
		for (i = 0; i < drv.info.nout; i++)
			if (!drv.info.out[i].algo[0])
				violation("BuildDerivation of an input-addressed derivation from an untrusted key", op);
	}
	if (mode)
		violation("BuildDerivation in a repair or check mode", op);
	return 0;
}

/* A limit the policy caps: set, and within the cap (0 would be none). */
static void capped(uint64_t v, uint64_t cap, const char *what, uint64_t op)
{
	if (cap && (v == 0 || v > cap))
		violation(what, op);
}

/* SetOptions: nothing the client sends beyond the build limits, which the
 * policy caps; no substitution where the policy forbids it; none of the
 * settings that keep a build's directory or name other daemon settings. */
static int set_options(struct rd *r, const struct policy *pol, uint64_t op)
{
	uint64_t f[12], k, i, v;
	size_t n;

	for (i = 0; i < 12; i++)
		if (rd_u64(r, &f[i]) < 0)
			return -1;
	if (f[0])
		violation("SetOptions with keepFailed", op);
	if (f[11] && !pol->substitute)
		violation("SetOptions with useSubstitutes for a key that may not substitute", op);
	if (pol->max_jobs && f[4] > pol->max_jobs)
		violation("SetOptions with more jobs than the key's max-jobs", op);
	capped(f[5], pol->max_silent_time, "SetOptions over the key's max-silent-time", op);
	if (rd_u64(r, &k) < 0)
		return -1;
	for (i = 0; i < k; i++) {
		if (rd_str(r, field, FIELD_MAX, &n, "setting") < 0)
			return -1;
		if (!strcmp(field, "timeout"))
			v = 0;
		else if (!strcmp(field, "max-build-log-size"))
			v = 1;
		else
			violation("SetOptions with a setting other than the build limits", op);
		if (rd_str(r, field, FIELD_MAX, &n, "value") < 0)
			return -1;
		capped(strtoull(field, NULL, 10), v ? pol->max_log_size : pol->max_build_time,
		       v ? "SetOptions over the key's max-log-size" : "SetOptions over the key's max-build-time", op);
	}
	return 0;
}

void daemon_check(unsigned config, unsigned minor, const struct policy *pol, const uint8_t *sent, size_t n)
{
	static struct pathset ps;
	uint64_t op, v, k, i;
	size_t len;
	struct rd r;
	int writes = (config & SESSION_WRITE) != 0;

	rd_init_mem(&r, sent, n, EXIT_SYSTEM, "capture");
	while (rd_at_eof(&r) == 0) {
		if (rd_u64(&r, &op) < 0)
			break;
		switch (op) {
		case WOP_SET_OPTIONS:
			if (set_options(&r, pol, op) < 0)
				goto end;
			continue;
		case WOP_IS_VALID_PATH: case WOP_QUERY_PATH_INFO: case WOP_QUERY_DERIVATION_OUTPUT_MAP:
		case WOP_QUERY_REFERRERS:
			if (str(&r) < 0)
				goto end;
			continue;
		case WOP_QUERY_PATH_FROM_HASH_PART:
			/* a shorter prefix would list the store */
			if (rd_str(&r, field, FIELD_MAX, &len, "hash part") < 0)
				goto end;
			for (i = 0; i < len && base32_char_ok((unsigned char)field[i]); i++)
				;
			if (len != STORE_HASH_CHARS || i != len)
				violation("QueryPathFromHashPart of something that is not a hash part", op);
			continue;
		case WOP_NAR_FROM_PATH:
			/* exports, and the input derivations the monitor reads itself */
			if (str(&r) < 0)
				goto end;
			continue;
		case WOP_QUERY_VALID_PATHS:
			if (strs(&r, &ps) < 0 || (minor >= 27 && rd_u64(&r, &v) < 0))
				goto end;
			if (minor >= 27 && v && (!writes || !pol->substitute))
				violation("QueryValidPaths that substitutes for a key that may not", op);
			continue;
		case WOP_QUERY_MISSING:
			if (wtargets_read(&r, &ps) < 0)
				goto end;
			continue;
		case WOP_ADD_TEMP_ROOT:
			if (!writes)
				violation("AddTempRoot for a client without --write", op);
			if (str(&r) < 0)
				goto end;
			continue;
		case WOP_ADD_TO_STORE_NAR:
			if (!writes || !(pol->allow & ALLOW_IMPORT))
				violation("AddToStoreNar for a key that may not import", op);
			if (add_nar(&r, minor, pol, op) < 0)
				goto end;
			continue;
		case WOP_BUILD_PATHS: case WOP_BUILD_PATHS_WITH_RESULTS:
			if (!writes || !(pol->allow & (ALLOW_BUILD | ALLOW_IMPORT)))
				violation("BuildPaths for a key that may neither build nor import", op);
			if (wtargets_read(&r, &ps) < 0 || (minor >= 15 && rd_u64(&r, &v) < 0))
				goto end;
			/* store paths alone are only substituted, which a key that
			 * may import may have the host do */
			for (i = 0; i < ps.n; i++)
				if (strchr(pathset_get(&ps, i), '!') && !(pol->allow & ALLOW_BUILD))
					violation("BuildPaths of a derivation for a key that may not build", op);
			if (!(pol->allow & ALLOW_BUILD) && !pol->substitute)
				violation("BuildPaths that substitutes for a key that may not", op);
			if (minor >= 15 && v && !pol->trusted)
				violation("BuildPaths in a repair or check mode for an untrusted key", op);
			continue;
		case WOP_QUERY_REALISATION:
			if (str(&r) < 0)
				goto end;
			continue;
		case WOP_ADD_SIGNATURES:
			/* an untrusted key's are verified against its keys first */
			if (!writes || !(pol->allow & ALLOW_IMPORT) || (!pol->trusted && !pol->nkeys))
				violation("AddSignatures from a key that may not add them", op);
			if (str(&r) < 0 || rd_count(&r, &k, SIGS_MAX, "signatures") < 0)
				goto end;
			for (i = 0; i < k; i++)
				if (str(&r) < 0)
					goto end;
			continue;
		case WOP_BUILD_DERIVATION:
			if (!writes || !(pol->allow & ALLOW_BUILD))
				violation("BuildDerivation for a key that may not build", op);
			if (build_drv(&r, pol, op) < 0)
				goto end;
			continue;
		default:
			violation("a request the monitor never sends", op);
		}
	}
end:
	pathset_free(&ps);
	err_clear();
}
