/* Unit tests of the audit log: the syslog datagram and the file line. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "audit.h"
#include "check.h"
#include "err.h"

void t_audit_syslog(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[] = "/tmp/nixgate-audit.XXXXXX", got[AUDIT_LINE_MAX + 1], want[64];
	struct audit a;
	ssize_t n;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/log", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	CHECK(audit_syslog(&a, sa.sun_path, 1) == 0 && a.syslog && a.fd >= 0);
	audit_write(&a, "key=%s op=%s", "k", "QueryValidPaths");
	n = recv(fd, got, sizeof got - 1, MSG_DONTWAIT);
	CHECK(n > 0);
	got[n > 0 ? n : 0] = 0;
	snprintf(want, sizeof want, "<38>nixgate-serve[%d]: time=20", (int)getpid());
	CHECK(!strncmp(got, want, strlen(want)));
	CHECK(n > 0 && strstr(got, "Z key=k op=QueryValidPaths") && got[n - 1] != '\n');
	close(a.fd);
	unlink(sa.sun_path);
	/* required and missing: an error naming the socket; else quietly none */
	err_clear();
	CHECK(audit_syslog(&a, sa.sun_path, 1) == -1 && strstr(err_msg(), sa.sun_path));
	err_clear();
	CHECK(audit_syslog(&a, sa.sun_path, 0) == 0 && a.fd == -1);
	close(fd);
	rmdir(dir);
}

void t_audit_file(void)
{
	char path[] = "/tmp/nixgate-audit-file.XXXXXX", buf[4096];
	struct audit a;
	ssize_t n;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(audit_open(&a, path) == 0 && !a.syslog);
	audit_write(&a, "first");
	audit_write(&a, "%0*d", 3000, 7); /* longer than a line: cut, still one line */
	close(a.fd);
	n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && !strncmp(buf, "time=", 5) && strstr(buf, "Z first\n"));
	CHECK(n == (ssize_t)(strchr(buf, '\n') - buf + 1 + AUDIT_LINE_MAX - 1));
	CHECK(buf[n - 1] == '\n');
	CHECK(audit_open(&a, "none") == 0 && a.fd == -1);
	close(fd);
	unlink(path);
}

/* Request bytes outside printable ASCII never reach the log as they are. */
void t_audit_escape(void)
{
	char path[] = "/tmp/nixgate-audit-esc.XXXXXX", buf[512];
	struct audit a;
	ssize_t n, i;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(audit_open(&a, path) == 0);
	audit_write(&a, "first=%s", "a\x7f" "b\xff\xfe\\c\nd\x01");
	close(a.fd);
	n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && strstr(buf, "Z first=a\\x7fb\\xff\\xfe\\x5cc\\x0ad\\x01\n"));
	for (i = 0; i < n - 1; i++)
		CHECK(buf[i] >= ' ' && buf[i] < 0x7f);
	close(fd);
	unlink(path);
}
