/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The drain walk (bpf/drain_walk.bpf.c): for the draining backends,
 * what a full sweep does, in the kernel and several times faster, so that
 * a drain need not wait for a full sweep of a large flow table
 * (docs/design.md, "Counting live flows and deciding drains"). It fills
 * the fields of an sl_sweep_result that the drain rule reads from a sweep
 * (handshakes and unprotected_be of the draining backends), nothing else.
 */
#ifndef SLUICE_DRAIN_WALK_H
#define SLUICE_DRAIN_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include "maps.h"
#include "sweep.h"

struct sl_drain_walker;

/* Load the walk over @m's sl_flows and sl_pinned. */
int sl_drain_walker_open(const struct sl_maps *m, struct sl_drain_walker **out,
			 char *err, size_t errlen);
void sl_drain_walker_close(struct sl_drain_walker *w);

#define SL_DRAIN_WALK_NICE (-10)

/* 0, or why the last walk ran at its thread's own priority (-errno: EACCES
 * without CAP_SYS_NICE or an RLIMIT_NICE of at least 30). */
int sl_drain_walker_nice_err(const struct sl_drain_walker *w);

/* The nice shard @i's thread ran the last walk at; INT_MIN if unread. */
int sl_drain_walker_shard_nice(const struct sl_drain_walker *w, unsigned int i);

/* The most shard walks that were in the kernel at once during the last
 * walk: up to SLUICE_FLOW_SHARDS, 1 if they ran one after another. */
unsigned int sl_drain_walker_overlap(const struct sl_drain_walker *w);

/*
 * One walk: sl_new's handshakes, then sl_flows in the kernel. Keeps
 * res->pass, resets the rest; res->entries: the sl_flows entries seen,
 * res->drain_table_entries: the flows it copied into sl_pinned,
 * res->duration_us and res->cpu_us: its wall and CPU time. The in-kernel
 * part runs on a thread per shard, each at nice SL_DRAIN_WALK_NICE
 * (drain_walk.c says why); the calling thread's nice is not touched.
 */
int sl_drain_walk(struct sl_drain_walker *w, const struct sl_sweep_cfg *cfg,
		  const bool *draining, struct sl_sweep_result *res);

#endif /* SLUICE_DRAIN_WALK_H */
