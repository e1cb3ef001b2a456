/* Unit tests of server/wimport.c's AddToStore helpers: the method strings
 * it serves and the size of the flat NAR it builds. */
#include <string.h>

#include "check.h"
#include "err.h"
#include "nar.h"
#include "wimport.h"
#include "wire.h"

void t_wadd_method(void)
{
	static const char *const bad[] = {
		"fixed:git:sha1", "text:sha1", "text:sha256:", "fixed:r:", "fixed:", "", "fixed:sha256x",
		"fixed:r:r:sha256", "source:sha256", "fixed:blake3", "TEXT:sha256",
	};
	struct ca c;
	size_t i;

	CHECK(wadd_method(&c, "text:sha256") == 0 && c.text && !c.recursive && c.hlen == 32 && !strcmp(c.algo, "sha256"));
	CHECK(wadd_method(&c, "fixed:r:sha512") == 0 && !c.text && c.recursive && c.hlen == 64);
	CHECK(wadd_method(&c, "fixed:md5") == 0 && !c.text && !c.recursive && c.hlen == 16 && !strcmp(c.algo, "md5"));
	CHECK(wadd_method(&c, "fixed:sha1") == 0 && c.hlen == 20);
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (wadd_method(&c, bad[i]) != -1 || err_kind() != EXIT_REFUSED)
			CHECK(!"a method that is not served parses");
		err_clear();
	}
	/* a method that could break the refusal's line is not shown */
	CHECK(wadd_method(&c, "fixed:\nsha1") == -1 && strstr(err_msg(), "'(not shown)'") && !strchr(err_msg(), '\n'));
	err_clear();
}

/* The NAR nixgate builds of a flat file is as long as it says, and a NAR. */
void t_wadd_flat_nar(void)
{
	static const char *const head[] = {"nix-archive-1", "(", "type", "regular", "contents"};
	static unsigned char b[256], text[64];
	static struct nar n;
	struct wr w;
	size_t len, i;

	memset(text, 'x', sizeof text);
	for (len = 0; len < 20; len++) {
		wr_init_mem(&w, b, sizeof b);
		for (i = 0; i < 5; i++)
			wr_cstr(&w, head[i]);
		/* the header ends in the contents' length */
		CHECK(w.len + 8 == FLAT_HEAD);
		wr_str(&w, text, len);
		wr_cstr(&w, ")");
		CHECK(w.len == wadd_flat_nar(len));
		nar_init(&n);
		CHECK(nar_feed(&n, b, w.len) == (ssize_t)w.len && nar_done(&n));
	}
}
