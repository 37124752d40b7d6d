/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests for user/lib/state.c: backend lifecycle, errors, limits, ids, config reloads. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "../lib/check.h"

#include "config.h"
#include "state.h"

#include "array.h"
#define ERR_MAX		512

#define check_state(be, expected) do {						\
	int s_ = (be)->state, e_ = (expected);					\
	if (s_ != e_) {								\
		print_error("%s:%d: %s state = %s, expected %s\n",		\
			    __FILE__, __LINE__, #be, sl_be_state_name(s_),	\
			    sl_be_state_name(e_));				\
		fail();								\
	}									\
} while (0)

/* 198.18.0.N:PORT/tcp */
static struct sl_vip_spec vip4(__u32 n, __u16 port)
{
	struct sl_vip_spec v;

	memset(&v, 0, sizeof(v));
	v.family = SLUICE_AF_INET;
	v.addr.addr[0] = htonl(0xc6120000 | (n & 0xffff));
	v.port = htons(port);
	v.proto = IPPROTO_TCP;
	return v;
}

/* [fd00::100]:PORT/udp */
static struct sl_vip_spec vip6(__u16 port)
{
	struct sl_vip_spec v;

	memset(&v, 0, sizeof(v));
	v.family = SLUICE_AF_INET6;
	v.addr.addr[0] = htonl(0xfd000000);
	v.addr.addr[3] = htonl(0x100);
	v.port = htons(port);
	v.proto = IPPROTO_UDP;
	return v;
}

/* 198.19.N/256.N%256 (N < 65536). */
static struct sluice_addr be4(__u32 n)
{
	struct sluice_addr a;

	memset(&a, 0, sizeof(a));
	a.addr[0] = htonl(0xc6130000 | (n & 0xffff));
	return a;
}

/* fd00::1:N */
static struct sluice_addr be6(__u32 n)
{
	struct sluice_addr a;

	memset(&a, 0, sizeof(a));
	a.addr[0] = htonl(0xfd000000);
	a.addr[3] = htonl(0x10000 | (n & 0xffff));
	return a;
}

static char err[ERR_MAX];

static void vip_add_ok(struct sl_state *st, struct sl_vip_spec v)
{
	int rc = sl_state_vip_add(st, &v, err, sizeof(err));

	if (rc)
		fail_msg("sl_state_vip_add: got %d (%s), expected 0", rc, err);
}

static __u32 be_add_ok(struct sl_state *st, struct sl_vip_spec v,
		       struct sluice_addr a, __u8 family, __u32 weight)
{
	struct sl_vip *vip;
	struct sl_be *be;
	int rc;

	rc = sl_state_be_add(st, &v, &a, family, weight, err, sizeof(err));
	if (rc)
		fail_msg("sl_state_be_add: got %d (%s), expected 0", rc, err);
	vip = sl_state_find_vip(st, &v);
	be = vip ? sl_vip_find_be(vip, &a, family) : NULL;
	if (!be)
		fail_msg("backend added but not found");
	return be->id;
}

static struct sl_be *get_be(const struct sl_state *st, struct sl_vip_spec v,
			    struct sluice_addr a, __u8 family)
{
	struct sl_vip *vip = sl_state_find_vip(st, &v);

	return vip ? sl_vip_find_be(vip, &a, family) : NULL;
}

static struct sl_be *need_be(const struct sl_state *st, struct sl_vip_spec v,
			     struct sluice_addr a, __u8 family)
{
	struct sl_be *be = get_be(st, v, a, family);

	if (!be)
		fail_msg("backend not found, expected it to exist");
	return be;
}

static void copy_ok(struct sl_state *dst, const struct sl_state *src)
{
	int rc = sl_state_copy(dst, src);

	if (rc)
		fail_msg("sl_state_copy: got %d, expected 0", rc);
}

/* Byte-for-byte comparison of everything a state holds (not the pointers). */
static void check_state_eq(const char *what, const struct sl_state *got,
			   const struct sl_state *want)
{
	size_t i, j;

	if (got->n_vips != want->n_vips)
		fail_msg("%s: n_vips = %zu, expected %zu", what, got->n_vips,
			 want->n_vips);
	if (got->next_be_id != want->next_be_id)
		fail_msg("%s: next_be_id = %u, expected %u", what,
			 got->next_be_id, want->next_be_id);
	for (i = 0; i < want->n_vips; i++) {
		const struct sl_vip *g = &got->vips[i], *w = &want->vips[i];

		if (memcmp(&g->spec, &w->spec, sizeof(g->spec)))
			fail_msg("%s: vip[%zu] spec differs", what, i);
		if (g->id != w->id)
			fail_msg("%s: vip[%zu] id = %u, expected %u", what, i,
				 g->id, w->id);
		if (g->n_bes != w->n_bes)
			fail_msg("%s: vip[%zu] n_bes = %zu, expected %zu", what,
				 i, g->n_bes, w->n_bes);
		for (j = 0; j < w->n_bes; j++) {
			const struct sl_be *gb = &g->bes[j], *wb = &w->bes[j];

			if (memcmp(gb, wb, sizeof(*gb)))
				fail_msg("%s: vip[%zu] be[%zu]: id %u state %s weight %u deadline %llu, expected id %u state %s weight %u deadline %llu",
					 what, i, j, gb->id,
					 sl_be_state_name(gb->state), gb->weight,
					 (unsigned long long)gb->drain_deadline,
					 wb->id, sl_be_state_name(wb->state),
					 wb->weight,
					 (unsigned long long)wb->drain_deadline);
		}
	}
}

/* V: one VIP with backends A (198.19.0.1) and B (198.19.0.2), weight 100. */
static void two_backends(struct sl_state *st)
{
	sl_state_init(st);
	vip_add_ok(st, vip4(1, 80));
	be_add_ok(st, vip4(1, 80), be4(1), SLUICE_AF_INET, 100);
	be_add_ok(st, vip4(1, 80), be4(2), SLUICE_AF_INET, 100);
}

static int drain(struct sl_state *st, __u32 be, __u64 now, __u64 timeout)
{
	struct sl_vip_spec v = vip4(1, 80);
	struct sluice_addr a = be4(be);

	return sl_state_be_drain(st, &v, &a, SLUICE_AF_INET, now, timeout,
				 err, sizeof(err));
}

static int undrain(struct sl_state *st, __u32 be)
{
	struct sl_vip_spec v = vip4(1, 80);
	struct sluice_addr a = be4(be);

	return sl_state_be_undrain(st, &v, &a, SLUICE_AF_INET, err, sizeof(err));
}

