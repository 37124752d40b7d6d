// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flows.list: the tracked connections in sl_flows, readably (client, VIP,
 * backend, state, idle), like `ipvsadm -Lnc`. Read with batch lookups,
 * SCAN_BATCH entries per syscall, filtered by VIP and backend, bounded by
 * the request's limit. Flows seen once (sl_new: a SYN, a first datagram)
 * are not connections yet and are not listed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "ctl.h"
#include "ctl_ops.h"

#define SCAN_BATCH	1024
/*
 * The main loop (drain decisions, other clients) waits while a listing
 * scans: a filter that matches little in a table of millions stops here
 * and says so (complete: false) instead of stalling sluiced for seconds.
 */
#define SCAN_BUDGET_MS	500

struct flow_filter {
	bool has_vip, has_be;
	struct sl_vip_spec vip;
	struct sluice_addr addr;
	__u8 family;
};

struct flow_scan {
	const struct flow_filter *f;
	json_object *rows;
	__u64 limit, scanned, matched;
	__u32 now;		/* sl_clock: the datapath's time */
	bool complete;		/* the whole table was read (or the limit reached) */
};

static bool vip_matches(const struct sl_vip_spec *v, const struct sluice_flow_key *k)
{
	return k->family == v->family && k->proto == v->proto &&
	       !memcmp(&k->dst, &v->addr, sizeof(k->dst)) &&
	       (!v->port || k->dport == v->port);
}

/* What a one-way box knows of a flow (abi.h): unconfirmed flows have not
 * shown signs of a real connection yet. */
static const char *flow_state(const struct sluice_flow *v)
{
	if (v->state == SLUICE_FLOW_RESET)
		return "reset";
	if (v->state == SLUICE_FLOW_CLOSING)
		return "closing";
	return v->flags & SLUICE_FLOW_F_CONFIRMED ? "open" : "unconfirmed";
}

static bool keep(const struct sl_daemon *d, const struct flow_filter *f,
		 const struct sluice_flow_key *k, const struct sluice_flow *v)
{
	struct sl_vip *vip = NULL;
	const struct sl_be *b;

	if (f->has_vip && !vip_matches(&f->vip, k))
		return false;
	if (!f->has_be)
		return true;
	b = sl_state_find_be_by_id(&d->st, v->backend_id, &vip);
	return b && b->family == f->family && !memcmp(&b->addr, &f->addr, sizeof(f->addr));
}

static __u64 since(__u32 now, __u32 then)
{
	__s32 dt = (__s32)(now - then);

	return dt > 0 ? (__u64)dt : 0;
}

static json_object *flow_row(const struct sl_daemon *d, __u32 now,
			     const struct sluice_flow_key *k, const struct sluice_flow *v)
{
	json_object *o = json_object_new_object();
	char buf[SL_VIP_STR_MAX];
	struct sl_vip *vip = NULL;
	const struct sl_be *b = sl_state_find_be_by_id(&d->st, v->backend_id, &vip);
	struct sl_vip_spec spec;

	sl_format_addr(&k->src, k->family, buf, sizeof(buf));
	json_object_object_add(o, SL_CTL_KEY_CLIENT, json_object_new_string(buf));
	json_object_object_add(o, SL_CTL_KEY_CLIENT_PORT, json_object_new_int(ntohs(k->sport)));
	memset(&spec, 0, sizeof(spec));
	spec.addr = k->dst;
	spec.port = k->dport;
	spec.proto = k->proto;
	spec.family = k->family;
	sl_format_vip(&spec, buf, sizeof(buf));
	json_object_object_add(o, SL_CTL_KEY_VIP, json_object_new_string(buf));
	if (b) {
		sl_format_addr(&b->addr, b->family, buf, sizeof(buf));
		json_object_object_add(o, SL_CTL_KEY_BACKEND, json_object_new_string(buf));
	} else {
		/* Its backend was removed; the next packet re-balances it. */
		snprintf(buf, sizeof(buf), "id %u (removed)", v->backend_id);
		json_object_object_add(o, SL_CTL_KEY_BACKEND, json_object_new_string(buf));
	}
	json_object_object_add(o, SL_CTL_KEY_STATE, json_object_new_string(flow_state(v)));
	json_object_object_add(o, SL_CTL_KEY_IDLE_MS,
			       json_object_new_uint64(since(now, v->last_seen)));
	json_object_object_add(o, SL_CTL_KEY_AGE_MS,
			       json_object_new_uint64(since(now, v->created)));
	return o;
}

