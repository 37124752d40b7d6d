/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sluiced's notifications to systemd (Type=notify); no-ops outside it. */
#ifndef SLUICED_NOTIFY_H
#define SLUICED_NOTIFY_H

#include <linux/types.h>

/* Read WATCHDOG_USEC once, before the main loop. */
void sl_notify_init(void);
/* How often the main loop must come round to ping (ms); 0: no watchdog. */
__u64 sl_notify_watchdog_ms(void);
/* READY=1 with a one-line STATUS: attached, tables live, socket up. */
void sl_notify_ready(const char *status);
/* RELOADING=1; follow with sl_notify_ready() whatever the outcome. */
void sl_notify_reloading(void);
void sl_notify_stopping(void);
/* WATCHDOG=1 if half the watchdog interval passed since the last one. */
void sl_notify_watchdog(void);

#endif /* SLUICED_NOTIFY_H */
