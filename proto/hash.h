/* hash: SHA-256 in the forms Nix prints and parses. */
#ifndef NIXGATE_HASH_H
#define NIXGATE_HASH_H

#include <stddef.h>

#define SHA256_BYTES 32
/* "sha256:" and 52 base32 characters */
#define HASH_TEXT_MAX 80

/* Accepts base16 (64), base32 (52) or base64 (44) digits, with or without a
 * "sha256:" prefix, and SRI "sha256-<base64>". */
int hash_parse(unsigned char out[SHA256_BYTES], const char *s, size_t len);
/* "sha256:<base32>" */
void hash_fmt32(char out[HASH_TEXT_MAX], const unsigned char h[SHA256_BYTES]);
/* 64 lowercase hex digits */
void hash_fmt16(char out[HASH_TEXT_MAX], const unsigned char h[SHA256_BYTES]);
/* n bytes as 2n lowercase hex digits and a NUL. */
void hash_hex(char *out, const unsigned char *h, size_t n);

#endif
