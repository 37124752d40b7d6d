/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow sweeper (DESIGN.md section 5): walks sl_flows with batch
 * lookups and sl_new through a read-only mapping, deletes established
 * flows past their timeout, and counts the live ones per backend id. That count is exact for the moment of the walk, and it is
 * what a drain waits on.
 */
#ifndef SLUICE_SWEEP_H
#define SLUICE_SWEEP_H

#include <stdbool.h>
#include <linux/types.h>
#include "sluice/abi.h"
#include "maps.h"

struct sl_sweep_cfg {
	__u32 tcp_idle_ms;	/* established TCP without packets */
	__u32 udp_idle_ms;	/* UDP without packets */
	__u32 close_grace_ms;	/* after FIN/RST, before the flow is gone */
	__u32 syn_idle_ms;	/* a TCP flow that never got past its SYN */
};

struct sl_sweep_result {
	__u64 flows[SLUICE_MAX_BACKENDS];	/* live flows per backend id */
	/* Draining backends only, this sweep: */
	__u64 evicted[SLUICE_MAX_BACKENDS];	/* pushed out of sl_flows, kept in sl_pinned */
	__u64 lost[SLUICE_MAX_BACKENDS];	/* state gone before the flow closed */
	__u64 entries;				/* sl_flows entries kept */
	__u64 new_entries;			/* sl_new slots in use (not timed out) */
	__u64 pinned_entries;			/* sl_pinned entries kept */
	__u64 unprotected;			/* draining flows sl_pinned had no room for */
	__u64 expired;				/* entries deleted this sweep */
	__u64 duration_us;
};

/*
 * Flows lost while draining, per backend (README "Losing nothing"):
 *  - an open TCP flow expired by idle timeout (the client may still use it);
 *  - a flow moved to another backend (its backend was removed or released);
 *  - a flow that vanished from every table (evicted before it was pinned,
 *    or sl_pinned full).
 * A flow evicted from sl_flows but pinned is not lost: its next packet
 * restores it (the datapath counts it as rescued).
 */

/* Is this flow over its timeout at @now? (pure; unit-tested) */
bool sl_flow_expired(const struct sluice_flow_key *key,
		     const struct sluice_flow *f, bool in_new, __u32 now,
		     const struct sl_sweep_cfg *cfg);

/* @draining[id]: backend id is draining (its flows get pinned). */
int sl_sweep(const struct sl_maps *m, const struct sl_sweep_cfg *cfg,
	     const bool *draining,
	     struct sl_sweep_result *res);

#endif /* SLUICE_SWEEP_H */
