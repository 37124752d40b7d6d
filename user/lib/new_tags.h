/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sl_new_tags from userspace (abi.h): the datapath keeps each tag with
 * its slot; sluiced rewrites them all from the slots when it starts, so
 * that slots an older sluiced wrote without tags (or a tag a race left
 * stale) are found again.
 */
#ifndef SLUICE_NEW_TAGS_H
#define SLUICE_NEW_TAGS_H

#include <linux/types.h>

struct sluice_new_slot;

/* What a rebuild changed. */
struct sl_new_tags_fix {
	__u64 set; /* slots holding a flow whose tag was not its own */
	__u64 cleared; /* empty slots with a tag */
};

/*
 * Rewrite every tag of @tags_fd (sl_new_tags) that differs from what its
 * slot in @new_fd (sl_new, @slots slots) holds, flows hashed with @seed.
 * Both maps are read and written through mappings, as plain stores, like
 * the datapath's. 0 or -errno; @fix may be NULL.
 */
int sl_new_tags_rebuild(int new_fd, int tags_fd, __u32 slots, __u32 seed,
			struct sl_new_tags_fix *fix);

/*
 * The tag slot @s should carry, flows hashed with @seed: its flow's
 * sluice_new_tag(), 0 when the slot is empty. The rebuild's rule, and the
 * BPF tests' oracle for the tags the datapath computes itself.
 */
__u32 sl_new_slot_tag(const struct sluice_new_slot *s, __u32 seed);

/* Set the tag of slot @idx to @tag (0: empty). 0 or -errno. */
int sl_new_tag_write(int tags_fd, __u32 idx, __u32 tag);

#endif /* SLUICE_NEW_TAGS_H */
