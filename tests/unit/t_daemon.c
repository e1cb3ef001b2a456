/* Unit tests of the typed daemon operations (proto/daemon.c): the bytes of
 * each request, the answer read back, the daemon's refusal and the limits,
 * over memory buffers as an old (1.21, 1.23) and a new (1.34, 1.37) daemon
 * speaks; and Nix's own vectors as answers. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "daemon.h"
#include "err.h"

#define P1 "/nix/store/00000000000000000000000000000000-a"
#define P2 "/nix/store/11111111111111111111111111111111-b"
#define DRV "/nix/store/22222222222222222222222222222222-c.drv"

static struct worker d;
/* the daemon's answer (a) and the request nixgate should send (e) */
static unsigned char in[1 << 17], sent[1 << 16], want[1 << 16];
static struct wr a, e;

static void begin(void)
{
	wr_init_mem(&a, in, sizeof in);
	wr_init_mem(&e, want, sizeof want);
}

/* The worker about to read a's bytes, at protocol minor. */
static void go(unsigned minor)
{
	memset(&d, 0, sizeof d);
	d.minor = minor;
	d.logfd = -1;
	rd_init_mem(&d.r, in, a.len, EXIT_SYSTEM, "nix-daemon");
	wr_init_mem(&d.w, sent, sizeof sent);
	err_clear();
}

static int sent_ok(void)
{
	return d.w.len == e.len && !memcmp(sent, want, e.len);
}

/* All of the answer read: the connection is in step for the next. */
static int in_step(void)
{
	return d.r.pos == d.r.len;
}

/* The daemon's refusal, in the layout of its minor. */
static void refusal(unsigned minor, const char *msg)
{
	wr_u64(&a, STDERR_ERROR);
	if (minor >= 26) {
		wr_cstr(&a, "Error"); wr_u64(&a, 0); wr_cstr(&a, "Error");
		wr_cstr(&a, msg); wr_u64(&a, 0); wr_u64(&a, 0);
	} else {
		wr_cstr(&a, msg); wr_u64(&a, 1);
	}
}

static void info_answer(void)
{
	int i;

	wr_u64(&a, STDERR_LAST);
	wr_u64(&a, 1);                 /* valid */
	wr_cstr(&a, P2);               /* deriver */
	wr_cstr(&a, "15e3c560894cbb27085cf65b5a2ecb18488c999497f4531b6907a7581ce6d527");
	wr_u64(&a, 1); wr_cstr(&a, P2);
	wr_u64(&a, 23423); wr_u64(&a, 34878);
	wr_u64(&a, 1);                 /* ultimate */
	wr_u64(&a, 1); wr_cstr(&a, "k:AAAA");
	wr_cstr(&a, "");               /* ca */
	for (i = 0; i < 3; i++)
		wr_u64(&a, 0);         /* what follows: another answer's bytes */
}

