/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Drain-aware fallback (docs/design.md, "The pre-drain table"): a TCP packet
 * with no state that is not a SYN may belong to a connection of a
 * draining backend whose state this box lost (eviction, a restart, an
 * ECMP move). While drains are in progress on its VIP it goes to the
 * backend that the table from before the drains names, in GUE naming the
 * live table's backend as the second hop, which the first backend uses
 * when it has no socket for the packet (sluice-decap).
 */
#ifndef SLUICE_BPF_FALLBACK_H
#define SLUICE_BPF_FALLBACK_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include "sluice/abi.h"
#include "maps.h"
#include "parse.h"
#include "stats.h"
#include "maglev.h"
#include "choose.h"

/* May the pre-drain table's backend @fb take a packet? Not once released,
 * removed or reported drained: a drain reported complete is never contradicted. */
static __always_inline int sl_fallback_usable(const struct sluice_backend *fb)
{
	return fb && (fb->flags & SLUICE_BE_F_IN_USE) &&
	       !(fb->flags & (SLUICE_BE_F_RELEASE | SLUICE_BE_F_DRAINED));
}

/*
 * The fallback pick for a mid-stream TCP packet with no state, or, with
 * flows.udp_fallback, any UDP packet with no state. Returns 1 with @d and
 * @hop filled (hop->family 0: no second hop: UDP, or the live pick is not
 * usable), or 0: balance as a new flow (both tables agree, or the
 * pre-drain backend may take no more). It takes no state: the next packet
 * decides again, the same way, until the drains end. By default UDP never
 * comes here: a UDP packet without state cannot be told from a new flow,
 * which must not reach a draining backend.
 */
static __always_inline int sl_fallback_pick(const struct sl_pkt *pkt,
					    struct sl_decision *d,
					    const struct sluice_vip *vip,
					    __u32 hash,
					    struct sluice_gue_hop *hop)
{
	__u32 idx = SLUICE_RING_INDEX(vip->vip_id, vip->gen & 1);
	struct sluice_backend *fb, *live;
	struct sluice_vip_stats *vs;
	__u32 fb_id, live_id;

	fb_id = sl_ring_pick(&sl_fb_rings, idx, hash);
	live_id = sl_ring_pick(&sl_rings, idx, hash);
	if (fb_id == live_id)
		return 0;
	fb = sl_backend(fb_id);
	if (!sl_fallback_usable(fb))
		return 0;
	live = sl_backend(live_id);
	if (pkt->l4proto == IPPROTO_TCP && live &&
	    (live->flags & SLUICE_BE_F_IN_USE)) {
		hop->magic = SLUICE_GUE_MAGIC;
		hop->family = live->family;
		hop->addr = live->addr;
	}
	vs = sl_vip_stat(vip->vip_id);
	if (vs) {
		vs->fallback++;
		vs->non_syn_miss += pkt->l4proto == IPPROTO_TCP;
	}
	d->be = fb;
	d->be_id = fb_id;
	d->vip_id = vip->vip_id;
	return 1;
}

#endif /* SLUICE_BPF_FALLBACK_H */
