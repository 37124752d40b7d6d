/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow hash that picks a Maglev slot: murmur3 (32-bit) over the ten
 * words of a zero-padded struct sluice_flow_key. Shared by the datapath
 * and userspace so tests and tools can predict which slot, and so which
 * backend, a new flow takes. Every sluice box behind the same ECMP group
 * must run the same seed (config `maglev.seed`) to agree.
 */
#ifndef SLUICE_HASH_H
#define SLUICE_HASH_H

#include <linux/types.h>
#include "abi.h"

static inline __u32 sluice_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

static inline __u32 sluice_fmix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

#define SLUICE_FLOW_KEY_WORDS (sizeof(struct sluice_flow_key) / 4)

static inline __u32 sluice_flow_hash(const struct sluice_flow_key *key,
				     __u32 seed)
{
	const __u32 *w = (const __u32 *)key;
	__u32 h = seed;
	unsigned int i;

#ifdef __clang__
#pragma unroll
#endif
	for (i = 0; i < SLUICE_FLOW_KEY_WORDS; i++) {
		__u32 k = w[i];

		k *= 0xcc9e2d51;
		k = sluice_rol32(k, 15);
		k *= 0x1b873593;
		h ^= k;
		h = sluice_rol32(h, 13);
		h = h * 5 + 0xe6546b64;
	}
	return sluice_fmix32(h ^ (__u32)sizeof(*key));
}

/*
 * The sl_vip_addrs bit of a VIP address (abi.h): the address words folded
 * and mixed, so that neighbouring addresses land on unrelated bits.
 */
static inline __u32 sluice_vip_filter_bit(const struct sluice_addr *a,
					  __u8 family)
{
	__u32 h = a->addr[0] ^ sluice_rol32(a->addr[1], 8) ^
		  sluice_rol32(a->addr[2], 16) ^ sluice_rol32(a->addr[3], 24);

	return sluice_fmix32(h ^ family) & (SLUICE_VIP_FILTER_BITS - 1);
}

/*
 * The sl_flows shard of a flow (abi.h). Every established packet computes
 * it, so it is a fold of the client's address and both ports and one
 * multiply, not the Maglev hash. Shards need only to be even, and a client
 * that picks its ports to crowd one shard only shortens its own flows'
 * lives there (each shard is an LRU).
 */
static inline __u32 sluice_flow_shard(const struct sluice_flow_key *k)
{
	__u32 x = k->src.addr[0] ^ k->src.addr[1] ^ k->src.addr[2] ^
		  k->src.addr[3] ^ ((__u32)k->sport << 16 | k->dport);

	return (x * 0x9e3779b1U) >> (32 - SLUICE_FLOW_SHARD_BITS);
}

/*
 * sl_new is set-associative with two choices (abi.h): the first slot of
 * bucket @choice (0 or 1) of a flow with hash @h. The second choice mixes
 * the hash again so that flows sharing one bucket spread over others.
 * @slots is a power of two, at least SLUICE_NEW_WAYS.
 */
static inline __u32 sluice_new_bucket(__u32 h, __u32 slots, unsigned int choice)
{
	__u32 buckets = slots / SLUICE_NEW_WAYS;

	if (choice)
		h = sluice_fmix32(h ^ 0x9e3779b9);
	return (h & (buckets - 1)) * SLUICE_NEW_WAYS;
}

/*
 * The tag of a flow with hash @h in sl_new_tags (abi.h): never 0, which
 * marks an empty slot. The bucket already fixes the hash's low bits, so
 * two flows of one bucket share a tag about once in 2^14 at the default
 * size: the slot itself is compared before it is taken.
 */
static inline __u32 sluice_new_tag(__u32 h)
{
	return h | 1;
}

#endif /* SLUICE_HASH_H */
