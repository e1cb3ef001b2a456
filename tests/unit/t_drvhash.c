/* Unit tests of drvhash against .drv files Nix 2.8 wrote
 * (tests/unit/data/drvhash, see make.sh there): their outputs are their own
 * as the daemon computes them, and each kind of change to one is refused. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drvhash.h"
#include "err.h"

#define DIR_ "tests/unit/data/drvhash"
#define LEAF "/nix/store/qqiwhhpn0kg7a53hsjh862ny7r5xz66p-leaf.drv"
#define DEP "/nix/store/3dgbfi1zvnmjqhkn6wfv2q1k53g5vwhl-dep.drv"
#define BASE "/nix/store/i2h711ci5cjx4bswxbf87wyabb3d9zx7-base.drv"
#define DIAMOND "/nix/store/f5lnhkh2gaq5z339yfwz1fd6ckg4kv2n-diamond.drv"
#define ESCAPES "/nix/store/9fjc6shr2n3khba1jrdc09sp9c7dpg8l-escapes.drv"
#define FLAT "/nix/store/2cwcbw35gmkcbzz05pjsqanxdc8liary-flat.drv"
#define USESDEV "/nix/store/0jjdra2316yhlp6xg583c431r7ngdxsa-usesdev.drv"

/* What fetch serves: one path's text replaced, synthetic chains (path
 * "/nix/store/<hash>-c<k>.drv" needs c<k+1> while k < chain), and the
 * fixtures for every other path; how often it was asked for base. */
struct store {
	const char *path, *text;
	unsigned chain, base_reads, reads;
};

/* A fixture's text, malloc'd: exactly its bytes, so that a read past them
 * is caught, or with a NUL after them (nul). */
static char *fixture(const char *path, size_t *n, int nul)
{
	unsigned char *p = slurp(DIR_, strrchr(path, '/') ? strrchr(path, '/') + 1 : path, n);
	char *t;

	if (!p || !(t = malloc(*n + (nul || !*n))))
		return NULL;
	memcpy(t, p, *n);
	if (nul)
		t[*n] = 0;
	return t;
}

static char *file(const char *path, size_t *n)
{
	return fixture(path, n, 0);
}

/* the k-th path of a chain: its hash part spells k in digits */
static void chain_path(char *out, unsigned k)
{
	snprintf(out, STORE_PATH_MAX + 1, "/nix/store/%032u-c%u.drv", k, k);
}

/* bytes of a variable "pad" in each derivation of a chain */
static size_t chain_pad;

static char *chain_text(unsigned k, unsigned chain, size_t *n)
{
	char in[STORE_PATH_MAX + 1], *t = malloc(1024 + chain_pad);
	int at;

	if (!t)
		return NULL;
	chain_path(in, k + 1);
	at = snprintf(t, 1024,
		      "Derive([(\"out\",\"/nix/store/%032u-c%u\",\"\",\"\")],[%s%s%s],[],\"x\",\"b\",[],"
		      "[(\"out\",\"/nix/store/%032u-c%u\")",
		      k, k, k < chain ? "(\"" : "", k < chain ? in : "", k < chain ? "\",[\"out\"])" : "", k, k);
	if (chain_pad) {
		at += sprintf(t + at, ",(\"pad\",\"");
		memset(t + at, 'p', chain_pad);
		at += (int)chain_pad;
		at += sprintf(t + at, "\")");
	}
	strcpy(t + at, "])");
	*n = (size_t)at + 2;
	return t;
}

/* A fan: f0 needs f1 .. fF, each of those F more of its own. */
#define FAN 257

static char *fan_text(unsigned k, size_t *n)
{
	char *t = malloc(FAN * 64 + 256);
	unsigned i, first = k == 0 ? 1 : k <= FAN ? FAN + 1 + (k - 1) * FAN : 0;
	size_t at;

	if (!t)
		return NULL;
	/* f0 input-addressed, so that its inputs are read */
	at = (size_t)sprintf(t, "Derive([(\"out\",\"%s\",\"\",\"\")],[", k ? "" : "/nix/store/00000000000000000000000000000000-f");
	for (i = 0; first && i < FAN; i++)
		at += (size_t)sprintf(t + at, "%s(\"/nix/store/%032u-f.drv\",[\"out\"])", i ? "," : "", first + i);
	at += (size_t)sprintf(t + at, "],[],\"x\",\"b\",[],[%s])", k ? "" : "(\"out\",\"/nix/store/00000000000000000000000000000000-f\")");
	*n = at;
	return t;
}

