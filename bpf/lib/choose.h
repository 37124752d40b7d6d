/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which backend a TCP/UDP packet to a VIP goes to: its flow's (sl_flows,
 * then sl_new, then the drain table), or for a new flow the live table's pick,
 * recorded in sl_new; promotion, rescue and rescheduling on the way.
 */
#ifndef SLUICE_BPF_CHOOSE_H
#define SLUICE_BPF_CHOOSE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "sluice/abi.h"
#include "maps.h"
#include "parse.h"
#include "stats.h"
#include "flow.h"
#include "settings.h"
#include "vip.h"
#include "maglev.h"
#include "newslot.h"

/* What the balancer decided for a packet it forwards. */
struct sl_decision {
	struct sluice_backend *be;
	__u32 be_id;
	__u32 vip_id;
	int new_flow;
	int fallback; /* for sluice_fallback to decide (a drain) */
};

static __always_inline void sl_flow_init(struct sluice_flow *f,
					 const struct sl_decision *d,
					 __u32 now, const struct sl_pkt *pkt)
{
	f->backend_id = d->be_id;
	f->epoch = d->be->epoch;
	f->last_seen = now;
	f->created = now;
	f->state = sl_state_after(pkt, SLUICE_FLOW_OPEN);
}

/* @vip, or the flow's VIP looked up when the caller has none. */
static __always_inline struct sluice_vip *
sl_balanced_vip(const struct sl_pkt *pkt, struct sluice_vip *vip)
{
	if (!vip)
		vip = sl_lookup_vip(&pkt->key);
	if (!vip || (vip->flags & SLUICE_VIP_F_ADDR_ONLY))
		return NULL;
	return vip;
}

/* The live Maglev table's backend for a flow with @hash, into @d. */
static __always_inline int sl_pick(struct sl_decision *d,
				   const struct sluice_vip *vip, __u32 hash)
{
	struct sluice_vip_stats *vs;

	d->vip_id = vip->vip_id;
	d->be_id = sl_maglev_pick(vip, hash);
	d->be = sl_backend(d->be_id);
	if (!d->be || !(d->be->flags & SLUICE_BE_F_IN_USE)) {
		vs = sl_vip_stat(vip->vip_id);
		if (vs)
			vs->no_backend++;
		return SLUICE_R_DROP_NO_BACKEND;
	}
	d->new_flow = 1;
	return 0;
}

/*
 * A flow with no state: pick from the VIP's live table and put it in
 * sl_new, in slot @idx when the caller's search chose one (else, with
 * SL_NO_SLOT, found here). Every new flow starts there, mid-stream TCP packets without
 * state (eviction, restart, ECMP move) included, so no one-packet flood
 * reaches sl_flows; its second packet promotes it.
 *
 * Slots are plain stores, no lock: two CPUs writing one slot at the same
 * instant could leave a mixed entry, which a reader takes only if it
 * still matches its own key exactly; or both could pick the same free
 * slot, and the later write wins. The cost is at worst one handshake.
 */
static __always_inline int sl_start_new(struct sl_pkt *pkt,
					struct sl_decision *d, __u32 now,
					struct sluice_vip *vip, __u32 hash,
					__u32 idx)
{
	struct sluice_vip_stats *vs;
	struct sluice_flow f = {};
	int rc;

	vip = sl_balanced_vip(pkt, vip);
	if (!vip)
		return SLUICE_R_PASS_NOT_VIP;
	vs = sl_vip_stat(vip->vip_id);
	if (vs)
		vs->non_syn_miss += pkt->l4proto == IPPROTO_TCP &&
				    !sl_is_tcp_syn(pkt);
	rc = sl_pick(d, vip, hash);
	if (rc)
		return rc;
	sl_flow_init(&f, d, now, pkt);
	if (idx == SL_NO_SLOT)
		idx = sl_new_claim(&pkt->key, hash);
	if (idx != SL_NO_SLOT)
		sl_new_put(idx, &pkt->key, &f, hash);
	return 0;
}

