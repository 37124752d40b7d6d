// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluice: the XDP balancer. Per packet (docs/design.md, "The packet pipeline"):
 *   parse -> flow lookup -> (new flow: VIP lookup, Maglev pick) ->
 *   next hop -> encapsulate -> XDP_TX / XDP_REDIRECT,
 * and one exit that counts the packet under exactly one SLUICE_R_* reason.
 *
 * Three programs, each verified on its own budget: sluice_xdp (attached)
 * forwards established flows whose backend keeps them, at the cost of one
 * hash lookup (the flow map is consulted before the VIP map, since a flow
 * entry can only exist for a VIP), and promotes second packets from
 * sl_new; every other TCP/UDP packet to a VIP is tail-called to
 * sluice_slow (VIP lookup, Maglev pick, rescue, rescheduling), and from
 * there a VIP with a pre-drain table to sluice_fallback. Both parse the
 * packet again.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sluice/abi.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/stats.h"
#include "lib/vip.h"
#include "lib/choose.h"
#include "lib/forward.h"
#include "lib/icmp.h"
#include "lib/fallback.h"

/*
 * Backend @be_id's encapsulation around @pkt, sent: sl_forward() as a
 * global function, which the verifier checks once, on its own, knowing
 * nothing of its arguments, instead of once for every way a caller
 * reached it (sluice_slow's and sluice_fallback's paths would multiply
 * past its 1M-instruction limit). sluice_xdp's established path inlines
 * sl_forward() instead: no call on the hot path.
 */
__noinline int sl_send(struct xdp_md *ctx, struct sl_pkt *pkt, __u32 be_id)
{
	struct sluice_backend *be = sl_backend(be_id);

	if (!pkt || !be)
		return SLUICE_R_INTERNAL;
	return sl_forward(ctx, pkt, be, NULL, 0, 0);
}

/* sl_send() in GUE with the hop field @hop (sluice_fallback's second chance). */
__noinline int sl_send_gue(struct xdp_md *ctx, struct sl_pkt *pkt, __u32 be_id,
			   const struct sluice_gue_hop *hop)
{
	struct sluice_backend *be = sl_backend(be_id);

	if (!pkt || !be || !hop)
		return SLUICE_R_INTERNAL;
	return sl_forward(ctx, pkt, be, hop, SLUICE_GUE_OVERHEAD, 0);
}

/* Count a packet about to be sent to its decided backend. */
static __always_inline void sl_count_decided(const struct sl_pkt *pkt,
					     const struct sl_decision *d)
{
	sl_count_fwd(d->vip_id, d->be_id, pkt->l3_len, d->new_flow);
	if (sl_is_tcp_close(pkt)) {
		struct sluice_be_stats *bs = sl_be_stat(d->be_id);

		if (bs)
			bs->closing++;
	}
}

/* sluice_xdp's: count a decided packet and send it, all inline. */
static __always_inline int sl_deliver(struct xdp_md *ctx, struct sl_pkt *pkt,
				      const struct sl_decision *d)
{
	sl_count_decided(pkt, d);
	return sl_forward(ctx, pkt, d->be, NULL, 0, 0);
}

/* The tail programs': count it and send it (with GUE @hop if any) by sl_send(). */
static __always_inline int sl_deliver_call(struct xdp_md *ctx,
					   struct sl_pkt *pkt,
					   const struct sl_decision *d,
					   const struct sluice_gue_hop *hop)
{
	sl_count_decided(pkt, d);
	if (hop && hop->family)
		return sl_send_gue(ctx, pkt, d->be_id, hop);
	return sl_send(ctx, pkt, d->be_id);
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
	rc = sl_choose_fast(pkt, &d);
	if (rc == SL_SLOW || rc == SL_NOSTATE) {
		bpf_tail_call(ctx, &sl_tail_slow, 0);
		return SLUICE_R_INTERNAL; /* sl_tail_slow unwritten: a bug */
	}
	if (rc)
		return rc;
	return sl_deliver(ctx, pkt, &d);
}

/* Ethernet (VLANs) and the IP header into @pkt: 0 or the reason. */
static __always_inline int sl_parse_ip(void *data, void *data_end,
				       struct sl_pkt *pkt)
{
	__be16 proto;
	int rc;

