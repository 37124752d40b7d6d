// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The last-active-backend guard (user/lib/guard.c): draining or removing
 * the only backend that takes new flows is refused, naming the VIP;
 * anything that leaves another active backend passes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../lib/check.h"

#include "guard.h"
#include "parse.h"

static struct sl_vip vip;
static struct sl_be bes[3];

static void setup_vip(void)
{
	static const char *const addrs[] = { "198.18.20.11", "198.18.20.12", "198.18.20.13" };
	size_t i;

	memset(&vip, 0, sizeof(vip));
	memset(bes, 0, sizeof(bes));
	CHECK_INT(CHECK_HERE,
		  sl_parse_vip("198.18.0.100:80/tcp", &vip.spec, NULL, 0), 0);
	for (i = 0; i < 3; i++) {
		CHECK_INT(CHECK_HERE,
			  sl_parse_addr(addrs[i], &bes[i].addr, &bes[i].family),
			  0);
		bes[i].id = i + 1;
		bes[i].weight = 100;
		bes[i].state = SL_BE_ACTIVE;
	}
	vip.bes = bes;
	vip.n_bes = 3;
}

static int guard(const char *addr, char *err, size_t len)
{
	struct sluice_addr a;
	__u8 family;

	CHECK_INT(CHECK_HERE, sl_parse_addr(addr, &a, &family), 0);
	return sl_guard_last_active(&vip, &a, family, err, len);
}

static void test_others_left(void **state)
{
	char err[256] = "";

	(void)state;
	setup_vip();
	CHECK_INT(CHECK_HERE, sl_vip_n_active(&vip), 3);
	CHECK_INT(CHECK_HERE, guard("198.18.20.11", err, sizeof(err)), 0);
	bes[1].state = SL_BE_DRAINING;
	CHECK_INT(CHECK_HERE, sl_vip_n_active(&vip), 2);
	CHECK_INT(CHECK_HERE, guard("198.18.20.11", err, sizeof(err)), 0);
	/* Not active itself: taking it away changes nothing. */
	bes[0].state = SL_BE_DRAINED;
	CHECK_INT(CHECK_HERE, guard("198.18.20.11", err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, guard("198.18.20.12", err, sizeof(err)), 0);
	/* Not a backend of this VIP at all. */
	CHECK_INT(CHECK_HERE, guard("198.18.20.99", err, sizeof(err)), 0);
}

static void test_last_refused(void **state)
{
	char err[256] = "";

	(void)state;
	setup_vip();
	bes[0].state = SL_BE_DRAINING;
	bes[1].weight = 0;		/* weight 0 takes no new flows either */
	CHECK_INT(CHECK_HERE, sl_vip_n_active(&vip), 1);
	CHECK_INT(CHECK_HERE, guard("198.18.20.13", err, sizeof(err)), -EPERM);
	CHECK_STR(CHECK_HERE, err,
		  "it is the last active backend of VIP 198.18.0.100:80/tcp, "
		  "which would then drop every new connection");
	/* Health is another axis: a down last backend is still the last. */
	bes[2].health = SL_HEALTH_DOWN;
	CHECK_INT(CHECK_HERE, guard("198.18.20.13", err, sizeof(err)), -EPERM);
}

static void test_none_active(void **state)
{
	char err[256] = "";

	(void)state;
	setup_vip();
	bes[0].state = bes[1].state = bes[2].state = SL_BE_DRAINED;
	CHECK_INT(CHECK_HERE, sl_vip_n_active(&vip), 0);
	/* Already out of service: removing a drained one is no news. */
	CHECK_INT(CHECK_HERE, guard("198.18.20.11", err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_others_left),
		cmocka_unit_test(test_last_refused),
		cmocka_unit_test(test_none_active),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
