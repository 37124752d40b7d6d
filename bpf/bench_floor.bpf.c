/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make bench: the floor. The least an encapsulating L4 balancer must do
 * per packet, to measure sluice against:
 *   parse Ethernet / IPv4 (no options) or IPv6 (no extension headers) /
 *   TCP or UDP -> one HASH lookup of the 5-tuple (pre-filled by the bench)
 *   -> one backend ARRAY lookup -> sluice's own encapsulation
 *   (lib/encap.h) -> XDP_TX.
 * No VLANs, no validation beyond the verifier's bounds checks, no VIP
 * lookup, no flow state, no clock, no counters. Anything it cannot handle
 * is passed.
 *
 * bench_floor_insert is the floor for a new connection: the same parse,
 * a bare bpf_map_update_elem of the 5-tuple into an LRU hash (the kind of
 * table sluice's sl_flows is), the same backend lookup and encapsulation.
 * No lookup before the insert, no VIP, no scheduling: the backend is the
 * one the bench sets in fl_new_be.
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
#include "lib/parse.h"
#include "lib/encap.h"

/*
 * Outer source addresses, set by the bench before load. A plain global
 * (.bss), read with direct loads, no lookup; not const volatile: casting
 * that away for sl_encap() would let clang fold in the zero initializer.
 */
struct sluice_config fl_cfg = {};

/* 5-tuple (sluice's key layout) -> backend id. Filled by the bench; sized
 * by it like sluice's sl_flows so both tables have as many buckets. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLUICE_FLOWS_DEFAULT);
	__type(key, struct sluice_flow_key);
	__type(value, __u32);
} fl_flows SEC(".maps");

/* bench_floor_insert's table: as sl_flows, an LRU hash with a free list
 * per CPU; the bench sizes it like sl_flows. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct sluice_flow_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} fl_new_flows SEC(".maps");

/* The backend every flow bench_floor_insert records goes to. */
__u32 fl_new_be = 0;

/* Backend id -> outer address and next hop, as in sl_backends. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLUICE_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct sluice_backend);
} fl_backends SEC(".maps");

/* Just enough parsing to build the key and the outer header. */
static __always_inline int fl_parse(void *data, void *data_end,
				    struct sl_pkt *pkt)
{
	struct ethhdr *eth = data;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return -1;
	pkt->l3_off = sizeof(*eth);
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->ihl != 5)
			return -1;
		pkt->key.family = SLUICE_AF_INET;
		pkt->key.src.addr[0] = iph->saddr;
		pkt->key.dst.addr[0] = iph->daddr;
		pkt->key.proto = iph->protocol;
		pkt->l3_len = bpf_ntohs(iph->tot_len);
		pkt->tos = iph->tos;
		pkt->df = !!(iph->frag_off & bpf_htons(SL_IP_DF));
		l4 = iph + 1;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return -1;
		pkt->key.family = SLUICE_AF_INET6;
		__builtin_memcpy(&pkt->key.src, &ip6h->saddr, 16);
		__builtin_memcpy(&pkt->key.dst, &ip6h->daddr, 16);
		pkt->key.proto = ip6h->nexthdr;
		pkt->l3_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
		pkt->tos = (ip6h->priority << 4) | (ip6h->flow_lbl[0] >> 4);
		l4 = ip6h + 1;
	} else {
		return -1;
	}
	/* TCP and UDP both start with the two ports. */
	if (pkt->key.proto != IPPROTO_TCP && pkt->key.proto != IPPROTO_UDP)
		return -1;
	if (l4 + sizeof(struct udphdr) > data_end)
		return -1;
	pkt->key.sport = ((struct udphdr *)l4)->source;
	pkt->key.dport = ((struct udphdr *)l4)->dest;
	return 0;
}

/* Backend @be_id's outer header around the packet; the XDP verdict. */
static __always_inline int fl_forward(struct xdp_md *ctx, struct sl_pkt *pkt,
				      const __u32 *be_id)
{
	struct sluice_backend *be;
	struct sl_nexthop nh;

	be = bpf_map_lookup_elem(&fl_backends, be_id);
	if (!be)
		return XDP_PASS;
	nh.ifindex = be->ifindex;
	__builtin_memcpy(nh.dmac, be->dmac, ETH_ALEN);
	__builtin_memcpy(nh.smac, be->smac, ETH_ALEN);
	if (sl_encap(ctx, pkt, be, NULL, 0, &fl_cfg, &nh))
		return XDP_DROP;
	return XDP_TX;
}

SEC("xdp")
int bench_floor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sl_pkt pkt = {};
	__u32 *be_id;

	if (fl_parse(data, data_end, &pkt))
		return XDP_PASS;
	be_id = bpf_map_lookup_elem(&fl_flows, &pkt.key);
	if (!be_id)
		return XDP_PASS;
	return fl_forward(ctx, &pkt, be_id);
}

SEC("xdp")
int bench_floor_insert(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sl_pkt pkt = {};
	__u32 be_id = fl_new_be;

	if (fl_parse(data, data_end, &pkt))
		return XDP_PASS;
	if (bpf_map_update_elem(&fl_new_flows, &pkt.key, &be_id, BPF_ANY))
		return XDP_DROP;
	return fl_forward(ctx, &pkt, &be_id);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