static void test_names(void **state)
{
	static const char *names[] = { "active", "draining", "drained" };
	int i;

	(void)state;
	for (i = SL_BE_ACTIVE; i <= SL_BE_DRAINED; i++) {
		if (strcmp(sl_be_state_name(i), names[i]))
			fail_msg("sl_be_state_name(%d) = %s, expected %s", i,
				 sl_be_state_name(i), names[i]);
		CHECK_INT(CHECK_HERE, sl_be_state_parse(names[i]), i);
	}
	CHECK_INT(CHECK_HERE, sl_be_state_parse("Active"), -EINVAL);
	CHECK_INT(CHECK_HERE, sl_be_state_parse(""), -EINVAL);
	CHECK_CONTAINS(CHECK_HERE, sl_be_state_name(42), "unknown");
	CHECK_CONTAINS(CHECK_HERE, sl_health_name(SL_HEALTH_UP), "up");
	CHECK_CONTAINS(CHECK_HERE, sl_health_name(SL_HEALTH_DOWN), "down");
	CHECK_CONTAINS(CHECK_HERE, sl_health_name(SL_HEALTH_UNKNOWN), "unknown");
}

/* Backend names: what a name is, unique per VIP, cleared with "". */
static void test_backend_names(void **state)
{
	static const char *const good[] = { "web-1", "a", "db_2.rack3", "9lives" };
	static const char *const bad[] = {
		"", "-web", ".x", "web 1", "web/1", "198.18.1.10", "fd00::10", "é",
		"0123456789012345678901234567890123456789012345678901234567890123",
	};
	struct sl_vip_spec v = vip4(1, 80);
	struct sluice_addr a1 = be4(1), a2 = be4(2);
	struct sl_state st;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++)
		if (sl_be_name_check(good[i], err, sizeof(err)))
			fail_msg("\"%s\" refused: %s", good[i], err);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (!sl_be_name_check(bad[i], err, sizeof(err)))
			fail_msg("\"%s\" accepted as a name", bad[i]);
	CHECK_INT(CHECK_HERE, sl_be_name_check("198.18.1.10", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(CHECK_HERE, err, "is an address, not a name");

	two_backends(&st);
	CHECK_INT(CHECK_HERE, sl_state_be_set_name(&st, &v, &a1, SLUICE_AF_INET, "web-1",
						   err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, sl_state_be_set_name(&st, &v, &a2, SLUICE_AF_INET, "web-1",
						   err, sizeof(err)), -EEXIST);
	CHECK_CONTAINS(CHECK_HERE, err, "already called \"web-1\"");
	CHECK_INT(CHECK_HERE, sl_vip_find_be_by_name(sl_state_find_vip(&st, &v), "web-1") ==
		  need_be(&st, v, a1, SLUICE_AF_INET), true);
	/* Renaming to its own name, then clearing. */
	CHECK_INT(CHECK_HERE, sl_state_be_set_name(&st, &v, &a1, SLUICE_AF_INET, "web-1",
						   err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, sl_state_be_set_name(&st, &v, &a1, SLUICE_AF_INET, "",
						   err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, sl_vip_find_be_by_name(sl_state_find_vip(&st, &v), "web-1") == NULL,
		  true);
	CHECK_INT(CHECK_HERE, sl_vip_find_be_by_name(sl_state_find_vip(&st, &v), "") == NULL,
		  true);
	sl_state_free(&st);
}

static void test_add_active(void **state)
{
	struct sl_state st;
	struct sl_vip_spec v6 = vip6(443);
	struct sl_be *be;
	__u32 id;

	(void)state;
	two_backends(&st);
	CHECK_INT(CHECK_HERE, st.n_vips, 1);
	CHECK_INT(CHECK_HERE, sl_state_n_backends(&st), 2);
	be = need_be(&st, vip4(1, 80), be4(2), SLUICE_AF_INET);
	check_state(be, SL_BE_ACTIVE);
	CHECK_INT(CHECK_HERE, be->id, 1);
	CHECK_INT(CHECK_HERE, be->weight, 100);
	CHECK_INT(CHECK_HERE, be->family, SLUICE_AF_INET);
	CHECK_U64(CHECK_HERE, be->drain_started, 0);
	CHECK_U64(CHECK_HERE, be->drain_deadline, 0);
	CHECK_INT(CHECK_HERE, be->timed_out, false);
	CHECK_U64(CHECK_HERE, be->flows_left, 0);
	CHECK_INT(CHECK_HERE, be->health, SL_HEALTH_UNKNOWN);
	CHECK_INT(CHECK_HERE, sl_be_in_table(be), true);

	vip_add_ok(&st, v6);
	id = be_add_ok(&st, v6, be6(1), SLUICE_AF_INET6, 7);
	CHECK_INT(CHECK_HERE, id, 2);
	CHECK_INT(CHECK_HERE, sl_state_find_vip(&st, &v6)->id, 1);
	/* Same address bytes, other family: a different backend. */
	be_add_ok(&st, v6, be4(1), SLUICE_AF_INET, 1);
	CHECK_INT(CHECK_HERE, sl_state_n_backends(&st), 4);
	if (get_be(&st, v6, be4(1), SLUICE_AF_INET6))
		fail_msg("IPv6 lookup found the IPv4 backend");
	sl_state_free(&st);
	CHECK_INT(CHECK_HERE, st.n_vips, 0);
	CHECK_INT(CHECK_HERE, st.vips == NULL, true);
}

static void test_drain(void **state)
{
	struct sl_state st;
	struct sl_be *be;

	(void)state;
	two_backends(&st);
	CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
	be = need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET);
	check_state(be, SL_BE_DRAINING);
	CHECK_U64(CHECK_HERE, be->drain_started, 1000);
	CHECK_U64(CHECK_HERE, be->drain_deadline, 6000);
	CHECK_INT(CHECK_HERE, be->timed_out, false);
	CHECK_INT(CHECK_HERE, sl_be_in_table(be), false);
	/* The other backend is untouched. */
	check_state(need_be(&st, vip4(1, 80), be4(2), SLUICE_AF_INET), SL_BE_ACTIVE);
	sl_state_free(&st);
}

static void test_drain_retime(void **state)
{
	struct sl_state st;
	struct sl_be *be;

	(void)state;
	two_backends(&st);
	CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
	CHECK_INT(CHECK_HERE, drain(&st, 1, 3000, 10000), 0);
	be = need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET);
	check_state(be, SL_BE_DRAINING);
	CHECK_U64(CHECK_HERE, be->drain_deadline, 13000);
	CHECK_U64(CHECK_HERE, be->drain_started, 1000);
	/* Re-timing may also shorten the drain. */
	CHECK_INT(CHECK_HERE, drain(&st, 1, 4000, 0), 0);
	CHECK_U64(CHECK_HERE, be->drain_deadline, 4000);
	check_state(be, SL_BE_DRAINING);
	sl_state_free(&st);
}

static void test_drained_stays_drained(void **state)
{
	struct sl_state st, before;
	struct sl_be *be;

	(void)state;
	two_backends(&st);
	CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
	be = need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET);
	CHECK_INT(CHECK_HERE, sl_be_drain_complete(be), 1);
	check_state(be, SL_BE_DRAINED);
	copy_ok(&before, &st);
	CHECK_INT(CHECK_HERE, drain(&st, 1, 9000, 60000), 0);
	check_state(be, SL_BE_DRAINED);
	check_state_eq("drain of a drained backend", &st, &before);
	/* Neither completion nor a deadline changes a drained backend. */
	CHECK_INT(CHECK_HERE, sl_be_drain_complete(be), 0);
	CHECK_INT(CHECK_HERE, sl_be_drain_deadline(be, 5, 99999), 0);
	check_state(be, SL_BE_DRAINED);
	CHECK_INT(CHECK_HERE, be->timed_out, false);
	sl_state_free(&before);
	sl_state_free(&st);
}

/*
 * Issue 12: a count of zero alone no longer ends a drain (the completion
 * rule in drain.c does, tested in test_drain.c); only the deadline and
 * sl_be_drain_complete() change the state. An active backend is left alone.
 */
static void test_complete_only_by_rule(void **state)
{
	struct sl_state st;
	struct sl_be *a, *b;

	(void)state;
	two_backends(&st);
	CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
	a = need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET);
	b = need_be(&st, vip4(1, 80), be4(2), SLUICE_AF_INET);
	/* Zero flows before the deadline: still draining. */
	CHECK_INT(CHECK_HERE, sl_be_drain_deadline(a, 0, 1500), 0);
	check_state(a, SL_BE_DRAINING);
	CHECK_INT(CHECK_HERE, sl_be_drain_complete(a), 1);
	check_state(a, SL_BE_DRAINED);
	CHECK_INT(CHECK_HERE, a->timed_out, false);
	CHECK_U64(CHECK_HERE, a->flows_left, 0);
	CHECK_U64(CHECK_HERE, a->drain_deadline, 6000);
	CHECK_INT(CHECK_HERE, sl_be_drain_complete(b), 0);
	CHECK_INT(CHECK_HERE, sl_be_drain_deadline(b, 4, 999999), 0);
	check_state(b, SL_BE_ACTIVE);
	sl_state_free(&st);
}

