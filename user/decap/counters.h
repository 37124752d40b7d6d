/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The decap program's counters on an interface (counters.c). */
#ifndef SLUICE_DECAP_COUNTERS_H
#define SLUICE_DECAP_COUNTERS_H

#include <linux/types.h>
#include "sluice/abi.h"

#define SL_DECAP_PROG_NAME "sluice_decap"

/* Metric label / `stats` name of each SLUICE_DR_* reason. */
extern const char *const sl_dr_names[SLUICE_DR_MAX];

/*
 * Sum sl_decap_stats over CPUs for the decap program attached to @ifname
 * into @out. 0, or a negative errno (no program there: -ENOENT; not
 * allowed to read it: -EPERM).
 */
int sl_decap_counters(const char *ifname, __u64 out[SLUICE_DR_MAX]);

#endif /* SLUICE_DECAP_COUNTERS_H */
