// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The flow sweeper: expiry and exact live-flow counts (see sweep.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "sweep.h"

#define SWEEP_BATCH 4096

bool sl_flow_expired(const struct sluice_flow_key *key,
		     const struct sluice_flow *f, bool in_new, __u32 now,
		     const struct sl_sweep_cfg *cfg)
{
	__s32 idle = (__s32)(now - f->last_seen);
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

/* What one walk needs besides the map it walks. */
struct walk {
	const struct sl_maps *m;
	const struct sl_sweep_cfg *cfg;
	const bool *draining;
	struct sl_sweep_result *res;
	__u32 now;
};

static bool is_draining(const struct walk *w, __u32 id)
{
	return w->draining && id < SLUICE_MAX_BACKENDS && w->draining[id];
}

/* An open TCP flow whose state goes away was not finished: a loss. */
static bool open_tcp(const struct sluice_flow_key *k, const struct sluice_flow *f)
{
	return k->proto == IPPROTO_TCP && f->state == SLUICE_FLOW_OPEN;
}

/* One live entry of sl_flows: expire it, or count and pin it. */
static void visit(struct walk *w, const struct sluice_flow_key *k,
		  const struct sluice_flow *f)
{
	__u32 be = f->backend_id;

	if (sl_flow_expired(k, f, false, w->now, w->cfg) &&
	    expire_one(w->m->flows, k, f) == 1) {
		w->res->expired++;
		if (is_draining(w, be)) {
			bpf_map_delete_elem(w->m->pinned, k);
			if (open_tcp(k, f))
				w->res->lost[be]++;
		}
		return;
	}
	w->res->entries++;
	if (be < SLUICE_MAX_BACKENDS)
		w->res->flows[be]++;
	/* Keep a current copy of a draining flow out of LRU's reach. */
	if (is_draining(w, be) &&
	    bpf_map_update_elem(w->m->pinned, k, f, BPF_ANY))
		w->res->unprotected++;
}

static int sweep_flows(struct walk *w, struct sweep_buf *b)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = w->m->flows;
	__u64 token = 0;
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
		for (i = 0; i < count; i++)
			visit(w, &b->keys[i], &b->vals[i]);
	}
	return 0;
}

/*
 * sl_new is a direct-mapped array (abi.h), read here through a mapping:
 * count the flows still within their first-packet timeout. Slots are never
 * cleared from here: the write could race with the datapath reusing the
 * slot, and an old slot is harmless (a newer flow overwrites it).
 */
static int sweep_new(struct walk *w)
{
	size_t len = (size_t)w->m->new_slots * sizeof(struct sluice_new_slot);
	const struct sluice_new_slot *slots;
	struct sluice_new_slot s;
	__u32 i;

	if (!len)
		return 0;
	slots = mmap(NULL, len, PROT_READ, MAP_SHARED, w->m->new_flows, 0);
	if (slots == MAP_FAILED)
		return -errno;
	for (i = 0; i < w->m->new_slots; i++) {
		s = slots[i];	/* a copy: the datapath may rewrite the slot */
		if (!s.key.family ||
		    sl_flow_expired(&s.key, &s.flow, true, w->now, w->cfg))
			continue;
		w->res->new_entries++;
		if (s.flow.backend_id < SLUICE_MAX_BACKENDS)
			w->res->flows[s.flow.backend_id]++;
	}
	munmap((void *)slots, len);
	return 0;
}

/*
 * One sl_pinned entry. Its flow is either still live (already counted by
 * the walk of sl_flows/sl_new), moved to another backend (lost), or evicted
 * from every table: then the pinned copy is the flow, live until its idle
 * timeout, and its next packet will restore it.
 */
static bool visit_pinned(struct walk *w, const struct sluice_flow_key *k,
			 struct sluice_flow *pf)
{
	struct sluice_flow live;
	__u32 be = pf->backend_id;

	if (!is_draining(w, be))
		return false;	/* drain over: unpin */
	if (!bpf_map_lookup_elem(w->m->flows, k, &live) ||
	    !sl_new_get(w->m, k, &live)) {
		if (live.backend_id == be && live.epoch == pf->epoch)
			return true;
		w->res->lost[be]++;	/* moved to another backend */
		return false;
	}
	if (sl_flow_expired(k, pf, false, w->now, w->cfg)) {
		if (open_tcp(k, pf))
			w->res->lost[be]++;
		return false;
	}
	w->res->flows[be]++;
	if (!(pf->flags & SLUICE_FLOW_F_EVICTED)) {
		w->res->evicted[be]++;
		pf->flags |= SLUICE_FLOW_F_EVICTED;
		bpf_map_update_elem(w->m->pinned, k, pf, BPF_EXIST);
	}
	return true;
}

static int sweep_pinned(struct walk *w, struct sweep_buf *b)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool first = true, done = false;
	__u64 token = 0;
	__u32 i, count;
	int rc;

	while (!done) {
		count = SWEEP_BATCH;
		rc = bpf_map_lookup_batch(w->m->pinned, first ? NULL : &token, &token,
					  b->keys, b->vals, &count, &opts);
		if (rc < 0 && errno != ENOENT)
			return -errno;
		done = rc < 0;
		first = false;
		for (i = 0; i < count; i++) {
			if (visit_pinned(w, &b->keys[i], &b->vals[i]))
				w->res->pinned_entries++;
			else
				bpf_map_delete_elem(w->m->pinned, &b->keys[i]);
		}
	}
	return 0;
}

int sl_sweep(const struct sl_maps *m, const struct sl_sweep_cfg *cfg,
	     const bool *draining,
	     struct sl_sweep_result *res)
{
	struct sweep_buf *b = malloc(sizeof(*b));
	struct walk w = {
		.m = m, .cfg = cfg, .draining = draining, .res = res,
	};
	__u64 start = now_us();
	int rc;

	if (!b)
		return -ENOMEM;
	memset(res, 0, sizeof(*res));
	w.now = sl_clock_now();
	rc = sweep_flows(&w, b);
	if (!rc)
		rc = sweep_new(&w);
	if (!rc && m->pinned > 0)
		rc = sweep_pinned(&w, b);
	free(b);
	res->duration_us = now_us() - start;
	return rc;
}