static void test_drain_deadline(void **state)
{
	static const __u64 nows[] = { 6000, 6001, 1000000 };
	struct sl_state st;
	struct sl_be *a;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(nows); i++) {
		two_backends(&st);
		CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
		a = need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET);
		CHECK_INT(CHECK_HERE, sl_be_drain_deadline(a, 7, nows[i]), 1);
		check_state(a, SL_BE_DRAINED);
		CHECK_INT(CHECK_HERE, a->timed_out, true);
		CHECK_U64(CHECK_HERE, a->flows_left, 7);
		CHECK_U64(CHECK_HERE, a->drain_started, 1000);
		CHECK_U64(CHECK_HERE, a->drain_deadline, 6000);
		check_state(need_be(&st, vip4(1, 80), be4(2), SLUICE_AF_INET),
			    SL_BE_ACTIVE);
		sl_state_free(&st);
	}
	/* One millisecond before: nothing. */
	two_backends(&st);
	CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
	a = need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET);
	CHECK_INT(CHECK_HERE, sl_be_drain_deadline(a, 3, 5999), 0);
	check_state(a, SL_BE_DRAINING);
	CHECK_INT(CHECK_HERE, a->timed_out, false);
	sl_state_free(&st);
}

/*
 * A wall-clock step moves running drains only, start and deadline alike,
 * so the time left is kept; a step back never makes a time 0 ("none").
 */
static void test_shift_drains(void **state)
{
	struct sl_state st;
	struct sl_be *a, *b;

	(void)state;
	two_backends(&st);
	CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
	CHECK_INT(CHECK_HERE, drain(&st, 2, 2000, 5000), 0);
	b = need_be(&st, vip4(1, 80), be4(2), SLUICE_AF_INET);
	CHECK_INT(CHECK_HERE, sl_be_drain_deadline(b, 0, 7000), 1);
	CHECK_U64(CHECK_HERE, sl_state_shift_drains(&st, 3600000), 1);
	a = need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET);
	CHECK_U64(CHECK_HERE, a->drain_started, 3601000);
	CHECK_U64(CHECK_HERE, a->drain_deadline, 3606000);
	/* The drained one keeps the times it ended with. */
	CHECK_U64(CHECK_HERE, b->drain_started, 2000);
	CHECK_U64(CHECK_HERE, b->drain_deadline, 7000);
	/* Not over at the shifted deadline minus 1 ms, over at it. */
	CHECK_INT(CHECK_HERE, sl_be_drain_deadline(a, 0, 3605999), 0);
	CHECK_U64(CHECK_HERE, sl_state_shift_drains(&st, -3604000), 1);
	CHECK_U64(CHECK_HERE, a->drain_started, 1);
	CHECK_U64(CHECK_HERE, a->drain_deadline, 2000);
	CHECK_U64(CHECK_HERE, sl_state_shift_drains(&st, 0), 1);
	sl_state_free(&st);
}

/* The count shown: the pass's count plus flows confirmed since it began. */
static void test_flows_shown(void **state)
{
	struct sl_state st;
	struct sl_be *a;

	(void)state;
	two_backends(&st);
	a = need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET);
	a->flows_base = 3;
	a->confirmed_base = 40;
	CHECK_U64(CHECK_HERE, sl_be_flows_shown(a, 40), 3);
	CHECK_U64(CHECK_HERE, sl_be_flows_shown(a, 45), 8);
	sl_state_free(&st);
}

/* A new drain and an undrain both reset the drain's progress. */
static void test_drain_track_reset(void **state)
{
	struct sl_state st;
	struct sl_be *a;

	(void)state;
	two_backends(&st);
	a = need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET);
	a->drain.seq = 9;
	a->drain.phase = SL_DRAIN_COMPLETE;
	CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
	CHECK_U64(CHECK_HERE, a->drain.seq, 0);
	a->drain.seq = 10;
	/* Re-timing a drain keeps its sequence. */
	CHECK_INT(CHECK_HERE, drain(&st, 1, 2000, 5000), 0);
	CHECK_U64(CHECK_HERE, a->drain.seq, 10);
	CHECK_INT(CHECK_HERE, undrain(&st, 1), 0);
	CHECK_U64(CHECK_HERE, a->drain.seq, 0);
	sl_state_free(&st);
}

static void check_undrained(const struct sl_be *be)
{
	check_state(be, SL_BE_ACTIVE);
	CHECK_U64(CHECK_HERE, be->drain_started, 0);
	CHECK_U64(CHECK_HERE, be->drain_deadline, 0);
	CHECK_INT(CHECK_HERE, be->timed_out, false);
	CHECK_U64(CHECK_HERE, be->flows_left, 0);
	CHECK_INT(CHECK_HERE, sl_be_in_table(be), true);
}

