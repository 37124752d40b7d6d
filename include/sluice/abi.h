/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sluice ABI: every map key and value shared by the XDP programs and
 * userspace, defined once. Fixed-width types only, explicit padding, no
 * bool/enum/pointer members, and a size assertion on every struct, because
 * the kernel compares map key bytes (padding included) and both sides must
 * agree on layout to the byte.
 *
 * Byte order: addresses and ports are network order (__be*), as they sit in
 * the packet, so the fast path never swaps. Everything else is host order.
 */
#ifndef SLUICE_ABI_H
#define SLUICE_ABI_H

#include <linux/types.h>

#include "limits.h"

#define SLUICE_STATIC_ASSERT(c, m) _Static_assert(c, m)

/* Address families as stored in keys and values (not AF_*: BPF has no libc). */
#define SLUICE_AF_INET	4
#define SLUICE_AF_INET6	6

/*
 * An IPv4 or IPv6 address. IPv4 lives in addr[0]; addr[1..3] stay zero so
 * keys built from the same IPv4 address always compare equal.
 */
struct sluice_addr {
	__be32 addr[4];
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_addr) == 16, "sluice_addr size");

/*
 * sl_vips: HASH, struct sluice_vip_key -> struct sluice_vip. Written by
 * sluiced. Besides one entry per VIP, sluiced inserts one "address entry"
 * per VIP address and family (port 0, proto 0, SLUICE_VIP_F_ADDR_ONLY) so
 * the datapath can tell "addressed to a VIP address" for packets that carry
 * no ports: fragments and ICMP errors.
 */
struct sluice_vip_key {
	struct sluice_addr addr;
	__be16 port;		/* 0: every port of addr/proto */
	__u8 proto;		/* IPPROTO_TCP, IPPROTO_UDP; 0 for address entries */
	__u8 family;		/* SLUICE_AF_* */
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_vip_key) == 20, "vip key size");

#define SLUICE_VIP_F_ADDR_ONLY	(1U << 0)	/* address marker, not a service */
/*
 * FALLBACK: drains are in progress on this VIP, and sl_fb_rings at the
 * same index as the live table (SLUICE_RING_INDEX(vip_id, gen)) holds the
 * table built from the live backends plus the draining ones: the table
 * from before the drains. A packet with no flow state that is not a SYN
 * goes to that table's backend first (docs/design.md, "Drain-aware
 * fallback"). Set and cleared in the same sl_vips update that flips gen.
 */
#define SLUICE_VIP_F_FALLBACK (1U << 1)

/*
 * sl_vip_addrs: ARRAY[1] of struct sluice_vip_filter, written whole by
 * userspace (sl_vip_filter_sync()) from the address entries of sl_vips:
 * bit sluice_vip_filter_bit() of each VIP address is set. The datapath
 * reads it before any flow lookup: a clear bit means "not a VIP address",
 * passed at once; a set bit may be another address sharing it, which the
 * VIP lookups after it tell apart. Until userspace first writes it
 * (ready 0: a program newer than the writer of the maps it resumed from bpffs) it is skipped.
 */
#define SLUICE_VIP_FILTER_BITS 4096
struct sluice_vip_filter {
	__u32 ready; /* 1 once written from sl_vips */
	__u32 pad;
	__u64 bits[SLUICE_VIP_FILTER_BITS / 64];
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_vip_filter) == 520,
		     "vip filter size");

struct sluice_vip {
	__u32 vip_id;		/* index into sl_vip_stats, ring = vip_id * 2 + gen */
	__u16 flags;		/* SLUICE_VIP_F_* */
	__u8 gen;		/* live table generation, 0 or 1 */
	__u8 pad;
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_vip) == 8, "vip value size");

/*
 * sl_backends: ARRAY, backend id -> struct sluice_backend. Written by
 * sluiced. A backend id names one (VIP, backend address) pair, so state,
 * counters and flows are per pair; draining a host on every VIP touches
 * each of its pairs. A draining or down backend keeps its entry (so flows assigned
 * to it still resolve) until it is removed; a removed id has flags 0.
 */
