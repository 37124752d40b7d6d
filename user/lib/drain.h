/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * When a drain may complete (docs/design.md, "Counting live flows and deciding drains"): the pure
 * decision, fed with what the sweeper and the drain checker report, so it
 * can be tested without a daemon or a datapath.
 *
 * Every state commit that starts a drain gets a sequence number S, and it
 * sets SLUICE_BE_F_DRAINING on the backend in the same commit that takes
 * it out of the live table. A pass (a full sweep, or a checker pass over
 * the drain table) records at its start the last sequence already in force in
 * the datapath and a tick from one counter shared by both kinds of pass,
 * so "this pass started after that one ended" is a comparison of ticks.
 *
 * A drain committed at S completes only when:
 *  (a) a full sweep that started at or after S has completed and found no
 *      handshake of the backend (none can start after S: it is out of the
 *      table), and it copied every live confirmed flow it saw into the
 *      drain table (which had room), so that table now holds each of
 *      them; and
 *  (b) a checker pass that started after that sweep ended counts 0 live
 *      flows for it, with sl_be_stats.confirmed unchanged during the pass
 *      (a flow confirmed meanwhile may have entered the table behind the walk).
 * sluiced then sets SLUICE_BE_F_DRAINED (the datapath gives the backend no
 * new state from then on) and needs one more checker pass, started after
 * the flag was set, meeting (b) again; if it does not, the flag is cleared
 * and the drain goes on.
 *
 * Once a sweep finds a live confirmed flow the drain table had no room
 * for, the drain is blind for good: that flow may later be evicted from
 * the flow table while its connection lives, unseen by sweeps and
 * checker alike, so no count can prove the backend idle. It ends at its
 * deadline.
 */
#ifndef SLUICE_DRAIN_H
#define SLUICE_DRAIN_H

#include <stdbool.h>
#include <linux/types.h>

/* What any pass reports about itself. */
struct sl_pass {
	__u64 seq;		/* last commit in force when the pass started */
	__u64 start_tick;	/* shared pass counter at start */
	__u64 end_tick;		/* ... and at the end (0: not recorded) */
};

enum sl_drain_phase_d {
	SL_DRAIN_WAIT_SWEEP = 0,	/* waiting for (a) */
	SL_DRAIN_WAIT_CHECK,		/* (a) holds: waiting for (b) */
	SL_DRAIN_FLAG_PENDING,		/* (b) held: DRAINED flag to be set */
	SL_DRAIN_CONFIRMING,		/* flag set: waiting for (b) once more */
	SL_DRAIN_COMPLETE,		/* reported drained */
};

/* One drain's progress through the rule (runtime: a restart starts over). */
struct sl_drain_track {
	__u64 seq;		/* commit that started the drain; 0: none */
	int phase;		/* enum sl_drain_phase_d */
	__u64 swept_tick;	/* end tick of the sweep that met (a) */
	__u64 drain_table_tick; /* end tick of the first sweep at or after seq:
				 * from then on the drain table holds every live
				 * confirmed flow and checker counts are whole */
	__u64 flag_tick;	/* tick when the DRAINED flag was in force */
	/*
	 * The backend has an agent (agent_port), and backend_empty says
	 * whether it counted no live socket in a read that began after the
	 * drain: ground truth even for a blind drain, whose own counts cannot
	 * show that a left-out flow is gone. With an agent, (b) also waits for
	 * that read. Both set before each check.
	 */
	bool has_agent;
	bool backend_empty;
	/* A flow of the backend had no room in the drain table (see above). */
	bool blind;
};

/* What the caller must do to the datapath or the state. */
enum sl_drain_action {
	SL_DRAIN_ACT_NONE = 0,
	SL_DRAIN_ACT_SET_FLAG,		/* set DRAINED, then sl_drain_flag_set() */
	SL_DRAIN_ACT_CLEAR_FLAG,	/* clear DRAINED: the drain goes on */
	SL_DRAIN_ACT_COMPLETE,		/* report drained and persist it */
};

/* A drain committed at @seq starts. */
void sl_drain_start(struct sl_drain_track *t, __u64 seq);

/*
 * A drain of the state (new, or loaded from the state file) is armed at
 * @seq: as sl_drain_start(), but a blind mark stays. A flow left out
 * before a restart may be gone unseen, and no sweep after it can tell.
 */
void sl_drain_arm(struct sl_drain_track *t, __u64 seq);

/*
 * A full sweep finished. @handshakes: the backend's handshakes it counted;
 * @unprotected: live confirmed flows of the backend the drain table had no room for.
 */
enum sl_drain_action sl_drain_on_sweep(struct sl_drain_track *t,
				       const struct sl_pass *p,
				       __u64 handshakes, __u64 unprotected);

/*
 * A checker pass finished: @flows live flows of the backend, and whether
 * its sl_be_stats.confirmed moved between the start and the end of the pass.
 */
enum sl_drain_action sl_drain_on_check(struct sl_drain_track *t,
				       const struct sl_pass *p, __u64 flows,
				       bool confirmed_moved);

/* The DRAINED flag is in the datapath; @tick: the pass counter now. */
void sl_drain_flag_set(struct sl_drain_track *t, __u64 tick);

/* Is a checker pass's count of the backend whole (see drain_table_tick)? */
bool sl_drain_check_counts(const struct sl_drain_track *t,
			   const struct sl_pass *p);

/* Does the backend need the DRAINED flag in the datapath now? */
bool sl_drain_wants_flag(const struct sl_drain_track *t);

/*
 * The count to show: @base live flows counted by a pass plus the flows
 * confirmed since that pass began (@confirmed_now - @confirmed_base), an
 * upper bound of the live flows between passes.
 */
__u64 sl_flows_upper_bound(__u64 base, __u64 confirmed_base,
			   __u64 confirmed_now);

#endif /* SLUICE_DRAIN_H */
