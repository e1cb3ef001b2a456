/* Unit tests of the wire encoding, base32, hashes, store paths and NARs. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base32.h"
#include "check.h"
#include "err.h"
#include "hash.h"
#include "nar.h"
#include "pathset.h"
#include "storepath.h"
#include "wire.h"

static const char *P = "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-hello-2.12";

void t_wire_u64(void)
{
	unsigned char buf[64];
	struct wr w;
	struct rd r;
	uint64_t v;

	wr_init_mem(&w, buf, sizeof buf);
	CHECK(wr_u64(&w, 0x0102030405060708ull) == 0);
	CHECK(w.len == 8 && buf[0] == 8 && buf[7] == 1);
	rd_init_mem(&r, buf, w.len, EXIT_REFUSED, "test");
	CHECK(rd_u64(&r, &v) == 0 && v == 0x0102030405060708ull);
	CHECK(rd_at_eof(&r) == 1);
	CHECK(rd_u64(&r, &v) == -1 && err_kind() == EXIT_REFUSED);
}

void t_wire_string(void)
{
	unsigned char buf[64];
	char s[16];
	size_t n;
	struct wr w;
	struct rd r;

	wr_init_mem(&w, buf, sizeof buf);
	CHECK(wr_cstr(&w, "hello") == 0 && w.len == 16);
	CHECK(!memcmp(buf, "\5\0\0\0\0\0\0\0hello\0\0\0", 16));
	CHECK(wr_cstr(&w, "") == 0 && w.len == 24);
	CHECK(wr_cstr(&w, "12345678") == 0 && w.len == 40);
	rd_init_mem(&r, buf, w.len, EXIT_REFUSED, "test");
	CHECK(rd_str(&r, s, 15, &n, "s") == 0 && n == 5 && !strcmp(s, "hello"));
	CHECK(rd_str(&r, s, 15, &n, "s") == 0 && n == 0);
	CHECK(rd_str(&r, s, 7, &n, "word") == -1);
	CHECK(strstr(err_msg(), "8 bytes, more than the limit of 7") != NULL);
}

void t_wire_limits(void)
{
	/* length 2^63: refused before anything is read or allocated */
	unsigned char huge[8] = {0, 0, 0, 0, 0, 0, 0, 0x80};
	unsigned char pad[16] = {1, 0, 0, 0, 0, 0, 0, 0, 'x', 1};
	unsigned char cnt[8] = {0, 0, 0, 0, 0, 1, 0, 0};
	char s[8];
	uint64_t n;
	struct rd r;

	rd_init_mem(&r, huge, 8, EXIT_REFUSED, "client");
	CHECK(rd_str(&r, s, 7, NULL, "path") == -1);
	CHECK(strstr(err_msg(), "9223372036854775808 bytes") != NULL);
	err_clear();
	rd_init_mem(&r, pad, 16, EXIT_REFUSED, "client");
	CHECK(rd_str(&r, s, 7, NULL, "path") == -1 && strstr(err_msg(), "padding"));
	err_clear();
	rd_init_mem(&r, cnt, 8, EXIT_REFUSED, "client");
	CHECK(rd_count(&r, &n, 1000, "paths") == -1 && strstr(err_msg(), "1099511627776 paths"));
}

void t_base32(void)
{
	unsigned char h[32], back[32];
	char s[64];

	CHECK(hash_parse(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 64) == 0);
	base32_encode(s, h, 32);
	CHECK(!strcmp(s, "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"));
	CHECK(base32_decode(back, 32, s, 52) == 0 && !memcmp(h, back, 32));
	CHECK(base32_len(20) == 32 && base32_len(32) == 52);
	s[3] = 'e';
	CHECK(base32_decode(back, 32, s, 52) == -1);
	/* the top digit carries one bit only for 32 bytes: 'z' overflows */
	memset(s, '0', 52);
	s[0] = 'z';
	CHECK(base32_decode(back, 32, s, 52) == -1);
}

