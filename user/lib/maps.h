/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Userspace access to the balancer's maps: the only code that writes them,
 * used by sluiced and by the BPF tests alike. Functions return 0 or a
 * negative errno, as libbpf does.
 */
#ifndef SLUICE_USER_MAPS_H
#define SLUICE_USER_MAPS_H

#include <linux/types.h>
#include <bpf/libbpf.h>
#include "sluice/abi.h"
#include "sluice/hash.h"

struct sl_maps {
	int vips;
	int vip_addrs;
	int backends;
	int rings;
	int fb_rings;
	int flow_shard[SLUICE_FLOW_SHARDS]; /* sl_flows_N (abi.h) */
	int new_map;		/* sl_new; new_flows is a counter */
	int new_tags; /* sl_new_tags: a tag line per sl_new bucket */
	int drain_table; /* sl_pinned: draining flows kept from eviction */
	int config;
	int vip_stats;
	int be_stats;
	int reasons;
	int tx_ports;
	__u32 ring_size;		/* slots per Maglev table */
	__u32 new_slots;		/* sl_new slots (a power of two) */
	__u64 flow_capacity; /* entries of all sl_flows shards */
	__u32 hash_seed;		/* flow hash seed, as the program's */
};

/*
 * Find every balancer map in a loaded object. The caller sets
 * m->hash_seed to the seed the program was loaded with.
 */
int sl_maps_open(struct bpf_object *obj, __u32 ring_size, struct sl_maps *m);

/*
 * Is the balancer map @name private to one load (never pinned)? Nothing
 * in it outlives the program, and a pin would tie its layout to every
 * later version's (a reused pin must match in size).
 */
bool sl_map_private(const char *name);

/* The sl_flows shard (its fd) that holds @key's flow. */
static inline int sl_flows_fd(const struct sl_maps *m,
			      const struct sluice_flow_key *key)
{
	return m->flow_shard[sluice_flow_shard(key)];
}

/*
 * Write @n flows, each into its own shard, one batch update per shard
 * (tools and benchmarks fill tables this way). 0, or -errno: then some
 * of them may be written.
 */
int sl_flows_put_batch(const struct sl_maps *m,
		       const struct sluice_flow_key *keys,
		       const struct sluice_flow *vals, __u32 n);

/* Entries all sl_flows shards can hold together: read at sl_maps_open(). */
static inline __u64 sl_flows_capacity(const struct sl_maps *m)
{
	return m->flow_capacity;
}

/*
 * Entries of one sl_flows shard for flows.table_size @table_size: its
 * share, rounded up to a multiple of @cpus (possible CPUs), as the kernel
 * rounds a per-CPU LRU hash; a size it would round differs from the
 * pinned map's, which then cannot be reused at the next start.
 */
__u32 sl_flow_shard_entries(__u32 table_size, int cpus);
/* What the kernel makes of a per-CPU LRU hash asked for @n entries. */
__u32 sl_lru_entries(__u32 n, int cpus);

/*
 * Size the ring template and flow tables before load: @flows is
 * flows.table_size, split over the shards.
 */
int sl_maps_set_sizes(struct bpf_object *obj, __u32 ring_size, __u32 flows,
		      __u32 new_flows, __u32 drain_table);

int sl_vip_get(const struct sl_maps *m, const struct sluice_vip_key *key,
	       struct sluice_vip *vip);
int sl_vip_del(const struct sl_maps *m, const struct sluice_vip_key *key);
/*
 * The marker entry that says "this address is a VIP address". Follow a
 * batch of these with one sl_vip_filter_sync(): until then the datapath
 * may pass the new address's packets as not for a VIP.
 */
int sl_vip_addr_set(const struct sl_maps *m, const struct sluice_addr *addr,
		    __u8 family, int present);
/*
 * Rewrite sl_vip_addrs whole from the address entries now in sl_vips
 * (abi.h): after adding or deleting address entries. It walks sl_vips, so
 * call it once per batch, not per entry.
 */
int sl_vip_filter_sync(const struct sl_maps *m);

/*
 * Publish a VIP's Maglev table: write the idle generation whole, then flip
 * the VIP entry to it with one update (inserting the VIP if new). Packets
 * see the old table or the new one, never a mix. @fb_table, unless NULL,
 * is the pre-drain table (abi.h, SLUICE_VIP_F_FALLBACK), written to the
 * same generation of sl_fb_rings and switched on by the same flip.
 */
int sl_ring_publish(const struct sl_maps *m, const struct sluice_vip_key *key,
		    __u32 vip_id, __u16 vip_flags, const __u32 *table,
		    const __u32 *fb_table);
/* Drop both generations of a VIP's table. */
int sl_ring_clear(const struct sl_maps *m, __u32 vip_id);

/*
 * The flow @key as an sl_new slot holds it (abi.h), and that slot's index
 * into @idx unless NULL; -ENOENT when no slot of its two buckets holds it.
 * @fd is sl_new; @slots and @seed as the program's.
 */
int sl_new_slot_get(int fd, __u32 slots, __u32 seed,
		    const struct sluice_flow_key *key, struct sluice_flow *f,
		    __u32 *idx);
int sl_new_get(const struct sl_maps *m, const struct sluice_flow_key *key,
	       struct sluice_flow *f);

int sl_backend_set(const struct sl_maps *m, __u32 id,
		   const struct sluice_backend *be);
int sl_backend_get(const struct sl_maps *m, __u32 id,
		   struct sluice_backend *be);

int sl_config_set(const struct sl_maps *m, const struct sluice_config *cfg);
/*
 * CLOCK_MONOTONIC_COARSE in ms, truncated to 32 bits: the datapath's
 * timebase (bpf_ktime_get_coarse_ns), for comparing with flow times.
 */
__u32 sl_clock_now(void);

int sl_tx_port_add(const struct sl_maps *m, __u32 ifindex);

/* Per-CPU counters summed over all possible CPUs. sl_percpu_sum: the value
 * at @key of any per-CPU map whose value is @n u64 counters. */
int sl_percpu_sum(int fd, __u32 key, size_t n, __u64 *out);
int sl_vip_stats_read(const struct sl_maps *m, __u32 vip_id,
		      struct sluice_vip_stats *out);
int sl_be_stats_read(const struct sl_maps *m, __u32 be_id,
		     struct sluice_be_stats *out);
int sl_reasons_read(const struct sl_maps *m, __u64 out[SLUICE_R_MAX]);

/* Reason names and verdicts for humans and metrics. */
const char *sl_reason_label(int reason);
const char *sl_verdict_name(int verdict);

#endif /* SLUICE_USER_MAPS_H */
