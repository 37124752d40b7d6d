// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluice: the XDP balancer. Per packet (docs/design.md, "The packet pipeline"):
 *   parse -> flow lookup -> (new flow: VIP lookup, Maglev pick) ->
 *   next hop -> encapsulate -> XDP_TX / XDP_REDIRECT,
 * and one exit that counts the packet under exactly one SLUICE_R_* reason.
 *
 * Established flows cost one hash lookup: the flow map is consulted before
 * the VIP map, since a flow entry can only exist for a VIP.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sluice/abi.h"
#include "sluice/hash.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/encap.h"
#include "lib/toobig.h"
#include "lib/stats.h"
#include "lib/flow.h"

#define SL_AF_INET_KERNEL	2	/* AF_INET for bpf_fib_lookup */
#define SL_AF_INET6_KERNEL	10	/* AF_INET6 */

/* Load-time settings, set through the skeleton by sluiced. */
const volatile __u32 cfg_ring_size = SLUICE_RING_SIZE_DEFAULT;
const volatile __u32 cfg_hash_seed = 0;
const volatile __u32 cfg_new_slots = SLUICE_NEW_FLOWS_DEFAULT;

static const __u32 zero = 0;

/* What the balancer decided for a packet it forwards. */
struct sl_decision {
	int fallback;		/* for sluice_fallback to decide (a drain) */
	struct sluice_backend *be;
	__u32 be_id;
	__u32 vip_id;
	int new_flow;
};

/*
 * The kernel's CLOCK_MONOTONIC_COARSE in ms, truncated to 32 bits (abi.h):
 * it keeps running while sluiced is stopped, so no expiry is ever decided
 * on a clock that stood still. The coarse read is a few ns, not a
 * clocksource access.
 */
static __always_inline __u32 sl_now(void)
{
	return (__u32)(bpf_ktime_get_coarse_ns() / 1000000);
}

/* Exact VIP, then the port-0 VIP of the same address and protocol. */
static __always_inline struct sluice_vip *
sl_lookup_vip(const struct sluice_flow_key *fk)
{
	struct sluice_vip_key vk = {};
	struct sluice_vip *vip;

	vk.addr = fk->dst;
	vk.port = fk->dport;
	vk.proto = fk->proto;
	vk.family = fk->family;
	vip = bpf_map_lookup_elem(&sl_vips, &vk);
	if (vip || !vk.port)
		return vip;
	vk.port = 0;
	return bpf_map_lookup_elem(&sl_vips, &vk);
}

/*
 * Could @addr be a VIP address? sl_vip_addrs answers "no" for certain
 * (a clear bit) at the cost of an inlined array access and a mix, so
 * traffic that is not ours passes before any flow lookup. "Yes" may be
 * another address on the same bit: the caller's lookups decide.
 */
static __always_inline int sl_maybe_vip_addr(const struct sluice_addr *addr,
					     __u8 family)
{
	const struct sluice_vip_filter *vf;
	__u32 bit;

	vf = bpf_map_lookup_elem(&sl_vip_addrs, &zero);
	if (!vf || !vf->ready)
		return 1;
	bit = sluice_vip_filter_bit(addr, family);
	return (vf->bits[(bit / 64) & (SLUICE_VIP_FILTER_BITS / 64 - 1)] >>
		(bit % 64)) &
	       1;
}

/* Is @addr one of the VIP addresses (the ADDR_ONLY marker entries)? */
static __always_inline int sl_is_vip_addr(const struct sluice_addr *addr,
					  __u8 family)
{
	struct sluice_vip_key vk = {};

	if (!sl_maybe_vip_addr(addr, family))
		return 0;

	vk.addr = *addr;
	vk.family = family;
	return bpf_map_lookup_elem(&sl_vips, &vk) != NULL;
}

static __always_inline struct sluice_backend *sl_backend(__u32 id)
{
	return bpf_map_lookup_elem(&sl_backends, &id);
}

