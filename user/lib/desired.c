// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The fleet's desired-state document and key layout (desired.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "array.h"
#include "config.h"
#include "desired.h"
#include "health.h"
#include "json_get.h"

struct ctx {
	const struct sl_desired_caps *caps;
	struct sl_state *st;
	char *err;
	size_t errlen;
};

/* Every message names the field: "vips[1].backends[0].weight: ...". */
static int __attribute__((format(printf, 3, 4)))
bad(struct ctx *c, const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s", field, msg);
	return -EINVAL;
}

/* Unknown keys are refused: a typo ("wieght") must not pass silently. */
static int only_keys(struct ctx *c, json_object *o, const char *field,
		     const char *const *keys, size_t n)
{
	size_t i;

	json_object_object_foreach(o, k, v) {
		(void)v;
		for (i = 0; i < n && strcmp(k, keys[i]); i++)
			;
		if (i == n)
			return bad(c, field, "unknown key \"%.40s\"", k);
	}
	return 0;
}

static int be_addr(struct ctx *c, const char *f, json_object *b,
		   struct sluice_addr *addr, __u8 *family)
{
	const char *s = sl_json_str(b, "address");

	if (!s)
		return bad(
			c, f,
			"\"address\" is missing or not a string (e.g. \"198.18.1.10\")");
	if (sl_parse_addr(s, addr, family) ||
	    !sl_addr_is_unicast(addr, *family))
		return bad(c, f,
			   "\"%.60s\" is not a unicast IPv4 or IPv6 address",
			   s);
	if (sl_addr_is_loopback(addr, *family))
		return bad(
			c, f,
			"%s is a loopback address: encapsulated packets to it never "
			"leave the box (use the backend's own address)",
			s);
	if (c->caps && *family == SLUICE_AF_INET && !c->caps->v4)
		return bad(
			c, f,
			"IPv4 backend %s, but this box has no encap.source_v4",
			s);
	if (c->caps && *family == SLUICE_AF_INET6 && !c->caps->v6)
		return bad(
			c, f,
			"IPv6 backend %s, but this box has no encap.source_v6",
			s);
	return 0;
}

static int be_weight(struct ctx *c, const char *f, json_object *b,
		     __u32 *weight)
{
	json_object *v;
	int64_t w;

	*weight = SL_CFG_DEF_WEIGHT;
	if (!json_object_object_get_ex(b, "weight", &v))
		return 0;
	w = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || w < 0 ||
	    w > SL_CFG_WEIGHT_MAX)
		return bad(c, f,
			   "weight must be an integer 0..%u (0 = no new flows)",
			   SL_CFG_WEIGHT_MAX);
	*weight = (__u32)w;
	return 0;
}

static int be_state(struct ctx *c, const char *f, json_object *b, int *state)
{
	json_object *v;
	const char *s;

	*state = SL_BE_ACTIVE;
	if (!json_object_object_get_ex(b, "state", &v))
		return 0;
	s = json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) :
		    "";
	if (!strcmp(s, "draining"))
		*state = SL_BE_DRAINING;
	else if (strcmp(s, "active"))
		return bad(
			c, f,
			"state must be \"active\" or \"draining\", got %.40s",
			json_object_to_json_string(v));
	return 0;
}

/*
 * "agent_port" of a VIP (its backends inherit it) or a backend (0 turns
 * an inherited one off), as in the config file: absent leaves @port.
 */
static int agent_port(struct ctx *c, const char *f, json_object *o, __u16 *port)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, "agent_port", &v))
		return 0;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < 0 || n > 65535)
		return bad(c, f,
			   "agent_port must be an integer 0..65535 (0: no "
			   "agent), got %.40s",
			   json_object_to_json_string(v));
	*port = (__u16)n;
	return 0;
}