static int fetch(void *ctx, const char *path, char **text, size_t *n)
{
	struct store *s = ctx;
	unsigned k;
	int end = 0;

	s->reads++;
	s->base_reads += !strcmp(path, BASE);
	if (s->path && !strcmp(path, s->path)) {
		*n = strlen(s->text);
		if (!(*text = malloc(*n)))
			return fail(EXIT_SYSTEM, "out of memory");
		memcpy(*text, s->text, *n);
		return 0;
	}
	if (sscanf(path, "/nix/store/%32u-f.drv%n", &k, &end) == 1 && (size_t)end == strlen(path))
		return (*text = fan_text(k, n)) ? 0 : fail(EXIT_SYSTEM, "out of memory");
	if (sscanf(path, "/nix/store/%*32[0-9]-c%u.drv", &k) == 1)
		return (*text = chain_text(k, s->chain, n)) ? 0 : fail(EXIT_SYSTEM, "out of memory");
	return (*text = file(path, n)) ? 0 : 1;
}

static char why[512];

/* drv_outputs_own of path with text (the fixture when NULL), st serving
 * its inputs */
static int own(const char *path, const char *text, struct store *st)
{
	struct store none = {0};
	size_t n = text ? strlen(text) : 0;
	/* exactly its bytes, so that a read past them is caught */
	char *t = text ? malloc(n ? n : 1) : file(path, &n);
	int r;

	if (!t)
		return -1;
	if (text)
		memcpy(t, text, n);
	err_clear();
	r = drv_outputs_own(path, t, n, fetch, st ? st : &none, 0, why, sizeof why);
	free(t);
	return r;
}

/* The fixture's text with the first from replaced by to, in a static buffer. */
static const char *edit(const char *path, const char *from, const char *to)
{
	static char out[16384];
	size_t n;
	char *t = fixture(path, &n, 1), *at;

	out[0] = 0;
	if (t && (at = strstr(t, from)) && n + strlen(to) < sizeof out)
		snprintf(out, sizeof out, "%.*s%s%s", (int)(at - t), t, to, at + strlen(from));
	free(t);
	return out;
}

/* Every fixture: its outputs are its own, its text gives its path, and its
 * references are those Nix registered. */
void t_drvhash_real(void)
{
	char line[4096], path[STORE_PATH_MAX + 1], want[STORE_PATH_MAX + 1], *t, *tok;
	struct pathset refs;
	unsigned seen = 0;
	size_t n;
	FILE *f = fopen(DIR_ "/refs", "r");

	CHECK(f != NULL);
	if (!f)
		return;
	pathset_init(&refs);
	while (fgets(line, sizeof line, f)) {
		pathset_clear(&refs);
		line[strcspn(line, "\n")] = 0;
		if (!(tok = strtok(line, " ")))
			continue;
		snprintf(path, sizeof path, "/nix/store/%s", tok);
		while ((tok = strtok(NULL, " ")))
			CHECK(pathset_add(&refs, want, (size_t)snprintf(want, sizeof want, "/nix/store/%s", tok)) == 0);
		CHECK((t = file(path, &n)) != NULL);
		if (!t)
			continue;
		seen++;
		err_clear();
		if (own(path, NULL, NULL) != 0) {
			printf("  %s: %s\n", path, why);
			CHECK(0);
		}
		CHECK(drv_canonical(path, t, n, 0, why, sizeof why) == 0);
		CHECK(drv_text_path(want, storepath_name(path), t, n, why, sizeof why) == 0 && !strcmp(want, path));
		if (drv_path_own(path, t, n, &refs, why, sizeof why) != 0) {
			printf("  %s: %s\n", path, why);
			CHECK(0);
		}
		free(t);
	}
	fclose(f);
	pathset_free(&refs);
	CHECK(seen == 16);
}

#define REFUSED(call, reason) do { int r_ = (call); CHECK(r_ == 1 && strstr(why, reason)); \
	if (r_ != 1 || !strstr(why, reason)) printf("  got %d: %s\n", r_, why); } while (0)

