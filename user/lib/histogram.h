/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fixed-bucket histograms of durations, for Prometheus: a last-value gauge
 * shows whatever the scrape happened to catch, a histogram every
 * observation (rate of slow checks, quantiles over any window).
 *
 * Counts are kept per bucket (not cumulative) in microseconds; the metrics
 * renderer accumulates them into le="..." buckets. Plain data: it is
 * copied with the state snapshot the metrics thread reads.
 */
#ifndef SLUICE_HISTOGRAM_H
#define SLUICE_HISTOGRAM_H

#include <linux/types.h>

#define SL_HIST_MAX_BUCKETS	16

/* Upper bounds in microseconds, ascending; +Inf is implicit. */
struct sl_hist_bounds {
	const __u64 *le_us;
	int n;
};

struct sl_hist {
	__u64 bucket[SL_HIST_MAX_BUCKETS + 1];	/* last one: above every bound */
	__u64 count;
	__u64 sum_us;
};

/* Health-check latency: 1 ms .. 10 s (a check's timeout is at most that). */
extern const struct sl_hist_bounds sl_hist_check_latency;
/* Sweep time: 1 ms .. 30 s (10M flows take about 5 s here). */
extern const struct sl_hist_bounds sl_hist_sweep;

void sl_hist_observe(struct sl_hist *h, const struct sl_hist_bounds *b, __u64 us);

#endif /* SLUICE_HISTOGRAM_H */
