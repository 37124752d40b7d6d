// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control socket (protocol in user/lib/ctl.h): non-blocking clients
 * on the main epoll loop, one JSON request and one JSON reply per line.
 * Every request is validated; a malformed one gets an error reply, an
 * oversized one closes the connection, and a client that stalls is
 * dropped after a while without holding anyone else up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <net/if.h>
#include <json-c/json.h>
#include <bpf/bpf.h>

#include "ctl.h"
#include "ctl_ops.h"
#include "agent_poll.h"
#include "daemon.h"
#include "guard.h"
#include "sluice.skel.h"

#define CLIENT_IDLE_MS 30000

/* ---- replies ------------------------------------------------------------ */

static const char *errno_name(int err)
{
	switch (err) {
	case ENOENT:
		return "ENOENT";
	case EEXIST:
		return "EEXIST";
	case ENOSPC:
		return "ENOSPC";
	case EINVAL:
		return "EINVAL";
	case ENOMEM:
		return "ENOMEM";
	case EPERM:
		return "EPERM";
	default:
		return "EIO";
	}
}

/* ---- request arguments -------------------------------------------------- */

static const char *arg_str(json_object *req, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool has_arg(json_object *req, const char *key)
{
	return json_object_object_get_ex(req, key, NULL);
}

static int opt_u64(json_object *req, const char *key, __u64 *out,
		   __u64 max, struct sl_ctl_reply *r)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(req, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return sl_ctl_fail(r, "EINVAL", NULL, "argument \"%s\" must be an integer", key);
	n = json_object_get_int64(v);
	if (n < 0 || (__u64)n > max)
		return sl_ctl_fail(r, "EINVAL", NULL, "argument \"%s\" must be 0..%llu", key,
			    (unsigned long long)max);
	*out = n;
	return 0;
}

static int opt_bool(json_object *req, const char *key, bool *out, struct sl_ctl_reply *r)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return sl_ctl_fail(r, "EINVAL", NULL, "argument \"%s\" must be true or false", key);
	*out = json_object_get_boolean(v);
	return 0;
}

/* ---- reads -------------------------------------------------------------- */

static void fmt_vip(const struct sl_vip *v, char *buf)
{
	sl_format_vip(&v->spec, buf, SL_VIP_STR_MAX);
}

static void fmt_be(const struct sl_be *b, char *buf)
{
	sl_format_addr(&b->addr, b->family, buf, SL_ADDR_STR_MAX);
}

/*
 * "flows": the box's count ("box_flows"), or the backend agent's count of
 * live sockets when it is larger (an upper bound either way);
 * "agent_sockets": that count, null without an agent or when its last
 * read failed ("agent_error" says why).
 */
static void add_flows(struct sl_daemon *d, const struct sl_be *b, __u64 flows,
		      json_object *o)
{
	struct sl_agent_read r;

	sl_agent_last(d, b->id, &r);
	json_object_object_add(o, "box_flows", json_object_new_uint64(flows));
	if (b->hc.agent_port && r.ok && r.live > flows)
		flows = r.live;
	json_object_object_add(o, "flows", json_object_new_uint64(flows));
	json_object_object_add(o, "agent_sockets", b->hc.agent_port && r.ok ?
			       json_object_new_uint64(r.live) : NULL);
	if (b->hc.agent_port && !r.ok)
		json_object_object_add(o, "agent_error", json_object_new_string(
			r.started_ms ? r.err : "not read yet"));
}