/* A copy of a real .drv changed in one place is refused, with the reason. */
void t_drvhash_changed(void)
{
	struct store st = {0};

	/* an output path of another derivation, its variable changed with it */
	REFUSED(own(LEAF, edit(LEAF, "/nix/store/pp2v2d46dvv2r81aydnjcp9j4yff0s85-leaf\",\"\"",
				"/nix/store/pp2v2d46dvv2r81aydnjcp9j4yff0s86-leaf\",\"\""), NULL),
		"not the path its derivation gives");
	/* the variable alone */
	REFUSED(own(LEAF, edit(LEAF, "(\"out\",\"/nix/store/pp2v2d46dvv2r81aydnjcp9j4yff0s85-leaf\")",
				"(\"out\",\"/nix/store/pp2v2d46dvv2r81aydnjcp9j4yff0s86-leaf\")"), NULL),
		"environment variable out is not its output path");
	/* (a fixed output: renamed, the variable would change the hash modulo
	 * of an input-addressed one, and its path with it) */
	REFUSED(own(FLAT, edit(FLAT, "),(\"out\",\"/nix/store/knr9", "),(\"ou\",\"/nix/store/knr9"), NULL),
		"no environment variable out");
	/* a flat fixed output whose path is not its hash's */
	REFUSED(own(FLAT, edit(FLAT, "knr9pkc78p85ayh3cifq4shvx7dnf275-flat\",\"sha1",
			       "knr9pkc78p85ayh3cifq4shvx7dnf276-flat\",\"sha1"), NULL),
		"fixed output path");
	/* the input derivation's text changed: its hash modulo, and so the
	 * path of what depends on it */
	st.path = LEAF;
	st.text = edit(LEAF, "\"echo > $out\"", "\"echo >> $out\"");
	REFUSED(own(DEP, NULL, &st), "output out is /nix/store/a97s08a6f3jxd2xkl47hjnvw5lp6x7g0-dep, not the path");
	/* an input output that is not there, an input that is not */
	st.path = NULL;
	REFUSED(own(DEP, edit(DEP, "-leaf.drv\",[\"out\"]", "-leaf.drv\",[\"dev\"]"), &st), "has no output dev");
	REFUSED(own(DEP, edit(DEP, "qqiwhhpn0kg7a53hsjh862ny7r5xz66p-leaf.drv", "qqiwhhpn0kg7a53hsjh862ny7r5xz66q-leaf.drv"),
		    &st),
		"is not in the host store");
	/* the name is the derivation's: another name, other paths */
	REFUSED(drv_outputs_own("/nix/store/qqiwhhpn0kg7a53hsjh862ny7r5xz66p-leag.drv", edit(LEAF, "", ""),
				strlen(edit(LEAF, "", "")), fetch, &st, 0, why, sizeof why),
		"not the path its derivation gives");
	REFUSED(drv_outputs_own("/nix/store/qqiwhhpn0kg7a53hsjh862ny7r5xz66p-leaf", edit(LEAF, "", ""),
				strlen(edit(LEAF, "", "")), fetch, &st, 0, why, sizeof why),
		"must end in .drv");
}

