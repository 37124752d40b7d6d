/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The drain pin walk (bpf/pin_walk.bpf.c): for the draining backends,
 * what a full sweep does, in the kernel and several times faster, so that
 * a drain need not wait for a full sweep of a large flow table
 * (docs/design.md, "Counting live flows and deciding drains"). It fills
 * the fields of an sl_sweep_result that the drain rule reads from a sweep
 * (handshakes and unprotected_be of the draining backends), nothing else.
 */
#ifndef SLUICE_PIN_WALK_H
#define SLUICE_PIN_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include "maps.h"
#include "sweep.h"

struct sl_pin_walker;

/* Load the walk over @m's sl_flows and sl_pinned. */
int sl_pin_walker_open(const struct sl_maps *m, struct sl_pin_walker **out,
		       char *err, size_t errlen);
void sl_pin_walker_close(struct sl_pin_walker *w);

/*
 * One walk: sl_new's handshakes, then sl_flows in the kernel. Keeps
 * res->pass, resets the rest; res->entries: the sl_flows entries seen,
 * res->drain_table_entries: the flows it copied into sl_pinned.
 */
int sl_pin_walk(struct sl_pin_walker *w, const struct sl_sweep_cfg *cfg,
		const bool *draining, struct sl_sweep_result *res);

#endif /* SLUICE_PIN_WALK_H */
