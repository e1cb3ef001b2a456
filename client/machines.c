#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "machines.h"

/* A comma list as a space-separated one; "-" or "" is empty. */
static int list(char *dst, const char *s)
{
	size_t n = strlen(s), i;

	if (n > MACHINE_LIST_MAX)
		return -1;
	if (!strcmp(s, "-"))
		n = 0;
	for (i = 0; i < n; i++)
		dst[i] = s[i] == ',' ? ' ' : s[i];
	dst[n] = 0;
	return 0;
}

static int number(unsigned *v, const char *s, unsigned dflt)
{
	char *end;
	unsigned long n;

	if (!*s || !strcmp(s, "-")) {
		*v = dflt;
		return 0;
	}
	n = strtoul(s, &end, 10);
	if (*end || n > 1000000)
		return -1;
	*v = (unsigned)n;
	return 0;
}

static int one(struct machine *m, char *line)
{
	char *f[9], *save = NULL, uri[URI_MAX + 64];
	int n = 0;

	memset(m, 0, sizeof *m);
	snprintf(m->line, sizeof m->line, "%s", line);
	for (char *t = strtok_r(line, " \t", &save); t && n < 9; t = strtok_r(NULL, " \t", &save))
		f[n++] = t;
	while (n < 8)
		f[n++] = "-";
	if (n > 8)
		return fail(EXIT_REFUSED, "builder '%s': more than 8 fields", m->line);
	/* a bare host means ssh://host, as in Nix */
	snprintf(uri, sizeof uri, "%s", f[0]);
	if (strlen(f[1]) && list(m->systems, f[1]) < 0)
		return fail(EXIT_REFUSED, "builder '%s': the systems field is too long", m->line);
	if (number(&m->max_jobs, f[3], 1) < 0 || number(&m->speed, f[4], 1) < 0)
		return fail(EXIT_REFUSED, "builder '%s': max jobs and speed factor are numbers", m->line);
	if (list(m->supported, f[5]) < 0 || list(m->mandatory, f[6]) < 0)
		return fail(EXIT_REFUSED, "builder '%s': a features field is too long", m->line);
	if (uri_parse(&m->uri, uri) < 0)
		return -1;
	if (strcmp(f[2], "-")) {
		if (strlen(f[2]) >= sizeof m->uri.key)
			return fail(EXIT_REFUSED, "builder '%s': the key path is too long", m->line);
		strcpy(m->uri.key, f[2]);
	}
	if (strcmp(f[7], "-")) {
		if (strlen(f[7]) > HOSTKEY_MAX)
			return fail(EXIT_REFUSED, "builder '%s': the host key is too long", m->line);
		strcpy(m->uri.hostkey, f[7]);
	}
	return 0;
}

static int file(struct machine *m, unsigned max, const char *path, unsigned depth)
{
	static char buf[BUILDERS_MAX + 1];
	char *text;
	size_t n;
	FILE *f = fopen(path, "re");
	int r;

	if (!f)
		return errno == ENOENT ? 0 : fail_sys("machines file %s", path);
	n = fread(buf, 1, BUILDERS_MAX + 1, f);
	fclose(f);
	if (n > BUILDERS_MAX)
		return fail(EXIT_REFUSED, "machines file %s is larger than %u bytes", path, BUILDERS_MAX);
	buf[n] = 0;
	if (!(text = strdup(buf)))
		return fail(EXIT_SYSTEM, "out of memory");
	r = machines_parse(m, max, text, depth + 1);
	free(text);
	return r;
}

int machines_parse(struct machine *m, unsigned max, const char *builders, unsigned depth)
{
	char *copy, *line, *save = NULL, *hash;
	unsigned n = 0;
	int k;

	if (depth > MACHINES_DEPTH_MAX)
		return fail(EXIT_REFUSED, "machines files nest deeper than %u", MACHINES_DEPTH_MAX);
	if (!(copy = strdup(builders)))
		return fail(EXIT_SYSTEM, "out of memory");
	for (line = strtok_r(copy, "\n;", &save); line; line = strtok_r(NULL, "\n;", &save)) {
		if ((hash = strchr(line, '#')))
			*hash = 0;
		while (*line == ' ' || *line == '\t')
			line++;
		for (k = (int)strlen(line); k > 0 && (line[k - 1] == ' ' || line[k - 1] == '\t' || line[k - 1] == '\r'); k--)
			line[k - 1] = 0;
		if (!*line)
			continue;
		if (*line == '@') {
			while (*++line == ' ')
				;
			if ((k = file(m + n, max - n, line, depth)) < 0)
				goto bad;
			n += (unsigned)k;
			continue;
		}
		if (n == max) {
			fail(EXIT_REFUSED, "more than %u builders", max);
			goto bad;
		}
		if (one(&m[n], line) < 0)
			goto bad;
		n++;
	}
	free(copy);
	return (int)n;
bad:
	free(copy);
	return -1;
}

int machines_builders(char *out, size_t max)
{
	char line[BUILDERS_MAX + 64];
	FILE *p = popen("nix show-config 2>/dev/null", "re");
	int found = 0;

	if (!p)
		return fail_sys("running nix show-config");
	out[0] = 0;
	while (fgets(line, sizeof line, p))
		if (!strncmp(line, "builders = ", 11)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, max, "%s", line + 11);
			found = 1;
		}
	if (pclose(p) != 0 || !found)
		return fail(EXIT_SYSTEM, "nix show-config did not print the builders setting");
	return 0;
}
