/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What sluiced remembers of its last config reload (SIGHUP or `sluicectl
 * reload`, one code path) for metrics and status.
 */
#ifndef SLUICE_RELOAD_H
#define SLUICE_RELOAD_H

#include <stdbool.h>
#include <linux/types.h>

struct sl_reload_status {
	__u64 unix_ms;		/* when the last reload finished; 0 = none yet */
	bool success;		/* it was applied (else rejected whole) */
	__u64 applied_total;	/* reloads applied since sluiced started */
	__u64 rejected_total;	/* reloads rejected since sluiced started */
	__u64 restart_pending;	/* settings of the last applied file that wait for a restart */
};

#endif /* SLUICE_RELOAD_H */
