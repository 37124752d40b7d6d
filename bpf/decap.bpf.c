// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluice decap: the backend side of direct server return on hosts without
 * the ipip/ip6_tunnel modules. Strips an outer IPv4 or IPv6 header whose
 * payload is IPv4 (IPIP, 4in6) or IPv6 (6in4, IPv6-in-IPv6) and which is
 * addressed to one of this host's tunnel endpoints, and hands the client's
 * packet to the kernel with XDP_PASS. Everything else passes untouched.
 *
 * Frames with VLAN tags are passed untouched: attach to the VLAN's
 * parent only when tunnels arrive untagged.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sluice/abi.h"

#define SL_IP_MF_OFFSET	0x3fff

/* This host's tunnel endpoint addresses. Written by sluice-decap. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct sluice_decap_key);
	__type(value, __u32);
} sl_decap_addrs SEC(".maps");

/* SLUICE_DR_* -> packets. Written here only. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLUICE_DR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sl_decap_stats SEC(".maps");

struct sl_outer {
	__u32 len;		/* outer header bytes to strip */
	__u8 inner;		/* IPPROTO_IPIP or IPPROTO_IPV6 */
};

static __always_inline int sl_is_local(const struct sluice_decap_key *k)
{
	return bpf_map_lookup_elem(&sl_decap_addrs, k) != NULL;
}

/* Outer IPv4: 0 with @o filled, or a SLUICE_DR_* reason. */
static __always_inline int sl_outer4(void *l3, void *data_end,
				     struct sl_outer *o)
{
	struct sluice_decap_key k = {};
	struct iphdr *iph = l3;

	if ((void *)(iph + 1) > data_end)
		return SLUICE_DR_MALFORMED;
	if (iph->protocol != IPPROTO_IPIP && iph->protocol != IPPROTO_IPV6)
		return SLUICE_DR_NOT_TUNNEL;
	if (iph->version != 4 || iph->ihl < 5 ||
	    (iph->frag_off & bpf_htons(SL_IP_MF_OFFSET)))
		return SLUICE_DR_MALFORMED;
	k.addr.addr[0] = iph->daddr;
	k.family = SLUICE_AF_INET;
	if (!sl_is_local(&k))
		return SLUICE_DR_NOT_LOCAL;
	o->len = iph->ihl * 4;
	o->inner = iph->protocol;
	return 0;
}

static __always_inline int sl_outer6(void *l3, void *data_end,
				     struct sl_outer *o)
{
	struct sluice_decap_key k = {};
	struct ipv6hdr *ip6h = l3;

	if ((void *)(ip6h + 1) > data_end)
		return SLUICE_DR_MALFORMED;
	if (ip6h->nexthdr != IPPROTO_IPIP && ip6h->nexthdr != IPPROTO_IPV6)
		return SLUICE_DR_NOT_TUNNEL;
	if (ip6h->version != 6)
		return SLUICE_DR_MALFORMED;
	__builtin_memcpy(&k.addr, &ip6h->daddr, 16);
	k.family = SLUICE_AF_INET6;
	if (!sl_is_local(&k))
		return SLUICE_DR_NOT_LOCAL;
	o->len = sizeof(*ip6h);
	o->inner = ip6h->nexthdr;
	return 0;
}

/* The inner header must at least be an IP header of the announced family. */
static __always_inline int sl_inner_ok(void *inner, void *data_end, __u8 proto)
{
	if (proto == IPPROTO_IPIP) {
		struct iphdr *iph = inner;

		return (void *)(iph + 1) <= data_end && iph->version == 4;
	}
	{
		struct ipv6hdr *ip6h = inner;

		return (void *)(ip6h + 1) <= data_end && ip6h->version == 6;
	}
}

/* Move the MACs forward over the outer header, then drop it. */
static __always_inline int sl_strip(struct xdp_md *ctx, const struct sl_outer *o)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ethhdr *neth;
	__u32 len = o->len & 0x3f;	/* <= 60: bounded for the verifier */

	neth = data + len;
	if ((void *)(neth + 1) > data_end || (void *)(eth + 1) > data_end)
		return SLUICE_DR_MALFORMED;
	__builtin_memmove(neth->h_source, eth->h_source, ETH_ALEN);
	__builtin_memmove(neth->h_dest, eth->h_dest, ETH_ALEN);
	neth->h_proto = o->inner == IPPROTO_IPIP ? bpf_htons(ETH_P_IP)
						 : bpf_htons(ETH_P_IPV6);
	if (bpf_xdp_adjust_head(ctx, len))
		return SLUICE_DR_ERROR;
	return SLUICE_DR_DECAP;
}

static __always_inline int sl_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct sl_outer o = {};
	void *l3;
	int rc;

	if ((void *)(eth + 1) > data_end)
		return SLUICE_DR_NOT_TUNNEL;
	l3 = eth + 1;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		rc = sl_outer4(l3, data_end, &o);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		rc = sl_outer6(l3, data_end, &o);
	else
		return SLUICE_DR_NOT_TUNNEL;
	if (rc)
		return rc;
	if (o.len > 60 || !sl_inner_ok(l3 + (o.len & 0x3f), data_end, o.inner))
		return SLUICE_DR_MALFORMED;
	return sl_strip(ctx, &o);
}

SEC("xdp")
int sluice_decap(struct xdp_md *ctx)
{
	__u32 reason = sl_decap(ctx);
	__u64 *cnt = bpf_map_lookup_elem(&sl_decap_stats, &reason);

	if (cnt)
		*cnt += 1;
	if (reason == SLUICE_DR_MALFORMED || reason == SLUICE_DR_ERROR)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
