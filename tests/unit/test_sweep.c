/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests for sl_flow_judge() and sl_flow_is_loss() in user/lib/sweep.c:
 * live, handshake or ended, at every timeout's edge, across the clock wrap. */
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

#include "array.h"

#define TCP_IDLE	900000U		/* 15m */
#define UDP_IDLE	30000U		/* 30s */
#define CLOSE_GRACE	300U		/* 300ms */
#define CLOSE_LINGER	2000U		/* 2s */
#define HANDSHAKE	3000U		/* 3s */
#define UNCONFIRMED	10000U		/* 10s */

static const struct sl_sweep_cfg cfg = {
	.tcp_idle_ms = TCP_IDLE,
	.udp_idle_ms = UDP_IDLE,
	.close_grace_ms = CLOSE_GRACE,
	.close_linger_ms = CLOSE_LINGER,
	.handshake_ms = HANDSHAKE,
	.unconfirmed_ms = UNCONFIRMED,
};

struct judge_case {
	const char *name;
	__u8 proto;
	__u8 state;		/* SLUICE_FLOW_* */
	bool confirmed;
	bool in_new;
	__u32 created;
	__u32 last_seen;
	__u32 now;
	enum sl_flow_verdict want;
};

#define T	IPPROTO_TCP
#define U	IPPROTO_UDP
#define OPEN	SLUICE_FLOW_OPEN
#define CLOSING	SLUICE_FLOW_CLOSING
#define RESET	SLUICE_FLOW_RESET
#define LIVE	SL_FLOW_LIVE
#define HS	SL_FLOW_HANDSHAKE
#define ENDED	SL_FLOW_ENDED
#define CLOSED	SL_FLOW_CLOSED
#define B	100000U

static void mk_flow(const struct judge_case *c, struct sluice_flow_key *k,
		    struct sluice_flow *f)
{
	memset(k, 0, sizeof(*k));
	memset(f, 0, sizeof(*f));
	k->family = SLUICE_AF_INET;
	k->src.addr[0] = htonl(0xc6120a01);	/* 198.18.10.1 */
	k->dst.addr[0] = htonl(0xc6120064);	/* 198.18.0.100 */
	k->sport = htons(40000);
	k->dport = htons(80);
	k->proto = c->proto;
	f->backend_id = 3;
	f->created = c->created;
	f->last_seen = c->last_seen;
	f->state = c->state;
	f->flags = c->confirmed ? SLUICE_FLOW_F_CONFIRMED : 0;
}

static const char *verdict(enum sl_flow_verdict v)
{
	return v == LIVE ? "live" : v == HS ? "handshake" :
	       v == CLOSED ? "closed" : "ended";
}

static void run_cases(const struct judge_case *c, size_t n,
		      const struct sl_sweep_cfg *conf)
{
	struct sluice_flow_key k;
	struct sluice_flow f;
	enum sl_flow_verdict got;
	size_t i;

	for (i = 0; i < n; i++) {
		mk_flow(&c[i], &k, &f);
		got = sl_flow_judge(&k, &f, c[i].in_new, c[i].now, conf);
		if (got != c[i].want)
			fail_msg("\"%s\": created %u last_seen %u now %u: %s, expected %s",
				 c[i].name, c[i].created, c[i].last_seen, c[i].now,
				 verdict(got), verdict(c[i].want));
	}
}

/* Confirmed flows: idle timeouts and close_grace after the last packet. */
static void test_confirmed(void **state)
{
	static const struct judge_case cases[] = {
		{ "tcp open, just touched", T, OPEN, true, false, B, B, B, LIVE },
		{ "tcp open at idle", T, OPEN, true, false, B, B, B + TCP_IDLE, LIVE },
		{ "tcp open above idle", T, OPEN, true, false, B, B, B + TCP_IDLE + 1, ENDED },
		{ "tcp open past udp idle", T, OPEN, true, false, B, B, B + UDP_IDLE + 1, LIVE },
		{ "udp at idle", U, OPEN, true, false, B, B, B + UDP_IDLE, LIVE },
		{ "udp above idle", U, OPEN, true, false, B, B, B + UDP_IDLE + 1, ENDED },
		{ "closing at grace", T, CLOSING, true, false, B, B, B + CLOSE_GRACE, LIVE },
		/* Past the grace: not counted, but kept until close_linger so
		 * that a late client packet still finds its backend. */
		{ "closing above grace", T, CLOSING, true, false, B, B, B + CLOSE_GRACE + 1, CLOSED },
		{ "closing at linger", T, CLOSING, true, false, B, B, B + CLOSE_LINGER, CLOSED },
		{ "closing above linger", T, CLOSING, true, false, B, B, B + CLOSE_LINGER + 1, ENDED },
		/* Half-closed: FIN long ago, but the client keeps ACKing. */
		{ "half-closed, client still sending", T, CLOSING, true, false,
		  B, B + 60000, B + 60000 + CLOSE_GRACE - 1, LIVE },
		{ "reset, just now", T, RESET, true, false, B, B, B, ENDED },
		{ "reset, future stamp", T, RESET, true, false, B, B + 5, B, ENDED },
		/* The 32-bit ms clock wraps after 49 days. */
		{ "wrap: tcp below idle", T, OPEN, true, false, 0xfffff000U, 0xfffff000U, 0x100, LIVE },
		{ "wrap: tcp above idle", T, OPEN, true, false, 0xffffff00U, 0xffffff00U, TCP_IDLE, ENDED },
		{ "wrap: closing above linger", T, CLOSING, true, false, 0xfffffc18U, 0xfffffc18U, 0x3e9, ENDED },
		{ "wrap: closing above grace", T, CLOSING, true, false, 0xffffff00U, 0xffffff00U, 0x2d, CLOSED },
		/* last_seen ahead of now (stamped after we read the clock). */
		{ "future: tcp by 1ms", T, OPEN, true, false, B, B + 1, B, LIVE },
		{ "future across wrap", U, OPEN, true, false, 0x10, 0x10, 0xfffffff0U, LIVE },
	};

	(void)state;
	run_cases(cases, ARRAY_SIZE(cases), &cfg);
}