#define SLUICE_BE_F_IN_USE	(1U << 0)	/* id allocated; flows may follow it */
#define SLUICE_BE_F_NH_VALID	(1U << 1)	/* ifindex/dmac/smac/mtu resolved */
#define SLUICE_BE_F_RELEASE (1U << 2) /* re-hash flows assigned here */
/*
 * Drain flags, set by sluiced in the same commit that takes the backend out
 * of the live table. DRAINING: the datapath copies each flow of this
 * backend that it confirms (SLUICE_FLOW_F_CONFIRMED) into the drain table, so the
 * drain checker sees it without a full sweep. DRAINED: sluiced is about to
 * report (or has reported) the drain complete: the datapath gives this
 * backend no new state (no promotion from sl_new, no confirmation of an
 * unconfirmed flow): such a packet is re-balanced on the live table, so a
 * reported "drained" is never contradicted by a flow created afterwards.
 */
#define SLUICE_BE_F_DRAINING	(1U << 3)
#define SLUICE_BE_F_DRAINED	(1U << 4)

struct sluice_backend {
	struct sluice_addr addr;	/* outer destination */
	__u8 family;			/* SLUICE_AF_*: outer header family */
	__u8 flags;			/* SLUICE_BE_F_* */
	__u8 epoch;			/* bumped when the id is reused */
	__u8 pad;
	__u32 vip_id;			/* owning VIP, for accounting */
	__u32 ifindex;			/* egress interface of the next hop */
	__u8 dmac[6];			/* next-hop MAC */
	__u8 smac[6];			/* egress interface MAC */
	/*
	 * MTU towards the next hop (the route's MTU if it has one, else the
	 * egress interface's), valid with SLUICE_BE_F_NH_VALID. A client
	 * packet that exceeds it once encapsulated gets ICMP too-big back.
	 * 0: unknown (an entry written before sluiced cached MTUs): no check.
	 */
	__u32 mtu;
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_backend) == 44, "backend size");

/*
 * sl_flows: ARRAY_OF_MAPS of SLUICE_FLOW_SHARDS shards, sl_flows_0 to
 * sl_flows_N, each an LRU_HASH struct sluice_flow_key -> struct
 * sluice_flow: the established flows. A flow lives in shard
 * sluice_flow_shard() (hash.h). Refreshed by the datapath at most once per
 * SLUICE_TOUCH_MS, expired and counted by sluiced's sweeper. Shards exist
 * so that the drain walk, a pass over every entry whose cost is one cache
 * miss each, runs on several CPUs at once: a single hash table cannot be
 * walked from more than one place (docs/design.md).
 *
 * sl_new: ARRAY of struct sluice_new_slot, a set-associative table of
 * flows seen once (a TCP SYN, a first UDP datagram, a mid-stream TCP
 * packet without state). SLUICE_NEW_WAYS adjacent slots form a bucket and
 * a flow may sit in either of two buckets (sluice_new_bucket(), choice 0
 * or 1): it goes to a free slot of the bucket with more free slots
 * (choice 0 on a tie), and only when all of both are taken does it
 * overwrite the oldest of them. A flow moves to sl_flows on its second
 * packet (TCP: the first that is not a bare SYN), which empties its slot,
 * so a flood of one-packet flows only overwrites slots and never evicts
 * established flows. No hash table, no lock, no allocation. Below half the
 * slots in flight a handshake practically never loses its slot (make
 * bench counts it); one that does gets, on its second packet, the live
 * table's pick, which is the same backend unless the table changed.
 *
 * sl_new_tags: ARRAY of struct sluice_new_tags, one per sl_new bucket
 * (sl_new's slots / SLUICE_NEW_WAYS), pinned beside it: for each way,
 * sluice_new_tag() of the flow hash its slot holds, 0 when empty. A search
 * reads the two tag lines and only the slots whose tag matches, instead of
 * all eight slot lines: a SYN, which is all but always new, reads none.
 * Tags are hints, slots the truth: a slot is taken only if it holds the
 * key, and with both buckets' tags full the claim reads the slots
 * themselves (an empty one wins, then the oldest), so a tag that went
 * stale (two CPUs writing one slot at once; an older sluiced that wrote
 * slots and no tags) costs at most that slot's handshake. sluiced
 * rewrites every tag from the slots when it starts (sl_new_tags_rebuild()).
 *
 * sl_pinned, the drain table: HASH (not LRU), same key and value: the
 * flows of draining backends, copied there by sluiced's sweeper. LRU
 * eviction cannot touch them: a flow evicted from sl_flows is found here on its next packet and
 * restored to its backend (counted as rescued), so a drain loses nothing
 * to table pressure. The map's name predates the term "drain table" and
 * has nothing to do with bpffs pinning; it stays, so that a restarted
 * sluiced resumes the map an older one left on bpffs.
 */
