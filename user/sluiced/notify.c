// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * systemd's service notifications (Type=notify): READY=1 once the program
 * is attached and its tables are live, RELOADING=1 and READY=1 around a
 * reload, STOPPING=1 on the way out, and WATCHDOG=1 from the main loop, so
 * a main thread that hangs (not just one that dies) gets restarted.
 *
 * Outside systemd (no NOTIFY_SOCKET) every call is a cheap no-op.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "notify.h"

static __u64 wd_interval_us;	/* 0: no watchdog asked for */
static __u64 wd_last_us;

static __u64 mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void sl_notify_init(void)
{
	uint64_t usec = 0;

	/* Ping at half the deadline, as sd_watchdog_enabled(3) advises. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec)
		wd_interval_us = usec / 2;
}

__u64 sl_notify_watchdog_ms(void)
{
	return wd_interval_us / 1000;
}

void sl_notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%lu", status,
		   (unsigned long)getpid());
}

void sl_notify_reloading(void)
{
	/* MONOTONIC_USEC: systemd >= 253 wants it with RELOADING=1. */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)mono_us());
}

void sl_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping; the datapath keeps forwarding");
}

void sl_notify_watchdog(void)
{
	__u64 now;

	if (!wd_interval_us)
		return;
	now = mono_us();
	if (now - wd_last_us < wd_interval_us)
		return;
	wd_last_us = now;
	sd_notify(0, "WATCHDOG=1");
}