/*
 * A flow whose backend may take no more of it (removed, released, or
 * DRAINED while the flow was unconfirmed): balance it afresh on the live
 * table and rewrite it in sl_flows, unconfirmed.
 */
static __always_inline int sl_reschedule(struct sl_pkt *pkt,
					 struct sl_decision *d, __u32 now,
					 struct sluice_vip *vip, __u32 hash)
{
	struct sluice_vip_stats *vs;
	struct sluice_flow f = {};
	int rc;

	vip = sl_balanced_vip(pkt, vip);
	if (!vip)
		return SLUICE_R_PASS_NOT_VIP;
	vs = sl_vip_stat(vip->vip_id);
	if (vs)
		vs->rescheduled++;
	rc = sl_pick(d, vip, hash);
	if (rc)
		return rc;
	sl_flow_init(&f, d, now, pkt);
	sl_flow_put(&pkt->key, &f);
	return 0;
}

/*
 * A drain reported complete is never contradicted: a DRAINED backend
 * gets no new state, so an unconfirmed flow of it (never counted as live)
 * is not promoted or confirmed there but balanced afresh.
 */
static __always_inline int sl_takes_new_state(const struct sluice_backend *be)
{
	return !(be->flags & SLUICE_BE_F_DRAINED);
}

/*
 * A flow of a draining backend that LRU pressure evicted from sl_flows:
 * sluiced kept a copy in the drain table. Put it back and keep its backend.
 */
static __always_inline int sl_rescue(struct sl_pkt *pkt, struct sluice_flow *pf,
				     struct sl_decision *d, __u32 now)
{
	struct sluice_be_stats *bs;
	struct sluice_flow f = *pf;

	d->be_id = f.backend_id;
	d->be = sl_backend(d->be_id);
	if (!sl_backend_usable(d->be, &f))
		return -1;
	d->vip_id = d->be->vip_id;
	f.last_seen = now;
	f.state = sl_state_after(pkt, f.state);
	f.flags &=
		~SLUICE_FLOW_F_EVICTED; /* the sweeper's mark, drain table only */
	sl_flow_put(&pkt->key, &f);
	bs = sl_be_stat(d->be_id);
	if (bs)
		bs->rescued++;
	return 0;
}

/*
 * Second packet of a flow found in sl_new slot @idx (@s): move it to
 * sl_flows, confirmed at once if this packet shows a real connection
 * (flow.h).
 */
static __always_inline int sl_promote(struct sl_pkt *pkt,
				      struct sluice_new_slot *s, __u32 idx,
				      struct sl_decision *d, __u32 now)
{
	struct sluice_vip_stats *vs;
	struct sluice_flow f = s->flow;
	int confirm = sl_confirms(pkt, &f, now);

	f.last_seen = now;
	f.state = sl_state_after(pkt, f.state);
	if (confirm)
		f.flags |= SLUICE_FLOW_F_CONFIRMED;
	sl_flow_put(&pkt->key, &f);
	sl_new_empty(s, idx);
	if (confirm)
		sl_confirmed(&pkt->key, &f, d->be, d->be_id);
	vs = sl_vip_stat(d->vip_id);
	if (vs)
		vs->promoted++;
	return 0;
}

/* Not decided by sl_choose_fast(): sluice_slow decides (never a reason). */
#define SL_SLOW (-1)

/*
 * A packet of a flow that sits in sl_new slot @idx (@s), whose backend may
 * take it: SYN retransmit or promotion. SL_SLOW, having changed nothing,
 * when the backend may not.
 */
static __always_inline int sl_keep_new(struct sl_pkt *pkt,
				       struct sluice_new_slot *s, __u32 idx,
				       struct sl_decision *d, __u32 now)
{
	d->be_id = s->flow.backend_id;
	d->be = sl_backend(d->be_id);
	if (!sl_backend_usable(d->be, &s->flow) || !sl_takes_new_state(d->be))
		return SL_SLOW;
	d->vip_id = d->be->vip_id;
	if (sl_is_tcp_syn(pkt))	/* SYN retransmit: same backend */
		return 0;
	return sl_promote(pkt, s, idx, d, now);
}

