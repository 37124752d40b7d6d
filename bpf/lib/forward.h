/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Sending a packet to its backend: the next hop (cached, else the FIB),
 * the MTU check, encapsulation and XDP_TX or XDP_REDIRECT.
 */
#ifndef SLUICE_BPF_FORWARD_H
#define SLUICE_BPF_FORWARD_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "sluice/abi.h"
#include "maps.h"
#include "parse.h"
#include "encap.h"
#include "toobig.h"
#include "settings.h"

#define SL_AF_INET_KERNEL	2	/* AF_INET for bpf_fib_lookup */
#define SL_AF_INET6_KERNEL	10	/* AF_INET6 */

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
 * SLUICE_GUE_OVERHEAD, encap.h) and send: XDP_TX when the next hop is out
 * of the ingress interface, else redirect through sl_tx_ports. @icmp selects the
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
		return icmp ? SLUICE_R_DROP_TOO_BIG :
			      sl_toobig_reply(ctx, pkt, be, extra, nh.mtu);
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

#endif /* SLUICE_BPF_FORWARD_H */
