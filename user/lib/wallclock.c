// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Wall-clock steps, told from slewing (wallclock.h). */
#include <stdio.h>
#include <string.h>

#include "wallclock.h"

#define BOOT_ID_FILE "/proc/sys/kernel/random/boot_id"

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

void sl_boot_id(char *buf)
{
	FILE *f = fopen(BOOT_ID_FILE, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, SL_BOOT_ID_LEN + 1, f) || !sl_boot_id_valid(buf))
		buf[0] = '\0';
	fclose(f);
}

bool sl_boot_id_valid(const char *s)
{
	size_t i;

	if (strlen(s) != SL_BOOT_ID_LEN)
		return false;
	for (i = 0; i < SL_BOOT_ID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		bool hex = (s[i] >= '0' && s[i] <= '9') ||
			   (s[i] >= 'a' && s[i] <= 'f');

		if (dash ? s[i] != '-' : !hex)
			return false;
	}
	return true;
}

void sl_wallclock_mark(const struct sl_wallclock *c, const char *boot_id,
		       struct sl_clock_mark *mark)
{
	memset(mark, 0, sizeof(*mark));
	if (!c->set || !sl_boot_id_valid(boot_id))
		return;
	mark->offset_ms = c->offset_ms;
	memcpy(mark->boot_id, boot_id, SL_BOOT_ID_LEN);
}

bool sl_wallclock_resume(struct sl_wallclock *c,
			 const struct sl_clock_mark *mark, const char *boot_id)
{
	if (!mark->boot_id[0] || !sl_boot_id_valid(boot_id) ||
	    strcmp(mark->boot_id, boot_id))
		return false;
	c->offset_ms = mark->offset_ms;
	c->set = true;
	return true;
}