static int parse_be(struct ctx *c, const struct sl_vip_spec *spec,
		    json_object *b, const char *vf, size_t j)
{
	static const char *const keys[] = { "address", "weight", "state",
					    "name", "agent_port" };
	struct sluice_addr addr;
	char f[96], e[256];
	const char *name;
	struct sl_be *be;
	__u32 weight;
	__u8 family;
	int state, rc;

	snprintf(f, sizeof(f), "%s.backends[%zu]", vf, j);
	if (!json_object_is_type(b, json_type_object))
		return bad(
			c, f,
			"expected an object {\"address\": ..., \"weight\": ...}");
	rc = only_keys(c, b, f, keys, ARRAY_SIZE(keys));
	if (!rc)
		rc = be_addr(c, f, b, &addr, &family);
	if (!rc)
		rc = be_weight(c, f, b, &weight);
	if (!rc)
		rc = be_state(c, f, b, &state);
	if (rc)
		return rc;
	if (sl_state_has_vip_addr(c->st, &addr, family))
		return bad(
			c, f,
			"the backend is the address of a VIP: packets would loop "
			"back into sluice");
	if (sl_state_be_add(c->st, spec, &addr, family, weight, e, sizeof(e)))
		return bad(c, f, "%s", e);
	be = sl_vip_find_be(sl_state_find_vip(c->st, spec), &addr, family);
	be->state = state;
	rc = agent_port(c, f, b, &be->hc.agent_port);
	if (rc)
		return rc;
	name = sl_json_str(b, "name");
	if (name && sl_state_be_set_name(c->st, spec, &addr, family, name, e,
					 sizeof(e)))
		return bad(c, f, "%s", e);
	return 0;
}

static int parse_vip(struct ctx *c, json_object *v, size_t i)
{
	static const char *const keys[] = { "vip", "backends", "agent_port" };
	struct sl_vip_spec spec;
	struct sl_vip *vip;
	json_object *bes = NULL;
	char f[48], e[256];
	const char *s;
	size_t j;
	int rc;

	snprintf(f, sizeof(f), "vips[%zu]", i);
	if (!json_object_is_type(v, json_type_object))
		return bad(
			c, f,
			"expected an object {\"vip\": ..., \"backends\": [...]}");
	rc = only_keys(c, v, f, keys, ARRAY_SIZE(keys));
	if (rc)
		return rc;
	s = sl_json_str(v, "vip");
	if (!s)
		return bad(
			c, f,
			"\"vip\" is missing or not a string (e.g. \"198.18.0.100:80/tcp\")");
	if (sl_parse_vip(s, &spec, e, sizeof(e)))
		return bad(c, f, "%s", e);
	if (sl_state_vip_add(c->st, &spec, e, sizeof(e)))
		return bad(c, f, "%s %s", s, e);
	vip = sl_state_find_vip(c->st, &spec);
	sl_health_cfg_defaults(&vip->hc);
	rc = agent_port(c, f, v, &vip->hc.agent_port);
	if (rc)
		return rc;
	if (json_object_object_get_ex(v, "backends", &bes) &&
	    !json_object_is_type(bes, json_type_array))
		return bad(c, f, "\"backends\" must be a list");
	for (j = 0; bes && j < json_object_array_length(bes); j++) {
		rc = parse_be(c, &spec, json_object_array_get_idx(bes, j), f,
			      j);
		if (rc)
			return rc;
	}
	return 0;
}

/* A backend listed before the VIP whose address it is: caught once all are in. */
static int check_no_loops(struct ctx *c)
{
	size_t i, j;

	for (i = 0; i < c->st->n_vips; i++)
		for (j = 0; j < c->st->vips[i].n_bes; j++) {
			const struct sl_be *b = &c->st->vips[i].bes[j];
			char f[80];

			if (!sl_state_has_vip_addr(c->st, &b->addr, b->family))
				continue;
			snprintf(f, sizeof(f), "vips[%zu].backends[%zu]", i, j);
			return bad(
				c, f,
				"the backend is the address of a VIP: packets "
				"would loop back into sluice");
		}
	return 0;
}

