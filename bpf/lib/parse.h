/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet parsing for the balancer, cursor style after libxdp's
 * parsing_helpers.h, but strict: every length field is checked against
 * both the frame end (for the verifier) and the enclosing header's length
 * (for correctness: Ethernet padding is never taken for payload).
 *
 * Return convention: 0 on success, or a SLUICE_R_* reason (> 0) saying why
 * the packet cannot be balanced.
 */
#ifndef SLUICE_BPF_PARSE_H
#define SLUICE_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include "sluice/abi.h"

#define SL_VLAN_MAX_DEPTH	2
/* L4 offsets are masked to this so packet pointers stay provably in range
 * for the verifier (its limit is 64 KiB including the access size). */
#define SL_L4_OFF_MASK		0x3ff
#define SL_IP_MF		0x2000
#define SL_IP_OFFSET		0x1fff
#define SL_IP_DF		0x4000
#define SL_TCP_FIN		0x01
#define SL_TCP_SYN		0x02
#define SL_TCP_RST		0x04
#define SL_TCP_ACK		0x10

#define SL_ICMP_DEST_UNREACH	3
#define SL_ICMP_FRAG_NEEDED	4
#define SL_ICMPV6_PKT_TOOBIG	2

/* ICMP and ICMPv6 share this 8-byte layout for error messages. */
struct sl_icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 rest;
};

struct sl_vlanhdr {
	__be16 tci;
	__be16 proto;
};

struct sl_ip6_opthdr {
	__u8 nexthdr;
	__u8 hdrlen;
	__u8 pad[6];
};

/* What the parser learned about one packet. */
struct sl_pkt {
	struct sluice_flow_key key;	/* zeroed, then filled: hashable */
	__u32 l3_off;			/* offset of the IP header in the frame */
	__u32 l3_len;			/* IP total length (header + payload) */
	__u32 l4_off;			/* offset of the L4 header */
	__u32 l4_len;			/* L4 bytes per the IP length fields */
	__u32 payload_len;		/* TCP: l4_len minus the TCP header
					 * (options included): a segment that
					 * carries data confirms its flow */
	__u8 tos;			/* IPv4 TOS / IPv6 traffic class */
	__u8 tcp_flags;
	__u8 df;			/* IPv4 DF (copied to an IPv4 outer) */
	__u8 frag;			/* IPv4 fragment or IPv6 fragment header */
	__u8 l4proto;			/* protocol after extension headers */
	__u8 exthdr_bad;		/* IPv6 extension chain not walkable */
};

/* Ethernet plus up to two VLAN tags. Sets l3_off, returns the ethertype. */
static __always_inline int sl_parse_l2(void *data, void *data_end,
				       struct sl_pkt *pkt, __be16 *proto)
{
	struct ethhdr *eth = data;
	struct sl_vlanhdr *vlh;
	__be16 p;
	int i;

	if ((void *)(eth + 1) > data_end)
		return SLUICE_R_DROP_BAD_L2;
	p = eth->h_proto;
	vlh = (void *)(eth + 1);

#pragma unroll
	for (i = 0; i < SL_VLAN_MAX_DEPTH; i++) {
		if (p != bpf_htons(ETH_P_8021Q) && p != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vlh + 1) > data_end)
			return SLUICE_R_DROP_BAD_L2;
		p = vlh->proto;
		vlh++;
	}
	if (p == bpf_htons(ETH_P_8021Q) || p == bpf_htons(ETH_P_8021AD))
		return SLUICE_R_PASS_VLAN_DEPTH;

	pkt->l3_off = (void *)vlh - data;
	*proto = p;
	return 0;
}

static __always_inline int sl_parse_ipv4(void *data, void *data_end,
					 struct sl_pkt *pkt)
{
	struct iphdr *iph = data + (pkt->l3_off & 0xff);
	__u32 hlen, tot;

	if ((void *)(iph + 1) > data_end)
		return SLUICE_R_DROP_BAD_L3;
	if (iph->version != 4 || iph->ihl < 5)
		return SLUICE_R_DROP_BAD_L3;
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || (void *)iph + tot > data_end)
		return SLUICE_R_DROP_BAD_L3;

	pkt->key.family = SLUICE_AF_INET;
	pkt->key.src.addr[0] = iph->saddr;
	pkt->key.dst.addr[0] = iph->daddr;
	pkt->key.proto = iph->protocol;
	pkt->l4proto = iph->protocol;
	pkt->tos = iph->tos;
	pkt->df = !!(iph->frag_off & bpf_htons(SL_IP_DF));
	pkt->frag = !!(iph->frag_off & bpf_htons(SL_IP_MF | SL_IP_OFFSET));
	pkt->l3_len = tot;
	pkt->l4_off = pkt->l3_off + hlen;
	pkt->l4_len = tot - hlen;
	return 0;
}

/*
 * Walk hop-by-hop, routing and destination-options headers to the upper
 * layer. A fragment header sets pkt->frag; a chain longer than
 * SLUICE_MAX_IPV6_EXTHDRS or running past the payload sets exthdr_bad.
 */