/* Text Nix would print back otherwise is refused, escapes and all. */
void t_drvhash_canonical(void)
{
	static const char *const edits[][3] = {
		/* from, to, reason */
		{"newline \\n", "newline \n", "newline, return or tab that Nix escapes"},
		{"tab \\t", "tab \\\t", "an escape other than"},
		{"backslash \\\\", "backslash \\q", "an escape other than"},
		{"\"x86_64-linux\",\"/bin/sh\"", "\"x86_64-linux\", \"/bin/sh\"", "malformed derivation"},
		{"\"/bin/sh\"", "\"/bin/\\sh\"", "an escape other than"},
		{"\"x86_64-linux\",\"/bin/sh\"", "\"x86_64\\-linux\",\"/bin/sh\"", "a backslash where Nix prints"},
		{"(\"builder\",\"/bin/sh\"),(\"dep\"", "(\"dep\",\"/bin/sh\"),(\"builder\"", "environment variables out of order"},
		{"(\"builder\",\"/bin/sh\"),", "(\"builder\",\"/bin/sh\"),(\"builder\",\"/bin/sh\"),", "out of order"},
		{"[(\"out\",\"/nix", "[(\"dev\",\"\",\"\",\"\"),(\"out\",\"/nix", "outputs of different kinds"},
		{"Derive(", "DrvWithVersion(\"xp-dyn-drv\",", "dynamic derivations"},
	};
	char path[STORE_PATH_MAX + 1];
	const char *t;
	size_t i;

	CHECK(own(ESCAPES, NULL, NULL) == 0);
	for (i = 0; i < sizeof edits / sizeof *edits; i++) {
		t = edit(ESCAPES, edits[i][0], edits[i][1]);
		CHECK(t[0]);
		err_clear();
		REFUSED(drv_canonical(ESCAPES, t, strlen(t), 0, why, sizeof why), edits[i][2]);
		REFUSED(own(ESCAPES, t, NULL), edits[i][2]);
		REFUSED(drv_text_path(path, storepath_name(ESCAPES), t, strlen(t), why, sizeof why), edits[i][2]);
	}
	/* an env name with an escape sorts by what it stands for: '"' (0x22)
	 * before '#' (0x23), though '\\' (0x5c) is after it */
	t = "Derive([(\"out\",\"\",\"\",\"\")],[],[],\"x\",\"b\",[],[(\"a\\\"\",\"\"),(\"a#\",\"\")])";
	CHECK(drv_canonical(LEAF, t, strlen(t), 0, why, sizeof why) == 0);
	t = "Derive([(\"out\",\"\",\"\",\"\")],[],[],\"x\",\"b\",[],[(\"a#\",\"\"),(\"a\\\"\",\"\")])";
	REFUSED(drv_canonical(LEAF, t, strlen(t), 0, why, sizeof why), "environment variables out of order");
	t = "Derive([],[],[],\"x\",\"b\",[],[])";
	REFUSED(drv_canonical(LEAF, t, strlen(t), 0, why, sizeof why), "without outputs");
}

/* Input derivations: each read once however many paths lead to it, a cycle
 * and a chain deeper than the limit refused. */
void t_drvhash_graph(void)
{
	struct store st = {0};
	char top[STORE_PATH_MAX + 1], a[STORE_PATH_MAX + 1], b[STORE_PATH_MAX + 16], ta[1024];
	size_t n;
	char *t;

	CHECK(own(DIAMOND, NULL, &st) == 0);
	CHECK(st.base_reads == 1 && st.reads == 3);
	/* a derivation whose input needs it */
	chain_path(top, 0);
	chain_path(a, 1);
	snprintf(b, sizeof b, "(\"%s\",[\"out\"])", top);
	st.chain = 0;
	st.path = a;
	snprintf(ta, sizeof ta,
		 "Derive([(\"out\",\"/nix/store/%032u-c1\",\"\",\"\")],[%s],[],\"x\",\"b\",[],"
		 "[(\"out\",\"/nix/store/%032u-c1\")])", 1, b, 1);
	st.text = ta;
	t = chain_text(0, 1, &n);
	REFUSED(drv_outputs_own(top, t, n, fetch, &st, 0, why, sizeof why), "in a cycle");
	free(t);
	/* a chain just within the limit is read to its end, one past it not */
	st.path = NULL;
	st.chain = DRVHASH_DEPTH_MAX;
	t = chain_text(0, st.chain, &n);
	REFUSED(drv_outputs_own(top, t, n, fetch, &st, 0, why, sizeof why), "not the path its derivation gives");
	CHECK(st.reads == 3 + 1 + DRVHASH_DEPTH_MAX);
	free(t);
	st.chain = DRVHASH_DEPTH_MAX + 1;
	t = chain_text(0, st.chain, &n);
	REFUSED(drv_outputs_own(top, t, n, fetch, &st, 0, why, sizeof why), "nested more than");
	free(t);
	/* more bytes held along one chain than the limit: 33 of 1 MiB */
	chain_pad = 1u << 20;
	st.chain = DRVHASH_LIVE_MAX / chain_pad + 1;
	t = chain_text(0, st.chain, &n);
	REFUSED(drv_outputs_own(top, t, n, fetch, &st, 0, why, sizeof why), "along one chain");
	free(t);
	/* a chain of 16 stays within it */
	st.chain = DRVHASH_LIVE_MAX / chain_pad / 2;
	t = chain_text(0, st.chain, &n);
	REFUSED(drv_outputs_own(top, t, n, fetch, &st, 0, why, sizeof why), "not the path its derivation gives");
	free(t);
	chain_pad = 0;
	/* more input derivations in all than the limit, in a graph two deep */
	st.reads = 0;
	t = fan_text(0, &n);
	snprintf(top, sizeof top, "/nix/store/%032u-f.drv", 0);
	REFUSED(drv_outputs_own(top, t, n, fetch, &st, 0, why, sizeof why), "more than 65536 input derivations");
	CHECK(st.reads == DRVHASH_VISIT_MAX - 1);
	free(t);
}

