/* sha256-bench [MiB]: MiB/s of proto/sha256's two paths (libsodium's and,
 * where the CPU has them, the SHA instructions), each hashing the same
 * MiB (default 1024) in 1 MiB updates; the digests must agree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sha256.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 20];
	static const char *name[] = {"libsodium (portable)", "SHA instructions (SHA-NI)"};
	unsigned char d[2][32];
	long mib = argc > 1 ? atol(argv[1]) : 1024, i;
	int ni;

	for (i = 0; i < (long)sizeof buf; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	for (ni = 0; ni < 2; ni++) {
		struct sha256 s;
		double t;

		if (sha256_init_path(&s, ni) < 0) {
			printf("%-26s  not on this CPU\n", name[ni]);
			continue;
		}
		t = now();
		for (i = 0; i < mib; i++)
			sha256_update(&s, buf, sizeof buf);
		sha256_final(&s, d[ni]);
		t = now() - t;
		printf("%-26s  %ld MiB in %.3f s: %.0f MiB/s\n", name[ni], mib, t, (double)mib / t);
	}
	if (sha256_ni_available() && memcmp(d[0], d[1], 32)) {
		printf("the two paths' digests differ\n");
		return 1;
	}
	return 0;
}
