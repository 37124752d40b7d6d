/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Drains are timed in Unix ms: that is how status, metrics and the state
 * file show them. Their length is real time, though: a wall-clock step
 * (NTP stepping a clock that was far off, an operator's `date -s`) must
 * neither end a drain early nor stretch it. sluiced follows the offset
 * between the wall clock and CLOCK_BOOTTIME, which no one can set; when
 * it changes by SL_WALLCLOCK_STEP_MS or more between two looks, the wall
 * clock stepped, and every running drain's times move with it
 * (sl_state_shift_drains). Slewing, a fraction of a ms per second, is
 * absorbed silently.
 */
#ifndef SLUICE_WALLCLOCK_H
#define SLUICE_WALLCLOCK_H

#include <stdbool.h>
#include <linux/types.h>

#define SL_WALLCLOCK_STEP_MS	1000

struct sl_wallclock {
	__s64 offset_ms;	/* Unix ms minus boot ms, at the last look */
	bool set;
};

/*
 * Look at both clocks: the step since the last look in ms (positive: the
 * wall clock jumped ahead), 0 for none or for the first look.
 */
__s64 sl_wallclock_step(struct sl_wallclock *c, __u64 unix_ms, __u64 boot_ms);

/* The Unix ms (in today's wall clock) of boot-clock time @boot_ms. */
__u64 sl_wallclock_unix(const struct sl_wallclock *c, __u64 boot_ms);

#endif
