/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Weighted Maglev consistent hashing: builds the backend lookup table. */
#ifndef SLUICE_MAGLEV_H
#define SLUICE_MAGLEV_H

#include <stddef.h>
#include <linux/types.h>

#include "sluice/abi.h"

struct maglev_backend {
	__u32 id;			/* backend id written into table slots */
	struct sluice_addr addr;	/* identity for hashing (with family) */
	__u8 family;			/* SLUICE_AF_INET or SLUICE_AF_INET6 */
	__u32 weight;			/* relative weight; 0 = takes no slots */
};

/* Nonzero if m is prime. 0 and 1 are not. */
int maglev_is_prime(__u32 m);

/*
 * Fill table[0..m-1] with backend ids. The table depends only on the set
 * of (family, addr, weight) triples and seed, never on input order or on
 * the ids, so every box given the same backends builds the same table.
 *
 * Returns 0, or -EINVAL (m not prime or m < 2; duplicate (family, addr);
 * n > 0 with bes == NULL; table == NULL; a family other than
 * SLUICE_AF_INET/SLUICE_AF_INET6; a weighted backend whose id is
 * SLUICE_NO_BACKEND), or -ENOMEM. On error table is left untouched.
 * With n == 0 or all weights 0 every slot is SLUICE_NO_BACKEND.
 *
 * IPv4 addresses are identified by addr.addr[0] alone: addr[1..3] are
 * ignored (treated as zero, as the ABI requires).
 */
int maglev_build(const struct maglev_backend *bes, size_t n, __u32 m,
		 __u64 seed, __u32 *table);

/*
 * A 64-bit fingerprint of a built table, so two boxes behind one ECMP group
 * can be checked for identical tables: XXH64 (seed MAGLEV_FP_SEED) over m
 * (4 bytes, host order) and then every slot in order, each as the identity (family, 16 address bytes) of the backend it
 * names, or a fixed marker for SLUICE_NO_BACKEND. Backend ids are local to
 * a box (they depend on the order of past changes), so they are resolved
 * to addresses through @bes and never hashed themselves. Returns 0 and
 * *fp, or -EINVAL (NULL table, m == 0, a slot whose id is not in @bes),
 * -ENOMEM.
 */
#define MAGLEV_FP_SEED	0x736c756963650001ULL	/* "sluice", version 1 */
int maglev_fingerprint(const __u32 *table, __u32 m,
		       const struct maglev_backend *bes, size_t n, __u64 *fp);

#endif /* SLUICE_MAGLEV_H */
