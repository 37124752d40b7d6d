/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, drain-aware fallback (issue 15 part 1): during a drain a TCP
 * packet with no flow state that is not a SYN goes to the pre-drain
 * table's backend in GUE, naming the live table's backend as second hop;
 * a SYN takes the live table; so does UDP (a new flow, as far as the box
 * can tell); without a drain, or where both tables agree, nothing changes.
 * Fallback packets leave no state and are counted; the longer GUE
 * encapsulation lowers the MTU a too-big reply announces.
 */
#include "../lib/bpftest.h"

#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#pragma GCC diagnostic ignored "-Woverride-init" /* spec defaults */

enum { V4_TCP, V4_UDP, V6_TCP };

#define VIP4 "198.18.0.100"
#define VIP6 "fd00::100"
#define CLIENT4 "198.18.2.1"
#define CLIENT6 "fd00:c::1"
#define LINK_MTU 1500

static const char *const be4[] = { "198.18.1.10", "198.18.1.11", "198.18.1.12",
				   "198.18.1.13", NULL };
static const char *const be6[] = { "fd00:be::10", "fd00:be::11", "fd00:be::12",
				   NULL };

#define TCP4(...)                                                  \
	{                                                          \
		.src = CLIENT4, .dst = VIP4, .proto = IPPROTO_TCP, \
		.dport = 80, .df = 1, .tcp_flags = PKT_TCP_ACK,    \
		.payload_len = 100, __VA_ARGS__                    \
	}
#define TCP6(...)                                                          \
	{                                                                  \
		.src = CLIENT6, .dst = VIP6, .proto = IPPROTO_TCP,         \
		.dport = 80, .tcp_flags = PKT_TCP_ACK, .payload_len = 100, \
		__VA_ARGS__                                                \
	}
#define UDP4(...)                                                    \
	{                                                            \
		.src = CLIENT4, .dst = VIP4, .proto = IPPROTO_UDP,   \
		.dport = 53, .df = 1, .payload_len = 40, __VA_ARGS__ \
	}

/* The three VIPs, with flows.udp_fallback as given. */
static int setup_with(void **state, bool udp_fallback)
{
	struct bt *t = bt_open_udp_fallback(BT_RING_MEDIUM, udp_fallback);

	bt_vip_add(t, VIP4, 80, IPPROTO_TCP, be4);
	bt_vip_add(t, VIP4, 53, IPPROTO_UDP, be4);
	bt_vip_add(t, VIP6, 80, IPPROTO_TCP, be6);
	*state = t;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, false);
}

static int teardown(void **state)
{
	bt_close(*state);
	return 0;
}

static __u32 live_of(const struct bt *t, int vip, const struct pkt_spec *s)
{
	struct sluice_flow_key key;

	pkt_flow_key(s, &key);
	return bt_pick(t, &t->vips[vip], &key);
}

static __u32 fb_of(const struct bt *t, int vip, const struct pkt_spec *s)
{
	struct sluice_flow_key key;

	pkt_flow_key(s, &key);
	return bt_fb_pick(t, &t->vips[vip], &key);
}

/*
 * Move @s to the first source port from @from whose pre-drain pick is
 * @fb and whose live pick is (@same) or is not (!@same) the same.
 */
static void port_for(const struct bt *t, int vip, struct pkt_spec *s, __u32 fb,
		     int same)
{
	for (s->sport = 20000; s->sport < 30000; s->sport++)
		if (fb_of(t, vip, s) == fb &&
		    (live_of(t, vip, s) == fb) == !!same)
			return;
	print_message("# no port maps to backend %u (same %d)\n", fb, same);
	fail();
}

/* Is there state (sl_new or sl_flows) for @s? */
static int has_state(const struct bt *t, const struct pkt_spec *s)
{
	struct sluice_flow_key key;
	struct sluice_flow f;

	pkt_flow_key(s, &key);
	return !bt_new_get(t, &key, &f) || !bt_flow_get(t, &key, &f);
}

static __u64 fallbacks(const struct bt *t, int vip)
{
	struct sluice_vip_stats vs;

	bt_vip_stats(t, &t->vips[vip], &vs);
	return vs.fallback;
}