static json_object *be_row(struct sl_daemon *d, const struct sl_vip *v,
			   const struct sl_be *b)
{
	json_object *o = json_object_new_object();
	char vs[SL_VIP_STR_MAX], bs[SL_ADDR_STR_MAX];
	struct sluice_be_stats s;

	memset(&s, 0, sizeof(s));
	sl_be_stats_read(&d->maps, b->id, &s);
	fmt_vip(v, vs);
	fmt_be(b, bs);
	json_object_object_add(o, "vip", json_object_new_string(vs));
	json_object_object_add(o, "backend", json_object_new_string(bs));
	json_object_object_add(o, "name", json_object_new_string(b->name));
	json_object_object_add(o, "state", json_object_new_string(sl_be_state_name(b->state)));
	json_object_object_add(o, "health", json_object_new_string(sl_health_name(b->health)));
	json_object_object_add(o, "weight", json_object_new_int64(b->weight));
	add_flows(d, b, sl_be_flows_shown(b, s.confirmed), o);
	json_object_object_add(o, "handshakes", json_object_new_uint64(b->handshakes));
	json_object_object_add(o, "new_flows", json_object_new_uint64(s.new_flows));
	json_object_object_add(o, "packets", json_object_new_uint64(s.packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(s.bytes));
	json_object_object_add(o, "lost", json_object_new_uint64(b->lost));
	return o;
}

static json_object *be_status_row(struct sl_daemon *d, const struct sl_vip *v,
				  const struct sl_be *b)
{
	json_object *o = json_object_new_object();
	char vs[SL_VIP_STR_MAX], bs[SL_ADDR_STR_MAX];
	struct sluice_be_stats s;

	memset(&s, 0, sizeof(s));
	sl_be_stats_read(&d->maps, b->id, &s);
	fmt_vip(v, vs);
	fmt_be(b, bs);
	json_object_object_add(o, "vip", json_object_new_string(vs));
	json_object_object_add(o, "backend", json_object_new_string(bs));
	json_object_object_add(o, "name", json_object_new_string(b->name));
	json_object_object_add(o, "state", json_object_new_string(sl_be_state_name(b->state)));
	json_object_object_add(o, "health", json_object_new_string(sl_health_name(b->health)));
	add_flows(d, b, sl_be_flows_shown(b, s.confirmed), o);
	json_object_object_add(o, "handshakes", json_object_new_uint64(b->handshakes));
	json_object_object_add(o, "health_reason", json_object_new_string(b->health_reason));
	json_object_object_add(o, "health_check", json_object_new_string(sl_health_type_name(b->hc.type)));
	json_object_object_add(o, "timed_out", json_object_new_boolean(b->timed_out));
	json_object_object_add(o, "flows_left", json_object_new_uint64(b->flows_left));
	json_object_object_add(o, "lost", json_object_new_uint64(b->lost));
	json_object_object_add(o, "evicted", json_object_new_uint64(b->evicted));
	json_object_object_add(o, "rescued", json_object_new_uint64(s.rescued));
	json_object_object_add(o, "drain_started_unix_ms", json_object_new_uint64(b->drain_started));
	json_object_object_add(o, "deadline_unix_ms", json_object_new_uint64(b->drain_deadline));
	return o;
}

static int cmd_backend_list(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct sl_vip_spec spec;
	const struct sl_vip *only = NULL;
	size_t i, j;

	if (has_arg(req, "vip")) {
		if (sl_ctl_arg_vip(req, &spec, r))
			return -1;
		only = sl_state_find_vip(&d->st, &spec);
		if (!only)
			return sl_ctl_fail(r, "ENOENT", "list VIPs with: sluicectl vip list",
				    "cannot list backends of %s: no such VIP", arg_str(req, "vip"));
	}
	r->result = json_object_new_array();
	for (i = 0; i < d->st.n_vips; i++) {
		const struct sl_vip *v = &d->st.vips[i];

		if (only && only != v)
			continue;
		for (j = 0; j < v->n_bes; j++)
			json_object_array_add(r->result, be_row(d, v, &v->bes[j]));
	}
	return 0;
}

/* box.drain / box.undrain: withdraw or announce again every VIP of this box. */
static int box_drain(struct sl_daemon *d, bool drain, struct sl_ctl_reply *r)
{
	char err[512];

	if (sl_ann_box_drain(d, drain, err, sizeof(err)))
		return sl_ctl_fail(r, "EIO", NULL, "%s", err);
	r->result = sl_ann_status(d);
	return 0;
}

static int cmd_box_drain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	(void)req;
	return box_drain(d, true, r);
}

static int cmd_box_undrain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	(void)req;
	return box_drain(d, false, r);
}

static int cmd_vip_list(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	size_t i, j;

	(void)req;
	r->result = json_object_new_array();
	for (i = 0; i < d->st.n_vips; i++) {
		const struct sl_vip *v = &d->st.vips[i];
		json_object *o = json_object_new_object();
		struct sluice_vip_stats s;
		char vs[SL_VIP_STR_MAX];
		__u64 flows = 0, active = 0;

		memset(&s, 0, sizeof(s));
		sl_vip_stats_read(&d->maps, v->id, &s);
		for (j = 0; j < v->n_bes; j++) {
			struct sluice_be_stats bs;

			memset(&bs, 0, sizeof(bs));
			sl_be_stats_read(&d->maps, v->bes[j].id, &bs);
			flows += sl_be_flows_shown(&v->bes[j], bs.confirmed);
			active += sl_be_in_table(&v->bes[j]);
		}
		fmt_vip(v, vs);
		json_object_object_add(o, "vip", json_object_new_string(vs));
		json_object_object_add(o, "backends", json_object_new_uint64(v->n_bes));
		json_object_object_add(o, "active", json_object_new_uint64(active));
		json_object_object_add(o, "all_down", json_object_new_boolean(sl_vip_all_down(v)));
		json_object_object_add(o, "flows", json_object_new_uint64(flows));
		json_object_object_add(o, "new_flows", json_object_new_uint64(s.new_flows));
		json_object_object_add(o, "packets", json_object_new_uint64(s.packets));
		json_object_object_add(o, "bytes", json_object_new_uint64(s.bytes));
		json_object_object_add(o, SL_CTL_KEY_FINGERPRINT, sl_ctl_fingerprint(d, v->id));
		json_object_array_add(r->result, o);
	}
	return 0;
}

