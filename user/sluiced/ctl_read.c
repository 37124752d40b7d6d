// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Control commands that read (ctl_ops.h): status, vip.list, backend.list,
 * and the rows of a backend that backend.status and drains reply with.
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

void sl_ctl_fmt_vip(const struct sl_vip *v, char *buf)
{
	sl_format_vip(&v->spec, buf, SL_VIP_STR_MAX);
}

void sl_ctl_fmt_be(const struct sl_be *b, char *buf)
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
		json_object_object_add(
			o, "agent_error",
			json_object_new_string(
				r.started_boot_ms ? r.err : "not read yet"));
}

/* What every backend row starts with; @s gets the backend's counters. */
static json_object *row_head(struct sl_daemon *d, const struct sl_vip *v,
			     const struct sl_be *b, struct sluice_be_stats *s)
{
	json_object *o = json_object_new_object();
	char vs[SL_VIP_STR_MAX], bs[SL_ADDR_STR_MAX];

	memset(s, 0, sizeof(*s));
	sl_be_stats_read(&d->maps, b->id, s);
	sl_ctl_fmt_vip(v, vs);
	sl_ctl_fmt_be(b, bs);
	json_object_object_add(o, "vip", json_object_new_string(vs));
	json_object_object_add(o, "backend", json_object_new_string(bs));
	json_object_object_add(o, SL_CTL_KEY_NAME, json_object_new_string(b->name));
	json_object_object_add(o, "state", json_object_new_string(sl_be_state_name(b->state)));
	json_object_object_add(o, "health", json_object_new_string(sl_health_name(b->health)));
	add_flows(d, b, sl_be_flows_shown(b, s->confirmed), o);
	json_object_object_add(o, "handshakes", json_object_new_uint64(b->handshakes));
	return o;
}

static json_object *be_row(struct sl_daemon *d, const struct sl_vip *v,
			   const struct sl_be *b)
{
	struct sluice_be_stats s;
	json_object *o = row_head(d, v, b, &s);

	json_object_object_add(o, "weight", json_object_new_int64(b->weight));
	json_object_object_add(o, "new_flows", json_object_new_uint64(s.new_flows));
	json_object_object_add(o, "packets", json_object_new_uint64(s.packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(s.bytes));
	json_object_object_add(o, "lost", json_object_new_uint64(b->lost));
	return o;
}

json_object *sl_ctl_be_status_row(struct sl_daemon *d, const struct sl_vip *v,
				  const struct sl_be *b)
{
	struct sluice_be_stats s;
	json_object *o = row_head(d, v, b, &s);

	json_object_object_add(o, "health_reason", json_object_new_string(b->health_reason));
	json_object_object_add(o, "health_check", json_object_new_string(sl_health_type_name(b->hc.type)));
	json_object_object_add(o, "timed_out", json_object_new_boolean(b->timed_out));
	/* The drain table had no room for all its flows: ends at its deadline. */
	json_object_object_add(o, "unverifiable",
			       json_object_new_boolean(sl_be_unverifiable(b)));
	json_object_object_add(o, "flows_left", json_object_new_uint64(b->flows_left));
	json_object_object_add(o, "lost", json_object_new_uint64(b->lost));
	json_object_object_add(o, "evicted", json_object_new_uint64(b->evicted));
	json_object_object_add(o, "rescued", json_object_new_uint64(s.rescued));
	json_object_object_add(o, "drain_started_unix_ms", json_object_new_uint64(b->drain_started));
	json_object_object_add(o, SL_CTL_KEY_DEADLINE, json_object_new_uint64(b->drain_deadline));
	return o;
}

int sl_ctl_cmd_backend_list(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct sl_vip_spec spec;
	const struct sl_vip *only = NULL;
	size_t i, j;

	if (sl_ctl_has_arg(req, "vip")) {
		if (sl_ctl_arg_vip(req, &spec, r))
			return -1;
		only = sl_state_find_vip(&d->st, &spec);
		if (!only)
			return sl_ctl_fail(r, "ENOENT", "list VIPs with: sluicectl vip list",
				    "cannot list backends of %s: no such VIP", sl_ctl_arg_str(req, "vip"));
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
int sl_ctl_cmd_vip_list(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
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
		sl_ctl_fmt_vip(v, vs);
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

int sl_ctl_cmd_status(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	json_object *ifs = json_object_new_array(), *flows, *reasons;
	__u64 counts[SLUICE_R_MAX];
	size_t i, j, draining = 0;
	int k;

	(void)req;
	r->result = json_object_new_object();
	json_object_object_add(r->result, "instance", json_object_new_string(d->cfg.instance));
	json_object_object_add(r->result, "version", json_object_new_string(SL_VERSION));
	json_object_object_add(
		r->result, "uptime_s",
		json_object_new_uint64((sl_boot_ms() - d->started_boot_ms) /
				       1000));
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
	json_object_object_add(r->result, "cluster", sl_cluster_status_json(d));
	flows = json_object_new_object();
	json_object_object_add(
		flows, "capacity",
		json_object_new_uint64(sl_flows_capacity(&d->maps)));
	json_object_object_add(flows, "entries", json_object_new_uint64(d->sweep_last->entries));
	{
		json_object *nf = map_fill(d->maps.new_map);

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
	json_object_object_add(
		r->result, "maglev_table_size",
		json_object_new_uint64(d->cfg.maglev_table_size));
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