void t_hash_forms(void)
{
	unsigned char a[32], b[32];
	char s[HASH_TEXT_MAX];
	const char *b32 = "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s";
	const char *b64 = "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";

	CHECK(hash_parse(a, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 64) == 0);
	CHECK(hash_parse(b, b32, strlen(b32)) == 0 && !memcmp(a, b, 32));
	memset(b, 0, 32);
	CHECK(hash_parse(b, b64, strlen(b64)) == 0 && !memcmp(a, b, 32));
	hash_fmt32(s, a);
	CHECK(!strcmp(s, b32));
	hash_fmt16(s, a);
	CHECK(!strcmp(s, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	CHECK(hash_parse(b, "sha256:xyz", 10) == -1);
	CHECK(hash_parse(b, "md5:ba7816bf8f01cfea414140de5dae2223", 36) == -1);
}

static int sp(const char *s)
{
	err_clear();
	return storepath_check(s, strlen(s), EXIT_REFUSED, "path");
}

void t_storepath(void)
{
	char longname[300];

	CHECK(sp(P) == 0);
	CHECK(!strcmp(storepath_name(P), "hello-2.12"));
	CHECK(sp("/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-a.drv") == 0);
	CHECK(storepath_is_drv("/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-a.drv"));
	CHECK(sp("/nix/store/emdqa9w1p6cmli6976v4wi0sw9r4p5pr-hello") == -1);   /* 'e' */
	CHECK(strstr(err_msg(), "base32") != NULL);
	CHECK(sp("/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5p-hello") == -1);    /* 31 */
	CHECK(sp("/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-") == -1);
	CHECK(sp("/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-.hidden") == -1);
	CHECK(sp("/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-a/b") == -1);
	CHECK(sp("/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-a b") == -1);
	CHECK(sp("/tmp/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-hello") == -1);
	CHECK(strstr(err_msg(), "not in /nix/store") != NULL);
	CHECK(sp("/nix/store/../0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-hello") == -1);
	snprintf(longname, sizeof longname, "%s-%0211d", "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr", 0);
	CHECK(sp(longname) == 0);
	snprintf(longname, sizeof longname, "%s-%0212d", "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr", 0);
	CHECK(sp(longname) == -1);
}

/* Lookups stay right whatever grew the set: pathset_add and pathset_read
 * after a clear, and a sort, leave the table behind the paths. */
void t_pathset_lookup(void)
{
	struct pathset s;
	char p[64];
	int i;

	pathset_init(&s);
	for (i = 0; i < 600; i++) {
		snprintf(p, sizeof p, "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-p%d", i);
		CHECK(pathset_insert(&s, p, strlen(p)) == 1);
	}
	CHECK(pathset_insert(&s, p, strlen(p)) == 0);
	pathset_clear(&s);
	for (i = 0; i < 10; i++) {
		snprintf(p, sizeof p, "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-q%d", i);
		CHECK(pathset_add(&s, p, strlen(p)) == 0);
	}
	CHECK(pathset_insert(&s, p, strlen(p)) == 0);
	CHECK(pathset_find(&s, p, strlen(p)) == 9);
	CHECK(pathset_add(&s, "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-a", 45) == 0);
	CHECK(pathset_find(&s, "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-a", 45) == 10);
	pathset_sort(&s);
	CHECK(pathset_find(&s, "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-a", 45) == 0);
	CHECK(pathset_insert(&s, p, strlen(p)) == 0);
	CHECK(pathset_find(&s, "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-p1", 46) == -1);
	CHECK(s.n == 11);
	pathset_free(&s);
}

/* The FNV-1a that the sets used to hash with. Its low bits depend only on
 * the low bits of the state, so paths that share them are cheap to find. */
static uint64_t fnv(uint64_t h, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211u;
	return h;
}

/* Paths a peer could choose so that they all fall into one chain of an
 * unkeyed table (2,048 of them share FNV's low 13 bits): with the keyed hash
 * the walks stay short. The unkeyed table took ~2 million probes here. */
void t_pathset_collisions(void)
{
	static const char b32[] = "0123456789abcdfghijklmnpqrsvwxyz";
	enum { N = 2048, MASK = 8191 };
	char p[64];
	struct pathset s;
	uint64_t h28, h29, h30, h31;
	int found = 0, pre, a, b, c, d;

	pathset_init(&s);
	for (pre = 0; found < N; pre++) {
		snprintf(p, sizeof p, "/nix/store/%028d", pre);
		for (a = 0; a < 28; a++)
			p[11 + a] = b32[(p[11 + a] - '0' + pre + a) % 32];
		h28 = fnv(14695981039346656037u, p, 39);
		for (a = 0; a < 32 && found < N; a++)
			for (h29 = fnv(h28, &b32[a], 1), b = 0; b < 32 && found < N; b++)
				for (h30 = fnv(h29, &b32[b], 1), c = 0; c < 32 && found < N; c++)
					for (h31 = fnv(h30, &b32[c], 1), d = 0; d < 32 && found < N; d++)
						if ((fnv(fnv(h31, &b32[d], 1), "-x", 2) & MASK) == 0) {
							snprintf(p + 39, sizeof p - 39, "%c%c%c%c-x", b32[a], b32[b], b32[c], b32[d]);
							CHECK(pathset_insert(&s, p, strlen(p)) == 1);
							found++;
						}
	}
	CHECK(s.n == N);
	CHECK(s.probes < 16 * N);
	pathset_free(&s);
}

void t_path_outputs(void)
{
	const char *d = "/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-a.drv";
	char s[256];

#define PO(x) (err_clear(), path_outputs_check((x), strlen(x), EXIT_REFUSED))
	CHECK(PO(d) == 0);
	snprintf(s, sizeof s, "%s!out", d); CHECK(PO(s) == 0);
	snprintf(s, sizeof s, "%s!out,dev", d); CHECK(PO(s) == 0);
	snprintf(s, sizeof s, "%s!*", d); CHECK(PO(s) == 0);
	snprintf(s, sizeof s, "%s!", d); CHECK(PO(s) == -1);
	snprintf(s, sizeof s, "%s!out,", d); CHECK(PO(s) == -1);
	snprintf(s, sizeof s, "%s!out", P); CHECK(PO(s) == -1);
}

static int feed_all(const unsigned char *p, size_t n, size_t step)
{
	static struct nar nar;
	size_t off = 0;

	nar_init(&nar);
	err_clear();
	while (off < n) {
		size_t k = n - off < step ? n - off : step;
		ssize_t got = nar_feed(&nar, p + off, k);

		if (got < 0)
			return -1;
		off += (size_t)got;
		if (nar_done(&nar))
			break;
	}
	if (!nar_done(&nar))
		return fail(EXIT_REFUSED, "invalid NAR: ends early");
	return off == n ? 0 : 1; /* 1: bytes after the NAR */
}

unsigned char *slurp(const char *dir, const char *name, size_t *n)
{
	static unsigned char buf[1 << 20];
	char path[512];
	ssize_t k;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY)) < 0)
		return NULL;
	k = read(fd, buf, sizeof buf);
	close(fd);
	if (k < 0)
		return NULL;
	*n = (size_t)k;
	return buf;
}