/* A pinned flow may follow its backend unless it was removed or reused. */
static __always_inline int sl_backend_usable(const struct sluice_backend *be,
					     const struct sluice_flow *f)
{
	return be && (be->flags & SLUICE_BE_F_IN_USE) &&
	       !(be->flags & SLUICE_BE_F_RELEASE) && be->epoch == f->epoch;
}

static __always_inline __u32 sl_hash(const struct sluice_flow_key *fk)
{
	return sluice_flow_hash(fk, cfg_hash_seed);
}

/* The backend id that table @ring_idx of outer map @rings names for @hash. */
static __always_inline __u32 sl_ring_pick(void *rings, __u32 ring_idx,
					  __u32 hash)
{
	__u32 slot, *be_id;
	void *ring;

	ring = bpf_map_lookup_elem(rings, &ring_idx);
	if (!ring || !cfg_ring_size)
		return SLUICE_NO_BACKEND;
	slot = hash % cfg_ring_size;
	be_id = bpf_map_lookup_elem(ring, &slot);
	return be_id ? *be_id : SLUICE_NO_BACKEND;
}

/* The VIP's live Maglev table names the backend for a new flow's hash. */
static __always_inline __u32 sl_maglev_pick(const struct sluice_vip *vip,
					    __u32 hash)
{
	return sl_ring_pick(&sl_rings,
			    SLUICE_RING_INDEX(vip->vip_id, vip->gen & 1), hash);
}

/* Slot @way of the bucket that starts at @base (abi.h). */
static __always_inline struct sluice_new_slot *sl_new_way(__u32 base, int way)
{
	__u32 idx = base + way;

	return bpf_map_lookup_elem(&sl_new, &idx);
}

/* Does @s hold the flow @fk? Word compares: no memcmp in BPF. */
static __always_inline int sl_slot_holds(const struct sluice_new_slot *s,
					 const struct sluice_flow_key *fk)
{
	const __u32 *a = (const __u32 *)&s->key, *b = (const __u32 *)fk;
	__u32 diff = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)SLUICE_FLOW_KEY_WORDS; i++)
		diff |= a[i] ^ b[i];
	return !diff;
}

/*
 * Where a new flow goes: a free slot (key.family 0) of the bucket with
 * more of them, choice 0 on a tie; with both buckets full, the slot whose
 * flow was created longest ago. Two buckets of four are what keeps a
 * handshake's slot below half the slots in flight: a single bucket of the
 * same size overflows with a few per cent of them.
 */
struct sl_claim {
	__u32 free0, free1, old; /* slot indices; SL_NO_SLOT: none */
	__u32 old_created;
	int n0, n1;
};

/* Indices, not pointers: the verifier refuses a pointer spilled to a
 * stack slot that clang later reuses for narrower data. */
#define SL_NO_SLOT 0xffffffffU

/* Note slot @idx (@s) of bucket choice @c for sl_claim_pick(). */
static __always_inline void sl_claim_see(struct sl_claim *cl,
					 const struct sluice_new_slot *s,
					 __u32 idx, int c)
{
	if (s->key.family) {
		if (cl->old == SL_NO_SLOT ||
		    (__s32)(s->flow.created - cl->old_created) < 0) {
			cl->old = idx;
			cl->old_created = s->flow.created;
		}
	} else if (c == 0) {
		cl->n0++;
		if (cl->free0 == SL_NO_SLOT)
			cl->free0 = idx;
	} else {
		cl->n1++;
		if (cl->free1 == SL_NO_SLOT)
			cl->free1 = idx;
	}
}

static __always_inline void sl_claim_init(struct sl_claim *cl)
{
	cl->free0 = cl->free1 = cl->old = SL_NO_SLOT;
	cl->old_created = 0;
	cl->n0 = cl->n1 = 0;
}

/* The slot sl_claim_see() chose, or NULL. */
static __always_inline struct sluice_new_slot *
sl_claim_pick(const struct sl_claim *cl)
{
	__u32 idx = cl->free1 != SL_NO_SLOT ? cl->free1 : cl->old;

	if (cl->free0 != SL_NO_SLOT && cl->n0 >= cl->n1)
		idx = cl->free0;
	if (idx == SL_NO_SLOT)
		return NULL;
	return bpf_map_lookup_elem(&sl_new, &idx);
}

