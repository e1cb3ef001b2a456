/* Unit tests of content addresses, fingerprints and signatures, against
 * paths and signatures made by Nix 2.8 (nix-store --add, --add-fixed,
 * builtins.toFile, nix store sign). */
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "check.h"
#include "err.h"
#include "sig.h"

static const char *KEY = "vec-key-1:H7vJwcRAr64va2fujVmSXbICbxPGw5xSZQjW6jOxSrg=";
static const char *HELLO_NAR = "sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM=";

static const struct { const char *path, *ca, *refs, *nar, *sig; unsigned long long size; } vec[] = {
	{"/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt",
	 "fixed:r:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw", "", NULL,
	 "vec-key-1:3ZNsfhisY3utT5tGHOXfEhkm+Hl5sq9Sg+AeOfct+PsRB2uzUc0ILg7PT/pv3jqFuqFkVcv7nB94J2AMCaf8DA==", 120},
	{"/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt",
	 "fixed:sha256:00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq", "", NULL,
	 "vec-key-1:ihQQ3Hztj8yRS+mJwICCVqHhhaHY47EArnP/ruRzKa98B2zAoVP8LRbYDiJT26jWJ8P2MjxVPv9UZNcMICBVDA==", 120},
	{"/nix/store/svdva85yi507g9vncgsaxvnd1r808h4w-hello.txt", "fixed:sha1:iwjz551fyw0cxcjgf4l6c879zabd6wpm", "", NULL,
	 "vec-key-1:giHNDxjIY5D2L6yEBVFYMJsGdl06eOreQOFfgD++dE32vAEqawA2gdxMm5vXmQGqpqaHy9PGhmss4gzWEnSzCQ==", 120},
	{"/nix/store/zvx9c1iz58s5vxfirmc64xx628hh7v76-d", "fixed:r:sha1:s0v4hlxmjs4q5llzwq13dr50069qn7km", "",
	 "sha256-2pz/b8ewKjIQTjynHrKSklTwVOWHEKAtv+EtsAILoTI=",
	 "vec-key-1:sKf7nRyAcwWVWC7X8l/eRNs6rtjxjb5D8uhyLK6NrO9KXvSBp6Yapyc3AKfVUBUyjiMqbrrkjkDCfLl98nu/Cw==", 648},
	{"/nix/store/4yn82k7l416q89h6jk95i6cdx4gvsfrk-a", "text:sha256:01nmlj72cjacxg6314c8slpfny6d83h8vmnbmb5qxjz3xp9ns6wn", "",
	 "sha256-pwCGrtYN2KYMHza4jO7yxyyNWS71aOvWiHabxyjXZfw=",
	 "vec-key-1:0VE/KDENyvHl7W0Xv2U5DTOASYNGQ+EVfqMKjgSQKVbSuzWKFvTgoxRDshet56pzP1Xm9ii0+e6n9UhRbRiLBA==", 120},
	{"/nix/store/qqwf397dz5bmdayn2bwz3i0vp45rky56-b", "text:sha256:1nh4a28a559bw5gq58cbqq5vz5vkpc5733c7gkh4v7miypjcrizx",
	 "/nix/store/4yn82k7l416q89h6jk95i6cdx4gvsfrk-a", "sha256-fG/BU7xaTFM716VUgIffj90UEml5bIOiLV2xamdCxhQ=",
	 "vec-key-1:X+Tk2JDlQwt09waqsC4q8cvAoQ9ZsiM3qipE+KwNTkQE5A0nNgb9S4XnmqdGfFbMg5V+yNsvNDAxlwR9XNptAA==", 168},
};
#define NVEC (sizeof vec / sizeof *vec)

static void refs_of(struct pathset *s, const char *refs)
{
	pathset_clear(s);
	if (*refs)
		CHECK(pathset_add(s, refs, strlen(refs)) == 0);
}

