#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buildresult.h"
#include "daemon.h"
#include "err.h"
#include "nar.h"
#include "remote.h"
#include "serveopts.h"
#include "serveproto.h"
#include "sha256.h"

/* BuildResult statuses that mean the outputs are there */
enum { BUILT = 0, SUBSTITUTED = 1, ALREADY_VALID = 2, RESOLVES_TO_ALREADY_VALID = 13 };

/* A session that ping left open after its handshake and NixgateInfo, for
 * the next remote_open of the same host: the build hook pings the host it
 * then builds on, and one ssh connection per build is enough. */
static struct {
	int set;
	char uri[URI_MAX + 1];
	struct sshconn c;
	unsigned minor;
} parked;

void remote_park(const struct store_uri *u, struct sshconn *c, unsigned minor)
{
	if (parked.set)
		ssh_finish(&parked.c);
	snprintf(parked.uri, sizeof parked.uri, "%s", u->text);
	parked.c = *c;
	parked.minor = minor;
	parked.set = 1;
}

#define RELAY_FDS_MAX 1024

/* ssh's stderr, a pipe that ping read, copied to errfd (the build log) by
 * a child until ssh ends: the requests' reads here block, so nothing else
 * could read it while a build runs. */
static int relay(struct remote *h, int errfd)
{
	char buf[4096];
	ssize_t k;

	if ((h->relay = fork()) < 0)
		return fail_sys("fork");
	if (h->relay == 0) {
		int fd;

		/* ssh sees the end of its input only once every copy is closed,
		 * and so does a nix-store the hook started ahead of the build */
		for (fd = 3; fd < RELAY_FDS_MAX; fd++)
			if (fd != h->c.err && fd != errfd)
				close(fd);
		while ((k = read(h->c.err, buf, sizeof buf)) != 0)
			if (k < 0 ? errno != EINTR : write(errfd, buf, (size_t)k) != k)
				break;
		_exit(0);
	}
	close(h->c.err);
	h->c.err = -1;
	return 0;
}

static void streams(struct remote *h, const struct store_uri *u)
{
	rd_init_fd(&h->r, h->c.out, h->rbuf, sizeof h->rbuf, EXIT_SYSTEM, u->text);
	wr_init_fd(&h->w, h->c.in, h->wbuf, sizeof h->wbuf, u->text);
}

/* The serve protocol minor both sides speak. */
static unsigned agreed(unsigned host_minor)
{
	return host_minor < (SERVE_VERSION & 0xff) ? host_minor : SERVE_VERSION & 0xff;
}

int remote_open(struct remote *h, const struct store_uri *u, int errfd)
{
	uint64_t magic, v;

	h->relay = -1;
	if (parked.set && !strcmp(parked.uri, u->text)) {
		h->c = parked.c;
		parked.set = 0;
		h->minor = agreed(parked.minor);
		streams(h, u);
		return errfd >= 0 ? relay(h, errfd) : 0;
	}
	if (ssh_start(&h->c, u, NULL, errfd) < 0)
		return -1;
	streams(h, u);
	if (wr_u64(&h->w, SERVE_MAGIC_1) < 0 || wr_u64(&h->w, SERVE_VERSION) < 0 || wr_flush(&h->w) < 0 ||
	    rd_u64(&h->r, &magic) < 0)
		return -1;
	if (magic != SERVE_MAGIC_2)
		return fail(EXIT_SYSTEM, "%s does not speak the serve protocol", u->text);
	if (rd_u64(&h->r, &v) < 0)
		return -1;
	if ((v & 0xff00) != 0x200)
		return fail(EXIT_SYSTEM, "%s speaks serve protocol %llu.%llu", u->text, (unsigned long long)(v >> 8),
			    (unsigned long long)(v & 0xff));
	h->minor = agreed((unsigned)(v & 0xff));
	return 0;
}

int remote_close(struct remote *h)
{
	int st = ssh_finish(&h->c);

	/* the relay ends with ssh's stderr; the build log is whole after it */
	if (h->relay > 0)
		waitpid(h->relay, NULL, 0);
	h->relay = -1;
	return st;
}

int remote_valid(struct remote *h, const struct pathset *paths, struct pathset *valid)
{
	if (wr_u64(&h->w, CMD_QUERY_VALID_PATHS) < 0 || wr_u64(&h->w, 0) < 0 /* lock */ ||
	    wr_u64(&h->w, h->substitute ? 1 : 0) < 0 || pathset_write(paths, &h->w) < 0 || wr_flush(&h->w) < 0)
		return -1;
	return pathset_read(valid, &h->r, "valid paths");
}

int local_info(struct worker *d, const char *path, struct pathinfo *in, struct pathset *refs)
{
	int r = daemon_path_info(d, path, in, refs);

	if (r == 0)
		return fail(EXIT_SYSTEM, "%s is not valid in the local store", path);
	return r < 0 ? -1 : 0;
}

