// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluice decap: the backend side of direct server return on hosts without
 * the ipip/ip6_tunnel modules. Strips an outer IPv4 or IPv6 header whose
 * payload is IPv4 (IPIP, 4in6) or IPv6 (6in4, IPv6-in-IPv6) and which is
 * addressed to one of this host's tunnel endpoints, and hands the client's
 * packet to the kernel with XDP_PASS. Everything else passes untouched.
 *
 * Second chance (docs/design.md): a GUE packet from the balancer (UDP to
 * SLUICE_GUE_PORT, abi.h) names a second hop. Its inner packet is
 * delivered like any other when it is a SYN, not TCP, or this host has a
 * socket for its tuple other than a listener (bpf_skc_lookup_tcp:
 * established, closing, time-wait, or a handshake in progress); else the
 * kernel would answer it with a reset, so it is sent on to the second hop
 * in plain IPIP/IP6IP6, which names no further hop: at most one extra
 * hop, no loops, one packet out per packet in.
 *
 * Frames with VLAN tags are passed untouched: attach to the VLAN's
 * parent only when tunnels arrive untagged.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sluice/abi.h"

#define SL_IP_MF_OFFSET	0x3fff
#define SL_IP_DF 0x4000
#define SL_OUTER_MAX \
	127 /* outer bytes stripped at most: IPv4 + options + GUE */
#define SL_HOP_TTL 64
#define SL_AF_INET_KERNEL 2
#define SL_AF_INET6_KERNEL 10
#define SL_TCP_LISTEN 10 /* BPF_TCP_LISTEN */

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

/* The UDP, GUE and hop headers of a second-chance packet. */
struct sl_gue {
	struct udphdr udp;
	struct sluice_gue_hdr gue;
	struct sluice_gue_hop hop;
};

struct sl_outer {
	__u32 len;		/* outer header bytes to strip */
	__u32 ip_len; /* of which the outer IP header */
	__u8 inner;		/* IPPROTO_IPIP or IPPROTO_IPV6 */
	__u8 gue; /* GUE with a hop field */
	__u8 family; /* outer SLUICE_AF_* */
	__u8 tos; /* outer TOS / traffic class */
	__u16 df; /* outer IPv4 DF bit */
	struct sluice_addr local; /* outer destination: this host */
	struct sluice_addr peer; /* outer source: the box */
	struct sluice_gue_hop hop; /* with gue */
};

static __always_inline int sl_is_local(const struct sluice_decap_key *k)
{
	return bpf_map_lookup_elem(&sl_decap_addrs, k) != NULL;
}

/* Is the UDP datagram at @udp sluice's GUE (abi.h)? Bounds-checked. */
static __always_inline int sl_is_gue(void *udp, void *data_end)
{
	struct sl_gue *g = udp;

	if ((void *)(g + 1) > data_end)
		return 0;
	return g->udp.dest == bpf_htons(SLUICE_GUE_PORT) &&
	       g->gue.hlen_ver == SLUICE_GUE_HLEN && g->gue.flags == 0 &&
	       g->hop.magic == SLUICE_GUE_MAGIC &&
	       (g->gue.proto == IPPROTO_IPIP || g->gue.proto == IPPROTO_IPV6);
}

/* After sl_is_gue(): the hop field and inner protocol into @o. */
static __always_inline int sl_take_gue(void *l3, void *data_end,
				       struct sl_outer *o)
{
	struct sl_gue *g = l3 + (o->ip_len & 0x3f);

	if ((void *)(g + 1) > data_end)
		return SLUICE_DR_MALFORMED;
	o->len = o->ip_len + sizeof(*g);
	o->inner = g->gue.proto;
	o->hop = g->hop;
	o->gue = 1;
	return 0;
}

/* Outer IPv4: 0 with @o filled, or a SLUICE_DR_* reason. */
static __always_inline int sl_outer4(void *l3, void *data_end,
				     struct sl_outer *o)
{
	struct sluice_decap_key k = {};
	struct iphdr *iph = l3;

