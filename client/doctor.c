#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemonhook.h"
#include "doctor.h"
#include "err.h"
#include "ping.h"
#include "words.h"

#define PROBLEMS_MAX 16
/* room for a ping's cause, or the daemon's hooks and nix.conf path */
#define DOCTOR_TEXT (3 * DAEMONHOOK_TEXT + PATH_MAX)

struct report {
	unsigned n;
	char cause[PROBLEMS_MAX][DOCTOR_TEXT], fix[PROBLEMS_MAX][DOCTOR_TEXT];
};

static void problem(struct report *r, const char *fix, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(struct report *r, const char *fix, const char *fmt, ...)
{
	va_list ap;

	if (r->n == PROBLEMS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(r->cause[r->n], sizeof r->cause[r->n], fmt, ap);
	va_end(ap);
	snprintf(r->fix[r->n], sizeof r->fix[r->n], "%s", fix);
	r->n++;
}

/* Each word of promised that the host's list (or "any") does not allow. */
static void promised(struct report *r, const char *what, const char *promised, const char *allowed, const char *key)
{
	const char *p = promised;

	if (!allowed || !strcmp(allowed, "any"))
		return;
	while (*p) {
		size_t k;

		while (*p == ' ')
			p++;
		if (!(k = strcspn(p, " ")))
			break;
		if (!words_has(allowed, p, k, 0))
			problem(r, "change the builder entry, or the key's policy on the host",
				"the entry promises %s %.*s, but the host's policy for key %s allows only: %s", what,
				(int)k, p, key, allowed);
		p += k;
	}
}

static void key_file(struct report *r, const char *path)
{
	struct stat st;

	if (!path[0])
		return;
	if (stat(path, &st) < 0 || access(path, R_OK) < 0)
		problem(r, "fix the key path in the builder entry, or make the file readable by root",
			"the ssh key file %s cannot be read", path);
	else if (st.st_mode & 077)
		problem(r, "chmod 600 the key file", "the ssh key file %s is open to others (mode %03o), so ssh ignores it",
			path, (unsigned)(st.st_mode & 0777));
}

static void problems_json(FILE *o, const struct report *r)
{
	unsigned i;

	fprintf(o, "\"ok\":%s,\"problems\":[", r->n ? "false" : "true");
	for (i = 0; i < r->n; i++) {
		fprintf(o, "%s{\"cause\":", i ? "," : "");
		json_str(o, r->cause[i]);
		fprintf(o, ",\"fix\":");
		json_str(o, r->fix[i]);
		fputc('}', o);
	}
	fputc(']', o);
}

static void emit(FILE *o, const struct machine *m, const struct ping *p, const struct report *r, int hooked, int json,
		 int *first)
{
	unsigned i;

	if (json) {
		fprintf(o, "%s{\"uri\":", *first ? "" : ",");
		json_str(o, m->uri.text);
		fputc(',', o);
		problems_json(o, r);
		fputc('}', o);
	} else if (!r->n) {
		int trusted = !strcmp(ping_info(p, "trusted") ? ping_info(p, "trusted") : "", "true");

		fprintf(o, "%s: ok (%s%s%s%s%s)\n", m->uri.text, p->nixgate ? "nixgate-serve, key " : "nix-store --serve",
			p->nixgate ? ping_info(p, "key") : "", p->nixgate && trusted ? ", trusted" : "",
			p->nixgate && !trusted && hooked ? ", through nixgate's build hook" : "",
			p->nixgate ? "" : ", no per-key policy");
	} else
		for (i = 0; i < r->n; i++)
			fprintf(o, "%s: problem: %s; fix: %s\n", m->uri.text, r->cause[i], r->fix[i]);
	*first = 0;
}

/* hooked: the local daemon runs nixgate's hook, which builds through keys
 * that are not trusted */
static int check(FILE *o, const struct machine *m, struct ping *p, int hooked, int json, int *first)
{
	static struct report r;
	const char *key;
	char feats[2 * MACHINE_LIST_MAX + 2];

	memset(&r, 0, sizeof r);
	key_file(&r, m->uri.key);
	if (!p->usable) {
		if (!r.n)
			problem(&r, p->fix, "%s", p->cause);
	} else if (p->nixgate) {
		key = ping_info(p, "key") ? ping_info(p, "key") : "?";
		promised(&r, "system", m->systems, ping_info(p, "systems"), key);
		snprintf(feats, sizeof feats, "%s %s", m->supported, m->mandatory);
		promised(&r, "feature", feats, ping_info(p, "features"), key);
		if (ping_info(p, "trusted") && strcmp(ping_info(p, "trusted"), "true") && !hooked)
			problem(&r, "use nixgate as the build hook, or make the key trusted (--trusted) on the host",
				"key %s is not trusted on the host: Nix's stock remote builds of input-addressed "
				"derivations will be refused", key);
		if (ping_info(p, "allow") && !strstr(ping_info(p, "allow"), "build"))
			problem(&r, "add build to the key's allow setting on the host",
				"key %s may not build on the host (allow: %s)", key, ping_info(p, "allow"));
	}
	emit(o, m, p, &r, hooked, json, first);
	return (int)r.n;
}

int doctor_run(FILE *o, const struct machine *m, unsigned n, const struct daemon_hook *h, int json)
{
	static struct ping p[MACHINES_MAX];
	struct ping *pp[MACHINES_MAX] = {0};
	const struct store_uri *u[MACHINES_MAX] = {0};
	int bad = 0, first = 1;
	unsigned i;

	for (i = 0; i < n && i < MACHINES_MAX; i++) {
		pp[i] = &p[i];
		u[i] = &m[i].uri;
	}
	n = i;
	/* all at once: a host that does not answer costs its deadline once
	 * (a failure to run a check is in that host's cause) */
	ping_all(pp, u, n, 0);
	err_clear();
	for (i = 0; i < n; i++) {
		bad += check(o, &m[i], &p[i], h->known && h->nixgate, json, &first) > 0;
		ping_free(&p[i]);
	}
	return bad;
}

int doctor_daemon(FILE *o, const struct daemon_hook *h, int json)
{
	static struct report r;
	const char *v = h->version[0] ? h->version : "?";
	char fix[DOCTOR_TEXT];

	memset(&r, 0, sizeof r);
	/* The documented set-up (build-hook in nix.conf) that the daemon does
	 * not follow: Nix 2.26 resets build-hook after reading nix.conf, and
	 * only NIX_CONFIG or --option set it there. Nix's own hook then runs
	 * without a word, and builds through keys that are not trusted fail. */
	if (h->known && h->conf_nixgate && !h->nixgate) {
		snprintf(fix, sizeof fix,
			 "put NIX_CONFIG=\"build-hook = %s\" in the nix-daemon's environment "
			 "(systemd: systemctl edit nix-daemon, Environment=\"NIX_CONFIG=build-hook = %s\") and restart it",
			 h->configured, h->configured);
		if (h->env_hook[0])
			problem(&r, fix, "the nix-daemon (Nix %s) runs the build hook '%s', not nixgate's '%s' that %s sets: "
				"its environment's NIX_CONFIG sets build-hook = %s", v, h->effective, h->configured, h->conf,
				h->env_hook);
		else
			problem(&r, fix, "the nix-daemon (Nix %s) runs the build hook '%s', not nixgate's '%s' that %s sets: "
				"this Nix ignores build-hook in nix.conf", v, h->effective, h->configured, h->conf);
	}
	if (json) {
		fprintf(o, "{\"known\":%s", h->known ? "true" : "false");
		if (h->known) {
			fprintf(o, ",\"version\":");
			json_str(o, h->version);
			fprintf(o, ",\"build-hook\":");
			json_str(o, h->effective);
			fprintf(o, ",\"nixgate\":%s,", h->nixgate ? "true" : "false");
			problems_json(o, &r);
		} else {
			fprintf(o, ",\"why\":");
			json_str(o, h->why);
		}
		fputc('}', o);
	} else if (r.n)
		fprintf(o, "nix-daemon: problem: %s; fix: %s\n", r.cause[0], r.fix[0]);
	else if (h->known)
		fprintf(o, "nix-daemon: ok (Nix %s, build hook %s)\n", v, h->nixgate ? "nixgate" : h->effective);
	/* a daemon that answered but could not be looked at: said, not a
	 * problem (no daemon at all is a single-user Nix: nothing to say) */
	else if (h->answered)
		fprintf(o, "nix-daemon: cannot tell which build hook it runs: %s\n", h->why);
	return (int)r.n;
}