/* A packet of a flow that sits in sl_new slot @idx (@s). */
static __always_inline int sl_from_new(struct sl_pkt *pkt,
				       struct sluice_new_slot *s, __u32 idx,
				       struct sl_decision *d, __u32 now,
				       struct sluice_vip *vip, __u32 hash)
{
	if (!sl_keep_new(pkt, s, idx, d, now))
		return 0;
	sl_new_empty(s, idx);
	return sl_reschedule(pkt, d, now, vip, hash);
}

/*
 * A SYN on a closed flow is a new connection reusing the tuple (NAT, fixed
 * source ports). The old flow ended: it leaves sl_flows and the drain table, so
 * the drain checker never takes it for a lost one.
 */
static __always_inline int sl_tuple_reused(const struct sl_pkt *pkt,
					   const struct sluice_flow *f)
{
	return f->state != SLUICE_FLOW_OPEN && sl_is_tcp_syn(pkt);
}

static __always_inline void sl_forget(const struct sluice_flow_key *key)
{
	sl_flow_del(key);
	bpf_map_delete_elem(&sl_pinned, key);
}

/*
 * A packet of a flow found in sl_flows whose backend may keep it: follow
 * that backend, whatever its place in the live table now, refresh the
 * flow, and confirm it once it shows a real connection. SL_SLOW, having
 * changed nothing, for a reused tuple or a backend that may not keep it.
 */
static __always_inline int sl_follow(struct sl_pkt *pkt, struct sluice_flow *f,
				     struct sl_decision *d, __u32 now)
{
	int unconfirmed = !(f->flags & SLUICE_FLOW_F_CONFIRMED);

	if (sl_tuple_reused(pkt, f))
		return SL_SLOW;
	d->be_id = f->backend_id;
	d->be = sl_backend(d->be_id);
	if (!sl_backend_usable(d->be, f) ||
	    (unconfirmed && !sl_takes_new_state(d->be)))
		return SL_SLOW;
	d->vip_id = d->be->vip_id;
	sl_flow_touch(f, now, pkt);
	if (unconfirmed && sl_confirms(pkt, f, now)) {
		f->flags |= SLUICE_FLOW_F_CONFIRMED;
		sl_confirmed(&pkt->key, f, d->be, d->be_id);
	}
	return 0;
}

/* A packet of a flow found in sl_flows: followed, started anew or rescheduled. */
static __always_inline int sl_established(struct sl_pkt *pkt,
					  struct sluice_flow *f,
					  struct sl_decision *d, __u32 now)
{
	if (sl_tuple_reused(pkt, f)) {
		sl_forget(&pkt->key);
		return sl_start_new(pkt, d, now, NULL, sl_hash(&pkt->key),
				    SL_NO_SLOT);
	}
	if (!sl_follow(pkt, f, d, now))
		return 0;
	return sl_reschedule(pkt, d, now, NULL, sl_hash(&pkt->key));
}

/*
 * What sluice_xdp learned of a packet it hands to sluice_slow, so that a
 * first packet's lookups are not made twice. Per CPU: the tail call runs
 * on the CPU that wrote it, before any other packet there. Private to one
 * load, never pinned: nothing in it outlives a packet.
 */
struct sl_handoff {
	__u32 nostate; /* in neither sl_flows nor sl_new */
	__u32 hash; /* sl_hash() of its key */
	struct sl_claim cl; /* its sl_new buckets, as searched */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_handoff);
} sl_handoff SEC(".maps");

/* A packet with no state (SL_NOSTATE) or any other for sluice_slow. */
#define SL_NOSTATE (-2)

/* Write sluice_slow's handoff for a packet sl_choose_fast() left. */
static __always_inline void sl_handoff_put(int rc, __u32 hash,
					   const struct sl_claim *cl)
{
	struct sl_handoff *h = bpf_map_lookup_elem(&sl_handoff, &zero);

	if (!h)
		return;
	h->nostate = rc == SL_NOSTATE;
	h->hash = hash;
	h->cl = *cl;
}

