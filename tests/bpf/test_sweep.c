/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sl_sweep() and sl_check_drain_table() against the balancer's real maps: what
 * each pass counts, expires, pins and counts as lost. The flows are
 * written as the datapath would (bpftest.h), stamped in the past of the
 * datapath's clock; no packet runs.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/bpftest.h"
#include "checker.h"
#include "sweep.h"

#define A	7	/* a backend that stays */
#define B	9	/* a backend that drains */
#define C	11	/* where a re-balanced flow of B went */

static const struct sl_sweep_cfg cfg = {
	.tcp_idle_ms = 900000,
	.udp_idle_ms = 30000,
	.close_grace_ms = 300,
	.close_linger_ms = 2000,
	.handshake_ms = 3000,
	.unconfirmed_ms = 10000,
};

static struct sluice_flow_key key(__u16 sport, __u8 proto)
{
	struct sluice_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = SLUICE_AF_INET;
	k.src.addr[0] = htonl(0xc6120a01);	/* 198.18.10.1 */
	k.dst.addr[0] = htonl(0xc6120064);	/* 198.18.0.100 */
	k.sport = htons(sport);
	k.dport = htons(80);
	k.proto = proto;
	return k;
}

/* A flow on @be, created @age ms ago, last seen @idle ms ago. */
static struct sluice_flow flow(__u32 be, __u8 state, __u8 flags, __u32 age,
			       __u32 idle)
{
	struct sluice_flow f;
	__u32 now = bt_now();

	memset(&f, 0, sizeof(f));
	f.backend_id = be;
	f.state = state;
	f.flags = flags;
	f.created = now - age;
	f.last_seen = now - idle;
	return f;
}

#define OPEN		SLUICE_FLOW_OPEN
#define CLOSING		SLUICE_FLOW_CLOSING
#define RESET		SLUICE_FLOW_RESET
#define CONF		SLUICE_FLOW_F_CONFIRMED

static void put(struct bt *t, __u16 sport, __u8 proto, struct sluice_flow f)
{
	struct sluice_flow_key k = key(sport, proto);

	bt_flow_put(t, &k, &f);
}

static bool in_flows(struct bt *t, __u16 sport, __u8 proto)
{
	struct sluice_flow_key k = key(sport, proto);
	struct sluice_flow f;

	return !bt_flow_get(t, &k, &f);
}

static bool in_drain_table(struct bt *t, __u16 sport, __u8 proto,
			   struct sluice_flow *f)
{
	struct sluice_flow_key k = key(sport, proto);
	struct sluice_flow tmp;

	return !bt_drain_table_get(t, &k, f ? f : &tmp);
}

