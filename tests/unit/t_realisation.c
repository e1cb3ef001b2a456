/* Unit tests of what the build hook takes from a floating content-addressed
 * build: the DrvOutput ids, against a .drv and the realisations Nix 2.8 made
 * of it (tests/unit/data/realisation, see make.sh there); the Realisation
 * JSON, Nix's and malformed; the daemon's QueryRealisation and
 * RegisterDrvOutput on the wire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "daemon.h"
#include "drvhash.h"
#include "err.h"
#include "realisation.h"
#include "wbuild.h"

#define DIR_ "tests/unit/data/realisation"
#define CA_TWO "/nix/store/0fv9rff5z76ci3vfh4v6w5ylijd25a0r-ca-two.drv"

static int no_inputs(void *ctx, const char *path, char **text, size_t *len)
{
	return 1;
}

/* Element i of Nix's realisations.json (one line, compact), or NULL. */
static const char *nix_realisation(int i, char *out, size_t cap)
{
	size_t n;
	unsigned char *p = slurp(DIR_, "realisations.json", &n);
	char *s, *e;

	if (!p || n >= 1 << 20)
		return NULL;
	p[n] = 0;
	for (s = (char *)p; (s = strstr(s, "{\"dependentRealisations\"")) && i > 0; i--)
		s++;
	if (!s || !(e = strstr(s, "]}")) || (size_t)(e + 2 - s) >= cap)
		return NULL;
	memcpy(out, s, (size_t)(e + 2 - s));
	out[e + 2 - s] = 0;
	return out;
}

void t_realisation_ids(void)
{
	static struct realisation re;
	char why[256], id[DRV_OUTPUT_ID_MAX + 1], json[1024], *t;
	unsigned char h[SHA256_BYTES], h2[SHA256_BYTES];
	size_t n;
	int i;

	t = (char *)slurp(DIR_, strrchr(CA_TWO, '/') + 1, &n);
	CHECK(t != NULL);
	if (!t)
		return;
	t = strndup(t, n);
	CHECK(drv_output_hash(CA_TWO, t, n, no_inputs, NULL, 0, h, why, sizeof why) == 1 &&
	      strstr(why, "ca-derivations"));
	CHECK(drv_output_hash(CA_TWO, t, n, no_inputs, NULL, DRVTEXT_CA_FLOATING, h, why, sizeof why) == 0);
	/* each output's id is Nix's, and its out path what Nix built */
	for (i = 0; i < 2; i++) {
		CHECK(nix_realisation(i, json, sizeof json) != NULL);
		CHECK(realisation_parse(&re, json, strlen(json)) == 0);
		drv_output_id(id, h, strrchr(re.id, '!') + 1);
		CHECK(!strcmp(id, re.id));
		CHECK(strstr(re.out_path, "/nix/store/") == re.out_path && strstr(json, re.out_path + 11));
	}
	/* the builder's arguments count: another derivation, other ids */
	*strstr(t, "echo dev") = 'E';
	CHECK(drv_output_hash(CA_TWO, t, n, no_inputs, NULL, DRVTEXT_CA_FLOATING, h2, why, sizeof why) == 0 &&
	      memcmp(h, h2, sizeof h));
	free(t);
}

