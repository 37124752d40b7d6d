// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The drain walk (docs/design.md, "Counting live flows and deciding
 * drains"): a BPF_PROG_TYPE_SYSCALL program that sluiced runs with
 * BPF_PROG_TEST_RUN (user/lib/drain_walk.c) when a drain comes into force.
 * bpf_for_each_map_elem() walks an sl_flows shard in the kernel at about 130 ns an
 * entry, where a userspace sweep pays 550-720 for the batch copy alone;
 * for the draining backends it does what a full sweep does: it copies
 * every confirmed flow into sl_pinned, and counts per backend the
 * handshakes (young unconfirmed flows) and the confirmed flows sl_pinned
 * had no room for. So a drain does not wait for a full sweep of a table of
 * ten million flows. (A bpf_map_elem iterator would do, but tracing
 * programs are not permitted everywhere sluice runs.)
 *
 * Inputs and outputs live in .bss, which userspace maps: draining[] is the
 * walk's own snapshot of the draining set. sluiced loads one instance per
 * sl_flows shard and runs them on a thread each, at once; each instance
 * has its own .bss and one walk at a time, so plain increments suffice.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sluice/abi.h"
#include "sluice/limits.h"

/* One shard of sluiced's sl_flows, and sl_pinned: their fds are reused
 * before load (one walker per shard, user/lib/drain_walk.c). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, struct sluice_flow_key);
	__type(value, struct sluice_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct sluice_flow_key);
	__type(value, struct sluice_flow);
} sl_pinned SEC(".maps");

/* Inputs, written by userspace before each walk. */
__u8 draining[SLUICE_MAX_BACKENDS];
__u32 unconfirmed_ms;
__u32 close_grace_ms;
__u32 now_ms;		/* CLOCK_MONOTONIC_COARSE, as flows are stamped (abi.h) */

/* Outputs, zeroed by userspace before each walk. */
__u64 handshakes[SLUICE_MAX_BACKENDS];
__u64 unprotected[SLUICE_MAX_BACKENDS];
__u64 kept;
__u64 walked;

/* sl_flow_judge() for an unconfirmed flow (judge_unconfirmed() in
 * user/lib/sweep.c: change both; tests/bpf/test_drain_walk.c checks that they
 * agree): a handshake still, or ended? @now is read before the walk
 * (syscall programs have no clock): a flow stamped later looks younger, so
 * it is counted, never missed. */
static __always_inline int young(const struct sluice_flow *f, __u32 now)
{
	if (f->state == SLUICE_FLOW_RESET)
		return 0;
	if ((__s32)(now - f->created) > (__s32)unconfirmed_ms)
		return 0;
	return !(f->state == SLUICE_FLOW_CLOSING &&
		 (__s32)(now - f->last_seen) > (__s32)close_grace_ms);
}

static long visit(void *map __attribute__((unused)), struct sluice_flow_key *key,
		  struct sluice_flow *f, void *ctx __attribute__((unused)))
{
	struct sluice_flow copy;
	__u32 be;

	walked++;
	be = f->backend_id;
	if (be >= SLUICE_MAX_BACKENDS || !draining[be])
		return 0;
	if (!(f->flags & SLUICE_FLOW_F_CONFIRMED)) {
		if (young(f, now_ms))
			handshakes[be]++;
		return 0;
	}
	copy = *f;
	if (bpf_map_update_elem(&sl_pinned, key, &copy, BPF_ANY))
		unprotected[be]++;
	else
		kept++;
	return 0;
}

SEC("syscall")
int sl_drain_walk(void *ctx __attribute__((unused)))
{
	bpf_for_each_map_elem(&flows, visit, NULL, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
