/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, flow state: a flow's first packet sits in sl_new, its second
 * moves it to sl_flows; established flows keep their backend when the
 * table is rebuilt without it (the datapath half of a drain); FIN marks a
 * flow closing, RST reset; a non-SYN miss is forwarded and counted. The
 * drain flags and confirmation are tested in test_drain.c.
 */
#include <bpf/bpf.h>
#include "../lib/bpftest.h"
#include "sluice.skel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#pragma GCC diagnostic ignored "-Woverride-init"	/* spec defaults */

enum { V4_TCP, V4_UDP, V6_TCP, V6_UDP };

#define VIP4		"198.18.0.100"
#define VIP6		"fd00::100"
#define CLIENT4		"198.18.2.1"
#define CLIENT6		"fd00:c::1"

static const char *const be4[] = {
	"198.18.1.10", "198.18.1.11", "198.18.1.12", "198.18.1.13",
	"198.18.1.14", NULL
};
static const char *const be6[] = {
	"fd00:be::10", "fd00:be::11", "fd00:be::12", NULL
};

#define TCP4(...) { .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_TCP,	\
		    .dport = 80, .df = 1, __VA_ARGS__ }
#define TCP6(...) { .src = CLIENT6, .dst = VIP6, .proto = IPPROTO_TCP,	\
		    .dport = 80, __VA_ARGS__ }

static int setup(void **state)
{
	struct bt *t = bt_open(BT_RING_MEDIUM);

	bt_vip_add(t, VIP4, 80, IPPROTO_TCP, be4);
	bt_vip_add(t, VIP4, 53, IPPROTO_UDP, be4);
	bt_vip_add(t, VIP6, 80, IPPROTO_TCP, be6);
	bt_vip_add(t, VIP6, 53, IPPROTO_UDP, be6);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	bt_close(*state);
	return 0;
}

/* Send @s with @flags; expect it encapsulated to backend @be_id. */
static void send_to(struct bt *t, const char *ctx, struct pkt_spec *s,
		    __u8 flags, __u32 be_id)
{
	struct bt_result r;
	struct pkt in;

	s->tcp_flags = flags;
	s->seq++;
	bt_run_spec(t, ctx, s, &in, &r);
	bt_check_verdict(ctx, &r, XDP_TX, SLUICE_R_FWD_TX);
	bt_check_encap(ctx, &r, &in, bt_backend(t, be_id));
}

/* Where the flow of @s is: 'n' sl_new, 'f' sl_flows, '-' nowhere. */
static char flow_where(const struct bt *t, const struct pkt_spec *s,
		       struct sluice_flow *f)
{
	struct sluice_flow_key key;
	struct sluice_flow tmp;
	int in_new, in_flows;

	pkt_flow_key(s, &key);
	in_new = bt_new_get(t, &key, &tmp) == 0;
	in_flows = bt_flow_get(t, &key, f) == 0;
	if (in_new && in_flows)
		return 'B';	/* both: never valid */
	if (in_new)
		*f = tmp;
	return in_new ? 'n' : in_flows ? 'f' : '-';
}

static void check_flow(const struct bt *t, const char *ctx,
		       const struct pkt_spec *s, char where, __u32 be_id,
		       __u8 state)
{
	struct sluice_flow f;
	char got;

	memset(&f, 0, sizeof(f));
	got = flow_where(t, s, &f);
	if (got != where) {
		print_message("# %s: flow is in %c, expected %c (n: sl_new, f: sl_flows, -: none)\n",
			      ctx, got, where);
		fail();
	}
	if (where == '-')
		return;
	CHECK_EQ(ctx, "flow backend_id", f.backend_id, be_id);
	CHECK_EQ(ctx, "flow state", f.state, state);
	CHECK_EQ(ctx, "flow epoch", f.epoch, bt_backend(t, be_id)->epoch);
}