/* Run @s; expect XDP_TX to @be_id, in GUE naming @hop_id unless 0. */
static void expect(struct bt *t, const char *ctx, const struct pkt_spec *s,
		   __u32 be_id, __u32 hop_id)
{
	struct bt_result r;
	struct pkt in;

	bt_run_spec(t, ctx, s, &in, &r);
	bt_check_verdict(ctx, &r, XDP_TX, SLUICE_R_FWD_TX);
	bt_check_encap_hop(ctx, &r, &in, bt_backend(t, be_id),
			   hop_id ? bt_backend(t, hop_id) : NULL);
}

/* No drain: both picks are one; the live pick, plain IPIP, state kept. */
static void test_no_drain_no_hop(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP4(.sport = 20001);

	expect(t, "no drain: mid-stream to the live pick, plain", &s,
	       live_of(t, V4_TCP, &s), 0);
	CHECK_TRUE("no drain", "state recorded", has_state(t, &s));
	CHECK_EQ("no drain", "fallback counter", fallbacks(t, V4_TCP), 0);
	bt_assert_reasons_total(t);
}

/*
 * During a drain a stateless mid-stream packet of the draining backend's
 * slots goes to it, in GUE, with the live pick as second hop; again for
 * the next packet (no state), and counted each time.
 */
static void test_fallback_pick_vs_live(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_TCP];
	__u32 drained = v->be_id[1];
	struct pkt_spec s = TCP4();
	__u32 live;

	bt_vip_drain(t, v, 1);
	port_for(t, V4_TCP, &s, drained, 0);
	live = live_of(t, V4_TCP, &s);
	CHECK_TRUE("setup", "live pick is another backend", live != drained);
	expect(t, "fallback: pre-drain pick, live as second hop", &s, drained,
	       live);
	CHECK_TRUE("fallback", "no state recorded", !has_state(t, &s));
	s.seq += 100;
	expect(t, "fallback, next packet: the same", &s, drained, live);
	CHECK_EQ("fallback", "fallback counter", fallbacks(t, V4_TCP), 2);
	CHECK_TRUE("fallback", "still no state", !has_state(t, &s));
	bt_assert_reasons_total(t);
}

/* A slot both tables agree on: no second hop, state as usual. */
static void test_fallback_tables_agree(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_TCP];
	struct pkt_spec s = TCP4();

	bt_vip_drain(t, v, 1);
	port_for(t, V4_TCP, &s, v->be_id[2], 1);
	expect(t, "tables agree: plain to the live pick", &s, v->be_id[2], 0);
	CHECK_TRUE("agree", "state recorded", has_state(t, &s));
	CHECK_EQ("agree", "fallback counter", fallbacks(t, V4_TCP), 0);
}

/* IPv6: the same, with an IPv6 outer header and hop. */
static void test_fallback_ipv6(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V6_TCP];
	struct pkt_spec s = TCP6();

	bt_vip_drain(t, v, 0);
	port_for(t, V6_TCP, &s, v->be_id[0], 0);
	expect(t, "ipv6 fallback in GUE", &s, v->be_id[0],
	       live_of(t, V6_TCP, &s));
	CHECK_EQ("ipv6", "fallback counter", fallbacks(t, V6_TCP), 1);
}

/* A SYN always takes the live table, and starts state there. */
static void test_syn_takes_live(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_TCP];
	struct pkt_spec s = TCP4(.tcp_flags = PKT_TCP_SYN, .payload_len = 0);

	bt_vip_drain(t, v, 1);
	port_for(t, V4_TCP, &s, v->be_id[1], 0);
	expect(t, "SYN: live pick, plain", &s, live_of(t, V4_TCP, &s), 0);
	CHECK_TRUE("SYN", "state recorded", has_state(t, &s));
	/* Its handshake's ACK follows the SYN's state, not the fallback. */
	s.tcp_flags = PKT_TCP_ACK;
	s.seq++;
	expect(t, "ACK after SYN: the SYN's backend", &s,
	       live_of(t, V4_TCP, &s), 0);
	CHECK_EQ("SYN", "fallback counter", fallbacks(t, V4_TCP), 0);
}

/*
 * UDP: a packet without state is a new flow as far as the box can tell,
 * and a new flow never reaches a draining backend: the live pick, state
 * recorded, no fallback.
 */
static void test_udp_takes_live(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_UDP];
	struct pkt_spec s = UDP4();

	bt_vip_drain(t, v, 3);
	port_for(t, V4_UDP, &s, v->be_id[3], 0);
	expect(t, "UDP: live pick, plain", &s, live_of(t, V4_UDP, &s), 0);
	CHECK_TRUE("UDP", "not the draining backend",
		   live_of(t, V4_UDP, &s) != v->be_id[3]);
	CHECK_TRUE("UDP", "state recorded", has_state(t, &s));
	CHECK_EQ("UDP", "fallback counter", fallbacks(t, V4_UDP), 0);
}

