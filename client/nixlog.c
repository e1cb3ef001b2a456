#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

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

void nix_say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = n > (int)sizeof line - 2 ? (int)sizeof line - 2 : n;
	line[n++] = '\n';
	if (write(HOOK_LOG_FD, line, (size_t)n) < 0 && write(2, line, (size_t)n) < 0)
		return;
}