static __u32 pick(const struct bt *t, int vip, const struct pkt_spec *s)
{
	struct sluice_flow_key key;

	pkt_flow_key(s, &key);
	return bt_pick(t, &t->vips[vip], &key);
}

/* SYN -> sl_new; SYN retransmit stays; ACK promotes to sl_flows. */
static void test_syn_new_then_promoted(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP4(.sport = 30000);
	struct sluice_vip_stats vs;
	struct sluice_be_stats bs;
	struct sluice_flow f;
	__u32 be = pick(t, V4_TCP, &s), t0 = bt_now(), t1;

	send_to(t, "SYN", &s, PKT_TCP_SYN, be);
	t1 = bt_now();
	check_flow(t, "after SYN", &s, 'n', be, SLUICE_FLOW_OPEN);
	flow_where(t, &s, &f);
	CHECK_TIME_IN("after SYN", "flow created", f.created, t0, t1);
	CHECK_TIME_IN("after SYN", "flow last_seen", f.last_seen, t0, t1);

	send_to(t, "SYN retransmit", &s, PKT_TCP_SYN, be);
	check_flow(t, "after SYN retransmit", &s, 'n', be, SLUICE_FLOW_OPEN);

	send_to(t, "ACK", &s, PKT_TCP_ACK, be);
	check_flow(t, "after ACK", &s, 'f', be, SLUICE_FLOW_OPEN);

	send_to(t, "data", &s, PKT_TCP_ACK | PKT_TCP_PSH, be);
	check_flow(t, "after data", &s, 'f', be, SLUICE_FLOW_OPEN);

	bt_vip_stats(t, &t->vips[V4_TCP], &vs);
	CHECK_EQ("vip", "packets", vs.packets, 4);
	CHECK_EQ("vip", "new_flows", vs.new_flows, 1);
	CHECK_EQ("vip", "promoted", vs.promoted, 1);
	CHECK_EQ("vip", "non_syn_miss", vs.non_syn_miss, 0);
	bt_be_stats(t, be, &bs);
	CHECK_EQ("backend", "packets", bs.packets, 4);
	CHECK_EQ("backend", "new_flows", bs.new_flows, 1);
	CHECK_EQ("backend", "closing", bs.closing, 0);
	bt_assert_reasons_total(t);
}

/* A source port from @from whose flow the table @table sends to @be. */
static __u16 find_sport(const struct bt *t, const __u32 *table,
			struct pkt_spec *s, __u16 from, __u32 be)
{
	struct sluice_flow_key key;
	__u16 p;

	for (p = from; p < from + 20000; p++) {
		s->sport = p;
		pkt_flow_key(s, &key);
		if (table[bt_slot(t, &key)] == be)
			return p;
	}
	print_message("# no source port from %u maps to backend %u\n", from, be);
	fail();
	return 0;
}

/*
 * Drain, datapath half: the table is rebuilt without backend B (its
 * sl_backends entry stays). An established flow and a handshake in flight
 * on B stay on B; a new flow hashing to a slot B used to own goes to the
 * slot's new owner.
 */
