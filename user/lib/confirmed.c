// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sl_be_stats.confirmed of every backend id in a few batch calls: the
 * sweeper and the drain checker read it at the start (and the checker at
 * the end) of every pass, and one lookup per id would cost 4096 syscalls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sweep.h"

#define CONFIRMED_BATCH 512

static int read_batch(int fd, __u32 *keys, struct sluice_be_stats *vals,
		      int ncpu, __u64 *out)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool first = true, done = false;
	__u32 token = 0, count, i;
	int cpu, rc;

	while (!done) {
		count = CONFIRMED_BATCH;
		rc = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys,
					  vals, &count, &opts);
		if (rc < 0 && errno != ENOENT)
			return -errno;
		done = rc < 0;	/* ENOENT: this was the last batch */
		first = false;
		for (i = 0; i < count; i++) {
			if (keys[i] >= SLUICE_MAX_BACKENDS)
				continue;
			for (cpu = 0; cpu < ncpu; cpu++)
				out[keys[i]] += vals[(size_t)i * ncpu + cpu].confirmed;
		}
	}
	return 0;
}

int sl_be_confirmed_all(const struct sl_maps *m, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sluice_be_stats *vals;
	__u32 *keys;
	int rc;

	memset(out, 0, SLUICE_MAX_BACKENDS * sizeof(*out));
	if (ncpu < 0)
		return ncpu;
	keys = calloc(CONFIRMED_BATCH, sizeof(*keys));
	vals = calloc((size_t)CONFIRMED_BATCH * ncpu, sizeof(*vals));
	rc = keys && vals ? read_batch(m->be_stats, keys, vals, ncpu, out) : -ENOMEM;
	free(keys);
	free(vals);
	return rc;
}
