// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Fixed-bucket duration histograms (see histogram.h). */
#include "histogram.h"

static const __u64 check_latency_us[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};

static const __u64 sweep_us[] = {
	1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
	2500000, 5000000, 10000000, 30000000,
};

#include "array.h"

_Static_assert(ARRAY_SIZE(check_latency_us) <= SL_HIST_MAX_BUCKETS, "too many buckets");
_Static_assert(ARRAY_SIZE(sweep_us) <= SL_HIST_MAX_BUCKETS, "too many buckets");

const struct sl_hist_bounds sl_hist_check_latency = {
	check_latency_us, ARRAY_SIZE(check_latency_us)
};
const struct sl_hist_bounds sl_hist_sweep = { sweep_us, ARRAY_SIZE(sweep_us) };

void sl_hist_observe(struct sl_hist *h, const struct sl_hist_bounds *b, __u64 us)
{
	int i;

	for (i = 0; i < b->n && us > b->le_us[i]; i++)
		;
	h->bucket[i]++;	/* i == b->n: above every bound (+Inf only) */
	h->count++;
	h->sum_us += us;
}