static void test_drain_keeps_established(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_TCP];
	struct pkt_spec est = TCP4(.sport = 30000);
	struct pkt_spec hs = TCP4(), fresh = TCP4();
	struct sluice_vip_stats vs;
	struct sluice_be_stats bs;
	__u32 *old, be, owner, slot;
	struct sluice_flow_key key;
	size_t i;
	int idx;

	be = pick(t, V4_TCP, &est);
	idx = bt_vip_be_index(v, be);
	CHECK(CHECK_HERE, idx >= 0);
	old = malloc(t->ring_size * sizeof(*old));
	CHECK_NONNULL(CHECK_HERE, old);
	memcpy(old, v->table, t->ring_size * sizeof(*old));
	find_sport(t, old, &hs, 31000, be);
	find_sport(t, old, &fresh, hs.sport + 1, be);

	send_to(t, "established: SYN", &est, PKT_TCP_SYN, be);
	send_to(t, "established: ACK", &est, PKT_TCP_ACK, be);
	check_flow(t, "established", &est, 'f', be, SLUICE_FLOW_OPEN);
	send_to(t, "handshake: SYN", &hs, PKT_TCP_SYN, be);

	bt_vip_set_weight(t, v, idx, 0);	/* drain: out of the table */
	for (i = 0; i < t->ring_size; i++)
		CHECK_EQ("new table", "slot still names the drained backend",
		      v->table[i] == be, 0);

	send_to(t, "established after drain", &est, PKT_TCP_ACK, be);
	check_flow(t, "established after drain", &est, 'f', be,
		   SLUICE_FLOW_OPEN);
	send_to(t, "handshake: ACK after drain", &hs, PKT_TCP_ACK, be);
	check_flow(t, "handshake after drain", &hs, 'f', be, SLUICE_FLOW_OPEN);

	pkt_flow_key(&fresh, &key);
	slot = bt_slot(t, &key);
	owner = v->table[slot];
	CHECK_EQ("new flow", "old owner of its slot", old[slot], be);
	CHECK_TRUE("new flow", "slot has a new owner", owner != be);
	send_to(t, "new flow after drain", &fresh, PKT_TCP_SYN, owner);
	check_flow(t, "new flow after drain", &fresh, 'n', owner,
		   SLUICE_FLOW_OPEN);

	bt_be_stats(t, be, &bs);
	CHECK_EQ("drained backend", "packets", bs.packets, 5);
	CHECK_EQ("drained backend", "new_flows", bs.new_flows, 2);
	bt_be_stats(t, owner, &bs);
	CHECK_EQ("new owner", "packets", bs.packets, 1);
	CHECK_EQ("new owner", "new_flows", bs.new_flows, 1);
	bt_vip_stats(t, v, &vs);
	CHECK_EQ("vip", "packets", vs.packets, 6);
	CHECK_EQ("vip", "new_flows", vs.new_flows, 3);
	CHECK_EQ("vip", "promoted", vs.promoted, 2);
	CHECK_EQ("vip", "rescheduled", vs.rescheduled, 0);
	CHECK_EQ("vip", "non_syn_miss", vs.non_syn_miss, 0);
	bt_assert_reasons_total(t);
	free(old);
}

/*
 * sluice_xdp's handoff to sluice_slow (bpf/lib/choose.h, struct
 * sl_handoff), as the words the tests write: a stale "no state" mark
 * whose claim points at sl_new slot @slot.
 */
static void handoff_stale(const struct bt *t, __u32 slot)
{
	int fd = bpf_map__fd(t->skel->maps.sl_handoff);
	int cpus = libbpf_num_possible_cpus(), i;
	__u32 *v, zero = 0;

	CHECK(CHECK_HERE, fd >= 0 && cpus > 0);
	CHECK_INT(CHECK_HERE, bpf_map__value_size(t->skel->maps.sl_handoff),
		  8 * sizeof(*v));
	v = calloc(cpus, 8 * sizeof(*v));
	CHECK_NONNULL(CHECK_HERE, v);
	for (i = 0; i < cpus; i++) {
		v[i * 8] = 1; /* nostate */
		v[i * 8 + 1] = 0xdeadbeef; /* hash */
		v[i * 8 + 2] = slot; /* cl.free0 */
		v[i * 8 + 3] = slot; /* cl.free1 */
		v[i * 8 + 4] = slot; /* cl.old */
	}
	CHECK_INT(CHECK_HERE, bpf_map_update_elem(fd, &zero, v, BPF_ANY), 0);
	free(v);
}

/*
 * Establish a flow from @sport, remove its backend (flags 0, as sluiced
 * leaves a removed id), with a stale handoff if @stale, and check that
 * the next packet is rescheduled to the table's pick.
 */