/* Nothing drains: live flows and handshakes counted, ended ones expired. */
static void test_sweep_counts_and_expires(void **state)
{
	struct sl_sweep_result *res = calloc(1, sizeof(*res));
	struct bt *t = bt_open(BT_RING_SMALL);
	struct sluice_flow_key nk = key(2000, IPPROTO_TCP);
	struct sluice_flow nf = flow(A, OPEN, 0, 500, 500);

	(void)state;
	CHECK_NONNULL(CHECK_HERE, res);
	put(t, 1001, IPPROTO_TCP, flow(A, OPEN, CONF, 60000, 100));	/* live */
	put(t, 1002, IPPROTO_TCP, flow(A, OPEN, CONF, 2000000, 1000000)); /* idle */
	put(t, 1003, IPPROTO_TCP, flow(A, RESET, CONF, 5000, 100));	/* reset */
	put(t, 1004, IPPROTO_TCP, flow(A, CLOSING, CONF, 60000, 5000)); /* closed */
	put(t, 1005, IPPROTO_TCP, flow(A, OPEN, 0, 1000, 1000));	/* handshake */
	put(t, 1006, IPPROTO_TCP, flow(A, OPEN, 0, 20000, 20000));	/* never confirmed */
	put(t, 1007, IPPROTO_UDP, flow(A, OPEN, CONF, 60000, 40000));	/* idle UDP */
	put(t, 1008, IPPROTO_UDP, flow(A, OPEN, CONF, 60000, 1000));	/* live UDP */
	put(t, 1009, IPPROTO_TCP, flow(A, CLOSING, CONF, 60000, 1000)); /* lingers */
	bt_new_put(t, &nk, &nf);					/* a SYN's slot */

	CHECK_INT(CHECK_HERE, sl_sweep(&t->maps, &cfg, NULL, res), 0);
	CHECK_EQ("sweep", "flows[A]", res->flows[A], 2);
	CHECK_EQ("sweep", "handshakes[A]", res->handshakes[A], 2);
	CHECK_EQ("sweep", "expired", res->expired, 5);
	CHECK_EQ("sweep", "entries", res->entries, 4);
	CHECK_EQ("sweep", "new_entries", res->new_entries, 1);
	CHECK_EQ("sweep", "drain_table_entries", res->drain_table_entries, 0);
	CHECK_TRUE("sweep", "live kept", in_flows(t, 1001, IPPROTO_TCP));
	CHECK_TRUE("sweep", "idle gone", !in_flows(t, 1002, IPPROTO_TCP));
	CHECK_TRUE("sweep", "reset gone", !in_flows(t, 1003, IPPROTO_TCP));
	CHECK_TRUE("sweep", "closed gone", !in_flows(t, 1004, IPPROTO_TCP));
	CHECK_TRUE("sweep", "handshake kept", in_flows(t, 1005, IPPROTO_TCP));
	CHECK_TRUE("sweep", "unconfirmed gone", !in_flows(t, 1006, IPPROTO_TCP));
	CHECK_TRUE("sweep", "idle UDP gone", !in_flows(t, 1007, IPPROTO_UDP));
	CHECK_TRUE("sweep", "live UDP kept", in_flows(t, 1008, IPPROTO_UDP));
	CHECK_TRUE("sweep", "closed but lingering kept", in_flows(t, 1009, IPPROTO_TCP));
	bt_close(t);
	free(res);
}

/*
 * B drains. The sweeper copies B's confirmed flows (never its handshakes)
 * into the drain table, counts an evicted one from its copy there and drops
 * what belongs to a
 * backend that no longer drains. The checker then counts every kind of
 * end: live, moved while open (lost), moved after its close (not lost),
 * ended while open (lost), ended after a close (not lost), and evicted
 * but still live.
 */
