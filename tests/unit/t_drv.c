/* Unit tests of the derivation readers: ATerm files (Nix's own test
 * derivations) and the wire form, for what the policy reads from them. */
#include <stdlib.h>
#include <string.h>

#include "aterm.h"
#include "check.h"
#include "err.h"

static struct drvinfo f;

static int parse(const char *s)
{
	err_clear();
	return aterm_drv(&f, s, strlen(s));
}

void t_aterm(void)
{
	static const char *ok =
		"Derive([(\"out\",\"/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt\",\"sha256\","
		"\"1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13\")],"
		"[(\"/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-dep2.drv\",[\"out\"])],[],\"x86_64-linux\","
		"\"/bin/sh\",[\"-c\",\"echo \\\"a\\\\b\\\"\\n\"],[(\"a\",\"\"),"
		"(\"requiredSystemFeatures\",\"kvm big-parallel\"),(\"z\",\"\\t\")])";
	char dir[512], *t;
	unsigned char *p;
	size_t n, i;

	CHECK(parse(ok) == 0);
	CHECK(!strcmp(f.system, "x86_64-linux") && f.nout == 1 && !strcmp(f.out[0].algo, "sha256"));
	CHECK(!strcmp(f.out[0].path, "/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt"));
	CHECK(!strcmp(f.features, "kvm big-parallel") && !f.structured);
	/* every proper prefix is refused, with a message and no crash */
	t = malloc(strlen(ok) + 1);
	for (i = 0; t && i < strlen(ok); i++) {
		memcpy(t, ok, i);
		err_clear();
		CHECK(aterm_drv(&f, t, i) == -1 && strstr(err_msg(), "malformed derivation"));
	}
	free(t);
	CHECK(parse("Derive([],[],[],\"x\",\"b\",[],[(\"__json\",\"{}\")])") == 0 && f.structured);
	CHECK(parse("Derive([],[],[],\"x\",\"b\",[],[]) ") == -1 && strstr(err_msg(), "end of derivation"));
	CHECK(parse("Derive([(\"out\",\"/tmp/x\",\"\",\"\")],[],[],\"x\",\"b\",[],[])") == -1);
	CHECK(parse("Derive([],[],[],\"x\",\"b\",[],[(\"requiredSystemFeatures\",\"a\\\0\")])") == -1);
	if (!check_dir)
		return;
	snprintf(dir, sizeof dir, "%s/derivations", check_dir);
	CHECK((p = slurp(dir, "hello.drv", &n)) && aterm_drv(&f, (char *)p, n) == 0);
	CHECK(!strcmp(f.system, "x86_64-linux") && f.nout == 1 && !strcmp(f.out[0].name, "out"));
	CHECK((p = slurp(dir, "simple-derivation.drv", &n)) && aterm_drv(&f, (char *)p, n) == 0);
	CHECK(!strcmp(f.system, "wasm-sel4") && f.nout == 0 && !f.features[0]);
	CHECK((p = slurp(dir, "dyn-dep-derivation.drv", &n)) && aterm_drv(&f, (char *)p, n) == 0);
	CHECK(!strcmp(f.system, "wasm-sel4"));
	err_clear();
	CHECK((p = slurp(dir, "bad-version.drv", &n)) && aterm_drv(&f, (char *)p, n) == -1);
	err_clear();
	CHECK((p = slurp(dir, "unterminated-string.drv", &n)) && aterm_drv(&f, (char *)p, n) == -1);
	CHECK(strstr(err_msg(), "end of string") != NULL);
}
