// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The fingerprint of a Maglev table (maglev.h): what operators compare
 * across boxes to prove they balance identically.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "maglev.h"

struct fp_ref {
	__u32 id;
	size_t idx;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct fp_ref *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

#define FP_IDENT	17	/* family + 16 address bytes */
/* Slots hashed per XXH64_update: one call per slot costs 10x more. */
#define FP_CHUNK	4096

/* Slot identity: family then the 16 address bytes (IPv4: the first 4 only). */
static void slot_ident(const struct maglev_backend *be, __u8 *buf)
{
	memset(buf, 0, FP_IDENT);
	buf[0] = be->family;
	if (be->family == SLUICE_AF_INET)
		memcpy(buf + 1, &be->addr.addr[0], sizeof(be->addr.addr[0]));
	else
		memcpy(buf + 1, &be->addr, sizeof(be->addr));
}

/*
 * Slot value -> index into @bes. Backend ids are small (sl_backends
 * indexes), so a direct table answers in one load; larger ids (callers
 * other than sluiced) fall back to a binary search.
 */
#define FP_DIRECT_MAX	65536

struct fp_index {
	const struct fp_ref *refs;	/* sorted by id */
	size_t n;
	__s32 *direct;			/* id -> index or -1; NULL: search refs */
	__u32 direct_len;
};

static int fp_index_init(struct fp_index *x, const struct fp_ref *refs, size_t n)
{
	__u32 max = n ? refs[n - 1].id : 0;
	size_t i;

	x->refs = refs;
	x->n = n;
	x->direct = NULL;
	x->direct_len = 0;
	if (max >= FP_DIRECT_MAX)
		return 0;
	x->direct = malloc((max + 1) * sizeof(*x->direct));
	if (!x->direct)
		return -ENOMEM;
	x->direct_len = max + 1;
	memset(x->direct, 0xff, x->direct_len * sizeof(*x->direct));
	for (i = 0; i < n; i++)
		x->direct[refs[i].id] = refs[i].idx;
	return 0;
}

static long fp_index_find(const struct fp_index *x, __u32 id)
{
	struct fp_ref key = { .id = id }, *hit;

	if (x->direct)
		return id < x->direct_len ? x->direct[id] : -1;
	hit = bsearch(&key, x->refs, x->n, sizeof(*x->refs), ref_cmp);
	return hit ? (long)hit->idx : -1;
}

/* The identity of slot value @id into @out; -EINVAL if no backend has it. */
static int ident_of(__u32 id, const __u8 *idents, const struct fp_index *x, __u8 *out)
{
	long idx;

	/* Family 0 is no backend's: the marker cannot equal a real identity. */
	if (id == SLUICE_NO_BACKEND) {
		memset(out, 0, FP_IDENT);
		return 0;
	}
	idx = fp_index_find(x, id);
	if (idx < 0)
		return -EINVAL;
	memcpy(out, idents + idx * FP_IDENT, FP_IDENT);
	return 0;
}

static int hash_slots(const __u32 *table, __u32 m, const __u8 *idents,
		      const struct fp_ref *refs, size_t n, XXH64_state_t *s)
{
	__u8 *chunk = malloc(FP_CHUNK * FP_IDENT);
	struct fp_index x;
	__u32 i, k = 0;
	int err;

	err = chunk ? fp_index_init(&x, refs, n) : -ENOMEM;
	if (err) {
		free(chunk);
		return err;
	}
	for (i = 0; i < m && !err; i++) {
		err = ident_of(table[i], idents, &x, chunk + k * FP_IDENT);
		if (++k == FP_CHUNK || i + 1 == m) {
			XXH64_update(s, chunk, (size_t)k * FP_IDENT);
			k = 0;
		}
	}
	free(x.direct);
	free(chunk);
	return err;
}

int maglev_fingerprint(const __u32 *table, __u32 m,
		       const struct maglev_backend *bes, size_t n, __u64 *fp)
{
	struct fp_ref *refs;
	__u8 *idents;
	XXH64_state_t s;
	size_t i;
	int err = -ENOMEM;

	if (!table || !m || !fp || (n && !bes))
		return -EINVAL;
	refs = calloc(n ? n : 1, sizeof(*refs));
	idents = calloc(n ? n : 1, FP_IDENT);
	if (!refs || !idents)
		goto out;
	for (i = 0; i < n; i++) {
		refs[i].id = bes[i].id;
		refs[i].idx = i;
		slot_ident(&bes[i], idents + i * FP_IDENT);
	}
	qsort(refs, n, sizeof(*refs), ref_cmp);
	/* A fixed seed: every box computes the same. */
	XXH64_reset(&s, MAGLEV_FP_SEED);
	XXH64_update(&s, &m, sizeof(m));
	err = hash_slots(table, m, idents, refs, n, &s);
	if (!err)
		*fp = XXH64_digest(&s);
out:
	free(refs);
	free(idents);
	return err;
}
