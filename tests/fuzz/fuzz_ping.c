/* One build host's answers to nixgate ping (client/answer.c), as ping.c
 * feeds them: stdout in pieces as they arrive, ssh's stderr between them,
 * deadlines, then the cause from ssh's exit status, and the result printed
 * as ping and ping --json print it. The hook and doctor ask every host
 * this way, so each host is a peer that reaches the client here first.
 * Input: ssh's exit status (one byte), then events, each one header byte
 * whose top two bits say which:
 *   0 stdout bytes, 1 stderr bytes: the low 6 bits and the next byte are
 *     the length (big endian, up to 16383), then the bytes;
 *   2 the step's deadline passes;  3 stdout ends.
 * What is left when the input ends is the end of stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "harness.h"
#include "ping.h"

enum { EV_OUT, EV_ERR, EV_LATE, EV_EOF };

static FILE *sink(void)
{
	static FILE *f;

	if (!f && !(f = fopen("/dev/null", "w")))
		abort();
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ping p;
	static struct answer a;
	const uint8_t *end = data + size;
	double now = 0;
	size_t n;
	int status, kind;

	if (size < 1)
		return 0;
	status = *data++;
	/* as ping_all sets each one up */
	memset(&p, 0, sizeof p);
	snprintf(p.uri, sizeof p.uri, "ssh://fuzz");
	p.ssh_ms = p.handshake_ms = p.query_ms = -1;
	answer_init(&a, &p, now);
	while (data < end) {
		kind = *data >> 6;
		n = 0;
		if (kind == EV_OUT || kind == EV_ERR) {
			if (end - data < 2)
				break;
			n = (size_t)(*data & 63) << 8 | data[1];
			data += 2;
			if (n > (size_t)(end - data))
				n = (size_t)(end - data);
		} else
			data++;
		/* a clock that moves with every event, so timings are measured */
		now += 1;
		/* after the end ping.c reads stderr only (its stdout is closed) */
		if (kind == EV_OUT)
			answer_out(&a, data, n, 0, 0, now);
		else if (kind == EV_ERR)
			answer_err(&a, (const char *)data, n, now);
		else
			answer_out(&a, NULL, 0, kind == EV_EOF, kind == EV_LATE, now);
		data += n;
	}
	answer_out(&a, NULL, 0, 1, 0, now + 1);
	answer_cause(&a, status);
	ping_print(sink(), &p);
	ping_json(sink(), &p);
	fflush(sink());
	ping_free(&p);
	answer_free(&a);
	return 0;
}
