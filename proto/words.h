/* words: lists of names separated by spaces or tabs (and by commas where
 * Nix allows them): policy settings, machines files, output lists. */
#ifndef NIXGATE_WORDS_H
#define NIXGATE_WORDS_H

#include <stddef.h>

/* The next word of *s, its length in *n; NULL at the end. */
const char *words_next(const char **s, size_t *n, int comma);
/* 1 if the word w (n bytes) is in list. */
int words_has(const char *list, const char *w, size_t n, int comma);

#endif
