// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An unsharded sl_flows carried into the shards (migrate_flows.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "log.h"
#include "migrate_flows.h"
#include "pindir.h"
#include "sweep.h"

int sl_migrate_flows_prepare(const char *path, int *old_fd, char *note,
			     size_t notelen)
{
	struct bpf_map_info info;
	int fd, rc;

	*old_fd = -1;
	if (notelen)
		note[0] = '\0';
	rc = sl_pinned_map_info(path, &info, &fd);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	if (info.type != BPF_MAP_TYPE_LRU_HASH ||
	    info.key_size != sizeof(struct sluice_flow_key) ||
	    info.value_size != sizeof(struct sluice_flow)) {
		close(fd); /* today's layout, or not ours to convert */
		return 0;
	}
	if (unlink(path)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	*old_fd = fd;
	snprintf(note, notelen,
		 "%s is one flow table from an older sluiced: "
		 "its flows are carried into %u shards",
		 path, SLUICE_FLOW_SHARDS);
	return 0;
}

/*
 * The shards keep a free list per CPU (BPF_F_NO_COMMON_LRU): a write
 * takes from the writing CPU's list and, when that is full, evicts from
 * it. So each batch is written by one thread per CPU this process may
 * run on, each pinned there and taking every n-th flow: one thread alone
 * could fill only its CPU's share of each shard and would evict the rest.
 */
struct copier {
	pthread_t tid;
	const struct sl_maps *m;
	const struct sl_flow_batch *b;
	__u32 n, first, step;
	int cpu;
	bool keep_newer;
	__u64 copied;
	int rc;
};

/*
 * With @keep_newer: the shard already holds this flow as the old table
 * has it, or the datapath refreshed it later. Either way it stays.
 */
static bool shard_current(int fd, const struct sluice_flow_key *k,
			  const struct sluice_flow *old)
{
	struct sluice_flow cur;

	if (bpf_map_lookup_elem(fd, k, &cur))
		return false;
	return !memcmp(&cur, old, sizeof(cur)) ||
	       (__s32)(cur.last_seen - old->last_seen) > 0;
}

/*
 * Pin the calling copier to @cpu. Said once per process when it cannot
 * (a system-call filter without sched_setaffinity): the copy goes on
 * from wherever the thread runs, and may evict flows it copied earlier.
 */
static void copier_pin(int cpu)
{
	static atomic_bool warned;
	cpu_set_t set;
	int rc;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (rc && !atomic_exchange(&warned, true))
		sl_warn("upgrade: cannot pin a flow copy thread to CPU %d: %s: "
			"the shards' LRU lists are per CPU, so the copy may evict "
			"flows (allow sched_setaffinity)",
			cpu, strerror(rc));
}

static void *copier_run(void *arg)
{
	struct copier *c = arg;
	__u32 i;
	int fd;

	if (c->cpu >= 0)
		copier_pin(c->cpu);
	for (i = c->first; i < c->n; i += c->step) {
		fd = sl_flows_fd(c->m, &c->b->keys[i]);
		if (c->keep_newer &&
		    shard_current(fd, &c->b->keys[i], &c->b->vals[i]))
			continue;
		if (!bpf_map_update_elem(fd, &c->b->keys[i], &c->b->vals[i],
					 BPF_ANY))
			c->copied++;
		else if (!c->rc)
			c->rc = -errno;
	}
	return NULL;
}

/* The CPUs this process may run on, at most @max: how many. */
static int usable_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int cpu, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus[n++] = cpu;
	return n;
}

/* Write batch @b (@n flows) from every CPU in @cpus. */
static int copy_batch(const struct sl_maps *m, const struct sl_flow_batch *b,
		      __u32 n, const int *cpus, int ncpu, bool keep_newer,
		      __u64 *copied)
{
	struct copier c[SL_MIGRATE_MAX_CPUS];
	int i, started = 0, rc = 0;

	for (i = 0; i < ncpu; i++) {
		c[i] = (struct copier){ .m = m,
					.b = b,
					.n = n,
					.first = i,
					.step = ncpu,
					.cpu = cpus[i],
					.keep_newer = keep_newer };
		if (pthread_create(&c[i].tid, NULL, copier_run, &c[i]))
			break;
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(c[i].tid, NULL);
		*copied += c[i].copied;
		if (!rc)
			rc = c[i].rc;
	}
	/* The share of a thread that could not start: here, unpinned. */
	for (i = started; i < ncpu; i++) {
		c[i] = (struct copier){ .m = m,
					.b = b,
					.n = n,
					.first = i,
					.step = ncpu,
					.cpu = -1,
					.keep_newer = keep_newer };
		copier_run(&c[i]);
		*copied += c[i].copied;
		if (!rc)
			rc = c[i].rc;
	}
	return rc;
}

/* What copy_each() needs besides the batch. */
struct copy {
	const struct sl_maps *m;
	int cpus[SL_MIGRATE_MAX_CPUS], ncpu;
	bool keep_newer;
	__u64 *copied;
};

static int copy_each(void *arg, struct sl_flow_batch *b, __u32 n)
{
	struct copy *c = arg;

	return copy_batch(c->m, b, n, c->cpus, c->ncpu, c->keep_newer,
			  c->copied);
}

int sl_migrate_flows_copy(int old_fd, const struct sl_maps *m, bool keep_newer,
			  __u64 *copied)
{
	struct sl_flow_batch *b = malloc(sizeof(*b));
	struct copy c = { .m = m, .keep_newer = keep_newer, .copied = copied };
	int rc;

	*copied = 0;
	c.ncpu = usable_cpus(c.cpus, SL_MIGRATE_MAX_CPUS);
	if (!b || !c.ncpu) {
		free(b);
		return b ? -EINVAL : -ENOMEM;
	}
	rc = sl_flow_walk_batches(old_fd, b, SL_FLOW_BATCH, copy_each, &c);
	free(b);
	return rc;
}

int sl_migrate_flows_restore(int old_fd, const char *path)
{
	int rc = 0;

	if (old_fd < 0)
		return 0;
	/* Whatever a failed start pinned there is not the flows' home. */
	unlink(path);
	if (bpf_obj_pin(old_fd, path))
		rc = -errno;
	close(old_fd);
	return rc;
}