void t_ca_paths(void)
{
	struct pathset refs;
	char out[STORE_PATH_MAX + 1];
	struct ca c;
	size_t i;

	pathset_init(&refs);
	for (i = 0; i < NVEC; i++) {
		refs_of(&refs, vec[i].refs);
		CHECK(ca_parse(&c, vec[i].ca, strlen(vec[i].ca)) == 0);
		CHECK(ca_path(out, &c, storepath_name(vec[i].path), &refs, vec[i].path) == 0);
		CHECK(!strcmp(out, vec[i].path));
	}
	/* the same claim with another name or a missing reference gives another path */
	CHECK(ca_parse(&c, vec[5].ca, strlen(vec[5].ca)) == 0);
	pathset_clear(&refs);
	CHECK(ca_path(out, &c, "b", &refs, NULL) == 0 && strcmp(out, vec[5].path));
	/* a flat fixed path cannot have references */
	refs_of(&refs, vec[4].path);
	CHECK(ca_parse(&c, vec[1].ca, strlen(vec[1].ca)) == 0);
	CHECK(ca_path(out, &c, "hello.txt", &refs, NULL) == -1);
	err_clear();
	CHECK(ca_parse(&c, "fixed:sha256:xyz", 16) == -1 && strstr(err_msg(), "not a content address"));
	CHECK(ca_parse(&c, "text:sha1:iwjz551fyw0cxcjgf4l6c879zabd6wpm", 42) == -1);
	CHECK(ca_parse(&c, "fixed:git:sha1:iwjz551fyw0cxcjgf4l6c879zabd6wpm", 47) == -1);
	/* a fixed-output derivation's output, as in the derivation: base16 */
	CHECK(ca_fixed_output(out, "r:sha256", "1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13"
			      "", "hello.txt") == 0 && !strcmp(out, vec[0].path));
	CHECK(ca_fixed_output(out, "sha1", "f572d396fae9206628714fb2ce00f72e94f2258f", "hello.txt") == 0 &&
	      !strcmp(out, vec[2].path));
	CHECK(ca_fixed_output(out, "sha1", "f572d396", "hello.txt") == -1);
	pathset_free(&refs);
}

void t_signatures(void)
{
	struct pubkey k, other;
	struct pathset refs;
	unsigned char h[SHA256_BYTES];
	char *fp, bad[200];
	size_t i, n;

	pathset_init(&refs);
	CHECK(pubkey_parse(&k, KEY, strlen(KEY)) == 0 && !strcmp(k.name, "vec-key-1"));
	CHECK(pubkey_parse(&other, "other:H7vJwcRAr64va2fujVmSXbICbxPGw5xSZQjW6jOxSrg=", 50) == 0);
	CHECK(pubkey_parse(&k, "vec-key-1:H7vJwcRAr64va2fuj", 27) == -1);
	CHECK(pubkey_parse(&k, ":H7vJwcRAr64va2fujVmSXbICbxPGw5xSZQjW6jOxSrg=", 45) == -1);
	CHECK(pubkey_parse(&k, KEY, strlen(KEY)) == 0);
	for (i = 0; i < NVEC; i++) {
		const char *nar = vec[i].nar ? vec[i].nar : HELLO_NAR;

		refs_of(&refs, vec[i].refs);
		CHECK(hash_parse(h, nar, strlen(nar)) == 0);
		fp = fingerprint(vec[i].path, h, vec[i].size, &refs, &n);
		CHECK(fp && n == strlen(fp));
		CHECK(sig_check(&k, 1, fp, n, vec[i].sig) == SIG_VALID);
		CHECK(sig_check(&other, 1, fp, n, vec[i].sig) == SIG_UNKNOWN_KEY);
		/* one changed byte of the message, of the signature */
		fp[n - 1] ^= 1;
		CHECK(sig_check(&k, 1, fp, n, vec[i].sig) == SIG_INVALID);
		fp[n - 1] ^= 1;
		snprintf(bad, sizeof bad, "%s", vec[i].sig);
		bad[12] = bad[12] == 'A' ? 'B' : 'A';
		CHECK(sig_check(&k, 1, fp, n, bad) == SIG_INVALID);
		free(fp);
	}
	refs_of(&refs, vec[5].refs);
	CHECK(hash_parse(h, vec[5].nar, strlen(vec[5].nar)) == 0);
	fp = fingerprint(vec[5].path, h, vec[5].size, &refs, &n);
	CHECK(fp && !strcmp(fp, "1;/nix/store/qqwf397dz5bmdayn2bwz3i0vp45rky56-b;"
			  "sha256:056689knmcax5ni86v3rd4919pcgvy3q0m55swxm6k2spi9w2vvw;168;"
			  "/nix/store/4yn82k7l416q89h6jk95i6cdx4gvsfrk-a"));
	CHECK(sig_check(&k, 1, fp, n, "vec-key-1:AAAA") == SIG_MALFORMED);
	CHECK(sig_check(&k, 1, fp, n, "no colon") == SIG_MALFORMED);
	free(fp);
	pathset_free(&refs);
}
