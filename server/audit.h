/* audit: one line per request, to syslog or to a file opened before the
 * sandbox; never to stdout, which is the client's channel. */
#ifndef NIXGATE_AUDIT_H
#define NIXGATE_AUDIT_H

#define AUDIT_LINE_MAX 1024

struct audit {
	int fd;          /* -1: no audit log */
	int syslog;      /* fd is /dev/log */
	int pid;
};

/* spec: "syslog", "none", an absolute path, or "" for syslog when the
 * machine has one. An audit log asked for and not available fails. */
int audit_open(struct audit *a, const char *spec);
/* A syslog socket at path (/dev/log for audit_open). */
int audit_syslog(struct audit *a, const char *path, int required);
/* Best effort: a full disk must not stop the service it records. */
void audit_write(struct audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
