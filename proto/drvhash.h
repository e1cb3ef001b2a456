/* drvhash: a derivation (.drv) checked as the daemon checks one it
 * registers (Nix 2.8 checkDerivationOutputs, hashDerivationModulo), so that
 * nixgate refuses what the daemon would refuse before the daemon sees it:
 * its text in Nix's canonical form, its output paths and their environment
 * variables its own, its store path and references those of its text. */
#ifndef NIXGATE_DRVHASH_H
#define NIXGATE_DRVHASH_H

#include <stddef.h>

#include "drvtext.h"
#include "pathset.h"
#include "storepath.h"

/* Input derivations read for one check: a NixOS system's closure has some
 * 10,000 .drv files. */
#define DRVHASH_VISIT_MAX 65536
/* Longest chain of input derivations: nixpkgs' stdenv bootstrap is some
 * 100 deep. Each level holds one derivation's text (and recurses). */
#define DRVHASH_DEPTH_MAX 512
/* Bytes of derivation text held at once along one chain, and read in all. */
#define DRVHASH_LIVE_MAX (32u << 20)
#define DRVHASH_READ_MAX (1024u << 20)

/* An input derivation's text, malloc'd: 0; 1 when the store does not have
 * it; -1 on failure (fail(), of kind EXIT_REFUSED when the text is
 * refused). */
typedef int (*drvhash_fetch)(void *ctx, const char *drvpath, char **text, size_t *len);

/* 0: text is a derivation in canonical form, as Nix would print it back
 * (its fixed output path computed from drvpath's name); 1: it is not, the
 * reason in why (max at least 1); -1 on failure. */
int drv_canonical(const char *drvpath, const char *text, size_t len, unsigned flags, char *why, size_t max);
/* 0: every output path of the derivation at drvpath (text, len) is its own
 * (input-addressed: from its hash modulo, reading its input derivations
 * through fetch; fixed: from its hash) and each output's environment
 * variable equals its path; 1: not, the reason in why; -1 on failure.
 * flags (DRVTEXT_*): the outputs the host's Nix reads beyond these. Like
 * Nix 2.8, which checks no path of a floating, impure or deferred output
 * (it has none before the build), this accepts them as they are; unlike
 * 2.8 (like the newest Nix) it refuses an input-addressed path where any
 * input derivation's outputs are not known before the build. */
int drv_outputs_own(const char *drvpath, const char *text, size_t len, drvhash_fetch fetch, void *ctx,
		    unsigned flags, char *why, size_t max);
/* The hash Nix's realisations name the outputs of the derivation at drvpath
 * (text, len) by (DrvOutput, staticOutputHashes: its hash modulo, outputs
 * masked), the same for every output; input derivations read through
 * fetch. 0, 1 (why) or -1. */
int drv_output_hash(const char *drvpath, const char *text, size_t len, drvhash_fetch fetch, void *ctx,
		    unsigned flags, unsigned char h[SHA256_BYTES], char *why, size_t max);
/* The store path Nix writes the derivation (text, len) to: text:sha256
 * named name (with ".drv"), referring to its input derivations and
 * sources. 0, 1 (why) or -1. */
int drv_text_path(char out[STORE_PATH_MAX + 1], const char *name, const char *text, size_t len, char *why,
		  size_t max);
/* 0: drvpath is that store path and refs are exactly its input derivations
 * and sources; 1: not (why); -1 on failure. */
int drv_path_own(const char *drvpath, const char *text, size_t len, const struct pathset *refs, char *why,
		 size_t max);

#endif