	if ((void *)(iph + 1) > data_end)
		return SLUICE_DR_MALFORMED;
	if (iph->protocol != IPPROTO_IPIP && iph->protocol != IPPROTO_IPV6 &&
	    iph->protocol != IPPROTO_UDP)
		return SLUICE_DR_NOT_TUNNEL;
	if (iph->version != 4 || iph->ihl < 5)
		return SLUICE_DR_MALFORMED;
	o->ip_len = iph->ihl * 4;
	if (iph->protocol == IPPROTO_UDP &&
	    !sl_is_gue(l3 + (o->ip_len & 0x3f), data_end))
		return SLUICE_DR_NOT_TUNNEL;
	if (iph->frag_off & bpf_htons(SL_IP_MF_OFFSET))
		return SLUICE_DR_MALFORMED;
	k.addr.addr[0] = iph->daddr;
	k.family = SLUICE_AF_INET;
	if (!sl_is_local(&k))
		return SLUICE_DR_NOT_LOCAL;
	o->len = o->ip_len;
	o->inner = iph->protocol;
	o->family = SLUICE_AF_INET;
	o->tos = iph->tos;
	o->df = iph->frag_off & bpf_htons(SL_IP_DF);
	o->local = k.addr;
	o->peer.addr[0] = iph->saddr;
	return iph->protocol == IPPROTO_UDP ? sl_take_gue(l3, data_end, o) : 0;
}

static __always_inline int sl_outer6(void *l3, void *data_end,
				     struct sl_outer *o)
{
	struct sluice_decap_key k = {};
	struct ipv6hdr *ip6h = l3;

	if ((void *)(ip6h + 1) > data_end)
		return SLUICE_DR_MALFORMED;
	if (ip6h->nexthdr != IPPROTO_IPIP && ip6h->nexthdr != IPPROTO_IPV6 &&
	    (ip6h->nexthdr != IPPROTO_UDP || !sl_is_gue(ip6h + 1, data_end)))
		return SLUICE_DR_NOT_TUNNEL;
	if (ip6h->version != 6)
		return SLUICE_DR_MALFORMED;
	__builtin_memcpy(&k.addr, &ip6h->daddr, 16);
	k.family = SLUICE_AF_INET6;
	if (!sl_is_local(&k))
		return SLUICE_DR_NOT_LOCAL;
	o->ip_len = sizeof(*ip6h);
	o->len = o->ip_len;
	o->inner = ip6h->nexthdr;
	o->family = SLUICE_AF_INET6;
	o->tos = (ip6h->priority << 4) | (ip6h->flow_lbl[0] >> 4);
	o->local = k.addr;
	__builtin_memcpy(&o->peer, &ip6h->saddr, 16);
	return ip6h->nexthdr == IPPROTO_UDP ? sl_take_gue(l3, data_end, o) : 0;
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
	__u32 len = o->len & SL_OUTER_MAX; /* bounded for the verifier */

	neth = data + len;
	if ((void *)(neth + 1) > data_end || (void *)(eth + 1) > data_end)
		return SLUICE_DR_MALFORMED;
	__builtin_memmove(neth->h_source, eth->h_source, ETH_ALEN);
	__builtin_memmove(neth->h_dest, eth->h_dest, ETH_ALEN);
	neth->h_proto = o->inner == IPPROTO_IPIP ? bpf_htons(ETH_P_IP)
						 : bpf_htons(ETH_P_IPV6);
	if (bpf_xdp_adjust_head(ctx, len))
		return SLUICE_DR_ERROR;
	return o->gue ? SLUICE_DR_GUE : SLUICE_DR_DECAP;
}

/* The inner packet's TCP tuple for a socket lookup; 0, or -1: not TCP. */
static __always_inline int sl_inner_tuple(void *inner, void *data_end,
					  __u8 proto, struct bpf_sock_tuple *t,
					  __u32 *tlen, struct tcphdr **tcp)
{
	if (proto == IPPROTO_IPIP) {
		struct iphdr *iph = inner;

		if ((void *)(iph + 1) > data_end ||
		    iph->protocol != IPPROTO_TCP || iph->ihl != 5)
			return -1;
		*tcp = (void *)(iph + 1);
		t->ipv4.saddr = iph->saddr;
		t->ipv4.daddr = iph->daddr;
		*tlen = sizeof(t->ipv4);
	} else {
		struct ipv6hdr *ip6h = inner;

		if ((void *)(ip6h + 1) > data_end ||
		    ip6h->nexthdr != IPPROTO_TCP)
			return -1;
		*tcp = (void *)(ip6h + 1);
		__builtin_memcpy(t->ipv6.saddr, &ip6h->saddr, 16);
		__builtin_memcpy(t->ipv6.daddr, &ip6h->daddr, 16);
		*tlen = sizeof(t->ipv6);
	}
	if ((void *)(*tcp + 1) > data_end)
		return -1;
	if (proto == IPPROTO_IPIP) {
		t->ipv4.sport = (*tcp)->source;
		t->ipv4.dport = (*tcp)->dest;
	} else {
		t->ipv6.sport = (*tcp)->source;
		t->ipv6.dport = (*tcp)->dest;
	}
	return 0;
}

