// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluicectl --cluster ENDPOINTS: the same backend and box commands, on the
 * fleet's desired state in etcd (desired.h) instead of one sluiced. Every
 * change is a compare-and-swap of PREFIX/desired (a concurrent edit makes
 * it read again and retry), so a revision is always one whole document.
 * Reading commands join that document with the boxes' reports.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "desired.h"
#include "etcd.h"
#include "guard.h"
#include "json_get.h"

#define FLEET_DEFAULT_PREFIX "/sluice"
#define FLEET_CAS_TRIES 20
#define FLEET_DRAIN_DEFAULT_MS (5ULL * 60 * 1000) /* as drain.timeout */

static const char *const args_vip_addr[] = { "VIP", "ADDR" };
static const char *const args_vip[] = { "VIP" };
static const char *const args_box[] = { "BOX" };

/* One field of a JSON reply (json-c's add takes the new value's reference). */
static void add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static void add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static void add_bool(json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

int sl_cli_fleet_check_endpoints(const char *list, char *err, size_t errlen)
{
	struct sl_etcd_opts o;

	return sl_etcd_parse_endpoints(list, &o, err, errlen) ? -EINVAL : 0;
}

static const char *prefix_of(const struct sl_cli_cmd *cmd)
{
	return cmd->prefix ? cmd->prefix : FLEET_DEFAULT_PREFIX;
}

static int open_etcd(const struct sl_cli_cmd *cmd, struct sl_etcd *e)
{
	struct sl_etcd_opts o;
	char err[256];
	const char *v;

	memset(&o, 0, sizeof(o));
	if (sl_etcd_parse_endpoints(cmd->cluster, &o, err, sizeof(err)))
		return -EINVAL;
	/* etcdctl's own variables, so one environment serves both tools. */
	if ((v = getenv("ETCDCTL_CACERT")))
		snprintf(o.ca_file, sizeof(o.ca_file), "%s", v);
	if ((v = getenv("ETCDCTL_CERT")))
		snprintf(o.cert_file, sizeof(o.cert_file), "%s", v);
	if ((v = getenv("ETCDCTL_KEY")))
		snprintf(o.key_file, sizeof(o.key_file), "%s", v);
	if ((v = getenv("ETCDCTL_USER"))) {
		const char *colon = strchr(v, ':');

		snprintf(o.username, sizeof(o.username), "%.*s",
			 (int)(colon ? colon - v : (long)strlen(v)), v);
		if (colon)
			snprintf(o.password, sizeof(o.password), "%s",
				 colon + 1);
	}
	return sl_etcd_init(e, &o);
}

/* What to do about a failed fleet command, by its -errno. */
static const char *hint_for(int rc)
{
	switch (rc) {
	case -EPERM:
		return "add --force to do it anyway";
	case -EACCES:
		return "check ETCDCTL_USER=name:password and the user's role: read-write on "
		       "PREFIX/desired, read on PREFIX/boxes/ (README, \"Running a fleet\")";
	case -ENOKEY:
		return "check ETCDCTL_CACERT (the CA that signed etcd's certificate) and "
		       "ETCDCTL_CERT/ETCDCTL_KEY (a client certificate etcd trusts)";
	case -EIO:
		return "is etcd running, and are the endpoints right?";
	case -EINVAL:
		return "fix PREFIX/desired (etcdctl put), then retry";
	case -ESTALE:
		return "put the document back (etcdctl put PREFIX/desired ...), or empty "
		       "the fleet on purpose: etcdctl put PREFIX/desired '{\"vips\": []}'";
	default:
		return NULL;
	}
}

/* A failed command's exit: credentials and TLS have their own code. */
static int fail_exit(int rc)
{
	return rc == -EACCES || rc == -ENOKEY ? SL_CLI_EXIT_AUTH :
						SL_CLI_EXIT_FAIL;
}

/* The document now (an absent key is an empty fleet, mod revision 0). */
static int read_doc(struct sl_etcd *e, const char *prefix, struct sl_desired *d,
		    int64_t *mod_rev, char *err, size_t errlen)
{
	char key[SL_DESIRED_KEY_MAX], *val = NULL;
	int64_t rev;
	size_t len;
	int rc;

	sl_desired_key(prefix, key, sizeof(key));
	rc = sl_etcd_get(e, key, &val, &len, mod_rev, &rev);
	if (rc == -ENOENT) {
		*mod_rev = 0;
		return sl_desired_parse("{\"vips\": []}", 12, NULL, d, err,
					errlen);
	}
	if (rc) {
		snprintf(err, errlen, "%s", e->err);
		return rc;
	}
	rc = sl_desired_parse(val, len, NULL, d, err, errlen);
	free(val);
	return rc;
}

/* ---- the boxes' reports ------------------------------------------------- */

/* [{box report}, ...] from PREFIX/boxes/; NULL with @err and *rc on failure. */
static json_object *read_reports(const struct sl_cli_cmd *cmd,
				 struct sl_etcd *e, char *err, size_t errlen,
				 int *rc)
{
	char key[SL_DESIRED_KEY_MAX];
	json_object *kvs, *out;
	int64_t rev;
	size_t i;

	sl_desired_boxes_key(prefix_of(cmd), key, sizeof(key));
	*rc = sl_etcd_get_prefix(e, key, &kvs, &rev);
	if (*rc) {
		snprintf(err, errlen, "%s", e->err);
		return NULL;
	}
	out = json_object_new_array();
	for (i = 0; i < json_object_array_length(kvs); i++) {
		json_object *kv = json_object_array_get_idx(kvs, i), *v;

		v = json_tokener_parse(json_object_get_string(
			json_object_object_get(kv, "value")));
		if (v)
			json_object_array_add(out, v);
	}
	json_object_put(kvs);
	return out;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
		       json_object_get_string(v) :
		       "";
}

/* ---- changes ------------------------------------------------------------ */

struct target {
	struct sl_vip_spec vip;
	struct sluice_addr addr;
	__u8 family;
};

/* ADDR may be a backend's name: resolve it in the document. */
static int resolve(const struct sl_cli_cmd *cmd, const struct sl_desired *d,
		   const struct sl_vip *v, struct target *t, char *err,
		   size_t errlen)
{
	const struct sl_be *b;

	if (!sl_parse_addr(cmd->backend, &t->addr, &t->family))
		return 0;
	b = v ? sl_vip_find_be_by_name(v, cmd->backend) : NULL;
	for (size_t i = 0; !b && !v && i < d->st.n_vips; i++)
		b = sl_vip_find_be_by_name(&d->st.vips[i], cmd->backend);
	if (!b) {
		snprintf(err, errlen, "no backend is called \"%s\"",
			 cmd->backend);
		return -ENOENT;
	}
	t->addr = b->addr;
	t->family = b->family;
	return 0;
}

typedef int (*edit_fn)(const struct sl_cli_cmd *cmd, struct sl_desired *d,
		       const struct target *t, char *err, size_t errlen);

static int set_state(struct sl_state *st, const struct sl_vip_spec *spec,
		     const struct target *t, const struct sl_cli_cmd *cmd,
		     bool drain, char *err, size_t errlen)
{
	struct sl_vip *v = sl_state_find_vip(st, spec);
	struct sl_be *b = v ? sl_vip_find_be(v, &t->addr, t->family) : NULL;

	if (!b) {
		snprintf(err, errlen, "no such backend");
		return -ENOENT;
	}
	if (drain && !cmd->force && b->state == SL_BE_ACTIVE &&
	    sl_guard_last_active(v, &t->addr, t->family, err, errlen))
		return -EPERM;
	b->state = drain ? SL_BE_DRAINING : SL_BE_ACTIVE;
	return 0;
}

/* Drain or undrain on the VIP given, or on every VIP that has the backend. */
static int edit_drain_common(const struct sl_cli_cmd *cmd, struct sl_desired *d,
			     const struct target *t, bool drain, char *err,
			     size_t errlen)
{
	size_t i, hits = 0;
	int rc;

	if (cmd->vip[0])
		return set_state(&d->st, &t->vip, t, cmd, drain, err, errlen);
	for (i = 0; i < d->st.n_vips; i++) {
		if (!sl_vip_find_be(&d->st.vips[i], &t->addr, t->family))
			continue;
		rc = set_state(&d->st, &d->st.vips[i].spec, t, cmd, drain, err,
			       errlen);
		if (rc)
			return rc;
		hits++;
	}
	if (!hits) {
		snprintf(err, errlen, "no VIP has this backend");
		return -ENOENT;
	}
	return 0;
}

static int edit_drain(const struct sl_cli_cmd *cmd, struct sl_desired *d,
		      const struct target *t, char *err, size_t errlen)
{
	return edit_drain_common(cmd, d, t, true, err, errlen);
}

static int edit_undrain(const struct sl_cli_cmd *cmd, struct sl_desired *d,
			const struct target *t, char *err, size_t errlen)
{
	return edit_drain_common(cmd, d, t, false, err, errlen);
}

static int edit_add(const struct sl_cli_cmd *cmd, struct sl_desired *d,
		    const struct target *t, char *err, size_t errlen)
{
	int rc = 0;

	if (!sl_state_find_vip(&d->st, &t->vip))
		rc = sl_state_vip_add(&d->st, &t->vip, err, errlen);
	if (!rc)
		rc = sl_state_be_add(&d->st, &t->vip, &t->addr, t->family,
				     cmd->has_weight ? cmd->weight : 100, err,
				     errlen);
	if (!rc && cmd->name[0])
		rc = sl_state_be_set_name(&d->st, &t->vip, &t->addr, t->family,
					  cmd->name, err, errlen);
	return rc;
}

static int edit_del(const struct sl_cli_cmd *cmd, struct sl_desired *d,
		    const struct target *t, char *err, size_t errlen)
{
	const struct sl_vip *v = sl_state_find_vip(&d->st, &t->vip);

	if (v && !cmd->force &&
	    sl_guard_last_active(v, &t->addr, t->family, err, errlen))
		return -EPERM;
	return sl_state_be_del(&d->st, &t->vip, &t->addr, t->family, err,
			       errlen);
}

static int edit_set(const struct sl_cli_cmd *cmd, struct sl_desired *d,
		    const struct target *t, char *err, size_t errlen)
{
	__u32 old;

	return sl_state_be_set_weight(&d->st, &t->vip, &t->addr, t->family,
				      cmd->weight, &old, err, errlen);
}

static int edit_box(const struct sl_cli_cmd *cmd, struct sl_desired *d,
		    const struct target *t, char *err, size_t errlen)
{
	(void)t;
	if (sl_desired_set_box_drained(d, cmd->box,
				       !strcmp(cmd->verb->verb, "drain"))) {
		snprintf(err, errlen, "at most %d boxes can be drained",
			 SL_DESIRED_MAX_BOXES);
		return -ENOSPC;
	}
	return 0;
}

/* A check of one box's report: 0, or -errno with @err. */
typedef int (*report_check)(const struct sl_cli_cmd *cmd, json_object *rep,
			    const void *arg, char *err, size_t errlen);

/* @check on every live box's report, up to the first that fails. */
static int each_report(const struct sl_cli_cmd *cmd, struct sl_etcd *e,
		       report_check check, const void *arg, char *err,
		       size_t errlen)
{
	json_object *reps;
	size_t i;
	int rc;

	reps = read_reports(cmd, e, err, errlen, &rc);
	if (!reps)
		return rc;
	for (i = 0; !rc && i < json_object_array_length(reps); i++)
		rc = check(cmd, json_object_array_get_idx(reps, i), arg, err,
			   errlen);
	json_object_put(reps);
	return rc;
}

/*
 * PREFIX/desired is absent. On a new fleet that is an empty document to
 * start from; once a box has applied a revision, the key was deleted, and
 * a change built from nothing would empty every box (the boxes refuse the
 * delete itself, README "Failure modes"). -ESTALE then, with @err.
 */
static int applied_nothing(const struct sl_cli_cmd *cmd, json_object *rep,
			   const void *arg, char *err, size_t errlen)
{
	int64_t rev = sl_json_i64(rep, "applied_revision");

	(void)arg;
	if (rev <= 0)
		return 0;
	snprintf(err, errlen,
		 "%s/desired is absent, yet box %s applies revision %lld "
		 "of it: it was deleted; refusing a change built from "
		 "nothing, which would empty the fleet",
		 prefix_of(cmd), jstr(rep, "box"), (long long)rev);
	return -ESTALE;
}

/*
 * An added backend must fit every live box's Maglev table: a document one
 * box cannot hold is refused whole by that box, and every later change
 * built on it too, until someone removes a backend. Boxes whose report
 * predates the size are not checked (they refuse it themselves).
 */
static int box_fits(const struct sl_cli_cmd *cmd, json_object *rep,
		    const void *arg, char *err, size_t errlen)
{
	int64_t size = sl_json_i64(rep, "maglev_table_size");
	char why[512];

	(void)cmd;
	if (size <= 0 || size > UINT32_MAX ||
	    !sl_state_check_table_size(arg, (__u32)size, why, sizeof(why)))
		return 0;
	snprintf(err, errlen,
		 "box %s would refuse it: %s; or remove a backend of the VIP "
		 "first",
		 jstr(rep, "box"), why);
	return -ENOSPC;
}

/*
 * Read, change, write back if nothing else wrote meanwhile. *rev: the
 * revision that holds the change (the current one when it changed nothing).
 */
static int edit(const struct sl_cli_cmd *cmd, struct sl_etcd *e, edit_fn fn,
		int64_t *rev, bool *changed, char *err, size_t errlen)
{
	char key[SL_DESIRED_KEY_MAX];
	struct sl_desired d;
	struct target t;
	json_object *before, *after;
	int64_t mod;
	int tries, rc = 0;

	sl_desired_key(prefix_of(cmd), key, sizeof(key));
	memset(&t, 0, sizeof(t));
	if (cmd->vip[0])
		sl_parse_vip(cmd->vip, &t.vip, NULL, 0);
	for (tries = 0; tries < FLEET_CAS_TRIES; tries++) {
		rc = read_doc(e, prefix_of(cmd), &d, &mod, err, errlen);
		if (rc)
			return rc;
		rc = mod ? 0 :
			   each_report(cmd, e, applied_nothing, NULL, err,
				       errlen);
		if (rc) {
			sl_state_free(&d.st);
			return rc;
		}
		before = sl_desired_format(&d);
		rc = cmd->backend[0] ?
			     resolve(cmd, &d,
				     cmd->vip[0] ?
					     sl_state_find_vip(&d.st, &t.vip) :
					     NULL,
				     &t, err, errlen) :
			     0;
		if (!rc)
			rc = fn(cmd, &d, &t, err, errlen);
		if (!rc && fn == edit_add)
			rc = each_report(cmd, e, box_fits, &d.st, err, errlen);
		after = rc ? NULL : sl_desired_format(&d);
		sl_state_free(&d.st);
		*changed = after && !json_object_equal(before, after);
		json_object_put(before);
		if (rc || !*changed) {
			json_object_put(after);
			*rev = mod;
			return rc;
		}
		rc = sl_etcd_put_if(
			e, key,
			json_object_to_json_string_ext(
				after, JSON_C_TO_STRING_PLAIN |
					       JSON_C_TO_STRING_NOSLASHESCAPE),
			0, mod, rev);
		json_object_put(after);
		if (rc != -EAGAIN)
			break;
	}
	if (rc)
		snprintf(err, errlen, "%s", e->err);
	return rc;
}

/* ---- the boxes' views ---------------------------------------------------- */

/*
 * One box's view of backend @addr (on @vip, or summed over every VIP when
 * @vip is ""): its flows, and whether it is drained there (or absent).
 */
static void box_backend(json_object *rep, const char *vip, const char *addr,
			int64_t *flows, bool *drained)
{
	json_object *vips, *bes;
	size_t i, j;

	*flows = 0;
	*drained = true;
	if (!json_object_object_get_ex(rep, "vips", &vips))
		return;
	for (i = 0; i < json_object_array_length(vips); i++) {
		json_object *v = json_object_array_get_idx(vips, i);

		if (vip[0] && strcmp(jstr(v, "vip"), vip))
			continue;
		if (!json_object_object_get_ex(v, "backends", &bes))
			continue;
		for (j = 0; j < json_object_array_length(bes); j++) {
			json_object *b = json_object_array_get_idx(bes, j);

			if (strcmp(jstr(b, "address"), addr))
				continue;
			*flows += sl_json_i64(b, "flows");
			if (strcmp(jstr(b, "state"), "drained"))
				*drained = false;
		}
	}
}

/*
 * Boxes that refused revision @rev (or later) say why, on stderr; with the
 * document absent (@rev 0), those that refused one newer than they apply
 * (its delete).
 */
static void warn_rejected(const struct sl_cli_io *io, json_object *reps,
			  int64_t rev)
{
	size_t i;

	for (i = 0; i < json_object_array_length(reps); i++) {
		json_object *r = json_object_array_get_idx(reps, i);
		int64_t rej = sl_json_i64(r, "rejected_revision");

		if (rev ? rej >= rev : rej > sl_json_i64(r, "applied_revision"))
			fprintf(io->err,
				"sluicectl: box %s refused the desired state (revision "
				"%lld), keeps revision %lld: %s\n",
				jstr(r, "box"),
				(long long)sl_json_i64(r, "rejected_revision"),
				(long long)sl_json_i64(r, "applied_revision"),
				jstr(r, "rejected"));
	}
}

/*
 * A sluiced refused a box name another holds says so under
 * PREFIX/conflicts/; its flows are in no report, so say it on stderr.
 */
static void warn_conflicts(const struct sl_cli_cmd *cmd,
			   const struct sl_cli_io *io, struct sl_etcd *e)
{
	char key[SL_DESIRED_KEY_MAX];
	json_object *kvs;
	int64_t rev;
	size_t i;

	sl_desired_conflicts_key(prefix_of(cmd), key, sizeof(key));
	if (sl_etcd_get_prefix(e, key, &kvs, &rev))
		return;
	for (i = 0; i < json_object_array_length(kvs); i++) {
		json_object *v = json_tokener_parse(
			jstr(json_object_array_get_idx(kvs, i), "value"));

		fprintf(io->err,
			"sluicectl: box %s: a second sluiced (%s) has this "
			"name and is refused (held by %s); its flows are not "
			"counted\nhint: give every box a unique cluster.box\n",
			jstr(v, "box"), jstr(v, "owner"), jstr(v, "holder"));
		json_object_put(v);
	}
	json_object_put(kvs);
}

/* ---- drain --wait ----------------------------------------------------------- */

/*
 * Done when every live box has applied @rev and, in that one read of the
 * reports, each has the backend drained with zero flows. *left gets each
 * box's {box, applied_revision, flows, drained}.
 */
static bool fleet_drained(json_object *reps, int64_t rev, const char *vip,
			  const char *addr, json_object **left, int64_t *sum)
{
	bool done = json_object_array_length(reps) > 0;
	size_t i;

	*left = json_object_new_array();
	*sum = 0;
	for (i = 0; i < json_object_array_length(reps); i++) {
		json_object *r = json_object_array_get_idx(reps, i),
			    *o = json_object_new_object();
		int64_t flows;
		bool drained,
			applied = sl_json_i64(r, "applied_revision") >= rev;

		box_backend(r, vip, addr, &flows, &drained);
		done = done && applied && drained && !flows;
		*sum += flows;
		add_str(o, "box", jstr(r, "box"));
		add_int(o, "applied_revision",
			sl_json_i64(r, "applied_revision"));
		add_bool(o, "applied", applied);
		add_bool(o, "drained", drained);
		add_int(o, "flows", flows);
		json_object_array_add(*left, o);
	}
	return done;
}

static void print_left(const struct sl_cli_io *io, json_object *left)
{
	size_t i;

	for (i = 0; i < json_object_array_length(left); i++) {
		json_object *o = json_object_array_get_idx(left, i);

		fprintf(io->err, "  box %s: %lld flows%s%s\n", jstr(o, "box"),
			(long long)sl_json_i64(o, "flows"),
			sl_json_true(o, "applied") ?
				"" :
				", revision not applied yet",
			sl_json_true(o, "drained") ? "" : ", still draining");
	}
}

static int wait_drained(const struct sl_cli_cmd *cmd,
			const struct sl_cli_io *io, struct sl_etcd *e,
			int64_t rev, json_object *res)
{
	/* The wait's own time: on the boot clock, unbent by a clock step. */
	__u64 deadline =
		io->mono_ms(io) +
		(cmd->has_timeout ? cmd->timeout_ms : FLEET_DRAIN_DEFAULT_MS);
	char addr[64], err[512];
	json_object *reps, *left = NULL;
	int64_t sum = 0;
	int rc;
	bool done = false, timed_out;

	/* The reports carry addresses: a name was resolved by the edit. */
	snprintf(addr, sizeof(addr), "%s", jstr(res, "backend"));
	for (;;) {
		reps = read_reports(cmd, e, err, sizeof(err), &rc);
		if (reps) {
			json_object_put(left);
			done = fleet_drained(reps, rev, cmd->vip, addr, &left,
					     &sum);
			json_object_put(reps);
		}
		timed_out = io->mono_ms(io) >= deadline;
		if (done || timed_out || (io->stop && *io->stop))
			break;
		io->sleep_ms(io, SL_CLI_POLL_MS);
	}
	add_bool(res, "drained", done);
	add_int(res, "flows_left", sum);
	json_object_object_add(res, "boxes",
			       left ? left : json_object_new_array());
	if (cmd->json)
		sl_cli_print_json(io->out, res);
	if (done) {
		if (!cmd->json)
			fprintf(io->out,
				"drained on every box (revision %lld)\n",
				(long long)rev);
		return SL_CLI_EXIT_OK;
	}
	if (io->stop && *io->stop)
		return SL_CLI_EXIT_INTERRUPTED;
	fprintf(io->err,
		"sluicectl: drain of %s: deadline passed with %lld flows left "
		"in the fleet\n",
		cmd->backend, (long long)sum);
	print_left(io, left ? left : res);
	return SL_CLI_EXIT_DRAIN_TIMEOUT;
}

/* ---- the verbs ------------------------------------------------------------ */

static edit_fn edit_for(const struct sl_cli_cmd *cmd)
{
	const char *o = cmd->verb->object, *v = cmd->verb->verb;

	if (!strcmp(o, "box"))
		return edit_box;
	if (!strcmp(v, "add"))
		return edit_add;
	if (!strcmp(v, "del"))
		return edit_del;
	if (!strcmp(v, "set"))
		return edit_set;
	return !strcmp(v, "drain") ? edit_drain : edit_undrain;
}

static int run_change(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io)
{
	char err[768], addr[SL_ADDR_STR_MAX] = "";
	struct sl_desired d;
	struct sl_etcd e;
	struct target t;
	json_object *res;
	int64_t rev = 0, mod;
	bool changed = false;
	int rc, ret = SL_CLI_EXIT_OK;

	if (open_etcd(cmd, &e))
		return SL_CLI_EXIT_FAIL;
	rc = edit(cmd, &e, edit_for(cmd), &rev, &changed, err, sizeof(err));
	if (rc) {
		sl_cli_report(io, cmd, err, hint_for(rc));
		sl_etcd_free(&e);
		return fail_exit(rc);
	}
	/* The address the reports use, for --wait and the reply. */
	memset(&t, 0, sizeof(t));
	if (cmd->backend[0] &&
	    !read_doc(&e, prefix_of(cmd), &d, &mod, err, sizeof(err))) {
		if (!resolve(cmd, &d, NULL, &t, err, sizeof(err)))
			sl_format_addr(&t.addr, t.family, addr, sizeof(addr));
		sl_state_free(&d.st);
	}
	res = json_object_new_object();
	add_int(res, "revision", rev);
	add_bool(res, "changed", changed);
	if (cmd->vip[0])
		add_str(res, "vip", cmd->vip);
	if (addr[0])
		add_str(res, "backend", addr);
	if (cmd->box[0])
		add_str(res, "box", cmd->box);
	if (cmd->wait) {
		ret = wait_drained(cmd, io, &e, rev, res);
	} else if (cmd->json) {
		sl_cli_print_json(io->out, res);
	} else {
		fprintf(io->out, "%s at revision %lld\n",
			changed ? "written" : "unchanged", (long long)rev);
	}
	json_object_put(res);
	sl_etcd_free(&e);
	return ret;
}

/* backend list: the document's backends with each box's flows and their sum. */
static json_object *backend_rows(const struct sl_cli_cmd *cmd,
				 const struct sl_desired *d, json_object *reps)
{
	json_object *rows = json_object_new_array();
	char vs[SL_VIP_STR_MAX], as[SL_ADDR_STR_MAX];
	size_t i, j, k;

	for (i = 0; i < d->st.n_vips; i++) {
		const struct sl_vip *v = &d->st.vips[i];

		sl_format_vip(&v->spec, vs, sizeof(vs));
		if (cmd->vip[0] && strcmp(cmd->vip, vs))
			continue;
		for (j = 0; j < v->n_bes; j++) {
			json_object *o = json_object_new_object(),
				    *boxes = json_object_new_object();
			int64_t sum = 0, flows;
			bool drained;

			sl_format_addr(&v->bes[j].addr, v->bes[j].family, as,
				       sizeof(as));
			for (k = 0; k < json_object_array_length(reps); k++) {
				json_object *r =
					json_object_array_get_idx(reps, k);

				box_backend(r, vs, as, &flows, &drained);
				add_int(boxes, jstr(r, "box"), flows);
				sum += flows;
			}
			add_str(o, "vip", vs);
			add_str(o, "backend", as);
			add_str(o, "name", v->bes[j].name);
			add_str(o, "state",
				v->bes[j].state == SL_BE_ACTIVE ? "active" :
								  "draining");
			add_int(o, "weight", v->bes[j].weight);
			add_int(o, "flows", sum);
			json_object_object_add(o, "boxes", boxes);
			json_object_array_add(rows, o);
		}
	}
	return rows;
}

static void print_backend_rows(const struct sl_cli_io *io, json_object *rows)
{
	size_t i;

	fprintf(io->out, "%-24s %-22s %-9s %6s %8s  %s\n", "VIP", "BACKEND",
		"STATE", "WEIGHT", "FLOWS", "PER BOX");
	for (i = 0; i < json_object_array_length(rows); i++) {
		json_object *o = json_object_array_get_idx(rows, i);

		fprintf(io->out, "%-24s %-22s %-9s %6lld %8lld  ",
			jstr(o, "vip"), jstr(o, "backend"), jstr(o, "state"),
			(long long)sl_json_i64(o, "weight"),
			(long long)sl_json_i64(o, "flows"));
		json_object_object_foreach(json_object_object_get(o, "boxes"),
					   k, v)
			fprintf(io->out, "%s=%lld ", k,
				(long long)json_object_get_int64(v));
		fputc('\n', io->out);
	}
}

static void print_box_rows(const struct sl_cli_io *io, json_object *rows)
{
	size_t i;

	fprintf(io->out, "%-16s %8s %8s %-8s %-10s %s\n", "BOX", "APPLIED",
		"REFUSED", "DRAINED", "TABLES", "ANNOUNCED");
	for (i = 0; i < json_object_array_length(rows); i++) {
		json_object *o = json_object_array_get_idx(rows, i);

		fprintf(io->out, "%-16s %8lld %8lld %-8s %-10s %lld\n",
			jstr(o, "box"),
			(long long)sl_json_i64(o, "applied_revision"),
			(long long)sl_json_i64(o, "rejected_revision"),
			sl_json_true(o, "box_drained") ? "yes" : "no",
			sl_json_true(o, "same_tables") ? "same" : "DIFFERENT",
			(long long)sl_json_i64(o, "announced"));
	}
}

/* The fingerprints of a report, as one comparable string. */
static void fingerprints(json_object *rep, char *buf, size_t len)
{
	json_object *vips;
	size_t i, off = 0;

	buf[0] = '\0';
	if (!json_object_object_get_ex(rep, "vips", &vips))
		return;
	for (i = 0; i < json_object_array_length(vips) && off < len; i++) {
		json_object *v = json_object_array_get_idx(vips, i);

		off += snprintf(buf + off, len - off, "%s=%s;", jstr(v, "vip"),
				jstr(v, "fingerprint"));
	}
}

static json_object *box_rows(json_object *reps)
{
	json_object *rows = json_object_new_array();
	char first[4096], fp[4096];
	size_t i;

	for (i = 0; i < json_object_array_length(reps); i++) {
		json_object *r = json_object_array_get_idx(reps, i),
			    *o = json_object_new_object();
		json_object *ann = json_object_object_get(r, "announce");
		json_object *list = json_object_object_get(ann, "announced");

		fingerprints(r, fp, sizeof(fp));
		if (!i)
			snprintf(first, sizeof(first), "%s", fp);
		add_str(o, "box", jstr(r, "box"));
		add_int(o, "applied_revision",
			sl_json_i64(r, "applied_revision"));
		add_int(o, "rejected_revision",
			sl_json_i64(r, "rejected_revision"));
		add_str(o, "rejected", jstr(r, "rejected"));
		add_bool(o, "box_drained", sl_json_true(ann, "box_drained"));
		add_int(o, "announced",
			list ? (int64_t)json_object_array_length(list) : 0);
		add_bool(o, "same_tables", !strcmp(fp, first));
		json_object_object_add(o, "report", json_object_get(r));
		json_object_array_add(rows, o);
	}
	return rows;
}

static int run_list(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io)
{
	bool per_backend = strcmp(cmd->verb->object, "box") !=
			   0; /* backend list */
	struct sl_desired d;
	struct sl_etcd e;
	json_object *reps, *rows;
	char err[768];
	int64_t mod;
	int rc;

	if (open_etcd(cmd, &e))
		return SL_CLI_EXIT_FAIL;
	mod = 0;
	rc = read_doc(&e, prefix_of(cmd), &d, &mod, err, sizeof(err));
	if (rc && (rc != -EINVAL || per_backend)) {
		sl_cli_report(io, cmd, err, hint_for(rc));
		sl_etcd_free(&e);
		return fail_exit(rc);
	}
	/* box list still serves when the document is broken: that is when it is needed. */
	if (rc)
		fprintf(io->err,
			"sluicectl: the desired state in etcd (revision %lld) is "
			"invalid: %s\n",
			(long long)mod, err);
	reps = read_reports(cmd, &e, err, sizeof(err), &rc);
	if (!reps) {
		sl_state_free(&d.st);
		sl_cli_report(io, cmd, e.err, hint_for(rc));
		sl_etcd_free(&e);
		return fail_exit(rc);
	}
	warn_rejected(io, reps, mod);
	warn_conflicts(cmd, io, &e);
	rows = per_backend ? backend_rows(cmd, &d, reps) : box_rows(reps);
	if (cmd->json)
		sl_cli_print_json(io->out, rows);
	else if (per_backend)
		print_backend_rows(io, rows);
	else
		print_box_rows(io, rows);
	json_object_put(rows);
	json_object_put(reps);
	sl_state_free(&d.st);
	sl_etcd_free(&e);
	return SL_CLI_EXIT_OK;
}

const struct sl_cli_verb sl_cli_fleet_verbs[] = {
	{
		.object = "backend",
		.verb = "add",
		.cmd = "fleet.backend.add",
		.min_args = 2,
		.max_args = 2,
		.arg_names = args_vip_addr,
		.opts = SL_CLI_OPT_WEIGHT | SL_CLI_OPT_NAME,
		.run = run_change,
		.what = "add backend {B} to {V} in the fleet",
		.usage =
			"--cluster ENDPOINTS backend add VIP ADDR [--weight N] [--name NAME]",
		.summary =
			"add a backend (and its VIP if new) to the desired state",
	},
	{
		.object = "backend",
		.verb = "del",
		.cmd = "fleet.backend.del",
		.min_args = 2,
		.max_args = 2,
		.arg_names = args_vip_addr,
		.opts = SL_CLI_OPT_FORCE,
		.run = run_change,
		.what = "delete backend {B} from {V} in the fleet",
		.usage = "--cluster ENDPOINTS backend del VIP ADDR [--force]",
		.summary = "remove a backend from the desired state",
	},
	{
		.object = "backend",
		.verb = "drain",
		.cmd = "fleet.backend.drain",
		.min_args = 1,
		.max_args = 2,
		.arg_names = args_vip_addr,
		.opts = SL_CLI_OPT_WAIT | SL_CLI_OPT_TIMEOUT | SL_CLI_OPT_FORCE,
		.run = run_change,
		.what = "drain backend {B} on {V} in the fleet",
		.what_all = "drain backend {B} in the fleet",
		.usage =
			"--cluster ENDPOINTS backend drain [VIP] ADDR [--wait] [--timeout DURATION] [--force]",
		.summary =
			"drain on every box; --wait: until every box has it drained with no flow",
	},
	{
		.object = "backend",
		.verb = "undrain",
		.cmd = "fleet.backend.undrain",
		.min_args = 1,
		.max_args = 2,
		.arg_names = args_vip_addr,
		.run = run_change,
		.what = "undrain backend {B} on {V} in the fleet",
		.what_all = "undrain backend {B} in the fleet",
		.usage = "--cluster ENDPOINTS backend undrain [VIP] ADDR",
		.summary = "send new flows to the backend again, on every box",
	},
	{
		.object = "backend",
		.verb = "set",
		.cmd = "fleet.backend.set",
		.min_args = 2,
		.max_args = 2,
		.arg_names = args_vip_addr,
		.opts = SL_CLI_OPT_WEIGHT,
		.run = run_change,
		.what = "set backend {B} on {V} in the fleet",
		.usage = "--cluster ENDPOINTS backend set VIP ADDR --weight N",
		.summary = "change a backend's weight on every box",
	},
	{
		.object = "backend",
		.verb = "list",
		.cmd = "fleet.backend.list",
		.min_args = 0,
		.max_args = 1,
		.arg_names = args_vip,
		.run = run_list,
		.what = "list the fleet's backends of {V}",
		.what_all = "list the fleet's backends",
		.usage = "--cluster ENDPOINTS backend list [VIP]",
		.summary =
			"desired backends with the fleet's flows and each box's",
	},
	{
		.object = "box",
		.verb = "list",
		.cmd = "fleet.box.list",
		.run = run_list,
		.what = "list the fleet's boxes",
		.usage = "--cluster ENDPOINTS box list",
		.summary =
			"live boxes: applied and refused revision, tables, announcements",
	},
	{
		.object = "box",
		.verb = "drain",
		.cmd = "fleet.box.drain",
		.min_args = 1,
		.max_args = 1,
		.arg_names = args_box,
		.run = run_change,
		.what = "drain box {X}",
		.usage = "--cluster ENDPOINTS box drain BOX",
		.summary = "the box withdraws every VIP from its routers",
	},
	{
		.object = "box",
		.verb = "undrain",
		.cmd = "fleet.box.undrain",
		.min_args = 1,
		.max_args = 1,
		.arg_names = args_box,
		.run = run_change,
		.what = "undrain box {X}",
		.usage = "--cluster ENDPOINTS box undrain BOX",
		.summary = "the box announces its VIPs again",
	},
};

const size_t sl_cli_fleet_n_verbs =
	sizeof(sl_cli_fleet_verbs) / sizeof(sl_cli_fleet_verbs[0]);
