// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The hold a drain walk puts on the sweep (user/lib/hold.c): a wait
 * returns at once while the flag is down, ends as soon as it falls, and
 * never outlasts its bound while it stays up. Bounds on elapsed time are
 * loose: the machine running the tests is shared.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../lib/check.h"

#include "hold.h"

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void test_down_returns_at_once(void **state)
{
	struct sl_hold h;
	long long t0;

	(void)state;
	CHECK_INT(CHECK_HERE, sl_hold_init(&h), 0);
	t0 = mono_ms();
	CHECK_TRUE(CHECK_HERE, "down", sl_hold_wait(&h, 10000));
	sl_hold_set(&h, true);
	sl_hold_set(&h, false);
	CHECK_TRUE(CHECK_HERE, "down again", sl_hold_wait(&h, 10000));
	CHECK_TRUE(CHECK_HERE, "took under 1 s", mono_ms() - t0 < 1000);
	sl_hold_destroy(&h);
}

/* Up and never dropped: the wait gives up after its bound, not before. */
static void test_up_is_bounded(void **state)
{
	struct sl_hold h;
	long long t0, took;

	(void)state;
	CHECK_INT(CHECK_HERE, sl_hold_init(&h), 0);
	sl_hold_set(&h, true);
	t0 = mono_ms();
	CHECK_TRUE(CHECK_HERE, "still up", !sl_hold_wait(&h, 150));
	took = mono_ms() - t0;
	CHECK_TRUE(CHECK_HERE, "waited the bound", took >= 150);
	CHECK_TRUE(CHECK_HERE, "not much more", took < 5000);
	sl_hold_destroy(&h);
}

static void *drop_later(void *arg)
{
	usleep(100 * 1000);
	sl_hold_set(arg, false);
	return NULL;
}

/* Dropped by another thread: the waiter wakes then, not at its bound. */
static void test_drop_wakes_the_waiter(void **state)
{
	struct sl_hold h;
	pthread_t thr;
	long long t0, took;

	(void)state;
	CHECK_INT(CHECK_HERE, sl_hold_init(&h), 0);
	sl_hold_set(&h, true);
	t0 = mono_ms();
	CHECK_INT(CHECK_HERE, pthread_create(&thr, NULL, drop_later, &h), 0);
	CHECK_TRUE(CHECK_HERE, "dropped", sl_hold_wait(&h, 10000));
	took = mono_ms() - t0;
	pthread_join(thr, NULL);
	CHECK_TRUE(CHECK_HERE, "woke after the drop", took >= 90);
	CHECK_TRUE(CHECK_HERE, "woke well before the bound", took < 5000);
	sl_hold_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_down_returns_at_once),
		cmocka_unit_test(test_up_is_bounded),
		cmocka_unit_test(test_drop_wakes_the_waiter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
