/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests for sl_flow_expired() in user/lib/sweep.c: timeouts, clock wrap, restart resume. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sweep.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define TCP_IDLE	900000U		/* 15m */
#define UDP_IDLE	30000U		/* 30s */
#define CLOSE_GRACE	2000U		/* 2s */
#define SYN_IDLE	5000U		/* 5s */

static const struct sl_sweep_cfg cfg = {
	.tcp_idle_ms = TCP_IDLE,
	.udp_idle_ms = UDP_IDLE,
	.close_grace_ms = CLOSE_GRACE,
	.syn_idle_ms = SYN_IDLE,
};

struct expiry_case {
	const char *name;
	__u8 proto;
	__u8 state;		/* SLUICE_FLOW_* */
	bool in_new;
	__u32 last_seen;
	__u32 now;
	bool expired;
};

#define T	IPPROTO_TCP
#define U	IPPROTO_UDP
#define OPEN	SLUICE_FLOW_OPEN
#define CLOSING	SLUICE_FLOW_CLOSING
#define BASE	100000U

static void mk_flow(__u8 proto, __u8 state, __u32 last_seen,
		    struct sluice_flow_key *k, struct sluice_flow *f)
{
	memset(k, 0, sizeof(*k));
	memset(f, 0, sizeof(*f));
	k->family = SLUICE_AF_INET;
	k->src.addr[0] = htonl(0xc6120a01);	/* 198.18.10.1 */
	k->dst.addr[0] = htonl(0xc6120064);	/* 198.18.0.100 */
	k->sport = htons(40000);
	k->dport = htons(80);
	k->proto = proto;
	f->backend_id = 3;
	f->last_seen = last_seen;
	f->created = last_seen;
	f->state = state;
}

static void run_cases(const char *group, const struct expiry_case *c, size_t n,
		      const struct sl_resume *rs)
{
	struct sluice_flow_key k;
	struct sluice_flow f;
	size_t i;
	bool got;

	for (i = 0; i < n; i++) {
		mk_flow(c[i].proto, c[i].state, c[i].last_seen, &k, &f);
		got = sl_flow_expired(&k, &f, c[i].in_new, c[i].now, &cfg, rs);
		if (got != c[i].expired)
			fail_msg("%s \"%s\": last_seen %u now %u (idle %d): expired = %d, expected %d",
				 group, c[i].name, c[i].last_seen, c[i].now,
				 (int)(c[i].now - c[i].last_seen), got,
				 c[i].expired);
	}
}

static void test_timeouts(void **state)
{
	static const struct expiry_case cases[] = {
		{ "tcp open, just touched", T, OPEN, false, BASE, BASE, false },
		{ "tcp open below idle", T, OPEN, false, BASE, BASE + TCP_IDLE - 1, false },
		{ "tcp open at idle", T, OPEN, false, BASE, BASE + TCP_IDLE, false },
		{ "tcp open above idle", T, OPEN, false, BASE, BASE + TCP_IDLE + 1, true },
		{ "tcp open far above idle", T, OPEN, false, BASE, BASE + 10 * TCP_IDLE, true },
		{ "tcp open past udp idle", T, OPEN, false, BASE, BASE + UDP_IDLE + 1, false },
		{ "tcp closing below grace", T, CLOSING, false, BASE, BASE + CLOSE_GRACE - 1, false },
		{ "tcp closing at grace", T, CLOSING, false, BASE, BASE + CLOSE_GRACE, false },
		{ "tcp closing above grace", T, CLOSING, false, BASE, BASE + CLOSE_GRACE + 1, true },
		{ "tcp closing in sl_new above grace", T, CLOSING, true, BASE, BASE + CLOSE_GRACE + 1, true },
		{ "udp closing above grace", U, CLOSING, false, BASE, BASE + CLOSE_GRACE + 1, true },
		{ "udp below idle", U, OPEN, false, BASE, BASE + UDP_IDLE - 1, false },
		{ "udp at idle", U, OPEN, false, BASE, BASE + UDP_IDLE, false },
		{ "udp above idle", U, OPEN, false, BASE, BASE + UDP_IDLE + 1, true },
		{ "tcp sl_new below syn idle", T, OPEN, true, BASE, BASE + SYN_IDLE - 1, false },
		{ "tcp sl_new above syn idle", T, OPEN, true, BASE, BASE + SYN_IDLE + 1, true },
		{ "tcp sl_new above syn, below tcp idle", T, OPEN, true, BASE, BASE + TCP_IDLE - 1, true },
		{ "udp sl_new below udp idle, above syn", U, OPEN, true, BASE, BASE + SYN_IDLE + 1, false },
		{ "udp sl_new above udp idle", U, OPEN, true, BASE, BASE + UDP_IDLE + 1, true },
		/* sl_clock wraps after 49 days. */
		{ "wrap: tcp below idle", T, OPEN, false, 0xfffff000U, 0x100, false },
		{ "wrap: tcp above idle", T, OPEN, false, 0xffffff00U, TCP_IDLE, true },
		{ "wrap: udp at idle", U, OPEN, false, 0xffffffffU, UDP_IDLE - 1, false },
		{ "wrap: udp above idle", U, OPEN, false, 0xffffffffU, UDP_IDLE, true },
		{ "wrap: closing above grace", T, CLOSING, false, 0xfffffc18U, 0x3e9, true },
		/* last_seen ahead of now: never expired. */
		{ "future: tcp by 1ms", T, OPEN, false, BASE + 1, BASE, false },
		{ "future: udp by a lot", U, OPEN, false, BASE + 0x70000000U, BASE, false },
		{ "future: closing", T, CLOSING, false, BASE + 5, BASE, false },
		{ "future across wrap", U, OPEN, false, 0x10, 0xfffffff0U, false },
		{ "future: sl_new", T, OPEN, true, 0x80000000U, 0x7fffffffU, false },
	};

	(void)state;
	run_cases("no resume", cases, ARRAY_SIZE(cases), NULL);
}

