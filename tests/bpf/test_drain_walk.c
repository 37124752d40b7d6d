/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, the drain walk (bpf/drain_walk.bpf.c, user/lib/drain_walk.c):
 * run over a real sl_flows, it copies the confirmed flows of draining
 * backends, and only those, into the drain table; counts their young
 * unconfirmed flows (and sl_new's) as handshakes, not the ended ones; and
 * counts the confirmed flows the drain table had no room for; walks the
 * shards on threads of their own, at a raised priority, and at once.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "../lib/bpftest.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "drain_walk.h"
#include "sweep.h"

#define DRAINING (BT_BE_ID_BASE + 1)
#define ACTIVE (BT_BE_ID_BASE + 2)

static const struct sl_sweep_cfg cfg = {
	.tcp_idle_ms = 900000,
	.udp_idle_ms = 30000,
	.close_grace_ms = 300,
	.close_linger_ms = 2000,
	.handshake_ms = 3000,
	.unconfirmed_ms = 10000,
};

struct pw {
	struct bt *t;
	struct sl_drain_walker *w;
	bool draining[SLUICE_MAX_BACKENDS];
};

/* Flows for the walks that must take clearly longer than starting a
 * thread: 65,536 a shard, some 10 ms of walk each. */
#define MANY_FLOWS (1U << 18)

/* A balancer with flows.table_size @flows, and a walker over it. */
static struct pw *open_pw(__u32 flows)
{
	struct pw *p = calloc(1, sizeof(*p));
	char err[256];

	CHECK_NONNULL(CHECK_HERE, p);
	p->t = bt_open_flows(BT_RING_SMALL, flows);
	if (sl_drain_walker_open(&p->t->maps, &p->w, err, sizeof(err)))
		fail_msg("%s", err);
	p->draining[DRAINING] = true;
	return p;
}

static int setup(void **state)
{
	*state = open_pw(BT_FLOWS);
	return 0;
}

/*
 * Room for MANY_FLOWS written from the CPUs this process may use: each
 * CPU keeps its own share (possible CPUs) of a shard's entries
 * (BPF_F_NO_COMMON_LRU), with twice the room an even split needs.
 */
static int setup_many(void **state)
{
	int possible = libbpf_num_possible_cpus();
	cpu_set_t set;

	CHECK_TRUE("setup", "possible CPUs", possible > 0);
	CHECK_INT(CHECK_HERE, sched_getaffinity(0, sizeof(set), &set), 0);
	*state = open_pw(2 * MANY_FLOWS / CPU_COUNT(&set) * possible);
	return 0;
}

static int teardown(void **state)
{
	struct pw *p = *state;

	sl_drain_walker_close(p->w);
	bt_close(p->t);
	free(p);
	return 0;
}

static struct sluice_flow_key key_n(__u32 n)
{
	struct sluice_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = SLUICE_AF_INET;
	k.proto = IPPROTO_TCP;
	k.src.addr[0] = htonl(0xc6130000 | (n & 0xffff)); /* 198.19.x.x */
	k.dst.addr[0] = htonl(0xc6120064); /* 198.18.0.100 */
	k.sport = htons(1024 + (n >> 16));
	k.dport = htons(80);
	return k;
}

static struct sluice_flow flow(__u32 be, bool confirmed, __u32 created)
{
	struct sluice_flow f;

	memset(&f, 0, sizeof(f));
	f.backend_id = be;
	f.created = created;
	f.last_seen = created;
	f.state = SLUICE_FLOW_OPEN;
	f.flags = confirmed ? SLUICE_FLOW_F_CONFIRMED : 0;
	return f;
}

/* Flow number @n into sl_flows. */
static void put(const struct pw *p, __u32 n, __u32 be, bool confirmed,
		__u32 created)
{
	struct sluice_flow_key k = key_n(n);
	struct sluice_flow f = flow(be, confirmed, created);

	bt_flow_put(p->t, &k, &f);
}

static void walk(struct pw *p, struct sl_sweep_result *res)
{
	CHECK_INT(CHECK_HERE, sl_drain_walk(p->w, &cfg, p->draining, res), 0);
}

/* 300 confirmed flows of the draining backend, 200 of an active one, 5
 * young and 7 old unconfirmed flows of the draining backend. */
static void test_keeps_what_drains(void **state)
{
	struct pw *p = *state;
	static struct sl_sweep_result res;
	__u32 now = bt_now(), n = 0, i, kept = 0;
	struct sluice_flow_key k;
	struct sluice_flow got;

	__u32 per_shard[SLUICE_FLOW_SHARDS] = { 0 };

	for (i = 0; i < 300; i++) {
		k = key_n(n);
		per_shard[sluice_flow_shard(&k)]++;
		put(p, n++, DRAINING, true, now);
	}
	/* Spread over every shard, so a shard the walk skipped fails it. */
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++)
		CHECK_TRUE("walk", "draining flows in every shard",
			   per_shard[i] > 0);
	for (i = 0; i < 200; i++)
		put(p, n++, ACTIVE, true, now);
	for (i = 0; i < 5; i++)
		put(p, n++, DRAINING, false, now - 1000);
	for (i = 0; i < 7; i++)
		put(p, n++, DRAINING, false, now - cfg.unconfirmed_ms - 5000);
	walk(p, &res);
	CHECK_EQ("walk", "entries seen", res.entries, (__u64)n);
	CHECK_EQ("walk", "flows it copied into the drain table",
		 res.drain_table_entries, 300);
	CHECK_EQ("walk", "handshakes of the draining backend",
		 res.handshakes[DRAINING], 5);
	CHECK_EQ("walk", "handshakes of the active one (not its business)",
		 res.handshakes[ACTIVE], 0);
	CHECK_EQ("walk", "unprotected", res.unprotected, 0);
	for (i = 0; i < n; i++) {
		k = key_n(i);
		if (bt_drain_table_get(p->t, &k, &got))
			continue;
		kept++;
		CHECK_EQ("walk", "kept flow's backend", got.backend_id,
			 DRAINING);
		CHECK_TRUE("walk", "kept flow confirmed",
			   got.flags & SLUICE_FLOW_F_CONFIRMED);
	}
	CHECK_EQ("walk", "flows in sl_pinned", kept, 300);
}

