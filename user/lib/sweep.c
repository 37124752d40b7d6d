// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The flow sweeper: expiry and exact live-flow counts (see sweep.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "sweep.h"

#define SWEEP_BATCH 4096

static __u32 effective_last_seen(const struct sluice_flow *f,
				 const struct sl_resume *rs)
{
	if (rs && rs->active &&
	    (__s32)(f->last_seen - (rs->frozen - SLUICE_TOUCH_MS)) >= 0 &&
	    (__s32)(rs->resumed_at - f->last_seen) > 0)
		return rs->resumed_at;
	return f->last_seen;
}

bool sl_flow_expired(const struct sluice_flow_key *key,
		     const struct sluice_flow *f, bool in_new, __u32 now,
		     const struct sl_sweep_cfg *cfg, const struct sl_resume *rs)
{
	__s32 idle = (__s32)(now - effective_last_seen(f, rs));
	__u32 limit;

	if (idle < 0)
		return false;
	if (f->state == SLUICE_FLOW_CLOSING)
		limit = cfg->close_grace_ms;
	else if (key->proto == IPPROTO_UDP)
		limit = cfg->udp_idle_ms;
	else if (in_new)
		limit = cfg->syn_idle_ms;
	else
		limit = cfg->tcp_idle_ms;
	return (__u32)idle > limit;
}

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/* Delete unless the datapath refreshed the flow since we read it. */
static int expire_one(int fd, const struct sluice_flow_key *key,
		      const struct sluice_flow *seen)
{
	struct sluice_flow cur;

	if (bpf_map_lookup_elem(fd, key, &cur))
		return 0;
	if (cur.last_seen != seen->last_seen || cur.state != seen->state ||
	    cur.backend_id != seen->backend_id)
		return -EAGAIN;
	return bpf_map_delete_elem(fd, key) ? 0 : 1;
}

struct sweep_buf {
	struct sluice_flow_key keys[SWEEP_BATCH];
	struct sluice_flow vals[SWEEP_BATCH];
};

static int sweep_map(int fd, bool in_new, __u32 now,
		     const struct sl_sweep_cfg *cfg, const struct sl_resume *rs,
		     struct sl_sweep_result *res, struct sweep_buf *b)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 token = 0, *kept = in_new ? &res->new_entries : &res->entries;
	bool first = true, done = false;
	__u32 i, count;
	int rc;

	while (!done) {
		count = SWEEP_BATCH;
		rc = bpf_map_lookup_batch(fd, first ? NULL : &token, &token,
					  b->keys, b->vals, &count, &opts);
		if (rc < 0 && errno != ENOENT)
			return -errno;
		done = rc < 0;	/* ENOENT: this was the last batch */
		first = false;
		for (i = 0; i < count; i++) {
			const struct sluice_flow *f = &b->vals[i];

			if (sl_flow_expired(&b->keys[i], f, in_new, now, cfg, rs) &&
			    expire_one(fd, &b->keys[i], f) == 1) {
				res->expired++;
				continue;
			}
			(*kept)++;
			if (f->backend_id < SLUICE_MAX_BACKENDS)
				res->flows[f->backend_id]++;
		}
	}
	return 0;
}

int sl_sweep(const struct sl_maps *m, const struct sl_sweep_cfg *cfg,
	     const struct sl_resume *rs, struct sl_sweep_result *res)
{
	struct sweep_buf *b = malloc(sizeof(*b));
	__u64 start = now_us();
	__u32 now = sl_clock_get(m);
	int rc;

	if (!b)
		return -ENOMEM;
	memset(res, 0, sizeof(*res));
	rc = sweep_map(m->flows, false, now, cfg, rs, res, b);
	if (!rc)
		rc = sweep_map(m->new_flows, true, now, cfg, rs, res, b);
	free(b);
	res->duration_us = now_us() - start;
	return rc;
}
