// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control commands' table (ctl_ops.h), the request argument checks
 * they share, runtime weight changes (backend.set) and table fingerprints.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_ops.h"
#include "guard.h"
#include "json_get.h"

int sl_ctl_fail(struct sl_ctl_reply *r, const char *errname, const char *hint,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	snprintf(r->hint, sizeof(r->hint), "%s", hint ? hint : "");
	r->errname = errname;
	return -1;
}

const char *sl_ctl_arg_str(json_object *req, const char *key)
{
	return sl_json_str(req, key);
}

int sl_ctl_arg_vip(json_object *req, struct sl_vip_spec *vip, struct sl_ctl_reply *r)
{
	const char *s = sl_ctl_arg_str(req, SL_CTL_KEY_VIP);
	char err[256];

	if (!s)
		return sl_ctl_fail(r, "EINVAL", NULL, "missing string argument \"%s\"",
				   SL_CTL_KEY_VIP);
	if (sl_parse_vip(s, vip, err, sizeof(err)))
		return sl_ctl_fail(r, "EINVAL", NULL, "%s", err);
	return 0;
}

/*
 * A name given where an address goes: the backend so called on @vip, or
 * on any VIP (@vip NULL) as long as they all mean the same address.
 */
static int backend_by_name(const struct sl_daemon *d, const char *name,
			   const struct sl_vip_spec *vip, struct sluice_addr *addr,
			   __u8 *family, struct sl_ctl_reply *r)
{
	const struct sl_vip *only = vip ? sl_state_find_vip(&d->st, vip) : NULL;
	const struct sl_be *found = NULL, *b;
	size_t i;

	for (i = 0; i < d->st.n_vips; i++) {
		if (vip && only != &d->st.vips[i])
			continue;
		b = sl_vip_find_be_by_name(&d->st.vips[i], name);
		if (!b)
			continue;
		if (found && (found->family != b->family ||
			      memcmp(&found->addr, &b->addr, sizeof(b->addr))))
			return sl_ctl_fail(r, "EINVAL", "give the VIP too, or the address",
					   "backend name \"%s\" means different addresses on "
					   "different VIPs", name);
		found = b;
	}
	if (!found)
		return sl_ctl_fail(r, "ENOENT", "backend list shows the names",
				   "no backend is called \"%s\"%s", name,
				   vip ? " on this VIP" : "");
	*addr = found->addr;
	*family = found->family;
	return 0;
}

int sl_ctl_arg_backend(const struct sl_daemon *d, json_object *req,
		       const struct sl_vip_spec *vip, struct sluice_addr *addr,
		       __u8 *family, struct sl_ctl_reply *r)
{
	const char *s = sl_ctl_arg_str(req, SL_CTL_KEY_BACKEND);
	char why[256];

	if (!s)
		return sl_ctl_fail(r, "EINVAL", NULL, "missing string argument \"%s\"",
				   SL_CTL_KEY_BACKEND);
	if (!sl_parse_addr(s, addr, family))
		return 0;
	if (d && !sl_be_name_check(s, why, sizeof(why)))
		return backend_by_name(d, s, vip, addr, family, r);
	return sl_ctl_fail(r, "EINVAL", NULL, "invalid backend address \"%.64s\" (expected an "
			   "IPv4 or IPv6 address%s)", s, d ? " or a backend's name" : "");
}

int sl_ctl_arg_u64(json_object *req, const char *key, __u64 min, __u64 max,
		   __u64 *out, struct sl_ctl_reply *r)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(req, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return sl_ctl_fail(r, "EINVAL", NULL, "argument \"%s\" must be an integer", key);
	n = json_object_get_int64(v);
	if (n < 0 || (__u64)n < min || (__u64)n > max)
		return sl_ctl_fail(r, "EINVAL", NULL, "argument \"%s\" must be %llu..%llu",
				   key, (unsigned long long)min, (unsigned long long)max);
	*out = n;
	return 0;
}

/* ---- table fingerprints ------------------------------------------------- */

json_object *sl_ctl_fingerprint(const struct sl_daemon *d, __u32 vip_id)
{
	char hex[SL_CTL_FINGERPRINT_LEN + 1];

	if (vip_id >= SLUICE_MAX_VIPS || !d->dp.table_fp[vip_id])
		return NULL;
	snprintf(hex, sizeof(hex), "%016" PRIx64, (uint64_t)d->dp.table_fp[vip_id]);
	return json_object_new_string(hex);
}

