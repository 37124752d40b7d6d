/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Weighted Maglev consistent hashing (NSDI'16, section 3.4) for sluiced. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "maglev.h"

/*
 * The skip hash must be independent of the offset hash, or backends with
 * close offsets would also share skips and collide along their whole
 * permutation. XOR with a nonzero constant gives a second seed that differs
 * from the first for every user seed.
 */
#define MG_SKIP_SEED_XOR	0x9e3779b97f4a7c15ULL

/* Population state of one backend with a nonzero weight. */
struct mg_state {
	__u32 id;
	__u32 weight;
	__u32 skip;	/* permutation stride, 1..m-1 */
	__u32 pos;	/* next permutation entry: (offset + j * skip) % m */
	__u64 turns;	/* slots taken so far */
	__u64 round;	/* heap walk: round in which the next turn falls */
	__u64 acc;	/* round walk: weight accumulated towards a turn */
};

int maglev_is_prime(__u32 m)
{
	__u32 d;

	if (m < 2)
		return 0;
	if (m < 4)
		return 1;
	if (m % 2 == 0 || m % 3 == 0)
		return 0;
	/* Every prime above 3 is 6k +- 1. d <= m / d avoids d * d overflow. */
	for (d = 5; d <= m / d; d += 6)
		if (m % d == 0 || m % (d + 2) == 0)
			return 0;
	return 1;
}

/* Canonical order: family, then address bytes as they sit in memory. */
static int mg_cmp(const void *a, const void *b)
{
	const struct maglev_backend *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

/*
 * Copy, validate and canonicalise the input so nothing below depends on
 * the caller's order or on bytes the ABI says are meaningless.
 */
static int mg_canon(const struct maglev_backend *bes, size_t n,
		    struct maglev_backend **out)
{
	struct maglev_backend *c;
	size_t i;

	c = calloc(n, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		c[i] = bes[i];
		if (c[i].family == SLUICE_AF_INET)
			memset(&c[i].addr.addr[1], 0, 3 * sizeof(__be32));
		else if (c[i].family != SLUICE_AF_INET6)
			goto inval;
		/* Such a slot would read as "no backend" in the datapath. */
		if (c[i].weight && c[i].id == SLUICE_NO_BACKEND)
			goto inval;
	}
	qsort(c, n, sizeof(*c), mg_cmp);
	/* Sorted, so duplicates are neighbours. */
	for (i = 1; i < n; i++)
		if (!mg_cmp(&c[i - 1], &c[i]))
			goto inval;
	*out = c;
	return 0;
inval:
	free(c);
	return -EINVAL;
}

/* XXH64 over the 17-byte identity: family, then the 16 address bytes. */
static __u64 mg_hash(const struct maglev_backend *be, __u64 seed)
{
	__u8 buf[1 + sizeof(be->addr)];

	buf[0] = be->family;
	memcpy(buf + 1, &be->addr, sizeof(be->addr));
	return XXH64(buf, sizeof(buf), seed);
}

/*
 * Weighting. The scheme is a round-robin with per-backend accumulators:
 * in each round every backend, in canonical order, adds its weight to its
 * accumulator and, if that reaches wmax (the largest weight), subtracts
 * wmax and takes one turn, i.e. claims the next free slot along its own
 * permutation. Max-weight backends take a turn every round, the others
 * in proportion to weight, so slot counts track m * w / sum(w). Population
 * stops as soon as all m slots are taken, possibly mid-round.
 *
 * Stepping through rounds (mg_walk_rounds) visits every backend every
 * round, turn or not: about m * n * wmax / sum(w) steps, which is O(m)
 * for similar weights but O(n * m) when one weight dwarfs the rest. For
 * skewed weights mg_walk_heap computes the same order directly: the k-th
 * turn of a backend falls in round ceil(k * wmax / w) (the first round
 * whose accumulated weight r * w reaches k * wmax), and within a round
 * turns go in canonical order, so a min-heap on (round, canonical index)
 * yields exactly the round-robin order in O(m log n). Both walks give the
 * same table; only the cost differs. k <= m and wmax < 2^32, so k * wmax
 * fits in 64 bits.
 */
/* Round walk while n * wmax / sum(w) <= this; measured crossover ~60. */
#define MG_ROUNDS_MAX_SKEW	32

static __u64 mg_round(__u64 k, __u32 wmax, __u32 w)
{
	__u64 p = k * wmax;

	return p / w + (p % w != 0);
}

static int mg_before(const struct mg_state *st, size_t a, size_t b)
{
	if (st[a].round != st[b].round)
		return st[a].round < st[b].round;
	return a < b;
}

static void mg_sift_down(const struct mg_state *st, size_t *heap, size_t len,
			 size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i, t;

		if (l < len && mg_before(st, heap[l], heap[min]))
			min = l;
		if (r < len && mg_before(st, heap[r], heap[min]))
			min = r;
		if (min == i)
			return;
		t = heap[i];
		heap[i] = heap[min];
		heap[min] = t;
		i = min;
	}
}

/*
 * Next permutation entry. pos, skip < m, so one conditional subtract
 * replaces a division; 64-bit so pos + skip cannot wrap for m near 2^32.
 */
static __u32 mg_next(__u32 pos, __u32 skip, __u32 m)
{
	__u64 p = (__u64)pos + skip;

	return p >= m ? p - m : p;
}

/*
 * One turn: walk the backend's permutation to the first free slot and
 * claim it. Stepping pos by skip computes permutation entries on the fly
 * instead of storing m entries per backend. The walk ends because skip
 * and prime m are coprime, so the permutation visits every slot.
 */
static void mg_take(struct mg_state *s, __u32 m, __u8 *taken, __u32 *table)
{
	while (taken[s->pos])
		s->pos = mg_next(s->pos, s->skip, m);
	taken[s->pos] = 1;
	table[s->pos] = s->id;
	s->pos = mg_next(s->pos, s->skip, m);
	s->turns++;
}

/* Terminates: the max-weight backend takes a turn every round. */
static void mg_walk_rounds(struct mg_state *st, size_t len, __u32 wmax,
			   __u32 m, __u8 *taken, __u32 *table)
{
	__u32 filled = 0;
	size_t i;

	for (;;) {
		for (i = 0; i < len; i++) {
			struct mg_state *s = &st[i];

			s->acc += s->weight;
			if (s->acc < wmax)
				continue;
			s->acc -= wmax;
			mg_take(s, m, taken, table);
			if (++filled == m)
				return;
		}
	}
}

static void mg_walk_heap(struct mg_state *st, size_t *heap, size_t len,
			 __u32 wmax, __u32 m, __u8 *taken, __u32 *table)
{
	__u32 filled;
	size_t i;

	for (i = 0; i < len; i++) {
		heap[i] = i;
		st[i].round = mg_round(1, wmax, st[i].weight);
	}
	for (i = len; i-- > 0;)
		mg_sift_down(st, heap, len, i);
	for (filled = 1;; filled++) {
		struct mg_state *s = &st[heap[0]];

		mg_take(s, m, taken, table);
		if (filled == m)
			return;
		s->round = mg_round(s->turns + 1, wmax, s->weight);
		mg_sift_down(st, heap, len, 0);
	}
}

/* Per-backend offset and skip, for weighted backends only, in canonical order. */
static size_t mg_init(const struct maglev_backend *c, size_t n, __u32 m,
		      __u64 seed, struct mg_state *st)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		struct mg_state *s = &st[len];

		if (!c[i].weight)
			continue;
		s->id = c[i].id;
		s->weight = c[i].weight;
		s->pos = mg_hash(&c[i], seed) % m;
		s->skip = mg_hash(&c[i], seed ^ MG_SKIP_SEED_XOR) % (m - 1) + 1;
		len++;
	}
	return len;
}

