/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The daemon's state as the reading threads see it (the metrics renderer
 * in user/lib/metrics.c, the HTTP server, health checks, agents): a copy
 * the main thread republishes after every change, so readers never touch
 * the live state.
 */
#ifndef SLUICE_SNAPSHOT_H
#define SLUICE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "announce.h"
#include "config.h"
#include "histogram.h"
#include "reload.h"
#include "state.h"
#include "sluice/limits.h"

/*
 * What the metrics thread reads: a copy of the state and the sweeper's
 * totals, republished by the main thread after every change and sweep.
 * Counters come from the per-CPU maps directly (pinned: they survive
 * daemon restarts, so they never go backwards).
 */
struct sl_snapshot {
	struct sl_state st;		/* deep copy */
	__u64 flow_entries, new_entries;	/* kept by the last sweep */
	__u64 flow_capacity, new_capacity;
	__u64 sweep_duration_us;
	struct sl_hist sweep_time;	/* every sweep's duration */
	__u64 sweeps;
	__u64 walks; /* drain walks (drain_walk.h) */
	struct sl_hist walk_time; /* every drain walk's duration */
	bool walker; /* the drain walk loaded */
	__u64 expired_total;
	__u64 started_unix_ms;
	bool all_down[SLUICE_MAX_VIPS];	/* every backend of the VIP is down */
	/* Is the program really running? Checked by the main loop (pins.c). */
	unsigned int n_ifaces;
	char ifname[SL_CFG_MAX_IFACES][16];
	bool attached[SL_CFG_MAX_IFACES];	/* the interface runs our program */
	bool pins_ok;				/* every pin in place */
	__u64 nh_unconfirmed[SLUICE_MAX_BACKENDS];	/* by backend id (neigh.c) */
	int agent_sockets[SLUICE_MAX_BACKENDS];	/* by id; -1: none (agent_poll.c) */
	__u64 repins;				/* pins restored since start */
	__u64 reattaches; /* re-created interfaces attached again */
	__u64 table_fp[SLUICE_MAX_VIPS];	/* live table fingerprints, by VIP id */
	struct sl_reload_status reload;	/* the last reload, for metrics */
	/* What this box announces to the routers (announce.c). */
	bool announce_enabled, box_drained;
	size_t n_announced;
	struct sl_ann_addr announced[SL_ANNOUNCE_MAX];
	/* The fleet's desired state in etcd (cluster: in the config). */
	struct {
		bool enabled, connected;
		bool name_conflict; /* another sluiced holds our box name */
		__s64 applied_rev, rejected_rev;
	} cluster;
};

#endif /* SLUICE_SNAPSHOT_H */
