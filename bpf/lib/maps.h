/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The balancer's maps. Keys and values come from include/sluice/abi.h;
 * sizes marked "set by sluiced" are resized before load. Nothing is pinned
 * here: sluiced sets pin paths at load time, tests load unpinned.
 */
#ifndef SLUICE_BPF_MAPS_H
#define SLUICE_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "sluice/abi.h"
#include "sluice/hash.h"

/* VIP key -> VIP id, flags, live generation. Written by sluiced. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLUICE_VIP_MAP_SIZE);
	__type(key, struct sluice_vip_key);
	__type(value, struct sluice_vip);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} sl_vips SEC(".maps");

/* Which addresses may be VIPs: one bit per address hash (abi.h). An
 * ARRAY lookup is inlined by the verifier: no helper call. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_vip_filter);
} sl_vip_addrs SEC(".maps");

/* Backend id -> outer address and cached next hop. Written by sluiced. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLUICE_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct sluice_backend);
} sl_backends SEC(".maps");

/* One Maglev table: slot -> backend id. Size set by sluiced (cfg_ring_size). */
struct sl_ring {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLUICE_RING_SIZE_DEFAULT);
	__type(key, __u32);
	__type(value, __u32);
};

/* vip_id * 2 + gen -> Maglev table. Written by sluiced. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SLUICE_MAX_VIPS * 2);
	__type(key, __u32);
	__array(values, struct sl_ring);
} sl_rings SEC(".maps");

/* Same index: the pre-drain table of a VIP with SLUICE_VIP_F_FALLBACK. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SLUICE_MAX_VIPS * 2);
	__type(key, __u32);
	__array(values, struct sl_ring);
} sl_fb_rings SEC(".maps");

/*
 * Established flows (5-tuple -> backend), in SLUICE_FLOW_SHARDS shards
 * (abi.h). Inserted by the datapath, expired by sluiced. Shard size set by
 * sluiced. Per-CPU LRU lists: an insert takes no global lock, and RSS
 * keeps a flow on one CPU anyway.
 */
struct sl_flow_shard {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SLUICE_FLOW_SHARD_SIZE(SLUICE_FLOWS_DEFAULT));
	__type(key, struct sluice_flow_key);
	__type(value, struct sluice_flow);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
};

struct sl_flow_shard sl_flows_0 SEC(".maps");
struct sl_flow_shard sl_flows_1 SEC(".maps");
struct sl_flow_shard sl_flows_2 SEC(".maps");
struct sl_flow_shard sl_flows_3 SEC(".maps");
_Static_assert(SLUICE_FLOW_SHARDS == 4, "one sl_flows_N per shard");

/*
 * The shards by number; sluiced fills it before it attaches the program
 * (user/lib/maps.c). Both lookups are inlined by the verifier.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SLUICE_FLOW_SHARDS);
	__type(key, __u32);
	__array(values, struct sl_flow_shard);
} sl_flows SEC(".maps");

/* Flows seen once, until their second packet promotes them (abi.h): a
 * set-associative table, one cache line per slot, sized by sluiced. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLUICE_NEW_FLOWS_DEFAULT);
	__type(key, __u32);
	__type(value, struct sluice_new_slot);
	__uint(map_flags, BPF_F_MMAPABLE);
} sl_new SEC(".maps");

/* sl_new's tags, one line per bucket (abi.h), sized by sluiced with it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLUICE_NEW_FLOWS_DEFAULT / SLUICE_NEW_WAYS);
	__type(key, __u32);
	__type(value, struct sluice_new_tags);
	__uint(map_flags, BPF_F_MMAPABLE);
} sl_new_tags SEC(".maps");

/* The drain table: draining backends' flows, safe from eviction (abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLUICE_DRAIN_TABLE_DEFAULT);
	__type(key, struct sluice_flow_key);
	__type(value, struct sluice_flow);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} sl_pinned SEC(".maps");

/* Outer source addresses. Written by sluiced. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_config);
} sl_config SEC(".maps");

/* Per-CPU counters, written by the datapath only. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLUICE_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct sluice_vip_stats);
} sl_vip_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLUICE_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct sluice_be_stats);
} sl_be_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLUICE_R_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sl_reasons SEC(".maps");

/*
 * Egress interfaces other than the ingress one: ifindex -> ifindex.
 * Not pinned: sluiced refills it from its config before every attach (the
 * kernel adds BPF_F_RDONLY_PROG to devmaps, which breaks libbpf's reuse
 * check of a pinned one).
 */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} sl_tx_ports SEC(".maps");

/*
 * SLUICE_TAIL_FALLBACK -> the sluice_fallback program, and [0] of
 * sl_tail_slow -> sluice_slow (sl_maps_open() writes both): each is a
 * program of its own, verified on its own budget, so that no path
 * multiplies the others' states. sl_tail is pinned as it always was (an
 * older sluiced's pin is reused at its size); sl_tail_slow is private to
 * one load, like sl_tx_ports.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} sl_tail SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} sl_tail_slow SEC(".maps");

/* The shard holding @key's flow: NULL only before sluiced filled sl_flows. */
static __always_inline void *sl_flows_of(const struct sluice_flow_key *key)
{
	__u32 i = sluice_flow_shard(key);

	return bpf_map_lookup_elem(&sl_flows, &i);
}

static __always_inline struct sluice_flow *
sl_flow_get(const struct sluice_flow_key *key)
{
	void *shard = sl_flows_of(key);

	return shard ? bpf_map_lookup_elem(shard, key) : NULL;
}

static __always_inline void sl_flow_put(const struct sluice_flow_key *key,
					const struct sluice_flow *f)
{
	void *shard = sl_flows_of(key);

	if (shard)
		bpf_map_update_elem(shard, key, f, BPF_ANY);
}

static __always_inline void sl_flow_del(const struct sluice_flow_key *key)
{
	void *shard = sl_flows_of(key);

	if (shard)
		bpf_map_delete_elem(shard, key);
}

#endif /* SLUICE_BPF_MAPS_H */
