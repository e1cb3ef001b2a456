/* golden: the driver of the golden-vector tests. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "golden.h"
#include "json.h"
#include "serve.h"
#include "worker.h"

/* --- the driver --- */

/* -1 when the file is missing or too large. */
int load(const char *dir, const char *name, const char *ext, unsigned char *buf, size_t cap, size_t *n)
{
	char path[512];
	ssize_t k;
	int fd;

	snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	k = read(fd, buf, cap);
	close(fd);
	if (k < 0 || (size_t)k == cap)
		return -1;
	*n = (size_t)k;
	return 0;
}

/* All n values of v from the bytes p; JSON compared when json is set. */
static int decode(const struct vec *v, const unsigned char *p, size_t len, const char *json,
		  unsigned char *out, size_t *outlen, size_t *used)
{
	static char el[JSON_MAX];
	struct rd r;
	struct wr w;
	int i;

	rd_init_mem(&r, p, len, EXIT_REFUSED, "golden");
	wr_init_mem(&w, out, FILE_MAX);
	for (i = 0; i < v->n; i++) {
		const char *js = NULL;

		if (json && v->n == 1 && json[0] == '{')
			js = json;
		else if (json) {
			CHECK(json_elem(json, i, el, sizeof el) == 0);
			js = el;
		}
		jstart();
		if (v->fn(&r, &w, v->minor, i, js) < 0)
			return -1;
		/* what a codec rendered is the whole value */
		if (jn)
			json_is(js, v->name);
	}
	*outlen = w.len;
	*used = r.pos;
	return 0;
}

static void one(const char *dir, const struct vec *v)
{
	static unsigned char bin[FILE_MAX], out[FILE_MAX], raw[JSON_MAX];
	static char json[JSON_MAX];
	size_t len, jlen, outlen, used, cut;

	if (load(dir, v->name, ".bin", bin, sizeof bin, &len) < 0) {
		printf("  %s.bin: missing\n", v->name);
		CHECK(0);
		return;
	}
	json[0] = 0;
	if (load(dir, v->name, ".json", raw, sizeof raw, &jlen) == 0)
		compact(json, sizeof json, (const char *)raw, jlen);
	err_clear();
	if (decode(v, bin, len, json[0] ? json : NULL, out, &outlen, &used) < 0) {
		printf("  %s.bin: %s\n", v->name, err_msg());
		CHECK(0);
		return;
	}
	if (used != len || outlen != len || memcmp(out, bin, len)) {
		printf("  %s.bin: %zu of %zu bytes read, %zu written back%s\n", v->name, used, len, outlen,
		       outlen == len ? ", not the same" : "");
		CHECK(0);
	}
	/* Cut short anywhere, the same decoding must stop at the end of input
	 * with an error: the bytes it reads are the file's up to there. */
	for (cut = 0; cut < len; cut++) {
		err_clear();
		if (decode(v, bin, cut, NULL, out, &outlen, &used) == 0 ||
		    !strstr(err_msg(), "in the middle of a message")) {
			printf("  %s.bin cut to %zu bytes: %s\n", v->name, cut, err_kind() ? err_msg() : "accepted");
			CHECK(0);
			return;
		}
	}
}

static int listed(const struct vec *vecs, const char *file, size_t n)
{
	for (; vecs->name; vecs++)
		if (strlen(vecs->name) == n && !strncmp(vecs->name, file, n))
			return 1;
	return 0;
}

/* Every vector of the tables, and a table entry for every .bin file. */
void golden(const char *sub, const struct vec *vecs, const struct vec *common)
{
	char dir[400];
	struct dirent *e;
	DIR *d;
	int i;

	snprintf(dir, sizeof dir, "%s/%s", check_dir, sub);
	for (i = 0; common[i].name; i++)
		one(dir, &common[i]);
	for (i = 0; vecs[i].name; i++)
		one(dir, &vecs[i]);
	CHECK((d = opendir(dir)) != NULL);
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 4, ".bin"))
			continue;
		if (!listed(common, e->d_name, n - 4) && !listed(vecs, e->d_name, n - 4)) {
			printf("  %s/%s: no decoder\n", sub, e->d_name);
			CHECK(0);
		}
	}
	if (d)
		closedir(d);
}

/* The server's own handshake against the one in the vector: same magic,
 * and the vector's version (2.5) accepted as the client's. */
void serve_hello(void)
{
	static struct serve s;
	unsigned char in[16], out[64], vec[64];
	char dir[400];
	size_t len;

	snprintf(dir, sizeof dir, "%s/serve-protocol", check_dir);
	CHECK(load(dir, "handshake-to-client", ".bin", vec, sizeof vec, &len) == 0 && len == 16);
	le64_put(in, SERVE_MAGIC_1);
	memcpy(in + 8, vec + 8, 8);
	rd_init_mem(&s.in, in, sizeof in, EXIT_REFUSED, "client");
	wr_init_mem(&s.out, out, sizeof out);
	err_clear();
	CHECK(serve_handshake(&s) == 0 && s.minor == 5);
	CHECK(s.out.len == 16 && !memcmp(out, vec, 8) && le64_get(out + 8) == SERVE_VERSION);
}

/* The daemon's greeting in the vector is 1.10: nixgate reads its magic and
 * refuses the version as too old. */
void daemon_hello(void)
{
	static struct worker d;
	unsigned char out[64], vec[64];
	char dir[400];
	size_t len;

	snprintf(dir, sizeof dir, "%s/worker-protocol", check_dir);
	CHECK(load(dir, "handshake-to-client", ".bin", vec, sizeof vec, &len) == 0 && len == 16);
	rd_init_mem(&d.r, vec, len, EXIT_SYSTEM, "nix-daemon");
	wr_init_mem(&d.w, out, sizeof out);
	d.logfd = -1;
	err_clear();
	CHECK(worker_handshake(&d) == -1 && strstr(err_msg(), "speaks protocol 1.10;"));
	vec[0] ^= 1;
	rd_init_mem(&d.r, vec, len, EXIT_SYSTEM, "nix-daemon");
	err_clear();
	CHECK(worker_handshake(&d) == -1 && strstr(err_msg(), "protocol mismatch"));
}

