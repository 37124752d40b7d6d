/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests for user/lib/drain.c: when a drain may complete (never early). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include "../lib/check.h"

#include "drain.h"

#define S	7	/* the commit that starts the drain */

static struct sl_pass pass(__u64 seq, __u64 start, __u64 end)
{
	struct sl_pass p = { .seq = seq, .start_tick = start, .end_tick = end };

	return p;
}

/* Drive a drain to "flag set" the straight way; returns the flag tick. */
static __u64 to_confirming(struct sl_drain_track *t)
{
	struct sl_pass sw = pass(S, 10, 11), ck = pass(S, 12, 13);

	sl_drain_start(t, S);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(t, &sw, 0, 0), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, t->phase, SL_DRAIN_WAIT_CHECK);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(t, &ck, 0, false), SL_DRAIN_ACT_SET_FLAG);
	CHECK_INT(CHECK_HERE, sl_drain_wants_flag(t), true);
	sl_drain_flag_set(t, 14);
	CHECK_INT(CHECK_HERE, t->phase, SL_DRAIN_CONFIRMING);
	return 14;
}

/* The race: a sweep that began before the drain was committed saw
 * no flow and no handshake; nothing it or an older check says may end it. */
static void test_old_evidence_ignored(void **state)
{
	struct sl_drain_track t;
	struct sl_pass old_sweep = pass(S - 1, 10, 20), old_check = pass(S - 1, 21, 22);
	int i;

	(void)state;
	sl_drain_start(&t, S);
	for (i = 0; i < 3; i++) {
		CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &old_sweep, 0, 0), SL_DRAIN_ACT_NONE);
		CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &old_check, 0, false), SL_DRAIN_ACT_NONE);
	}
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_WAIT_SWEEP);
	CHECK_INT(CHECK_HERE, sl_drain_wants_flag(&t), false);
	/* Checker passes of the new sequence without a sweep: still nothing. */
	old_check = pass(S, 30, 31);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &old_check, 0, false), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_WAIT_SWEEP);
}

static void test_happy_path(void **state)
{
	struct sl_drain_track t;
	struct sl_pass early, ok;
	__u64 flag = to_confirming(&t);

	(void)state;
	/* A pass that began before the flag was in force proves nothing. */
	early = pass(S, flag, flag + 1);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &early, 0, false), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_CONFIRMING);
	ok = pass(S, flag + 1, flag + 2);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ok, 0, false), SL_DRAIN_ACT_COMPLETE);
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_COMPLETE);
	CHECK_INT(CHECK_HERE, sl_drain_wants_flag(&t), true);
	/* Complete is final: later passes change nothing. */
	ok = pass(S + 3, flag + 5, flag + 6);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ok, 4, true), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &ok, 4, 4), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_COMPLETE);
}

/* (b) needs a checker pass that started after (a)'s sweep ended. */
static void test_check_must_follow_sweep(void **state)
{
	struct sl_drain_track t;
	struct sl_pass sw = pass(S, 10, 15), overlap = pass(S, 12, 16), at_end = pass(S, 15, 17);
	struct sl_pass after = pass(S, 16, 18);

	(void)state;
	sl_drain_start(&t, S);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &sw, 0, 0), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &overlap, 0, false), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &at_end, 0, false), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_check_counts(&t, &overlap), false);
	CHECK_INT(CHECK_HERE, sl_drain_check_counts(&t, &after), true);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &after, 0, false), SL_DRAIN_ACT_SET_FLAG);
}

/* Handshakes in flight hold (a); once they end, the drain proceeds. */
static void test_handshakes_hold(void **state)
{
	struct sl_drain_track t;
	struct sl_pass sw1 = pass(S, 10, 11), ck1 = pass(S, 12, 13);
	struct sl_pass sw2 = pass(S, 14, 15), ck2 = pass(S, 16, 17);

	(void)state;
	sl_drain_start(&t, S);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &sw1, 2, 0), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_WAIT_SWEEP);
	/* Checker counts are whole already (nothing unprotected)... */
	CHECK_INT(CHECK_HERE, sl_drain_check_counts(&t, &ck1), true);
	/* ...but (a) does not hold: no flag. */
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck1, 0, false), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &sw2, 0, 0), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck2, 0, false), SL_DRAIN_ACT_SET_FLAG);
}

