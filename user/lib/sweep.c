// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The flow sweeper: expiry and live-flow counts (see sweep.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "sweep.h"


/* Milliseconds from @then to @now; negative: @then is ahead (a packet
 * stamped it after we read the clock): never past any limit. */
static bool older_than(__u32 now, __u32 then, __u32 limit)
{
	__s32 age = (__s32)(now - then);

	return age > 0 && (__u32)age > limit;
}

/* Its twin in the kernel is young() in bpf/drain_walk.bpf.c: change both
 * (tests/bpf/test_drain_walk.c checks that they agree). */
static enum sl_flow_verdict judge_unconfirmed(const struct sluice_flow *f,
					      __u32 now,
					      const struct sl_sweep_cfg *cfg)
{
	if (older_than(now, f->created, cfg->unconfirmed_ms))
		return SL_FLOW_ENDED;
	if (f->state == SLUICE_FLOW_CLOSING &&
	    older_than(now, f->last_seen, cfg->close_grace_ms))
		return SL_FLOW_ENDED;
	return SL_FLOW_HANDSHAKE;
}

enum sl_flow_verdict sl_flow_judge(const struct sluice_flow_key *key,
				   const struct sluice_flow *f, bool in_new,
				   __u32 now, const struct sl_sweep_cfg *cfg)
{
	__u32 idle;

	if (in_new)
		return older_than(now, f->last_seen, cfg->handshake_ms) ?
		       SL_FLOW_ENDED : SL_FLOW_HANDSHAKE;
	if (f->state == SLUICE_FLOW_RESET)
		return SL_FLOW_ENDED;
	if (!(f->flags & SLUICE_FLOW_F_CONFIRMED))
		return judge_unconfirmed(f, now, cfg);
	if (f->state == SLUICE_FLOW_CLOSING) {
		if (older_than(now, f->last_seen, cfg->close_linger_ms))
			return SL_FLOW_ENDED;
		return older_than(now, f->last_seen, cfg->close_grace_ms) ?
		       SL_FLOW_CLOSED : SL_FLOW_LIVE;
	}
	if (key->proto == IPPROTO_UDP)
		idle = cfg->udp_idle_ms;
	else
		idle = cfg->tcp_idle_ms;
	return older_than(now, f->last_seen, idle) ? SL_FLOW_ENDED : SL_FLOW_LIVE;
}

bool sl_flow_is_loss(const struct sluice_flow_key *key,
		     const struct sluice_flow *f)
{
	return key->proto == IPPROTO_TCP && f->state == SLUICE_FLOW_OPEN &&
	       (f->flags & SLUICE_FLOW_F_CONFIRMED);
}

int sl_flow_expire(int fd, const struct sluice_flow_key *key,
		   const struct sluice_flow *seen)
{
	struct sluice_flow cur;

	if (bpf_map_lookup_elem(fd, key, &cur))
		return 0;
	if (cur.last_seen != seen->last_seen || cur.state != seen->state ||
	    cur.flags != seen->flags || cur.backend_id != seen->backend_id)
		return -EAGAIN;
	return bpf_map_delete_elem(fd, key) ? 0 : 1;
}

__u64 sl_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/* What one walk needs besides the map it walks. */
struct walk {
	const struct sl_maps *m;
	const struct sl_sweep_cfg *cfg;
	const bool *draining;
	struct sl_sweep_result *res;
	__u32 now;
	__u32 seen;		/* entries visited, for hold() */
};

/* A sweep waits between batches while a drain walk runs (cfg->hold),
 * woken when it ends, at most SL_HOLD_MAX_MS at a time, so a walk that
 * never ends slows the sweeping but cannot stop it. */
#define SL_HOLD_MAX_MS 10000
static void hold(struct walk *w)
{
	if (!w->cfg->hold || ++w->seen % SL_FLOW_BATCH)
		return;
	sl_hold_wait(w->cfg->hold, SL_HOLD_MAX_MS);
}

static bool is_draining(const struct walk *w, __u32 id)
{
	return w->draining && id < SLUICE_MAX_BACKENDS && w->draining[id];
}