json_object *sl_ctl_tables(const struct sl_daemon *d)
{
	json_object *arr = json_object_new_array();
	char vs[SL_VIP_STR_MAX];
	size_t i;

	for (i = 0; i < d->st.n_vips; i++) {
		json_object *o = json_object_new_object();

		sl_format_vip(&d->st.vips[i].spec, vs, sizeof(vs));
		json_object_object_add(o, SL_CTL_KEY_VIP, json_object_new_string(vs));
		json_object_object_add(o, SL_CTL_KEY_FINGERPRINT,
				       sl_ctl_fingerprint(d, d->st.vips[i].id));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* ---- backend.set -------------------------------------------------------- */

static int cmd_backend_set(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct sl_vip_spec vip;
	struct sluice_addr addr;
	struct sl_state next;
	const struct sl_be *b;
	__u64 weight = UINT64_MAX;
	__u32 old;
	char err[512];
	__u8 family;
	bool force = false;	/* true: may take a VIP's last active backend away */
	int rc;

	if (sl_ctl_arg_vip(req, &vip, r) || sl_ctl_arg_backend(d, req, &vip, &addr, &family, r) ||
	    sl_ctl_arg_u64(req, SL_CTL_KEY_WEIGHT, 0, SL_CFG_WEIGHT_MAX, &weight, r) ||
	    sl_ctl_opt_bool(req, SL_CTL_KEY_FORCE, &force, r))
		return -1;
	if (weight == UINT64_MAX)
		return sl_ctl_fail(r, "EINVAL", "e.g. sluicectl backend set VIP ADDR --weight 50",
				   "cannot set backend %s on %s: missing \"%s\" (0..%u)",
				   sl_ctl_arg_str(req, SL_CTL_KEY_BACKEND),
				   sl_ctl_arg_str(req, SL_CTL_KEY_VIP), SL_CTL_KEY_WEIGHT,
				   SL_CFG_WEIGHT_MAX);
	/* Weight 0 takes new flows away, as a drain does: same guard. */
	if (weight == 0 && !force && sl_state_find_vip(&d->st, &vip) &&
	    sl_guard_last_active(sl_state_find_vip(&d->st, &vip), &addr, family, err,
				 sizeof(err)))
		return sl_ctl_fail(r, "EPERM", "to do it anyway, add --force (\"force\": true)",
				   "cannot set the weight of backend %s on %s to 0: %s",
				   sl_ctl_arg_str(req, SL_CTL_KEY_BACKEND),
				   sl_ctl_arg_str(req, SL_CTL_KEY_VIP), err);
	if (sl_state_copy(&next, &d->st))
		return sl_ctl_fail(r, "ENOMEM", NULL, "out of memory");
	rc = sl_state_be_set_weight(&next, &vip, &addr, family, weight, &old, err,
				    sizeof(err));
	if (!rc)
		rc = sl_daemon_commit(d, &next, err, sizeof(err));
	sl_state_free(&next);
	if (rc)
		return sl_ctl_fail(r, rc == -ENOENT ? "ENOENT" : "EIO",
				   rc == -ENOENT ? "list backends with: sluicectl backend list" : NULL,
				   "cannot set the weight of backend %s on %s: %s",
				   sl_ctl_arg_str(req, SL_CTL_KEY_BACKEND),
				   sl_ctl_arg_str(req, SL_CTL_KEY_VIP), err);
	b = sl_vip_find_be(sl_state_find_vip(&d->st, &vip), &addr, family);
	r->result = json_object_new_object();
	json_object_object_add(r->result, SL_CTL_KEY_VIP,
			       json_object_new_string(sl_ctl_arg_str(req, SL_CTL_KEY_VIP)));
	json_object_object_add(r->result, SL_CTL_KEY_BACKEND,
			       json_object_new_string(sl_ctl_arg_str(req, SL_CTL_KEY_BACKEND)));
	json_object_object_add(r->result, SL_CTL_KEY_WEIGHT, json_object_new_uint64(b->weight));
	json_object_object_add(r->result, SL_CTL_KEY_OLD_WEIGHT, json_object_new_uint64(old));
	sl_log("backend %s on %s: weight %u -> %u", sl_ctl_arg_str(req, SL_CTL_KEY_BACKEND),
	       sl_ctl_arg_str(req, SL_CTL_KEY_VIP), old, b->weight);
	return 0;
}

/* ---- shared by the command files ---------------------------------------- */

const char *sl_ctl_errno_name(int err)
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


bool sl_ctl_has_arg(json_object *req, const char *key)
{
	return json_object_object_get_ex(req, key, NULL);
}

int sl_ctl_opt_bool(json_object *req, const char *key, bool *out, struct sl_ctl_reply *r)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return sl_ctl_fail(r, "EINVAL", NULL, "argument \"%s\" must be true or false", key);
	*out = json_object_get_boolean(v);
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

static const struct {
	const char *name;
	sl_ctl_fn fn;
} ops[] = {
	{ SL_CTL_CMD_STATUS, sl_ctl_cmd_status },
	{ SL_CTL_CMD_BOX_DRAIN, sl_ctl_cmd_box_drain },
	{ SL_CTL_CMD_BOX_UNDRAIN, sl_ctl_cmd_box_undrain },
	{ SL_CTL_CMD_VIP_LIST, sl_ctl_cmd_vip_list },
	{ SL_CTL_CMD_VIP_ADD, sl_ctl_cmd_vip_add },
	{ SL_CTL_CMD_VIP_DEL, sl_ctl_cmd_vip_del },
	{ SL_CTL_CMD_BACKEND_ADD, sl_ctl_cmd_be_add },
	{ SL_CTL_CMD_BACKEND_DEL, sl_ctl_cmd_be_del },
	{ SL_CTL_CMD_BACKEND_DRAIN, sl_ctl_cmd_drain },
	{ SL_CTL_CMD_BACKEND_UNDRAIN, sl_ctl_cmd_undrain },
	{ SL_CTL_CMD_BACKEND_LIST, sl_ctl_cmd_backend_list },
	{ SL_CTL_CMD_BACKEND_STATUS, sl_ctl_cmd_be_status },
	{ SL_CTL_CMD_BACKEND_SET, cmd_backend_set },
	{ SL_CTL_CMD_RELOAD, sl_ctl_cmd_reload },
	{ SL_CTL_CMD_CONFIG_DUMP, sl_ctl_cmd_config_dump },
	{ SL_CTL_CMD_FLOWS, sl_ctl_cmd_flows },
};

sl_ctl_fn sl_ctl_ops_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(name, ops[i].name))
			return ops[i].fn;
	return NULL;
}