/*
 * Does this host hold the connection of the inner packet, or may it open
 * one? Yes for anything but a non-SYN TCP segment with no socket other
 * than a listener: that one the kernel would reset.
 */
static __always_inline int sl_holds(struct xdp_md *ctx, void *inner,
				    void *data_end, __u8 proto)
{
	struct bpf_sock_tuple t = {};
	struct tcphdr *tcp;
	struct bpf_sock *sk;
	__u32 tlen = 0;
	int held;

	if (sl_inner_tuple(inner, data_end, proto, &t, &tlen, &tcp))
		return 1;
	if (tcp->syn && !tcp->ack)
		return 1;
	sk = bpf_skc_lookup_tcp(ctx, &t, tlen, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	held = sk->state != SL_TCP_LISTEN;
	bpf_sk_release(sk);
	return held;
}

/* IPv4 header checksum (RFC 1071) of a 20-byte header on the stack. */
static __always_inline __sum16 sl_csum20(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__sum16)~sum;
}

/* Where the second hop is reached: FIB lookup from this host's address. */
static __always_inline int sl_hop_route(struct xdp_md *ctx,
					const struct sl_outer *o,
					struct bpf_fib_lookup *fib, __u32 len)
{
	fib->ifindex = ctx->ingress_ifindex;
	fib->tot_len = len;
	if (o->family == SLUICE_AF_INET) {
		fib->family = SL_AF_INET_KERNEL;
		fib->ipv4_src = o->local.addr[0];
		fib->ipv4_dst = o->hop.addr.addr[0];
	} else {
		fib->family = SL_AF_INET6_KERNEL;
		__builtin_memcpy(fib->ipv6_src, &o->local, 16);
		__builtin_memcpy(fib->ipv6_dst, &o->hop.addr, 16);
	}
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), BPF_FIB_LOOKUP_OUTPUT);
}

/*
 * The pass-on's outer source: this host when it leaves from XDP; the box's
 * address when it goes through this host's kernel (no neighbour entry
 * yet), whose forwarding drops a packet from one of its own addresses as
 * a martian (unless accept_local is on).
 */
static __always_inline const struct sluice_addr *
sl_pass_src(const struct sl_outer *o, int act)
{
	return act == XDP_PASS ? &o->peer : &o->local;
}

/*
 * Replace Ethernet + outer IP + GUE by Ethernet + a plain outer IP header
 * to the second hop (same family), from this host's address. No hop
 * field goes on: the second hop delivers whatever it gets.
 */