struct sluice_flow_key {
	struct sluice_addr src;		/* client */
	struct sluice_addr dst;		/* VIP address */
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_flow_key) == 40, "flow key size");

/*
 * Flow states, as far as a box that sees only client-to-server packets can
 * tell. CLOSING: the client sent FIN; the flow stays live while the client
 * keeps sending (a half-closed connection ACKs the server's data) and ends
 * after close_grace of client silence. RESET: the client sent RST: ended.
 */
#define SLUICE_FLOW_OPEN	0
#define SLUICE_FLOW_CLOSING	1	/* FIN seen: live until the client goes quiet */
#define SLUICE_FLOW_RESET	2	/* RST seen: ended */

/*
 * Flow flags. CONFIRMED: the flow showed signs of a real connection
 * (TCP: a segment with payload, or any packet SLUICE_CONFIRM_MS or more
 * after the flow was created; UDP: its second datagram). Only confirmed
 * flows count as live flows, hold a drain beyond the handshake window and
 * earn a place in the drain table: spoofed SYN+ACK pairs never do. EVICTED: set
 * by the sweeper on a drain table copy whose flow left sl_flows (counted
 * once as evicted).
 */
#define SLUICE_FLOW_F_CONFIRMED	(1U << 0)
#define SLUICE_FLOW_F_EVICTED	(1U << 1)

/*
 * Times are CLOCK_MONOTONIC_COARSE in milliseconds, truncated to 32 bits:
 * the datapath reads the kernel's clock (bpf_ktime_get_coarse_ns), so time
 * never stands still while sluiced is stopped or stalled. Compare with
 * (__s32)(a - b): wraps after 49 days.
 */
struct sluice_flow {
	__u32 backend_id;
	__u32 last_seen;	/* ms of the last refresh (see above) */
	__u32 created;		/* ms the flow was first seen */
	__u8 state;		/* SLUICE_FLOW_* */
	__u8 epoch; /* backend epoch when assigned: stale if it differs */
	__u8 flags;		/* SLUICE_FLOW_F_* */
	__u8 pad;
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_flow) == 16, "flow value size");

/* One sl_new slot: a whole cache line. key.family == 0 marks it empty. */
struct sluice_new_slot {
	struct sluice_flow_key key;
	struct sluice_flow flow;
	__u8 pad[8];
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_new_slot) == 64, "new slot size");

/* One sl_new_tags entry: the tags of one sl_new bucket's ways (above). */
struct sluice_new_tags {
	__u32 tag[SLUICE_NEW_WAYS];
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_new_tags) == 16, "new tags size");

/*
 * sl_config: ARRAY[1] of struct sluice_config. Runtime settings written by
 * sluiced: outer source addresses for encapsulation.
 */
