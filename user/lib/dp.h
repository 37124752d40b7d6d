/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The map sync: mirror a desired state (state.h) into the datapath maps.
 * Everything it needs is in struct sl_dp, so a test can run it against
 * maps it created itself; sluiced keeps one in its daemon struct.
 */
#ifndef SLUICE_USER_DP_H
#define SLUICE_USER_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "config.h"
#include "maps.h"
#include "nexthop.h"
#include "state.h"

/* The next hop cached per backend id, written into sl_backends. */
struct sl_nh_cache {
	bool valid;
	bool waited;		/* resolution was awaited once, when it joined */
	struct sl_nh nh;	/* nh.confirmed: the kernel vouched for it last time */
	__u64 last_packets;	/* the backend's packet count at the last refresh */
	__u64 unconfirmed_pkts;	/* packets sent while the next hop was unconfirmed */
};

struct sl_dp {
	const struct sl_maps *maps;	/* vips, vip_addrs, backends, rings, config */
	const struct sl_config *cfg;	/* maglev_seed, source_v4, source_v6 */
	struct sl_nh_ctx *nh_ctx;	/* NULL: next hops left to the FIB */
	struct sl_nh_cache nh[SLUICE_MAX_BACKENDS];
	__u64 table_sig[SLUICE_MAX_VIPS];	/* last published table, per VIP id */
	__u64 table_fp[SLUICE_MAX_VIPS];	/* its maglev_fingerprint(); 0 = unknown */
	/* Called when a VIP's table_fp changes (NULL: nobody to tell). */
	void (*fp_changed)(void *arg, __u32 vip_id, __u64 fp);
	void *arg;
};

/*
 * Make the maps say what @st says. Idempotent, and ordered so the datapath
 * never sees an inconsistent mix. 0, or -errno with @err; -ENOSPC, with
 * nothing written, for a state whose VIP has more backends than a Maglev
 * table has slots (sl_state_check_table_size()).
 */
int sl_dp_sync(struct sl_dp *dp, const struct sl_state *st, char *err,
	       size_t errlen);
/* Re-resolve @st's next hops into dp->nh: true when one changed (the
 * caller then syncs). */
bool sl_dp_resolve_nexthops(struct sl_dp *dp, const struct sl_state *st);

#endif /* SLUICE_USER_DP_H */
