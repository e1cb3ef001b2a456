/* drvtext: a derivation's text (.drv, ATerm) read whole, bounded, and only
 * in the canonical form Nix writes, which Nix's printer gives back byte for
 * byte; printed again as Nix prints it to hash it. */
#ifndef NIXGATE_DRVTEXT_H
#define NIXGATE_DRVTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "drv.h"
#include "hash.h"

/* Entries of one list (input derivations, sources, arguments, environment),
 * and the output names all input derivations name together. */
#define DRVTEXT_LIST_MAX 65536

/* What the host's Nix reads. Nix 2.8 parses a floating content-addressed
 * output only with the experimental feature ca-derivations, an impure one
 * only with impure-derivations; without it the daemon fails on the .drv
 * after its bytes are in the store. */
#define DRVTEXT_CA_FLOATING 1
#define DRVTEXT_IMPURE 2

/* A refusal's reason, the first one kept; about names the input derivation
 * being read (NULL: the one checked). */
struct drvwhy {
	char *buf;
	size_t max;
	const char *about;
};

/* Both return 1 (a refusal). drvwhy_err takes over a refusal another
 * module reported through fail(), and returns -1 for any other failure. */
int drvwhy_no(struct drvwhy *y, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int drvwhy_err(struct drvwhy *y);

/* A string as written between its quotes. Only canonical text is kept, in
 * which a string's escapes are exactly those Nix prints (\" \\ \n \r \t,
 * nothing else escaped, and none at all in the strings Nix prints
 * unquoted), so printing a string back is writing these bytes. */
struct drvspan {
	uint32_t off, len;
};

struct drvinput {
	size_t path, names, nnames; /* indexes into s */
};

enum { DRVOUT_IA = 1, DRVOUT_FIXED, DRVOUT_FLOATING, DRVOUT_DEFERRED, DRVOUT_IMPURE };

/* Derive([outputs],[inputDrvs],[inputSrcs],system,builder,[args],[env]) */
struct drvtext {
	const char *t;
	size_t len;
	struct drvspan *s;
	size_t ns, scap;
	struct drvinput *in;
	size_t nin, incap, nnames;
	unsigned nout; /* s[4i .. 4i+3]: name, path, algo, hash of output i */
	unsigned char kind[DRV_OUTPUTS_MAX];
	int type; /* every output's kind, the same for all */
	size_t src, nsrc, platform, builder, arg, narg, env, nenv; /* first in s; env in pairs */
};

#define DRVTEXT_STR(d, i) ((d)->t + (d)->s[i].off)
#define DRVTEXT_LEN(d, i) ((size_t)(d)->s[i].len)

/* An output of an input derivation, under the hash that replaces the
 * input's path when its dependant is hashed modulo. */
struct drvrepl {
	unsigned char h[SHA256_BYTES];
	const char *name;
	size_t len;
};

/* 0: t (len bytes, kept by d) is a derivation in canonical form, name its
 * store path name (ending in .drv); 1: not, the reason in y; -1 on failure.
 * d is to be freed either way. */
int drvtext_load(struct drvtext *d, const char *name, const char *t, size_t len, unsigned flags,
		 struct drvwhy *y);
void drvtext_free(struct drvtext *d);
/* String i is s. */
int drvtext_is(const struct drvtext *d, size_t i, const char *s);
/* String i into dst, NUL-terminated. */
void drvtext_cstr(char *dst, const struct drvtext *d, size_t i);
/* 0 when output i's environment variable is path; else 1 (y). */
int drvtext_variable(const struct drvtext *d, unsigned i, const char *path, struct drvwhy *y);
/* sha256 of Nix's unparse of d, the input derivations replaced by r (nr
 * entries, sorted by hash and name, no two equal); mask: the output paths
 * and the variables named after outputs blank. */
void drvtext_hash(unsigned char h[SHA256_BYTES], const struct drvtext *d, int mask, const struct drvrepl *r,
		  size_t nr);

#endif
