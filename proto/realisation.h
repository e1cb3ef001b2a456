/* realisation: Nix's Realisation, which output path a build of a floating
 * content-addressed derivation gave, as the JSON object the serve protocol
 * (2.6, 2.7) and the worker protocol (1.31 on) carry in a string; and the
 * DrvOutput id that names it. */
#ifndef NIXGATE_REALISATION_H
#define NIXGATE_REALISATION_H

#include <stddef.h>

#include "hash.h"
#include "storepath.h"

/* "sha256:" <64 hex digits> "!" <output name> */
#define DRV_OUTPUT_ID_MAX (7 + 2 * SHA256_BYTES + 1 + STORE_NAME_MAX)
/* Nesting inside the object: its signatures and dependentRealisations are
 * one level deep in Nix's. */
#define REALISATION_DEPTH_MAX 8

struct realisation {
	char id[DRV_OUTPUT_ID_MAX + 1];
	char out_path[STORE_PATH_MAX + 1]; /* with the store directory */
};

/* The id of output out of a derivation whose outputs hash (modulo) to h. */
void drv_output_id(char id[DRV_OUTPUT_ID_MAX + 1], const unsigned char h[SHA256_BYTES], const char *out);
/* Why the n bytes at s are not a DrvOutput id, or NULL when they are one. */
const char *drv_output_id_fault(const char *s, size_t n);
/* Its id and outPath from the JSON text (len bytes): 0, or -1 with fail()
 * (EXIT_SYSTEM: it comes from a peer the caller asked) when it is not one
 * object with exactly one of each, the id well formed and the path a store
 * path. Other members are skipped. */
int realisation_parse(struct realisation *r, const char *json, size_t len);

#endif