/*
 * One pass over both buckets of @fk: the slot holding it, or NULL. With
 * @cl, the slots that do not hold it are noted there too, so a first
 * packet learns where it goes without reading its buckets twice.
 */
static __always_inline struct sluice_new_slot *
sl_new_search(const struct sluice_flow_key *fk, __u32 hash, struct sl_claim *cl)
{
	struct sluice_new_slot *s;
	__u32 base;
	int c, w;

#pragma unroll
	for (c = 0; c < 2; c++) {
		base = sluice_new_bucket(hash, cfg_new_slots, c);
#pragma unroll
		for (w = 0; w < SLUICE_NEW_WAYS; w++) {
			s = sl_new_way(base, w);
			if (!s)
				continue;
			if (sl_slot_holds(s, fk))
				return s;
			if (cl)
				sl_claim_see(cl, s, base + w, c);
		}
	}
	return NULL;
}

/* The slot holding @fk in either of its buckets, or NULL. */
static __always_inline struct sluice_new_slot *
sl_new_find(const struct sluice_flow_key *fk, __u32 hash)
{
	return sl_new_search(fk, hash, NULL);
}

/* Where @fk goes when no search for it was made: its own slot if any. */
static __always_inline struct sluice_new_slot *
sl_new_claim(const struct sluice_flow_key *fk, __u32 hash)
{
	struct sluice_new_slot *s;
	struct sl_claim cl;

	sl_claim_init(&cl);
	s = sl_new_search(fk, hash, &cl);
	return s ? s : sl_claim_pick(&cl);
}

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
 * sl_new, in slot @s when the caller's search chose one (else found
 * here). Every new flow starts there, mid-stream TCP packets without
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
					struct sluice_new_slot *s)
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
	if (!s)
		s = sl_new_claim(&pkt->key, hash);
	if (s) {
		s->key = pkt->key;
		s->flow = f;
	}
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
	bpf_map_update_elem(&sl_flows, &pkt->key, &f, BPF_ANY);
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
 * sluiced kept a copy in sl_pinned. Put it back and keep its backend.
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
	f.flags &= ~SLUICE_FLOW_F_EVICTED;	/* the sweeper's mark, pinned only */
	bpf_map_update_elem(&sl_flows, &pkt->key, &f, BPF_ANY);
	bs = sl_be_stat(d->be_id);
	if (bs)
		bs->rescued++;
	return 0;
}

/*
 * Second packet of a flow found in sl_new: move it to sl_flows, confirmed
 * at once if this packet shows a real connection (flow.h).
 */
static __always_inline int sl_promote(struct sl_pkt *pkt,
				      struct sluice_new_slot *s,
				      struct sl_decision *d, __u32 now)
{
	struct sluice_vip_stats *vs;
	struct sluice_flow f = s->flow;
	int confirm = sl_confirms(pkt, &f, now);

	f.last_seen = now;
	f.state = sl_state_after(pkt, f.state);
	if (confirm)
		f.flags |= SLUICE_FLOW_F_CONFIRMED;
	bpf_map_update_elem(&sl_flows, &pkt->key, &f, BPF_ANY);
	s->key.family = 0;	/* empty the slot */
	if (confirm)
		sl_confirmed(&pkt->key, &f, d->be, d->be_id);
	vs = sl_vip_stat(d->vip_id);
	if (vs)
		vs->promoted++;
	return 0;
}