/* Unconfirmed flows: handshakes until unconfirmed_timeout after creation,
 * however recently they were touched (a spoofed pair never confirms). */
static void test_unconfirmed(void **state)
{
	static const struct judge_case cases[] = {
		{ "fresh", T, OPEN, false, false, B, B, B, HS },
		{ "at the timeout", T, OPEN, false, false, B, B, B + UNCONFIRMED, HS },
		{ "above the timeout", T, OPEN, false, false, B, B, B + UNCONFIRMED + 1, ENDED },
		{ "touched lately, created long ago", T, OPEN, false, false,
		  B, B + UNCONFIRMED, B + UNCONFIRMED + 1, ENDED },
		{ "udp above the timeout", U, OPEN, false, false, B, B, B + UNCONFIRMED + 1, ENDED },
		{ "closing within grace", T, CLOSING, false, false, B, B, B + CLOSE_GRACE, HS },
		{ "closing above grace", T, CLOSING, false, false, B, B, B + CLOSE_GRACE + 1, ENDED },
		{ "reset", T, RESET, false, false, B, B, B, ENDED },
		{ "future", T, OPEN, false, false, B + 9, B + 9, B, HS },
	};

	(void)state;
	run_cases(cases, ARRAY_SIZE(cases), &cfg);
}

/* sl_new slots: a handshake for handshake_timeout after their packet. */
static void test_new_slots(void **state)
{
	static const struct judge_case cases[] = {
		{ "syn just now", T, OPEN, false, true, B, B, B, HS },
		{ "syn at the window", T, OPEN, false, true, B, B, B + HANDSHAKE, HS },
		{ "syn past the window", T, OPEN, false, true, B, B, B + HANDSHAKE + 1, ENDED },
		{ "syn long past, below tcp idle", T, OPEN, false, true, B, B, B + TCP_IDLE - 1, ENDED },
		{ "udp first datagram past the window", U, OPEN, false, true, B, B, B + HANDSHAKE + 1, ENDED },
		{ "future slot", T, OPEN, false, true, 0x80000000U, 0x80000000U, 0x7fffffffU, HS },
	};

	(void)state;
	run_cases(cases, ARRAY_SIZE(cases), &cfg);
}

/* A zero timeout ends anything a millisecond old, but not the future. */
static void test_zero_timeouts(void **state)
{
	static const struct sl_sweep_cfg zero = { 0 };	/* every timeout 0 */
	static const struct judge_case cases[] = {
		{ "idle 0", T, OPEN, true, false, B, B, B, LIVE },
		{ "idle 1", T, OPEN, true, false, B, B, B + 1, ENDED },
		{ "idle -1", T, OPEN, true, false, B, B, B - 1, LIVE },
		{ "unconfirmed idle 1", T, OPEN, false, false, B, B, B + 1, ENDED },
		{ "slot idle 1", T, OPEN, false, true, B, B, B + 1, ENDED },
	};

	(void)state;
	run_cases(cases, ARRAY_SIZE(cases), &zero);
}

/* Only a confirmed TCP flow ended while open is a loss. */
static void test_loss(void **state)
{
	static const struct {
		const char *name;
		__u8 proto, state;
		bool confirmed, loss;
	} cases[] = {
		{ "confirmed open tcp", T, OPEN, true, true },
		{ "confirmed closing tcp (tuple reuse, grace)", T, CLOSING, true, false },
		{ "confirmed reset tcp", T, RESET, true, false },
		{ "unconfirmed open tcp (phantom)", T, OPEN, false, false },
		{ "confirmed udp", U, OPEN, true, false },
	};
	struct judge_case c;
	struct sluice_flow_key k;
	struct sluice_flow f;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&c, 0, sizeof(c));
		c.proto = cases[i].proto;
		c.state = cases[i].state;
		c.confirmed = cases[i].confirmed;
		mk_flow(&c, &k, &f);
		if (sl_flow_is_loss(&k, &f) != cases[i].loss)
			fail_msg("\"%s\": loss = %d, expected %d", cases[i].name,
				 !cases[i].loss, cases[i].loss);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confirmed),
		cmocka_unit_test(test_unconfirmed),
		cmocka_unit_test(test_new_slots),
		cmocka_unit_test(test_zero_timeouts),
		cmocka_unit_test(test_loss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
