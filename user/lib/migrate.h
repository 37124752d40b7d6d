/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Upgrades over pinned maps of an older layout. A program upgrade reuses
 * the pinned maps, and libbpf refuses a pin whose value size or entry
 * count differs from the new program's: without this, an upgrade that
 * grows a struct would need --detach, which drops every flow. Only maps
 * whose content sluiced can carry over or rebuild are handled here; the
 * flow tables never change layout silently (check_pinned_sizes).
 */
#ifndef SLUICE_MIGRATE_H
#define SLUICE_MIGRATE_H

#include <stddef.h>
#include <linux/types.h>

struct sluice_backend;

/* What sl_migrate_prepare() saved for sl_migrate_finish(). */
struct sl_migration {
	struct sluice_backend *backends;	/* by id, or NULL: nothing saved */
	__u32 n_backends;
};

/*
 * Before the program is loaded: an sl_backends pin with a shorter value
 * (an older sluice_backend, a prefix of today's) is read whole and
 * unpinned, so the load creates a new one; an sl_reasons pin with another
 * number of reasons is unpinned (its counters restart). @backends_path and
 * @reasons_path are the pins. What was done is described in @note (empty:
 * nothing to do), for the log. 0, or -errno when a pin cannot be read or
 * removed (then nothing was removed).
 *
 * If the load then fails, the saved entries are lost with the process:
 * the running program keeps its own map, and the next start re-creates
 * the backends from the state with fresh epochs.
 */
int sl_migrate_prepare(const char *backends_path, const char *reasons_path,
		       struct sl_migration *m, char *note, size_t notelen);

/*
 * After the load, before the first sync: write the saved entries into
 * the new sl_backends (@fd; < 0: the load failed, just free), new fields
 * zero, so backend epochs, which flows compare with the one they were assigned under, survive the
 * upgrade. Frees what was saved. 0 or -errno.
 */
int sl_migrate_finish(struct sl_migration *m, int fd);

#endif /* SLUICE_MIGRATE_H */