/* One batch's entries; false once the limit is passed (one more proves truncation). */
static bool take(const struct sl_daemon *d, struct flow_scan *s,
		 const struct sluice_flow_key *keys, const struct sluice_flow *vals,
		 __u32 n)
{
	__u32 i;

	for (i = 0; i < n; i++) {
		s->scanned++;
		if (!keep(d, s->f, &keys[i], &vals[i]))
			continue;
		if (++s->matched > s->limit)
			return false;
		json_object_array_add(s->rows, flow_row(d, s->now, &keys[i], &vals[i]));
	}
	return true;
}

/*
 * Walk one sl_flows shard in batches. 0, or -errno; *@stop when the
 * listing is full or out of time.
 */
static int scan_shard(const struct sl_daemon *d, int fd, struct flow_scan *s,
		      struct sluice_flow_key *keys, struct sluice_flow *vals,
		      __u64 deadline, bool *stop)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 in = 0, out = 0;
	bool first = true, more = true;
	__u32 n;
	int rc = 0;

	while (more) {
		n = SCAN_BATCH;
		rc = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					  vals, &n, &opts);
		if (rc && rc != -ENOENT)
			return rc;
		more = rc != -ENOENT;
		first = false;
		in = out;
		if (!take(d, s, keys, vals, n)) {
			*stop = true;
			return 0;
		}
		/* After a batch, never before: a loaded box still lists something. */
		if (sl_boot_ms() > deadline) {
			s->complete = !more;
			*stop = true;
			return 0;
		}
	}
	return 0;
}

/* Walk every sl_flows shard. 0, or -errno. */
static int scan(const struct sl_daemon *d, struct flow_scan *s)
{
	struct sluice_flow_key *keys = calloc(SCAN_BATCH, sizeof(*keys));
	struct sluice_flow *vals = calloc(SCAN_BATCH, sizeof(*vals));
	__u64 deadline = sl_boot_ms() + SCAN_BUDGET_MS;
	bool stop = false;
	unsigned int i;
	int rc = keys && vals ? 0 : -ENOMEM;

	s->complete = true;
	for (i = 0; !rc && !stop && i < SLUICE_FLOW_SHARDS; i++) {
		rc = scan_shard(d, d->maps.flow_shard[i], s, keys, vals,
				deadline, &stop);
		if (stop && i + 1 < SLUICE_FLOW_SHARDS &&
		    s->matched <= s->limit)
			s->complete = false;
	}
	free(keys);
	free(vals);
	return rc;
}

static int filter_args(const struct sl_daemon *d, json_object *req,
		       struct flow_filter *f, __u64 *limit, struct sl_ctl_reply *r)
{
	memset(f, 0, sizeof(*f));
	*limit = SL_CTL_FLOWS_LIMIT_DEF;
	f->has_vip = json_object_object_get_ex(req, SL_CTL_KEY_VIP, NULL);
	f->has_be = json_object_object_get_ex(req, SL_CTL_KEY_BACKEND, NULL);
	if ((f->has_vip && sl_ctl_arg_vip(req, &f->vip, r)) ||
	    (f->has_be && sl_ctl_arg_backend(d, req, f->has_vip ? &f->vip : NULL,
					     &f->addr, &f->family, r)) ||
	    sl_ctl_arg_u64(req, SL_CTL_KEY_LIMIT, 1, SL_CTL_FLOWS_LIMIT_MAX, limit, r))
		return -1;
	return 0;
}

int sl_ctl_cmd_flows(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	struct flow_filter f;
	struct flow_scan s;
	int rc;

	if (filter_args(d, req, &f, &s.limit, r))
		return -1;
	if (f.has_vip && !sl_state_find_vip(&d->st, &f.vip))
		return sl_ctl_fail(r, "ENOENT", "list VIPs with: sluicectl vip list",
				   "cannot list the flows of %s: no such VIP",
				   sl_ctl_arg_str(req, SL_CTL_KEY_VIP));
	s.f = &f;
	s.rows = json_object_new_array();
	s.scanned = s.matched = 0;
	/* The datapath's own timebase: the kernel's coarse clock (abi.h). */
	s.now = sl_clock_now();
	rc = scan(d, &s);
	if (rc) {
		json_object_put(s.rows);
		return sl_ctl_fail(r, "EIO", NULL, "cannot read the flow table: %s",
				   strerror(-rc));
	}
	r->result = json_object_new_object();
	json_object_object_add(r->result, SL_CTL_KEY_FLOWS, s.rows);
	json_object_object_add(r->result, SL_CTL_KEY_SCANNED, json_object_new_uint64(s.scanned));
	json_object_object_add(r->result, SL_CTL_KEY_MATCHED,
			       json_object_new_uint64(s.matched > s.limit ? s.limit : s.matched));
	json_object_object_add(r->result, SL_CTL_KEY_TRUNCATED,
			       json_object_new_boolean(s.matched > s.limit));
	json_object_object_add(r->result, SL_CTL_KEY_COMPLETE, json_object_new_boolean(s.complete));
	return 0;
}