/* A packet of a flow that sits in sl_new slot @s. */
static __always_inline int sl_from_new(struct sl_pkt *pkt,
				       struct sluice_new_slot *s,
				       struct sl_decision *d, __u32 now,
				       struct sluice_vip *vip, __u32 hash)
{
	d->be_id = s->flow.backend_id;
	d->be = sl_backend(d->be_id);
	if (!sl_backend_usable(d->be, &s->flow) || !sl_takes_new_state(d->be)) {
		s->key.family = 0;
		return sl_reschedule(pkt, d, now, vip, hash);
	}
	d->vip_id = d->be->vip_id;
	if (sl_is_tcp_syn(pkt))	/* SYN retransmit: same backend */
		return 0;
	return sl_promote(pkt, s, d, now);
}

/*
 * A SYN on a closed flow is a new connection reusing the tuple (NAT, fixed
 * source ports). The old flow ended: it leaves sl_flows and sl_pinned, so
 * the drain checker never takes it for a lost one.
 */
static __always_inline int sl_tuple_reused(const struct sl_pkt *pkt,
					   const struct sluice_flow *f)
{
	return f->state != SLUICE_FLOW_OPEN && sl_is_tcp_syn(pkt);
}

static __always_inline void sl_forget(const struct sluice_flow_key *key)
{
	bpf_map_delete_elem(&sl_flows, key);
	bpf_map_delete_elem(&sl_pinned, key);
}

/*
 * A packet of a flow found in sl_flows: follow its backend, whatever that
 * backend's place in the live table now, refresh it, and confirm it once
 * it shows a real connection.
 */
static __always_inline int sl_established(struct sl_pkt *pkt,
					  struct sluice_flow *f,
					  struct sl_decision *d, __u32 now)
{
	int unconfirmed = !(f->flags & SLUICE_FLOW_F_CONFIRMED);

	if (sl_tuple_reused(pkt, f)) {
		sl_forget(&pkt->key);
		return sl_start_new(pkt, d, now, NULL, sl_hash(&pkt->key),
				    NULL);
	}
	d->be_id = f->backend_id;
	d->be = sl_backend(d->be_id);
	if (!sl_backend_usable(d->be, f) ||
	    (unconfirmed && !sl_takes_new_state(d->be)))
		return sl_reschedule(pkt, d, now, NULL, sl_hash(&pkt->key));
	d->vip_id = d->be->vip_id;
	sl_flow_touch(f, now, pkt);
	if (unconfirmed && sl_confirms(pkt, f, now)) {
		f->flags |= SLUICE_FLOW_F_CONFIRMED;
		sl_confirmed(&pkt->key, f, d->be, d->be_id);
	}
	return 0;
}

/*
 * Drain-aware fallback (docs/design.md): a packet with no state that is
 * not a SYN may belong to a connection of a draining backend whose state
 * this box lost (eviction, restart, an ECMP move). While drains are in
 * progress it goes to the pre-drain table's backend first, with the live
 * table's backend as its second hop (GUE, @hop), which the first backend
 * uses when it has no socket for it. UDP has no second chance: the
 * pre-drain pick alone. Both take no state: the next packet decides
 * again, the same way, until the drains end. Returns 1 with @d and @hop
 * filled (hop->family 0: no second hop), or 0: balance as usual (both
 * tables agree, or the pre-drain backend may take no more: released,
 * removed or reported drained). Runs in sluice_fallback only.
 */
static __always_inline int sl_fallback_pick(const struct sl_pkt *pkt,
					    struct sl_decision *d,
					    const struct sluice_vip *vip,
					    __u32 hash, struct sluice_gue_hop *hop)
{
	__u32 idx = SLUICE_RING_INDEX(vip->vip_id, vip->gen & 1);
	struct sluice_backend *fb, *live;
	struct sluice_vip_stats *vs;
	__u32 fb_id, live_id;

	fb_id = sl_ring_pick(&sl_fb_rings, idx, hash);
	live_id = sl_ring_pick(&sl_rings, idx, hash);
	if (fb_id == live_id)
		return 0;
	fb = sl_backend(fb_id);
	if (!fb || !(fb->flags & SLUICE_BE_F_IN_USE) ||
	    (fb->flags & (SLUICE_BE_F_RELEASE | SLUICE_BE_F_DRAINED)))
		return 0;
	live = sl_backend(live_id);
	if (pkt->l4proto == IPPROTO_TCP && live &&
	    (live->flags & SLUICE_BE_F_IN_USE)) {
		hop->magic = SLUICE_GUE_MAGIC;
		hop->family = live->family;
		hop->addr = live->addr;
	}
	vs = sl_vip_stat(vip->vip_id);
	if (vs) {
		vs->fallback++;
		vs->non_syn_miss += pkt->l4proto == IPPROTO_TCP;
	}
	d->be = fb;
	d->be_id = fb_id;
	d->vip_id = vip->vip_id;
	return 1;
}

