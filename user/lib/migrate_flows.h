/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Upgrades from an sl_flows of one LRU hash (sluiced before the shards,
 * abi.h) to today's shards, keeping every established flow. The older
 * program keeps running on the old map until the new one is attached, so
 * the flows are copied twice: once after the load (all of them), once
 * after the attach (those the older program added meanwhile).
 */
#ifndef SLUICE_MIGRATE_FLOWS_H
#define SLUICE_MIGRATE_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "maps.h"

/*
 * Before the load: if @path pins an unsharded sl_flows, open it into
 * *@old_fd and unpin it, so that the load creates today's maps; describe
 * it in @note. *@old_fd is -1 when there is nothing to carry. 0, or
 * -errno (then nothing was unpinned).
 */
int sl_migrate_flows_prepare(const char *path, int *old_fd, char *note,
			     size_t notelen);

/* Threads the copy runs at most (one per usable CPU). */
#define SL_MIGRATE_MAX_CPUS 256

/*
 * Copy every flow of @old_fd into its shard in @m, written from every
 * CPU the process may use (the shards' free lists are per CPU).
 * @keep_newer (the copy after the attach): a shard entry equal to the old
 * table's, or with a later last_seen (the new program wrote it), stays;
 * any other is overwritten, so what the older program changed after the
 * first copy (a FIN, a RST, a confirmation) is carried too. Counts the
 * flows written in *@copied. 0, or -errno.
 */
int sl_migrate_flows_copy(int old_fd, const struct sl_maps *m, bool keep_newer,
			  __u64 *copied);

/*
 * The start failed: pin the old map back at @path (replacing whatever
 * the failed start left there) and close it. 0, or -errno.
 */
int sl_migrate_flows_restore(int old_fd, const char *path);

#endif /* SLUICE_MIGRATE_FLOWS_H */
