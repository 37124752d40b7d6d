/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The program's load-time settings (set through the skeleton by sluiced)
 * and its clock. Defined here once: the program is one compilation unit.
 */
#ifndef SLUICE_BPF_SETTINGS_H
#define SLUICE_BPF_SETTINGS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "sluice/limits.h"

/* Load-time settings, set through the skeleton by sluiced. */
const volatile __u32 cfg_ring_size = SLUICE_RING_SIZE_DEFAULT;
const volatile __u32 cfg_hash_seed = 0;
const volatile __u32 cfg_new_slots = SLUICE_NEW_FLOWS_DEFAULT;
/* flows.udp_fallback: stateless UDP follows the pre-drain table too. */
const volatile __u32 cfg_udp_fallback = 0;

static const __u32 zero = 0;

/*
 * The kernel's CLOCK_MONOTONIC_COARSE in ms, truncated to 32 bits (abi.h):
 * it keeps running while sluiced is stopped, so no expiry is ever decided
 * on a clock that stood still. The coarse read is a few ns, not a
 * clocksource access.
 */
static __always_inline __u32 sl_now(void)
{
	return (__u32)(bpf_ktime_get_coarse_ns() / 1000000);
}

#endif /* SLUICE_BPF_SETTINGS_H */
