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

#define SL_WALLCLOCK_STEP_MS 1000

struct sl_wallclock {
	__s64 offset_ms; /* Unix ms minus boot ms, at the last look */
	bool set;
};

/*
 * Look at both clocks: the step since the last look in ms (positive: the
 * wall clock jumped ahead), 0 for none or for the first look.
 */
__s64 sl_wallclock_step(struct sl_wallclock *c, __u64 unix_ms, __u64 boot_ms);

/* The Unix ms (in today's wall clock) of boot-clock time @boot_ms. */
__u64 sl_wallclock_unix(const struct sl_wallclock *c, __u64 boot_ms);

/*
 * The clock a saved state's drain times are in: the offset at the save
 * and the boot it was taken in. A restart in the same boot starts from it,
 * so its first look sees a step made while sluiced was stopped. After a
 * reboot the boot clock has started over and nothing can be told.
 */
#define SL_BOOT_ID_LEN 36 /* a UUID, as /proc/sys/kernel/random/boot_id */

struct sl_clock_mark {
	__s64 offset_ms; /* Unix ms minus boot ms */
	char boot_id[SL_BOOT_ID_LEN + 1]; /* "": no mark */
};

/* This boot's id into @buf (SL_BOOT_ID_LEN + 1 bytes); "" if unreadable. */
void sl_boot_id(char *buf);
/* Whether @s is a boot id as the kernel writes it (lower-case UUID). */
bool sl_boot_id_valid(const char *s);
/* @c's offset, taken in boot @boot_id ("" if unknown, or @c not set yet). */
void sl_wallclock_mark(const struct sl_wallclock *c, const char *boot_id,
		       struct sl_clock_mark *mark);
/* Start @c from @mark if it was taken in boot @boot_id; whether it was. */
bool sl_wallclock_resume(struct sl_wallclock *c,
			 const struct sl_clock_mark *mark, const char *boot_id);

#endif