struct sluice_config {
	__be32 src4;			/* outer IPv4 source */
	struct sluice_addr src6;	/* outer IPv6 source */
	__u32 reserved;			/* 0; unused (was flags): keeps the size */
	__u32 ring_size;		/* slots of the tables in sl_rings (userspace) */
	__u32 hash_seed;		/* flow hash seed (userspace: sl_new lookups) */
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_config) == 32, "config size");

/*
 * sl_rings: ARRAY_OF_MAPS, vip_id * 2 + gen -> ARRAY of cfg_ring_size
 * __u32 backend ids (the Maglev table). sluiced writes the idle
 * generation whole, then flips sluice_vip.gen with one sl_vips update.
 */
#define SLUICE_RING_INDEX(vip_id, gen)	((vip_id) * 2 + (gen))

/*
 * sl_fb_rings: ARRAY_OF_MAPS, same index and inner tables as sl_rings: the
 * pre-drain table of a VIP with SLUICE_VIP_F_FALLBACK, published with the
 * live table of the same generation so one flip switches both.
 */

/*
 * Second chance (docs/design.md, "Second chance (backend)"): a packet whose first
 * backend may not hold its connection travels in GUE (draft-ietf-intarea-
 * gue, variant 0) over UDP to SLUICE_GUE_PORT, with a private hop field in
 * the GUE optional data (hlen = 5 words; flags 0, so Linux fou skips it):
 *
 *   outer IP | UDP (dport SLUICE_GUE_PORT, csum 0) | GUE header (4 bytes) |
 *   struct sluice_gue_hop (20 bytes) | client's IP packet
 *
 * The backend's decap passes a non-SYN TCP packet it has no socket for on
 * to hop.addr in plain IPIP/IP6IP6, which carries no further hop: at most
 * one extra hop, never a loop.
 */
#define SLUICE_GUE_PORT 19524
#define SLUICE_GUE_MAGIC 0x5c /* "sluice hop": tells ours from other GUE data */

struct sluice_gue_hdr {
	__u8 hlen_ver; /* version 0 (2 bits), C 0, hlen in words (5 bits) */
	__u8 proto; /* inner: IPPROTO_IPIP or IPPROTO_IPV6 */
	__be16 flags; /* 0: no standard optional fields */
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_gue_hdr) == 4, "gue header size");

struct sluice_gue_hop {
	__u8 magic; /* SLUICE_GUE_MAGIC */
	__u8 family; /* SLUICE_AF_* of addr; 0: no second hop */
	__u8 hops; /* second hops taken so far: 0 from the box */
	__u8 pad;
	struct sluice_addr addr; /* the second hop's tunnel address */
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_gue_hop) == 20, "gue hop size");
#define SLUICE_GUE_HLEN (sizeof(struct sluice_gue_hop) / 4)
/* UDP + GUE + hop: what a second-hop packet adds beyond the outer IP. */
#define SLUICE_GUE_OVERHEAD \
	(8 + sizeof(struct sluice_gue_hdr) + sizeof(struct sluice_gue_hop))

/*
 * sl_vip_stats: PERCPU_ARRAY, vip_id -> struct sluice_vip_stats.
 * sl_be_stats:  PERCPU_ARRAY, backend id -> struct sluice_be_stats.
 * Written by the datapath only; userspace sums over CPUs.
 */
struct sluice_vip_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 non_syn_miss;	/* TCP non-SYN without flow state: state lost */
	__u64 no_backend;	/* packets dropped: empty table */
	__u64 rescheduled;	/* flows re-hashed: backend removed or released */
	__u64 promoted;		/* flows moved from sl_new to sl_flows */
	__u64 fallback; /* stateless packets sent to the pre-drain pick */
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_vip_stats) == 64, "vip stats size");

struct sluice_be_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 closing;		/* flows marked closing by FIN/RST */
	__u64 rescued; /* evicted flows restored from the drain table */
	__u64 confirmed;	/* flows that became CONFIRMED: the sweeper's count
				 * plus those confirmed since the sweep began bounds
				 * the live flows from above */
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_be_stats) == 48, "be stats size");