static void removed_backend_case(struct bt *t, __u16 sport, int stale)
{
	struct bt_vip *v = &t->vips[V4_TCP];
	struct pkt_spec s = TCP4(.sport = sport);
	struct sluice_backend gone;
	struct sluice_vip_stats vs;
	__u32 be, now;

	be = pick(t, V4_TCP, &s);
	send_to(t, "SYN", &s, PKT_TCP_SYN, be);
	send_to(t, "ACK", &s, PKT_TCP_ACK, be);
	bt_vip_set_weight(t, v, bt_vip_be_index(v, be), 0);
	gone = *bt_backend(t, be);
	gone.flags = 0;
	CHECK_INT(CHECK_HERE, sl_backend_set(&t->maps, be, &gone), 0);
	if (stale)
		handoff_stale(t, 7);

	now = pick(t, V4_TCP, &s);
	CHECK(CHECK_HERE, now != be);
	send_to(t, "after removal", &s, PKT_TCP_ACK, now);
	check_flow(t, "after removal", &s, 'f', now, SLUICE_FLOW_OPEN);
	bt_vip_stats(t, v, &vs);
	CHECK_EQ("vip", "rescheduled", vs.rescheduled, 1);
	CHECK_EQ("vip", "non_syn_miss", vs.non_syn_miss, 0);
	bt_assert_reasons_total(t);
}

/* A removed backend cannot keep its flows: rescheduled to the table's pick. */
static void test_removed_backend_reschedules(void **state)
{
	removed_backend_case(*state, 30100, 0);
}

/*
 * A packet sluice_xdp hands on with its flow found (here: its backend is
 * gone) is rescheduled whatever an earlier handoff said: sluice_xdp
 * writes the handoff for every packet it hands on, so a stale "no state"
 * mark (as a failed tail call would leave) never turns it into a new flow
 * in another packet's slot.
 */
static void test_stale_handoff_ignored(void **state)
{
	removed_backend_case(*state, 30150, 1);
}

/* Establish a flow, then send @flags: the flow goes to @state. */
static void close_established(struct bt *t, const char *ctx, __u16 sport,
			      __u8 flags, __u8 state)
{
	struct pkt_spec s = TCP4(.sport = sport);
	struct sluice_be_stats bs;
	__u32 be = pick(t, V4_TCP, &s);

	send_to(t, ctx, &s, PKT_TCP_SYN, be);
	send_to(t, ctx, &s, PKT_TCP_ACK, be);
	check_flow(t, ctx, &s, 'f', be, SLUICE_FLOW_OPEN);
	send_to(t, ctx, &s, flags, be);
	check_flow(t, ctx, &s, 'f', be, state);
	bt_be_stats(t, be, &bs);
	CHECK_EQ(ctx, "backend closing", bs.closing, 1);
	/* The rest of the close still goes to the same backend. */
	send_to(t, ctx, &s, PKT_TCP_ACK, be);
	check_flow(t, ctx, &s, 'f', be, state);
	bt_assert_reasons_total(t);
}

static void test_fin_marks_closing(void **state)
{
	close_established(*state, "FIN", 30200, PKT_TCP_FIN | PKT_TCP_ACK,
			  SLUICE_FLOW_CLOSING);
}

/* A client RST ends the flow (abi.h: RESET), unlike a FIN. */
static void test_rst_marks_reset(void **state)
{
	close_established(*state, "RST", 30201, PKT_TCP_RST, SLUICE_FLOW_RESET);
}

/* A FIN as the second packet promotes the flow already closing. */
static void test_fin_on_promotion(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP4(.sport = 30300);
	__u32 be = pick(t, V4_TCP, &s);

	send_to(t, "SYN", &s, PKT_TCP_SYN, be);
	send_to(t, "FIN", &s, PKT_TCP_FIN | PKT_TCP_ACK, be);
	check_flow(t, "FIN as second packet", &s, 'f', be,
		   SLUICE_FLOW_CLOSING);
	bt_assert_reasons_total(t);
}

