#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "nar.h"
#include "wire.h"

enum {
	S_MAGIC, S_OPEN, S_TYPE_KW, S_TYPE, S_REG_TAG, S_EXEC_VAL, S_CONTENTS_KW, S_CONTENTS,
	S_TARGET_KW, S_TARGET, S_CLOSE, S_DIR_TAG, S_ENTRY_OPEN, S_NAME_KW, S_NAME, S_NODE_KW,
	S_ENTRY_CLOSE, S_DONE
};
enum { P_LEN, P_DATA, P_PAD };

void nar_init(struct nar *n)
{
	n->state = S_MAGIC;
	n->phase = P_LEN;
	n->lengot = n->padleft = 0;
	n->slen = n->sgot = 0;
	n->depth = 0;
	n->plen[0] = 0;
	n->total = 0;
	n->s[0] = 0;
	n->root = NAR_NONE;
	n->root_exec = 0;
	n->root_off = n->root_len = 0;
	n->contents = NULL;
	n->ctx = NULL;
}

int nar_done(const struct nar *n)
{
	return n->state == S_DONE;
}

uint64_t nar_claimed(const struct nar *n)
{
	uint64_t more = 0, pad = 0;

	if (n->phase == P_DATA) {
		more = n->slen - n->sgot;
		pad = (8 - n->slen % 8) % 8;
	} else if (n->phase == P_PAD)
		pad = n->padleft;
	/* saturating: a length near 2^64 must not wrap to a small claim */
	if (more > UINT64_MAX - pad || more + pad > UINT64_MAX - n->total)
		return UINT64_MAX;
	return n->total + more + pad;
}

static int bad(const char *why, const char *got)
{
	return fail(EXIT_REFUSED, "invalid NAR: %s%s%.40s%s", why, got ? " '" : "", got ? got : "",
		    got ? "'" : "");
}

static uint64_t limit(int state)
{
	switch (state) {
	case S_CONTENTS:
		return UINT64_MAX;
	case S_EXEC_VAL:
		return 0;
	case S_NAME:
		return NAR_NAME_MAX;
	case S_TARGET:
		return NAR_TARGET_MAX;
	default:
		return NAR_TAG_MAX;
	}
}

static int expect(struct nar *n, const char *tag, int next)
{
	if (strcmp(n->s, tag) != 0) {
		char why[64];

		snprintf(why, sizeof why, "expected '%s', got", tag);
		return bad(why, n->s);
	}
	n->state = next;
	return 0;
}

static int node_done(struct nar *n)
{
	if (n->depth == 0)
		n->state = S_DONE;
	else {
		n->depth--;
		n->state = S_ENTRY_CLOSE;
	}
	return 0;
}

/* One whole string has arrived in n->s (or streamed past, for contents). */
static int token(struct nar *n)
{
	const char *s = n->s;

	switch (n->state) {
	case S_MAGIC:
		if (strcmp(s, "nix-archive-1") != 0)
			return bad("input does not start with 'nix-archive-1'", NULL);
		n->state = S_OPEN;
		return 0;
	case S_OPEN:
		return expect(n, "(", S_TYPE_KW);
	case S_TYPE_KW:
		return expect(n, "type", S_TYPE);
	case S_TYPE:
		if (!strcmp(s, "regular"))
			n->state = S_REG_TAG;
		else if (!strcmp(s, "symlink"))
			n->state = S_TARGET_KW;
		else if (!strcmp(s, "directory")) {
			n->prev[n->depth][0] = 0;
			n->state = S_DIR_TAG;
		} else
			return bad("unknown file type", s);
		if (n->depth == 0)
			n->root = n->state == S_REG_TAG ? NAR_REGULAR : n->state == S_TARGET_KW ? NAR_SYMLINK : NAR_DIRECTORY;
		return 0;
	case S_REG_TAG:
		if (!strcmp(s, "executable"))
			n->state = S_EXEC_VAL;
		else
			return expect(n, "contents", S_CONTENTS);
		return 0;
	case S_EXEC_VAL:
		if (n->depth == 0)
			n->root_exec = 1;
		n->state = S_CONTENTS_KW;
		return 0;
	case S_CONTENTS_KW:
		return expect(n, "contents", S_CONTENTS);
	case S_CONTENTS:
	case S_TARGET:
		n->state = S_CLOSE;
		return 0;
	case S_TARGET_KW:
		return expect(n, "target", S_TARGET);
	case S_CLOSE:
		if (expect(n, ")", S_CLOSE) < 0)
			return -1;
		return node_done(n);
	case S_DIR_TAG:
		if (!strcmp(s, ")"))
			return node_done(n);
		return expect(n, "entry", S_ENTRY_OPEN);
	case S_ENTRY_OPEN:
		return expect(n, "(", S_NAME_KW);
	case S_NAME_KW:
		return expect(n, "name", S_NAME);
	case S_NAME:
		if (!s[0] || !strcmp(s, ".") || !strcmp(s, "..") || strchr(s, '/'))
			return bad("invalid entry name", s);
		if (strcmp(s, n->prev[n->depth]) <= 0)
			return bad("directory entries not sorted or not unique at", s);
		n->plen[n->depth + 1] = n->plen[n->depth] + 1 + (unsigned)strlen(s);
		if (n->plen[n->depth + 1] > NAR_PATH_MAX)
			return fail(EXIT_REFUSED, "invalid NAR: a file's path inside it is longer than %d bytes, more "
				    "than the host can create under a store path", NAR_PATH_MAX);
		strcpy(n->prev[n->depth], s);
		n->state = S_NODE_KW;
		return 0;
	case S_NODE_KW:
		if (expect(n, "node", S_OPEN) < 0)
			return -1;
		if (n->depth + 1 >= NAR_MAX_DEPTH)
			return fail(EXIT_REFUSED, "invalid NAR: directories nested deeper than %d",
				    NAR_MAX_DEPTH);
		n->depth++;
		return 0;
	case S_ENTRY_CLOSE:
		return expect(n, ")", S_DIR_TAG);
	}
	return bad("data after the end", NULL);
}

