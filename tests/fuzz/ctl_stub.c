/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The few daemon functions user/sluiced/control.c calls, for fuzz_ctl:
 * commit swaps the state in memory (no maps, no disk),
 * and the clock is fixed so every input replays the same way.
 */
#include <stdarg.h>

#include "daemon.h"

#define STUB_NOW_MS	1700000000000ULL

__u64 sl_unix_ms(void)
{
	return STUB_NOW_MS;
}

void sl_snapshot_publish(struct sl_daemon *d)
{
	(void)d;
}

int sl_daemon_commit(struct sl_daemon *d, struct sl_state *next, char *err,
		     size_t errlen)
{
	(void)err;
	(void)errlen;
	sl_state_free(&d->st);
	d->st = *next;
	sl_state_init(next);
	sl_snapshot_publish(d);
	return 0;
}
