#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "err.h"

#define SYSLOG_PATH "/dev/log"
#define LOG_AUTH_INFO 38 /* facility auth (4) * 8 + severity info (6), as sshd logs */

int audit_syslog(struct audit *a, const char *path, int required)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	a->fd = -1;
	a->syslog = 0;
	a->pid = (int)getpid();
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
		a->fd = fd;
		a->syslog = 1;
		return 0;
	}
	if (fd >= 0)
		close(fd);
	return required ? fail_sys("audit log: connecting to %s", path) : 0;
}

int audit_open(struct audit *a, const char *spec)
{
	a->fd = -1;
	a->syslog = 0;
	a->pid = (int)getpid();
	if (!strcmp(spec, "none"))
		return 0;
	if (!*spec || !strcmp(spec, "syslog"))
		return audit_syslog(a, SYSLOG_PATH, *spec != 0);
	if ((a->fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600)) < 0)
		return fail_sys("audit log %s", spec);
	return 0;
}

/* Into dst (at most max bytes, NUL-terminated): src with every byte outside
 * printable ASCII, and the backslash, written as \xHH, so that no request
 * can put control bytes, another line or bytes a log reader would decode
 * as text into the log. */
static size_t escape(char *dst, size_t max, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *src; src++) {
		unsigned char c = (unsigned char)*src;

		if (c >= ' ' && c < 0x7f && c != '\\') {
			if (n + 1 >= max)
				break;
			dst[n++] = (char)c;
		} else {
			if (n + 4 >= max)
				break;
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 15];
		}
	}
	dst[n] = 0;
	return n;
}

void audit_write(struct audit *a, const char *fmt, ...)
{
	char line[AUDIT_LINE_MAX], raw[AUDIT_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n = 0;

	if (a->fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (a->syslog)
		n = (size_t)snprintf(line, sizeof line, "<%d>nixgate-serve[%d]: ", LOG_AUTH_INFO, a->pid);
	n += strftime(line + n, sizeof line - n, "time=%Y-%m-%dT%H:%M:%SZ ", &tm);
	va_start(ap, fmt);
	if (vsnprintf(raw, sizeof raw, fmt, ap) < 0)
		raw[0] = 0;
	va_end(ap);
	n += escape(line + n, sizeof line - n - 1, raw);
	line[n++] = '\n';
	if (write(a->fd, line, a->syslog ? n - 1 : n) < 0)
		return;
}