ssize_t nar_feed(struct nar *n, const unsigned char *p, size_t len)
{
	size_t i = 0, k;

	while (n->state != S_DONE) {
		if (n->phase == P_PAD && n->padleft == 0) {
			if (n->state != S_CONTENTS) {
				n->s[n->slen] = 0;
				if (strlen(n->s) != n->slen)
					return bad("NUL byte in a name, tag or symlink target", NULL);
				if (n->state == S_TARGET && !n->s[0])
					return bad("empty symlink target", NULL);
			}
			n->phase = P_LEN;
			n->lengot = 0;
			if (token(n) < 0)
				return -1;
			continue;
		}
		if (i == len)
			break;
		switch (n->phase) {
		case P_LEN:
			k = 8 - n->lengot;
			if (k > len - i)
				k = len - i;
			memcpy(n->lenbuf + n->lengot, p + i, k);
			n->lengot += (unsigned)k;
			i += k;
			if (n->lengot == 8) {
				uint64_t v = le64_get(n->lenbuf);

				if (v > limit(n->state))
					return fail(EXIT_REFUSED, "invalid NAR: a string of %llu bytes where at most %llu may stand",
						    (unsigned long long)v, (unsigned long long)limit(n->state));
				n->slen = v;
				n->sgot = 0;
				n->phase = P_DATA;
				if (n->state == S_CONTENTS && n->depth == 0) {
					n->root_off = n->total + i;
					n->root_len = v;
				}
				if (v == 0) {
					n->phase = P_PAD;
					n->padleft = 0;
				}
			}
			break;
		case P_DATA:
			k = len - i;
			if (k > n->slen - n->sgot)
				k = (size_t)(n->slen - n->sgot);
			if (n->state != S_CONTENTS)
				memcpy(n->s + n->sgot, p + i, k);
			else if (n->depth == 0 && n->contents && k)
				n->contents(n->ctx, p + i, k);
			n->sgot += k;
			i += k;
			if (n->sgot == n->slen) {
				n->phase = P_PAD;
				n->padleft = (unsigned)((8 - n->slen % 8) % 8);
			}
			break;
		case P_PAD:
			if (p[i++] != 0)
				return bad("non-zero padding", NULL);
			n->padleft--;
			break;
		}
	}
	n->total += i;
	return (ssize_t)i;
}

/* The one layout a single regular file has: magic, "(", "type", "regular",
 * "contents", its length; then its bytes, zero padding, ")". */
int nar_one_file(int fd, uint64_t size, uint64_t *off, uint64_t *len)
{
	static const char *const head[] = {"nix-archive-1", "(", "type", "regular", "contents"};
	unsigned char want[96], got[96], tail[24];
	uint64_t n, pad;
	size_t i, k = 0, l;

	for (i = 0; i < sizeof head / sizeof *head; i++) {
		l = strlen(head[i]);
		memset(want + k, 0, 8 + ((l + 7) & ~(size_t)7));
		le64_put(want + k, l);
		memcpy(want + k + 8, head[i], l);
		k += 8 + ((l + 7) & ~(size_t)7);
	}
	if (size < k + 8 + 16 || pread(fd, got, k + 8, 0) != (ssize_t)(k + 8))
		return size < k + 8 + 16 ? 1 : -1;
	if (memcmp(want, got, k))
		return 1;
	n = le64_get(got + k);
	pad = (8 - n % 8) % 8;
	if (n > size || size - (k + 8 + 16) - pad != n)
		return 1;
	memset(want, 0, sizeof want);
	le64_put(want + pad, 1);
	want[pad + 8] = ')';
	if (pread(fd, tail, pad + 16, (off_t)(k + 8 + n)) != (ssize_t)(pad + 16))
		return -1;
	if (memcmp(tail, want, pad + 16))
		return 1;
	*off = k + 8;
	*len = n;
	return 0;
}