void t_realisation_json(void)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"id\":\"sha256:" "0000000000000000000000000000000000000000000000000000000000000000!out\"}",
		"{\"outPath\":\"1vjlfn7v45g9cxarw9vdamn3xwa20ra7-ca-two\"}",
		/* two of one, an escape, a bad id or path, and what is not JSON */
		"{\"id\":\"I\",\"id\":\"I\",\"outPath\":\"P\"}", "{\"id\":\"I\",\"outPath\":\"P\",\"outPath\":\"P\"}",
		"{\"id\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000!o\\u0075t\",\"outPath\":\"P\"}",
		"{\"id\":\"sha1:0000000000000000000000000000000000000000!out\",\"outPath\":\"P\"}",
		"{\"id\":\"sha256:000000000000000000000000000000000000000000000000000000000000000g!out\",\"outPath\":\"P\"}",
		"{\"id\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000!\",\"outPath\":\"P\"}",
		"{\"id\":\"I\",\"outPath\":\"1vjlfn7v45g9cxarw9vdamn3xwa20ra7-ca/two\"}",
		"{\"id\":\"I\",\"outPath\":\"/tmp/1vjlfn7v45g9cxarw9vdamn3xwa20ra7-ca-two\"}",
		"{\"id\":\"I\",\"outPath\":\"P\"} x", "{\"id\":\"I\",\"outPath\":\"P\",}", "{\"id\":\"I\" \"outPath\":\"P\"}",
		"{\"id\":\"I\",\"outPath\":\"P\",\"signatures\":[\"a\",]}", "{\"id\":\"I\",\"outPath\":\"P\",\"x\":[[[[[[[[[[1]]]]]]]]]]}",
		"{\"id\":\"I\",\"outPath\":\"P\",\"x\":\"open", "{\"id\":\"I\",\"outPath\":\"P\",\"x\":\"a\tb\"}",
		"{\"id\":\"I\",\"outPath\":\"P\",\"x\":}", "{\"id\":1,\"outPath\":\"P\"}", "{\"id\":\"I\",\"outPath\":\"P\"",
	};
	static struct realisation re;
	char s[512], good[512];
	const char *id = "sha256:8cda31f33af904b00f6c890248b088fff9313a9d9b69c031bde3c09ba8271e95!out";
	const char *p = "1vjlfn7v45g9cxarw9vdamn3xwa20ra7-ca-two";
	size_t i;
	char *at;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(s, sizeof s, "%s", bad[i]);
		/* a good id and path where a case is about something else */
		while ((at = strstr(s, "\"I\"")) || (at = strstr(s, "\"P\""))) {
			snprintf(good, sizeof good, "%.*s\"%s\"%s", (int)(at - s), s, at[1] == 'I' ? id : p, at + 3);
			memcpy(s, good, strlen(good) + 1);
		}
		err_clear();
		if (realisation_parse(&re, s, strlen(s)) != -1 || err_kind() != EXIT_SYSTEM)
			printf("  accepted: %s\n", s), check_failed++;
	}
	/* Nix's members in any order, with whatever else, pretty-printed */
	snprintf(s, sizeof s, "{ \"signatures\" : [ \"k:AA==\" ],\n \"outPath\": \"/nix/store/%s\", \"dependentRealisations\""
		 ": {\"%s\": \"%s\"}, \"n\": -1.5e3, \"t\": [true, false, null, {}], \"id\": \"%s\" }\n", p, id, p, id);
	CHECK(realisation_parse(&re, s, strlen(s)) == 0 && !strcmp(re.id, id) && !strcmp(re.out_path + 11, p));
}

/* QueryRealisation and RegisterDrvOutput as a 1.34 and a 1.30 daemon take
 * them. */
