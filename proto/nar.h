/* nar: validates a NAR as it streams past, a push parser with no recursion
 * and fixed memory, refusing at the first fault. */
#ifndef NIXGATE_NAR_H
#define NIXGATE_NAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NAR_MAX_DEPTH 256   /* directory nesting; newest Nix allows 64 */
#define NAR_NAME_MAX 255
#define NAR_TARGET_MAX 4095
#define NAR_TAG_MAX 32
/* A file's path inside the NAR ("/a/b"): the daemon restores it under the
 * store path by its full name, which the kernel bounds by PATH_MAX (4096,
 * the NUL included); the longest store path is 255 bytes. */
#define NAR_PATH_MAX (4095 - 255)

struct nar {
	int state, phase;
	unsigned char lenbuf[8];
	unsigned lengot, padleft;
	uint64_t slen, sgot;
	unsigned depth;
	uint64_t total;       /* bytes consumed so far */
	/* What a content address needs to see: the root's type and, for a
	 * regular root, whether it is executable, where its contents start and
	 * how long they are; contents, when set, gets those bytes as they pass. */
	int root, root_exec;
	uint64_t root_off, root_len;
	void (*contents)(void *ctx, const unsigned char *p, size_t n);
	void *ctx;
	char s[NAR_TARGET_MAX + 1];
	char prev[NAR_MAX_DEPTH][NAR_NAME_MAX + 1];
	unsigned plen[NAR_MAX_DEPTH + 1]; /* length of the path at each depth */
};

enum { NAR_NONE, NAR_REGULAR, NAR_SYMLINK, NAR_DIRECTORY };

/* Clears contents and ctx too: set them after. */
void nar_init(struct nar *n);
/* Consumes bytes of the NAR; returns how many it took (fewer than len only
 * when the NAR ended inside p), or -1 with fail(EXIT_REFUSED, ...). */
ssize_t nar_feed(struct nar *n, const unsigned char *p, size_t len);
int nar_done(const struct nar *n);
/* The bytes consumed so far and those the string being read still
 * announces (a file's contents, with padding): the least the NAR can be. */
uint64_t nar_claimed(const struct nar *n);

/* Whether the NAR of size bytes in fd is exactly one regular file, not
 * executable, by its bytes' layout alone (no parser): 0 yes, its contents
 * at *off, *len bytes; 1 no; -1 a read error. */
int nar_one_file(int fd, uint64_t size, uint64_t *off, uint64_t *len);

#endif