/* A flow confirmed during the pass may enter the drain table behind the walk. */
static void test_confirmed_moved(void **state)
{
	struct sl_drain_track t;
	struct sl_pass sw = pass(S, 10, 11), ck = pass(S, 12, 13), ck2 = pass(S, 14, 15);

	(void)state;
	sl_drain_start(&t, S);
	sl_drain_on_sweep(&t, &sw, 0, 0);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck, 0, true), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck, 1, false), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_WAIT_CHECK);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck2, 0, false), SL_DRAIN_ACT_SET_FLAG);
}

/* The confirming pass finds a flow: the flag goes, the drain goes on. */
static void test_confirm_fails(void **state)
{
	struct sl_drain_track t;
	__u64 flag;
	struct sl_pass seen, moved, again, confirm;

	(void)state;
	flag = to_confirming(&t);
	seen = pass(S, flag + 1, flag + 2);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &seen, 1, false), SL_DRAIN_ACT_CLEAR_FLAG);
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_WAIT_CHECK);
	CHECK_INT(CHECK_HERE, sl_drain_wants_flag(&t), false);
	/* The same with only the counter moving. */
	again = pass(S, flag + 3, flag + 4);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &again, 0, false), SL_DRAIN_ACT_SET_FLAG);
	sl_drain_flag_set(&t, flag + 5);
	moved = pass(S, flag + 6, flag + 7);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &moved, 0, true), SL_DRAIN_ACT_CLEAR_FLAG);
	/* And then it completes the regular way. */
	again = pass(S, flag + 8, flag + 9);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &again, 0, false), SL_DRAIN_ACT_SET_FLAG);
	sl_drain_flag_set(&t, flag + 10);
	confirm = pass(S, flag + 11, flag + 12);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &confirm, 0, false), SL_DRAIN_ACT_COMPLETE);
}

/* A handshake seen by a sweep while the flag is up clears it. */
static void test_sweep_clears_flag(void **state)
{
	struct sl_drain_track t;
	__u64 flag;
	struct sl_pass sw;

	(void)state;
	flag = to_confirming(&t);
	sw = pass(S, flag + 1, flag + 2);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &sw, 1, 0), SL_DRAIN_ACT_CLEAR_FLAG);
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_WAIT_SWEEP);
	CHECK_INT(CHECK_HERE, sl_drain_wants_flag(&t), false);
}

/*
 * A sweep finds 3 live flows the drain table had no room for, a check
 * follows, then a sweep finds none left out: the drain is blind anyway.
 * Its counts are whole again from the second sweep on (check_counts).
 */
static void to_blind(struct sl_drain_track *t)
{
	struct sl_pass sw1 = pass(S, 10, 11), ck1 = pass(S, 12, 13);
	struct sl_pass sw2 = pass(S, 14, 15), ck2 = pass(S, 16, 17);

	sl_drain_start(t, S);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(t, &sw1, 0, 3),
		  SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_check_counts(t, &ck1), false);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(t, &ck1, 0, false),
		  SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(t, &sw2, 0, 0),
		  SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_check_counts(t, &ck2), true);
	/* Blind for good: a flow left out may have been evicted unseen. */
	CHECK_INT(CHECK_HERE, t->blind, true);
}

/* The drain table full: the checker cannot see every flow; no completion on it. */
static void test_unprotected_blocks(void **state)
{
	struct sl_drain_track t;
	struct sl_pass ck2 = pass(S, 16, 17), sw3 = pass(S, 18, 19);
	struct sl_pass ck3 = pass(S, 20, 21), sw1, ck1;

	(void)state;
	to_blind(&t);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck2, 0, false),
		  SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &sw3, 0, 0),
		  SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck3, 0, false),
		  SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_wants_flag(&t), false);
	/* A new drain starts with its own sight. */
	sl_drain_start(&t, S + 1);
	CHECK_INT(CHECK_HERE, t.blind, false);
	sw1 = pass(S + 1, 20, 21);
	ck1 = pass(S + 1, 22, 23);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &sw1, 0, 0),
		  SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck1, 0, false),
		  SL_DRAIN_ACT_SET_FLAG);
}

/* A blind drain's counts prove nothing, but the backend's agent counting
 * no socket does: with that, the usual two passes end it. */