void t_realisation_daemon(void)
{
	static struct worker d;
	static unsigned char in[4096], sent[4096], want[4096];
	static struct realisation re;
	const char *id = "sha256:8cda31f33af904b00f6c890248b088fff9313a9d9b69c031bde3c09ba8271e95!out";
	const char *p = "/nix/store/1vjlfn7v45g9cxarw9vdamn3xwa20ra7-ca-two";
	char json[512], got[STORE_PATH_MAX + 1];
	struct wr a, e;
	unsigned minor;

	snprintf(json, sizeof json, "{\"dependentRealisations\":{},\"id\":\"%s\",\"outPath\":\"%s\",\"signatures\":[]}",
		 id, p + 11);
	CHECK(realisation_parse(&re, json, strlen(json)) == 0);
	for (minor = 30; minor <= 34; minor += 4) {
		/* one realisation known, then none, then a registration's end */
		wr_init_mem(&a, in, sizeof in);
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 1);
		if (minor >= 31)
			wr_cstr(&a, json);
		else
			wr_cstr(&a, p);
		wr_u64(&a, STDERR_LAST); wr_u64(&a, 0);
		wr_u64(&a, STDERR_LAST);
		wr_init_mem(&e, want, sizeof want);
		wr_u64(&e, WOP_QUERY_REALISATION); wr_cstr(&e, id);
		wr_u64(&e, WOP_QUERY_REALISATION); wr_cstr(&e, id);
		wr_u64(&e, WOP_REGISTER_DRV_OUTPUT);
		if (minor >= 31)
			wr_cstr(&e, json);
		else {
			wr_cstr(&e, id);
			wr_cstr(&e, p);
		}
		memset(&d, 0, sizeof d);
		d.minor = minor;
		d.logfd = -1;
		rd_init_mem(&d.r, in, a.len, EXIT_SYSTEM, "nix-daemon");
		wr_init_mem(&d.w, sent, sizeof sent);
		CHECK(daemon_query_realisation(&d, id, got) == 1 && !strcmp(got, p));
		CHECK(daemon_query_realisation(&d, id, got) == 0 && !got[0]);
		CHECK(daemon_register_drv_output(&d, &re, json, strlen(json)) == 0);
		CHECK(d.w.len == e.len && !memcmp(sent, want, e.len) && d.r.pos == d.r.len);
	}
	/* an answer for another output is not this one's */
	wr_init_mem(&a, in, sizeof in);
	wr_u64(&a, STDERR_LAST); wr_u64(&a, 1); wr_cstr(&a, json);
	rd_init_mem(&d.r, in, a.len, EXIT_SYSTEM, "nix-daemon");
	wr_init_mem(&d.w, sent, sizeof sent);
	d.minor = 34;
	CHECK(daemon_query_realisation(&d, "sha256:8cda31f33af904b00f6c890248b088fff9313a9d9b69c031bde3c09ba8271e95!dev",
				       got) == -1);
	err_clear();
}

/* A DrvOutput id from a worker client: exactly Nix's form, or refused
 * before the daemon sees it. */
void t_realisation_wire_id(void)
{
	static const char *good[] = {
		"sha256:8cda31f33af904b00f6c890248b088fff9313a9d9b69c031bde3c09ba8271e95!out",
		"sha256:0000000000000000000000000000000000000000000000000000000000000000!dev-1.x",
	};
	static const char *bad[] = {
		"sha256:8cda31f33af904b00f6c890248b088fff9313a9d9b69c031bde3c09ba8271e9!out",
		"sha256:8CDA31f33af904b00f6c890248b088fff9313a9d9b69c031bde3c09ba8271e95!out",
		"sha512:8cda31f33af904b00f6c890248b088fff9313a9d9b69c031bde3c09ba8271e95!out",
		"sha256:8cda31f33af904b00f6c890248b088fff9313a9d9b69c031bde3c09ba8271e95out",
		"sha256:8cda31f33af904b00f6c890248b088fff9313a9d9b69c031bde3c09ba8271e95!",
		"sha256:8cda31f33af904b00f6c890248b088fff9313a9d9b69c031bde3c09ba8271e95!a/b",
		"sha256:8cda31f33af904b00f6c890248b088fff9313a9d9b69c031bde3c09ba8271e95!.out",
		"sha256:00!out",
		"",
	};
	unsigned char buf[512];
	char id[DRV_OUTPUT_ID_MAX + 1];
	struct wr w;
	struct rd r;
	size_t i;

	for (i = 0; i < sizeof good / sizeof *good + sizeof bad / sizeof *bad; i++) {
		const char *s = i < 2 ? good[i] : bad[i - 2];

		wr_init_mem(&w, buf, sizeof buf);
		wr_cstr(&w, s);
		rd_init_mem(&r, buf, w.len, EXIT_REFUSED, "client");
		if (i < 2)
			CHECK(wrealisation_id_read(&r, id) == 0 && !strcmp(id, s));
		else
			CHECK(wrealisation_id_read(&r, id) == -1 && err_kind() == EXIT_REFUSED);
		err_clear();
	}
}