static int parse_boxes(struct ctx *c, json_object *root, struct sl_desired *out)
{
	json_object *arr, *b;
	char f[48], e[256];
	size_t i;

	if (!json_object_object_get_ex(root, "boxes_drained", &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return bad(c, "boxes_drained", "must be a list of box names");
	for (i = 0; i < json_object_array_length(arr); i++) {
		snprintf(f, sizeof(f), "boxes_drained[%zu]", i);
		b = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(b, json_type_string))
			return bad(c, f, "expected a box name");
		if (sl_desired_box_check(json_object_get_string(b), e,
					 sizeof(e)))
			return bad(c, f, "%s", e);
		if (sl_desired_set_box_drained(out, json_object_get_string(b),
					       true))
			return bad(c, f, "more than %d boxes",
				   SL_DESIRED_MAX_BOXES);
	}
	return 0;
}

int sl_desired_parse(const char *text, size_t len,
		     const struct sl_desired_caps *caps, struct sl_desired *out,
		     char *err, size_t errlen)
{
	struct sl_state *st = &out->st;
	struct ctx c = { .caps = caps, .st = st, .err = err, .errlen = errlen };
	static const char *const keys[] = { "vips", "boxes_drained" };
	enum json_tokener_error jerr;
	json_tokener *tok;
	json_object *root = NULL, *vips;
	size_t i;
	int rc = 0;

	sl_state_init(st);
	out->n_drained = 0;
	if (len > SL_DESIRED_DOC_MAX)
		return bad(&c, "desired", "%zu bytes, at most %d", len,
			   SL_DESIRED_DOC_MAX);
	tok = json_tokener_new();
	if (!tok)
		return bad(&c, "desired", "out of memory");
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!root || jerr != json_tokener_success ||
	    tok->char_offset != (int)len)
		rc = bad(&c, "desired", "not one JSON document (%s at byte %d)",
			 root && jerr == json_tokener_success ?
				 "trailing data" :
				 json_tokener_error_desc(jerr),
			 tok->char_offset);
	json_tokener_free(tok);
	if (!rc && !json_object_is_type(root, json_type_object))
		rc = bad(&c, "desired", "expected an object {\"vips\": [...]}");
	if (!rc)
		rc = only_keys(&c, root, "desired", keys, 2);
	if (!rc && (!json_object_object_get_ex(root, "vips", &vips) ||
		    !json_object_is_type(vips, json_type_array)))
		rc = bad(&c, "desired", "\"vips\" is missing or not a list");
	for (i = 0; !rc && i < json_object_array_length(vips); i++)
		rc = parse_vip(&c, json_object_array_get_idx(vips, i), i);
	if (!rc)
		rc = check_no_loops(&c);
	if (!rc)
		rc = parse_boxes(&c, root, out);
	json_object_put(root);
	if (rc) {
		sl_state_free(st);
		out->n_drained = 0;
	}
	return rc;
}

static json_object *be_json(const struct sl_vip *v, const struct sl_be *b)
{
	json_object *o = json_object_new_object();
	char a[SL_ADDR_STR_MAX];

	sl_format_addr(&b->addr, b->family, a, sizeof(a));
	json_object_object_add(o, "address", json_object_new_string(a));
	json_object_object_add(o, "weight", json_object_new_int64(b->weight));
	json_object_object_add(o, "state",
			       json_object_new_string(b->state == SL_BE_ACTIVE ?
							      "active" :
							      "draining"));
	if (b->name[0])
		json_object_object_add(o, "name",
				       json_object_new_string(b->name));
	if (b->hc.agent_port != v->hc.agent_port)
		json_object_object_add(o, "agent_port",
				       json_object_new_int(b->hc.agent_port));
	return o;
}

bool sl_desired_box_drained(const struct sl_desired *d, const char *box)
{
	size_t i;

	for (i = 0; i < d->n_drained; i++)
		if (!strcmp(d->drained[i], box))
			return true;
	return false;
}

