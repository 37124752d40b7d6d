// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Control commands that change the running state (ctl_ops.h): VIPs and
 * backends added and removed, drains and undrains (and backend.status,
 * which takes a drain's arguments), the box drain. Each applies to a copy
 * of the state and commits it whole, or changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <json-c/json.h>
#include <bpf/bpf.h>

#include "agent_poll.h"
#include "ctl.h"
#include "ctl_ops.h"
#include "daemon.h"
#include "guard.h"
#include "sluice.skel.h"

#define FORCE_HINT "to do it anyway, add --force (\"force\": true)"

/* Validate-and-apply on a copy, then commit (sync, persist) or roll back. */
typedef int (*state_op)(struct sl_state *st, void *arg, char *err, size_t len);

static int change(struct sl_daemon *d, state_op op, void *arg,
		  const char *what, struct sl_ctl_reply *r)
{
	struct sl_state next;
	char err[512];
	int rc;

	/* A change on one box would silently diverge it from the fleet. */
	if (d->cfg.cluster_enabled)
		return sl_ctl_fail(
			r, "EPERM",
			"change the fleet's desired state: sluicectl "
			"--cluster ENDPOINTS ... (README, \"Running a fleet\")",
			"cannot %s: this box follows the desired state in etcd "
			"(%s/desired)",
			what, d->cfg.cluster_prefix);
	if (sl_state_copy(&next, &d->st))
		return sl_ctl_fail(r, "ENOMEM", NULL, "cannot %s: out of memory", what);
	rc = op(&next, arg, err, sizeof(err));
	if (!rc)
		rc = sl_daemon_commit(d, &next, err, sizeof(err));
	sl_state_free(&next);
	if (rc)
		return sl_ctl_fail(r, sl_ctl_errno_name(-rc), rc == -EPERM ? FORCE_HINT : NULL,
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

int sl_ctl_cmd_vip_add(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct op_arg a;
	char what[128];

	memset(&a, 0, sizeof(a));
	if (sl_ctl_arg_vip(req, &a.vip, r))
		return -1;
	snprintf(what, sizeof(what), "add VIP %s", sl_ctl_arg_str(req, "vip"));
	return change(d, op_vip_add, &a, what, r);
}

int sl_ctl_cmd_vip_del(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct op_arg a;
	char what[128];

	memset(&a, 0, sizeof(a));
	if (sl_ctl_arg_vip(req, &a.vip, r))
		return -1;
	snprintf(what, sizeof(what), "delete VIP %s", sl_ctl_arg_str(req, "vip"));
	return change(d, op_vip_del, &a, what, r);
}

int sl_ctl_cmd_be_add(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct op_arg a;
	char what[192];

	memset(&a, 0, sizeof(a));
	a.weight = 100;
	if (sl_ctl_arg_vip(req, &a.vip, r) ||
	    sl_ctl_arg_backend(NULL, req, NULL, &a.addr, &a.family, r) ||
	    sl_ctl_arg_u64(req, SL_CTL_KEY_WEIGHT, 0, SL_CFG_WEIGHT_MAX, &a.weight, r))
		return -1;
	if (sl_ctl_has_arg(req, SL_CTL_KEY_NAME)) {
		if (!sl_ctl_arg_str(req, SL_CTL_KEY_NAME))
			return sl_ctl_fail(r, "EINVAL", NULL, "argument \"name\" must be a string");
		snprintf(a.name, sizeof(a.name), "%s", sl_ctl_arg_str(req, SL_CTL_KEY_NAME));
		if (strlen(sl_ctl_arg_str(req, SL_CTL_KEY_NAME)) >= sizeof(a.name))
			return sl_ctl_fail(r, "EINVAL", NULL, "backend name longer than %d characters",
					   SL_BE_NAME_MAX - 1);
	}
	snprintf(what, sizeof(what), "add backend %s to %s", sl_ctl_arg_str(req, "backend"),
		 sl_ctl_arg_str(req, "vip"));
	return change(d, op_be_add, &a, what, r);
}

int sl_ctl_cmd_be_del(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct op_arg a;
	char what[192];

	memset(&a, 0, sizeof(a));
	if (sl_ctl_arg_vip(req, &a.vip, r) ||
	    sl_ctl_arg_backend(d, req, &a.vip, &a.addr, &a.family, r) ||
	    sl_ctl_opt_bool(req, SL_CTL_KEY_FORCE, &a.force, r))
		return -1;
	snprintf(what, sizeof(what), "delete backend %s from %s",
		 sl_ctl_arg_str(req, "backend"), sl_ctl_arg_str(req, "vip"));
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
		json_object_array_add(arr, sl_ctl_be_status_row(d, v, b));
	}
	return arr;
}

static int drain_args(struct sl_daemon *d, json_object *req, struct op_arg *a,
		      char *what, size_t len, const char *verb, struct sl_ctl_reply *r)
{
	memset(a, 0, sizeof(*a));
	a->all_vips = !sl_ctl_has_arg(req, "vip");
	a->timeout_ms = d->cfg.drain_timeout_ms;
	a->now = sl_daemon_now(d);
	if ((!a->all_vips && sl_ctl_arg_vip(req, &a->vip, r)) ||
	    sl_ctl_arg_backend(d, req, a->all_vips ? NULL : &a->vip, &a->addr,
			       &a->family, r) ||
	    sl_ctl_arg_u64(req, SL_CTL_KEY_TIMEOUT_MS, SL_CFG_DRAIN_MIN_MS,
			   SL_CFG_DRAIN_MAX_MS, &a->timeout_ms, r) ||
	    sl_ctl_opt_bool(req, SL_CTL_KEY_FORCE, &a->force, r))
		return -1;
	a->has_timeout = sl_ctl_has_arg(req, SL_CTL_KEY_TIMEOUT_MS);
	if (a->all_vips)
		snprintf(what, len, "%s backend %s", verb, sl_ctl_arg_str(req, "backend"));
	else
		snprintf(what, len, "%s backend %s on %s", verb,
			 sl_ctl_arg_str(req, "backend"), sl_ctl_arg_str(req, "vip"));
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
			what = json_object_get_uint64(json_object_object_get(o, SL_CTL_KEY_DEADLINE)) ==
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

int sl_ctl_cmd_drain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	return drain_cmd(d, req, r, "drain", op_drain);
}

int sl_ctl_cmd_undrain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	return drain_cmd(d, req, r, "undrain", op_undrain);
}

int sl_ctl_cmd_be_status(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
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


/* ---- the box ------------------------------------------------------------- */

static int box_drain(struct sl_daemon *d, bool drain, struct sl_ctl_reply *r)
{
	char err[512];

	if (sl_ann_box_drain(d, drain, false, err, sizeof(err)))
		return sl_ctl_fail(r, "EIO", NULL, "%s", err);
	r->result = sl_ann_status(d);
	return 0;
}

int sl_ctl_cmd_box_drain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	(void)req;
	return box_drain(d, true, r);
}

int sl_ctl_cmd_box_undrain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	(void)req;
	return box_drain(d, false, r);
}
