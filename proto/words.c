#include <string.h>

#include "words.h"

/* Nix splits a list of words at these (tokenizeString: space, tab, newline,
 * carriage return): one it splits at and this did not would hide a word. */
static int sep(int c, int comma)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || (comma && c == ',');
}

const char *words_next(const char **s, size_t *n, int comma)
{
	const char *w;

	while (**s && sep(**s, comma))
		(*s)++;
	w = *s;
	while (**s && !sep(**s, comma))
		(*s)++;
	*n = (size_t)(*s - w);
	return *n ? w : NULL;
}

int words_has(const char *list, const char *w, size_t n, int comma)
{
	const char *x;
	size_t k;

	while ((x = words_next(&list, &k, comma)))
		if (k == n && !memcmp(x, w, n))
			return 1;
	return 0;
}
