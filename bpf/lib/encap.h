/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Encapsulation towards a backend: a new Ethernet header and an outer IPv4
 * (IPIP / 6in4) or IPv6 (IPv6-in-IPv6 / 4in6) header in front of the
 * client's IP packet. VLAN tags of the ingress frame are dropped: the outer
 * packet leaves untagged on the next hop's interface.
 *
 * A packet that carries a second hop (a stateless packet during a drain,
 * docs/design.md, "The GUE format") gets UDP + GUE + the hop field between
 * the outer header and the client's packet instead (abi.h).
 */
#ifndef SLUICE_BPF_ENCAP_H
#define SLUICE_BPF_ENCAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sluice/abi.h"
#include "parse.h"

/* Where the encapsulated packet goes: resolved before the packet changes. */
struct sl_nexthop {
	__u32 ifindex;
	__u8 dmac[6];
	__u8 smac[6];
	__u32 mtu;		/* egress MTU; 0: unknown, not checked */
};

/* UDP, GUE and the hop field, as they follow the outer IP header. */
struct sl_gue_block {
	struct udphdr udp;
	struct sluice_gue_hdr gue;
	struct sluice_gue_hop hop;
};
_Static_assert(sizeof(struct sl_gue_block) == SLUICE_GUE_OVERHEAD,
	       "gue block size");

/*
 * Bytes the encapsulation adds: what a client packet loses of the MTU.
 * @extra: SLUICE_GUE_OVERHEAD for a packet with a second hop, else 0.
 * A scalar, not a branch: the verifier then walks the rest of the path
 * once for both encapsulations.
 */
static __always_inline __u32 sl_encap_overhead(const struct sluice_backend *be,
					       __u32 extra)
{
	__u32 ip = be->family == SLUICE_AF_INET ? sizeof(struct iphdr) :
						  sizeof(struct ipv6hdr);

	return ip + extra;
}

/* The outer header's protocol: the client's IP version, or UDP for GUE. */
static __always_inline __u8 sl_outer_proto(const struct sl_pkt *pkt, int gue)
{
	if (gue)
		return IPPROTO_UDP;
	return pkt->key.family == SLUICE_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
}

/*
 * UDP + GUE + the hop field @hop. The UDP source port carries the flow's
 * entropy for ECMP and RSS on the way (as the IPv6 flow label does); the
 * checksum is 0 (RFC 6935 for IPv6): the inner packet has its own.
 */
static __always_inline void sl_build_gue(struct sl_gue_block *g,
					 const struct sl_pkt *pkt,
					 const struct sluice_gue_hop *hop)
{
	__u16 entropy =
		bpf_ntohs(pkt->key.sport) ^
		bpf_ntohl(pkt->key.src.addr[pkt->key.family == SLUICE_AF_INET6 ?
						    3 :
						    0]);

	g->udp.source = bpf_htons(0xc000 | (entropy & 0x3fff));
	g->udp.dest = bpf_htons(SLUICE_GUE_PORT);
	g->udp.len = bpf_htons(pkt->l3_len + sizeof(*g));
	g->udp.check = 0;
	g->gue.hlen_ver = SLUICE_GUE_HLEN;
	g->gue.proto = sl_outer_proto(pkt, 0);
	g->gue.flags = 0;
	g->hop = *hop;
}

/* RFC 1071 checksum of a 20-byte IPv4 header held on the stack. */
static __always_inline __sum16 sl_ipv4_csum(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__sum16)~sum;
}

/* @extra: bytes between the outer header and the client's packet. */
static __always_inline void sl_build_outer4(struct iphdr *o,
					    const struct sl_pkt *pkt,
					    const struct sluice_backend *be,
					    const struct sluice_config *cfg,
					    __u32 extra)
{
	o->version = 4;
	o->ihl = 5;
	o->tos = pkt->tos;
	o->tot_len = bpf_htons(pkt->l3_len + sizeof(*o) + extra);
	o->id = 0;
	/* RFC 2003: copy DF from an IPv4 inner; IPv6 inner never fragments. */
	o->frag_off = (pkt->df || pkt->key.family == SLUICE_AF_INET6) ?
		      bpf_htons(SL_IP_DF) : 0;
	o->ttl = SLUICE_OUTER_TTL;
	o->protocol = sl_outer_proto(pkt, extra);
	o->check = 0;
	o->saddr = cfg->src4;
	o->daddr = be->addr.addr[0];
	o->check = sl_ipv4_csum(o);
}

