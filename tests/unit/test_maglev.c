/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests for user/lib/maglev.c: spread, disruption, determinism, edges. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../lib/check.h"
#include "maglev.h"

#define M_SMALL		SLUICE_RING_SIZE_DEFAULT	/* 65537 */
#define ID_BASE		1000	/* ids unrelated to canonical order */
#define MAX_BE		1000
/* maglev_fingerprint() of test_fingerprint_golden's table. */
#define FP_GOLDEN	0xc74fce01e543e92dULL

static __u32 *tbl_a, *tbl_b;
static __u32 counts[MAX_BE];

static int setup(void **state)
{
	(void)state;
	tbl_a = malloc(SLUICE_RING_SIZE_MAX * sizeof(*tbl_a));
	tbl_b = malloc(SLUICE_RING_SIZE_MAX * sizeof(*tbl_b));
	return tbl_a && tbl_b ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(tbl_a);
	free(tbl_b);
	return 0;
}

/* Deterministic PRNG so shuffles and weights are the same on every run. */
static __u64 rng_state;

static __u64 rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void shuffle(struct maglev_backend *b, size_t n)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = rng_next() % i;
		struct maglev_backend t = b[i - 1];

		b[i - 1] = b[j];
		b[j] = t;
	}
}

/* 198.18.x.y (+ i + 1), ids ID_BASE + i: backend i owns slots holding ID_BASE + i. */
static void mk_v4(struct maglev_backend *b, size_t i, __u32 weight)
{
	memset(b, 0, sizeof(*b));
	b->id = ID_BASE + i;
	b->family = SLUICE_AF_INET;
	b->addr.addr[0] = htonl(0xc6120000 + i + 1);
	b->weight = weight;
}

/* fd00:db8::i */
static void mk_v6(struct maglev_backend *b, size_t i, __u32 weight)
{
	memset(b, 0, sizeof(*b));
	b->id = ID_BASE + i;
	b->family = SLUICE_AF_INET6;
	b->addr.addr[0] = htonl(0xfd000db8);
	b->addr.addr[3] = htonl(i + 1);
	b->weight = weight;
}

static void build_ok(const struct maglev_backend *b, size_t n, __u32 m,
		     __u64 seed, __u32 *table)
{
	int rc = maglev_build(b, n, m, seed, table);

	if (rc)
		fail_msg("maglev_build(n=%zu, m=%u): got %d, expected 0", n, m, rc);
}

/* Slots per backend index (id - ID_BASE); fails on ids outside [0, n). */
static void count_slots(const __u32 *table, __u32 m, size_t n)
{
	__u32 i;

	memset(counts, 0, sizeof(counts));
	for (i = 0; i < m; i++) {
		__u32 k = table[i] - ID_BASE;

		if (table[i] < ID_BASE || k >= n)
			fail_msg("slot %u holds id %u, expected one of %u..%zu",
				 i, table[i], ID_BASE, ID_BASE + n - 1);
		counts[k]++;
	}
}

static void check_tables_equal(const __u32 *a, const __u32 *b, __u32 m,
			       const char *what)
{
	__u32 i;

	for (i = 0; i < m; i++)
		if (a[i] != b[i])
			fail_msg("%s: slot %u is %u, expected %u", what, i,
				 b[i], a[i]);
}

static void test_is_prime(void **state)
{
	static const struct { __u32 m; int prime; } cases[] = {
		{ 0, 0 }, { 1, 0 }, { 2, 1 }, { 3, 1 }, { 4, 0 }, { 9, 0 },
		{ 25, 0 }, { 49, 0 }, { 65536, 0 }, { 65537, 1 },
		{ 655373, 1 }, { 655371, 0 }, { 65521U * 65519U, 0 },
		{ 3215031751U, 0 },	/* strong pseudoprime to bases 2,3,5,7 */
		{ 2147483647U, 1 }, { 4294967291U, 1 }, { 4294967295U, 0 },
	};
	__u32 i, d;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!maglev_is_prime(cases[i].m) != !cases[i].prime)
			fail_msg("maglev_is_prime(%u) = %d, expected %d",
				 cases[i].m, maglev_is_prime(cases[i].m),
				 cases[i].prime);
	/* Every small m against plain trial division. */
	for (i = 0; i < 20000; i++) {
		int p = i >= 2;

		for (d = 2; p && d * d <= i; d++)
			p = i % d != 0;
		if (!maglev_is_prime(i) != !p)
			fail_msg("maglev_is_prime(%u) = %d, expected %d", i,
				 maglev_is_prime(i), p);
	}
}

