/* wupload: the parser's side of the worker protocol's imports. The client
 * sends the NARs (and AddMultipleToStore its whole list) in Nix's framed
 * stream: u64 lengths, each followed by that many bytes, a 0 length last.
 * The parser reads it through a reader of its frames, each length checked,
 * and forwards only what they carry; the monitor reads that with its bounded
 * readers as if no frames had been (wimport.c). */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "import.h"
#include "parser.h"
#include "wimport.h"
#include "wupload.h"

struct frames {
	struct serve *s;
	uint64_t left;  /* of the frame being read */
	int done;       /* the 0 frame was read */
};

static int deframe(void *ctx, unsigned char *buf, size_t cap, size_t *got)
{
	struct frames *f = ctx;
	const unsigned char *p;
	uint64_t len;
	size_t n;

	*got = 0;
	if (f->done)
		return 0;
	if (f->left == 0) {
		if (rd_u64(&f->s->in, &len) < 0)
			return -1;
		if (len > WFRAME_MAX)
			return refuse(f->s, "frame", "a frame of %llu bytes is over the limit of %u",
				      (unsigned long long)len, WFRAME_MAX);
		if (len == 0) {
			f->done = 1;
			return 0;
		}
		f->left = len;
	}
	if (rd_chunk(&f->s->in, &p, &n, f->left < cap ? f->left : cap) < 0)
		return -1;
	memcpy(buf, p, n);
	f->left -= n;
	*got = n;
	return 0;
}

static unsigned char framebuf[WIRE_BUFSZ];
static struct frames fs;
static struct rd fr;

/* From here the client's bytes are frames: only what they carry goes on. */
static void frames_begin(struct serve *s)
{
	fs.s = s;
	fs.left = 0;
	fs.done = 0;
	rd_init_pull(&fr, deframe, &fs, framebuf, sizeof framebuf, EXIT_REFUSED, "client");
	fr.tee = &s->out;
	s->in.tee = NULL;
}

/* The stream's 0 frame, right after what the request needs of it. */
static int frames_end(struct serve *s, const char *what)
{
	int e = rd_at_eof(&fr);

	if (e < 0)
		return -1;
	if (e == 0)
		return fail(EXIT_REFUSED, "the client's framed stream goes on after %s", what);
	s->in.tee = &s->out;
	return vouch(s);
}

/* The current path names the request's refusals, which a long list's
 * first would not. */
static void current(struct serve *s, const char *path)
{
	note(s, path);
	snprintf(s->req.first, sizeof s->req.first, "%s", path);
}

int wparse_add_to_store_nar(struct serve *s)
{
	static struct addinfo a;
	int repair, dont_check, e;

	/* before 1.23 the NAR is not framed: the monitor refuses the request */
	if (s->minor < WADD_NAR_MIN_MINOR)
		return 0;
	if (addinfo_read(&s->in, &a, &s->ps, "AddToStoreNar") < 0 || rd_bool(&s->in, &repair, "repair") < 0 ||
	    rd_bool(&s->in, &dont_check, "dontCheckSigs") < 0)
		return -1;
	current(s, a.path);
	/* the monitor checks the claim, the references and the limits first */
	if ((e = parser_wait(s)) != 0)
		return e;
	frames_begin(s);
	if (upload_nar(s, &fr, &a) < 0)
		return -1;
	return frames_end(s, "the NAR");
}

int wparse_add_multiple(struct serve *s)
{
	static struct addinfo a;
	int repair, dont_check, e;
	uint64_t n, i;

	if (s->minor < WADD_MULTIPLE_MIN_MINOR)
		return 0;
	if (rd_bool(&s->in, &repair, "repair") < 0 || rd_bool(&s->in, &dont_check, "dontCheckSigs") < 0)
		return -1;
	frames_begin(s);
	if (rd_count(&fr, &n, WADD_PATHS_MAX, "paths to add") < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (addinfo_read(&fr, &a, &s->ps, "AddMultipleToStore") < 0)
			return -1;
		current(s, a.path);
		if ((e = parser_wait(s)) != 0)
			return e;
		if (upload_nar(s, &fr, &a) < 0 || vouch(s) < 0)
			return -1;
	}
	return frames_end(s, "its last path");
}

