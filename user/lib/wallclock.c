// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Wall-clock steps, told from slewing (wallclock.h). */
#include "wallclock.h"

__s64 sl_wallclock_step(struct sl_wallclock *c, __u64 unix_ms, __u64 boot_ms)
{
	__s64 offset = (__s64)(unix_ms - boot_ms), step = offset - c->offset_ms;
	bool first = !c->set;

	c->set = true;
	c->offset_ms = offset;
	if (first ||
	    (step > -SL_WALLCLOCK_STEP_MS && step < SL_WALLCLOCK_STEP_MS))
		return 0;
	return step;
}

__u64 sl_wallclock_unix(const struct sl_wallclock *c, __u64 boot_ms)
{
	return (__u64)((__s64)boot_ms + c->offset_ms);
}