/*
 * Each backend's slot count must be within 1% (relative) of its fair
 * share m * w / sum(w). Reports the worst backend on failure.
 */
static void check_spread(const struct maglev_backend *b, size_t n, __u32 m,
			 const char *what)
{
	double wsum = 0, worst = 0, wexp = 0;
	size_t i, wi = 0;

	for (i = 0; i < n; i++)
		wsum += b[i].weight;
	build_ok(b, n, m, 0, tbl_a);
	count_slots(tbl_a, m, n);
	for (i = 0; i < n; i++) {
		double exp = m * (double)b[i].weight / wsum;
		double dev = exp ? (counts[i] - exp) / exp : counts[i];

		if (dev < 0)
			dev = -dev;
		if (dev > worst) {
			worst = dev;
			wi = i;
			wexp = exp;
		}
	}
	if (worst > 0.01)
		fail_msg("%s (n=%zu, m=%u): backend %zu weight %u has %u slots, "
			 "expected %.1f: off by %.3f%%, limit 1%%", what, n, m,
			 wi, b[wi].weight, counts[wi], wexp, worst * 100);
}

static void test_spread_equal(void **state)
{
	/* Always m > 100 * n, so one slot is under 1% of a share. */
	static const struct { size_t n; __u32 m; } cases[] = {
		{ 5, M_SMALL }, { 10, M_SMALL }, { 25, M_SMALL },
		{ 50, M_SMALL }, { 100, M_SMALL }, { 500, M_SMALL },
		{ 1000, SLUICE_RING_SIZE_MAX },
	};
	struct maglev_backend b[MAX_BE];
	size_t k, i;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		for (i = 0; i < cases[k].n; i++)
			mk_v4(&b[i], i, 1);
		check_spread(b, cases[k].n, cases[k].m, "equal weights");
	}
}

static void test_spread_weighted(void **state)
{
	static const __u32 w1[] = { 1, 2, 3, 4 };
	static const __u32 w2[] = { 100, 50, 10 };
	struct maglev_backend b[MAX_BE];
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		mk_v4(&b[i], i, w1[i]);
	check_spread(b, 4, M_SMALL, "weights 1,2,3,4");

	for (i = 0; i < 3; i++)
		mk_v6(&b[i], i, w2[i]);
	check_spread(b, 3, M_SMALL, "weights 100,50,10");

	rng_state = 0x5eed0001;
	for (i = 0; i < 50; i++)
		mk_v4(&b[i], i, 1 + rng_next() % 10);
	check_spread(b, 50, M_SMALL, "50 backends, weights 1..10");

	/* Skewed enough (n * wmax / sum(w) > 32) to take the heap walk. */
	mk_v4(&b[0], 0, 1000);
	for (i = 1; i < 40; i++)
		mk_v4(&b[i], i, 5);
	check_spread(b, 40, M_SMALL, "one weight 1000, 39 weight 5");

	/* Large weights: the accumulators must not overflow. */
	mk_v4(&b[0], 0, 0xffffffffU);
	mk_v4(&b[1], 1, 0x80000000U);
	mk_v4(&b[2], 2, 0x40000000U);
	check_spread(b, 3, M_SMALL, "weights near 2^32");
}

/*
 * Removing one of n backends must hand exactly its slots to the others
 * and move at most 2% of the slots the others already owned.
 */
static void check_disruption(size_t n, size_t victim)
{
	struct maglev_backend b[MAX_BE], r[MAX_BE];
	__u32 i, gone = ID_BASE + victim, kept = 0, moved = 0;
	size_t j, k = 0;

	for (j = 0; j < n; j++) {
		mk_v4(&b[j], j, 1);
		if (j != victim)
			r[k++] = b[j];
	}
	build_ok(b, n, M_SMALL, 0, tbl_a);
	build_ok(r, k, M_SMALL, 0, tbl_b);
	for (i = 0; i < M_SMALL; i++) {
		if (tbl_b[i] == gone || tbl_b[i] == SLUICE_NO_BACKEND)
			fail_msg("n=%zu: slot %u still holds %u after removing "
				 "%u", n, i, tbl_b[i], gone);
		if (tbl_a[i] == gone)
			continue;
		kept++;
		moved += tbl_a[i] != tbl_b[i];
	}
	if (moved * 50ULL > kept)
		fail_msg("n=%zu, removed backend %zu: %u of %u surviving slots "
			 "moved (%.3f%%), limit 2%%", n, victim, moved, kept,
			 100.0 * moved / kept);
}