static __always_inline void sl_build_outer6(struct ipv6hdr *o,
					    const struct sl_pkt *pkt,
					    const struct sluice_backend *be,
					    const struct sluice_config *cfg,
					    __u32 extra)
{
	/* Flow label from the client port and address: ECMP entropy on the
	 * path to the backend, stable for the flow. */
	__u32 label = (bpf_ntohs(pkt->key.sport) ^
		       bpf_ntohl(pkt->key.src.addr[pkt->key.family ==
						   SLUICE_AF_INET6 ? 3 : 0]))
		      & 0xfffff;

	o->version = 6;
	o->priority = pkt->tos >> 4;
	o->flow_lbl[0] = ((pkt->tos & 0xf) << 4) | (label >> 16);
	o->flow_lbl[1] = label >> 8;
	o->flow_lbl[2] = label;
	o->payload_len = bpf_htons(pkt->l3_len + extra);
	o->nexthdr = sl_outer_proto(pkt, extra);
	o->hop_limit = SLUICE_OUTER_TTL;
	__builtin_memcpy(&o->saddr, &cfg->src6, 16);
	__builtin_memcpy(&o->daddr, &be->addr, 16);
}

/* With @extra, the GUE block at @p, bounds-checked. 0 or SLUICE_R_DROP_ENCAP. */
static __always_inline int sl_put_gue(void *p, void *data_end,
				      const struct sl_pkt *pkt,
				      const struct sluice_gue_hop *hop,
				      __u32 extra)
{
	struct sl_gue_block *g = p;

	if (!extra || !hop)
		return 0;
	if ((void *)(g + 1) > data_end)
		return SLUICE_R_DROP_ENCAP;
	sl_build_gue(g, pkt, hop);
	return 0;
}

/*
 * Replace the Ethernet (and VLAN) header with Ethernet + outer IP (+ GUE
 * with hop field @hop when @extra is SLUICE_GUE_OVERHEAD). Returns 0 or SLUICE_R_DROP_ENCAP. data/data_end
 * must be reloaded after bpf_xdp_adjust_head, and every write
 * bounds-checked again.
 */
static __always_inline int
sl_encap(struct xdp_md *ctx, const struct sl_pkt *pkt,
	 const struct sluice_backend *be, const struct sluice_gue_hop *hop,
	 __u32 extra, const struct sluice_config *cfg,
	 const struct sl_nexthop *nh)
{
	int outer = sl_encap_overhead(be, extra);
	int delta = outer - (int)(pkt->l3_off - sizeof(struct ethhdr));
	void *data, *data_end;
	struct ethhdr *eth;

	if (bpf_xdp_adjust_head(ctx, -delta))
		return SLUICE_R_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;

	if (be->family == SLUICE_AF_INET) {
		struct iphdr *o = (void *)(eth + 1);

		if ((void *)(o + 1) > data_end ||
		    sl_put_gue(o + 1, data_end, pkt, hop, extra))
			return SLUICE_R_DROP_ENCAP;
		sl_build_outer4(o, pkt, be, cfg, extra);
		eth->h_proto = bpf_htons(ETH_P_IP);
	} else {
		struct ipv6hdr *o = (void *)(eth + 1);

		if ((void *)(o + 1) > data_end ||
		    sl_put_gue(o + 1, data_end, pkt, hop, extra))
			return SLUICE_R_DROP_ENCAP;
		sl_build_outer6(o, pkt, be, cfg, extra);
		eth->h_proto = bpf_htons(ETH_P_IPV6);
	}
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	return 0;
}

#endif /* SLUICE_BPF_ENCAP_H */
