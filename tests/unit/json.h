/* json: as much JSON as the golden vectors' .json files need, for comparing
 * decoded values with them (tests only). */
#ifndef NIXGATE_TEST_JSON_H
#define NIXGATE_TEST_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX (1 << 16)

/* The rendering of decoded values, compact, to compare with a file's. */
extern char jb[JSON_MAX];
extern size_t jn;

/* Drops the whitespace outside strings: the files are pretty-printed. */
void compact(char *dst, size_t cap, const char *s, size_t n);
size_t value_len(const char *s);
/* Element i of a compact array. */
int json_elem(const char *arr, int i, char *out, size_t cap);
/* The value of the first "key" in s, at any depth. */
int json_get(const char *s, const char *key, char *out, size_t cap);
/* A string value without its quotes; other values as they are. */
const char *unq(char *v);
uint64_t json_num(const char *s, const char *key);
int json_bool(const char *s, const char *key);
int count(const char *s, const char *needle);
void jput(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void jstart(void);
/* Store paths appear in the JSON without the store directory. */
const char *base(const char *path);
void jpath(const char *path);
/* The rendering against js (compact), failing the test when they differ. */
void json_is(const char *js, const char *what);
/* The rendering so far against the value of key in js; then a fresh one. */
void json_part(const char *js, const char *key);

#endif