static json_object *map_fill(int fd)
{
	json_object *o = json_object_new_object();
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	bpf_obj_get_info_by_fd(fd, &info, &len);
	json_object_object_add(o, "capacity", json_object_new_uint64(info.max_entries));
	return o;
}

/* Asked of the kernel now, not remembered: does the interface run our program? */
static void status_attachment(struct sl_daemon *d, size_t i, json_object *o)
{
	unsigned int ifindex = if_nametoindex(d->cfg.ifaces[i].name);

	json_object_object_add(o, "attached", json_object_new_boolean(
		sl_xdp_attached(ifindex, d->prog_id)));
	json_object_object_add(o, "prog_id", json_object_new_uint64(d->prog_id));
}

static int cmd_status(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	json_object *ifs = json_object_new_array(), *flows, *reasons;
	__u64 counts[SLUICE_R_MAX];
	size_t i, j, draining = 0;
	int k;

	(void)req;
	r->result = json_object_new_object();
	json_object_object_add(r->result, "instance", json_object_new_string(d->cfg.instance));
	json_object_object_add(r->result, "version", json_object_new_string(SL_VERSION));
	json_object_object_add(r->result, "uptime_s",
			       json_object_new_uint64((sl_unix_ms() - d->started_ms) / 1000));
	for (i = 0; i < d->cfg.n_ifaces; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(d->cfg.ifaces[i].name));
		json_object_object_add(o, "mode", json_object_new_string(
			d->cfg.ifaces[i].mode == SL_XDP_MODE_SKB ? "skb" : "native"));
		status_attachment(d, i, o);
		json_object_array_add(ifs, o);
	}
	json_object_object_add(r->result, "interfaces", ifs);
	json_object_object_add(r->result, "pins_ok", json_object_new_boolean(!d->pins.lost));
	json_object_object_add(r->result, "announce", sl_ann_status(d));
	flows = map_fill(d->maps.flows);
	json_object_object_add(flows, "entries", json_object_new_uint64(d->sweep_last->entries));
	{
		json_object *nf = map_fill(d->maps.new_flows);

		json_object_object_add(flows, "new_entries",
				       json_object_new_uint64(d->sweep_last->new_entries));
		json_object_object_add(flows, "new_capacity",
				       json_object_get(json_object_object_get(nf, "capacity")));
		json_object_put(nf);
	}
	json_object_object_add(r->result, "flows", flows);
	for (i = 0; i < d->st.n_vips; i++)
		for (j = 0; j < d->st.vips[i].n_bes; j++)
			draining += d->st.vips[i].bes[j].state == SL_BE_DRAINING;
	json_object_object_add(r->result, "vips", json_object_new_uint64(d->st.n_vips));
	json_object_object_add(r->result, "backends",
			       json_object_new_uint64(sl_state_n_backends(&d->st)));
	json_object_object_add(r->result, "draining", json_object_new_uint64(draining));
	json_object_object_add(r->result, "last_sweep_ms",
			       json_object_new_double(d->sweep_last->duration_us / 1000.0));
	reasons = json_object_new_object();
	if (!sl_reasons_read(&d->maps, counts))
		for (k = 0; k < SLUICE_R_MAX; k++)
			json_object_object_add(reasons, sl_reason_label(k),
					       json_object_new_uint64(counts[k]));
	json_object_object_add(r->result, "reasons", reasons);
	json_object_object_add(r->result, SL_CTL_KEY_TABLES, sl_ctl_tables(d));
	return 0;
}

/* ---- changes ------------------------------------------------------------ */

#define FORCE_HINT "to do it anyway, add --force (\"force\": true)"

/* Validate-and-apply on a copy, then commit (sync, persist) or roll back. */
typedef int (*state_op)(struct sl_state *st, void *arg, char *err, size_t len);

static int change(struct sl_daemon *d, state_op op, void *arg,
		  const char *what, struct sl_ctl_reply *r)
{
	struct sl_state next;
	char err[512];
	int rc;

	if (sl_state_copy(&next, &d->st))
		return sl_ctl_fail(r, "ENOMEM", NULL, "cannot %s: out of memory", what);
	rc = op(&next, arg, err, sizeof(err));
	if (!rc)
		rc = sl_daemon_commit(d, &next, err, sizeof(err));
	sl_state_free(&next);
	if (rc)
		return sl_ctl_fail(r, errno_name(-rc), rc == -EPERM ? FORCE_HINT : NULL,
			    "cannot %s: %s", what, err);
	if (!r->result)
		r->result = json_object_new_object();
	return 0;
}