static void test_undrain(void **state)
{
	struct sl_state st;

	(void)state;
	/* From draining. */
	two_backends(&st);
	CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
	CHECK_INT(CHECK_HERE, undrain(&st, 1), 0);
	check_undrained(need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET));
	/* From drained by deadline (timed_out, flows_left set). */
	CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
	CHECK_INT(CHECK_HERE, sl_be_drain_deadline(need_be(&st, vip4(1, 80), be4(1),
							   SLUICE_AF_INET), 7, 6000), 1);
	CHECK_INT(CHECK_HERE, need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET)->timed_out, true);
	CHECK_INT(CHECK_HERE, undrain(&st, 1), 0);
	check_undrained(need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET));
	/* From drained by count. */
	CHECK_INT(CHECK_HERE, drain(&st, 1, 2000, 5000), 0);
	CHECK_INT(CHECK_HERE, sl_be_drain_complete(need_be(&st, vip4(1, 80), be4(1),
							   SLUICE_AF_INET)), 1);
	CHECK_INT(CHECK_HERE, undrain(&st, 1), 0);
	check_undrained(need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET));
	/* Undrain of an active backend is a no-op. */
	CHECK_INT(CHECK_HERE, undrain(&st, 2), 0);
	check_undrained(need_be(&st, vip4(1, 80), be4(2), SLUICE_AF_INET));
	/* A fresh drain after undrain starts from scratch. */
	CHECK_INT(CHECK_HERE, drain(&st, 1, 8000, 100), 0);
	CHECK_U64(CHECK_HERE, need_be(&st, vip4(1, 80), be4(1), SLUICE_AF_INET)->drain_started, 8000);
	sl_state_free(&st);
}

static void test_remove_each_state(void **state)
{
	static const int states[] = { SL_BE_ACTIVE, SL_BE_DRAINING, SL_BE_DRAINED };
	struct sl_vip_spec v = vip4(1, 80);
	struct sluice_addr a = be4(1);
	struct sl_state st;
	struct sl_be *b;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(states); i++) {
		two_backends(&st);
		if (states[i] != SL_BE_ACTIVE)
			CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
		if (states[i] == SL_BE_DRAINED)
			sl_be_drain_complete(need_be(&st, v, a, SLUICE_AF_INET));
		check_state(need_be(&st, v, a, SLUICE_AF_INET), states[i]);
		CHECK_INT(CHECK_HERE, sl_state_be_del(&st, &v, &a, SLUICE_AF_INET, err,
					  sizeof(err)), 0);
		if (get_be(&st, v, a, SLUICE_AF_INET))
			fail_msg("%s backend still present after removal",
				 sl_be_state_name(states[i]));
		CHECK_INT(CHECK_HERE, sl_state_n_backends(&st), 1);
		b = need_be(&st, v, be4(2), SLUICE_AF_INET);
		CHECK_INT(CHECK_HERE, b->id, 1);
		check_state(b, SL_BE_ACTIVE);
		/* A removed backend can be added again, as active. */
		be_add_ok(&st, v, a, SLUICE_AF_INET, 3);
		check_undrained(need_be(&st, v, a, SLUICE_AF_INET));
		CHECK_INT(CHECK_HERE, need_be(&st, v, a, SLUICE_AF_INET)->weight, 3);
		sl_state_free(&st);
	}

	/* Removing a VIP removes its backends in every state. */
	two_backends(&st);
	vip_add_ok(&st, vip6(53));
	be_add_ok(&st, vip6(53), be6(1), SLUICE_AF_INET6, 1);
	CHECK_INT(CHECK_HERE, drain(&st, 1, 1000, 5000), 0);
	CHECK_INT(CHECK_HERE, sl_state_vip_del(&st, &v, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, st.n_vips, 1);
	CHECK_INT(CHECK_HERE, sl_state_n_backends(&st), 1);
	if (sl_state_find_vip(&st, &v))
		fail_msg("removed VIP still found");
	need_be(&st, vip6(53), be6(1), SLUICE_AF_INET6);
	sl_state_free(&st);
}

struct err_case {
	const char *name;
	int expect;
	const char *msg;
};

static int run_err_op(struct sl_state *st, int op)
{
	struct sl_vip_spec v = vip4(1, 80), nov = vip4(1, 81), v6 = vip6(443);
	struct sluice_addr a = be4(1), noa = be4(99), a6 = be6(1);

	switch (op) {
	case 0:
		return sl_state_vip_add(st, &v, err, sizeof(err));
	case 1:
		return sl_state_vip_add(st, &v6, err, sizeof(err));
	case 2:
		return sl_state_vip_del(st, &nov, err, sizeof(err));
	case 3:
		return sl_state_be_add(st, &nov, &a, SLUICE_AF_INET, 1, err, sizeof(err));
	case 4:
		return sl_state_be_add(st, &v, &a, SLUICE_AF_INET, 5, err, sizeof(err));
	case 5:
		return sl_state_be_add(st, &v6, &a6, SLUICE_AF_INET6, 5, err, sizeof(err));
	case 6:
		return sl_state_be_del(st, &nov, &a, SLUICE_AF_INET, err, sizeof(err));
	case 7:
		return sl_state_be_del(st, &v, &noa, SLUICE_AF_INET, err, sizeof(err));
	case 8:
		/* Right bytes, wrong family. */
		return sl_state_be_del(st, &v, &a, SLUICE_AF_INET6, err, sizeof(err));
	case 9:
		return sl_state_be_drain(st, &nov, &a, SLUICE_AF_INET, 5, 5, err, sizeof(err));
	case 10:
		return sl_state_be_drain(st, &v, &noa, SLUICE_AF_INET, 5, 5, err, sizeof(err));
	case 11:
		return sl_state_be_undrain(st, &nov, &a, SLUICE_AF_INET, err, sizeof(err));
	case 12:
		return sl_state_be_undrain(st, &v, &noa, SLUICE_AF_INET, err, sizeof(err));
	default:
		/* Backend from another VIP: not on this one. */
		return sl_state_be_drain(st, &v, &a6, SLUICE_AF_INET6, 5, 5, err, sizeof(err));
	}
}