/*
 * flows.udp_fallback: UDP without state follows the pre-drain table,
 * plain IPIP (no second chance for UDP), no state, counted.
 */
static int setup_udp_fallback(void **state)
{
	return setup_with(state, true);
}

static void test_udp_fallback_option(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_UDP];
	struct pkt_spec s = UDP4();

	bt_vip_drain(t, v, 3);
	port_for(t, V4_UDP, &s, v->be_id[3], 0);
	expect(t, "UDP option: pre-drain pick, plain", &s, v->be_id[3], 0);
	CHECK_TRUE("UDP option", "no state recorded", !has_state(t, &s));
	CHECK_EQ("UDP option", "fallback counter", fallbacks(t, V4_UDP), 1);
	/* TCP is as without the option: GUE with the live pick as hop. */
	test_fallback_pick_vs_live(state);
}

/* Drains over: the pre-drain table is gone, the live pick again. */
static void test_drains_end(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_TCP];
	struct pkt_spec s = TCP4();

	bt_vip_drain(t, v, 1);
	port_for(t, V4_TCP, &s, v->be_id[1], 0);
	bt_vip_drains_end(t, v);
	expect(t, "after the drains: live pick, plain", &s,
	       live_of(t, V4_TCP, &s), 0);
	CHECK_EQ("end", "fallback counter", fallbacks(t, V4_TCP), 0);
}

/* A backend reported drained takes nothing more: live pick. */
static void test_drained_flag_no_fallback(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_TCP];
	struct sluice_backend be;
	struct pkt_spec s = TCP4();

	bt_vip_drain(t, v, 1);
	be = *bt_backend(t, v->be_id[1]);
	be.flags |= SLUICE_BE_F_DRAINED;
	bt_backend_update(t, v->be_id[1], &be);
	port_for(t, V4_TCP, &s, v->be_id[1], 0);
	expect(t, "DRAINED: live pick, plain", &s, live_of(t, V4_TCP, &s), 0);
	CHECK_EQ("drained", "fallback counter", fallbacks(t, V4_TCP), 0);
}

/*
 * MTU: a segment that fits in IPIP but not in GUE is answered with
 * frag-needed announcing the MTU minus outer IPv4 and GUE (1448).
 */
static void test_fallback_mtu(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_TCP];
	struct sluice_backend be;
	struct pkt_spec s = TCP4(.payload_len = 1440); /* 1480 bytes */
	struct bt_result r;
	struct pkt in;
	size_t i;

	for (i = 0; i < v->nbe; i++) {
		be = *bt_backend(t, v->be_id[i]);
		be.mtu = LINK_MTU;
		bt_backend_update(t, v->be_id[i], &be);
	}
	bt_vip_drain(t, v, 1);
	port_for(t, V4_TCP, &s, v->be_id[1], 0);
	bt_run_spec(t, "1480 bytes in GUE", &s, &in, &r);
	bt_check_verdict("1480 bytes in GUE", &r, XDP_TX, SLUICE_R_ICMP_TOOBIG);
	CHECK_EQ("1480 bytes in GUE", "announced MTU",
		 (r.out[PKT_ETH_LEN + 26] << 8) | r.out[PKT_ETH_LEN + 27],
		 LINK_MTU - PKT_IP4_LEN - SLUICE_GUE_OVERHEAD);
	s.payload_len = LINK_MTU - PKT_IP4_LEN - SLUICE_GUE_OVERHEAD - 40;
	expect(t, "1448 bytes fit in GUE", &s, v->be_id[1],
	       live_of(t, V4_TCP, &s));
	/* The live pick's plain path still takes 1480 bytes. */
	port_for(t, V4_TCP, &s, v->be_id[2], 1);
	s.payload_len = 1440;
	expect(t, "1480 bytes plain fit", &s, v->be_id[2], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_drain_no_hop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fallback_pick_vs_live,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_tables_agree,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_ipv6, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_syn_takes_live, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_udp_takes_live, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_udp_fallback_option,
						setup_udp_fallback, teardown),
		cmocka_unit_test_setup_teardown(test_drains_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drained_flag_no_fallback,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_mtu, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
