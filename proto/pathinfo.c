#include <string.h>

#include "err.h"
#include "pathinfo.h"

int sigs_copy(struct rd *r, struct wr *w)
{
	char sig[SIG_MAX + 1];
	uint64_t n, i;

	if (rd_count(r, &n, SIGS_MAX, "signatures") < 0 || (w && wr_u64(w, n) < 0))
		return -1;
	for (i = 0; i < n; i++)
		if (rd_str(r, sig, SIG_MAX, NULL, "signature") < 0 || (w && wr_cstr(w, sig) < 0))
			return -1;
	return 0;
}

static int sigs_read(struct rd *r, struct pathinfo *in)
{
	struct wr w;

	wr_init_mem(&w, in->sigs, sizeof in->sigs);
	if (sigs_copy(r, &w) < 0)
		return -1;
	in->sigs_len = w.len;
	return 0;
}

static int hash_read(struct rd *r, struct pathinfo *in)
{
	char h[HASH_TEXT_MAX + 1];
	size_t n;

	if (rd_str(r, h, HASH_TEXT_MAX, &n, "nar hash") < 0)
		return -1;
	if (hash_parse(in->hash, h, n) < 0)
		return fail(r->kind, "%s sent an unreadable NAR hash '%s'", r->who, h);
	return 0;
}

/* The fields an older version does not send. */
static void reset(struct pathinfo *in)
{
	memset(in->hash, 0, sizeof in->hash);
	in->regtime = 0;
	in->ultimate = 0;
	in->ca[0] = 0;
	memset(in->sigs, 0, 8);
	in->sigs_len = 8;
}

int pathinfo_read_serve(struct rd *r, unsigned minor, struct pathinfo *in, struct pathset *refs)
{
	uint64_t download_size;

	reset(in);
	if (storepath_read(r, in->deriver, 1, "deriver") < 0 || pathset_read(refs, r, "references") < 0 ||
	    rd_u64(r, &download_size) < 0 || rd_u64(r, &in->nar_size) < 0)
		return -1;
	if (minor < 4)
		return 0;
	if (hash_read(r, in) < 0 || rd_str(r, in->ca, CA_MAX, NULL, "content address") < 0)
		return -1;
	return sigs_read(r, in);
}

int pathinfo_write_serve(struct wr *w, unsigned minor, const struct pathinfo *in, const struct pathset *refs)
{
	char h[HASH_TEXT_MAX];

	/* NARs go out uncompressed: the download size is the NAR size */
	if (wr_cstr(w, in->deriver) < 0 || pathset_write(refs, w) < 0 ||
	    wr_u64(w, in->nar_size) < 0 || wr_u64(w, in->nar_size) < 0)
		return -1;
	if (minor < 4)
		return 0;
	hash_fmt32(h, in->hash);
	if (wr_cstr(w, h) < 0 || wr_cstr(w, in->ca) < 0)
		return -1;
	return wr_bytes(w, in->sigs, in->sigs_len);
}

int pathinfo_read_worker(struct rd *r, unsigned minor, struct pathinfo *in, struct pathset *refs)
{
	reset(in);
	if (storepath_read(r, in->deriver, 1, "deriver") < 0 || hash_read(r, in) < 0 ||
	    pathset_read(refs, r, "references") < 0 || rd_u64(r, &in->regtime) < 0 ||
	    rd_u64(r, &in->nar_size) < 0)
		return -1;
	if (minor < 16)
		return 0;
	if (rd_bool(r, &in->ultimate, "ultimate") < 0 || sigs_read(r, in) < 0)
		return -1;
	return rd_str(r, in->ca, CA_MAX, NULL, "content address");
}

int pathinfo_write_worker(struct wr *w, unsigned minor, const struct pathinfo *in, const struct pathset *refs)
{
	char h[HASH_TEXT_MAX];

	hash_fmt16(h, in->hash);
	if (wr_cstr(w, in->deriver) < 0 || wr_cstr(w, h) < 0 || pathset_write(refs, w) < 0 ||
	    wr_u64(w, in->regtime) < 0 || wr_u64(w, in->nar_size) < 0)
		return -1;
	if (minor < 16)
		return 0;
	if (wr_u64(w, (uint64_t)in->ultimate) < 0 || wr_bytes(w, in->sigs, in->sigs_len) < 0)
		return -1;
	return wr_cstr(w, in->ca);
}