static void test_errors_leave_state(void **state)
{
	static const struct err_case cases[] = {
		{ "vip add duplicate", -EEXIST, "already exists" },
		{ "vip6 add duplicate", -EEXIST, "already exists" },
		{ "vip del missing", -ENOENT, "no such VIP" },
		{ "be add no VIP", -ENOENT, "no such VIP" },
		{ "be add duplicate", -EEXIST, "already exists" },
		{ "be6 add duplicate", -EEXIST, "already exists" },
		{ "be del no VIP", -ENOENT, "no such VIP" },
		{ "be del no backend", -ENOENT, "no such backend" },
		{ "be del wrong family", -ENOENT, "no such backend" },
		{ "drain no VIP", -ENOENT, "no such VIP" },
		{ "drain no backend", -ENOENT, "no such backend" },
		{ "undrain no VIP", -ENOENT, "no such VIP" },
		{ "undrain no backend", -ENOENT, "no such backend" },
		{ "drain backend of another VIP", -ENOENT, "no such backend" },
	};
	struct sl_state st, before;
	size_t i;
	int rc;

	(void)state;
	two_backends(&st);
	vip_add_ok(&st, vip6(443));
	be_add_ok(&st, vip6(443), be6(1), SLUICE_AF_INET6, 9);
	CHECK_INT(CHECK_HERE, drain(&st, 2, 100, 200), 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		copy_ok(&before, &st);
		err[0] = '\0';
		rc = run_err_op(&st, (int)i);
		if (rc != cases[i].expect)
			fail_msg("case \"%s\": rc = %d, expected %d", cases[i].name,
				 rc, cases[i].expect);
		if (!strstr(err, cases[i].msg))
			fail_msg("case \"%s\": err = \"%s\", expected it to contain \"%s\"",
				 cases[i].name, err, cases[i].msg);
		check_state_eq(cases[i].name, &st, &before);
		sl_state_free(&before);
	}
	sl_state_free(&st);
}

static void test_vip_limit(void **state)
{
	struct sl_state st, before;
	struct sl_vip_spec v;
	__u32 i;
	int rc;

	(void)state;
	sl_state_init(&st);
	for (i = 0; i < SLUICE_MAX_VIPS; i++)
		vip_add_ok(&st, vip4(1, 1000 + i));
	CHECK_INT(CHECK_HERE, st.n_vips, SLUICE_MAX_VIPS);
	for (i = 0; i < SLUICE_MAX_VIPS; i++)
		CHECK_INT(CHECK_HERE, st.vips[i].id, i);
	copy_ok(&before, &st);
	v = vip6(80);
	err[0] = '\0';
	rc = sl_state_vip_add(&st, &v, err, sizeof(err));
	CHECK_INT(CHECK_HERE, rc, -ENOSPC);
	CHECK_CONTAINS(CHECK_HERE, err, "256");
	CHECK_CONTAINS(CHECK_HERE, err, "SLUICE_MAX_VIPS");
	check_state_eq("VIP over the limit", &st, &before);
	sl_state_free(&before);
	/* Freeing one makes room again, under the freed id. */
	v = vip4(1, 1000 + 17);
	CHECK_INT(CHECK_HERE, sl_state_vip_del(&st, &v, err, sizeof(err)), 0);
	vip_add_ok(&st, vip6(80));
	v = vip6(80);
	CHECK_INT(CHECK_HERE, sl_state_find_vip(&st, &v)->id, 17);
	sl_state_free(&st);
}

static void test_backend_limit(void **state)
{
	struct sl_state st, before;
	struct sl_vip_spec v;
	struct sluice_addr a;
	static bool seen[SLUICE_MAX_BACKENDS];
	__u32 i, id;
	int rc;

	(void)state;
	memset(seen, 0, sizeof(seen));
	sl_state_init(&st);
	/* Spread over several VIPs: the limit is global. */
	for (i = 0; i < 4; i++)
		vip_add_ok(&st, vip4(2, 80 + i));
	for (i = 0; i < SLUICE_MAX_BACKENDS; i++) {
		id = be_add_ok(&st, vip4(2, 80 + i % 4), be4(i), SLUICE_AF_INET, 1);
		if (id >= SLUICE_MAX_BACKENDS || seen[id])
			fail_msg("backend %u got id %u: out of range or reused", i, id);
		seen[id] = true;
	}
	CHECK_INT(CHECK_HERE, sl_state_n_backends(&st), SLUICE_MAX_BACKENDS);
	copy_ok(&before, &st);
	v = vip4(2, 83);
	a = be4(SLUICE_MAX_BACKENDS);
	err[0] = '\0';
	rc = sl_state_be_add(&st, &v, &a, SLUICE_AF_INET, 1, err, sizeof(err));
	CHECK_INT(CHECK_HERE, rc, -ENOSPC);
	CHECK_CONTAINS(CHECK_HERE, err, "4096");
	CHECK_CONTAINS(CHECK_HERE, err, "SLUICE_MAX_BACKENDS");
	check_state_eq("backend over the limit", &st, &before);
	sl_state_free(&before);
	/* Removing one frees exactly its id. */
	a = be4(100);
	v = vip4(2, 80);
	CHECK_INT(CHECK_HERE, sl_state_be_del(&st, &v, &a, SLUICE_AF_INET, err, sizeof(err)), 0);
	a = be4(SLUICE_MAX_BACKENDS);
	CHECK_INT(CHECK_HERE, be_add_ok(&st, v, a, SLUICE_AF_INET, 1), 100);
	sl_state_free(&st);
}