/* The NARs of Nix's own test suite: valid ones pass in any chunking,
 * invalid ones fail. */
void t_nar_golden(void)
{
	static const char *valid[] = {"simple.nar", "case.nar", "case-collision.nar", "empty-dir.nar",
				      "empty-subdir.nar", "regular-one-byte-zero-padding.nar", NULL};
	static const char *invalid[] = {"invalid-tag-instead-of-contents.nar", "nul-character.nar",
		"dot.nar", "dotdot.nar", "slash.nar", "empty.nar", "executable-after-contents.nar",
		"name-after-node.nar", "regular-one-byte-non-zero-padding.nar",
		"regular-truncated-large-contents.nar", "regular-truncated-padding.nar", NULL};
	char dir[400];
	unsigned char *p;
	size_t n, step;
	int i;

	NEED_TEST_DATA();
	snprintf(dir, sizeof dir, "%s/nars", check_dir);
	for (i = 0; valid[i]; i++) {
		CHECK((p = slurp(dir, valid[i], &n)) != NULL);
		if (!p)
			continue;
		for (step = 1; step <= n; step = step * 3 + 1)
			if (feed_all(p, n, step) != 0) {
				printf("  %s (step %zu): %s\n", valid[i], step, err_msg());
				CHECK(0);
			}
	}
	for (i = 0; invalid[i]; i++) {
		CHECK((p = slurp(dir, invalid[i], &n)) != NULL);
		if (p && feed_all(p, n, 7) != -1) {
			printf("  %s accepted\n", invalid[i]);
			CHECK(0);
		}
	}
}

