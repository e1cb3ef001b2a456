/* upload: the parser's side of imports. A NAR's structure is checked here
 * as it passes, before it goes on to the monitor; then the parser vouches
 * for it (PRIVSEP_NAR_OK). The monitor checks again all it spools, hash and
 * content address included (import.c): the vouch decides nothing alone. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hash.h"
#include "import.h"
#include "parser.h"
#include "sha256.h"

/* The NAR of an AddToStoreNar, of declared size, checked as it is teed. */
static int pump_known(struct serve *s, struct rd *r, uint64_t left, struct narcheck *c)
{
	const unsigned char *p;
	size_t got;

	while (left > 0) {
		if (rd_peek(r, &p, &got) < 0)
			return -1;
		if (got > left)
			got = (size_t)left;
		if (narcheck_feed(s, c, p, got) < 0)
			return -1;
		s->req.bytes += got;
		rd_consume(r, got);
		left -= got;
	}
	return 0;
}

int upload_nar(struct serve *s, struct rd *r, const struct addinfo *a)
{
	static struct narcheck c;

#ifdef NIXGATE_PARSER_LIES
	/* the test build: the worker imports' NARs forwarded unchecked */
	return rd_skip(r, a->nar_size);
#endif
	/* The structure here, where the network's bytes are parsed first; the
	 * hash and content address in the monitor, which checks every NAR it
	 * spools whole (import.c) and would only repeat them */
	if (narcheck_begin(s, &c, a->path, a->ca, a->nar_size, 0) < 0)
		return -1;
	if (pump_known(s, r, a->nar_size, &c) < 0) {
		narcheck_free(&c);
		return -1;
	}
	return narcheck_end(s, &c, a->path, a->hash);
}

int vouch(struct serve *s)
{
	return wr_u64(&s->out, PRIVSEP_NAR_OK) < 0 || wr_flush(&s->out) < 0 ? -1 : 0;
}

int parse_add_to_store_nar(struct serve *s)
{
	static struct addinfo a;
	int r;

	if (addinfo_read(&s->in, &a, &s->ps, "AddToStoreNar") < 0)
		return -1;
	note(s, a.path);
	/* the monitor checks the claim, the references and the limits first */
	if ((r = parser_wait(s)) != 0)
		return r;
#ifdef NIXGATE_PARSER_LIES
	/* the test build: a compromised parser, which forwards any NAR and
	 * vouches for it unchecked or, with NIXGATE_LIE=stall, forwards half
	 * of it and then holds the channel open without a word */
	if (getenv("NIXGATE_LIE") && !strcmp(getenv("NIXGATE_LIE"), "stall")) {
		if (rd_skip(&s->in, a.nar_size / 2) < 0 || wr_flush(&s->out) < 0)
			return -1;
		for (;;)
			(void)poll(NULL, 0, -1);
	}
	return rd_skip(&s->in, a.nar_size) < 0 ? -1 : vouch(s);
#endif
	return upload_nar(s, &s->in, &a) < 0 ? -1 : vouch(s);
}

/* ImportPaths (trusted keys only, the monitor decides): the NAR comes
 * before its metadata, so its size is not known: it goes on in frames of
 * at most WIRE_BUFSZ, a 0 frame last, the tee off meanwhile. */
static int pump_frames(struct serve *s)
{
	const unsigned char *p;
	size_t got;
	ssize_t k;

	nar_init(&s->nar);
	s->in.tee = NULL;
	while (!nar_done(&s->nar)) {
		if (rd_peek(&s->in, &p, &got) < 0)
			return -1;
		if ((k = nar_feed(&s->nar, p, got)) < 0)
			return -1;
		/* a file's length is a claim like AddToStoreNar's size: refused
		 * when it is read, not after the limit's worth of its bytes */
		if (nar_size_ok(s, nar_claimed(&s->nar), 1) < 0)
			return -1;
		if (k > 0 && (wr_u64(&s->out, (uint64_t)k) < 0 || wr_bytes(&s->out, p, (size_t)k) < 0))
			return -1;
		s->req.bytes += (uint64_t)k;
		rd_consume(&s->in, (size_t)k);
	}
	s->in.tee = &s->out;
	return wr_u64(&s->out, 0);
}

int parse_import_paths(struct serve *s)
{
	char path[STORE_PATH_MAX + 1], deriver[STORE_PATH_MAX + 1];
	uint64_t more, magic, legacy_sig;
	int r;

	if ((r = parser_wait(s)) != 0)
		return r;
	for (;;) {
		if (rd_u64(&s->in, &more) < 0)
			return -1;
		if (more == 0)
			return 0;
		if (more != 1)
			return fail(EXIT_REFUSED, "ImportPaths: expected 0 or 1 before a path, got %llu",
				    (unsigned long long)more);
		if (pump_frames(s) < 0 || rd_u64(&s->in, &magic) < 0)
			return -1;
		if (magic != EXPORT_MAGIC)
			return fail(EXIT_REFUSED, "ImportPaths: the export magic does not follow the NAR");
		if (storepath_read(&s->in, path, 0, "path") < 0 || pathset_read(&s->ps, &s->in, "references") < 0 ||
		    storepath_read(&s->in, deriver, 1, "deriver") < 0 || rd_u64(&s->in, &legacy_sig) < 0)
			return -1;
		if (legacy_sig != 0)
			return fail(EXIT_REFUSED, "ImportPaths: legacy signatures are not supported");
		note(s, path);
		if ((r = parser_wait(s)) != 0)
			return r;
	}
}