struct op_arg {
	struct sl_vip_spec vip;
	bool all_vips;
	struct sluice_addr addr;
	__u8 family;
	__u64 weight;
	__u64 timeout_ms;
	__u64 now;
	bool force;		/* may take a VIP's last active backend away */
	bool has_timeout;	/* timeout_ms given: a re-drain moves the deadline */
	char name[SL_BE_NAME_MAX];	/* backend.add: "" or its name */
};

static int op_vip_add(struct sl_state *st, void *a, char *err, size_t len)
{
	return sl_state_vip_add(st, &((struct op_arg *)a)->vip, err, len);
}

static int op_vip_del(struct sl_state *st, void *a, char *err, size_t len)
{
	return sl_state_vip_del(st, &((struct op_arg *)a)->vip, err, len);
}

static int op_be_add(struct sl_state *st, void *p, char *err, size_t len)
{
	struct op_arg *a = p;
	int rc;

	rc = sl_state_be_add(st, &a->vip, &a->addr, a->family, a->weight, err, len);
	/* On a copy of the state (change()): a refused name adds nothing. */
	if (!rc && a->name[0])
		rc = sl_state_be_set_name(st, &a->vip, &a->addr, a->family, a->name, err, len);
	return rc;
}

static int op_be_del(struct sl_state *st, void *p, char *err, size_t len)
{
	struct op_arg *a = p;
	const struct sl_vip *v = sl_state_find_vip(st, &a->vip);
	int rc;

	if (v && !a->force) {
		rc = sl_guard_last_active(v, &a->addr, a->family, err, len);
		if (rc)
			return rc;
	}
	return sl_state_be_del(st, &a->vip, &a->addr, a->family, err, len);
}

/*
 * Draining a backend that is already draining: with a timeout given, the
 * deadline moves to now + timeout (shorter or longer); without one, the
 * deadline in force is kept (re-running a pipeline's drain must not
 * extend it). The reply says which (annotate_drain).
 */
static bool redrain_keeps(const struct sl_vip *v, const struct op_arg *a)
{
	const struct sl_be *b = sl_vip_find_be(v, &a->addr, a->family);

	return b && b->state == SL_BE_DRAINING && !a->has_timeout;
}

/* Drain or undrain on one VIP, or on every VIP the backend serves. */
static int each_vip(struct sl_state *st, struct op_arg *a, bool drain,
		    char *err, size_t len)
{
	size_t i, hits = 0;
	int rc;

	for (i = 0; i < st->n_vips; i++) {
		struct sl_vip *v = &st->vips[i];

		if (a->all_vips ? !sl_vip_find_be(v, &a->addr, a->family)
				: memcmp(&v->spec, &a->vip, sizeof(a->vip)))
			continue;
		if (drain && !a->force) {
			rc = sl_guard_last_active(v, &a->addr, a->family, err, len);
			if (rc)
				return rc;
		}
		if (drain && redrain_keeps(v, a)) {
			hits++;
			continue;
		}
		rc = drain ? sl_state_be_drain(st, &v->spec, &a->addr, a->family,
					       a->now, a->timeout_ms, err, len)
			   : sl_state_be_undrain(st, &v->spec, &a->addr, a->family,
						 err, len);
		if (rc)
			return rc;
		hits++;
	}
	if (!hits) {
		snprintf(err, len, a->all_vips ? "no VIP has this backend" : "no such VIP");
		return -ENOENT;
	}
	return 0;
}

static int op_drain(struct sl_state *st, void *a, char *err, size_t len)
{
	return each_vip(st, a, true, err, len);
}

static int op_undrain(struct sl_state *st, void *a, char *err, size_t len)
{
	return each_vip(st, a, false, err, len);
}

static int cmd_vip_add(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct op_arg a;
	char what[128];

	memset(&a, 0, sizeof(a));
	if (sl_ctl_arg_vip(req, &a.vip, r))
		return -1;
	snprintf(what, sizeof(what), "add VIP %s", arg_str(req, "vip"));
	return change(d, op_vip_add, &a, what, r);
}

static int cmd_vip_del(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct op_arg a;
	char what[128];

	memset(&a, 0, sizeof(a));
	if (sl_ctl_arg_vip(req, &a.vip, r))
		return -1;
	snprintf(what, sizeof(what), "delete VIP %s", arg_str(req, "vip"));
	return change(d, op_vip_del, &a, what, r);
}

static int cmd_be_add(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct op_arg a;
	char what[192];

	memset(&a, 0, sizeof(a));
	a.weight = 100;
	if (sl_ctl_arg_vip(req, &a.vip, r) ||
	    sl_ctl_arg_backend(NULL, req, NULL, &a.addr, &a.family, r) ||
	    opt_u64(req, "weight", &a.weight, 10000, r))
		return -1;
	if (has_arg(req, "name")) {
		if (!arg_str(req, "name"))
			return sl_ctl_fail(r, "EINVAL", NULL, "argument \"name\" must be a string");
		snprintf(a.name, sizeof(a.name), "%s", arg_str(req, "name"));
		if (strlen(arg_str(req, "name")) >= sizeof(a.name))
			return sl_ctl_fail(r, "EINVAL", NULL, "backend name longer than %d characters",
					   SL_BE_NAME_MAX - 1);
	}
	snprintf(what, sizeof(what), "add backend %s to %s", arg_str(req, "backend"),
		 arg_str(req, "vip"));
	return change(d, op_be_add, &a, what, r);
}

