/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sluice limits and defaults shared by the datapath and userspace. Map
 * sizes that can change per instance are set by sluiced at load time; the
 * numbers here are the compiled-in ceilings and defaults.
 */
#ifndef SLUICE_LIMITS_H
#define SLUICE_LIMITS_H

/* VIP ids index sl_vip_stats and sl_rings (two generations each). */
#define SLUICE_MAX_VIPS			256
/* sl_vips holds each VIP plus one address entry per VIP address. */
#define SLUICE_VIP_MAP_SIZE		(SLUICE_MAX_VIPS * 2)
/* Backend ids name (VIP, backend) pairs across all VIPs. */
#define SLUICE_MAX_BACKENDS		4096
/* A backend id no table slot can hold: marks an empty Maglev table. */
#define SLUICE_NO_BACKEND		0xffffffffU

/* Maglev table size: a prime; the NSDI'16 paper's 65537 by default. */
#define SLUICE_RING_SIZE_DEFAULT	65537
#define SLUICE_RING_SIZE_MAX		655373

/* Flow table: default 1M entries; 10M must work. */
#define SLUICE_FLOWS_DEFAULT		(1U << 20)
#define SLUICE_FLOWS_MAX		(16U << 20)
/*
 * sl_flows is split into this many LRU hashes (shards, abi.h), each of
 * SLUICE_FLOW_SHARD_SIZE(flows.table_size) entries, so that the drain
 * walk runs over them on several CPUs at once. A power of two.
 */
#define SLUICE_FLOW_SHARD_BITS 2
#define SLUICE_FLOW_SHARDS (1U << SLUICE_FLOW_SHARD_BITS)
#define SLUICE_FLOW_SHARD_SIZE(total) \
	(((total) + SLUICE_FLOW_SHARDS - 1) / SLUICE_FLOW_SHARDS)
/* sl_new (flows seen once): slots for handshakes in flight, not sessions.
 * A power of two (buckets are picked by the low bits of a flow hash). */
#define SLUICE_NEW_FLOWS_DEFAULT	(1U << 18)
/* Slots per sl_new bucket (abi.h): four adjacent cache lines. */
#define SLUICE_NEW_WAYS 4
#define SLUICE_NEW_FLOWS_MAX		(1U << 24)
/* The drain table (sl_pinned): draining backends' flows kept from LRU eviction. */
#define SLUICE_DRAIN_TABLE_DEFAULT (1U << 18)

/* How stale an open flow's last_seen may get before the datapath rewrites
 * it: bounds writes to one per flow per SLUICE_TOUCH_MS instead of one per
 * packet. A CLOSING flow is refreshed on every packet (at most once per
 * ms), since close_grace may be shorter than this. */
#define SLUICE_TOUCH_MS			1000
/* A TCP packet this long after its flow was first seen confirms the flow
 * (a spoofer sending SYN and ACK back to back never waits that long). */
#define SLUICE_CONFIRM_MS		1000

/* Outer header TTL / hop limit. */
#define SLUICE_OUTER_TTL		64

/* Extension headers walked to find TCP/UDP in IPv6 (HBH, routing, dstopts). */
#define SLUICE_MAX_IPV6_EXTHDRS		4

#endif /* SLUICE_LIMITS_H */