static void test_disruption(void **state)
{
	static const size_t ns[] = { 10, 50, 100 };
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		check_disruption(ns[k], 0);
		check_disruption(ns[k], ns[k] / 2);
		check_disruption(ns[k], ns[k] - 1);
	}
}

/* 30 IPv4 and 30 IPv6 backends with varied weights. */
static size_t mk_mixed_set(struct maglev_backend *b)
{
	size_t i;

	for (i = 0; i < 30; i++) {
		mk_v4(&b[i], i, 1 + i % 4);
		mk_v6(&b[30 + i], 30 + i, 1 + i % 3);
	}
	return 60;
}

static void test_order_independence(void **state)
{
	struct maglev_backend b[MAX_BE];
	size_t n = mk_mixed_set(b);
	__u32 i, differ = 0;
	int round;

	(void)state;
	build_ok(b, n, M_SMALL, 0, tbl_a);
	rng_state = 0x5eed0002;
	for (round = 0; round < 8; round++) {
		shuffle(b, n);
		build_ok(b, n, M_SMALL, 0, tbl_b);
		if (memcmp(tbl_a, tbl_b, M_SMALL * sizeof(*tbl_a)))
			check_tables_equal(tbl_a, tbl_b, M_SMALL,
					   "shuffled input");
	}

	/* Another seed must give an unrelated table: most slots differ. */
	build_ok(b, n, M_SMALL, 1, tbl_b);
	for (i = 0; i < M_SMALL; i++)
		differ += tbl_a[i] != tbl_b[i];
	if (differ < M_SMALL / 2)
		fail_msg("seed 1 vs seed 0: %u of %u slots differ, expected "
			 "more than %u", differ, M_SMALL, M_SMALL / 2);
}

/* Boxes number backends differently; the address->slot map must agree. */
static void test_ids_do_not_matter(void **state)
{
	struct maglev_backend b[MAX_BE];
	size_t n = mk_mixed_set(b), i;
	__u32 s;

	(void)state;
	build_ok(b, n, M_SMALL, 7, tbl_a);
	for (i = 0; i < n; i++)
		b[i].id = 5 * (n - i);		/* box B's ids */
	build_ok(b, n, M_SMALL, 7, tbl_b);
	for (s = 0; s < M_SMALL; s++) {
		__u32 idx_b = n - tbl_b[s] / 5;	/* invert box B's id */
		__u32 idx_a = tbl_a[s] - ID_BASE;

		if (idx_a != idx_b)
			fail_msg("slot %u: box B picked backend %u, box A "
				 "picked %u", s, idx_b, idx_a);
	}
}

static void check_all_empty(const __u32 *table, __u32 m, const char *what)
{
	__u32 i;

	for (i = 0; i < m; i++)
		if (table[i] != SLUICE_NO_BACKEND)
			fail_msg("%s: slot %u is %u, expected SLUICE_NO_BACKEND",
				 what, i, table[i]);
}

static void test_empty(void **state)
{
	struct maglev_backend b[4];
	size_t i;

	(void)state;
	memset(tbl_a, 0x5a, M_SMALL * sizeof(*tbl_a));
	build_ok(NULL, 0, M_SMALL, 0, tbl_a);
	check_all_empty(tbl_a, M_SMALL, "n == 0");

	for (i = 0; i < 4; i++)
		mk_v4(&b[i], i, 0);
	memset(tbl_a, 0x5a, M_SMALL * sizeof(*tbl_a));
	build_ok(b, 4, M_SMALL, 0, tbl_a);
	check_all_empty(tbl_a, M_SMALL, "all weights 0");
}

