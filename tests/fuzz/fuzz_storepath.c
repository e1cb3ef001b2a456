/* The strings a peer sends that name or vouch for store paths: store paths,
 * path!outputs, names, hashes, content addresses and the paths they give,
 * public keys, signatures, fixed-output hashes. Input: the string; for a
 * fixed-output hash, algorithm and hash are split at the first '|'. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "ca.h"
#include "err.h"
#include "harness.h"
#include "hash.h"
#include "sig.h"
#include "storepath.h"

#define KEY "vec-key-1:H7vJwcRAr64va2fujVmSXbICbxPGw5xSZQjW6jOxSrg="
#define SELF "/nix/store/qqwf397dz5bmdayn2bwz3i0vp45rky56-b"

static void content_address(const char *s, size_t size)
{
	char out[STORE_PATH_MAX + 1];
	struct pathset refs;
	struct ca c;

	if (ca_parse(&c, s, size) < 0)
		return;
	pathset_init(&refs);
	ca_path(out, &c, "fuzz", &refs, NULL);
	err_clear();
	if (pathset_add(&refs, SELF, strlen(SELF)) == 0)
		ca_path(out, &c, "b", &refs, SELF);
	pathset_free(&refs);
}

static void fixed_output(char *z)
{
	char out[STORE_PATH_MAX + 1], *bar = strchr(z, '|');

	if (bar)
		*bar = 0;
	ca_fixed_output(out, z, bar ? bar + 1 : "", "fuzz");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char h[SHA256_BYTES];
	struct pubkey k;
	char *s, *z;

	if (sodium_init() < 0)
		abort();
	s = copy(data, size);
	z = copy_str(data, size);
	if (s && z) {
		if (storepath_check(s, size, EXIT_REFUSED, "path") == 0 && (!storepath_name(z)[0] || storepath_is_drv(z) > 1))
			abort();
		err_clear();
		path_outputs_check(s, size, EXIT_REFUSED);
		err_clear();
		storename_check(s, size);
		hash_parse(h, s, size);
		base32_decode(h, 20, s, size);
		base32_decode(h, SHA256_BYTES, s, size);
		content_address(s, size);
		err_clear();
		if (pubkey_parse(&k, s, size) == 0 && strlen(k.name) > KEY_NAME_MAX)
			abort();
		err_clear();
		if (pubkey_parse(&k, KEY, strlen(KEY)) < 0)
			abort();
		sig_check(&k, 1, s, size, z);
		fixed_output(z);
		err_clear();
	}
	free(s);
	free(z);
	return 0;
}