/*
 * A SYN reusing the tuple of a closing flow opens a new connection: it is
 * balanced afresh (here the old backend left the table, so the new
 * connection must go to the slot's new owner) and starts in sl_new.
 */
static void test_syn_after_close(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_TCP];
	struct pkt_spec s = TCP4(.sport = 30400);
	__u32 be = pick(t, V4_TCP, &s), now;

	send_to(t, "SYN", &s, PKT_TCP_SYN, be);
	send_to(t, "ACK", &s, PKT_TCP_ACK, be);
	send_to(t, "FIN", &s, PKT_TCP_FIN | PKT_TCP_ACK, be);
	bt_vip_set_weight(t, v, bt_vip_be_index(v, be), 0);
	now = pick(t, V4_TCP, &s);
	send_to(t, "SYN reusing the tuple", &s, PKT_TCP_SYN, now);
	check_flow(t, "SYN reusing the tuple", &s, 'n', now, SLUICE_FLOW_OPEN);
	bt_assert_reasons_total(t);
}

/* An ACK with no state: forwarded to the table's pick, counted, recorded. */
static void test_non_syn_miss(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP4(.sport = 30500);
	struct sluice_vip_stats vs;
	struct sluice_be_stats bs;
	__u32 be = pick(t, V4_TCP, &s);

	send_to(t, "ACK without state", &s, PKT_TCP_ACK, be);
	/* One packet is not proof of a flow (an ACK flood is one packet per
	 * tuple): it waits in sl_new, and the next packet promotes it. */
	check_flow(t, "ACK without state", &s, 'n', be, SLUICE_FLOW_OPEN);
	bt_vip_stats(t, &t->vips[V4_TCP], &vs);
	CHECK_EQ("vip", "non_syn_miss", vs.non_syn_miss, 1);
	CHECK_EQ("vip", "new_flows", vs.new_flows, 1);
	CHECK_EQ("vip", "packets", vs.packets, 1);
	bt_be_stats(t, be, &bs);
	CHECK_EQ("backend", "new_flows", bs.new_flows, 1);

	send_to(t, "next ACK", &s, PKT_TCP_ACK, be);
	check_flow(t, "next ACK", &s, 'f', be, SLUICE_FLOW_OPEN);
	bt_vip_stats(t, &t->vips[V4_TCP], &vs);
	CHECK_EQ("vip after next ACK", "non_syn_miss", vs.non_syn_miss, 1);
	CHECK_EQ("vip after next ACK", "new_flows", vs.new_flows, 1);
	bt_assert_reasons_total(t);
}

/*
 * Eviction during a drain: a draining backend's flow that LRU pressure
 * pushed out of sl_flows is found in the drain table (where sluiced's
 * sweeper copies draining flows) and restored to its backend, not re-balanced.
 */