/* A weight-0 backend takes no slots and leaves the table as if absent. */
static void test_zero_weight(void **state)
{
	struct maglev_backend b[5];
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++)
		mk_v4(&b[i], i, i == 2 ? 0 : 1);
	build_ok(b, 5, M_SMALL, 0, tbl_a);
	count_slots(tbl_a, M_SMALL, 5);
	CHECK_INT(CHECK_HERE, counts[2], 0);

	b[2] = b[4];
	build_ok(b, 4, M_SMALL, 0, tbl_b);
	check_tables_equal(tbl_a, tbl_b, M_SMALL, "weight 0 vs absent");
}

static void expect_einval(const struct maglev_backend *b, size_t n, __u32 m,
			  __u32 *table, const char *what)
{
	int rc;

	if (table)
		memset(table, 0x5a, M_SMALL * sizeof(*table));
	rc = maglev_build(b, n, m, 0, table);
	if (rc != -EINVAL)
		fail_msg("%s: got %d, expected %d (-EINVAL)", what, rc, -EINVAL);
	/* A failed build must not leave a half-written table behind. */
	if (table && table[0] != 0x5a5a5a5aU)
		fail_msg("%s: table[0] changed to %u on error", what, table[0]);
}

static void test_invalid(void **state)
{
	struct maglev_backend b[4];
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		mk_v4(&b[i], i, 1);
	expect_einval(b, 4, 65536, tbl_a, "m = 65536");
	expect_einval(b, 4, 65535, tbl_a, "m = 65535");
	expect_einval(b, 4, 1, tbl_a, "m = 1");
	expect_einval(b, 4, 0, tbl_a, "m = 0");
	expect_einval(NULL, 4, M_SMALL, tbl_a, "bes NULL, n 4");
	expect_einval(b, 4, M_SMALL, NULL, "table NULL");

	b[3].addr = b[1].addr;
	expect_einval(b, 4, M_SMALL, tbl_a, "duplicate IPv4");
	b[3].weight = 0;
	expect_einval(b, 4, M_SMALL, tbl_a, "duplicate with weight 0");

	mk_v4(&b[3], 3, 1);
	b[3].addr = b[1].addr;
	b[3].addr.addr[2] = htonl(7);	/* ignored for IPv4 */
	expect_einval(b, 4, M_SMALL, tbl_a, "duplicate IPv4, junk in addr[2]");

	for (i = 0; i < 4; i++)
		mk_v6(&b[i], i, 1);
	b[0].addr = b[3].addr;
	expect_einval(b, 4, M_SMALL, tbl_a, "duplicate IPv6");

	mk_v6(&b[0], 0, 1);
	b[0].family = 10;	/* AF_INET6, not SLUICE_AF_INET6 */
	expect_einval(b, 4, M_SMALL, tbl_a, "unknown family");

	mk_v6(&b[0], 0, 1);
	b[0].id = SLUICE_NO_BACKEND;
	expect_einval(b, 4, M_SMALL, tbl_a, "weighted id SLUICE_NO_BACKEND");
}

/*
 * IPv4 and IPv6 backends in one table, including an IPv4 and an IPv6
 * address with the same 16 bytes: the family byte keeps them apart.
 */
static void test_mixed_families(void **state)
{
	struct maglev_backend b[8];
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		mk_v4(&b[i], i, 1);
		mk_v6(&b[4 + i], 4 + i, 1);
	}
	memset(&b[7].addr, 0, sizeof(b[7].addr));
	b[7].addr.addr[0] = b[0].addr.addr[0];
	check_spread(b, 8, M_SMALL, "4 IPv4 + 4 IPv6");
}

/* Tiny tables: m = 2, and more backends than slots; no slot left empty. */
static void test_small_tables(void **state)
{
	struct maglev_backend b[10];
	__u32 i;

	(void)state;
	mk_v4(&b[0], 0, 3);
	build_ok(b, 1, 2, 0, tbl_a);
	count_slots(tbl_a, 2, 1);
	CHECK_INT(CHECK_HERE, counts[0], 2);

	for (i = 0; i < 10; i++)
		mk_v4(&b[i], i, 1 + i % 2);
	build_ok(b, 10, 7, 0, tbl_a);
	count_slots(tbl_a, 7, 10);
	build_ok(b, 10, 3, 0, tbl_a);
	count_slots(tbl_a, 3, 10);
}

/*
 * Reference: the round-robin accumulator scheme documented in maglev.c,
 * written the slow, obvious way (full permutation per backend, stepping
 * every round). maglev_build must produce the identical table on both of
 * its walks (rounds for similar weights, heap for skewed ones).
 */