static size_t put_str(unsigned char *b, const char *s)
{
	size_t n = strlen(s), p = (8 - n % 8) % 8;

	memset(b, 0, 8 + n + p);
	b[0] = (unsigned char)n;
	memcpy(b + 8, s, n);
	return 8 + n + p;
}

void t_nar_deep(void)
{
	static unsigned char b[1 << 20];
	size_t o = 0;
	int i;

	o += put_str(b + o, "nix-archive-1");
	for (i = 0; i < 10000 && o < sizeof b - 256; i++) {
		o += put_str(b + o, "(");
		o += put_str(b + o, "type");
		o += put_str(b + o, "directory");
		o += put_str(b + o, "entry");
		o += put_str(b + o, "(");
		o += put_str(b + o, "name");
		o += put_str(b + o, "d");
		o += put_str(b + o, "node");
	}
	CHECK(feed_all(b, o, 4096) == -1);
	CHECK(strstr(err_msg(), "nested deeper") != NULL);
}

/* Names each within NAR_NAME_MAX, nested within NAR_MAX_DEPTH, whose
 * path passes what the daemon can create: refused at the entry that
 * crosses NAR_PATH_MAX, not before. */
void t_nar_long_path(void)
{
	static unsigned char b[1 << 16];
	char name[251];
	size_t o = 0, at15 = 0;
	int i;

	memset(name, 'n', 250);
	name[250] = 0;
	o += put_str(b + o, "nix-archive-1");
	for (i = 0; i < 16; i++) {
		o += put_str(b + o, "(");
		o += put_str(b + o, "type");
		o += put_str(b + o, "directory");
		o += put_str(b + o, "entry");
		o += put_str(b + o, "(");
		o += put_str(b + o, "name");
		if (i == 15)
			at15 = o;
		o += put_str(b + o, name);
		o += put_str(b + o, "node");
	}
	/* 15 levels (15 * 251 bytes) pass: only the end is missing */
	CHECK(feed_all(b, at15, 4096) == -1 && strstr(err_msg(), "ends early") != NULL);
	CHECK(feed_all(b, o, 4096) == -1);
	CHECK(strstr(err_msg(), "longer than 3840") != NULL);
}

void t_nar_trailing(void)
{
	static unsigned char b[512];
	size_t o = 0;

	o += put_str(b + o, "nix-archive-1");
	o += put_str(b + o, "(");
	o += put_str(b + o, "type");
	o += put_str(b + o, "symlink");
	o += put_str(b + o, "target");
	o += put_str(b + o, "/x");
	o += put_str(b + o, ")");
	CHECK(feed_all(b, o, 5) == 0);
	o += put_str(b + o, "junk");
	CHECK(feed_all(b, o, 1000) == 1); /* stops exactly at the NAR's end */
}

/* What a NAR has announced: the bytes so far and the rest of a file whose
 * length has been read; a length near 2^64 does not wrap. */
void t_nar_claimed(void)
{
	static struct nar nar;
	unsigned char b[256];
	size_t o = 0, head;

	o += put_str(b + o, "nix-archive-1");
	o += put_str(b + o, "(");
	o += put_str(b + o, "type");
	o += put_str(b + o, "regular");
	o += put_str(b + o, "contents");
	head = o;
	o += put_str(b + o, "abc");
	nar_init(&nar);
	CHECK(nar_feed(&nar, b, head) == (ssize_t)head);
	CHECK(nar_claimed(&nar) == head);
	CHECK(nar_feed(&nar, b + head, 9) == 9); /* the length and one byte */
	CHECK(nar_claimed(&nar) == head + 16);
	CHECK(nar_feed(&nar, b + head + 9, 5) == 5); /* two more and two of padding */
	CHECK(nar_claimed(&nar) == head + 16);
	nar_init(&nar);
	CHECK(nar_feed(&nar, b, head) == (ssize_t)head);
	memset(b + head, 0xff, 8);
	CHECK(nar_feed(&nar, b + head, 8) == 8);
	CHECK(nar_claimed(&nar) == UINT64_MAX);
}
