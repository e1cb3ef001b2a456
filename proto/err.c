#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static char msg[512];
static int kind;

int fail(int k, const char *fmt, ...)
{
	va_list ap;

	/* The first error is the cause; later ones are its consequences. */
	if (kind)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	kind = k;
	return -1;
}

int fail_sys(const char *fmt, ...)
{
	char head[384];
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	return fail(EXIT_SYSTEM, "%s: %s", head, strerror(e));
}

const char *err_msg(void) { return kind ? msg : "no error"; }
int err_kind(void) { return kind; }
void err_clear(void) { kind = 0; msg[0] = 0; }
