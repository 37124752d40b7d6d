/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests for sl_flow_expired() in user/lib/sweep.c: timeouts, clock wrap. */
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

static void run_cases(const char *group, const struct expiry_case *c, size_t n)
{
	struct sluice_flow_key k;
	struct sluice_flow f;
	size_t i;
	bool got;

	for (i = 0; i < n; i++) {
		mk_flow(c[i].proto, c[i].state, c[i].last_seen, &k, &f);
		got = sl_flow_expired(&k, &f, c[i].in_new, c[i].now, &cfg);
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
		/* The 32-bit ms clock wraps after 49 days. */
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
	run_cases("timeouts", cases, ARRAY_SIZE(cases));
}

/* A zero timeout expires anything a millisecond old, but not the future. */
static void test_zero_timeouts(void **state)
{
	static const struct sl_sweep_cfg zero = { 0, 0, 0, 0 };
	struct sluice_flow_key k;
	struct sluice_flow f;

	(void)state;
	mk_flow(T, OPEN, BASE, &k, &f);
	if (sl_flow_expired(&k, &f, false, BASE, &zero))
		fail_msg("idle 0 with timeout 0: expired = 1, expected 0");
	if (!sl_flow_expired(&k, &f, false, BASE + 1, &zero))
		fail_msg("idle 1 with timeout 0: expired = 0, expected 1");
	if (sl_flow_expired(&k, &f, false, BASE - 1, &zero))
		fail_msg("idle -1 with timeout 0: expired = 1, expected 0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_zero_timeouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