/* The dump as the client frames it, forwarded in chunks (its size is known
 * only at its end), checked on the way: a recursive one must be one NAR
 * that ends where the stream does, a text or a file must fit the limits. */
static int pump_dump(struct serve *s, const struct ca *c)
{
	const unsigned char *p;
	uint64_t total = 0;
	size_t got;
	ssize_t k;
	int e = 0;

#ifdef NIXGATE_PARSER_LIES
	/* the test build: any dump forwarded to its end as a flat file's,
	 * a recursive one's structure unchecked */
	c = &(const struct ca){0};
#endif
	nar_init(&s->nar);
	for (;;) {
		if (c->recursive ? nar_done(&s->nar) : (e = rd_at_eof(&fr)) != 0)
			break;
		if (rd_peek(&fr, &p, &got) < 0)
			return -1;
		if (c->recursive) {
			if ((k = nar_feed(&s->nar, p, got)) < 0)
				return refuse(s, "nar", "%s", reason());
			got = (size_t)k;
			if (nar_size_ok(s, nar_claimed(&s->nar), 1) < 0)
				return -1;
		} else if (c->text && total + got > WADD_TEXT_MAX)
			return refuse(s, "text-size", "a text of at least %llu bytes is over the limit of %u",
				      (unsigned long long)(total + got), WADD_TEXT_MAX);
		else if (nar_size_ok(s, wadd_flat_nar(total + got), 1) < 0)
			return -1;
		if (got > 0 && (wr_u64(&s->out, got) < 0 || wr_bytes(&s->out, p, got) < 0))
			return -1;
		rd_consume(&fr, got);
		total += got;
		s->req.bytes += got;
	}
	if (e < 0)
		return -1;
	return wr_u64(&s->out, 0);
}

int wparse_add_to_store(struct serve *s)
{
	char name[STORE_NAME_MAX + 1], m[WADD_METHOD_MAX + 1];
	struct ca c;
	int repair, e;

	/* before 1.25 the dump is not framed: the monitor refuses the request */
	if (s->minor < WADD_CA_MIN_MINOR)
		return 0;
	if (rd_str(&s->in, name, STORE_NAME_MAX, NULL, "name") < 0 ||
	    rd_str(&s->in, m, WADD_METHOD_MAX, NULL, "content-address method") < 0 ||
	    pathset_read(&s->ps, &s->in, "references") < 0 || rd_bool(&s->in, &repair, "repair") < 0)
		return -1;
	if (storename_check(name, strlen(name)) == 0)
		snprintf(s->req.first, sizeof s->req.first, "%s", name);
	/* the monitor checks the method, the name, the references first */
	if ((e = parser_wait(s)) != 0)
		return e;
	if (wadd_method(&c, m) < 0)
		return -1;
	frames_begin(s);
	fr.tee = NULL;
	if (pump_dump(s, &c) < 0)
		return -1;
	return frames_end(s, "the dump");
}

int wparse_add_text(struct serve *s)
{
	char name[STORE_NAME_MAX + 1];
	uint64_t len;

	if (rd_str(&s->in, name, STORE_NAME_MAX, NULL, "name") < 0 || rd_u64(&s->in, &len) < 0)
		return -1;
	if (storename_check(name, strlen(name)) == 0)
		snprintf(s->req.first, sizeof s->req.first, "%s", name);
	if (len > WADD_TEXT_MAX)
		return refuse(s, "text-size", "a text of %llu bytes is over the limit of %u", (unsigned long long)len,
			      WADD_TEXT_MAX);
	if (nar_size_ok(s, wadd_flat_nar(len), 0) < 0)
		return -1;
	s->req.bytes += len;
	return rd_skip(&s->in, len) < 0 || rd_pad(&s->in, len) < 0 ? -1 : pathset_read(&s->ps, &s->in, "references");
}