/*
 * sluice_xdp's whole decision: an established flow whose backend keeps
 * it (one lookup), or a second packet promoted from sl_new. Else
 * SL_NOSTATE or SL_SLOW, the handoff written, for sluice_slow, which
 * decides on a verifier budget of its own.
 */
static __always_inline int sl_choose_fast(struct sl_pkt *pkt,
					  struct sl_decision *d)
{
	int syn = sl_is_tcp_syn(pkt);
	__u32 hash = syn ? sl_hash(&pkt->key) : 0;
	struct sluice_new_slot *s;
	struct sluice_flow *f;
	__u32 now = sl_now();
	struct sl_claim cl;
	__u32 at;
	int rc;

	if (syn)
		sl_new_warm(hash);
	f = sl_flow_get(&pkt->key);
	sl_claim_init(&cl);
	if (f) {
		rc = sl_follow(pkt, f, d, now);
		if (rc != SL_SLOW)
			return rc;
	} else {
		if (!syn)
			hash = sl_hash(&pkt->key);
		s = sl_new_search(&pkt->key, hash, &cl, &at);
		rc = s ? sl_keep_new(pkt, s, at, d, now) : SL_NOSTATE;
		if (rc != SL_SLOW && rc != SL_NOSTATE)
			return rc;
	}
	sl_handoff_put(rc, hash, &cl);
	return rc;
}

/*
 * A packet in neither sl_flows nor sl_new (@cl: where its flow would go
 * there): only VIP traffic goes further; a rescue from the drain table,
 * the fallback, or a new flow.
 */
static __always_inline int sl_choose_nostate(struct sl_pkt *pkt,
					     struct sl_decision *d, __u32 now,
					     __u32 hash,
					     const struct sl_claim *cl)
{
	struct sluice_vip *vip;
	struct sluice_flow *f;

	vip = sl_balanced_vip(pkt, NULL);
	if (!vip)
		return SLUICE_R_PASS_NOT_VIP;

	/* A SYN opens a new connection: never a rescue, skip the lookup. */
	if (!sl_is_tcp_syn(pkt)) {
		f = bpf_map_lookup_elem(&sl_pinned, &pkt->key);
		if (f && !sl_rescue(pkt, f, d, now))
			return 0;
	}
	/*
	 * A pre-drain table (a drain in progress): sluice_fallback decides,
	 * a program of its own on its own verifier budget (fallback.h); it
	 * parses the packet again. This branch is all it costs here.
	 */
	if (vip->flags & SLUICE_VIP_F_FALLBACK) {
		d->fallback = 1;
		return 0;
	}
	return sl_start_new(pkt, d, now, vip, hash, sl_claim_idx(cl));
}

/*
 * sl_flows (one lookup for an established flow), sl_new (a second packet),
 * then, for VIP traffic only, the drain table and a new pick. Fills @d or
 * returns a reason. sluice_slow's, after the handoff (sl_decide()).
 */
static __always_inline int sl_choose_backend(struct sl_pkt *pkt,
					     struct sl_decision *d)
{
	struct sluice_new_slot *s;
	struct sl_claim cl;
	struct sluice_flow *f;
	__u32 now = sl_now();
	__u32 hash, at;

	f = sl_flow_get(&pkt->key);
	if (f)
		return sl_established(pkt, f, d, now);

	/*
	 * A second packet finds its first one's slot, which carries the
	 * pick: no VIP lookup (a slot exists only for a VIP's flow, and one
	 * whose backend went away is rescheduled, which looks it up).
	 */
	hash = sl_hash(&pkt->key);
	sl_claim_init(&cl);
	s = sl_new_search(&pkt->key, hash, &cl, &at);
	if (s)
		return sl_from_new(pkt, s, at, d, now, NULL, hash);
	return sl_choose_nostate(pkt, d, now, hash, &cl);
}

#endif /* SLUICE_BPF_CHOOSE_H */