/*
 * sl_reasons: PERCPU_ARRAY, enum-like SLUICE_R_* -> __u64 packets. Every
 * packet the balancer sees is counted under exactly one reason, so the
 * reasons add up to the packets seen. sluice_reason_verdict() maps a
 * reason to its XDP verdict.
 */
#include "reasons.h"

/* sl_tx_ports: DEVMAP_HASH, ifindex -> ifindex, for XDP_REDIRECT. */

/* Map names, shared by the BPF objects, sluiced and the tests (<= 15 chars). */
#define SLUICE_MAP_VIPS		"sl_vips"
#define SLUICE_MAP_VIP_ADDRS "sl_vip_addrs"
#define SLUICE_MAP_BACKENDS	"sl_backends"
#define SLUICE_MAP_RINGS	"sl_rings"
#define SLUICE_MAP_FB_RINGS "sl_fb_rings"
#define SLUICE_MAP_TAIL "sl_tail"
#define SLUICE_TAIL_FALLBACK 0 /* sl_tail index of sluice_fallback */
#define SLUICE_PROG_FALLBACK "sluice_fallback"
/* Private to one load, never pinned (user/lib/maps.c, sl_map_private()). */
#define SLUICE_MAP_TAIL_SLOW "sl_tail_slow" /* [0]: sluice_slow */
#define SLUICE_PROG_SLOW "sluice_slow"
#define SLUICE_MAP_HANDOFF "sl_handoff"
#define SLUICE_MAP_FLOWS "sl_flows" /* the shards' array */
#define SLUICE_MAP_FLOW_SHARD "sl_flows_" /* + the shard's number */
#define SLUICE_MAP_NEW		"sl_new"
#define SLUICE_MAP_NEW_TAGS "sl_new_tags" /* sl_new's bucket tags */
#define SLUICE_MAP_DRAIN_TABLE "sl_pinned" /* the drain table (see above) */
#define SLUICE_MAP_CONFIG	"sl_config"
#define SLUICE_MAP_VIP_STATS	"sl_vip_stats"
#define SLUICE_MAP_BE_STATS	"sl_be_stats"
#define SLUICE_MAP_REASONS	"sl_reasons"
#define SLUICE_MAP_TX_PORTS	"sl_tx_ports"
#define SLUICE_MAP_DECAP_ADDRS	"sl_decap_addrs"
#define SLUICE_MAP_DECAP_STATS	"sl_decap_stats"

/*
 * Decapsulation (bpf/decap.bpf.c), on backends:
 * sl_decap_addrs: HASH, struct sluice_decap_key -> __u32 (unused, 1): the
 * tunnel endpoint addresses of this host, written by sluice-decap. Only
 * tunnels addressed to one of them are stripped.
 * sl_decap_stats: PERCPU_ARRAY, SLUICE_DR_* -> __u64 packets.
 */
struct sluice_decap_key {
	struct sluice_addr addr;
	__u8 family;
	__u8 pad[3];
};
SLUICE_STATIC_ASSERT(sizeof(struct sluice_decap_key) == 20, "decap key size");
#define SLUICE_DR_DECAP		0	/* stripped, inner passed to the kernel */
#define SLUICE_DR_NOT_TUNNEL	1	/* not IPIP/IPv6 tunnel: passed untouched */
#define SLUICE_DR_NOT_LOCAL	2	/* tunnel to another address: passed */
#define SLUICE_DR_MALFORMED	3	/* truncated outer or inner: dropped */
#define SLUICE_DR_ERROR		4	/* adjust_head failed: dropped */
#define SLUICE_DR_GUE 5 /* GUE stripped, a socket or SYN: delivered */
#define SLUICE_DR_PASS_ON 6 /* GUE, no socket: sent on to the second hop */
#define SLUICE_DR_PASS_FAIL \
	7 /* GUE, no socket, second hop unreachable: dropped */
#define SLUICE_DR_MAX 8

#endif /* SLUICE_ABI_H */