static void test_evicted_draining_flow_rescued(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_TCP];
	struct pkt_spec s = TCP4(.sport = 30700);
	int drain_table = bpf_map__fd(t->skel->maps.sl_pinned);
	struct sluice_flow_key key;
	struct sluice_flow f;
	struct sluice_be_stats bs;
	__u32 be = pick(t, V4_TCP, &s);

	send_to(t, "SYN", &s, PKT_TCP_SYN, be);
	send_to(t, "ACK", &s, PKT_TCP_ACK, be);
	check_flow(t, "established", &s, 'f', be, SLUICE_FLOW_OPEN);
	bt_vip_set_weight(t, v, bt_vip_be_index(v, be), 0);	/* drain */

	/* The sweeper copies it into the drain table; then the LRU evicts it. */
	pkt_flow_key(&s, &key);
	CHECK_INT(CHECK_HERE, bt_flow_get(t, &key, &f), 0);
	CHECK_INT(CHECK_HERE,
		  bpf_map_update_elem(drain_table, &key, &f, BPF_ANY), 0);
	CHECK_INT(CHECK_HERE,
		  bpf_map_delete_elem(sl_flows_fd(&t->maps, &key), &key), 0);
	check_flow(t, "evicted", &s, '-', be, SLUICE_FLOW_OPEN);

	send_to(t, "ACK after eviction", &s, PKT_TCP_ACK, be);
	check_flow(t, "rescued", &s, 'f', be, SLUICE_FLOW_OPEN);
	bt_be_stats(t, be, &bs);
	CHECK_EQ("drained backend", "rescued", bs.rescued, 1);

	/* A removed backend's kept flow is not rescued: it re-balances. */
	CHECK_INT(CHECK_HERE,
		  bpf_map_delete_elem(sl_flows_fd(&t->maps, &key), &key), 0);
	{
		struct sluice_backend b = *bt_backend(t, be);

		b.flags = 0;
		bt_backend_update(t, be, &b);
	}
	{
		struct bt_result r;
		struct pkt in;

		s.tcp_flags = PKT_TCP_ACK;
		s.seq++;
		bt_run_spec(t, "ACK for a removed backend", &s, &in, &r);
		bt_check_verdict("ACK for a removed backend", &r, XDP_TX, SLUICE_R_FWD_TX);
		CHECK_TRUE("ACK for a removed backend", "not sent to the removed backend",
			memcmp(r.out + 14 + 16, &bt_backend(t, be)->addr.addr[0], 4) != 0);
	}
	bt_be_stats(t, be, &bs);
	CHECK_EQ("removed backend", "rescued", bs.rescued, 1);
	bt_assert_reasons_total(t);
}

/* UDP: first datagram -> sl_new, second -> sl_flows, same backend. */
static void udp_flow(struct bt *t, int vip, const char *src, const char *dst)
{
	struct pkt_spec s = {
		.src = src, .dst = dst, .proto = IPPROTO_UDP,
		.sport = 33000, .dport = 53, .payload_len = 40,
	};
	struct sluice_vip_stats vs;
	__u32 be = pick(t, vip, &s);

	send_to(t, "first datagram", &s, 0, be);
	check_flow(t, "first datagram", &s, 'n', be, SLUICE_FLOW_OPEN);
	send_to(t, "second datagram", &s, 0, be);
	check_flow(t, "second datagram", &s, 'f', be, SLUICE_FLOW_OPEN);
	send_to(t, "third datagram", &s, 0, be);
	check_flow(t, "third datagram", &s, 'f', be, SLUICE_FLOW_OPEN);
	bt_vip_stats(t, &t->vips[vip], &vs);
	CHECK_EQ("vip", "new_flows", vs.new_flows, 1);
	CHECK_EQ("vip", "promoted", vs.promoted, 1);
	CHECK_EQ("vip", "packets", vs.packets, 3);
	bt_assert_reasons_total(t);
}

static void test_udp_flow_v4(void **state)
{
	udp_flow(*state, V4_UDP, CLIENT4, VIP4);
}

static void test_udp_flow_v6(void **state)
{
	udp_flow(*state, V6_UDP, CLIENT6, VIP6);
}

/* IPv6 TCP: the same life cycle through sl_new and sl_flows. */
static void test_tcp_flow_v6(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP6(.sport = 30600);
	__u32 be = pick(t, V6_TCP, &s);

	send_to(t, "v6 SYN", &s, PKT_TCP_SYN, be);
	check_flow(t, "v6 SYN", &s, 'n', be, SLUICE_FLOW_OPEN);
	send_to(t, "v6 ACK", &s, PKT_TCP_ACK, be);
	check_flow(t, "v6 ACK", &s, 'f', be, SLUICE_FLOW_OPEN);
	send_to(t, "v6 RST", &s, PKT_TCP_RST, be);
	check_flow(t, "v6 RST", &s, 'f', be, SLUICE_FLOW_RESET);
	bt_assert_reasons_total(t);
}

/*
 * last_seen: set on promotion, then refreshed at most every TOUCH_MS. The
 * kernel's clock cannot be set, so the flow is rewritten with times in
 * its past instead.
 */