static int cmd_be_del(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct op_arg a;
	char what[192];

	memset(&a, 0, sizeof(a));
	if (sl_ctl_arg_vip(req, &a.vip, r) ||
	    sl_ctl_arg_backend(d, req, &a.vip, &a.addr, &a.family, r) ||
	    opt_bool(req, "force", &a.force, r))
		return -1;
	snprintf(what, sizeof(what), "delete backend %s from %s",
		 arg_str(req, "backend"), arg_str(req, "vip"));
	return change(d, op_be_del, &a, what, r);
}

/* The rows a drain-family command reports: matching (VIP, backend) pairs. */
static json_object *status_rows(struct sl_daemon *d, const struct op_arg *a)
{
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < d->st.n_vips; i++) {
		const struct sl_vip *v = &d->st.vips[i];
		const struct sl_be *b = sl_vip_find_be(v, &a->addr, a->family);

		if (!b || (!a->all_vips && memcmp(&v->spec, &a->vip, sizeof(a->vip))))
			continue;
		json_object_array_add(arr, be_status_row(d, v, b));
	}
	return arr;
}

static int drain_args(struct sl_daemon *d, json_object *req, struct op_arg *a,
		      char *what, size_t len, const char *verb, struct sl_ctl_reply *r)
{
	memset(a, 0, sizeof(*a));
	a->all_vips = !has_arg(req, "vip");
	a->timeout_ms = d->cfg.drain_timeout_ms;
	a->now = sl_unix_ms();
	if ((!a->all_vips && sl_ctl_arg_vip(req, &a->vip, r)) ||
	    sl_ctl_arg_backend(d, req, a->all_vips ? NULL : &a->vip, &a->addr, &a->family, r) ||
	    opt_u64(req, "timeout_ms", &a->timeout_ms, 365ULL * 24 * 3600 * 1000, r) ||
	    opt_bool(req, "force", &a->force, r))
		return -1;
	a->has_timeout = has_arg(req, "timeout_ms");
	if (a->all_vips)
		snprintf(what, len, "%s backend %s", verb, arg_str(req, "backend"));
	else
		snprintf(what, len, "%s backend %s on %s", verb,
			 arg_str(req, "backend"), arg_str(req, "vip"));
	return 0;
}

/* What each matching (VIP, backend) was before a drain, in status_rows order. */
struct drain_before {
	__u8 state[SLUICE_MAX_VIPS];
	__u64 deadline[SLUICE_MAX_VIPS];
	size_t n;
};

static void drain_before(struct sl_daemon *d, const struct op_arg *a,
			 struct drain_before *p)
{
	size_t i;

	p->n = 0;
	for (i = 0; i < d->st.n_vips && p->n < SLUICE_MAX_VIPS; i++) {
		const struct sl_vip *v = &d->st.vips[i];
		const struct sl_be *b = sl_vip_find_be(v, &a->addr, a->family);

		if (!b || (!a->all_vips && memcmp(&v->spec, &a->vip, sizeof(a->vip))))
			continue;
		p->state[p->n] = b->state;
		p->deadline[p->n++] = b->drain_deadline;
	}
}

/*
 * "deadline": what the drain did to each row's deadline: "set" (the drain
 * started), "moved" (already draining, a timeout was given: now + timeout),
 * "kept" (already draining, no timeout given), "none" (already drained);
 * "previous_deadline_unix_ms" when it moved.
 */
static void annotate_drain(json_object *rows, const struct drain_before *p)
{
	size_t i, n = json_object_array_length(rows);

	for (i = 0; i < n && i < p->n; i++) {
		json_object *o = json_object_array_get_idx(rows, i);
		const char *what = "none";

		if (p->state[i] == SL_BE_ACTIVE)
			what = "set";
		else if (p->state[i] == SL_BE_DRAINING)
			what = json_object_get_uint64(json_object_object_get(o, "deadline_unix_ms")) ==
			       p->deadline[i] ? "kept" : "moved";
		json_object_object_add(o, "deadline", json_object_new_string(what));
		if (!strcmp(what, "moved"))
			json_object_object_add(o, "previous_deadline_unix_ms",
					       json_object_new_uint64(p->deadline[i]));
	}
}

