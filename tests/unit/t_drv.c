/* Unit tests of the derivation readers: ATerm files (Nix's own test
 * derivations) and the wire form, for what the policy reads from them. */
#include <stdlib.h>
#include <string.h>

#include "aterm.h"
#include "drv.h"
#include "pathset.h"
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

/* A .drv in wire form reads back through the server's own reader with the
 * same system, outputs and features; with input derivations the given
 * inputs replace its sources. */
void t_aterm_basic(void)
{
	static const char *drv =
		"Derive([(\"out\",\"/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt\",\"\",\"\")],"
		"[(\"/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-dep2.drv\",[\"out\"])],"
		"[\"/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-dep1\"],\"x86_64-linux\",\"/bin/sh\","
		"[\"-c\",\"echo \\\"q\\\"\"],[(\"requiredSystemFeatures\",\"kvm\"),(\"t\",\"a\\tb\")])";
	static unsigned char buf[8192];
	static struct drvwire back;
	struct pathset srcs;
	struct wr w;
	struct rd r;

	pathset_init(&srcs);
	CHECK(pathset_add(&srcs, "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-input", 49) == 0);
	wr_init_mem(&w, buf, sizeof buf);
	err_clear();
	CHECK(aterm_basic(&w, drv, strlen(drv), &srcs) == 0);
	rd_init_mem(&r, buf, w.len, EXIT_REFUSED, "test");
	drvwire_init(&back);
	CHECK(drvwire_read(&back, &r) == 0 && rd_at_eof(&r) == 1);
	CHECK(!strcmp(back.info.system, "x86_64-linux") && back.info.nout == 1 && !strcmp(back.info.features, "kvm"));
	CHECK(!strcmp(back.info.out[0].path, "/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt"));
	CHECK(memmem(buf, w.len, "0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-input", 38) != NULL);
	CHECK(memmem(buf, w.len, "c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-dep1", 37) == NULL);
	CHECK(memmem(buf, w.len, "echo \"q\"", 8) != NULL && memmem(buf, w.len, "a\tb", 3) != NULL);
	/* without inputs the sources stay; a cut derivation is refused */
	wr_init_mem(&w, buf, sizeof buf);
	CHECK(aterm_basic(&w, drv, strlen(drv), NULL) == 0 && memmem(buf, w.len, "-dep1", 5) != NULL);
	wr_init_mem(&w, buf, sizeof buf);
	err_clear();
	CHECK(aterm_basic(&w, drv, strlen(drv) - 1, NULL) == -1 && strstr(err_msg(), "malformed derivation"));
	drvwire_free(&back);
	pathset_free(&srcs);
}

/* The attributes that weaken the build sandbox, as ATerm env entries, in a
 * __json (whole, however long), and as an impure output; their harmless
 * values are not counted. */
void t_drv_sandbox(void)
{
	static const struct {
		const char *env, *weak;
	} cases[] = {
		{"(\"__noChroot\",\"1\")", "__noChroot"},
		{"(\"__noChroot\",\"\")", NULL},
		{"(\"__impure\",\"1\")", "__impure"},
		{"(\"__darwinAllowLocalNetworking\",\"1\")", "__darwinAllowLocalNetworking"},
		{"(\"__sandboxProfile\",\"(allow default)\")", "__sandboxProfile"},
		{"(\"__sandboxProfile\",\"\")", NULL},
		{"(\"__impureHostDeps\",\"/usr/lib\")", "__impureHostDeps"},
		{"(\"impureEnvVars\",\"http_proxy\")", NULL},
		{"(\"impureEnvVars\",\"http_proxy https_proxy\\nNIX_CURL_FLAGS NIX_MIRRORS_gnu\")", NULL},
		{"(\"impureEnvVars\",\"http_proxy AWS_SECRET_ACCESS_KEY\")",
		 "impureEnvVars beyond the fetchers' proxy and mirror variables"},
		{"(\"impureEnvVars\",\"NIX_MIRRORS_\")", "impureEnvVars beyond the fetchers' proxy and mirror variables"},
		{"(\"impureEnvVars\",\"http_proxyX\")", "impureEnvVars beyond the fetchers' proxy and mirror variables"},
		{"(\"__json\",\"{\\\"impureEnvVars\\\":[\\\"HOME\\\"]}\")", "impureEnvVars"},
		{"(\"__json\",\"{\\\"__noChroot\\\":true}\")", "__noChroot"},
		{"(\"__json\",\"{\\\"\\\\u005f_noChroot\\\":true}\")", "an escaped plain character in __json"},
		{"(\"__json\",\"{\\\"a\\\":\\\"\\\\u001b[1m\\\"}\")", NULL},
		{"(\"__json\",\"{\\\"requiredSystemFeatures\\\":[\\\"recursive-nix\\\"]}\")", "recursive-nix"},
	};
	static char text[16384];
	struct drvwire w;
	unsigned char *buf;
	struct wr wr;
	struct rd rd;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		snprintf(text, sizeof text, "Derive([(\"out\",\"\",\"\",\"\")],[],[],\"x86_64-linux\",\"/bin/sh\",[],[%s])",
			 cases[i].env);
		CHECK(parse(text) == 0);
		CHECK(cases[i].weak ? f.weak && !strcmp(f.weak, cases[i].weak) : !f.weak);
		if (cases[i].weak && !(f.weak && !strcmp(f.weak, cases[i].weak)))
			printf("  case %zu: %s\n", i, f.weak ? f.weak : "(none)");
	}
	/* past the first 4096 bytes the policy keeps of other values */
	memset(text, 0, sizeof text);
	strcpy(text, "Derive([(\"out\",\"\",\"\",\"\")],[],[],\"x86_64-linux\",\"/bin/sh\",[],[(\"__json\",\"{\\\"a\\\":\\\"");
	memset(text + strlen(text), 'x', 9000);
	strcat(text, "\\\",\\\"__noChroot\\\":true}\")])");
	CHECK(parse(text) == 0 && f.structured && f.weak && !strcmp(f.weak, "__noChroot"));
	CHECK(parse("Derive([(\"out\",\"\",\"r:sha256\",\"impure\")],[],[],\"x86_64-linux\",\"/bin/sh\",[],[])") == 0 &&
	      f.weak && !strcmp(f.weak, "__impure"));
	/* the wire form of BuildDerivation: the same rules */
	buf = malloc(65536);
	wr_init_mem(&wr, buf, 65536);
	wr_u64(&wr, 1);
	wr_cstr(&wr, "out"); wr_cstr(&wr, ""); wr_cstr(&wr, "r:sha256"); wr_cstr(&wr, "");
	wr_u64(&wr, 0); wr_cstr(&wr, "x86_64-linux"); wr_cstr(&wr, "/bin/sh"); wr_u64(&wr, 0);
	wr_u64(&wr, 1); wr_cstr(&wr, "__noChroot"); wr_cstr(&wr, "1");
	rd_init_mem(&rd, buf, wr.len, 100, "client");
	drvwire_init(&w);
	err_clear();
	CHECK(drvwire_read(&w, &rd) == 0 && w.info.weak && !strcmp(w.info.weak, "__noChroot"));
	drvwire_free(&w);
	free(buf);
}
