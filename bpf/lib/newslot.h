/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sl_new, the flows seen once (abi.h): two buckets per flow hash, one
 * pass over their tag lines (sl_new_tags) to find a flow or the slot a
 * new one claims; a slot is read only where its tag matches, or where the
 * tags say both buckets are full.
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

/* The tag line of the bucket holding slot @idx (abi.h, sl_new_tags). */
static __always_inline struct sluice_new_tags *sl_new_tagline(__u32 idx)
{
	__u32 b = idx / SLUICE_NEW_WAYS;

	return bpf_map_lookup_elem(&sl_new_tags, &b);
}

static __always_inline void sl_new_tag_set(__u32 idx, __u32 tag)
{
	struct sluice_new_tags *t = sl_new_tagline(idx);

	if (t)
		t->tag[idx & (SLUICE_NEW_WAYS - 1)] = tag;
}

/*
 * Put the flow @fk (@f, hash @hash) in slot @idx, then its tag: a reader
 * that meets the tag first finds the old key, not a half-written one it
 * could take (see sl_start_new() on racing writers).
 */
static __always_inline void sl_new_put(__u32 idx,
				       const struct sluice_flow_key *fk,
				       const struct sluice_flow *f, __u32 hash)
{
	struct sluice_new_slot *s = bpf_map_lookup_elem(&sl_new, &idx);

	if (!s)
		return;
	s->key = *fk;
	s->flow = *f;
	sl_new_tag_set(idx, sluice_new_tag(hash));
}

/* Empty slot @idx (@s): the slot first, so a reader whose tag still
 * matches finds no key. */
static __always_inline void sl_new_empty(struct sluice_new_slot *s, __u32 idx)
{
	s->key.family = 0;
	sl_new_tag_set(idx, 0);
}

/*
 * Where a new flow goes: a free slot of the bucket with more of them,
 * choice 0 on a tie; with both buckets full, the slot whose flow was
 * created longest ago. Two buckets of four are what keeps a handshake's
 * slot below half the slots in flight: a single bucket of the same size
 * overflows with a few per cent of them. Free is read from the tags;
 * only when they say both buckets are full are the slots themselves read,
 * where an empty one (a stale tag) wins before the oldest.
 */
struct sl_claim {
	__u32 free0, free1, old; /* slot indices; SL_NO_SLOT: none */
	__u32 old_created;
	int n0, n1;
};

/* Indices, not pointers: the verifier refuses a pointer spilled to a
 * stack slot that clang later reuses for narrower data. */
#define SL_NO_SLOT 0xffffffffU

/* Note the free slot @idx of bucket choice @c. */
static __always_inline void sl_claim_free(struct sl_claim *cl, __u32 idx, int c)
{
	if (c == 0) {
		cl->n0++;
		if (cl->free0 == SL_NO_SLOT)
			cl->free0 = idx;
	} else {
		cl->n1++;
		if (cl->free1 == SL_NO_SLOT)
			cl->free1 = idx;
	}
}

/* Note slot @idx (@s) of bucket choice @c, as the slot itself says. */
static __always_inline void sl_claim_see(struct sl_claim *cl,
					 const struct sluice_new_slot *s,
					 __u32 idx, int c)
{
	if (!s->key.family) {
		sl_claim_free(cl, idx, c);
	} else if (cl->old == SL_NO_SLOT ||
		   (__s32)(s->flow.created - cl->old_created) < 0) {
		cl->old = idx;
		cl->old_created = s->flow.created;
	}
}

static __always_inline void sl_claim_init(struct sl_claim *cl)
{
	cl->free0 = cl->free1 = cl->old = SL_NO_SLOT;
	cl->old_created = 0;
	cl->n0 = cl->n1 = 0;
}

/* The slot the claim chose, or SL_NO_SLOT. */
static __always_inline __u32 sl_claim_idx(const struct sl_claim *cl)
{
	__u32 idx = cl->free1 != SL_NO_SLOT ? cl->free1 : cl->old;

	if (cl->free0 != SL_NO_SLOT && cl->n0 >= cl->n1)
		idx = cl->free0;
	return idx;
}

/* Both buckets' tags say full: read their slots for an empty or the oldest. */
static __always_inline void sl_claim_slots(struct sl_claim *cl, __u32 hash)
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
			if (s)
				sl_claim_see(cl, s, base + w, c);
		}
	}
}

/*
 * One pass over the tags of both buckets of @fk: the slot holding it, its
 * index in *@at, or NULL; only a slot whose tag matches is read. With
 * @cl, where a new flow would go is noted there too, so a first packet
 * learns where it goes without reading its buckets twice.
 */
static __always_inline struct sluice_new_slot *
sl_new_search(const struct sluice_flow_key *fk, __u32 hash, struct sl_claim *cl,
	      __u32 *at)
{
	__u32 tag = sluice_new_tag(hash), base, tg;
	struct sluice_new_slot *s;
	struct sluice_new_tags *t;
	int c, w;

#pragma unroll
	for (c = 0; c < 2; c++) {
		base = sluice_new_bucket(hash, cfg_new_slots, c);
		t = sl_new_tagline(base);
		if (!t)
			continue;
#pragma unroll
		for (w = 0; w < SLUICE_NEW_WAYS; w++) {
			tg = t->tag[w];
			if (tg == tag) {
				s = sl_new_way(base, w);
				if (s && sl_slot_holds(s, fk)) {
					*at = base + w;
					return s;
				}
			}
			if (cl && !tg)
				sl_claim_free(cl, base + w, c);
		}
	}
	if (cl && !cl->n0 && !cl->n1)
		sl_claim_slots(cl, hash);
	return NULL;
}

/*
 * Start reading both tag lines of a flow with @hash, kept by an empty
 * asm, so the CPU fetches them while the flow lookup that comes first
 * misses its own (a SYN is all but always new).
 */
static __always_inline void sl_new_warm(__u32 hash)
{
	__u32 base[2] = { sluice_new_bucket(hash, cfg_new_slots, 0),
			  sluice_new_bucket(hash, cfg_new_slots, 1) };
	struct sluice_new_tags *t;
	__u32 sink = 0;
	int i;

#pragma unroll
	for (i = 0; i < 2; i++) {
		t = sl_new_tagline(base[i]);
		if (t)
			sink |= t->tag[0];
	}
	barrier_var(sink);
}

/* The slot holding @fk in either of its buckets, or NULL. */
static __always_inline struct sluice_new_slot *
sl_new_find(const struct sluice_flow_key *fk, __u32 hash)
{
	__u32 at;

	return sl_new_search(fk, hash, NULL, &at);
}

/*
 * Where @fk goes when no search for it was made: its own slot if any,
 * else the claim's choice; SL_NO_SLOT for none. A global function:
 * verified once, on a stack frame of its own (sluice_fallback's chain of
 * calls must fit 512 bytes).
 */
__noinline __u32 sl_new_claim(const struct sluice_flow_key *fk, __u32 hash)
{
	struct sl_claim cl;
	__u32 at;

	if (!fk)
		return SL_NO_SLOT;
	sl_claim_init(&cl);
	if (sl_new_search(fk, hash, &cl, &at))
		return at;
	return sl_claim_idx(&cl);
}

#endif /* SLUICE_BPF_NEWSLOT_H */
