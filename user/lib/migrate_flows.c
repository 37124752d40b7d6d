// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An unsharded sl_flows carried into the shards (migrate_flows.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "migrate_flows.h"
#include "sweep.h"

int sl_migrate_flows_prepare(const char *path, int *old_fd, char *note,
			     size_t notelen)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd;

	*old_fd = -1;
	if (notelen)
		note[0] = '\0';
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	if (info.type != BPF_MAP_TYPE_LRU_HASH ||
	    info.key_size != sizeof(struct sluice_flow_key) ||
	    info.value_size != sizeof(struct sluice_flow)) {
		close(fd);	/* today's layout, or not ours to convert */
		return 0;
	}
	if (unlink(path)) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	*old_fd = fd;
	snprintf(note, notelen, "%s is one flow table from an older sluiced: "
		 "its flows are carried into %u shards", path, SLUICE_FLOW_SHARDS);
	return 0;
}

struct copy {
	const struct sl_maps *m;
	__u64 flags, copied;
	int rc;
};

static void copy_one(void *arg, const struct sluice_flow_key *k,
		     struct sluice_flow *f)
{
	struct copy *c = arg;

	if (!bpf_map_update_elem(sl_flows_fd(c->m, k), k, f, c->flags))
		c->copied++;
	else if (errno != EEXIST && !c->rc)
		c->rc = -errno;
}

int sl_migrate_flows_copy(int old_fd, const struct sl_maps *m, bool keep_newer,
			  __u64 *copied)
{
	struct sl_flow_batch *b = malloc(sizeof(*b));
	struct copy c = {
		.m = m, .flags = keep_newer ? BPF_NOEXIST : BPF_ANY,
	};
	int rc;

	if (!b)
		return -ENOMEM;
	rc = sl_flow_walk(old_fd, b, SL_FLOW_BATCH, copy_one, &c);
	free(b);
	*copied = c.copied;
	return rc ? rc : c.rc;
}

void sl_migrate_flows_restore(int old_fd, const char *path)
{
	if (old_fd < 0)
		return;
	bpf_obj_pin(old_fd, path);
	close(old_fd);
}