static void mg_fill_empty(__u32 m, __u32 *table)
{
	__u32 i;

	for (i = 0; i < m; i++)
		table[i] = SLUICE_NO_BACKEND;
}

int maglev_build(const struct maglev_backend *bes, size_t n, __u32 m,
		 __u64 seed, __u32 *table)
{
	struct maglev_backend *c = NULL;
	struct mg_state *st = NULL;
	size_t *heap = NULL, i, len;
	__u64 wsum = 0;
	__u8 *taken = NULL;
	__u32 wmax = 0;
	int err;

	if (!maglev_is_prime(m) || !table || (n && !bes))
		return -EINVAL;
	if (!n) {
		mg_fill_empty(m, table);
		return 0;
	}
	err = mg_canon(bes, n, &c);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		wsum += c[i].weight;
		if (c[i].weight > wmax)
			wmax = c[i].weight;
	}
	if (!wmax) {
		mg_fill_empty(m, table);
		goto out;
	}
	st = calloc(n, sizeof(*st));
	heap = calloc(n, sizeof(*heap));
	taken = calloc(m, 1);
	if (!st || !heap || !taken) {
		err = -ENOMEM;
		goto out;
	}
	len = mg_init(c, n, m, seed, st);
	/* len * wmax < 2^64 and wsum < 2^64 for any n that fits in memory. */
	if ((__u64)len * wmax / MG_ROUNDS_MAX_SKEW <= wsum)
		mg_walk_rounds(st, len, wmax, m, taken, table);
	else
		mg_walk_heap(st, heap, len, wmax, m, taken, table);
out:
	free(taken);
	free(heap);
	free(st);
	free(c);
	return err;
}
