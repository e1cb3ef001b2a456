/* Unit tests of proto/claim.c: what a path's metadata proves before its
 * content is read (a self-referencing path made by Nix 2.8's nix store
 * make-content-addressed, see t_cacheck.c; a text: path that lists itself),
 * and which signatures are passed on (vectors of t_trust.c, by Nix 2.8's
 * nix store sign). */
#include <string.h>

#include "check.h"
#include "claim.h"
#include "err.h"
#include "pathinfo.h"

#define SELF "/nix/store/j9xpm5a9yzp9v5slnxsgvay2lnwqi2l6-selfref"
#define SELF_CA "fixed:r:sha256:14869lj9vs5fmpd0f1p5msrn1jdl7hd146xaimv4l6zivgmc71zl"
#define SELF_NAR "sha256-XUFNQ9+fHf+Zow3TLUYxj/5FPxAn9wKBcq+ia2Q3PRM="
#define A "/nix/store/4yn82k7l416q89h6jk95i6cdx4gvsfrk-a"
#define A_CA "text:sha256:01nmlj72cjacxg6314c8slpfny6d83h8vmnbmb5qxjz3xp9ns6wn"
#define A_NAR "sha256-pwCGrtYN2KYMHza4jO7yxyyNWS71aOvWiHabxyjXZfw="
#define A_SIG "vec-key-1:0VE/KDENyvHl7W0Xv2U5DTOASYNGQ+EVfqMKjgSQKVbSuzWKFvTgoxRDshet56pzP1Xm9ii0+e6n9UhRbRiLBA=="
#define KEY "vec-key-1:H7vJwcRAr64va2fujVmSXbICbxPGw5xSZQjW6jOxSrg="

static size_t sigs_wire(unsigned char *buf, size_t cap, const char **sigs, size_t n)
{
	struct wr w;
	size_t i;

	wr_init_mem(&w, buf, cap);
	CHECK(wr_u64(&w, n) == 0);
	for (i = 0; i < n; i++)
		CHECK(wr_cstr(&w, sigs[i]) == 0);
	return w.len;
}

void t_claim_self(void)
{
	static unsigned char none[8];
	unsigned char h[SHA256_BYTES];
	struct pathset refs;
	struct pubkey k;
	char why[768];
	struct claim c = { SELF, SELF_CA, h, 168, none, 8 };

	pathset_init(&refs);
	CHECK(pubkey_parse(&k, KEY, strlen(KEY)) == 0);
	CHECK(hash_parse(h, SELF_NAR, strlen(SELF_NAR)) == 0);
	/* its NAR hash is not its content address's hash: it is taken modulo
	 * its own hash part, which only its content can show (cacheck) */
	CHECK(pathset_add(&refs, SELF, strlen(SELF)) == 0);
	CHECK(claim_check(&c, &refs, &k, 1, why, sizeof why) == 0);
	pathset_clear(&refs);
	CHECK(claim_check(&c, &refs, &k, 1, why, sizeof why) == 1 && strstr(why, "gives the path"));
	/* without a self-reference the two hashes are one */
	c.path = "/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt";
	c.ca = "fixed:r:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw";
	CHECK(claim_check(&c, &refs, &k, 1, why, sizeof why) == 1 && strstr(why, "does not match its NAR hash"));
	c.path = A;
	c.ca = A_CA;
	CHECK(hash_parse(h, A_NAR, strlen(A_NAR)) == 0);
	CHECK(claim_check(&c, &refs, &k, 1, why, sizeof why) == 0);
	CHECK(pathset_add(&refs, A, strlen(A)) == 0);
	CHECK(claim_check(&c, &refs, &k, 1, why, sizeof why) == 1 && strstr(why, "a text: path cannot refer to itself"));
	pathset_free(&refs);
}

void t_claim_sigs(void)
{
	static unsigned char in[SIGS_WIRE_MAX], out[SIGS_WIRE_MAX];
	const char *sigs[] = {"vec-key-1:AAAA", "other-1:" "0VE/KDENyvHl7W0Xv2U5DTOASYNGQ+EVfqMKjgSQKVbSuzWKFvTgoxRDshet56pzP1Xm9ii0+e6n9UhRbRiLBA==",
			      A_SIG, "vec-key-1:" "1VE/KDENyvHl7W0Xv2U5DTOASYNGQ+EVfqMKjgSQKVbSuzWKFvTgoxRDshet56pzP1Xm9ii0+e6n9UhRbRiLBA=="};
	unsigned char h[SHA256_BYTES];
	struct pathset refs;
	struct pubkey k;
	size_t len;
	struct claim c = { A, "", h, 120, in, 0 };
	struct rd r;
	uint64_t n;
	char s[SIG_MAX + 1];

	pathset_init(&refs);
	CHECK(pubkey_parse(&k, KEY, strlen(KEY)) == 0);
	CHECK(hash_parse(h, A_NAR, strlen(A_NAR)) == 0);
	c.sigs_len = sigs_wire(in, sizeof in, sigs, 4);
	CHECK(claim_sigs(&c, &refs, &k, 1, out, sizeof out, &len) == 0);
	rd_init_mem(&r, out, len, EXIT_REFUSED, "test");
	CHECK(rd_u64(&r, &n) == 0 && n == 1 && rd_str(&r, s, SIG_MAX, NULL, "sig") == 0 && !strcmp(s, A_SIG));
	/* no key: nothing is passed on */
	CHECK(claim_sigs(&c, &refs, &k, 0, out, sizeof out, &len) == 0 && len == 8 && out[0] == 0);
	c.sigs_len = sigs_wire(in, sizeof in, sigs, 0);
	CHECK(claim_sigs(&c, &refs, &k, 1, out, sizeof out, &len) == 0 && len == 8 && out[0] == 0);
	err_clear();
	pathset_free(&refs);
}
