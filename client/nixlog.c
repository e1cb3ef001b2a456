#include <stdarg.h>
#include <stdio.h>

#include "nixlog.h"
#include "ping.h"

void nix_msg(int level, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	fprintf(stderr, "@nix {\"action\":\"msg\",\"level\":%d,\"msg\":", level);
	json_str(stderr, text);
	fputs("}\n", stderr);
}
