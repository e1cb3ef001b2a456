/* sig: Nix's ed25519 signatures over a store path's fingerprint, checked
 * with libsodium. */
#ifndef NIXGATE_SIG_H
#define NIXGATE_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "pathset.h"

#define KEY_NAME_MAX 128
#define PUBKEY_BYTES 32
#define SIG_BYTES 64

struct pubkey {
	char name[KEY_NAME_MAX + 1];
	unsigned char key[PUBKEY_BYTES];
};

/* "name:base64" of an ed25519 public key, as in nix.conf's trusted-public-keys. */
int pubkey_parse(struct pubkey *k, const char *s, size_t len);

/* "1;<path>;sha256:<base32>;<nar size>;<ref>,<ref>...", the text Nix signs;
 * refs must be sorted. Returns a malloc'd string, or NULL with fail(). */
char *fingerprint(const char *path, const unsigned char nar_hash[SHA256_BYTES], uint64_t nar_size,
		  const struct pathset *refs, size_t *len);

enum { SIG_VALID, SIG_UNKNOWN_KEY, SIG_INVALID, SIG_MALFORMED };
/* One "name:base64" signature over msg against keys: which of the above. */
int sig_check(const struct pubkey *keys, size_t nkeys, const char *msg, size_t len, const char *sig);

#endif