static int ref_cmp(const void *a, const void *b)
{
	const struct maglev_backend *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

static __u64 ref_hash(const struct maglev_backend *be, __u64 seed)
{
	__u8 buf[17];

	buf[0] = be->family;
	memcpy(buf + 1, &be->addr, 16);
	return XXH64(buf, sizeof(buf), seed);
}

static void ref_build(struct maglev_backend *b, size_t n, __u32 m, __u64 seed,
		      __u32 *table)
{
	__u32 *perm = malloc((size_t)n * m * sizeof(*perm));
	__u64 *acc = calloc(n, sizeof(*acc));
	__u32 *next = calloc(n, sizeof(*next));
	__u32 wmax = 0, filled = 0, j;
	size_t i;

	CHECK_NONNULL(CHECK_HERE, perm);
	CHECK_NONNULL(CHECK_HERE, acc);
	CHECK_NONNULL(CHECK_HERE, next);
	qsort(b, n, sizeof(*b), ref_cmp);
	for (i = 0; i < n; i++) {
		__u64 off = ref_hash(&b[i], seed) % m;
		__u64 skip = ref_hash(&b[i], seed ^ 0x9e3779b97f4a7c15ULL) %
			     (m - 1) + 1;

		for (j = 0; j < m; j++)
			perm[i * m + j] = (off + j * skip) % m;
		if (b[i].weight > wmax)
			wmax = b[i].weight;
	}
	for (j = 0; j < m; j++)
		table[j] = SLUICE_NO_BACKEND;
	while (filled < m) {
		for (i = 0; i < n && filled < m; i++) {
			acc[i] += b[i].weight;
			if (acc[i] < wmax)
				continue;
			acc[i] -= wmax;
			while (table[perm[i * m + next[i]]] != SLUICE_NO_BACKEND)
				next[i]++;
			table[perm[i * m + next[i]]] = b[i].id;
			next[i]++;
			filled++;
		}
	}
	free(perm);
	free(acc);
	free(next);
}

static void test_matches_reference(void **state)
{
	struct maglev_backend b[MAX_BE];
	size_t i;

	(void)state;
	/* Similar weights: round walk. */
	for (i = 0; i < 20; i++)
		mk_v4(&b[i], i, 1 + i % 5);
	build_ok(b, 20, M_SMALL, 3, tbl_a);
	ref_build(b, 20, M_SMALL, 3, tbl_b);
	check_tables_equal(tbl_b, tbl_a, M_SMALL, "round walk vs reference");

	/* n * wmax / sum(w) = 40 * 1000 / 1039 > 32: heap walk. */
	mk_v6(&b[0], 0, 1000);
	for (i = 1; i < 40; i++)
		mk_v4(&b[i], i, 1);
	build_ok(b, 40, M_SMALL, 3, tbl_a);
	ref_build(b, 40, M_SMALL, 3, tbl_b);
	check_tables_equal(tbl_b, tbl_a, M_SMALL, "heap walk vs reference");

	/* Weights 1, 7, 98 on a smaller prime: rounds end mid-way. */
	for (i = 0; i < 33; i++)
		mk_v6(&b[i], i, i % 3 ? 7 : 1 + 97 * (i % 2));
	build_ok(b, 33, 10007, 11, tbl_a);
	ref_build(b, 33, 10007, 11, tbl_b);
	check_tables_equal(tbl_b, tbl_a, 10007, "weights 1/7/98 vs reference");
}

/*
 * Golden table. Every sluice box behind one ECMP group must build the
 * same table from the same backends and seed, including boxes running
 * other sluice versions during a rolling upgrade. These 16 slots were
 * recorded from the implementation; if this test fails, the hash, seed
 * derivation, canonical order or weighting changed and mixed-version
 * fleets would disagree on which backend owns a flow. Change the
 * expected values only together with a deliberate, announced format change.
 */
static void test_golden(void **state)
{
	static const __u32 golden[16] = {
		3, 2, 1, 3, 2, 3, 2, 2, 3, 2, 3, 2, 2, 3, 2, 2,
	};
	struct maglev_backend b[3];
	size_t i;

	(void)state;
	mk_v4(&b[0], 0, 1);
	mk_v4(&b[1], 1, 2);
	mk_v6(&b[2], 2, 3);
	for (i = 0; i < 3; i++)
		b[i].id = i + 1;
	build_ok(b, 3, M_SMALL, 0, tbl_a);
	for (i = 0; i < 16; i++)
		if (tbl_a[i] != golden[i])
			fail_msg("golden slot %zu is %u, expected %u", i,
				 tbl_a[i], golden[i]);
}

/*
 * More golden tables, same promise as test_golden: for fixed backend sets
 * (the lab's three backends, weighted IPv4+IPv6, a skewed set that takes
 * the heap walk) and seeds, the first slots and an FNV-1a digest of the
 * whole table, recorded from maglev_build and checked here against the
 * slow reference (ref_build) as well, so a wrong value cannot be
 * recorded unnoticed.
 */
#define GOLDEN_SLOTS	32

struct golden_be {
	const char *addr;	/* IPv4 or IPv6 */
	__u32 weight;
};

struct golden_table {
	const char *name;
	__u32 m;
	__u64 seed;
	size_t n;
	const struct golden_be *be;	/* id i + 1 for be[i] */
	__u32 first[GOLDEN_SLOTS];	/* slots 0 .. min(m, 32) - 1 */
	__u64 digest;			/* FNV-1a 64 over all m slots */
};

/* A table: one row per line, wider than 80 columns. */
/* clang-format off */
static const struct golden_be lab3[] = {
	{ "198.18.20.11", 1 }, { "198.18.20.12", 1 }, { "198.18.20.13", 1 },
};

static const struct golden_be weighted5[] = {
	{ "198.18.20.11", 1 }, { "198.18.20.12", 2 }, { "198.18.20.13", 3 },
	{ "fd00:20::11", 4 }, { "fd00:20::12", 5 },
};

/* 198.18.20.11 weight 200, then 198.18.21.1 .. 39 weight 1: heap walk. */
static struct golden_be skewed40[40];

static const struct golden_table golden_tables[] = {
	{ "lab, m 13", 13, 0, 3, lab3,
	  { 1, 3, 2, 3, 1, 2, 1, 1, 2, 2, 1, 3, 3 },
	  0xcd2af6ac87222dbcULL },
	{ "lab, m 251, seed 0x5eed", 251, 0x5eed, 3, lab3,
	  { 3, 2, 1, 2, 2, 3, 1, 2, 3, 3, 2, 1, 3, 1, 3, 1,
	    3, 2, 2, 1, 2, 2, 1, 1, 2, 3, 3, 1, 3, 2, 1, 3 },
	  0xcf13516146c24690ULL },
	{ "lab, default m", M_SMALL, 0, 3, lab3,
	  { 3, 3, 1, 1, 1, 3, 3, 1, 1, 1, 3, 3, 3, 1, 1, 1,
	    3, 3, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 2, 2 },
	  0x371fca9743a2c5ccULL },
	{ "weights 1-5, IPv4+IPv6, m 1009", 1009, 0xdeadbeefULL, 5, weighted5,
	  { 5, 4, 3, 5, 2, 4, 4, 2, 3, 5, 1, 4, 3, 5, 1, 5,
	    4, 3, 2, 2, 4, 4, 3, 5, 4, 5, 4, 5, 3, 5, 2, 2 },
	  0x1e162c194bdeacebULL },
	{ "skewed 200:1 x 39 (heap walk)", M_SMALL, 3, 40, skewed40,
	  { 1, 1, 1, 1, 1, 1, 1, 1, 1, 26, 16, 1, 28, 36, 1, 1,
	    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 35 },
	  0xbee2459623148a24ULL },
};
/* clang-format on */

static void golden_backends(const struct golden_table *g,
			    struct maglev_backend *b)
{
	const char *a;
	int af;
	size_t i;

	for (i = 0; i < g->n; i++) {
		a = g->be[i].addr;
		af = strchr(a, ':') ? AF_INET6 : AF_INET;
		memset(&b[i], 0, sizeof(b[i]));
		b[i].id = i + 1;
		b[i].weight = g->be[i].weight;
		b[i].family = af == AF_INET ? SLUICE_AF_INET : SLUICE_AF_INET6;
		if (inet_pton(af, a, &b[i].addr) != 1)
			fail_msg("golden backend '%s' does not parse", a);
	}
}

static __u64 table_digest(const __u32 *t, __u32 m)
{
	__u64 h = 0xcbf29ce484222325ULL;
	__u32 i;

	for (i = 0; i < m; i++) {
		h ^= t[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void check_golden_table(const struct golden_table *g, const __u32 *t,
			       const char *by)
{
	__u32 i, first = g->m < GOLDEN_SLOTS ? g->m : GOLDEN_SLOTS;
	__u64 d = table_digest(t, g->m);

	for (i = 0; i < first; i++)
		if (t[i] != g->first[i])
			fail_msg("%s (%s): slot %u is %u, expected %u", g->name,
				 by, i, t[i], g->first[i]);
	if (d != g->digest)
		fail_msg("%s (%s): table digest 0x%016llx, expected 0x%016llx",
			 g->name, by, (unsigned long long)d,
			 (unsigned long long)g->digest);
}

static void test_golden_tables(void **state)
{
	static char names[40][20];
	struct maglev_backend b[40];
	size_t k, i;

	(void)state;
	skewed40[0] = (struct golden_be){ "198.18.20.11", 200 };
	for (i = 1; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "198.18.21.%zu", i);
		skewed40[i] = (struct golden_be){ names[i], 1 };
	}
	for (k = 0; k < sizeof(golden_tables) / sizeof(golden_tables[0]); k++) {
		const struct golden_table *g = &golden_tables[k];

		golden_backends(g, b);
		build_ok(b, g->n, g->m, g->seed, tbl_a);
		check_golden_table(g, tbl_a, "maglev_build");
		ref_build(b, g->n, g->m, g->seed, tbl_b);
		check_golden_table(g, tbl_b, "reference");
	}
}

/* --- fingerprints ------------------------------------------------------- */

static __u64 fp_of(const __u32 *table, __u32 m, const struct maglev_backend *b, size_t n)
{
	__u64 fp = 0;
	int rc = maglev_fingerprint(table, m, b, n, &fp);

	if (rc)
		fail_msg("maglev_fingerprint(n=%zu, m=%u): got %d, expected 0", n, m, rc);
	return fp;
}

/* Two boxes with different backend ids and input order: one fingerprint. */
static void test_fingerprint_ids_and_order(void **state)
{
	struct maglev_backend b[MAX_BE];
	size_t n = mk_mixed_set(b), i;
	__u64 a, c;

	(void)state;
	build_ok(b, n, M_SMALL, 7, tbl_a);
	a = fp_of(tbl_a, M_SMALL, b, n);
	for (i = 0; i < n; i++)
		b[i].id = 5 * (n - i);
	rng_state = 0x1234;
	shuffle(b, n);
	build_ok(b, n, M_SMALL, 7, tbl_b);
	c = fp_of(tbl_b, M_SMALL, b, n);
	if (a != c)
		fail_msg("fingerprint depends on ids or order: %016llx vs %016llx",
			 (unsigned long long)a, (unsigned long long)c);
	/* Ids too large for the direct index take the searched path: same value. */
	for (i = 0; i < n; i++)
		b[i].id = 100000 + 7 * i;
	build_ok(b, n, M_SMALL, 7, tbl_b);
	CHECK(CHECK_HERE, fp_of(tbl_b, M_SMALL, b, n) == a);
	/* IPv4 bytes the ABI ignores are ignored here too. */
	for (i = 0; i < n; i++)
		if (b[i].family == SLUICE_AF_INET)
			b[i].addr.addr[2] = 0xdeadbeef;
	CHECK(CHECK_HERE, fp_of(tbl_b, M_SMALL, b, n) == a);
}

/* Any change of the table changes the fingerprint. */
static void test_fingerprint_changes(void **state)
{
	struct maglev_backend b[MAX_BE];
	size_t n = mk_mixed_set(b);
	__u64 base, w, gone, seed, empty;

	(void)state;
	build_ok(b, n, M_SMALL, 7, tbl_a);
	base = fp_of(tbl_a, M_SMALL, b, n);
	b[3].weight += 1;
	build_ok(b, n, M_SMALL, 7, tbl_a);
	w = fp_of(tbl_a, M_SMALL, b, n);
	b[3].weight -= 1;
	build_ok(b, n - 1, M_SMALL, 7, tbl_a);
	gone = fp_of(tbl_a, M_SMALL, b, n - 1);
	build_ok(b, n, M_SMALL, 8, tbl_a);
	seed = fp_of(tbl_a, M_SMALL, b, n);
	build_ok(b, 0, M_SMALL, 7, tbl_a);
	empty = fp_of(tbl_a, M_SMALL, b, 0);
	CHECK(CHECK_HERE, w != base);
	CHECK(CHECK_HERE, gone != base);
	CHECK(CHECK_HERE, seed != base);
	CHECK(CHECK_HERE, empty != base && empty != gone);
	/* One slot moved to another backend. */
	build_ok(b, n, M_SMALL, 7, tbl_a);
	tbl_a[100] = tbl_a[100] == b[0].id ? b[1].id : b[0].id;
	CHECK(CHECK_HERE, fp_of(tbl_a, M_SMALL, b, n) != base);
}

static void test_fingerprint_invalid(void **state)
{
	struct maglev_backend b[2];
	__u64 fp = 42;

	(void)state;
	mk_v4(&b[0], 0, 1);
	mk_v4(&b[1], 1, 1);
	build_ok(b, 2, M_SMALL, 0, tbl_a);
	/* A slot names an id the caller did not give: refused, fp untouched. */
	CHECK_INT(CHECK_HERE, maglev_fingerprint(tbl_a, M_SMALL, b, 1, &fp),
		  -EINVAL);
	CHECK_INT(CHECK_HERE, fp, 42);
	CHECK_INT(CHECK_HERE, maglev_fingerprint(NULL, M_SMALL, b, 2, &fp),
		  -EINVAL);
	CHECK_INT(CHECK_HERE, maglev_fingerprint(tbl_a, 0, b, 2, &fp), -EINVAL);
	CHECK_INT(CHECK_HERE, maglev_fingerprint(tbl_a, M_SMALL, NULL, 2, &fp),
		  -EINVAL);
}

/* maglev.h's definition, one buffer and one XXH64 call: m, then 17 bytes a slot. */
static __u64 fp_reference(const __u32 *table, __u32 m, const struct maglev_backend *b,
			  size_t n)
{
	size_t len = sizeof(m) + (size_t)m * 17, off = sizeof(m), k;
	__u8 *buf = calloc(1, len);
	__u64 fp;
	__u32 s;

	CHECK_NONNULL(CHECK_HERE, buf);
	memcpy(buf, &m, sizeof(m));
	for (s = 0; s < m; s++, off += 17) {
		if (table[s] == SLUICE_NO_BACKEND)
			continue;	/* 17 zero bytes */
		for (k = 0; k < n && b[k].id != table[s]; k++)
			;
		CHECK(CHECK_HERE, k < n);
		buf[off] = b[k].family;
		memcpy(buf + off + 1, &b[k].addr,
		       b[k].family == SLUICE_AF_INET ? 4 : 16);
	}
	fp = XXH64(buf, len, MAGLEV_FP_SEED);
	free(buf);
	return fp;
}

/*
 * Golden values: boxes running different sluice versions behind one ECMP group
 * compare these values, so the hash must never change by accident.
 */
static void test_fingerprint_golden(void **state)
{
	struct maglev_backend b[3];
	__u64 fp;

	(void)state;
	mk_v4(&b[0], 0, 1);
	mk_v4(&b[1], 1, 2);
	mk_v6(&b[2], 2, 3);
	build_ok(b, 3, M_SMALL, 0, tbl_a);
	fp = fp_of(tbl_a, M_SMALL, b, 3);
	/* The documented definition, computed in one piece: the oracle. */
	CHECK(CHECK_HERE, fp == fp_reference(tbl_a, M_SMALL, b, 3));
	if (fp != FP_GOLDEN)
		fail_msg("golden fingerprint is %016llx, expected %016llx",
			 (unsigned long long)fp, (unsigned long long)FP_GOLDEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_prime),
		cmocka_unit_test(test_spread_equal),
		cmocka_unit_test(test_spread_weighted),
		cmocka_unit_test(test_disruption),
		cmocka_unit_test(test_order_independence),
		cmocka_unit_test(test_ids_do_not_matter),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_zero_weight),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_mixed_families),
		cmocka_unit_test(test_small_tables),
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_golden_tables),
		cmocka_unit_test(test_fingerprint_ids_and_order),
		cmocka_unit_test(test_fingerprint_changes),
		cmocka_unit_test(test_fingerprint_invalid),
		cmocka_unit_test(test_fingerprint_golden),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