static void test_drain_losses(void **state)
{
	struct sl_sweep_result *sw = calloc(1, sizeof(*sw));
	struct sl_check_result *ck = calloc(1, sizeof(*ck));
	static bool draining[SLUICE_MAX_BACKENDS];
	struct bt *t = bt_open(BT_RING_SMALL);
	struct sluice_flow_key k;
	struct sluice_flow f;

	(void)state;
	CHECK_NONNULL(CHECK_HERE, sw);
	CHECK_NONNULL(CHECK_HERE, ck);
	draining[B] = true;
	put(t, 2001, IPPROTO_TCP, flow(B, OPEN, CONF, 60000, 100));	/* live */
	put(t, 2002, IPPROTO_TCP, flow(B, OPEN, CONF, 60000, 100));	/* will move */
	put(t, 2003, IPPROTO_TCP, flow(B, CLOSING, CONF, 60000, 100));	/* moves closed */
	put(t, 2004, IPPROTO_TCP, flow(B, OPEN, 0, 1000, 1000));	/* handshake */
	put(t, 2005, IPPROTO_TCP, flow(A, OPEN, CONF, 60000, 100));	/* not draining */
	f = flow(B, OPEN, CONF, 60000, 100);				/* evicted */
	k = key(2006, IPPROTO_TCP);
	bt_drain_table_put(t, &k, &f);
	f = flow(A, OPEN, CONF, 60000, 100);				/* A's drain ended */
	k = key(2007, IPPROTO_TCP);
	bt_drain_table_put(t, &k, &f);

	CHECK_INT(CHECK_HERE, sl_sweep(&t->maps, &cfg, draining, sw), 0);
	CHECK_EQ("sweep", "flows[B]", sw->flows[B], 4);	/* 2001-2003, 2006 */
	CHECK_EQ("sweep", "handshakes[B]", sw->handshakes[B], 1);
	CHECK_EQ("sweep", "evicted[B]", sw->evicted[B], 1);
	CHECK_EQ("sweep", "drain_table_entries", sw->drain_table_entries, 4);
	CHECK_EQ("sweep", "unprotected", sw->unprotected, 0);
	CHECK_TRUE("sweep", "live kept",
		   in_drain_table(t, 2001, IPPROTO_TCP, NULL));
	CHECK_TRUE("sweep", "handshake not kept",
		   !in_drain_table(t, 2004, IPPROTO_TCP, NULL));
	CHECK_TRUE("sweep", "A not kept",
		   !in_drain_table(t, 2005, IPPROTO_TCP, NULL));
	CHECK_TRUE("sweep", "A dropped",
		   !in_drain_table(t, 2007, IPPROTO_TCP, NULL));
	CHECK_TRUE("sweep", "evicted marked",
		   in_drain_table(t, 2006, IPPROTO_TCP, &f) &&
			   (f.flags & SLUICE_FLOW_F_EVICTED));

	/* Between the passes: two flows re-balance to C, two end. */
	put(t, 2002, IPPROTO_TCP, flow(C, OPEN, CONF, 100, 100));
	put(t, 2003, IPPROTO_TCP, flow(C, OPEN, CONF, 100, 100));
	f = flow(B, OPEN, CONF, 2000000, 1000000);			/* idle, open */
	k = key(2008, IPPROTO_TCP);
	bt_flow_put(t, &k, &f);
	bt_drain_table_put(t, &k, &f);
	f = flow(B, CLOSING, CONF, 60000, 5000);			/* closed */
	k = key(2009, IPPROTO_TCP);
	bt_flow_put(t, &k, &f);
	bt_drain_table_put(t, &k, &f);

	CHECK_INT(CHECK_HERE,
		  sl_check_drain_table(&t->maps, &cfg, draining, ck), 0);
	CHECK_EQ("check", "entries", ck->entries, 6);
	CHECK_EQ("check", "flows[B]", ck->flows[B], 2);	/* 2001, 2006 */
	CHECK_EQ("check", "lost[B]", ck->lost[B], 2);	/* 2002 moved, 2008 idle */
	CHECK_EQ("check", "expired", ck->expired, 2);	/* 2008, 2009 */
	CHECK_TRUE("check", "moved dropped",
		   !in_drain_table(t, 2002, IPPROTO_TCP, NULL) &&
			   !in_drain_table(t, 2003, IPPROTO_TCP, NULL));
	CHECK_TRUE("check", "moved flow kept", in_flows(t, 2002, IPPROTO_TCP));
	CHECK_TRUE("check", "ended gone",
		   !in_flows(t, 2008, IPPROTO_TCP) &&
			   !in_drain_table(t, 2008, IPPROTO_TCP, NULL) &&
			   !in_flows(t, 2009, IPPROTO_TCP));
	CHECK_TRUE("check", "live still kept",
		   in_drain_table(t, 2001, IPPROTO_TCP, NULL) &&
			   in_drain_table(t, 2006, IPPROTO_TCP, NULL));

	/* A second pass counts no loss twice. */
	CHECK_INT(CHECK_HERE,
		  sl_check_drain_table(&t->maps, &cfg, draining, ck), 0);
	CHECK_EQ("check again", "lost[B]", ck->lost[B], 0);
	CHECK_EQ("check again", "flows[B]", ck->flows[B], 2);
	bt_close(t);
	free(sw);
	free(ck);
}