int remote_add(struct remote *h, struct worker *local, const char *path)
{
	static struct pathinfo in;
	static struct pathset refs;
	char hash[HASH_TEXT_MAX];
	const unsigned char *p;
	uint64_t left, ok;
	size_t got;

	if (local_info(local, path, &in, &refs) < 0)
		return -1;
	hash_fmt16(hash, in.hash);
	if (wr_u64(&h->w, CMD_ADD_TO_STORE_NAR) < 0 || wr_cstr(&h->w, path) < 0 || wr_cstr(&h->w, in.deriver) < 0 ||
	    wr_cstr(&h->w, hash) < 0 || pathset_write(&refs, &h->w) < 0 || wr_u64(&h->w, in.regtime) < 0 ||
	    wr_u64(&h->w, in.nar_size) < 0 || wr_u64(&h->w, (uint64_t)in.ultimate) < 0 ||
	    wr_bytes(&h->w, in.sigs, in.sigs_len) < 0 || wr_cstr(&h->w, in.ca) < 0)
		return -1;
	if (daemon_nar_begin(local, path) < 0)
		return -1;
	for (left = in.nar_size; left > 0; left -= got)
		if (rd_chunk(&local->r, &p, &got, left) < 0 || wr_bytes(&h->w, p, got) < 0)
			return -1;
	if (wr_flush(&h->w) < 0 || rd_u64(&h->r, &ok) < 0)
		return -1;
	return ok == 1 ? 0 : fail(EXIT_SYSTEM, "the host did not take %s", path);
}

int remote_build(struct remote *h, const struct pathset *paths, char *msg, size_t max)
{
	uint64_t status;

	if (wr_u64(&h->w, CMD_BUILD_PATHS) < 0 || pathset_write(paths, &h->w) < 0 ||
	    serve_opts_write(&h->w, h->minor, &h->opts) < 0 || wr_flush(&h->w) < 0 ||
	    (h->sent && h->sent(h->sent_ctx) < 0) || rd_u64(&h->r, &status) < 0)
		return -1;
	if (status == 0)
		return 0;
	if (rd_str_trunc(&h->r, msg, max, 1u << 20, NULL, "build error") < 0)
		return -1;
	return 1;
}

int remote_build_inline(struct remote *h, const char *drv, const unsigned char *wire, size_t len,
			struct build_result *br)
{
	if (wr_u64(&h->w, CMD_BUILD_DERIVATION) < 0 || wr_cstr(&h->w, drv) < 0 || wr_bytes(&h->w, wire, len) < 0 ||
	    serve_opts_write(&h->w, h->minor, &h->opts) < 0 || wr_flush(&h->w) < 0 ||
	    (h->sent && h->sent(h->sent_ctx) < 0) || build_result_read(&h->r, serve_result_fields(h->minor), br) < 0)
		return -1;
	if (br->status == BUILT || br->status == SUBSTITUTED || br->status == ALREADY_VALID ||
	    br->status == RESOLVES_TO_ALREADY_VALID)
		return 0;
	return 1;
}

int remote_info(struct remote *h, const char *path, struct pathinfo *in, struct pathset *refs)
{
	char got[STORE_PATH_MAX + 1], end[8];

	if (wr_u64(&h->w, CMD_QUERY_PATH_INFOS) < 0 || wr_u64(&h->w, 1) < 0 || wr_cstr(&h->w, path) < 0 ||
	    wr_flush(&h->w) < 0 || storepath_read(&h->r, got, 1, "path") < 0)
		return -1;
	if (!got[0])
		return 0;
	if (strcmp(got, path))
		return fail(EXIT_SYSTEM, "the host answered for %s, not %s", got, path);
	if (pathinfo_read_serve(&h->r, h->minor, in, refs) < 0 || rd_str(&h->r, end, sizeof end - 1, NULL, "end") < 0)
		return -1;
	return end[0] ? fail(EXIT_SYSTEM, "the host answered for more paths than asked") : 1;
}

int remote_dump_to(struct remote *h, const char *path, remote_sink sink, void *ctx, unsigned char hash[SHA256_BYTES],
		   uint64_t *size)
{
	static struct nar nar;
	struct sha256 st;
	const unsigned char *p;
	size_t got;
	ssize_t k;

	if (wr_u64(&h->w, CMD_DUMP_STORE_PATH) < 0 || wr_cstr(&h->w, path) < 0 || wr_flush(&h->w) < 0)
		return -1;
	nar_init(&nar);
	sha256_init(&st);
	while (!nar_done(&nar)) {
		if (rd_peek(&h->r, &p, &got) < 0)
			return -1;
		if ((k = nar_feed(&nar, p, got)) < 0)
			return -1;
		sha256_update(&st, p, (size_t)k);
		if (sink(ctx, p, (size_t)k) < 0)
			return -1;
		rd_consume(&h->r, (size_t)k);
	}
	sha256_final(&st, hash);
	*size = nar.total;
	return 0;
}

struct fdsink {
	int fd;
	const char *path;
};

static int to_fd(void *ctx, const unsigned char *p, size_t n)
{
	struct fdsink *f = ctx;

	return write_all(f->fd, p, n) < 0 ? fail_sys("passing on the NAR of %s", f->path) : 0;
}

int remote_dump(struct remote *h, const char *path, int fd, unsigned char hash[SHA256_BYTES], uint64_t *size)
{
	struct fdsink f = { fd, path };

	return remote_dump_to(h, path, to_fd, &f, hash, size);
}