/* A full drain table: what does not fit is counted, per backend. */
static void test_counts_unprotected(void **state)
{
	struct pw *p = *state;
	static struct sl_sweep_result res;
	struct sluice_flow f = flow(ACTIVE, true, bt_now());
	struct sluice_flow_key k;
	__u32 i;

	/* Fill the drain table with other flows, then add 10 draining ones. */
	for (i = 0; i < BT_NEW_FLOWS; i++) {
		k = key_n(100000 + i);
		if (bpf_map_update_elem(p->t->maps.drain_table, &k, &f,
					BPF_NOEXIST))
			break;
	}
	for (i = 0; i < 10; i++)
		put(p, i, DRAINING, true, bt_now());
	walk(p, &res);
	CHECK_EQ("full", "unprotected of the draining backend",
		 res.unprotected_be[DRAINING], 10);
	CHECK_EQ("full", "unprotected", res.unprotected, 10);
}

/* A handshake in sl_new counts for its backend, as in a sweep. */
static void test_counts_new_slots(void **state)
{
	struct pw *p = *state;
	static struct sl_sweep_result res;
	struct sluice_flow_key k = key_n(7);
	struct sluice_flow f = flow(DRAINING, false, bt_now());

	bt_new_put(p->t, &k, &f);
	walk(p, &res);
	CHECK_EQ("sl_new", "handshakes", res.handshakes[DRAINING], 1);
	CHECK_EQ("sl_new", "slots in their window", res.new_entries, 1);
}

/*
 * The walk's young() (bpf/drain_walk.bpf.c) is sl_flow_judge() for an
 * unconfirmed flow, rewritten for the kernel: the two must agree on every
 * case, or a drain would count handshakes one way after a walk and
 * another after a sweep.
 */
static const struct judge_case {
	const char *name;
	__u8 state;
	__u32 age, idle; /* ms since created, since last seen */
} judge_cases[] = {
	{ "open, young", SLUICE_FLOW_OPEN, 1000, 1000 },
	{ "open, just inside unconfirmed", SLUICE_FLOW_OPEN, 9000, 100 },
	{ "open, past unconfirmed", SLUICE_FLOW_OPEN, 11000, 100 },
	{ "closing, within grace", SLUICE_FLOW_CLOSING, 2000, 100 },
	{ "closing, past grace", SLUICE_FLOW_CLOSING, 2000, 1000 },
	{ "closing, past both", SLUICE_FLOW_CLOSING, 12000, 1000 },
	{ "reset, young", SLUICE_FLOW_RESET, 500, 500 },
	{ "stamped after the walk read the clock", SLUICE_FLOW_OPEN, 0, 0 },
};
#define N_JUDGE_CASES (sizeof(judge_cases) / sizeof(judge_cases[0]))

