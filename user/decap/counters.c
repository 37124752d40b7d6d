// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The decap program's counters, for `sluice-decap stats` and the agent. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "xdp.h"

#define SL_MAX_CPUS 512

const char *const sl_dr_names[SLUICE_DR_MAX] = {
	[SLUICE_DR_DECAP] = "decapsulated",
	[SLUICE_DR_NOT_TUNNEL] = "not_tunnel",
	[SLUICE_DR_NOT_LOCAL] = "not_local",
	[SLUICE_DR_MALFORMED] = "malformed",
	[SLUICE_DR_ERROR] = "error",
	[SLUICE_DR_GUE] = "gue_delivered",
	[SLUICE_DR_PASS_ON] = "passed_on",
	[SLUICE_DR_PASS_FAIL] = "pass_on_failed",
};

int sl_decap_counters(const char *ifname, __u64 out[SLUICE_DR_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 vals[SL_MAX_CPUS];
	int prog_fd, map_fd, cpu;
	__u32 r;

	if (ncpu <= 0 || ncpu > SL_MAX_CPUS)
		return -E2BIG;
	prog_fd = sl_xdp_find(ifname, SL_DECAP_PROG_NAME);
	if (prog_fd < 0)
		return prog_fd;
	map_fd = sl_prog_map_fd(prog_fd, SLUICE_MAP_DECAP_STATS);
	close(prog_fd);
	if (map_fd < 0)
		return map_fd;
	memset(out, 0, sizeof(__u64) * SLUICE_DR_MAX);
	for (r = 0; r < SLUICE_DR_MAX; r++) {
		if (bpf_map_lookup_elem(map_fd, &r, vals))
			continue; /* an older program: fewer reasons */
		for (cpu = 0; cpu < ncpu; cpu++)
			out[r] += vals[cpu];
	}
	close(map_fd);
	return 0;
}