/* A zero timeout expires anything a millisecond old, but not the future. */
static void test_zero_timeouts(void **state)
{
	static const struct sl_sweep_cfg zero = { 0, 0, 0, 0 };
	struct sluice_flow_key k;
	struct sluice_flow f;

	(void)state;
	mk_flow(T, OPEN, BASE, &k, &f);
	if (sl_flow_expired(&k, &f, false, BASE, &zero, NULL))
		fail_msg("idle 0 with timeout 0: expired = 1, expected 0");
	if (!sl_flow_expired(&k, &f, false, BASE + 1, &zero, NULL))
		fail_msg("idle 1 with timeout 0: expired = 0, expected 1");
	if (sl_flow_expired(&k, &f, false, BASE - 1, &zero, NULL))
		fail_msg("idle -1 with timeout 0: expired = 1, expected 0");
}

/*
 * Restart: sl_clock stood still at FROZEN while sluiced was down, then
 * sluiced set it to RESUMED. Flows touched near FROZEN were alive during
 * the outage and are aged from RESUMED.
 */
#define FROZEN		5000000U
#define RESUMED		(FROZEN + 3600000U)	/* an hour later */

static void test_resume(void **state)
{
	static const struct expiry_case cases[] = {
		{ "touched at freeze, right after restart", T, OPEN, false,
		  FROZEN, RESUMED + 1, false },
		{ "touched at freeze, udp, right after restart", U, OPEN, false,
		  FROZEN, RESUMED + 100, false },
		{ "TOUCH_MS before freeze (still refreshed)", U, OPEN, false,
		  FROZEN - SLUICE_TOUCH_MS, RESUMED + UDP_IDLE, false },
		{ "TOUCH_MS before freeze, udp idle after restart", U, OPEN, false,
		  FROZEN - SLUICE_TOUCH_MS, RESUMED + UDP_IDLE + 1, true },
		{ "at freeze, tcp below idle since restart", T, OPEN, false,
		  FROZEN - 10, RESUMED + TCP_IDLE, false },
		{ "at freeze, tcp above idle since restart", T, OPEN, false,
		  FROZEN - 10, RESUMED + TCP_IDLE + 1, true },
		{ "at freeze, closing within grace of restart", T, CLOSING, false,
		  FROZEN, RESUMED + CLOSE_GRACE, false },
		{ "at freeze, closing past grace of restart", T, CLOSING, false,
		  FROZEN, RESUMED + CLOSE_GRACE + 1, true },
		{ "at freeze, sl_new within syn idle of restart", T, OPEN, true,
		  FROZEN, RESUMED + SYN_IDLE, false },
		{ "between freeze and restart", U, OPEN, false,
		  FROZEN + 1000, RESUMED + 10, false },
		/* Not refreshed in the last TOUCH_MS before the freeze. */
		{ "TOUCH_MS + 1 before freeze", U, OPEN, false,
		  FROZEN - SLUICE_TOUCH_MS - 1, RESUMED + 1, true },
		{ "idle long before freeze", T, OPEN, false,
		  FROZEN - 600000, RESUMED + 1, true },
		{ "closing long before freeze", T, CLOSING, false,
		  FROZEN - 60000, RESUMED + 1, true },
		/* Touched after the restart: its own last_seen counts. */
		{ "touched after restart, below idle", U, OPEN, false,
		  RESUMED + 500, RESUMED + 500 + UDP_IDLE, false },
		{ "touched after restart, above idle", U, OPEN, false,
		  RESUMED + 500, RESUMED + 501 + UDP_IDLE, true },
		{ "touched at restart, above idle", U, OPEN, false,
		  RESUMED, RESUMED + UDP_IDLE + 1, true },
	};
	struct sl_resume rs = { .active = true, .frozen = FROZEN, .resumed_at = RESUMED };
	struct sl_resume off = rs;
	struct sluice_flow_key k;
	struct sluice_flow f;

	(void)state;
	run_cases("resume", cases, ARRAY_SIZE(cases), &rs);

	/* Without the resume rule, the restart would have killed it. */
	off.active = false;
	mk_flow(T, OPEN, FROZEN, &k, &f);
	if (!sl_flow_expired(&k, &f, false, RESUMED + 1, &cfg, &off))
		fail_msg("resume inactive: flow idle since the freeze: expired = 0, expected 1");
	if (!sl_flow_expired(&k, &f, false, RESUMED + 1, &cfg, NULL))
		fail_msg("no resume: flow idle since the freeze: expired = 0, expected 1");
	/* The flow value is not rewritten by the decision. */
	if (f.last_seen != FROZEN)
		fail_msg("last_seen = %u after the call, expected %u", f.last_seen, FROZEN);
}

