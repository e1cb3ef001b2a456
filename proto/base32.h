/* base32: Nix's base32 (alphabet without e, o, u, t; least significant
 * 5-bit group printed last). */
#ifndef NIXGATE_BASE32_H
#define NIXGATE_BASE32_H

#include <stddef.h>

/* Characters needed for n bytes. */
size_t base32_len(size_t n);
/* out gets base32_len(n) characters and a NUL. */
void base32_encode(char *out, const unsigned char *in, size_t n);
/* Decodes exactly base32_len(n) characters into n bytes; -1 if a character
 * is outside the alphabet or the value does not fit. */
int base32_decode(unsigned char *out, size_t n, const char *in, size_t len);
int base32_char_ok(int c);

#endif
