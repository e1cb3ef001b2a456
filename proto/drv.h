/* drv: a BasicDerivation as the serve and worker protocols carry it, read
 * from a peer, checked and bounded, kept in wire form to pass on. */
#ifndef NIXGATE_DRV_H
#define NIXGATE_DRV_H

#include <stddef.h>

#include "wire.h"

#define DRV_OUTPUTS_MAX 256
#define DRV_LIST_MAX 65536          /* args, env entries, input sources */
#define DRV_STR_MAX (8u << 20)      /* one string: a large env value */
#define DRV_WIRE_MAX (64u << 20)    /* the whole derivation */
#define DRV_SYSTEM_MAX 64

struct drvwire {
	unsigned char *buf;   /* the derivation re-encoded, ready to send */
	size_t len, cap;
	char system[DRV_SYSTEM_MAX + 1];
	unsigned outputs;
};

void drvwire_init(struct drvwire *d);
void drvwire_free(struct drvwire *d);
int drvwire_read(struct drvwire *d, struct rd *r);

#endif
