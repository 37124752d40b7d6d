// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* sluiced's clocks, and drains that follow a wall-clock step (wallclock.h). */
#include <time.h>

#include "daemon.h"

static __u64 clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

__u64 sl_unix_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

__u64 sl_boot_ms(void)
{
	return clock_ms(CLOCK_BOOTTIME);
}

/* Reads this far apart (preempted between them) say nothing of a step. */
#define CLOCK_READ_SLACK_MS	50

__u64 sl_daemon_now(struct sl_daemon *d)
{
	__u64 boot = sl_boot_ms(), now = sl_unix_ms(), after = sl_boot_ms();
	__s64 step;
	size_t n;

	if (after - boot > CLOCK_READ_SLACK_MS)
		return now;
	step = sl_wallclock_step(&d->wallclock, now, boot);
	if (!step)
		return now;
	n = sl_state_shift_drains(&d->st, step);
	if (!n)
		sl_warn("the wall clock stepped by %+.1f s (no drain is running)",
			step / 1000.0);
	else
		sl_warn("the wall clock stepped by %+.1f s: %zu running drain%s "
			"keep%s the time %s had left (start and deadline moved "
			"with the clock)",
			step / 1000.0, n, n == 1 ? "" : "s", n == 1 ? "s" : "",
			n == 1 ? "it" : "they");
	d->wallclock_moved |= n > 0;
	return now;
}