static void test_be_id_round_robin(void **state)
{
	struct sl_state st;
	struct sl_vip_spec v = vip4(1, 80);
	struct sluice_addr a;

	(void)state;
	sl_state_init(&st);
	vip_add_ok(&st, v);
	CHECK_INT(CHECK_HERE, be_add_ok(&st, v, be4(1), SLUICE_AF_INET, 1), 0);
	CHECK_INT(CHECK_HERE, be_add_ok(&st, v, be4(2), SLUICE_AF_INET, 1), 1);
	CHECK_INT(CHECK_HERE, be_add_ok(&st, v, be4(3), SLUICE_AF_INET, 1), 2);
	a = be4(2);
	CHECK_INT(CHECK_HERE, sl_state_be_del(&st, &v, &a, SLUICE_AF_INET, err, sizeof(err)), 0);
	/* Id 1 is free, but the next one goes to 3. */
	CHECK_INT(CHECK_HERE, be_add_ok(&st, v, be4(4), SLUICE_AF_INET, 1), 3);
	CHECK_U64(CHECK_HERE, st.next_be_id, 4);
	/* Re-adding the removed address does not get its old id back either. */
	CHECK_INT(CHECK_HERE, be_add_ok(&st, v, be4(2), SLUICE_AF_INET, 1), 4);
	/* Wrap around: 4095, then 0 is taken, so the freed 1. */
	st.next_be_id = SLUICE_MAX_BACKENDS - 1;
	CHECK_INT(CHECK_HERE, be_add_ok(&st, v, be4(5), SLUICE_AF_INET, 1), SLUICE_MAX_BACKENDS - 1);
	CHECK_U64(CHECK_HERE, st.next_be_id, 0);
	CHECK_INT(CHECK_HERE, be_add_ok(&st, v, be4(6), SLUICE_AF_INET, 1), 1);
	CHECK_U64(CHECK_HERE, st.next_be_id, 2);
	CHECK_INT(CHECK_HERE, be_add_ok(&st, v, be4(7), SLUICE_AF_INET, 1), 5);
	sl_state_free(&st);

	/* A removed VIP's ids are not reused immediately either. */
	sl_state_init(&st);
	vip_add_ok(&st, v);
	vip_add_ok(&st, vip6(53));
	be_add_ok(&st, v, be4(1), SLUICE_AF_INET, 1);
	be_add_ok(&st, v, be4(2), SLUICE_AF_INET, 1);
	CHECK_INT(CHECK_HERE, sl_state_vip_del(&st, &v, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, be_add_ok(&st, vip6(53), be6(1), SLUICE_AF_INET6, 1), 2);
	sl_state_free(&st);
}

static void test_in_table(void **state)
{
	static const __u32 weights[] = { 0, 1, 100, SL_CFG_WEIGHT_MAX };
	struct sl_be be;
	int s, h;
	size_t w;
	bool want;

	(void)state;
	for (s = SL_BE_ACTIVE; s <= SL_BE_DRAINED; s++) {
		for (h = SL_HEALTH_UNKNOWN; h <= SL_HEALTH_DOWN; h++) {
			for (w = 0; w < ARRAY_SIZE(weights); w++) {
				memset(&be, 0, sizeof(be));
				be.state = s;
				be.health = h;
				be.weight = weights[w];
				want = s == SL_BE_ACTIVE && h != SL_HEALTH_DOWN &&
				       weights[w] > 0;
				if (sl_be_in_table(&be) != want)
					fail_msg("sl_be_in_table(state %s, health %s, weight %u) = %d, expected %d",
						 sl_be_state_name(s),
						 sl_health_name(h), weights[w],
						 sl_be_in_table(&be), want);
			}
		}
	}
}

/* Any port or protocol counts; another family or address does not. */
static void test_has_vip_addr(void **state)
{
	struct sl_state st;
	struct sl_vip_spec v = vip4(1, 80), v6 = vip6(53), other = vip4(2, 80);
	char err[ERR_MAX];

	(void)state;
	sl_state_init(&st);
	CHECK_NOT(CHECK_HERE, sl_state_has_vip_addr(&st, &v.addr, v.family));
	CHECK_INT(CHECK_HERE, sl_state_vip_add(&st, &v, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, sl_state_vip_add(&st, &v6, err, sizeof(err)), 0);
	CHECK(CHECK_HERE, sl_state_has_vip_addr(&st, &v.addr, v.family));
	CHECK(CHECK_HERE, sl_state_has_vip_addr(&st, &v6.addr, v6.family));
	CHECK_NOT(CHECK_HERE,
		  sl_state_has_vip_addr(&st, &other.addr, other.family));
	/* The same 32 bits as the IPv4 VIP, as IPv6: a different address. */
	CHECK_NOT(CHECK_HERE,
		  sl_state_has_vip_addr(&st, &v.addr, SLUICE_AF_INET6));
	sl_state_free(&st);
}

static void test_copy_independent(void **state)
{
	struct sl_state st, cp, snap;
	struct sl_vip_spec v = vip4(1, 80);
	struct sluice_addr a = be4(1);

	(void)state;
	/* An empty state copies to an empty state, next id included. */
	sl_state_init(&st);
	st.next_be_id = 77;
	copy_ok(&cp, &st);
	CHECK_INT(CHECK_HERE, cp.n_vips, 0);
	CHECK_U64(CHECK_HERE, cp.next_be_id, 77);
	sl_state_free(&cp);

	two_backends(&st);
	vip_add_ok(&st, vip6(53));		/* a VIP without backends */
	CHECK_INT(CHECK_HERE, drain(&st, 2, 10, 20), 0);
	need_be(&st, v, be4(1), SLUICE_AF_INET)->health = SL_HEALTH_DOWN;
	need_be(&st, v, be4(1), SLUICE_AF_INET)->flows = 12;
	copy_ok(&cp, &st);
	check_state_eq("fresh copy", &cp, &st);
	if (cp.vips == st.vips || cp.vips[0].bes == st.vips[0].bes)
		fail_msg("copy shares arrays with the original");
	copy_ok(&snap, &st);

	/* Change the copy every way: the original stays as it was. */
	CHECK_INT(CHECK_HERE, drain(&cp, 1, 50, 50), 0);
	cp.vips[0].bes[1].weight = 3;
	be_add_ok(&cp, v, be4(9), SLUICE_AF_INET, 1);
	be_add_ok(&cp, vip6(53), be6(1), SLUICE_AF_INET6, 1);
	CHECK_INT(CHECK_HERE, sl_state_be_del(&cp, &v, &a, SLUICE_AF_INET, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, sl_state_vip_del(&cp, &v, err, sizeof(err)), 0);
	check_state_eq("original after changing the copy", &st, &snap);

	/* And the other way round. */
	sl_state_free(&snap);
	copy_ok(&snap, &cp);
	sl_state_free(&st);
	check_state_eq("copy after freeing the original", &cp, &snap);
	sl_state_free(&snap);
	sl_state_free(&cp);
}

/*
 * The file's VIP section as a state, from (vip, be, weight) triples:
 * VIP vip4(vip, 80), backend be4(be); be 0 adds the VIP only.
 */
struct cfg_be {
	__u32 vip, be, weight;
};

static void cfg_state(struct sl_state *st, const struct cfg_be *c, size_t n)
{
	struct sl_vip_spec v;
	size_t i;

	sl_state_init(st);
	for (i = 0; i < n; i++) {
		v = vip4(c[i].vip, 80);
		if (!sl_state_find_vip(st, &v))
			vip_add_ok(st, v);
		if (c[i].be)
			be_add_ok(st, v, be4(c[i].be), SLUICE_AF_INET, c[i].weight);
	}
}

static void apply_ok(struct sl_state *st, const struct sl_state *old_cfg,
		     const struct sl_state *new_cfg)
{
	int rc = sl_state_apply_config(st, old_cfg, new_cfg, err, sizeof(err));

	if (rc)
		fail_msg("sl_state_apply_config: got %d (%s), expected 0", rc, err);
}

static void test_apply_config(void **state)
{
	static const struct cfg_be c1[] = {
		{ 1, 1, 100 }, { 1, 2, 100 }, { 3, 5, 100 },
	};
	static const struct cfg_be c2[] = {	/* re-weight 1, add 3 and VIP 2 */
		{ 1, 1, 50 }, { 1, 2, 100 }, { 1, 3, 100 }, { 3, 5, 100 },
		{ 2, 10, 20 },
	};
	static const struct cfg_be c3[] = {	/* drop 2, 3 and VIP 3 */
		{ 1, 1, 50 }, { 2, 10, 20 },
	};
	struct sl_state st, old_cfg, new_cfg, same;
	struct sl_vip_spec v1 = vip4(1, 80), v2 = vip4(2, 80), v3 = vip4(3, 80);
	struct sl_vip_spec v9 = vip6(53);
	struct sluice_addr a;
	struct sl_be *b;

	(void)state;
	cfg_state(&old_cfg, c1, ARRAY_SIZE(c1));
	copy_ok(&st, &old_cfg);
	/* Runtime changes: a backend and a VIP added, a drain. */
	be_add_ok(&st, v1, be4(4), SLUICE_AF_INET, 7);
	vip_add_ok(&st, v9);
	be_add_ok(&st, v9, be6(1), SLUICE_AF_INET6, 1);
	a = be4(2);
	CHECK_INT(CHECK_HERE, sl_state_be_drain(&st, &v1, &a, SLUICE_AF_INET, 1000, 5000,
				    err, sizeof(err)), 0);

	/* Applying an unchanged file changes nothing. */
	copy_ok(&same, &st);
	apply_ok(&st, &old_cfg, &old_cfg);
	check_state_eq("unchanged file", &st, &same);
	sl_state_free(&same);

	cfg_state(&new_cfg, c2, ARRAY_SIZE(c2));
	apply_ok(&st, &old_cfg, &new_cfg);
	b = need_be(&st, v1, be4(1), SLUICE_AF_INET);
	CHECK_INT(CHECK_HERE, b->weight, 50);
	check_state(b, SL_BE_ACTIVE);
	b = need_be(&st, v1, be4(2), SLUICE_AF_INET);
	check_state(b, SL_BE_DRAINING);
	CHECK_U64(CHECK_HERE, b->drain_deadline, 6000);
	CHECK_INT(CHECK_HERE, b->weight, 100);
	b = need_be(&st, v1, be4(3), SLUICE_AF_INET);
	check_state(b, SL_BE_ACTIVE);
	CHECK_INT(CHECK_HERE, b->weight, 100);
	CHECK_INT(CHECK_HERE, need_be(&st, v1, be4(4), SLUICE_AF_INET)->weight, 7);
	CHECK_INT(CHECK_HERE, need_be(&st, v2, be4(10), SLUICE_AF_INET)->weight, 20);
	need_be(&st, v3, be4(5), SLUICE_AF_INET);
	need_be(&st, v9, be6(1), SLUICE_AF_INET6);
	CHECK_INT(CHECK_HERE, st.n_vips, 4);
	CHECK_INT(CHECK_HERE, sl_state_n_backends(&st), 7);

	/* The file drops backends (one draining) and a VIP. */
	sl_state_free(&old_cfg);
	old_cfg = new_cfg;
	cfg_state(&new_cfg, c3, ARRAY_SIZE(c3));
	apply_ok(&st, &old_cfg, &new_cfg);
	if (get_be(&st, v1, be4(2), SLUICE_AF_INET) ||
	    get_be(&st, v1, be4(3), SLUICE_AF_INET))
		fail_msg("backends the file removed are still present");
	if (sl_state_find_vip(&st, &v3))
		fail_msg("VIP the file removed is still present");
	CHECK_INT(CHECK_HERE, need_be(&st, v1, be4(1), SLUICE_AF_INET)->weight, 50);
	CHECK_INT(CHECK_HERE, need_be(&st, v1, be4(4), SLUICE_AF_INET)->weight, 7);
	need_be(&st, v2, be4(10), SLUICE_AF_INET);
	need_be(&st, v9, be6(1), SLUICE_AF_INET6);
	CHECK_INT(CHECK_HERE, st.n_vips, 3);
	CHECK_INT(CHECK_HERE, sl_state_n_backends(&st), 4);

	sl_state_free(&old_cfg);
	sl_state_free(&new_cfg);
	sl_state_free(&st);
}

/* README: "Changes made with sluicectl are kept": removals included. */
static void test_apply_config_keeps_runtime_removals(void **state)
{
	static const struct cfg_be c1[] = {
		{ 1, 1, 100 }, { 1, 2, 100 }, { 2, 5, 100 },
	};
	static const struct cfg_be c2[] = {	/* only adds backend 3 */
		{ 1, 1, 100 }, { 1, 2, 100 }, { 1, 3, 100 }, { 2, 5, 100 },
	};
	struct sl_state st, old_cfg, new_cfg;
	struct sl_vip_spec v1 = vip4(1, 80), v2 = vip4(2, 80);
	struct sluice_addr a2 = be4(2);

	(void)state;
	cfg_state(&old_cfg, c1, ARRAY_SIZE(c1));
	cfg_state(&new_cfg, c2, ARRAY_SIZE(c2));
	copy_ok(&st, &old_cfg);
	CHECK_INT(CHECK_HERE, sl_state_be_del(&st, &v1, &a2, SLUICE_AF_INET, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, sl_state_vip_del(&st, &v2, err, sizeof(err)), 0);
	apply_ok(&st, &old_cfg, &new_cfg);
	need_be(&st, v1, be4(3), SLUICE_AF_INET);
	if (get_be(&st, v1, a2, SLUICE_AF_INET))
		fail_msg("backend removed at runtime was re-added by a reload that did not change it");
	if (sl_state_find_vip(&st, &v2))
		fail_msg("VIP removed at runtime was re-added by a reload that did not change it");
	sl_state_free(&old_cfg);
	sl_state_free(&new_cfg);
	sl_state_free(&st);
}

/* A file with @n IPv6 backends on [fd00::100]:443/udp, plus V1 with @c. */
static void big_cfg(struct sl_state *st, const struct cfg_be *c, size_t nc,
		    __u32 n)
{
	struct sl_vip_spec v6 = vip6(443);
	__u32 i;

	cfg_state(st, c, nc);
	vip_add_ok(st, v6);
	for (i = 0; i < n; i++)
		be_add_ok(st, v6, be6(i), SLUICE_AF_INET6, 1);
}

static void test_apply_config_error(void **state)
{
	static const struct cfg_be c1[] = { { 1, 1, 100 }, { 1, 2, 100 } };
	static const struct cfg_be c2[] = {	/* drop 2, re-weight 1, 2 VIPs */
		{ 1, 1, 60 }, { 3, 0, 0 }, { 4, 0, 0 },
	};
	static const struct cfg_be c3[] = { { 1, 1, 60 }, { 1, 2, 100 } };
	struct sl_state st, before, old_cfg, new_cfg;
	struct sl_vip_spec v1 = vip4(1, 80);
	struct sluice_addr a1 = be4(1);
	__u32 i;
	int rc;

	(void)state;
	cfg_state(&old_cfg, c1, ARRAY_SIZE(c1));
	copy_ok(&st, &old_cfg);
	CHECK_INT(CHECK_HERE, sl_state_be_drain(&st, &v1, &a1, SLUICE_AF_INET, 1000, 5000,
				    err, sizeof(err)), 0);
	/* Runtime VIPs fill all but one slot: the file's second VIP fails. */
	for (i = 1; i < SLUICE_MAX_VIPS; i++)
		vip_add_ok(&st, vip4(200, 1000 + i));
	cfg_state(&new_cfg, c2, ARRAY_SIZE(c2));
	copy_ok(&before, &st);
	err[0] = '\0';
	rc = sl_state_apply_config(&st, &old_cfg, &new_cfg, err, sizeof(err));
	CHECK_INT(CHECK_HERE, rc, -ENOSPC);
	CHECK_CONTAINS(CHECK_HERE, err, "SLUICE_MAX_VIPS");
	check_state_eq("reload over the VIP limit", &st, &before);
	sl_state_free(&before);
	sl_state_free(&new_cfg);
	sl_state_free(&st);

	/*
	 * Backend limit: 2000 runtime backends, and the file keeps 1 and 2,
	 * re-weights 1, and adds 2095: 4097.
	 */
	copy_ok(&st, &old_cfg);
	for (i = 0; i < 2000; i++)
		be_add_ok(&st, v1, be4(1000 + i), SLUICE_AF_INET, 1);
	big_cfg(&new_cfg, c3, ARRAY_SIZE(c3), SLUICE_MAX_BACKENDS - 2001);
	copy_ok(&before, &st);
	err[0] = '\0';
	rc = sl_state_apply_config(&st, &old_cfg, &new_cfg, err, sizeof(err));
	CHECK_INT(CHECK_HERE, rc, -ENOSPC);
	CHECK_CONTAINS(CHECK_HERE, err, "SLUICE_MAX_BACKENDS");
	check_state_eq("reload over the backend limit", &st, &before);
	sl_state_free(&before);
	sl_state_free(&new_cfg);
	sl_state_free(&st);

	/* Removals come first: dropping V1 makes room for 4096 new ones. */
	copy_ok(&st, &old_cfg);
	big_cfg(&new_cfg, NULL, 0, SLUICE_MAX_BACKENDS);
	apply_ok(&st, &old_cfg, &new_cfg);
	CHECK_INT(CHECK_HERE, sl_state_n_backends(&st), SLUICE_MAX_BACKENDS);
	CHECK_INT(CHECK_HERE, st.n_vips, 1);
	sl_state_free(&new_cfg);
	sl_state_free(&old_cfg);
	sl_state_free(&st);
}

/*
 * README "Limits": at most maglev.table_size backends per VIP, however
 * they came (the config loader checks only the file). A reload that
 * merges the file's additions with runtime ones goes past it here: the
 * merge itself cannot know the running table, the check before the
 * commit refuses it. Every backend counts, drained ones too.
 */
static void test_table_size(void **state)
{
	static const struct cfg_be c1[] = { { 1, 1, 100 }, { 1, 2, 100 } };
	static const struct cfg_be c2[] = {
		{ 1, 1, 100 },
		{ 1, 2, 100 },
		{ 1, 3, 100 },
		{ 2, 9, 100 },
	};
	struct sl_state st, old_cfg, new_cfg;
	struct sl_vip_spec v1 = vip4(1, 80);
	struct sluice_addr a1 = be4(1);
	int rc;

	(void)state;
	cfg_state(&old_cfg, c1, ARRAY_SIZE(c1));
	copy_ok(&st, &old_cfg);
	CHECK_INT(CHECK_HERE,
		  sl_state_check_table_size(&st, 2, err, sizeof(err)), 0);
	/* A runtime addition (backend add, etcd): 3 backends, 3 slots fit. */
	be_add_ok(&st, v1, be4(100), SLUICE_AF_INET, 100);
	CHECK_INT(CHECK_HERE,
		  sl_state_check_table_size(&st, 3, err, sizeof(err)), 0);
	err[0] = '\0';
	rc = sl_state_check_table_size(&st, 2, err, sizeof(err));
	CHECK_INT(CHECK_HERE, rc, -ENOSPC);
	CHECK_STR(
		CHECK_HERE, err,
		"VIP 198.18.0.1:80/tcp: 3 backends do not fit a Maglev table of 2 slots "
		"(at most one backend per slot; raise maglev.table_size, then restart sluiced)");

	/* A drained backend still counts: undrained, it needs its slot. */
	CHECK_INT(CHECK_HERE,
		  sl_state_be_drain(&st, &v1, &a1, SLUICE_AF_INET, 1000, 5000,
				    err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE,
		  sl_be_drain_complete(get_be(&st, v1, a1, SLUICE_AF_INET)), 1);
	CHECK_INT(CHECK_HERE,
		  sl_state_check_table_size(&st, 2, err, sizeof(err)), -ENOSPC);

	/* The file adds a third backend, the runtime one stays: 4 on V1. */
	cfg_state(&new_cfg, c2, ARRAY_SIZE(c2));
	apply_ok(&st, &old_cfg, &new_cfg);
	CHECK_INT(CHECK_HERE,
		  sl_state_check_table_size(&st, 4, err, sizeof(err)), 0);
	err[0] = '\0';
	CHECK_INT(CHECK_HERE,
		  sl_state_check_table_size(&st, 3, err, sizeof(err)), -ENOSPC);
	CHECK_CONTAINS(CHECK_HERE, err, "VIP 198.18.0.1:80/tcp: 4 backends");
	CHECK_CONTAINS(CHECK_HERE, err, "maglev.table_size");

	sl_state_free(&new_cfg);
	sl_state_free(&old_cfg);
	sl_state_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_backend_names),
		cmocka_unit_test(test_add_active),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_drain_retime),
		cmocka_unit_test(test_drained_stays_drained),
		cmocka_unit_test(test_complete_only_by_rule),
		cmocka_unit_test(test_drain_deadline),
		cmocka_unit_test(test_shift_drains),
		cmocka_unit_test(test_flows_shown),
		cmocka_unit_test(test_drain_track_reset),
		cmocka_unit_test(test_undrain),
		cmocka_unit_test(test_remove_each_state),
		cmocka_unit_test(test_errors_leave_state),
		cmocka_unit_test(test_vip_limit),
		cmocka_unit_test(test_backend_limit),
		cmocka_unit_test(test_be_id_round_robin),
		cmocka_unit_test(test_in_table),
		cmocka_unit_test(test_copy_independent),
		cmocka_unit_test(test_has_vip_addr),
		cmocka_unit_test(test_apply_config),
		cmocka_unit_test(test_apply_config_keeps_runtime_removals),
		cmocka_unit_test(test_apply_config_error),
		cmocka_unit_test(test_table_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
