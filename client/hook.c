#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aterm.h"
#include "choose.h"
#include "claim.h"
#include "daemon.h"
#include "drvhash.h"
#include "drvstore.h"
#include "err.h"
#include "hook.h"
#include "machines.h"
#include "nixlog.h"
#include "outputs.h"
#include "ping.h"
#include "realisation.h"
#include "remote.h"
#include "serveproto.h"
#include "ssh.h"
#include "steps.h"
#include "words.h"

#define SETTING_NAME_MAX 256
#define CLOSURE_MAX 65536
#define HOST_KEYS_MAX 32   /* a policy holds as many (POLICY_KEYS_MAX) */
#define LOG_FD HOOK_LOG_FD

static char builders[BUILDERS_MAX + 1], this_system[64] = "x86_64-linux", state_dir[1024] = "/nix/var/nix";
/* what this machine builds itself, for when every builder is full */
static char extra_platforms[MACHINE_LIST_MAX + 1], system_features[MACHINE_LIST_MAX + 1];
static struct machine machines[MACHINES_MAX];
static struct ping pings[MACHINES_MAX];

/* The settings Nix's own hook passes to the host with each build; the
 * host's policy may cap them further. Names as the daemon gives them. */
static struct serve_opts opts;
static int use_substitutes;

static void build_setting(const char *name, const char *value)
{
	static const struct {
		const char *name;
		uint64_t *v;
	} nums[] = {
		{"max-silent-time", &opts.max_silent_time},
		{"timeout", &opts.build_timeout},
		{"max-build-log-size", &opts.max_log_size},
		{"repeat", &opts.repeats},
	};
	unsigned long long n;
	char *end;
	size_t i;

	for (i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (!strcmp(name, nums[i].name)) {
			errno = 0;
			n = strtoull(value, &end, 10);
			if (!errno && end != value && !*end)
				*nums[i].v = n;
			return;
		}
	if (!strcmp(name, "enforce-determinism"))
		opts.enforce_determinism = !strcmp(value, "true");
	else if (!strcmp(name, "keep-failed"))
		opts.keep_failed = !strcmp(value, "true");
	else if (!strcmp(name, "builders-use-substitutes"))
		use_substitutes = !strcmp(value, "true");
}

/* The daemon's settings: 1, name, value ... 0. */
static int read_settings(struct rd *in)
{
	char name[SETTING_NAME_MAX + 1];
	static char value[BUILDERS_MAX + 1];
	uint64_t more;

	for (;;) {
		if (rd_u64(in, &more) < 0)
			return -1;
		if (!more)
			return 0;
		if (rd_str(in, name, SETTING_NAME_MAX, NULL, "setting name") < 0 ||
		    rd_str_trunc(in, value, sizeof value, BUILDERS_MAX, NULL, "setting value") < 0)
			return -1;
		if (!strcmp(name, "builders"))
			strcpy(builders, value);
		else if (!strcmp(name, "system") && strlen(value) < sizeof this_system)
			strcpy(this_system, value);
		else if (!strcmp(name, "extra-platforms") && strlen(value) < sizeof extra_platforms)
			strcpy(extra_platforms, value);
		else if (!strcmp(name, "system-features") && strlen(value) < sizeof system_features)
			strcpy(system_features, value);
		else
			build_setting(name, value);
	}
}

/* Paths and their references, in an order where every reference comes
 * before the paths that refer to it; for a key that is not trusted, which
 * of them prove themselves to it (claim.h). */
struct graph {
	struct pathset all, order, proven;
	struct pathset *refs;   /* per index of all */
	size_t cap;
	const struct pubkey *keys;  /* NULL: a trusted key, nothing to prove */
	size_t nkeys;
};

static int proves(struct graph *g, const char *path, const struct pathinfo *in, struct pathset *refs)
{
	struct claim c = { path, in->ca, in->hash, in->nar_size, in->sigs, in->sigs_len };
	char why[768];
	int r;

	if (!g->keys || (r = claim_check(&c, refs, g->keys, g->nkeys, why, sizeof why)) == 1)
		return 0;
	return r < 0 ? -1 : pathset_add(&g->proven, path, strlen(path));
}

static int visit(struct graph *g, struct worker *d, const char *path, unsigned depth)
{
	static struct pathinfo in;
	size_t at, i;
	int r;

	if (depth > 4096)
		return fail(EXIT_SYSTEM, "references nest deeper than 4096");
	if ((r = pathset_insert(&g->all, path, strlen(path))) <= 0)
		return r;
	at = g->all.n - 1;
	if (at >= CLOSURE_MAX)
		return fail(EXIT_SYSTEM, "a closure of more than %u paths", CLOSURE_MAX);
	if (at >= g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 256;
		struct pathset *n = realloc(g->refs, cap * sizeof *n);

		if (!n)
			return fail(EXIT_SYSTEM, "out of memory");
		g->refs = n;
		g->cap = cap;
	}
	pathset_init(&g->refs[at]);
	if (local_info(d, path, &in, &g->refs[at]) < 0 || proves(g, path, &in, &g->refs[at]) < 0)
		return -1;
	for (i = 0; i < g->refs[at].n; i++) {
		char ref[STORE_PATH_MAX + 1];

		snprintf(ref, sizeof ref, "%s", pathset_get(&g->refs[at], i));
		if (strcmp(ref, path) && visit(g, d, ref, depth + 1) < 0)
			return -1;
	}
	return pathset_add(&g->order, path, strlen(path));
}

/* An input the host lacks is offered when it proves itself to the key and
 * the host has, or is sent first, all it refers to; otherwise the host
 * builds or substitutes it itself. */
static int offered(struct graph *g, const char *path, struct pathset *on_host)
{
	const struct pathset *refs;
	long at;
	size_t i;

	if (pathset_find(&g->proven, path, strlen(path)) < 0 || (at = pathset_find(&g->all, path, strlen(path))) < 0)
		return 0;
	refs = &g->refs[at];
	for (i = 0; i < refs->n; i++) {
		const char *r = pathset_get(refs, i);

		if (strcmp(r, path) && pathset_find(on_host, r, strlen(r)) < 0)
			return 0;
	}
	return 1;
}

/* The key's trusted-public-keys as NixgateInfo gives them. */
static size_t host_keys(const struct ping *pi, struct pubkey *keys, size_t max)
{
	const char *list = ping_info(pi, "trusted-public-keys"), *w;
	size_t n = 0, len;

	while (list && n < max && (w = words_next(&list, &len, 0)))
		if (pubkey_parse(&keys[n], w, len) == 0)
			n++;
	err_clear();
	return n;
}

/* BuildDerivation: the local .drv as a BasicDerivation, its sources
 * replaced by all its inputs. */
static int build_inline(struct remote *h, struct worker *local, const char *drv, const struct pathset *inputs,
			struct build_result *br)
{
	unsigned char *wire = NULL;
	size_t n, cap, i;
	struct wr w;
	char *text;
	int r;

	if ((r = drv_text_from_daemon(local, drv, &text, &n)) < 0)
		return r == -2 ? fail(EXIT_SYSTEM, "the local daemon: %s", local->errmsg) : -1;
	/* a wire string costs at most 15 bytes more than its 2 quotes */
	cap = 8 * n + 65536;
	for (i = 0; i < inputs->n; i++)
		cap += strlen(pathset_get(inputs, i)) + 16;
	if (!(wire = malloc(cap)))
		r = fail(EXIT_SYSTEM, "out of memory for a derivation");
	else {
		wr_init_mem(&w, wire, cap);
		r = aterm_basic(&w, text, n, inputs);
		if (r == 0)
			r = remote_build_inline(h, drv, wire, w.len, br);
	}
	free(wire);
	free(text);
	return r;
}

/* Whether every output is floating content-addressed: a path known only
 * once built, which the host's realisation then gives. */
static int floating(const struct drvinfo *f)
{
	unsigned i;

	for (i = 0; i < f->nout; i++)
		if (f->out[i].path[0] || !f->out[i].algo[0] || f->out[i].hash[0])
			return 0;
	return f->nout > 0;
}

static int fetch_local(void *ctx, const char *path, char **text, size_t *len)
{
	int r = drv_text_from_daemon(ctx, path, text, len);

	return r == -2 ? 1 : r;
}

/* The host's Realisation of output name with this store's id, as JSON:
 * serve 2.8 keys built outputs by name, with the path only (its
 * signatures are over a fingerprint this store's daemon does not use). */
static int host_realisation(const struct build_result *br, const char *id, const char *name, char *json, size_t cap)
{
	size_t j, k = 0;

	for (j = 0; j < br->nouts; j++) {
		const char *key = pathset_get(&br->outs, k), *val = pathset_get(&br->outs, k + 1);

		if (!br->out_paths && !strcmp(key, id)) {
			snprintf(json, cap, "%s", val);
			return 0;
		}
		if (br->out_paths && !strcmp(key, name)) {
			/* outPath is a base name in every Realisation Nix reads */
			snprintf(json, cap, "{\"id\":\"%s\",\"outPath\":\"%s\",\"signatures\":[],\"dependentRealisations\":{}}",
				 id, val + sizeof STORE_DIR);
			return 0;
		}
		k += 2 + (br->out_paths ? br->nsigs[j] : 0);
	}
	return -1;
}

/* The outputs of a floating content-addressed derivation, by the built
 * outputs of the host's BuildResult (DrvOutput id -> Realisation up to
 * serve 2.7, output name -> path from 2.8), as Nix's own hook takes them:
 * each wanted output the local store has no realisation of is copied back
 * (unless valid here already) and its realisation registered, which is
 * what the goal then looks for. The ids are this store's, computed here:
 * the host's answer counts only for them. */
static int realise(struct remote *h, struct worker *local, const char *drv, const struct drvinfo *f,
		   const char *wanted, const struct build_result *br, size_t *copied)
{
	static struct realisation re;
	static char json[REALISATION_MAX + 1];
	unsigned char hm[SHA256_BYTES];
	char id[DRV_OUTPUT_ID_MAX + 1], have[STORE_PATH_MAX + 1], why[768], *text;
	size_t n, i;
	int r;

	if (!(serve_result_fields(h->minor) & (BR_OUTPUT_IDS | BR_OUTPUT_PATHS)))
		return fail(EXIT_SYSTEM, "the host speaks serve protocol 2.%u, whose build results do not give the "
			    "realisations of floating content-addressed outputs (2.6 and later do)", h->minor);
	if ((r = drv_text_from_daemon(local, drv, &text, &n)) < 0)
		return r == -2 ? fail(EXIT_SYSTEM, "the local daemon: %s", local->errmsg) : -1;
	r = drv_output_hash(drv, text, n, fetch_local, local, DRVTEXT_CA_FLOATING, hm, why, sizeof why);
	free(text);
	if (r)
		return r < 0 ? -1 : fail(EXIT_SYSTEM, "the output ids of %s: %s", drv, why);
	for (i = 0; i < f->nout; i++) {
		if (wanted[0] && !list_has(wanted, f->out[i].name))
			continue;
		drv_output_id(id, hm, f->out[i].name);
		if ((r = daemon_query_realisation(local, id, have)) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		if (host_realisation(br, id, f->out[i].name, json, sizeof json) < 0)
			return fail(EXIT_SYSTEM, "the host built %s but gave no realisation of its output %s (%s)", drv,
				    f->out[i].name, id);
		if (realisation_parse(&re, json, strlen(json)) < 0)
			return -1;
		if (strcmp(re.id, id))
			return fail(EXIT_SYSTEM, "the host's realisation of %s is for %s", id, re.id);
		if ((r = daemon_is_valid(local, re.out_path)) < 0)
			return -1;
		if (!r && outputs_add(h, local, re.out_path) < 0)
			return -1;
		*copied += !r;
		if (daemon_register_drv_output(local, &re, json, strlen(json)) < 0)
			return -1;
	}
	return 0;
}

static struct drvinfo f;
static struct worker local;
static struct pathset outs;
static int ahead;

/* While the host builds: the processes that take the outputs back started,
 * their start then costs nothing; but only for a build that starts alone
 * (no other slot of its builder busy here), as builds that start together
 * would wait for that CPU. */
static int start_outputs(void *ctx)
{
	(void)ctx;
	return floating(&f) ? 0 : outputs_start(&local, &outs);
}

/* What needs only this machine, before the host is asked (choose_ask): the
 * derivation, and which outputs the goal wants. */
static int prepare(const char *drv, const char *wanted)
{
	const char *sock = getenv("NIX_DAEMON_SOCKET_PATH");
	size_t i;
	int r;

	local.logfd = -1;
	if (worker_connect(&local, sock && *sock ? sock : DEFAULT_DAEMON_SOCKET) < 0 || worker_handshake(&local) < 0)
		return -1;
	if ((r = drv_from_daemon(&local, drv, &f)) < 0)
		return r == -2 ? fail(EXIT_SYSTEM, "the local daemon: %s", local.errmsg) : -1;
	for (i = 0; i < f.nout; i++)
		if (f.out[i].path[0] && (!wanted[0] || list_has(wanted, f.out[i].name)) &&
		    pathset_add(&outs, f.out[i].path, strlen(f.out[i].path)) < 0)
			return -1;
	return 0;
}

struct prep {
	const char *drv, *wanted;
	int ok, kind;
	char why[1024];     /* its error: the ask that runs it clears errors */
};

static void prepared(void *ctx)
{
	struct prep *pj = ctx;

	pj->ok = prepare(pj->drv, pj->wanted) == 0;
	steps_mark("prepare");
	if (!pj->ok) {
		pj->kind = err_kind();
		snprintf(pj->why, sizeof pj->why, "%s", err_msg());
	}
}

static int build(const struct machine *m, const struct ping *pi, const char *drv, const struct pathset *inputs,
		 const char *wanted)
{
	static struct graph g;
	static struct pathset valid, req;
	static struct remote h;
	static struct build_result br;
	static struct pubkey keys[HOST_KEYS_MAX];
	int trusted = !pi->nixgate || !strcmp(ping_info(pi, "trusted") ? ping_info(pi, "trusted") : "", "true");
	char spec[PATH_OUTPUTS_MAX + 1], msg[sizeof br.msg], first[STORE_PATH_MAX + 1] = "";
	size_t i, added = 0, left = 0, need = 0;
	int upload, r, ca, sent;

	/* A trusted key gets the inputs and the derivation inline, as from
	 * Nix's own hook; so does any key for a floating content-addressed
	 * derivation, whose outputs the host computes (and the host's nixgate
	 * takes inline from any key), and whose realisations only the inline
	 * build's result gives. Otherwise the .drv closure, content-addressed,
	 * which any key may add, and the host derives the outputs itself. */
	ca = floating(&f);
	sent = trusted || ca;
	if (!trusted) {
		g.keys = keys;
		g.nkeys = host_keys(pi, keys, HOST_KEYS_MAX);
	}
	if (!sent) {
		if (visit(&g, &local, drv, 0) < 0)
			return -1;
		need = g.order.n;
	}
	for (i = 0; i < inputs->n; i++)
		if (visit(&g, &local, pathset_get(inputs, i), 0) < 0)
			return -1;
	steps_mark("closure");
	h.opts = opts;
	h.substitute = use_substitutes;
	h.sent = ahead ? start_outputs : NULL;
	if (remote_open(&h, &m->uri, LOG_FD) < 0)
		return -1;
	steps_mark("open");
	/* one copy to a host at a time, Nix's hook's lock as well: another
	 * hook's copy of the same inputs is then there when this one asks */
	upload = upload_lock(state_dir, m, LOG_FD);
	if (remote_valid(&h, &g.order, &valid) < 0)
		return -1;
	for (i = 0; i < g.order.n; i++) {
		const char *p = pathset_get(&g.order, i);

		if (pathset_find(&valid, p, strlen(p)) >= 0)
			continue;
		/* the .drv closure must go; past it, only what the host will take */
		if (!trusted && i >= need && !offered(&g, p, &valid)) {
			if (!left++)
				snprintf(first, sizeof first, "%s", p);
			continue;
		}
		if (remote_add(&h, &local, p) < 0 || pathset_insert(&valid, p, strlen(p)) < 0)
			return -1;
		added++;
	}
	if (upload >= 0)
		close(upload);
	steps_mark("upload");
	/* built inline, the host has no .drv to build them from */
	if (sent && left)
		return fail(EXIT_SYSTEM, "%zu inputs of %s are not on %s, and key %s cannot send them: they are neither "
			    "content-addressed nor signed by a key it trusts (%s%s)", left, drv, m->uri.text,
			    ping_info(pi, "key") ? ping_info(pi, "key") : "", first, left > 1 ? ", ..." : "");
	nix_say("nixgate: %s on %s (%s key%s%s): %zu paths copied, %zu inputs left to the host, building %s", drv,
	    m->uri.text, trusted ? "trusted" : "untrusted", pi->nixgate ? " " : "",
	    pi->nixgate ? ping_info(pi, "key") : "", added, left,
	    sent ? "the derivation sent inline" : "the .drv there");
	if (sent) {
		r = build_inline(&h, &local, drv, inputs, &br);
		snprintf(msg, sizeof msg, "%s", br.msg);
	} else {
		snprintf(spec, sizeof spec, "%s!%s", drv, wanted[0] ? wanted : "*");
		pathset_add(&req, spec, strlen(spec));
		r = remote_build(&h, &req, msg, sizeof msg);
	}
	steps_mark("build");
	if (r != 0)
		return r < 0 ? -1 : fail(EXIT_SYSTEM, "%s", msg);
	if (ca) {
		added = 0;
		if (realise(&h, &local, drv, &f, wanted, &br, &added) < 0)
			return -1;
		nix_say("nixgate: %zu outputs copied back from %s, their realisations registered", added, m->uri.text);
		remote_close(&h);
		steps_mark("outputs");
		return 0;
	}
	if ((!ahead && start_outputs(NULL) < 0) || outputs_finish(&h, &local, &added) < 0)
		return -1;
	nix_say("nixgate: %zu outputs copied back from %s", added, m->uri.text);
	remote_close(&h);
	steps_mark("outputs");
	return 0;
}

/* Whether this machine would build it itself, were the hook to decline. */
static int local_ok(uint64_t willing, const char *system, char feats[][INFO_NAME_MAX + 1], unsigned nfeat)
{
	unsigned i;

	if (!willing || (strcmp(system, this_system) && !list_has(extra_platforms, system)))
		return 0;
	for (i = 0; i < nfeat; i++)
		if (!list_has(system_features, feats[i]))
			return 0;
	return 1;
}

int hook_main(int argc, char **argv)
{
	static unsigned char inbuf[WIRE_BUFSZ];
	static struct pathset inputs;
	char tok[16], system[64], drv[STORE_PATH_MAX + 1], feats[FEATURES_MAX][INFO_NAME_MAX + 1], wanted[4096];
	uint64_t willing, n, i;
	struct chooser ch = { machines, pings, 0, this_system, state_dir, -1 };
	static struct prep pj;
	struct rd in;
	int nm, pick, ok;

	/* a host or a nix-store child that dies is an error to report, not a signal */
	signal(SIGPIPE, SIG_IGN);
	if (getenv("NIX_STATE_DIR"))
		snprintf(state_dir, sizeof state_dir, "%s", getenv("NIX_STATE_DIR"));
	rd_init_fd(&in, 0, inbuf, sizeof inbuf, EXIT_SYSTEM, "nix-daemon");
	if (read_settings(&in) < 0)
		goto bad;
	if ((nm = machines_parse(machines, MACHINES_MAX, builders, 0)) < 0)
		goto bad;
	if (nm == 0) {
		fprintf(stderr, "# decline-permanently\n");
		return 0;
	}
	if (ssh_warm_env() < 0) {
		nix_msg(NIX_WARN, "nixgate: no warm connections to builders: %s", err_msg());
		err_clear();
	}
	for (;;) {
		if (rd_at_eof(&in) || rd_str(&in, tok, sizeof tok - 1, NULL, "request") < 0 || strcmp(tok, "try"))
			return 0;
		if (rd_u64(&in, &willing) < 0 || rd_str(&in, system, sizeof system - 1, NULL, "system") < 0 ||
		    storepath_read(&in, drv, 0, "derivation") < 0 ||
		    rd_count(&in, &n, FEATURES_MAX, "required features") < 0)
			goto bad;
		for (i = 0; i < n; i++)
			if (rd_str(&in, feats[i], INFO_NAME_MAX, NULL, "feature") < 0)
				goto bad;
		steps_start();
		ch.n = (unsigned)nm;
		pick = choose(&ch, system, feats, (unsigned)n);
		steps_mark("choose");
		/* as Nix's own hook: a full farm waits, unless this machine may
		 * build it itself */
		if (pick == -2 && !local_ok(willing, system, feats, (unsigned)n)) {
			nix_msg(NIX_INFO, "nixgate: every builder for %s has all its build slots in use; postponing %s",
				system, drv);
			fprintf(stderr, "# postpone\n");
			continue;
		}
		if (pick < 0) {
			/* Nix's own words after this would not name the builders */
			if (pick == -1 && !local_ok(willing, system, feats, (unsigned)n))
				nix_msg(NIX_WARN, "nixgate: none of the %d builders can take %s (system %s%s%s)", nm, drv,
					system, n ? ", features " : "", n ? features_text(feats, (unsigned)n) : "");
			fprintf(stderr, "# decline\n");
			continue;
		}
		fprintf(stderr, "# accept\n%s\n", machines[pick].uri.text);
		if (pathset_read(&inputs, &in, "inputs") < 0 || rd_count(&in, &n, FEATURES_MAX, "outputs") < 0)
			goto bad;
		wanted[0] = 0;
		for (i = 0; i < n; i++) {
			char o[STORE_NAME_MAX + 1];

			if (rd_str(&in, o, STORE_NAME_MAX, NULL, "output name") < 0)
				goto bad;
			snprintf(wanted + strlen(wanted), sizeof wanted - strlen(wanted), "%s%s", i ? "," : "", o);
		}
		steps_mark("accept");
		ahead = !ch.busy;
		/* the build goes over the session the choice opened, or opens
		 * now, this machine's part done while it starts */
		pj.drv = drv;
		pj.wanted = wanted;
		if (!ch.ask) {
			prepared(&pj);
			ok = pj.ok;
		} else if ((ok = choose_ask(&ch, pick, prepared, &pj) == 0) && !pj.ok)
			ok = fail(pj.kind, "%s", pj.why) == 0;
		steps_mark("ask");
		if (ok && pings[pick].kept) {
			remote_park(&machines[pick].uri, &pings[pick].conn, pings[pick].minor);
			pings[pick].kept = 0;
		}
		if (!ok || build(&machines[pick], &pings[pick], drv, &inputs, wanted) < 0) {
			const char *k = ping_info(&pings[pick], "key");

			/* the build log is what nix-build shows of a failed build */
			nix_say("nixgate: build of %s on %s%s%s%s failed: %s", drv, machines[pick].uri.text,
			    k ? " (key " : "", k ? k : "", k ? ")" : "", err_msg());
			outputs_abort();
			return 1;
		}
		if (getenv("NIXGATE_HOOK_TIMES"))
			nix_say("nixgate: step times (ms): %s", steps_text());
		return 0;
	}
bad:
	fprintf(stderr, "nixgate: build hook: %s\n", err_msg());
	return 1;
}
