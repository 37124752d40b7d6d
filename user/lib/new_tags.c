// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* sl_new_tags rebuilt from sl_new (new_tags.h). */
#include <errno.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "sluice/abi.h"
#include "sluice/hash.h"
#include "new_tags.h"

__u32 sl_new_slot_tag(const struct sluice_new_slot *s, __u32 seed)
{
	struct sluice_new_slot copy = *s; /* the datapath may rewrite it */

	if (!copy.key.family)
		return 0;
	return sluice_new_tag(sluice_flow_hash(&copy.key, seed));
}

static void fix_bucket(const struct sluice_new_slot *slot,
		       struct sluice_new_tags *t, __u32 seed,
		       struct sl_new_tags_fix *fix)
{
	__u32 want;
	int w;

	for (w = 0; w < SLUICE_NEW_WAYS; w++) {
		want = sl_new_slot_tag(&slot[w], seed);
		if (t->tag[w] == want)
			continue;
		t->tag[w] = want;
		if (want)
			fix->set++;
		else
			fix->cleared++;
	}
}

int sl_new_tags_rebuild(int new_fd, int tags_fd, __u32 slots, __u32 seed,
			struct sl_new_tags_fix *fix)
{
	size_t slen = (size_t)slots * sizeof(struct sluice_new_slot);
	size_t tlen = (size_t)slots / SLUICE_NEW_WAYS *
		      sizeof(struct sluice_new_tags);
	struct sl_new_tags_fix none;
	struct sluice_new_slot *slot;
	struct sluice_new_tags *tag;
	int rc = 0;
	__u32 b;

	if (!fix)
		fix = &none;
	fix->set = fix->cleared = 0;
	if (slots < SLUICE_NEW_WAYS)
		return -EINVAL;
	slot = mmap(NULL, slen, PROT_READ, MAP_SHARED, new_fd, 0);
	if (slot == MAP_FAILED)
		return -errno;
	tag = mmap(NULL, tlen, PROT_READ | PROT_WRITE, MAP_SHARED, tags_fd, 0);
	if (tag == MAP_FAILED) {
		rc = -errno;
	} else {
		for (b = 0; b < slots / SLUICE_NEW_WAYS; b++)
			fix_bucket(&slot[b * SLUICE_NEW_WAYS], &tag[b], seed,
				   fix);
		munmap(tag, tlen);
	}
	munmap(slot, slen);
	return rc;
}

int sl_new_tag_write(int tags_fd, __u32 idx, __u32 tag)
{
	__u32 b = idx / SLUICE_NEW_WAYS;
	struct sluice_new_tags t;

	if (bpf_map_lookup_elem(tags_fd, &b, &t))
		return -errno;
	t.tag[idx % SLUICE_NEW_WAYS] = tag;
	return bpf_map_update_elem(tags_fd, &b, &t, BPF_EXIST) ? -errno : 0;
}
