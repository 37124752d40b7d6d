/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-CPU counters. Array lookups of per-CPU maps are inlined by the
 * verifier, so each bump is a few instructions, no helper call.
 */
#ifndef SLUICE_BPF_STATS_H
#define SLUICE_BPF_STATS_H

#include "maps.h"

static __always_inline void sl_count_reason(__u32 reason)
{
	__u64 *cnt = bpf_map_lookup_elem(&sl_reasons, &reason);

	if (cnt)
		*cnt += 1;
}

static __always_inline struct sluice_vip_stats *sl_vip_stat(__u32 vip_id)
{
	return bpf_map_lookup_elem(&sl_vip_stats, &vip_id);
}

static __always_inline struct sluice_be_stats *sl_be_stat(__u32 be_id)
{
	return bpf_map_lookup_elem(&sl_be_stats, &be_id);
}

/* Packets and bytes (the client's IP packet) for the VIP and backend. */
static __always_inline void sl_count_fwd(__u32 vip_id, __u32 be_id,
					 __u32 bytes, int new_flow)
{
	struct sluice_vip_stats *vs = sl_vip_stat(vip_id);
	struct sluice_be_stats *bs = sl_be_stat(be_id);

	if (vs) {
		vs->packets++;
		vs->bytes += bytes;
		vs->new_flows += new_flow;
	}
	if (bs) {
		bs->packets++;
		bs->bytes += bytes;
		bs->new_flows += new_flow;
	}
}

#endif /* SLUICE_BPF_STATS_H */
