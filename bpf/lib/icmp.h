/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP "fragmentation needed" and ICMPv6 "packet too big" about a VIP
 * flow. In direct server return the backend sends from the VIP, so a
 * router's too-big error comes back to the VIP, here. Its inner header is
 * the backend's reply (VIP -> client); reversed, it is the flow key, and
 * the error goes to the backend that owns the flow (or, with no state, the
 * one the table names now), so the backend's path MTU logic sees it.
 */
#ifndef SLUICE_BPF_ICMP_H
#define SLUICE_BPF_ICMP_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include "sluice/abi.h"
#include "maps.h"
#include "parse.h"
#include "vip.h"
#include "maglev.h"
#include "newslot.h"
#include "forward.h"

/* Build the flow key from the inner IPv4 header and its first 8 bytes. */
static __always_inline int sl_icmp4_inner(void *data, void *data_end,
					  const struct sl_pkt *pkt,
					  struct sluice_flow_key *fk)
{
	struct iphdr *in = data + ((pkt->l4_off + sizeof(struct sl_icmphdr))
				   & SL_L4_OFF_MASK);
	__be16 *ports;

	/* The quote must lie within the IP length, not in Ethernet padding. */
	if (pkt->l4_len < sizeof(struct sl_icmphdr) + sizeof(*in) + 4)
		return -1;
	if ((void *)(in + 1) > data_end || in->version != 4 || in->ihl != 5)
		return -1;
	ports = (void *)(in + 1);
	if ((void *)(ports + 2) > data_end)
		return -1;
	fk->family = SLUICE_AF_INET;
	fk->src.addr[0] = in->daddr;
	fk->dst.addr[0] = in->saddr;
	fk->proto = in->protocol;
	fk->sport = ports[1];
	fk->dport = ports[0];
	return 0;
}

static __always_inline int sl_icmp6_inner(void *data, void *data_end,
					  const struct sl_pkt *pkt,
					  struct sluice_flow_key *fk)
{
	struct ipv6hdr *in = data + ((pkt->l4_off + sizeof(struct sl_icmphdr))
				     & SL_L4_OFF_MASK);
	__be16 *ports;

	if (pkt->l4_len < sizeof(struct sl_icmphdr) + sizeof(*in) + 4)
		return -1;
	if ((void *)(in + 1) > data_end || in->version != 6)
		return -1;
	ports = (void *)(in + 1);
	if ((void *)(ports + 2) > data_end)
		return -1;
	fk->family = SLUICE_AF_INET6;
	__builtin_memcpy(&fk->src, &in->daddr, 16);
	__builtin_memcpy(&fk->dst, &in->saddr, 16);
	fk->proto = in->nexthdr;
	fk->sport = ports[1];
	fk->dport = ports[0];
	return 0;
}

/* Is this ICMP/ICMPv6 message a too-big error? (-1: truncated) */
static __always_inline int sl_icmp_is_toobig(void *data, void *data_end,
					     const struct sl_pkt *pkt)
{
	struct sl_icmphdr *ih = data + (pkt->l4_off & SL_L4_OFF_MASK);

	if ((void *)(ih + 1) > data_end || pkt->l4_len < sizeof(*ih))
		return -1;
	if (pkt->l4proto == IPPROTO_ICMP)
		return ih->type == SL_ICMP_DEST_UNREACH &&
		       ih->code == SL_ICMP_FRAG_NEEDED;
	return ih->type == SL_ICMPV6_PKT_TOOBIG;
}

/* The backend owning @fk: its flow entry, else the live table's choice. */
static __always_inline struct sluice_backend *
sl_icmp_owner(const struct sluice_flow_key *fk, const struct sluice_vip *vip)
{
	__u32 hash = sl_hash(fk);
	struct sluice_new_slot *s;
	struct sluice_backend *be;
	struct sluice_flow *f;

	f = sl_flow_get(fk);
	if (!f) {
		s = sl_new_find(fk, hash);
		f = s ? &s->flow : NULL;
	}
	if (f) {
		be = sl_backend(f->backend_id);
		if (sl_backend_usable(be, f))
			return be;
	}
	be = sl_backend(sl_maglev_pick(vip, hash));
	if (be && (be->flags & SLUICE_BE_F_IN_USE))
		return be;
	return NULL;
}

static __always_inline int sl_handle_icmp(struct xdp_md *ctx, void *data,
					  void *data_end, struct sl_pkt *pkt)
{
	struct sluice_flow_key fk = {};
	struct sluice_backend *be;
	struct sluice_vip *vip;
	int toobig, rc;

	if (pkt->frag || pkt->exthdr_bad ||
	    (pkt->key.family == SLUICE_AF_INET) != (pkt->l4proto == IPPROTO_ICMP))
		goto not_ours;
	toobig = sl_icmp_is_toobig(data, data_end, pkt);
	if (toobig == 0)
		goto not_ours;
	if (toobig < 0)
		goto bogus;
	rc = pkt->l4proto == IPPROTO_ICMP ?
	     sl_icmp4_inner(data, data_end, pkt, &fk) :
	     sl_icmp6_inner(data, data_end, pkt, &fk);
	if (rc || (fk.proto != IPPROTO_TCP && fk.proto != IPPROTO_UDP))
		goto bogus;
	/* The quoted packet came from the VIP the error is addressed to;
	 * an error for another host is not ours to steer. */
	if (fk.dst.addr[0] != pkt->key.dst.addr[0] ||
	    fk.dst.addr[1] != pkt->key.dst.addr[1] ||
	    fk.dst.addr[2] != pkt->key.dst.addr[2] ||
	    fk.dst.addr[3] != pkt->key.dst.addr[3])
		goto not_ours;
	vip = sl_lookup_vip(&fk);
	if (!vip || (vip->flags & SLUICE_VIP_F_ADDR_ONLY))
		goto not_ours;
	be = sl_icmp_owner(&fk, vip);
	if (!be)
		return SLUICE_R_DROP_NO_BACKEND;
	return sl_forward(ctx, pkt, be, NULL, 0, 1);

bogus:
	if (sl_is_vip_addr(&pkt->key.dst, pkt->key.family))
		return SLUICE_R_DROP_BAD_ICMP;
	return SLUICE_R_PASS_NOT_VIP;
not_ours:
	if (sl_is_vip_addr(&pkt->key.dst, pkt->key.family))
		return SLUICE_R_PASS_VIP_ICMP;
	return SLUICE_R_PASS_NOT_VIP;
}

#endif /* SLUICE_BPF_ICMP_H */
