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

/* Slot identity: family then the 16 address bytes (IPv4: the first 4 only). */
static void slot_ident(const struct maglev_backend *be, __u8 *buf)
{
	memset(buf, 0, 1 + sizeof(be->addr));
	buf[0] = be->family;
	if (be->family == SLUICE_AF_INET)
		memcpy(buf + 1, &be->addr.addr[0], sizeof(be->addr.addr[0]));
	else
		memcpy(buf + 1, &be->addr, sizeof(be->addr));
}

static int hash_slots(const __u32 *table, __u32 m, const struct maglev_backend *bes,
		      const struct fp_ref *refs, size_t n, XXH64_state_t *s)
{
	__u8 ident[1 + sizeof(bes[0].addr)], empty[sizeof(ident)];
	struct fp_ref key, *hit = NULL;
	__u32 last = SLUICE_NO_BACKEND, i;

	/* Family 0 is no backend's: the marker cannot equal a real identity. */
	memset(empty, 0, sizeof(empty));
	for (i = 0; i < m; i++) {
		if (table[i] == SLUICE_NO_BACKEND) {
			XXH64_update(s, empty, sizeof(empty));
			continue;
		}
		/* Runs of one id are common: look up only when it changes. */
		if (!hit || table[i] != last) {
			key.id = table[i];
			hit = bsearch(&key, refs, n, sizeof(*refs), ref_cmp);
			if (!hit)
				return -EINVAL;
			last = table[i];
			slot_ident(&bes[hit->idx], ident);
		}
		XXH64_update(s, ident, sizeof(ident));
	}
	return 0;
}

int maglev_fingerprint(const __u32 *table, __u32 m,
		       const struct maglev_backend *bes, size_t n, __u64 *fp)
{
	struct fp_ref *refs;
	XXH64_state_t s;
	size_t i;
	int err;

	if (!table || !m || !fp || (n && !bes))
		return -EINVAL;
	refs = calloc(n ? n : 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		refs[i].id = bes[i].id;
		refs[i].idx = i;
	}
	qsort(refs, n, sizeof(*refs), ref_cmp);
	/* A fixed seed: every box computes the same. */
	XXH64_reset(&s, MAGLEV_FP_SEED);
	XXH64_update(&s, &m, sizeof(m));
	err = hash_slots(table, m, bes, refs, n, &s);
	if (!err)
		*fp = XXH64_digest(&s);
	free(refs);
	return err;
}
