/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The drain checker (docs/design.md, "Counting live flows and deciding drains"): while any backend
 * drains, sluiced walks only the drain table (sl_pinned) every
 * drain.check_interval. It holds exactly the confirmed flows of draining backends (the sweeper
 * copies those it finds, the datapath adds those it confirms), so one pass
 * costs what the draining backends have, whatever the size of sl_flows.
 *
 * Per entry: read the live copy from sl_flows (refreshing the drain table's),
 * expire what ended (RESET; CLOSING past close_grace of client silence;
 * idle past the idle timeout), count a loss where the state went while the
 * flow was open, and count the live ones per backend. The flows of
 * draining backends are this pass's to expire, not the sweeper's, so each
 * loss is counted once.
 */
#ifndef SLUICE_CHECKER_H
#define SLUICE_CHECKER_H

#include <stdbool.h>
#include <linux/types.h>

#include "sluice/abi.h"
#include "drain.h"
#include "maps.h"
#include "sweep.h"

struct sl_check_result {
	struct sl_pass pass;			/* filled in by the caller */
	__u64 flows[SLUICE_MAX_BACKENDS];	/* live flows per draining backend */
	__u64 lost[SLUICE_MAX_BACKENDS];	/* state gone while the flow was open */
	/* sl_be_stats.confirmed before and after the walk */
	__u64 confirmed_start[SLUICE_MAX_BACKENDS];
	__u64 confirmed_end[SLUICE_MAX_BACKENDS];
	__u64 entries; /* drain table entries walked */
	__u64 expired;				/* flows ended this pass */
	__u64 duration_us;
};

/*
 * One pass over the drain table. @draining[id]: backend id drains. Keeps
 * res->pass, resets everything else. 0 or -errno.
 */
int sl_check_drain_table(const struct sl_maps *m,
			 const struct sl_sweep_cfg *cfg, const bool *draining,
			 struct sl_check_result *res);

#endif /* SLUICE_CHECKER_H */