void t_daemon_queries(void)
{
	static struct pathset ps, valid, refs;
	static struct pathinfo info;
	static struct outmap m;
	static const unsigned minors[] = {21, 34};
	unsigned char sigs[64];
	unsigned mi;
	struct wr sw;

	pathset_init(&ps);
	pathset_init(&valid);
	pathset_init(&refs);
	pathset_add(&ps, P1, strlen(P1));
	pathset_add(&ps, P2, strlen(P2));
	for (mi = 0; mi < 2; mi++) {
		unsigned v = minors[mi];

		/* AddTempRoot: op 11, the path; the answer 1 */
		begin();
		wr_u64(&e, 11); wr_cstr(&e, P1);
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 1);
		go(v);
		CHECK(daemon_add_temp_root(&d, P1) == 0 && sent_ok() && in_step());
		begin();
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 7);
		go(v);
		CHECK(daemon_add_temp_root(&d, P1) == -1 && strstr(err_msg(), "AddTempRoot: nix-daemon answered 7"));

		/* IsValidPath: op 1; a bool back, nothing else taken for one */
		begin();
		wr_u64(&e, 1); wr_cstr(&e, P1);
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 1);
		go(v);
		CHECK(daemon_is_valid(&d, P1) == 1 && sent_ok() && in_step());
		begin();
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 0);
		go(v);
		CHECK(daemon_is_valid(&d, P1) == 0);
		begin();
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 2);
		go(v);
		CHECK(daemon_is_valid(&d, P1) == -1 && err_kind() == EXIT_SYSTEM);

		/* QueryValidPaths: op 31, the set, the substitute flag only
		 * from 1.27 on */
		begin();
		wr_u64(&e, 31); pathset_write(&ps, &e);
		if (v >= 27)
			wr_u64(&e, 1);
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 1); wr_cstr(&a, P2);
		go(v);
		CHECK(daemon_valid(&d, &ps, 1, &valid) == 0 && sent_ok() && in_step());
		CHECK(valid.n == 1 && !strcmp(pathset_get(&valid, 0), P2));
		/* the begin form leaves the list to the caller */
		go(v);
		CHECK(daemon_valid_begin(&d, &ps, 1) == 0 && sent_ok() && d.r.pos == 8);
		/* a path in the answer that is no store path: the daemon's fault */
		begin();
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 1); wr_cstr(&a, "/etc/passwd");
		go(v);
		CHECK(daemon_valid(&d, &ps, 0, &valid) == -1 && err_kind() == EXIT_SYSTEM);
		/* a count past the limit, refused before anything is allocated */
		begin();
		wr_u64(&a, STDERR_LAST); wr_u64(&a, (uint64_t)PATHSET_MAX_PATHS + 1);
		go(v);
		CHECK(daemon_valid(&d, &ps, 0, &valid) == -1 && strstr(err_msg(), "valid paths"));

		/* QueryPathInfo: op 26; valid, then the info */
		begin();
		wr_u64(&e, 26); wr_cstr(&e, P1);
		info_answer();
		go(v);
		CHECK(daemon_path_info(&d, P1, &info, &refs) == 1 && sent_ok());
		CHECK(!strcmp(info.deriver, P2) && info.nar_size == 34878 && info.regtime == 23423 &&
		      info.ultimate == 1 && refs.n == 1 && !strcmp(pathset_get(&refs, 0), P2) &&
		      info.sigs_len == 8 + 8 + 8 && !info.ca[0] && info.hash[0] == 0x15);
		CHECK(d.r.len - d.r.pos == 24);
		begin();
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 0);
		go(v);
		CHECK(daemon_path_info(&d, P1, &info, &refs) == 0 && in_step());
		/* the daemon's refusal, named with the operation */
		begin();
		refusal(v, "path '" P1 "' is not in the Nix store");
		go(v);
		CHECK(daemon_path_info(&d, P1, &info, &refs) == -1 && err_kind() == EXIT_SYSTEM &&
		      strstr(err_msg(), "QueryPathInfo: nix-daemon: path '" P1 "' is not in the Nix store"));

		/* NarFromPath: op 38, the NAR left on the reader */
		begin();
		wr_u64(&e, 38); wr_cstr(&e, P1);
		wr_u64(&a, STDERR_LAST); wr_cstr(&a, "nix-archive-1");
		go(v);
		CHECK(daemon_nar_begin(&d, P1) == 0 && sent_ok() && d.r.pos == 8);
		begin();
		refusal(v, "path '" P1 "' is not valid");
		go(v);
		CHECK(daemon_nar_begin(&d, P1) == -1 && strstr(err_msg(), "NarFromPath: nix-daemon: path"));

		/* AddSignatures: op 37, the path and the list as it is */
		wr_init_mem(&sw, sigs, sizeof sigs);
		wr_u64(&sw, 1); wr_cstr(&sw, "k:AAAA");
		begin();
		wr_u64(&e, 37); wr_cstr(&e, P1); wr_bytes(&e, sigs, sw.len);
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 1);
		go(v);
		CHECK(daemon_add_signatures(&d, P1, sigs, sw.len) == 0 && sent_ok() && in_step());
		go(v);
		CHECK(daemon_add_signatures(&d, P1, sigs, (size_t)SIGS_WIRE_MAX + 1) == -1 && d.w.len == 0);
	}

	/* QueryDerivationOutputMap: op 41 from 1.22; names and paths, "" for
	 * one not known */
	for (mi = 0; mi < 2; mi++) {
		unsigned v = mi ? 34 : 23;

		begin();
		wr_u64(&e, 41); wr_cstr(&e, DRV);
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 2);
		wr_cstr(&a, "dev"); wr_cstr(&a, "");
		wr_cstr(&a, "out"); wr_cstr(&a, P1);
		go(v);
		CHECK(daemon_output_map(&d, DRV, &m) == 0 && sent_ok() && in_step());
		CHECK(m.n == 2 && !strcmp(m.out[0].name, "dev") && !m.out[0].path[0] &&
		      !strcmp(m.out[1].name, "out") && !strcmp(m.out[1].path, P1));
	}
	/* more outputs than a derivation may have: refused on the count */
	begin();
	wr_u64(&a, STDERR_LAST); wr_u64(&a, DRV_OUTPUTS_MAX + 1);
	go(34);
	CHECK(daemon_output_map(&d, DRV, &m) == -1 && d.r.pos == 16 && m.n == 0);
	/* an output path that is no store path */
	begin();
	wr_u64(&a, STDERR_LAST); wr_u64(&a, 1); wr_cstr(&a, "out"); wr_cstr(&a, "/tmp/x");
	go(34);
	CHECK(daemon_output_map(&d, DRV, &m) == -1 && err_kind() == EXIT_SYSTEM);
	begin();
	wr_u64(&a, STDERR_LAST); wr_u64(&a, 1); wr_cstr(&a, ""); wr_cstr(&a, P1);
	go(34);
	CHECK(daemon_output_map(&d, DRV, &m) == -1 && strstr(err_msg(), "empty output name"));
	/* a daemon before 1.22 has no such op: nothing is sent */
	begin();
	go(21);
	CHECK(daemon_output_map(&d, DRV, &m) == -1 && d.w.len == 0 && strstr(err_msg(), "1.21"));
	pathset_free(&ps);
	pathset_free(&valid);
	pathset_free(&refs);
}

