/* Unit tests of the client's store URIs and builder lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "machines.h"
#include "ssh.h"

void t_store_uri(void)
{
	struct store_uri u;

	CHECK(uri_parse(&u, "ssh://root@host?ssh-key=/k&remote-program=/bin/nixgate-serve") == 0);
	CHECK(!strcmp(u.host, "root@host") && !strcmp(u.key, "/k") && !strcmp(u.program, "/bin/nixgate-serve"));
	CHECK(uri_parse(&u, "host") == 0 && !strcmp(u.text, "ssh://host") && !strcmp(u.program, "nix-store") && !u.key[0]);
	err_clear();
	CHECK(uri_parse(&u, "ssh-ng://host") == -1 && strstr(err_msg(), "only ssh:// stores"));
	CHECK(uri_parse(&u, "ssh://-oProxyCommand=x") == -1);
	CHECK(uri_parse(&u, "ssh://") == -1);
	CHECK(uri_parse(&u, "ssh://a/b") == -1);
}

void t_machines(void)
{
	static struct machine m[4];

	CHECK(machines_parse(m, 4, "ssh://a x86_64-linux,i686-linux /k 4 2 kvm,big-parallel benchmark AAAA; "
				   "b - - - - - -\n# comment\n  \n", 0) == 2);
	CHECK(!strcmp(m[0].uri.host, "a") && !strcmp(m[0].systems, "x86_64-linux i686-linux"));
	CHECK(!strcmp(m[0].uri.key, "/k") && m[0].max_jobs == 4 && m[0].speed == 2);
	CHECK(!strcmp(m[0].supported, "kvm big-parallel") && !strcmp(m[0].mandatory, "benchmark"));
	CHECK(!strcmp(m[0].uri.hostkey, "AAAA"));
	CHECK(!strcmp(m[1].uri.text, "ssh://b") && !m[1].systems[0] && m[1].max_jobs == 1 && !m[1].uri.key[0]);
	CHECK(machines_parse(m, 4, "@/nonexistent/machines", 0) == 0);
	err_clear();
	CHECK(machines_parse(m, 4, "a x 1 2 3 4 5 6 7", 0) == -1 && strstr(err_msg(), "more than 8 fields"));
	CHECK(machines_parse(m, 4, "a x - many", 0) == -1);
	CHECK(machines_parse(m, 1, "a; b", 0) == -1);
}

/* The directory of the hook's ssh control sockets: whoever reaches one runs
 * commands as the builder's key, so only this uid may enter it. */
void t_warm_dir(void)
{
	char dir[] = "/tmp/nixgate-warm.XXXXXX", sub[64], open_dir[64], pct[64];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof sub, "%s/made", dir);
	CHECK(ssh_warm(sub, 5) == 0);
	CHECK(access(sub, F_OK) == 0);
	CHECK(ssh_warm(sub, 0) == 0);
	snprintf(open_dir, sizeof open_dir, "%s/open", dir);
	CHECK(mkdir(open_dir, 0755) == 0);
	CHECK(ssh_warm(open_dir, 5) == -1 && strstr(err_msg(), "only uid"));
	err_clear();
	CHECK(ssh_warm("relative", 5) == -1);
	err_clear();
	snprintf(pct, sizeof pct, "%s/%%h", dir);
	CHECK(ssh_warm(pct, 5) == -1 && strstr(err_msg(), "'%'") && access(pct, F_OK) < 0);
	CHECK(ssh_warm("/tmp/a-directory-name-that-is-longer-than-fifty-two-characters", 5) == -1);
	err_clear();
	/* a symlink to a good directory is not taken either */
	snprintf(pct, sizeof pct, "%s/link", dir);
	CHECK(symlink(sub, pct) == 0 && ssh_warm(pct, 5) == -1);
	ssh_warm(sub, 0);
	unlink(pct);
	rmdir(sub);
	rmdir(open_dir);
	rmdir(dir);
	err_clear();
}