/* drain and undrain: apply @op, then report the pairs it touched. */
static int drain_cmd(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r,
		     const char *verb, state_op op)
{
	struct drain_before *before = calloc(1, sizeof(*before));
	struct op_arg a;
	char what[192];

	if (!before)
		return sl_ctl_fail(r, "ENOMEM", NULL, "cannot %s: out of memory", verb);
	if (drain_args(d, req, &a, what, sizeof(what), verb, r)) {
		free(before);
		return -1;
	}
	drain_before(d, &a, before);
	if (change(d, op, &a, what, r)) {
		free(before);
		return -1;
	}
	json_object_put(r->result);
	r->result = status_rows(d, &a);
	if (op == op_drain)
		annotate_drain(r->result, before);
	free(before);
	return 0;
}

static int cmd_drain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	return drain_cmd(d, req, r, "drain", op_drain);
}

static int cmd_undrain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	return drain_cmd(d, req, r, "undrain", op_undrain);
}

static int cmd_be_status(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct op_arg a;
	char what[192];

	if (drain_args(d, req, &a, what, sizeof(what), "show", r))
		return -1;
	r->result = status_rows(d, &a);
	if (!json_object_array_length(r->result)) {
		json_object_put(r->result);
		r->result = NULL;
		return sl_ctl_fail(r, "ENOENT", "list backends with: sluicectl backend list",
			    "cannot %s: no such backend", what);
	}
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
} commands[] = {
	{ SL_CTL_CMD_STATUS, cmd_status },
	{ "box.drain", cmd_box_drain },
	{ "box.undrain", cmd_box_undrain },
	{ "vip.list", cmd_vip_list },
	{ "vip.add", cmd_vip_add },
	{ "vip.del", cmd_vip_del },
	{ "backend.add", cmd_be_add },
	{ "backend.del", cmd_be_del },
	{ "backend.drain", cmd_drain },
	{ "backend.undrain", cmd_undrain },
	{ "backend.list", cmd_backend_list },
	{ SL_CTL_CMD_BACKEND_STATUS, cmd_be_status },
};

/* Commands that only read: every other one is a control action, audited. */
static const char *const read_only_cmds[] = {
	"status", "vip.list", "backend.list", "backend.status",
	SL_CTL_CMD_CONFIG_DUMP, SL_CTL_CMD_FLOWS,
};

static bool is_read_only(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(read_only_cmds) / sizeof(read_only_cmds[0]); i++)
		if (!strcmp(cmd, read_only_cmds[i]))
			return true;
	return false;
}

/*
 * One line per control action: who (the peer's uid and pid), what (the
 * command and its arguments, re-serialised from the parsed request, so no
 * raw client bytes reach the log) and the result. Unparseable requests
 * change nothing and are not actions.
 */
static void audit(const struct sl_client *c, json_object *req, const char *cmd,
		  const struct sl_ctl_reply *r)
{
	json_object *args;
	const char *text;

	if (!c || !cmd || is_read_only(cmd))
		return;
	args = json_object_new_object();
	json_object_object_foreach(req, key, val) {
		if (strcmp(key, "cmd"))
			json_object_object_add(args, key, json_object_get(val));
	}
	text = json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (r->errname)
		sl_warn("audit: uid=%u pid=%u cmd=%.64s args=%.512s result=error %s: %s",
			c->uid, c->pid, cmd, text, r->errname, r->error);
	else
		sl_info("audit: uid=%u pid=%u cmd=%.64s args=%.512s result=ok",
			c->uid, c->pid, cmd, text);
	json_object_put(args);
}

static void dispatch(struct sl_daemon *d, const struct sl_client *c,
		     const char *line, struct sl_ctl_reply *r)
{
	json_object *req = json_tokener_parse(line);
	const char *cmd = NULL;
	size_t i;

	if (!req || !json_object_is_type(req, json_type_object)) {
		sl_ctl_fail(r, "EINVAL", "send one JSON object per line, e.g. {\"cmd\":\"status\"}",
		     "request is not a JSON object");
		goto out;
	}
	cmd = arg_str(req, "cmd");
	if (!cmd) {
		sl_ctl_fail(r, "EINVAL", NULL, "request has no string \"cmd\"");
		goto out;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(cmd, commands[i].name)) {
			commands[i].fn(d, req, r);
			audit(c, req, cmd, r);
			goto out;
		}
	}
	if (sl_ctl_ops_find(cmd)) {
		sl_ctl_ops_find(cmd)(d, req, r);
		if (r->deferred && !c) {
			/* sl_ctl_handle() has no connection to answer later. */
			r->deferred = false;
			sl_ctl_fail(r, "EINVAL", NULL, "%.64s needs a control connection", cmd);
		}
		audit(c, req, cmd, r);
		goto out;
	}
	sl_ctl_fail(r, "EINVAL", "commands: status, vip.list, vip.add, vip.del, backend.add, "
	     "backend.del, backend.drain, backend.undrain, backend.list, backend.status, "
	     SL_CTL_CMD_BACKEND_SET ", " SL_CTL_CMD_RELOAD ", " SL_CTL_CMD_CONFIG_DUMP ", "
	     SL_CTL_CMD_FLOWS,
	     "unknown command \"%.64s\"", cmd);
