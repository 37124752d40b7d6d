// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Placeholder until the Prometheus endpoint lands: metrics are off. */
#include "daemon.h"

int sl_metrics_start(struct sl_daemon *d, char *err, size_t errlen)
{
	(void)d;
	(void)err;
	(void)errlen;
	return 0;
}

void sl_metrics_stop(struct sl_daemon *d)
{
	(void)d;
}