void t_daemon_builds(void)
{
	static struct pathset t;
	static struct build_result br;
	static const unsigned minors[] = {21, 34, 37};
	unsigned char bytes[] = "a derivation's wire form";
	struct drvwire dw;
	unsigned mi;

	pathset_init(&t);
	pathset_add(&t, DRV "!out", strlen(DRV "!out"));
	memset(&dw, 0, sizeof dw);
	dw.buf = bytes;
	dw.len = 24;
	for (mi = 0; mi < 3; mi++) {
		unsigned v = minors[mi];

		/* BuildPaths: op 9, the targets, the mode (normal) from 1.15 */
		begin();
		wr_u64(&e, 9); pathset_write(&t, &e); wr_u64(&e, 0);
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 1);
		go(v);
		CHECK(daemon_build_paths(&d, &t, 0) == 0 && sent_ok() && in_step());
		/* a failed build: -2, its text kept, no error recorded */
		begin();
		refusal(v, "build of '" DRV "' failed");
		go(v);
		CHECK(daemon_build_paths(&d, &t, 0) == -2 && strstr(d.errmsg, "failed") && !err_kind() &&
		      d.build_late == 0);
		begin();
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 0);
		go(v);
		CHECK(daemon_build_paths(&d, &t, 0) == -1 && strstr(err_msg(), "BuildPaths: nix-daemon answered 0"));

		/* BuildDerivation: op 36, the path, the derivation, the mode;
		 * the result's fields by minor */
		begin();
		wr_u64(&e, 36); wr_cstr(&e, DRV); wr_bytes(&e, bytes, 24); wr_u64(&e, 0);
		wr_u64(&a, STDERR_LAST);
		wr_u64(&a, 3); wr_cstr(&a, "it broke");
		if (v >= 29) {
			wr_u64(&a, 2); wr_u64(&a, 1); wr_u64(&a, 30); wr_u64(&a, 50);
		}
		if (v >= 37) {
			wr_u64(&a, 1); wr_u64(&a, 500); wr_u64(&a, 0);
		}
		if (v >= 28)
			wr_u64(&a, 0);
		go(v);
		memset(&br, 0, sizeof br);
		pathset_init(&br.outs);
		CHECK(daemon_build_derivation(&d, DRV, &dw, 0, &br) == 0 && sent_ok() && in_step());
		CHECK(br.status == 3 && !strcmp(br.msg, "it broke"));
		if (v >= 29)
			CHECK(br.times_built == 2 && br.non_deterministic == 1 && br.start_time == 30 &&
			      br.stop_time == 50);
		if (v >= 37)
			CHECK(br.has_cpu_user && br.cpu_user == 500 && !br.has_cpu_system);
		begin();
		refusal(v, "cannot build on this system");
		go(v);
		CHECK(daemon_build_derivation(&d, DRV, &dw, 0, &br) == -2 && strstr(d.errmsg, "cannot build"));
		pathset_free(&br.outs);
	}
	pathset_free(&t);
}

/* Nix's own vectors as the answers: a path info (1.16's layout, the
 * newest) and build results of 1.29 and 1.37. */