out:
	json_object_put(req);
}

static char *reply_text(struct sl_ctl_reply *r, size_t *len)
{
	json_object *o = json_object_new_object();
	char *text;

	*len = 0;

	if (!r->errname) {
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		json_object_object_add(o, "result", r->result ? r->result
							      : json_object_new_object());
	} else {
		json_object_put(r->result);
		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "error", json_object_new_string(r->error));
		if (r->hint[0])
			json_object_object_add(o, "hint", json_object_new_string(r->hint));
		json_object_object_add(o, "errno", json_object_new_string(r->errname));
	}
	text = NULL;
	if (asprintf(&text, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0)
		text = NULL;
	json_object_put(o);
	*len = text ? strlen(text) : 0;
	return text;
}

/*
 * The reply to @line, or NULL with @wait set when the reply comes later
 * (a reload: sl_ctl_reload_done() sends it).
 */
static char *handle(struct sl_daemon *d, const struct sl_client *c,
		    const char *line, size_t *len, struct sl_ctl_reply *r)
{
	memset(r, 0, sizeof(*r));
	dispatch(d, c, line, r);
	if (r->deferred) {
		*len = 0;
		return NULL;
	}
	return reply_text(r, len);
}

char *sl_ctl_handle_client(struct sl_daemon *d, const struct sl_client *c,
			   const char *line, size_t *len)
{
	struct sl_ctl_reply r;

	return handle(d, c, line, len, &r);
}

char *sl_ctl_handle(struct sl_daemon *d, const char *line, size_t *len)
{
	return sl_ctl_handle_client(d, NULL, line, len);
}

/* ---- connections -------------------------------------------------------- */

static void client_close(struct sl_daemon *d, struct sl_client *c)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void client_want(struct sl_daemon *d, struct sl_client *c)
{
	struct epoll_event ev = { .data.ptr = c };

	if (c->waiting)
		ev.events = EPOLLRDHUP;
	else
		ev.events = c->out_len > c->out_off ? EPOLLOUT : EPOLLIN;
	epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void client_queue(struct sl_client *c, char *text, size_t len)
{
	free(c->out);
	c->out = text;
	c->out_len = text ? len : 0;
	c->out_off = 0;
}

static int client_flush(struct sl_client *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		c->out_off += n;
	}
	return 0;
}

/* Handle the first complete line in the input buffer, if any. */
static void client_request(struct sl_daemon *d, struct sl_client *c)
{
	char *nl = memchr(c->in, '\n', c->in_len);
	struct sl_ctl_reply r;
	size_t used, len = 0;
	char *text;

	if (!nl)
		return;
	*nl = '\0';
	text = handle(d, c, c->in, &len, &r);
	if (r.deferred) {
		c->waiting = true;
		c->reload_gen = r.reload_gen;
	} else {
		client_queue(c, text, len);
	}
	used = nl + 1 - c->in;
	memmove(c->in, nl + 1, c->in_len - used);
	c->in_len -= used;
}

static int client_read(struct sl_daemon *d, struct sl_client *c)
{
	char buf[4096];
	ssize_t n;
	char *p;

	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return n == 0 || errno != EAGAIN ? -1 : 0;
	if (c->in_len + n > SL_CTL_MAX_REQUEST) {
		struct sl_ctl_reply r;
		size_t len = 0;
		char *text;

		memset(&r, 0, sizeof(r));
		sl_ctl_fail(&r, "E2BIG", NULL, "request longer than %d bytes", SL_CTL_MAX_REQUEST);
		text = reply_text(&r, &len);
		client_queue(c, text, len);
		client_flush(c);
		return -1;
	}
	p = realloc(c->in, c->in_len + n + 1);
	if (!p)
		return -1;
	c->in = p;
	memcpy(c->in + c->in_len, buf, n);
	c->in_len += n;
	(void)d;
	return 0;
}

/*
 * Answer every complete line already buffered (a client may pipeline
 * requests in one write), but never queue a reply behind an unsent one (a
 * client that does not read stops being served) nor answer past a reply
 * that is still to come (a reload in progress).
 */
static void client_serve(struct sl_daemon *d, struct sl_client *c)
{
	while (!c->waiting && c->out_off >= c->out_len && c->in_len &&
	       memchr(c->in, '\n', c->in_len)) {
		client_request(d, c);
		/* Answered: the next request has its own deadline. */
		c->request_start_ms = c->last_active_ms;
		if (client_flush(c)) {
			client_close(d, c);
			return;
		}
	}
	client_want(d, c);
}