/* The same rule across the 32-bit wrap of sl_clock. */
static void test_resume_wrap(void **state)
{
	static const struct expiry_case frozen_low[] = {
		/*
		 * FROZEN = 200 (FROZEN - TOUCH_MS wraps to 0xfffffcb0),
		 * RESUMED = 5000; now = RESUMED + UDP_IDLE is over the
		 * timeout counted from last_seen, not from RESUMED.
		 */
		{ "last_seen before wrap, within TOUCH_MS", U, OPEN, false,
		  0xffffff00U, 5000 + UDP_IDLE, false },
		{ "last_seen before wrap, udp idle since restart", U, OPEN, false,
		  0xffffff00U, 5000 + UDP_IDLE + 1, true },
		{ "last_seen before wrap, outside TOUCH_MS", U, OPEN, false,
		  0xfffffc00U, 5000 + UDP_IDLE, true },
		{ "last_seen at freeze", U, OPEN, false, 200, 5000 + UDP_IDLE, false },
	};
	static const struct expiry_case resumed_wrapped[] = {
		/* FROZEN near the top, RESUMED = 0x10000 past the wrap. */
		{ "at freeze, restart after wrap", U, OPEN, false,
		  0xfffff000U, 0x10000 + 10, false },
		{ "within TOUCH_MS of freeze, restart after wrap", U, OPEN, false,
		  0xfffff000U - SLUICE_TOUCH_MS, 0x10000 + UDP_IDLE, false },
		{ "at freeze, udp idle after wrapped restart", U, OPEN, false,
		  0xfffff000U, 0x10000 + UDP_IDLE + 1, true },
		{ "idle before freeze, restart after wrap", U, OPEN, false,
		  0xfffff000U - 100000, 0x10000 + 10, true },
	};
	struct sl_resume rs = { .active = true, .frozen = 200, .resumed_at = 5000 };

	(void)state;
	run_cases("resume, frozen near 0", frozen_low, ARRAY_SIZE(frozen_low), &rs);
	rs.frozen = 0xfffff000U;
	rs.resumed_at = 0x10000;
	run_cases("resume, restart after wrap", resumed_wrapped,
		  ARRAY_SIZE(resumed_wrapped), &rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_zero_timeouts),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_resume_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
