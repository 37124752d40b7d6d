/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests for user/lib/wallclock.c: a step told from slewing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

#define BOOT_A "0f9c3a52-6b1e-4d7a-9c2b-3e4f5a6b7c8d"
#define BOOT_B "7d1e2f30-4a5b-4c6d-8e9f-0a1b2c3d4e5f"

/* A mark taken in this boot starts the next sluiced where its predecessor
 * left off: a step made in between is seen at its first look. */
static void test_resume_same_boot(void **state)
{
	struct sl_wallclock c = { 0 }, next = { 0 };
	struct sl_clock_mark m;

	(void)state;
	sl_wallclock_step(&c, UNIX0, BOOT0);
	sl_wallclock_mark(&c, BOOT_A, &m);
	CHECK_STR(CHECK_HERE, m.boot_id, BOOT_A);
	CHECK_INT(CHECK_HERE, sl_wallclock_resume(&next, &m, BOOT_A), true);
	/* Stopped 10 s, the clock stepped an hour ahead meanwhile. */
	CHECK_INT(CHECK_HERE,
		  sl_wallclock_step(&next, UNIX0 + 3610000, BOOT0 + 10000),
		  3600000);
	/* No step while stopped: nothing to say. */
	memset(&next, 0, sizeof(next));
	sl_wallclock_resume(&next, &m, BOOT_A);
	CHECK_INT(CHECK_HERE,
		  sl_wallclock_step(&next, UNIX0 + 10000, BOOT0 + 10000), 0);
}

/* Another boot's mark, or none, says nothing: the first look learns. */
static void test_resume_other_boot(void **state)
{
	struct sl_wallclock c = { 0 }, next = { 0 };
	struct sl_clock_mark m, none;

	(void)state;
	sl_wallclock_step(&c, UNIX0, BOOT0);
	sl_wallclock_mark(&c, BOOT_A, &m);
	CHECK_INT(CHECK_HERE, sl_wallclock_resume(&next, &m, BOOT_B), false);
	CHECK_INT(CHECK_HERE, sl_wallclock_step(&next, UNIX0 + 3600000, 5), 0);
	/* Unreadable boot id now, or when the mark was taken. */
	CHECK_INT(CHECK_HERE, sl_wallclock_resume(&next, &m, ""), false);
	sl_wallclock_mark(&c, "", &none);
	CHECK_STR(CHECK_HERE, none.boot_id, "");
	CHECK_INT(CHECK_HERE, sl_wallclock_resume(&next, &none, ""), false);
	/* A clock never looked at has no offset to mark. */
	memset(&next, 0, sizeof(next));
	sl_wallclock_mark(&next, BOOT_A, &none);
	CHECK_STR(CHECK_HERE, none.boot_id, "");
}

static void test_boot_id_valid(void **state)
{
	(void)state;
	CHECK_INT(CHECK_HERE, sl_boot_id_valid(BOOT_A), true);
	CHECK_INT(CHECK_HERE, sl_boot_id_valid(""), false);
	CHECK_INT(CHECK_HERE, sl_boot_id_valid(BOOT_A "\n"), false);
	CHECK_INT(CHECK_HERE,
		  sl_boot_id_valid("0F9C3A52-6B1E-4D7A-9C2B-3E4F5A6B7C8D"),
		  false);
	CHECK_INT(CHECK_HERE,
		  sl_boot_id_valid("0f9c3a52x6b1e-4d7a-9c2b-3e4f5a6b7c8d"),
		  false);
	CHECK_INT(CHECK_HERE,
		  sl_boot_id_valid("0f9c3a52-6b1e-4d7a-9c2b-3e4f5a6b7c8g"),
		  false);
}

/* This machine's boot id reads as one. */
static void test_boot_id_read(void **state)
{
	char id[SL_BOOT_ID_LEN + 1];

	(void)state;
	sl_boot_id(id);
	CHECK_INT(CHECK_HERE, sl_boot_id_valid(id), true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_look),
		cmocka_unit_test(test_slew_absorbed),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_resume_same_boot),
		cmocka_unit_test(test_resume_other_boot),
		cmocka_unit_test(test_boot_id_valid),
		cmocka_unit_test(test_boot_id_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
