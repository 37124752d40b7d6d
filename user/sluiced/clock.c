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
#define CLOCK_READ_SLACK_MS 50

static void say_step(__s64 step, size_t n, const char *when)
{
	if (!n)
		sl_warn("the wall clock stepped by %+.1f s%s (no drain is running)",
			step / 1000.0, when);
	else
		sl_warn("the wall clock stepped by %+.1f s%s: %zu running drain%s "
			"keep%s the time %s had left (start and deadline moved "
			"with the clock)",
			step / 1000.0, when, n, n == 1 ? "" : "s",
			n == 1 ? "s" : "", n == 1 ? "it" : "they");
}

/* Unix ms now; a step since the last look moves the running drains. */
static __u64 look(struct sl_daemon *d, const char *when)
{
	__u64 boot = sl_boot_ms(), now = sl_unix_ms(), after = sl_boot_ms();
	__s64 step;
	size_t n;

	if (after - boot > CLOCK_READ_SLACK_MS)
		return now;
	step = sl_wallclock_step(&d->wallclock, now, boot);
	if (step) {
		n = sl_state_shift_drains(&d->st, step);
		say_step(step, n, when);
		/* saved even with no drain: the file's mark stays this clock's */
		d->wallclock_moved = true;
	}
	sl_wallclock_mark(&d->wallclock, d->boot_id, &d->st.clock);
	return now;
}

__u64 sl_daemon_now(struct sl_daemon *d)
{
	return look(d, "");
}

void sl_clock_resume(struct sl_daemon *d)
{
	sl_boot_id(d->boot_id);
	if (!d->boot_id[0])
		sl_warn("cannot read %s: a wall-clock step while sluiced is "
			"stopped will go unseen by the drains it resumes",
			"/proc/sys/kernel/random/boot_id");
	sl_wallclock_resume(&d->wallclock, &d->st.clock, d->boot_id);
	look(d, " while sluiced was stopped");
}
