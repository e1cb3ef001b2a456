/* drv: a BasicDerivation as the serve and worker protocols carry it, read
 * from a peer, checked and bounded, kept in wire form to pass on. */
#ifndef NIXGATE_DRV_H
#define NIXGATE_DRV_H

#include <stddef.h>

#include "storepath.h"
#include "wire.h"

#define DRV_OUTPUTS_MAX 256
#define DRV_LIST_MAX 65536          /* args, env entries, input sources */
#define DRV_STR_MAX (8u << 20)      /* one string: a large env value */
#define DRV_WIRE_MAX (64u << 20)    /* the whole derivation */
#define DRV_SYSTEM_MAX 64
#define DRV_ALGO_MAX 64
#define DRV_HASH_MAX 256
#define DRV_FEATURES_MAX 4096       /* requiredSystemFeatures */

struct drvout {
	char name[STORE_NAME_MAX + 1], path[STORE_PATH_MAX + 1]; /* path "": floating CA */
	char algo[DRV_ALGO_MAX + 1], hash[DRV_HASH_MAX + 1];     /* both "": input-addressed */
};

/* What the policy looks at in a derivation, from either form. */
struct drvinfo {
	char system[DRV_SYSTEM_MAX + 1];
	char features[DRV_FEATURES_MAX + 1];
	int structured;       /* __json: the features are inside it */
	const char *weak;     /* an attribute that weakens the build sandbox, or NULL */
	unsigned nout;
	struct drvout out[DRV_OUTPUTS_MAX];
};

struct drvwire {
	unsigned char *buf;   /* the derivation re-encoded, ready to send */
	size_t len, cap;
	struct drvinfo info;
};

void drvwire_init(struct drvwire *d);
void drvwire_free(struct drvwire *d);
int drvwire_read(struct drvwire *d, struct rd *r);
/* Notes an environment variable the policy cares about. value holds len
 * bytes, or for a long one its first DRV_FEATURES_MAX bytes (len is then
 * DRV_FEATURES_MAX + 1); __json's value is always whole. */
int drv_env(struct drvinfo *f, const char *name, const char *value, size_t len);
/* Notes an output hash the policy cares about (an impure output). */
void drv_output(struct drvinfo *f, const struct drvout *o);

#endif