static void test_last_seen_refresh(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP4(.sport = 30700);
	struct sluice_flow_key key;
	__u32 be = pick(t, V4_TCP, &s), t0, t1;
	struct sluice_flow f;

	pkt_flow_key(&s, &key);
	t0 = bt_now();
	send_to(t, "SYN", &s, PKT_TCP_SYN, be);
	send_to(t, "ACK", &s, PKT_TCP_ACK, be);
	t1 = bt_now();
	CHECK_INT(CHECK_HERE, flow_where(t, &s, &f), 'f');
	CHECK_TIME_IN("promoted", "created", f.created, t0, t1);
	CHECK_TIME_IN("promoted", "last_seen", f.last_seen, t0, t1);

	/*
	 * Touched just now: no write. Should the test stall for a whole
	 * TOUCH_MS before the run, a refresh is the right answer instead.
	 */
	f.created = bt_now() - 5000;
	f.last_seen = t0 = bt_now();
	bt_flow_put(t, &key, &f);
	send_to(t, "within TOUCH_MS", &s, PKT_TCP_ACK, be);
	t1 = bt_now();
	CHECK_EQ("within TOUCH_MS", "found", flow_where(t, &s, &f), 'f');
	if ((__s32)(t1 - t0) < SLUICE_TOUCH_MS)
		CHECK_EQ("within TOUCH_MS", "last_seen", f.last_seen, t0);
	else
		CHECK_TIME_IN("within TOUCH_MS (stalled)", "last_seen",
			   f.last_seen, t0 + SLUICE_TOUCH_MS, t1);

	f.last_seen = bt_now() - SLUICE_TOUCH_MS;
	bt_flow_put(t, &key, &f);
	t0 = bt_now();
	send_to(t, "after TOUCH_MS", &s, PKT_TCP_ACK, be);
	t1 = bt_now();
	flow_where(t, &s, &f);
	CHECK_TIME_IN("after TOUCH_MS", "last_seen", f.last_seen, t0, t1);
	bt_assert_reasons_total(t);
}

/*
 * flows.table_size not a multiple of the shards: each shard rounds up,
 * then to a multiple of the possible CPUs as the kernel would. The
 * capacity status reports is what the shards really hold.
 */
static void test_capacity_is_the_shards(void **state)
{
	struct bt *t = bt_open_flows(BT_RING_SMALL, 100001);
	struct bpf_map_info info;
	__u64 held = 0;
	__u32 len;
	unsigned int i;

	(void)state;
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++) {
		len = sizeof(info);
		memset(&info, 0, sizeof(info));
		CHECK_INT(CHECK_HERE,
			  bpf_obj_get_info_by_fd(t->maps.flow_shard[i], &info,
						 &len),
			  0);
		held += info.max_entries;
	}
	CHECK_TRUE("capacity", "the shards' entries, at least what was asked",
		   held >= SLUICE_FLOW_SHARDS * SLUICE_FLOW_SHARD_SIZE(100001));
	/* sluiced asks for the rounded size, so the kernel keeps it. */
	CHECK_EQ("capacity", "the shards' entries, as sluiced asked", held,
		 (__u64)SLUICE_FLOW_SHARDS *
			 sl_flow_shard_entries(100001,
					       libbpf_num_possible_cpus()));
	CHECK_EQ("capacity", "sl_flows_capacity", sl_flows_capacity(&t->maps),
		 held);
	bt_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syn_new_then_promoted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_keeps_established,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_removed_backend_reschedules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_handoff_ignored,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin_marks_closing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rst_marks_reset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fin_on_promotion, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_syn_after_close, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_non_syn_miss, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_evicted_draining_flow_rescued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_flow_v4, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_udp_flow_v6, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_flow_v6, setup,
						teardown),
		cmocka_unit_test(test_capacity_is_the_shards),
		cmocka_unit_test_setup_teardown(test_last_seen_refresh, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("bpf_flows", tests, NULL, NULL);
}