/*
 * A sweep that began before B's drain came into force (its snapshot: B
 * not draining) meets the pins the drain's walk made since: it must keep
 * them, or the checker would find nothing of B and end the drain early.
 * A pin of a backend that drains neither then nor now goes.
 */
static void test_sweep_keeps_pins_of_a_newer_drain(void **state)
{
	struct sl_sweep_result *res = calloc(1, sizeof(*res));
	static bool then[SLUICE_MAX_BACKENDS], now[SLUICE_MAX_BACKENDS];
	struct bt *t = bt_open(BT_RING_SMALL);
	struct sl_sweep_cfg c = cfg;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct sluice_flow_key k;
	struct sluice_flow f;

	(void)state;
	CHECK_TRUE("newer drain", "allocated", res != NULL);
	now[B] = true;
	c.drain_lock = &lock;
	c.draining_now = now;
	put(t, 3001, IPPROTO_TCP, flow(B, OPEN, CONF, 60000, 100));
	f = flow(B, OPEN, CONF, 60000, 100);
	k = key(3001, IPPROTO_TCP);
	bt_drain_table_put(t, &k, &f);
	put(t, 3002, IPPROTO_TCP, flow(A, OPEN, CONF, 60000, 100));
	f = flow(A, OPEN, CONF, 60000, 100);
	k = key(3002, IPPROTO_TCP);
	bt_drain_table_put(t, &k, &f);

	CHECK_INT("newer drain", sl_sweep(&t->maps, &c, then, res), 0);
	CHECK_TRUE("newer drain", "B's copy kept",
		   in_drain_table(t, 3001, IPPROTO_TCP, NULL));
	CHECK_TRUE("newer drain", "A's copy gone",
		   !in_drain_table(t, 3002, IPPROTO_TCP, NULL));
	CHECK_EQ("newer drain", "drain_table_entries", res->drain_table_entries,
		 1);
	bt_close(t);
	free(res);
}

struct held_sweep {
	struct bt *t;
	struct sl_sweep_cfg cfg;
	struct sl_sweep_result res;
	struct sl_hold hold;
	atomic_bool done;
	int rc;
};

static void *held_sweep_main(void *arg)
{
	struct held_sweep *h = arg;

	h->rc = sl_sweep(&h->t->maps, &h->cfg, NULL, &h->res);
	atomic_store(&h->done, true);
	return NULL;
}

/* While a drain walk runs (cfg.hold), a sweep waits between batches, and
 * goes on, whole, once it ends. */
static void test_sweep_holds_for_a_walk(void **state)
{
	struct held_sweep *h = calloc(1, sizeof(*h));
	__u32 i, n = SL_FLOW_BATCH + 1000;
	pthread_t thr;

	(void)state;
	CHECK_TRUE("hold", "allocated", h != NULL);
	h->t = bt_open(BT_RING_SMALL);
	h->cfg = cfg;
	CHECK_INT("hold", sl_hold_init(&h->hold), 0);
	h->cfg.hold = &h->hold;
	for (i = 0; i < n; i++)
		put(h->t, (__u16)(10000 + i), IPPROTO_TCP,
		    flow(A, OPEN, CONF, 1000, 100));
	sl_hold_set(&h->hold, true);
	CHECK_INT("hold", pthread_create(&thr, NULL, held_sweep_main, h), 0);
	usleep(200 * 1000);
	CHECK_TRUE("hold", "sweep waits while held", !atomic_load(&h->done));
	sl_hold_set(&h->hold, false);
	pthread_join(thr, NULL);
	CHECK_INT("hold", h->rc, 0);
	CHECK_EQ("hold", "flows[A] once released", h->res.flows[A], n);
	sl_hold_destroy(&h->hold);
	bt_close(h->t);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep_counts_and_expires),
		cmocka_unit_test(test_drain_losses),
		cmocka_unit_test(test_sweep_holds_for_a_walk),
		cmocka_unit_test(test_sweep_keeps_pins_of_a_newer_drain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