static void count(struct walk *w, __u32 be, enum sl_flow_verdict v)
{
	if (be >= SLUICE_MAX_BACKENDS)
		return;
	if (v == SL_FLOW_LIVE)
		w->res->flows[be]++;
	else if (v == SL_FLOW_HANDSHAKE)
		w->res->handshakes[be]++;
}

/*
 * A confirmed flow of a draining backend belongs to the drain checker:
 * keep a current copy in sl_pinned (out of LRU's reach, and where the
 * checker looks), ended or not, so the checker ends it and counts a loss
 * once. Unconfirmed flows never get in: phantoms cannot crowd it.
 */
static void keep(struct walk *w, const struct sluice_flow_key *k,
		 const struct sluice_flow *f, enum sl_flow_verdict v)
{
	w->res->entries++;
	count(w, f->backend_id, v);
	if (!bpf_map_update_elem(w->m->drain_table, k, f, BPF_ANY))
		return;
	w->res->unprotected++;
	if (v == SL_FLOW_LIVE)
		w->res->unprotected_be[f->backend_id]++;
}

/* One entry of sl_flows: keep it in the drain table, expire it, or count it. */
static void visit(void *arg, const struct sluice_flow_key *k,
		  struct sluice_flow *f)
{
	struct walk *w = arg;
	enum sl_flow_verdict v = sl_flow_judge(k, f, false, w->now, w->cfg);

	hold(w);
	if (is_draining(w, f->backend_id) && (f->flags & SLUICE_FLOW_F_CONFIRMED)) {
		keep(w, k, f, v);
		return;
	}
	if (v == SL_FLOW_ENDED) {
		if (sl_flow_expire(sl_flows_fd(w->m, k), k, f) != -EAGAIN) {
			w->res->expired++;
			return;
		}
		v = SL_FLOW_HANDSHAKE;	/* touched meanwhile: count it, judge later */
		if (f->flags & SLUICE_FLOW_F_CONFIRMED)
			v = SL_FLOW_LIVE;
	}
	w->res->entries++;
	count(w, f->backend_id, v);
}

int sl_flow_walk_batches(int fd, struct sl_flow_batch *b, __u32 batch,
			 sl_flow_batch_fn fn, void *arg)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool first = true, done = false;
	__u64 token = 0;
	__u32 n;
	int rc = 0;

	while (!done && !rc) {
		n = batch;
		rc = bpf_map_lookup_batch(fd, first ? NULL : &token, &token,
					  b->keys, b->vals, &n, &opts);
		if (rc < 0 && errno != ENOENT)
			return -errno;
		done = rc < 0;	/* ENOENT: this was the last batch */
		first = false;
		rc = fn(arg, b, n);
	}
	return rc;
}

/* sl_flow_walk()'s visitor and its argument, for each batch. */
struct visit_each {
	sl_flow_visit_fn fn;
	void *arg;
};

static int visit_batch(void *arg, struct sl_flow_batch *b, __u32 n)
{
	const struct visit_each *v = arg;
	__u32 i;

	for (i = 0; i < n; i++)
		v->fn(v->arg, &b->keys[i], &b->vals[i]);
	return 0;
}

int sl_flow_walk(int fd, struct sl_flow_batch *b, __u32 batch,
		 sl_flow_visit_fn fn, void *arg)
{
	struct visit_each v = { .fn = fn, .arg = arg };

	return sl_flow_walk_batches(fd, b, batch, visit_batch, &v);
}

/*
 * sl_new is a set-associative array (abi.h), read here through a mapping:
 * count the handshakes still within their window. Slots are never
 * cleared from here: the write could race with the datapath reusing the
 * slot, and an old slot is harmless (a newer flow overwrites the oldest
 * of a full pair of buckets). Every slot is read whatever its bucket.
 */
static int sweep_new(struct walk *w)
{
	size_t len = (size_t)w->m->new_slots * sizeof(struct sluice_new_slot);
	const struct sluice_new_slot *slots;
	struct sluice_new_slot s;
	__u32 i;

	if (!len)
		return 0;
	slots = mmap(NULL, len, PROT_READ, MAP_SHARED, w->m->new_map, 0);
	if (slots == MAP_FAILED)
		return -errno;
	for (i = 0; i < w->m->new_slots; i++) {
		s = slots[i];	/* a copy: the datapath may rewrite the slot */
		if (!s.key.family ||
		    sl_flow_judge(&s.key, &s.flow, true, w->now, w->cfg) != SL_FLOW_HANDSHAKE)
			continue;
		w->res->new_entries++;
		count(w, s.flow.backend_id, SL_FLOW_HANDSHAKE);
	}
	munmap((void *)slots, len);
	return 0;
}