/*
 * sl_flows (one lookup for an established flow), sl_new (a second packet),
 * then, for VIP traffic only, sl_pinned and a new pick. Fills @d or
 * returns a reason.
 */
static __always_inline int sl_choose_backend(struct sl_pkt *pkt,
					     struct sl_decision *d)
{
	struct sluice_new_slot *s;
	struct sluice_vip *vip;
	struct sl_claim cl;
	struct sluice_flow *f;
	__u32 now = sl_now();
	__u32 hash;

	f = bpf_map_lookup_elem(&sl_flows, &pkt->key);
	if (f)
		return sl_established(pkt, f, d, now);

	/*
	 * A second packet finds its first one's slot, which carries the
	 * pick: no VIP lookup (a slot exists only for a VIP's flow, and one
	 * whose backend went away is rescheduled, which looks it up).
	 */
	hash = sl_hash(&pkt->key);
	sl_claim_init(&cl);
	s = sl_new_search(&pkt->key, hash, &cl);
	if (s)
		return sl_from_new(pkt, s, d, now, NULL, hash);

	/* Not established: only VIP traffic goes further. */
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
	 * a program of its own on its own verifier budget, as this one
	 * nearly fills the 1M instructions; it parses the packet again.
	 * This branch is all it costs here.
	 */
	if (vip->flags & SLUICE_VIP_F_FALLBACK) {
		d->fallback = 1;
		return 0;
	}
	return sl_start_new(pkt, d, now, vip, hash, sl_claim_pick(&cl));
}

/*
 * Next hop of the outer packet and its MTU: the one sluiced resolved and
 * cached in the backend entry, else a FIB lookup (slow path until sluiced
 * resolves it).
 */
static __always_inline int sl_resolve_nexthop(struct xdp_md *ctx,
					      const struct sluice_backend *be,
					      const struct sluice_config *cfg,
					      const struct sl_pkt *pkt,
					      struct sl_nexthop *nh)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	if (be->flags & SLUICE_BE_F_NH_VALID) {
		nh->ifindex = be->ifindex;
		__builtin_memcpy(nh->dmac, be->dmac, ETH_ALEN);
		__builtin_memcpy(nh->smac, be->smac, ETH_ALEN);
		nh->mtu = be->mtu;
		return 0;
	}
	fib.ifindex = ctx->ingress_ifindex;
	if (be->family == SLUICE_AF_INET) {
		fib.family = SL_AF_INET_KERNEL;
		fib.ipv4_src = cfg->src4;
		fib.ipv4_dst = be->addr.addr[0];
		fib.tot_len = pkt->l3_len + sizeof(struct iphdr);
	} else {
		fib.family = SL_AF_INET6_KERNEL;
		__builtin_memcpy(fib.ipv6_src, &cfg->src6, 16);
		__builtin_memcpy(fib.ipv6_dst, &be->addr, 16);
		fib.tot_len = pkt->l3_len + sizeof(struct ipv6hdr);
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_OUTPUT);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		/* tot_len > the route's MTU: only the MTU is filled in, and
		 * the caller's size check answers before it reads the rest
		 * (ifindex 0 would fail the port check anyway). */
		nh->ifindex = 0;
		nh->mtu = fib.mtu_result;
		return 0;
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return SLUICE_R_DROP_NO_NEXTHOP;
	nh->mtu = fib.mtu_result;
	nh->ifindex = fib.ifindex;
	__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
	return 0;
}