void sl_ctl_event(struct sl_daemon *d, struct sl_client *c, __u32 events)
{
	c->last_active_ms = sl_unix_ms();
	if (c->waiting) {
		/* Only a hang-up is watched for while its reply is due. */
		if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
			client_close(d, c);
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		client_close(d, c);
		return;
	}
	if (events & EPOLLOUT) {
		if (client_flush(c)) {
			client_close(d, c);
			return;
		}
	} else if (client_read(d, c)) {
		client_close(d, c);
		return;
	}
	client_serve(d, c);
}

void sl_ctl_reload_done(struct sl_daemon *d, __u64 gen, json_object *result)
{
	struct sl_ctl_reply r;
	struct sl_client *c;
	size_t i, len;
	char *text;

	for (i = 0; i < sizeof(d->clients) / sizeof(d->clients[0]); i++) {
		c = &d->clients[i];
		if (c->fd < 0 || !c->waiting || c->reload_gen > gen)
			continue;
		memset(&r, 0, sizeof(r));
		r.result = result ? json_object_get(result) : NULL;
		if (!result)
			sl_ctl_fail(&r, "ENOMEM", NULL, "cannot reload: out of memory");
		text = reply_text(&r, &len);
		c->waiting = false;
		c->last_active_ms = c->request_start_ms = sl_unix_ms();
		client_queue(c, text, len);
		if (client_flush(c)) {
			client_close(d, c);
			continue;
		}
		client_serve(d, c);
	}
}

static bool peer_allowed(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len))
		return false;
	return cred->uid == 0 || cred->uid == geteuid();
}

void sl_ctl_accept(struct sl_daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sl_client *c = NULL;
	struct ucred cred;
	size_t i;
	int fd;

	fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (!peer_allowed(fd, &cred)) {
		static const char msg[] = "{\"ok\":false,\"error\":\"permission denied: "
			"the control socket accepts root only\",\"errno\":\"EACCES\"}\n";

		if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL) < 0)
			sl_debug("cannot refuse client: %s", strerror(errno));
		close(fd);
		return;
	}
	for (i = 0; i < sizeof(d->clients) / sizeof(d->clients[0]); i++) {
		if (d->clients[i].fd < 0) {
			c = &d->clients[i];
			break;
		}
	}
	if (!c) {
		static const char msg[] = "{\"ok\":false,\"error\":\"too many control "
			"connections\",\"errno\":\"EBUSY\"}\n";

		if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL) < 0)
			sl_debug("cannot refuse client: %s", strerror(errno));
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->last_active_ms = sl_unix_ms();
	c->request_start_ms = c->last_active_ms;
	ev.data.ptr = c;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev))
		client_close(d, c);
}

/*
 * A client waiting for its reply to drain is judged by activity (it reads
 * or it does not); a client owing a request has SL_CTL_REQUEST_MS from
 * connecting (or from its last reply) to send the whole line, however it
 * trickles: 64 slow clients cannot hold every slot for good.
 */
static bool client_overdue(const struct sl_client *c, __u64 now)
{
	if (c->waiting)
		return false;	/* it waits for us: a reload in progress */
	if (c->out_off < c->out_len)
		return now - c->last_active_ms > CLIENT_IDLE_MS;
	return now - c->request_start_ms > SL_CTL_REQUEST_MS;
}

void sl_ctl_reap_idle(struct sl_daemon *d)
{
	__u64 now = sl_unix_ms();
	size_t i;

	for (i = 0; i < sizeof(d->clients) / sizeof(d->clients[0]); i++)
		if (d->clients[i].fd >= 0 && client_overdue(&d->clients[i], now))
			client_close(d, &d->clients[i]);
}

void sl_ctl_close_all(struct sl_daemon *d)
{
	size_t i;

	for (i = 0; i < sizeof(d->clients) / sizeof(d->clients[0]); i++)
		if (d->clients[i].fd >= 0)
			client_close(d, &d->clients[i]);
	close(d->listen_fd);
}

/* Refuse to steal the socket of a live daemon; replace a stale one. */
static int socket_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int live;

	if (fd < 0)
		return 0;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

int sl_ctl_listen(struct sl_daemon *d, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->cfg.control_socket;
	char dir[sizeof(sa.sun_path)];
	char *slash;
	mode_t old;
	size_t i;

	/* fd 0 is a valid client fd when stdin is closed: -1 marks a free slot. */
	for (i = 0; i < sizeof(d->clients) / sizeof(d->clients[0]); i++)
		d->clients[i].fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	if (socket_in_use(&sa)) {
		snprintf(err, errlen, "control socket %s is in use: is another sluiced "
			 "running for instance %s?", path, d->cfg.instance);
		return -EADDRINUSE;
	}
	unlink(path);
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0)
		return -errno;
	old = umask(0177);	/* root-only: 0600 */
	if (bind(d->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(d->listen_fd, 16)) {
		umask(old);
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		return -errno;
	}
	umask(old);
	return 0;
}