static void test_blind_ends_on_agent(void **state)
{
	struct sl_drain_track t;
	struct sl_pass ck2 = pass(S, 16, 17), ck3 = pass(S, 18, 19);
	struct sl_pass ck4 = pass(S, 20, 21);

	(void)state;
	to_blind(&t);
	/* The agent still counts sockets: not empty. */
	t.has_agent = true;
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck2, 0, false),
		  SL_DRAIN_ACT_NONE);
	t.backend_empty = true;
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck3, 0, false),
		  SL_DRAIN_ACT_SET_FLAG);
	sl_drain_flag_set(&t, ck3.end_tick);
	/* A confirm pass whose agent read no longer counts none: back off. */
	t.backend_empty = false;
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck4, 0, false),
		  SL_DRAIN_ACT_CLEAR_FLAG);
	CHECK_INT(CHECK_HERE, t.blind, true);
}

/* A drain loaded from the state file keeps its blind mark when armed;
 * everything else it gathered is gathered afresh. */
static void test_arm_keeps_blind(void **state)
{
	struct sl_drain_track t;
	struct sl_pass sw = pass(S, 10, 11), ck = pass(S, 12, 13);

	(void)state;
	memset(&t, 0, sizeof(t));
	t.blind = true;
	t.phase = SL_DRAIN_COMPLETE;
	t.drain_table_tick = 5;
	sl_drain_arm(&t, S);
	CHECK_INT(CHECK_HERE, t.blind, true);
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_WAIT_SWEEP);
	CHECK_U64(CHECK_HERE, t.drain_table_tick, 0);
	CHECK_U64(CHECK_HERE, t.seq, S);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &sw, 0, 0),
		  SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck, 0, false),
		  SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_wants_flag(&t), false);
	/* A new drain (state.c zeroes its track) is armed with its own sight. */
	memset(&t, 0, sizeof(t));
	sl_drain_arm(&t, S);
	CHECK_INT(CHECK_HERE, t.blind, false);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &sw, 0, 0),
		  SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck, 0, false),
		  SL_DRAIN_ACT_SET_FLAG);
}

/* No drain, no decisions; the flag call outside its phase is a no-op. */
static void test_no_drain(void **state)
{
	struct sl_drain_track t;
	struct sl_pass p = pass(100, 10, 11);

	(void)state;
	memset(&t, 0, sizeof(t));
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &p, 0, 0), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &p, 0, false), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, sl_drain_wants_flag(&t), false);
	sl_drain_start(&t, S);
	sl_drain_flag_set(&t, 99);
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_WAIT_SWEEP);
}

/* The backend's agent still counts sockets: (b) waits for it too. */
static void test_backend_busy_holds(void **state)
{
	struct sl_drain_track t;
	struct sl_pass sw = pass(S, 10, 11), ck = pass(S, 12, 13), ck2 = pass(S, 14, 15);

	(void)state;
	sl_drain_start(&t, S);
	CHECK_INT(CHECK_HERE, sl_drain_on_sweep(&t, &sw, 0, 0), SL_DRAIN_ACT_NONE);
	t.has_agent = true;
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck, 0, false), SL_DRAIN_ACT_NONE);
	CHECK_INT(CHECK_HERE, t.phase, SL_DRAIN_WAIT_CHECK);
	t.backend_empty = true;
	CHECK_INT(CHECK_HERE, sl_drain_on_check(&t, &ck2, 0, false), SL_DRAIN_ACT_SET_FLAG);
}

static void test_upper_bound(void **state)
{
	(void)state;
	CHECK_U64(CHECK_HERE, sl_flows_upper_bound(5, 100, 100), 5);
	CHECK_U64(CHECK_HERE, sl_flows_upper_bound(5, 100, 103), 8);
	CHECK_U64(CHECK_HERE, sl_flows_upper_bound(0, 0, 7), 7);
	/* A re-created counter map reads lower: never subtract. */
	CHECK_U64(CHECK_HERE, sl_flows_upper_bound(5, 100, 3), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_evidence_ignored),
		cmocka_unit_test(test_happy_path),
		cmocka_unit_test(test_check_must_follow_sweep),
		cmocka_unit_test(test_handshakes_hold),
		cmocka_unit_test(test_confirmed_moved),
		cmocka_unit_test(test_confirm_fails),
		cmocka_unit_test(test_sweep_clears_flag),
		cmocka_unit_test(test_unprotected_blocks),
		cmocka_unit_test(test_blind_ends_on_agent),
		cmocka_unit_test(test_arm_keeps_blind),
		cmocka_unit_test(test_no_drain),
		cmocka_unit_test(test_backend_busy_holds),
		cmocka_unit_test(test_upper_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
