// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The drain completion rule (see drain.h): pure, unit-tested. */
#include <string.h>

#include "drain.h"

void sl_drain_start(struct sl_drain_track *t, __u64 seq)
{
	memset(t, 0, sizeof(*t));
	t->seq = seq;
	t->phase = SL_DRAIN_WAIT_SWEEP;
}

void sl_drain_arm(struct sl_drain_track *t, __u64 seq)
{
	bool blind = t->blind;

	sl_drain_start(t, seq);
	t->blind = blind;
}

/* Evidence gathered before the drain was in force says nothing about it. */
static bool relevant(const struct sl_drain_track *t, const struct sl_pass *p)
{
	return t->seq && t->phase != SL_DRAIN_COMPLETE && p->seq >= t->seq;
}

enum sl_drain_action sl_drain_on_sweep(struct sl_drain_track *t,
				       const struct sl_pass *p,
				       __u64 handshakes, __u64 unprotected)
{
	bool flagged;

	if (!relevant(t, p))
		return SL_DRAIN_ACT_NONE;
	/* A flow the drain table had no room for is invisible to the checker,
	 * and once evicted to the sweeps too: blind from then on. */
	if (unprotected) {
		t->drain_table_tick = 0;
		t->blind = true;
	} else if (!t->drain_table_tick)
		t->drain_table_tick = p->end_tick;
	if (handshakes || unprotected) {
		flagged = t->phase == SL_DRAIN_FLAG_PENDING ||
			  t->phase == SL_DRAIN_CONFIRMING;
		t->phase = SL_DRAIN_WAIT_SWEEP;
		return flagged ? SL_DRAIN_ACT_CLEAR_FLAG : SL_DRAIN_ACT_NONE;
	}
	if (t->phase == SL_DRAIN_WAIT_SWEEP) {
		t->phase = SL_DRAIN_WAIT_CHECK;
		t->swept_tick = p->end_tick;
	}
	return SL_DRAIN_ACT_NONE;
}

bool sl_drain_check_counts(const struct sl_drain_track *t,
			   const struct sl_pass *p)
{
	return t->seq && p->seq >= t->seq && t->drain_table_tick &&
	       p->start_tick > t->drain_table_tick;
}

enum sl_drain_action sl_drain_on_check(struct sl_drain_track *t,
				       const struct sl_pass *p, __u64 flows,
				       bool confirmed_moved)
{
	bool clean = !flows && !confirmed_moved &&
		     (!t->blind || t->backend_empty) &&
		     sl_drain_check_counts(t, p);
	bool backend_busy = t->has_agent && !t->backend_empty;

	if (!relevant(t, p))
		return SL_DRAIN_ACT_NONE;
	switch (t->phase) {
	case SL_DRAIN_WAIT_CHECK:
		/* (b): the pass must have started after (a)'s sweep ended,
		 * or flows that sweep copied late could be missing from it. */
		if (p->start_tick <= t->swept_tick || !clean || backend_busy)
			return SL_DRAIN_ACT_NONE;
		t->phase = SL_DRAIN_FLAG_PENDING;
		return SL_DRAIN_ACT_SET_FLAG;
	case SL_DRAIN_CONFIRMING:
		/* Only a pass that began under the flag confirms it. */
		if (p->start_tick <= t->flag_tick)
			return SL_DRAIN_ACT_NONE;
		if (clean) {
			t->phase = SL_DRAIN_COMPLETE;
			return SL_DRAIN_ACT_COMPLETE;
		}
		t->phase = SL_DRAIN_WAIT_CHECK;
		return SL_DRAIN_ACT_CLEAR_FLAG;
	default:
		return SL_DRAIN_ACT_NONE;
	}
}

void sl_drain_flag_set(struct sl_drain_track *t, __u64 tick)
{
	if (t->phase != SL_DRAIN_FLAG_PENDING)
		return;
	t->phase = SL_DRAIN_CONFIRMING;
	t->flag_tick = tick;
}

bool sl_drain_wants_flag(const struct sl_drain_track *t)
{
	return t->seq && (t->phase == SL_DRAIN_FLAG_PENDING ||
			  t->phase == SL_DRAIN_CONFIRMING ||
			  t->phase == SL_DRAIN_COMPLETE);
}

__u64 sl_flows_upper_bound(__u64 base, __u64 confirmed_base,
			   __u64 confirmed_now)
{
	/* The counter only grows (per-CPU sums of increments); a smaller
	 * reading means the map was re-created: add nothing. */
	if (confirmed_now <= confirmed_base)
		return base;
	return base + (confirmed_now - confirmed_base);
}