/*
 * Encapsulate to @be (in GUE with hop field @hop when @extra is
 * SLUICE_GUE_OVERHEAD, encap.h) and send: XDP_TX when the next hop is out of the ingress interface, else
 * redirect through sl_tx_ports. @icmp selects the
 * ICMP_* reasons. A packet that would not fit the egress MTU once
 * encapsulated is answered with ICMP too-big instead (toobig.h); an ICMP
 * error never is (RFC 1122 3.2.2: no error about an error). Returns the
 * reason to count.
 */
static __always_inline int sl_forward(struct xdp_md *ctx, struct sl_pkt *pkt,
				      const struct sluice_backend *be,
				      const struct sluice_gue_hop *hop,
				      __u32 extra, int icmp)
{
	const struct sluice_config *cfg;
	struct sl_nexthop nh;
	__u32 ifindex;
	int rc;

	cfg = bpf_map_lookup_elem(&sl_config, &zero);
	if (!cfg)
		return SLUICE_R_DROP_ENCAP;
	rc = sl_resolve_nexthop(ctx, be, cfg, pkt, &nh);
	if (rc)
		return rc;
	if (sl_too_big(pkt, be, extra, &nh))
		return icmp ? SLUICE_R_DROP_TOO_BIG
			    : sl_toobig_reply(ctx, pkt, be, extra, nh.mtu);
	ifindex = nh.ifindex;
	if (ifindex != ctx->ingress_ifindex &&
	    !bpf_map_lookup_elem(&sl_tx_ports, &ifindex))
		return SLUICE_R_DROP_NO_NEXTHOP;
	rc = sl_encap(ctx, pkt, be, hop, extra, cfg, &nh);
	if (rc)
		return rc;
	if (ifindex == ctx->ingress_ifindex)
		return icmp ? SLUICE_R_ICMP_TX : SLUICE_R_FWD_TX;
	bpf_redirect_map(&sl_tx_ports, ifindex, 0);
	return icmp ? SLUICE_R_ICMP_REDIRECT : SLUICE_R_FWD_REDIRECT;
}

#include "lib/icmp.h"


/* Count a decided packet and send it (with GUE @hop when @extra). */
static __always_inline int sl_deliver(struct xdp_md *ctx, struct sl_pkt *pkt,
				      const struct sl_decision *d,
				      const struct sluice_gue_hop *hop,
				      __u32 extra)
{
	sl_count_fwd(d->vip_id, d->be_id, pkt->l3_len, d->new_flow);
	if (sl_is_tcp_close(pkt)) {
		struct sluice_be_stats *bs = sl_be_stat(d->be_id);

		if (bs)
			bs->closing++;
	}
	return sl_forward(ctx, pkt, d->be, hop, extra, 0);
}

/* TCP/UDP to a possible VIP: steps 2-5 of docs/design.md, "The packet pipeline". */
static __always_inline int sl_balance(struct xdp_md *ctx, void *data,
				      void *data_end, struct sl_pkt *pkt)
{
	struct sl_decision d = {};
	int rc;

	/* Not for a VIP address: pass before any lookup (bad L4 or not). */
	if (!sl_maybe_vip_addr(&pkt->key.dst, pkt->key.family))
		return SLUICE_R_PASS_NOT_VIP;
	rc = sl_parse_l4(data, data_end, pkt);
	if (rc) {
		if (rc == SLUICE_R_DROP_BAD_L4 &&
		    !sl_is_vip_addr(&pkt->key.dst, pkt->key.family))
			return SLUICE_R_PASS_NOT_VIP;
		return rc;
	}
	rc = sl_choose_backend(pkt, &d);
	if (rc)
		return rc;
	if (d.fallback) {
		bpf_tail_call(ctx, &sl_tail, SLUICE_TAIL_FALLBACK);
		return SLUICE_R_INTERNAL;	/* sl_tail unwritten: a bug */
	}
	return sl_deliver(ctx, pkt, &d, NULL, 0);
}