static void test_judges_as_the_sweep(void **state)
{
	struct pw *p = *state;
	static struct sl_sweep_result walked, swept;
	struct sluice_flow_key k;
	struct sluice_flow f;
	__u32 now = bt_now(), i, judged = 0;

	for (i = 0; i < N_JUDGE_CASES; i++) {
		const struct judge_case *c = &judge_cases[i];

		k = key_n(i);
		f = flow(DRAINING, false, now - c->age);
		f.last_seen = now - c->idle;
		f.state = c->state;
		bt_flow_put(p->t, &k, &f);
		if (sl_flow_judge(&k, &f, false, now, &cfg) ==
		    SL_FLOW_HANDSHAKE)
			judged++;
	}
	walk(p, &walked);
	CHECK_EQ("judge", "walk's handshakes vs sl_flow_judge",
		 walked.handshakes[DRAINING], judged);
	CHECK_INT("judge", sl_sweep(&p->t->maps, &cfg, p->draining, &swept), 0);
	CHECK_EQ("judge", "sweep's handshakes vs the walk's",
		 swept.handshakes[DRAINING], walked.handshakes[DRAINING]);
	CHECK_TRUE("judge", "a table with both verdicts",
		   judged > 0 && judged < N_JUDGE_CASES);
}

/* Flows [@first, @first + @n) of the active backend, in one batch. */
static void put_active(struct pw *p, __u32 first, __u32 n)
{
	struct sluice_flow_key *k = calloc(n, sizeof(*k));
	struct sluice_flow *f = calloc(n, sizeof(*f));
	__u32 i;

	CHECK_TRUE("put", "memory", k && f);
	for (i = 0; i < n; i++) {
		k[i] = key_n(first + i);
		f[i] = flow(ACTIVE, true, bt_now());
	}
	CHECK_INT(CHECK_HERE, sl_flows_put_batch(&p->t->maps, k, f, n), 0);
	free(k);
	free(f);
}

/* MANY_FLOWS flows, written from each usable CPU in turn (setup_many). */
static void put_many(struct pw *p)
{
	cpu_set_t all, one;
	__u32 done = 0, share;
	int cpu, left;

	CHECK_INT(CHECK_HERE, sched_getaffinity(0, sizeof(all), &all), 0);
	left = CPU_COUNT(&all);
	for (cpu = 0; cpu < CPU_SETSIZE && left; cpu++) {
		if (!CPU_ISSET(cpu, &all))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		CHECK_INT(CHECK_HERE, sched_setaffinity(0, sizeof(one), &one),
			  0);
		share = (MANY_FLOWS - done) / left--;
		put_active(p, done, share);
		done += share;
	}
	CHECK_INT(CHECK_HERE, sched_setaffinity(0, sizeof(all), &all), 0);
}

/*
 * Each shard's thread runs the walk at SL_DRAIN_WALK_NICE (drain_walk.c
 * says why), from whatever nice the caller had (a new thread inherits
 * it); the walk reports its CPU time, which its threads (one per shard)
 * cannot spend faster than the wall clock each. Tests run as root, so the
 * raise is allowed.
 */
static void test_priority_raised(void **state)
{
	struct pw *p = *state;
	static struct sl_sweep_result res;
	pid_t tid = syscall(SYS_gettid);
	int before = getpriority(PRIO_PROCESS, tid);
	char tc[32];
	__u32 i;

	for (i = 0; i < 1000; i++)
		put(p, i, i % 2 ? DRAINING : ACTIVE, true, bt_now());
	/* Raising one's nice is always allowed; so is going back, as root. */
	CHECK_INT("nice", setpriority(PRIO_PROCESS, tid, 7), 0);
	walk(p, &res);
	CHECK_INT("nice", setpriority(PRIO_PROCESS, tid, before), 0);
	CHECK_INT("nice", sl_drain_walker_nice_err(p->w), 0);
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++) {
		snprintf(tc, sizeof(tc), "nice of shard %u", i);
		CHECK_INT(tc, sl_drain_walker_shard_nice(p->w, i),
			  SL_DRAIN_WALK_NICE);
	}
	CHECK_EQ("walk", "flows it copied", res.drain_table_entries, 500);
	/* One thread per shard: at most that many times the wall time. */
	CHECK_TRUE("walk", "CPU time reported, within the threads' wall time",
		   res.cpu_us > 0 && res.cpu_us <= (res.duration_us + 1000) *
							   SLUICE_FLOW_SHARDS);
}

/*
 * The shards are walked at once, not one after another: two walks or
 * more in the kernel together (the VM has two CPUs). Each walk is some
 * 10 ms and a thread starts in well under one, but a busy box may start
 * one late: a few tries, where walks one after another never overlap.
 */
static void test_shards_at_once(void **state)
{
	struct pw *p = *state;
	static struct sl_sweep_result res;
	unsigned int most = 0, i;

	put_many(p);
	for (i = 0; i < 5 && most < 2; i++) {
		walk(p, &res);
		CHECK_EQ("at once", "flows walked", res.entries, MANY_FLOWS);
		if (sl_drain_walker_overlap(p->w) > most)
			most = sl_drain_walker_overlap(p->w);
	}
	CHECK_TRUE("at once", "two shard walks or more in the kernel at once",
		   most >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keeps_what_drains, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_counts_unprotected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_counts_new_slots, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_judges_as_the_sweep, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_priority_raised, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shards_at_once, setup_many,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
