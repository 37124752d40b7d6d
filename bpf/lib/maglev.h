/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Backend entries and the Maglev pick: the flow hash, the VIP's live
 * table, and whether a flow may still follow the backend it was assigned.
 */
#ifndef SLUICE_BPF_MAGLEV_H
#define SLUICE_BPF_MAGLEV_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "sluice/abi.h"
#include "sluice/hash.h"
#include "maps.h"
#include "settings.h"

static __always_inline struct sluice_backend *sl_backend(__u32 id)
{
	return bpf_map_lookup_elem(&sl_backends, &id);
}

/* A flow may follow its assigned backend unless it was removed or reused. */
static __always_inline int sl_backend_usable(const struct sluice_backend *be,
					     const struct sluice_flow *f)
{
	return be && (be->flags & SLUICE_BE_F_IN_USE) &&
	       !(be->flags & SLUICE_BE_F_RELEASE) && be->epoch == f->epoch;
}

static __always_inline __u32 sl_hash(const struct sluice_flow_key *fk)
{
	return sluice_flow_hash(fk, cfg_hash_seed);
}

/* The backend id that table @ring_idx of outer map @rings names for @hash. */
static __always_inline __u32 sl_ring_pick(void *rings, __u32 ring_idx,
					  __u32 hash)
{
	__u32 slot, *be_id;
	void *ring;

	ring = bpf_map_lookup_elem(rings, &ring_idx);
	if (!ring || !cfg_ring_size)
		return SLUICE_NO_BACKEND;
	slot = hash % cfg_ring_size;
	be_id = bpf_map_lookup_elem(ring, &slot);
	return be_id ? *be_id : SLUICE_NO_BACKEND;
}

/* The VIP's live Maglev table names the backend for a new flow's hash. */
static __always_inline __u32 sl_maglev_pick(const struct sluice_vip *vip,
					    __u32 hash)
{
	return sl_ring_pick(&sl_rings,
			    SLUICE_RING_INDEX(vip->vip_id, vip->gen & 1), hash);
}

#endif /* SLUICE_BPF_MAGLEV_H */