int sl_desired_set_box_drained(struct sl_desired *d, const char *box,
			       bool drained)
{
	size_t i;

	for (i = 0; i < d->n_drained && strcmp(d->drained[i], box); i++)
		;
	if (i < d->n_drained && !drained)
		memmove(d->drained[i], d->drained[i + 1],
			(d->n_drained-- - i - 1) * sizeof(d->drained[0]));
	if (i == d->n_drained && drained) {
		if (d->n_drained == SL_DESIRED_MAX_BOXES)
			return -ENOSPC;
		snprintf(d->drained[d->n_drained++], SL_DESIRED_BOX_MAX, "%s",
			 box);
	}
	return 0;
}

json_object *sl_desired_format(const struct sl_desired *d)
{
	const struct sl_state *st = &d->st;
	json_object *root = json_object_new_object(),
		    *vips = json_object_new_array();
	char vs[SL_VIP_STR_MAX];
	size_t i, j;

	if (!root || !vips) {
		json_object_put(root);
		json_object_put(vips);
		return NULL;
	}
	for (i = 0; i < st->n_vips; i++) {
		json_object *v = json_object_new_object(),
			    *bes = json_object_new_array();

		sl_format_vip(&st->vips[i].spec, vs, sizeof(vs));
		json_object_object_add(v, "vip", json_object_new_string(vs));
		if (st->vips[i].hc.agent_port)
			json_object_object_add(
				v, "agent_port",
				json_object_new_int(st->vips[i].hc.agent_port));
		for (j = 0; j < st->vips[i].n_bes; j++)
			json_object_array_add(bes,
					      be_json(&st->vips[i],
						      &st->vips[i].bes[j]));
		json_object_object_add(v, "backends", bes);
		json_object_array_add(vips, v);
	}
	json_object_object_add(root, "vips", vips);
	if (d->n_drained) {
		json_object *boxes = json_object_new_array();

		for (i = 0; i < d->n_drained; i++)
			json_object_array_add(
				boxes, json_object_new_string(d->drained[i]));
		json_object_object_add(root, "boxes_drained", boxes);
	}
	return root;
}

int sl_desired_prefix_check(const char *prefix, char *err, size_t errlen)
{
	size_t i, len = strlen(prefix);

	if (!len || len >= SL_DESIRED_PREFIX_MAX || prefix[len - 1] == '/' ||
	    strstr(prefix, "//")) {
		snprintf(err, errlen,
			 "cluster prefix \"%.140s\" must be 1-%d characters, "
			 "without a trailing '/' or \"//\" (e.g. /sluice/edge)",
			 prefix, SL_DESIRED_PREFIX_MAX - 1);
		return -EINVAL;
	}
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)prefix[i]) &&
		    !strchr("/_.-", prefix[i])) {
			snprintf(
				err, errlen,
				"cluster prefix \"%.140s\": only letters, digits "
				"and '/', '_', '.', '-'",
				prefix);
			return -EINVAL;
		}
	return 0;
}

int sl_desired_box_check(const char *box, char *err, size_t errlen)
{
	size_t i, len = strlen(box);

	if (!len || len >= SL_DESIRED_BOX_MAX) {
		snprintf(err, errlen,
			 "box name \"%.80s\" must be 1-%d characters", box,
			 SL_DESIRED_BOX_MAX - 1);
		return -EINVAL;
	}
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)box[i]) && !strchr("._-", box[i])) {
			snprintf(err, errlen,
				 "box name \"%.80s\": only letters, digits and "
				 "'.', '_', '-' (it is part of an etcd key)",
				 box);
			return -EINVAL;
		}
	return 0;
}

void sl_desired_key(const char *prefix, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" SL_DESIRED_KEY, prefix);
}

void sl_desired_boxes_key(const char *prefix, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" SL_DESIRED_BOXES, prefix);
}

void sl_desired_box_key(const char *prefix, const char *box, char *buf,
			size_t len)
{
	snprintf(buf, len, "%s/" SL_DESIRED_BOXES "%s", prefix, box);
}

void sl_desired_conflicts_key(const char *prefix, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" SL_DESIRED_CONFLICTS, prefix);
}

void sl_desired_conflict_key(const char *prefix, const char *box,
			     long long lease, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" SL_DESIRED_CONFLICTS "%s/%llx", prefix, box,
		 lease);
}
