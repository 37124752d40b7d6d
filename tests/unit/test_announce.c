// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests for user/lib/announce_want.c: which VIP addresses a box announces. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include "../lib/check.h"

#include "announce.h"
#include "state.h"

static struct sl_vip_spec vip(const char *s)
{
	struct sl_vip_spec v;
	char err[128];

	CHECK_INT(CHECK_HERE, sl_parse_vip(s, &v, err, sizeof(err)), 0);
	return v;
}

static void add_be(struct sl_state *st, const char *v, const char *addr)
{
	struct sl_vip_spec spec = vip(v);
	struct sluice_addr a;
	char err[256];
	__u8 fam;

	CHECK_INT(CHECK_HERE, sl_parse_addr(addr, &a, &fam), 0);
	CHECK_INT(CHECK_HERE,
		  sl_state_be_add(st, &spec, &a, fam, 100, err, sizeof(err)),
		  0);
}

static struct sl_be *be(struct sl_state *st, const char *v, const char *addr)
{
	struct sl_vip_spec spec = vip(v);
	struct sluice_addr a;
	__u8 fam;

	CHECK_INT(CHECK_HERE, sl_parse_addr(addr, &a, &fam), 0);
	return sl_vip_find_be(sl_state_find_vip(st, &spec), &a, fam);
}

/* Two VIPs on one address (two ports) and one IPv6 VIP. */
static void setup_state(struct sl_state *st)
{
	struct sl_vip_spec a = vip("198.18.0.100:80/tcp"), b = vip("198.18.0.100:443/tcp"),
			   c = vip("[fd00:100::100]:80/tcp");
	char err[256];

	sl_state_init(st);
	CHECK_INT(CHECK_HERE, sl_state_vip_add(st, &a, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, sl_state_vip_add(st, &b, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, sl_state_vip_add(st, &c, err, sizeof(err)), 0);
	add_be(st, "198.18.0.100:80/tcp", "198.18.20.11");
	add_be(st, "198.18.0.100:443/tcp", "198.18.20.12");
	add_be(st, "[fd00:100::100]:80/tcp", "fd00:20::11");
}

static void test_wanted(void **state)
{
	struct sl_ann_addr out[8];
	struct sl_state st;

	(void)state;
	setup_state(&st);
	CHECK_INT("every address once", sl_announce_wanted(&st, false, out, 8), 2);
	CHECK_INT("v4 first", out[0].family, SLUICE_AF_INET);
	CHECK_INT("then v6", out[1].family, SLUICE_AF_INET6);
	CHECK_INT("box drained: none", sl_announce_wanted(&st, true, out, 8), 0);

	/* One port's backend gone from the table: the other VIP keeps the address. */
	be(&st, "198.18.0.100:80/tcp", "198.18.20.11")->health = SL_HEALTH_DOWN;
	CHECK_INT("one VIP on the address usable", sl_announce_wanted(&st, false, out, 8), 2);
	be(&st, "198.18.0.100:443/tcp", "198.18.20.12")->state = SL_BE_DRAINING;
	CHECK_INT("no usable VIP on the v4 address", sl_announce_wanted(&st, false, out, 8), 1);
	CHECK_INT("only v6 left", out[0].family, SLUICE_AF_INET6);
	be(&st, "[fd00:100::100]:80/tcp", "fd00:20::11")->weight = 0;
	CHECK_INT("weight 0 is not usable", sl_announce_wanted(&st, false, out, 8), 0);
	be(&st, "198.18.0.100:80/tcp", "198.18.20.11")->health = SL_HEALTH_UP;
	CHECK_INT("health back", sl_announce_wanted(&st, false, out, 8), 1);
	CHECK_INT("max bounds the output", sl_announce_wanted(&st, false, out, 0), 0);
	sl_state_free(&st);
}

static void test_table_ok(void **state)
{
	(void)state;
	CHECK_INT("100", sl_announce_table_ok(100), 1);
	CHECK_INT("main", sl_announce_table_ok(254), 0);
	CHECK_INT("local", sl_announce_table_ok(255), 0);
	CHECK_INT("default", sl_announce_table_ok(253), 0);
	CHECK_INT("unspec", sl_announce_table_ok(0), 0);
	CHECK_INT("large", sl_announce_table_ok(100000), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wanted),
		cmocka_unit_test(test_table_ok),
	};

	return cmocka_run_group_tests_name("announce", tests, NULL, NULL);
}
