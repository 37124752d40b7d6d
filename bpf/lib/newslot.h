/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sl_new, the flows seen once (abi.h): two buckets per flow hash, one
 * pass over both to find a flow or the slot a new one claims.
 */
#ifndef SLUICE_BPF_NEWSLOT_H
#define SLUICE_BPF_NEWSLOT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "sluice/abi.h"
#include "sluice/hash.h"
#include "maps.h"
#include "settings.h"

/* Slot @way of the bucket that starts at @base (abi.h). */
static __always_inline struct sluice_new_slot *sl_new_way(__u32 base, int way)
{
	__u32 idx = base + way;

	return bpf_map_lookup_elem(&sl_new, &idx);
}

/* Does @s hold the flow @fk? Word compares: no memcmp in BPF. */
static __always_inline int sl_slot_holds(const struct sluice_new_slot *s,
					 const struct sluice_flow_key *fk)
{
	const __u32 *a = (const __u32 *)&s->key, *b = (const __u32 *)fk;
	__u32 diff = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)SLUICE_FLOW_KEY_WORDS; i++)
		diff |= a[i] ^ b[i];
	return !diff;
}

/*
 * Where a new flow goes: a free slot (key.family 0) of the bucket with
 * more of them, choice 0 on a tie; with both buckets full, the slot whose
 * flow was created longest ago. Two buckets of four are what keeps a
 * handshake's slot below half the slots in flight: a single bucket of the
 * same size overflows with a few per cent of them.
 */
struct sl_claim {
	__u32 free0, free1, old; /* slot indices; SL_NO_SLOT: none */
	__u32 old_created;
	int n0, n1;
};

/* Indices, not pointers: the verifier refuses a pointer spilled to a
 * stack slot that clang later reuses for narrower data. */
#define SL_NO_SLOT 0xffffffffU

/* Note slot @idx (@s) of bucket choice @c for sl_claim_pick(). */
static __always_inline void sl_claim_see(struct sl_claim *cl,
					 const struct sluice_new_slot *s,
					 __u32 idx, int c)
{
	if (s->key.family) {
		if (cl->old == SL_NO_SLOT ||
		    (__s32)(s->flow.created - cl->old_created) < 0) {
			cl->old = idx;
			cl->old_created = s->flow.created;
		}
	} else if (c == 0) {
		cl->n0++;
		if (cl->free0 == SL_NO_SLOT)
			cl->free0 = idx;
	} else {
		cl->n1++;
		if (cl->free1 == SL_NO_SLOT)
			cl->free1 = idx;
	}
}

static __always_inline void sl_claim_init(struct sl_claim *cl)
{
	cl->free0 = cl->free1 = cl->old = SL_NO_SLOT;
	cl->old_created = 0;
	cl->n0 = cl->n1 = 0;
}

/* The slot sl_claim_see() chose, or NULL. */
static __always_inline struct sluice_new_slot *
sl_claim_pick(const struct sl_claim *cl)
{
	__u32 idx = cl->free1 != SL_NO_SLOT ? cl->free1 : cl->old;

	if (cl->free0 != SL_NO_SLOT && cl->n0 >= cl->n1)
		idx = cl->free0;
	if (idx == SL_NO_SLOT)
		return NULL;
	return bpf_map_lookup_elem(&sl_new, &idx);
}

/*
 * One pass over both buckets of @fk: the slot holding it, or NULL. With
 * @cl, the slots that do not hold it are noted there too, so a first
 * packet learns where it goes without reading its buckets twice.
 */
static __always_inline struct sluice_new_slot *
sl_new_search(const struct sluice_flow_key *fk, __u32 hash, struct sl_claim *cl)
{
	struct sluice_new_slot *s;
	__u32 base;
	int c, w;

#pragma unroll
	for (c = 0; c < 2; c++) {
		base = sluice_new_bucket(hash, cfg_new_slots, c);
#pragma unroll
		for (w = 0; w < SLUICE_NEW_WAYS; w++) {
			s = sl_new_way(base, w);
			if (!s)
				continue;
			if (sl_slot_holds(s, fk))
				return s;
			if (cl)
				sl_claim_see(cl, s, base + w, c);
		}
	}
	return NULL;
}

/*
 * Start reading both buckets of a flow with @hash: one byte of each slot,
 * kept by an empty asm, so the CPU fetches the eight lines while the flow
 * lookup that comes first misses its own (a SYN is all but always new).
 */
static __always_inline void sl_new_warm(__u32 hash)
{
	__u32 base[2] = { sluice_new_bucket(hash, cfg_new_slots, 0),
			  sluice_new_bucket(hash, cfg_new_slots, 1) };
	struct sluice_new_slot *s;
	__u8 sink = 0;
	int i;

#pragma unroll
	for (i = 0; i < 2 * SLUICE_NEW_WAYS; i++) {
		s = sl_new_way(base[i / SLUICE_NEW_WAYS], i % SLUICE_NEW_WAYS);
		if (s)
			sink |= s->key.family;
	}
	barrier_var(sink);
}

/* The slot holding @fk in either of its buckets, or NULL. */
static __always_inline struct sluice_new_slot *
sl_new_find(const struct sluice_flow_key *fk, __u32 hash)
{
	return sl_new_search(fk, hash, NULL);
}

/* Where @fk goes when no search for it was made: its own slot if any. */
static __always_inline struct sluice_new_slot *
sl_new_claim(const struct sluice_flow_key *fk, __u32 hash)
{
	struct sluice_new_slot *s;
	struct sl_claim cl;

	sl_claim_init(&cl);
	s = sl_new_search(fk, hash, &cl);
	return s ? s : sl_claim_pick(&cl);
}

#endif /* SLUICE_BPF_NEWSLOT_H */
