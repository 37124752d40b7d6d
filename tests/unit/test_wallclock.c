/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests for user/lib/wallclock.c: a step told from slewing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include "../lib/check.h"

#include "wallclock.h"

#define UNIX0 1796549771000ULL /* 2026-12-06 */
#define BOOT0 1056000ULL

/* The first look learns the offset: no step, whatever it is. */
static void test_first_look(void **state)
{
	struct sl_wallclock c = { 0 };

	(void)state;
	CHECK_INT(CHECK_HERE, sl_wallclock_step(&c, UNIX0, BOOT0), 0);
	CHECK_U64(CHECK_HERE, sl_wallclock_unix(&c, BOOT0 + 5), UNIX0 + 5);
}

/* Both clocks advancing together, or drifting under a second between
 * looks (NTP slewing), is no step; the drift is absorbed. */
static void test_slew_absorbed(void **state)
{
	struct sl_wallclock c = { 0 };
	__u64 i, drift = 0;

	(void)state;
	sl_wallclock_step(&c, UNIX0, BOOT0);
	for (i = 1; i <= 5000; i++) {
		drift += i % 2; /* 0.5 ms a second: NTP's largest slew */
		CHECK_INT(CHECK_HERE,
			  sl_wallclock_step(&c, UNIX0 + i * 1000 + drift,
					    BOOT0 + i * 1000),
			  0);
	}
	/* 2.5 s of drift in all, never a step. */
	CHECK_U64(CHECK_HERE, drift, 2500);
	/* 999 ms between two looks is still absorbed; 1000 ms is a step. */
	CHECK_INT(CHECK_HERE,
		  sl_wallclock_step(&c, UNIX0 + 5001999 + 2500,
				    BOOT0 + 5001000),
		  0);
	CHECK_INT(CHECK_HERE,
		  sl_wallclock_step(&c, UNIX0 + 5003999 + 2500,
				    BOOT0 + 5002000),
		  1000);
}

/* A jump of a second or more, either way, is a step, said once. */
static void test_steps(void **state)
{
	struct sl_wallclock c = { 0 };

	(void)state;
	sl_wallclock_step(&c, UNIX0, BOOT0);
	CHECK_INT(CHECK_HERE,
		  sl_wallclock_step(&c, UNIX0 + 3601000, BOOT0 + 1000),
		  3600000);
	CHECK_INT(CHECK_HERE,
		  sl_wallclock_step(&c, UNIX0 + 3602000, BOOT0 + 2000), 0);
	CHECK_U64(CHECK_HERE, sl_wallclock_unix(&c, BOOT0 + 2000),
		  UNIX0 + 3602000);
	CHECK_INT(CHECK_HERE, sl_wallclock_step(&c, UNIX0 + 3000, BOOT0 + 3000),
		  -3600000);
	CHECK_INT(CHECK_HERE, sl_wallclock_step(&c, UNIX0 + 3000, BOOT0 + 4000),
		  -1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_look),
		cmocka_unit_test(test_slew_absorbed),
		cmocka_unit_test(test_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
