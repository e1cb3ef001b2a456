/* golden: the driver of the golden-vector tests (Nix's own test data):
 * each file decoded value by value with a codec, re-encoded byte for byte,
 * compared with its .json, and every shorter prefix refused. */
#ifndef NIXGATE_TEST_GOLDEN_H
#define NIXGATE_TEST_GOLDEN_H

#include <stddef.h>

#include "wire.h"

#define FILE_MAX (1 << 16)
#define LIST_MAX 16

/* One value: read from r, written to w, and either rendered as JSON (into
 * jb, which the driver compares with js) or compared with js by the codec;
 * js is compact, NULL when there is no .json. i is the value's place in the
 * file. */
typedef int (*codec)(struct rd *r, struct wr *w, unsigned minor, int i, const char *js);

struct vec {
	const char *name;
	codec fn;
	unsigned minor;   /* the protocol minor the file's name gives */
	int n;            /* values in the file */
};

/* Every file of sub (serve-protocol, worker-protocol) under NIX_TEST_DATA
 * through the codecs of vecs and of the vectors both folders share. */
void golden(const char *sub, const struct vec *vecs, const struct vec *common);
/* A vector file dir/name+ext into buf: -1 when it is missing or too large. */
int load(const char *dir, const char *name, const char *ext, unsigned char *buf, size_t cap, size_t *n);
/* The handshakes against the vectors' to-client files. */
void serve_hello(void);
void daemon_hello(void);

#endif