/* Outputs known only after the build: floating content-addressed ones only
 * when the host's Nix reads them, and nothing that depends on one with a
 * path fixed before. */
void t_drvhash_floating(void)
{
	static const char *fl = "Derive([(\"out\",\"\",\"r:sha256\",\"\")],[],[],\"x\",\"b\",[],[(\"out\",\"\")])";
	static const char *flp = "/nix/store/00000000000000000000000000000000-fl.drv";
	struct store st = {flp, fl, 0, 0, 0};
	const char *t;

	REFUSED(drv_outputs_own(flp, fl, strlen(fl), fetch, &st, 0, why, sizeof why), "ca-derivations");
	CHECK(drv_outputs_own(flp, fl, strlen(fl), fetch, &st, DRVTEXT_CA_FLOATING, why, sizeof why) == 0);
	t = edit(DEP, "/nix/store/qqiwhhpn0kg7a53hsjh862ny7r5xz66p-leaf.drv", flp);
	CHECK(t[0]);
	REFUSED(drv_outputs_own(DEP, t, strlen(t), fetch, &st, DRVTEXT_CA_FLOATING, why, sizeof why),
		"it must be deferred");
	t = "Derive([(\"out\",\"\",\"r:sha256\",\"impure\")],[],[],\"x\",\"b\",[],[])";
	REFUSED(drv_outputs_own(flp, t, strlen(t), fetch, &st, DRVTEXT_CA_FLOATING, why, sizeof why),
		"impure-derivations");
	t = "Derive([(\"out\",\"\",\"r:sha255\",\"\")],[],[],\"x\",\"b\",[],[])";
	REFUSED(drv_outputs_own(flp, t, strlen(t), fetch, &st, DRVTEXT_CA_FLOATING, why, sizeof why),
		"a hash algorithm Nix does not know");
}

/* A .drv's claimed references are exactly its inputs, and its path its
 * text's. */
void t_drvhash_refs(void)
{
	struct pathset refs;
	size_t n;
	char *t = file(USESDEV, &n);

	CHECK(t != NULL);
	if (!t)
		return;
	pathset_init(&refs);
	pathset_add(&refs, "/nix/store/4kvj1kkkrcbq0sbvd34wbl2p7503r7sz-multi.drv", 53);
	REFUSED(drv_path_own(USESDEV, t, n, &refs, why, sizeof why), "qw418fa242yn02mvvyp4cn08lxf280n7-src.txt is missing");
	pathset_add(&refs, "/nix/store/qw418fa242yn02mvvyp4cn08lxf280n7-src.txt", 51);
	CHECK(drv_path_own(USESDEV, t, n, &refs, why, sizeof why) == 0);
	pathset_add(&refs, LEAF, strlen(LEAF));
	REFUSED(drv_path_own(USESDEV, t, n, &refs, why, sizeof why), "claims the reference " LEAF);
	pathset_clear(&refs);
	pathset_add(&refs, "/nix/store/4kvj1kkkrcbq0sbvd34wbl2p7503r7sz-multi.drv", 53);
	pathset_add(&refs, "/nix/store/qw418fa242yn02mvvyp4cn08lxf280n7-src.txt", 51);
	t[n - 5] = 'X'; /* in the last variable's value */
	REFUSED(drv_path_own(USESDEV, t, n, &refs, why, sizeof why), "its text makes its store path");
	pathset_free(&refs);
	free(t);
}