static __always_inline int sl_process(struct xdp_md *ctx, struct sl_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__be16 proto;
	int rc;

	rc = sl_parse_l2(data, data_end, pkt, &proto);
	if (rc)
		return rc;
	if (proto == bpf_htons(ETH_P_IP))
		rc = sl_parse_ipv4(data, data_end, pkt);
	else if (proto == bpf_htons(ETH_P_IPV6))
		rc = sl_parse_ipv6(data, data_end, pkt);
	else
		return SLUICE_R_PASS_NOT_IP;
	if (rc)
		return rc;

	if (pkt->l4proto == IPPROTO_ICMP || pkt->l4proto == IPPROTO_ICMPV6)
		return sl_handle_icmp(ctx, data, data_end, pkt);
	if (pkt->frag || pkt->exthdr_bad ||
	    (pkt->l4proto != IPPROTO_TCP && pkt->l4proto != IPPROTO_UDP)) {
		if (!sl_is_vip_addr(&pkt->key.dst, pkt->key.family))
			return SLUICE_R_PASS_NOT_VIP;
		if (pkt->frag)
			return SLUICE_R_DROP_FRAGMENT;
		if (pkt->exthdr_bad)
			return SLUICE_R_DROP_EXTHDR;
		return SLUICE_R_PASS_NOT_VIP;
	}
	return sl_balance(ctx, data, data_end, pkt);
}

/*
 * Tail of sluice_xdp for a packet with no state to a VIP with a pre-drain
 * table: the fallback for a non-SYN when the tables disagree, else the
 * usual new-flow path.
 */
static __always_inline int sl_fallback_run(struct xdp_md *ctx,
					   struct sl_pkt *pkt)
{
	struct sluice_gue_hop hop = {};
	struct sl_decision d = {};
	struct sluice_vip *vip;
	__u32 hash;
	int rc;

	vip = sl_balanced_vip(pkt, NULL);
	if (!vip)
		return SLUICE_R_PASS_NOT_VIP;
	hash = sl_hash(&pkt->key);
	if (sl_is_tcp_syn(pkt) || !sl_fallback_pick(pkt, &d, vip, hash, &hop)) {
		rc = sl_start_new(pkt, &d, sl_now(), vip, hash, NULL);
		return rc ? rc : sl_deliver(ctx, pkt, &d, NULL, 0);
	}
	return sl_deliver(ctx, pkt, &d, &hop,
			  hop.family ? SLUICE_GUE_OVERHEAD : 0);
}

/* The packet as sluice_xdp parsed it (it had passed every check there). */
static __always_inline int sl_reparse(struct xdp_md *ctx, struct sl_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__be16 proto;
	int rc;

	rc = sl_parse_l2(data, data_end, pkt, &proto);
	if (rc)
		return rc;
	if (proto == bpf_htons(ETH_P_IP))
		rc = sl_parse_ipv4(data, data_end, pkt);
	else if (proto == bpf_htons(ETH_P_IPV6))
		rc = sl_parse_ipv6(data, data_end, pkt);
	else
		return SLUICE_R_PASS_NOT_IP;
	if (rc)
		return rc;
	if (pkt->frag || pkt->exthdr_bad ||
	    (pkt->l4proto != IPPROTO_TCP && pkt->l4proto != IPPROTO_UDP))
		return SLUICE_R_INTERNAL;	/* sluice_xdp never sends these */
	return sl_parse_l4(data, data_end, pkt);
}

SEC("xdp")
int sluice_fallback(struct xdp_md *ctx)
{
	struct sl_pkt pkt = {};
	int reason = sl_reparse(ctx, &pkt);

	if (!reason)
		reason = sl_fallback_run(ctx, &pkt);
	sl_count_reason(reason);
	return sluice_reason_verdict(reason);
}

SEC("xdp")
int sluice_xdp(struct xdp_md *ctx)
{
	struct sl_pkt pkt = {};
	int reason = sl_process(ctx, &pkt);

	sl_count_reason(reason);
	return sluice_reason_verdict(reason);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