	rc = sl_parse_l2(data, data_end, pkt, &proto);
	if (rc)
		return rc;
	if (proto == bpf_htons(ETH_P_IP))
		return sl_parse_ipv4(data, data_end, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return sl_parse_ipv6(data, data_end, pkt);
	return SLUICE_R_PASS_NOT_IP;
}

static __always_inline int sl_process(struct xdp_md *ctx, struct sl_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int rc;

	rc = sl_parse_ip(data, data_end, pkt);
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
 * Tail of sluice_slow for a packet with no state to a VIP with a pre-drain
 * table: the fallback for a TCP non-SYN (and, with flows.udp_fallback,
 * UDP) when the tables disagree, else the usual new-flow path.
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
	if ((pkt->l4proto != IPPROTO_TCP && !cfg_udp_fallback) ||
	    sl_is_tcp_syn(pkt) || !sl_fallback_pick(pkt, &d, vip, hash, &hop)) {
		rc = sl_start_new(pkt, &d, sl_now(), vip, hash, SL_NO_SLOT);
		return rc ? rc : sl_deliver_call(ctx, pkt, &d, NULL);
	}
	return sl_deliver_call(ctx, pkt, &d, &hop);
}

/* The packet as sluice_xdp parsed it (it had passed every check there). */
static __always_inline int sl_reparse(struct xdp_md *ctx, struct sl_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int rc;

	rc = sl_parse_ip(data, data_end, pkt);
	if (rc)
		return rc;
	if (pkt->frag || pkt->exthdr_bad ||
	    (pkt->l4proto != IPPROTO_TCP && pkt->l4proto != IPPROTO_UDP))
		return SLUICE_R_INTERNAL; /* sluice_xdp never sends these */
	return sl_parse_l4(data, data_end, pkt);
}

/*
 * sl_choose_backend() for sluice_slow into @out, all but the backend
 * pointer, or only its part past both tables when sluice_xdp's handoff
 * says it searched them (a global function, like sl_send(): verified
 * once, on its own stack frame, so the two together fit the 512 bytes a
 * chain of calls may use). Its caller finds the backend again by id.
 */
__noinline int sl_decide(struct sl_pkt *pkt, struct sl_decision *out)
{
	struct sl_handoff *h = bpf_map_lookup_elem(&sl_handoff, &zero);
	struct sl_decision d = {};
	struct sl_claim cl;
	int rc;

	if (!pkt || !out || !h)
		return SLUICE_R_INTERNAL;
	if (h->nostate) {
		/* sluice_xdp found it in neither table: go on from there */
		cl = h->cl;
		h->nostate = 0;
		rc = sl_choose_nostate(pkt, &d, sl_now(), h->hash, &cl);
	} else {
		rc = sl_choose_backend(pkt, &d);
	}
	out->be_id = d.be_id;
	out->vip_id = d.vip_id;
	out->new_flow = d.new_flow;
	out->fallback = d.fallback;
	return rc;
}

/* Everything sl_choose_fast() left: steps 3-5 of "The packet pipeline". */
static __always_inline int sl_slow_run(struct xdp_md *ctx, struct sl_pkt *pkt)
{
	struct sl_decision d = {};
	int rc;

	rc = sl_decide(pkt, &d);
	if (rc)
		return rc;
	if (d.fallback) {
		bpf_tail_call(ctx, &sl_tail, SLUICE_TAIL_FALLBACK);
		return SLUICE_R_INTERNAL; /* sl_tail unwritten: a bug */
	}
	return sl_deliver_call(ctx, pkt, &d, NULL);
}

/* Reached only by sluice_xdp's tail call (sl_tail_slow), never attached. */
SEC("xdp")
int sluice_slow(struct xdp_md *ctx)
{
	struct sl_pkt pkt = {};
	int reason = sl_reparse(ctx, &pkt);

	if (!reason)
		reason = sl_slow_run(ctx, &pkt);
	sl_count_reason(reason);
	return sluice_reason_verdict(reason);
}

/* Reached only by sluice_slow's tail call (sl_tail), never attached. */
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