static __always_inline int sl_pass_on(struct xdp_md *ctx,
				      const struct sl_outer *o, __u32 inner_len,
				      int *act)
{
	struct bpf_fib_lookup fib = {};
	__u32 ip = o->family == SLUICE_AF_INET ? sizeof(struct iphdr) :
						 sizeof(struct ipv6hdr);
	__u32 shrink = (o->len & SL_OUTER_MAX) - ip;
	void *data, *data_end;
	struct ethhdr *eth;
	int rc;

	if (o->hop.family != o->family)
		return SLUICE_DR_PASS_FAIL;
	rc = sl_hop_route(ctx, o, &fib, inner_len + ip);
	/* No ARP/ND entry for the hop yet (backends seldom talk to each
	 * other): hand the rewritten packet to the kernel, which forwards it
	 * and resolves the neighbour; the next ones go out here. */
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		*act = XDP_PASS;
	else if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return SLUICE_DR_PASS_FAIL;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return SLUICE_DR_ERROR;
	if (*act == XDP_PASS) { /* to the stack: addressed to us, as it came */
		__builtin_memcpy(fib.dmac, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(fib.smac, eth->h_source, ETH_ALEN);
	}
	if (bpf_xdp_adjust_head(ctx, (int)shrink))
		return SLUICE_DR_ERROR;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if (o->family == SLUICE_AF_INET) {
		struct iphdr *h = (void *)(eth + 1), n = {};

		if ((void *)(h + 1) > data_end)
			return SLUICE_DR_ERROR;
		n.version = 4;
		n.ihl = 5;
		n.tos = o->tos;
		n.tot_len = bpf_htons(inner_len + sizeof(n));
		n.frag_off = o->df;
		n.ttl = SL_HOP_TTL;
		n.protocol = o->inner;
		n.saddr = sl_pass_src(o, *act)->addr[0];
		n.daddr = o->hop.addr.addr[0];
		n.check = sl_csum20(&n);
		*h = n;
		eth->h_proto = bpf_htons(ETH_P_IP);
	} else {
		struct ipv6hdr *h = (void *)(eth + 1);

		if ((void *)(h + 1) > data_end)
			return SLUICE_DR_ERROR;
		__builtin_memset(h, 0, sizeof(*h));
		h->version = 6;
		h->priority = o->tos >> 4;
		h->flow_lbl[0] = (o->tos & 0xf) << 4;
		h->payload_len = bpf_htons(inner_len);
		h->nexthdr = o->inner;
		h->hop_limit = SL_HOP_TTL;
		__builtin_memcpy(&h->saddr, sl_pass_src(o, *act), 16);
		__builtin_memcpy(&h->daddr, &o->hop.addr, 16);
		eth->h_proto = bpf_htons(ETH_P_IPV6);
	}
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	if (*act == XDP_PASS)
		return SLUICE_DR_PASS_ON;
	*act = XDP_TX;
	if (fib.ifindex != ctx->ingress_ifindex)
		*act = bpf_redirect(fib.ifindex, 0);
	return *act == XDP_ABORTED ? SLUICE_DR_PASS_FAIL : SLUICE_DR_PASS_ON;
}

/* Bytes of the inner IP packet per its own header. */
static __always_inline __u32 sl_inner_len(void *inner, void *data_end,
					  __u8 proto)
{
	if (proto == IPPROTO_IPIP) {
		struct iphdr *iph = inner;

		return (void *)(iph + 1) <= data_end ? bpf_ntohs(iph->tot_len) :
						       0;
	}
	{
		struct ipv6hdr *ip6h = inner;

		return (void *)(ip6h + 1) <= data_end ?
			       bpf_ntohs(ip6h->payload_len) + sizeof(*ip6h) :
			       0;
	}
}

/* Deliver here, or pass a second-chance packet on (header comment). */
static __always_inline int sl_deliver_or_pass(struct xdp_md *ctx,
					      const struct sl_outer *o,
					      void *inner, void *data_end,
					      int *act)
{
	if (!o->gue || o->hop.family == 0 || o->hop.hops != 0 ||
	    sl_holds(ctx, inner, data_end, o->inner))
		return sl_strip(ctx, o);
	return sl_pass_on(ctx, o, sl_inner_len(inner, data_end, o->inner), act);
}

/* A SLUICE_DR_* reason; @act: the verdict of a pass-on. */
static __always_inline int sl_decap(struct xdp_md *ctx, int *act)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct sl_outer o = {};
	void *l3, *inner;
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
	inner = l3 + (o.len & SL_OUTER_MAX);
	if (o.len > SL_OUTER_MAX || !sl_inner_ok(inner, data_end, o.inner))
		return SLUICE_DR_MALFORMED;
	return sl_deliver_or_pass(ctx, &o, inner, data_end, act);
}

SEC("xdp")
int sluice_decap(struct xdp_md *ctx)
{
	int act = XDP_DROP;
	__u32 reason = sl_decap(ctx, &act);
	__u64 *cnt = bpf_map_lookup_elem(&sl_decap_stats, &reason);

	if (cnt)
		*cnt += 1;
	switch (reason) {
	case SLUICE_DR_MALFORMED:
	case SLUICE_DR_ERROR:
	case SLUICE_DR_PASS_FAIL:
		return XDP_DROP;
	case SLUICE_DR_PASS_ON:
		return act; /* XDP_TX, or XDP_REDIRECT to the hop's port */
	default:
		return XDP_PASS;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