void t_daemon_golden(void)
{
	static struct pathset refs;
	static struct pathinfo info;
	static struct build_result br;
	static const char *files[] = {"build-result-1.29.bin", "build-result-1.37.bin"};
	char dir[512];
	unsigned char *p;
	struct drvwire dw;
	size_t n;
	int i;

	NEED_TEST_DATA();
	snprintf(dir, sizeof dir, "%s/worker-protocol", check_dir);
	CHECK((p = slurp(dir, "valid-path-info-1.16.bin", &n)) != NULL && n > 56);
	if (!p)
		return;
	/* its first value less the path that keys it: what QueryPathInfo sends */
	begin();
	wr_u64(&a, STDERR_LAST); wr_u64(&a, 1); wr_bytes(&a, p + 56, n - 56);
	go(34);
	pathset_init(&refs);
	CHECK(daemon_path_info(&d, P1, &info, &refs) == 1 && info.nar_size == 34878 && info.regtime == 23423 &&
	      info.ultimate == 1 && refs.n == 0 && !info.deriver[0] && info.hash[0] == 0x15);
	pathset_free(&refs);
	memset(&dw, 0, sizeof dw);
	dw.buf = (unsigned char *)"x";
	dw.len = 1;
	for (i = 0; i < 2; i++) {
		CHECK((p = slurp(dir, files[i], &n)) != NULL);
		if (!p)
			continue;
		begin();
		wr_u64(&a, STDERR_LAST); wr_bytes(&a, p, n);
		go(i ? 37 : 34);
		memset(&br, 0, sizeof br);
		pathset_init(&br.outs);
		/* the first value: OutputRejected (status 5), "no idea why" */
		CHECK(daemon_build_derivation(&d, DRV, &dw, 0, &br) == 0 && br.status == 5 &&
		      !strcmp(br.msg, "no idea why") && br.times_built == 0 && br.nouts == 0);
		pathset_free(&br.outs);
	}
}

/* The queries ssh-ng:// clients send that the serve protocol has no twin
 * for: QueryReferrers (6), QueryPathFromHashPart (29), QueryMissing (40). */
void t_daemon_ng_queries(void)
{
	static struct pathset ps, got;
	char p[STORE_PATH_MAX + 1];
	uint64_t v;

	pathset_init(&ps);
	pathset_init(&got);
	pathset_add(&ps, DRV "!out", strlen(DRV "!out"));
	pathset_add(&ps, P1, strlen(P1));

	/* QueryReferrers: op 6, the path; the list left for the caller */
	begin();
	wr_u64(&e, 6); wr_cstr(&e, P1);
	wr_u64(&a, STDERR_LAST); wr_u64(&a, 1); wr_cstr(&a, P2);
	go(34);
	CHECK(daemon_referrers_begin(&d, P1) == 0 && sent_ok() && d.r.pos == 8);
	CHECK(pathset_read(&got, &d.r, "referrers") == 0 && got.n == 1 && in_step());
	begin();
	refusal(34, "path is not valid");
	go(34);
	CHECK(daemon_referrers_begin(&d, P1) == -1 && strstr(err_msg(), "QueryReferrers: nix-daemon: path is not valid"));

	/* QueryPathFromHashPart: op 29, the hash part; a path or "" back */
	begin();
	wr_u64(&e, 29); wr_cstr(&e, "00000000000000000000000000000000");
	wr_u64(&a, STDERR_LAST); wr_cstr(&a, P1);
	go(34);
	CHECK(daemon_path_from_hash_part(&d, "00000000000000000000000000000000", p) == 0 && sent_ok() && in_step() &&
	      !strcmp(p, P1));
	begin();
	wr_u64(&a, STDERR_LAST); wr_cstr(&a, "");
	go(34);
	CHECK(daemon_path_from_hash_part(&d, "00000000000000000000000000000000", p) == 0 && p[0] == 0);
	/* an answer that is no store path is the daemon's fault */
	begin();
	wr_u64(&a, STDERR_LAST); wr_cstr(&a, "/etc/passwd");
	go(34);
	CHECK(daemon_path_from_hash_part(&d, "00000000000000000000000000000000", p) == -1 &&
	      err_kind() == EXIT_SYSTEM);

	/* QueryMissing: op 40, the targets as sent; the answer left */
	begin();
	wr_u64(&e, 40); pathset_write(&ps, &e);
	wr_u64(&a, STDERR_LAST); wr_u64(&a, 0); wr_u64(&a, 0); wr_u64(&a, 1); wr_cstr(&a, P1);
	wr_u64(&a, 5); wr_u64(&a, 6);
	go(34);
	CHECK(daemon_missing_begin(&d, &ps) == 0 && sent_ok() && d.r.pos == 8);
	CHECK(pathset_read(&got, &d.r, "x") == 0 && got.n == 0 && pathset_read(&got, &d.r, "x") == 0 &&
	      pathset_read(&got, &d.r, "x") == 0 && got.n == 1 && rd_u64(&d.r, &v) == 0 && v == 5);
	pathset_free(&ps);
	pathset_free(&got);
}
