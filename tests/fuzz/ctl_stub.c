/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The few daemon functions user/sluiced/control.c and ctl_*.c call, for fuzz_ctl:
 * commit swaps the state in memory (no maps, no disk), logs go nowhere,
 * and the clock is fixed so every input replays the same way.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl.h"
#include "agent_poll.h"
#include "daemon.h"
#include "cluster.h"

#define STUB_NOW_MS	1700000000000ULL

#define STUB_BOOT_MS	86400000ULL

__u64 sl_unix_ms(void)
{
	return STUB_NOW_MS;
}

__u64 sl_boot_ms(void)
{
	return STUB_BOOT_MS;
}

/* A fixed clock never steps: no drain moves. */
__u64 sl_daemon_now(struct sl_daemon *d)
{
	(void)d;
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

/* No agents here. */
void sl_agent_last(struct sl_daemon *d, __u32 id, struct sl_agent_read *out)
{
	(void)d;
	(void)id;
	memset(out, 0, sizeof(*out));
}

/* No reload worker here: every reload finds one already queued. */
int sl_reload_request_ctl(struct sl_daemon *d, bool exact, __u64 *gen)
{
	(void)d;
	(void)exact;
	*gen = 0;
	return -EBUSY;
}

/* The box drain flips the flag only: no routes, no file. */
int sl_ann_box_drain(struct sl_daemon *d, bool drain, bool by_fleet, char *err,
		     size_t errlen)
{
	(void)by_fleet;
	(void)err;
	(void)errlen;
	d->box_drained = drain;
	return 0;
}

json_object *sl_ann_status(const struct sl_daemon *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "enabled", json_object_new_boolean(0));
	json_object_object_add(o, "box_drained", json_object_new_boolean(d->box_drained));
	json_object_object_add(o, "announced", json_object_new_array());
	return o;
}

/* No interface runs a program here. */
enum sl_xdp_state sl_xdp_state(unsigned int ifindex, __u32 prog_id)
{
	(void)ifindex;
	(void)prog_id;
	return SL_XDP_NONE;
}

/* No cluster: the status says so, as a box without `cluster:` does. */
json_object *sl_cluster_status_json(const struct sl_daemon *d)
{
	json_object *o = json_object_new_object();

	(void)d;
	json_object_object_add(o, "enabled", json_object_new_boolean(0));
	return o;
}