/*
 * One drain table entry. Dropped once its backend no longer drains. A flow
 * still in sl_flows was counted by that walk (and, if it moved, is the
 * checker's to count lost). One that is not was evicted: the kept copy
 * is the flow, live until it ends, and its next packet restores it.
 */
static bool visit_kept(struct walk *w, const struct sluice_flow_key *k,
		       struct sluice_flow *pf)
{
	struct sluice_flow live;
	__u32 be = pf->backend_id;

	if (!is_draining(w, be))
		return false;
	if (!bpf_map_lookup_elem(sl_flows_fd(w->m, k), k, &live))
		return true;
	if (sl_flow_judge(k, pf, false, w->now, w->cfg) != SL_FLOW_LIVE)
		return true;	/* the checker ends it */
	w->res->flows[be]++;
	if (!(pf->flags & SLUICE_FLOW_F_EVICTED)) {
		w->res->evicted[be]++;
		pf->flags |= SLUICE_FLOW_F_EVICTED;
		bpf_map_update_elem(w->m->drain_table, k, pf, BPF_EXIST);
	}
	return true;
}

/* Drop @k from the drain table, its backend not draining when the sweep
 * began, unless it drains now: checked and deleted under drain_lock, so a
 * drain published meanwhile (and its walk's copies, which follow) is
 * never undone. */
static void drop(struct walk *w, const struct sluice_flow_key *k, __u32 be)
{
	const struct sl_sweep_cfg *cfg = w->cfg;
	bool stays = false;

	if (cfg->drain_lock)
		pthread_mutex_lock(cfg->drain_lock);
	if (cfg->draining_now && be < SLUICE_MAX_BACKENDS)
		stays = cfg->draining_now[be];
	if (!stays)
		bpf_map_delete_elem(w->m->drain_table, k);
	if (cfg->drain_lock)
		pthread_mutex_unlock(cfg->drain_lock);
	if (stays)
		w->res->drain_table_entries++;
}

static void visit_drain_table_entry(void *arg, const struct sluice_flow_key *k,
				    struct sluice_flow *pf)
{
	struct walk *w = arg;

	if (visit_kept(w, k, pf))
		w->res->drain_table_entries++;
	else
		drop(w, k, pf->backend_id);
}

int sl_sweep_new_handshakes(const struct sl_maps *m, const struct sl_sweep_cfg *cfg,
			    struct sl_sweep_result *res)
{
	struct walk w = { .m = m, .cfg = cfg, .res = res, .now = sl_clock_now() };

	return sweep_new(&w);
}

int sl_sweep(const struct sl_maps *m, const struct sl_sweep_cfg *cfg,
	     const bool *draining, struct sl_sweep_result *res)
{
	struct sl_flow_batch *b = malloc(sizeof(*b));
	struct sl_pass pass = res->pass;
	struct walk w = {
		.m = m, .cfg = cfg, .draining = draining, .res = res,
	};
	__u64 start = sl_mono_us();
	unsigned int i;
	int rc;

	if (!b)
		return -ENOMEM;
	memset(res, 0, sizeof(*res));
	res->pass = pass;
	/* The counter first: a flow confirmed from now on is either seen by
	 * the walk or in the difference the daemon adds (never neither). */
	rc = sl_be_confirmed_all(m, res->confirmed_start);
	w.now = sl_clock_now();
	/* sl_new before sl_flows: a promotion in between is seen in sl_flows. */
	if (!rc)
		rc = sweep_new(&w);
	for (i = 0; !rc && i < SLUICE_FLOW_SHARDS; i++)
		rc = sl_flow_walk(m->flow_shard[i], b, SL_FLOW_BATCH, visit,
				  &w);
	if (!rc && m->drain_table > 0)
		rc = sl_flow_walk(m->drain_table, b, SL_FLOW_BATCH,
				  visit_drain_table_entry, &w);
	free(b);
	res->duration_us = sl_mono_us() - start;
	return rc;
}
