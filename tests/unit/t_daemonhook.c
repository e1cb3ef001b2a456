/* Unit tests of reading the local daemon's build hook: nix.conf lines and
 * show-config output, and which values run nixgate. */
#include <string.h>

#include "check.h"
#include "daemonhook.h"

void t_daemonhook_setting(void)
{
	const char *conf = "# build-hook = /commented\n"
			   "  build-hook = /first  \n"
			   "build-hooks = /other\n"
			   "post-build-hook = /post\n"
			   "build-hook=/usr/bin/nix __build-remote # the last one counts\r\n"
			   "builders = @/etc/nix/machines";
	char v[32];

	CHECK(daemon_hook_setting(conf, strlen(conf), "build-hook", v, sizeof v) == 1);
	CHECK(!strcmp(v, "/usr/bin/nix __build-remote"));
	CHECK(daemon_hook_setting(conf, strlen(conf), "builders", v, sizeof v) == 1 && !strcmp(v, "@/etc/nix/machines"));
	CHECK(daemon_hook_setting(conf, strlen(conf), "build-users-group", v, sizeof v) == 0);
	/* only the given length is read */
	CHECK(daemon_hook_setting(conf, strstr(conf, "build-hooks") - conf, "build-hook", v, sizeof v) == 1 &&
	      !strcmp(v, "/first"));
	CHECK(daemon_hook_setting("build-hook =\n", 13, "build-hook", v, sizeof v) == 1 && !v[0]);
	CHECK(daemon_hook_setting("build-hook /x\n", 14, "build-hook", v, sizeof v) == 0);
	CHECK(daemon_hook_setting(conf, strlen(conf), "build-hook", v, 27) == -1);
}

void t_daemonhook_nixgate(void)
{
	CHECK(daemon_hook_is_nixgate("/usr/local/bin/nixgate-build-hook"));
	CHECK(daemon_hook_is_nixgate("nixgate-build-hook"));
	CHECK(daemon_hook_is_nixgate("/usr/local/bin/nixgate build-hook"));
	CHECK(daemon_hook_is_nixgate("/usr/local/bin/nixgate  build-hook "));
	CHECK(!daemon_hook_is_nixgate("/usr/local/bin/nixgate ping"));
	CHECK(!daemon_hook_is_nixgate("/usr/local/bin/nixgate build-hooks"));
	CHECK(!daemon_hook_is_nixgate("/usr/local/bin/nixgate"));
	CHECK(!daemon_hook_is_nixgate("/usr/bin/nix __build-remote"));
	CHECK(!daemon_hook_is_nixgate("/usr/libexec/nix/build-remote"));
	CHECK(!daemon_hook_is_nixgate("/opt/not-nixgate-build-hook"));
	CHECK(!daemon_hook_is_nixgate("/nixgate-build-hook/nix __build-remote"));
	CHECK(!daemon_hook_is_nixgate(""));
}