static __always_inline int sl_is_ipv6_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_FRAGMENT;
}

static __always_inline void sl_walk_ipv6_ext(void *data, void *data_end,
					     struct sl_pkt *pkt, __u8 nexthdr)
{
	__u32 off = pkt->l4_off;
	__u32 end = pkt->l3_off + pkt->l3_len;
	int i;

#pragma unroll
	for (i = 0; i < SLUICE_MAX_IPV6_EXTHDRS; i++) {
		struct sl_ip6_opthdr *oh;

		if (!sl_is_ipv6_ext(nexthdr))
			break;
		if (off > SL_L4_OFF_MASK)
			goto bad;
		oh = data + off;
		if ((void *)(oh + 1) > data_end || off + sizeof(*oh) > end)
			goto bad;
		if (nexthdr == IPPROTO_FRAGMENT) {
			pkt->frag = 1;
			off += 8;
		} else {
			off += (oh->hdrlen + 1) * 8;
		}
		nexthdr = oh->nexthdr;
	}
	if (sl_is_ipv6_ext(nexthdr) || off > end || off > SL_L4_OFF_MASK)
		goto bad;
	pkt->l4_len = end - off;
	pkt->l4_off = off;
	pkt->l4proto = nexthdr;
	pkt->key.proto = nexthdr;
	return;
bad:
	pkt->exthdr_bad = 1;
}

static __always_inline int sl_parse_ipv6(void *data, void *data_end,
					 struct sl_pkt *pkt)
{
	struct ipv6hdr *ip6h = data + (pkt->l3_off & 0xff);
	__u32 tot;

	if ((void *)(ip6h + 1) > data_end)
		return SLUICE_R_DROP_BAD_L3;
	if (ip6h->version != 6)
		return SLUICE_R_DROP_BAD_L3;
	tot = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	if ((void *)ip6h + tot > data_end)
		return SLUICE_R_DROP_BAD_L3;

	pkt->key.family = SLUICE_AF_INET6;
	__builtin_memcpy(&pkt->key.src, &ip6h->saddr, 16);
	__builtin_memcpy(&pkt->key.dst, &ip6h->daddr, 16);
	pkt->key.proto = ip6h->nexthdr;
	pkt->l4proto = ip6h->nexthdr;
	pkt->tos = (ip6h->priority << 4) | (ip6h->flow_lbl[0] >> 4);
	pkt->l3_len = tot;
	pkt->l4_off = pkt->l3_off + sizeof(*ip6h);
	pkt->l4_len = tot - sizeof(*ip6h);
	if (ip6h->nexthdr != IPPROTO_TCP && ip6h->nexthdr != IPPROTO_UDP &&
	    ip6h->nexthdr != IPPROTO_ICMPV6)
		sl_walk_ipv6_ext(data, data_end, pkt, ip6h->nexthdr);
	return 0;
}

/* TCP or UDP ports (and TCP flags). Called only for TCP/UDP, non-fragments. */
static __always_inline int sl_parse_l4(void *data, void *data_end,
				       struct sl_pkt *pkt)
{
	void *l4 = data + (pkt->l4_off & SL_L4_OFF_MASK);

	if (pkt->l4proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end || pkt->l4_len < sizeof(*th))
			return SLUICE_R_DROP_BAD_L4;
		if (th->doff < 5 || th->doff * 4 > pkt->l4_len)
			return SLUICE_R_DROP_BAD_L4;
		/* From the IP length fields, never the frame length:
		 * Ethernet padding is not payload. */
		pkt->payload_len = pkt->l4_len - th->doff * 4;
		pkt->key.sport = th->source;
		pkt->key.dport = th->dest;
		pkt->tcp_flags = ((__u8 *)th)[13];
		return 0;
	}
	if (pkt->l4proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end || pkt->l4_len < sizeof(*uh))
			return SLUICE_R_DROP_BAD_L4;
		if (bpf_ntohs(uh->len) < sizeof(*uh) ||
		    bpf_ntohs(uh->len) > pkt->l4_len)
			return SLUICE_R_DROP_BAD_L4;
		pkt->key.sport = uh->source;
		pkt->key.dport = uh->dest;
		return 0;
	}
	return SLUICE_R_PASS_NOT_VIP;
}

/* A bare SYN opens a TCP flow; anything else on a TCP flow is mid-stream. */
static __always_inline int sl_is_tcp_syn(const struct sl_pkt *pkt)
{
	return pkt->l4proto == IPPROTO_TCP &&
	       (pkt->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN;
}

static __always_inline int sl_is_tcp_close(const struct sl_pkt *pkt)
{
	return pkt->l4proto == IPPROTO_TCP &&
	       (pkt->tcp_flags & (SL_TCP_FIN | SL_TCP_RST));
}

static __always_inline int sl_is_tcp_rst(const struct sl_pkt *pkt)
{
	return pkt->l4proto == IPPROTO_TCP && (pkt->tcp_flags & SL_TCP_RST);
}

#endif /* SLUICE_BPF_PARSE_H */
