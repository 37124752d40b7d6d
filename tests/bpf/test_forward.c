/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, forwarding: VIP traffic comes out encapsulated (IPIP,
 * IPv6-in-IPv6, 4in6, 6in4) to exactly the backend the userspace Maglev
 * table names; everything that is not for a VIP passes untouched.
 */
#include "../lib/bpftest.h"

#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>

/* Table rows override the defaults of TCP4()/TCP6() field by field. */
#pragma GCC diagnostic ignored "-Woverride-init"

/* The fixture's VIPs, in the order setup adds them. */
enum {
	V4_TCP,		/* 198.18.0.100:80/tcp, IPv4 backends */
	V6_TCP,		/* [fd00::100]:80/tcp, IPv6 backends */
	V4_TO_V6,	/* 198.18.0.101:443/tcp, one IPv6 backend (4in6) */
	V6_TO_V4,	/* [fd00::101]:443/tcp, one IPv4 backend (6in4) */
	V4_UDP,		/* 198.18.0.100:53/udp */
	V6_UDP,		/* [fd00::100]:53/udp */
	V4_PORT0,	/* 198.18.0.102:0/tcp: every port */
	V6_PORT0,	/* [fd00::102]:0/udp: every port */
};

#define VIP4		"198.18.0.100"
#define VIP4_B		"198.18.0.101"
#define VIP4_ANY	"198.18.0.102"
#define VIP6		"fd00::100"
#define VIP6_B		"fd00::101"
#define VIP6_ANY	"fd00::102"
#define CLIENT4		"198.18.2.1"
#define CLIENT6		"fd00:c::1"
#define FLOWS		200

static const char *const be4[] = {
	"198.18.1.10", "198.18.1.11", "198.18.1.12", "198.18.1.13",
	"198.18.1.14", NULL
};
static const char *const be6[] = {
	"fd00:be::10", "fd00:be::11", "fd00:be::12", "fd00:be::13", NULL
};
static const char *const one6[] = { "fd00:be::20", NULL };
static const char *const one4[] = { "198.18.1.20", NULL };

static int setup_ring(void **state, __u32 ring)
{
	struct bt *t = bt_open(ring);

	bt_vip_add(t, VIP4, 80, IPPROTO_TCP, be4);
	bt_vip_add(t, VIP6, 80, IPPROTO_TCP, be6);
	bt_vip_add(t, VIP4_B, 443, IPPROTO_TCP, one6);
	bt_vip_add(t, VIP6_B, 443, IPPROTO_TCP, one4);
	bt_vip_add(t, VIP4, 53, IPPROTO_UDP, be4);
	bt_vip_add(t, VIP6, 53, IPPROTO_UDP, be6);
	bt_vip_add(t, VIP4_ANY, 0, IPPROTO_TCP, be4);
	bt_vip_add(t, VIP6_ANY, 0, IPPROTO_UDP, be6);
	*state = t;
	return 0;
}

static int setup_small(void **state)
{
	return setup_ring(state, BT_RING_SMALL);
}

static int setup_default(void **state)
{
	return setup_ring(state, SLUICE_RING_SIZE_DEFAULT);
}

static int teardown(void **state)
{
	bt_close(*state);
	return 0;
}

/* Run @s, expect FWD_TX to the backend @v's table names, check the bytes. */
static __u32 expect_balanced(struct bt *t, const char *ctx,
			     const struct bt_vip *v, const struct pkt_spec *s)
{
	struct sluice_flow_key key;
	struct bt_result r;
	struct pkt in;
	__u32 want;

	pkt_flow_key(s, &key);
	want = bt_pick(t, v, &key);
	CHECK_TRUE(ctx, "table names a backend of the VIP",
		bt_vip_be_index(v, want) >= 0);
	bt_run_spec(t, ctx, s, &in, &r);
	bt_check_verdict(ctx, &r, XDP_TX, SLUICE_R_FWD_TX);
	bt_check_encap(ctx, &r, &in, bt_backend(t, want));
	return want;
}

/*
 * Many SYNs from distinct source ports: each one lands on exactly the
 * backend at its slot in the table userspace built, and every backend
 * gets some; per-VIP and per-backend counters agree.
 */
static void syn_many_flows(struct bt *t)
{
	const struct bt_vip *v = &t->vips[V4_TCP];
	__u64 hits[BT_MAX_BE] = {};
	struct sluice_vip_stats vs;
	struct sluice_be_stats bs;
	__u32 l3_len = 0;
	char ctx[64];
	size_t i;

	for (i = 0; i < FLOWS; i++) {
		struct pkt_spec s = {
			.src = CLIENT4, .dst = VIP4, .proto = IPPROTO_TCP,
			.sport = 20000 + i, .dport = 80, .df = 1,
			.tcp_flags = PKT_TCP_SYN, .seq = 1000 + i,
		};
		struct pkt in;
		__u32 id;

		snprintf(ctx, sizeof(ctx), "SYN sport %u", s.sport);
		id = expect_balanced(t, ctx, v, &s);
		hits[bt_vip_be_index(v, id)]++;
		CHECK_INT(CHECK_HERE, pkt_build(&s, &in), 0);
		l3_len = in.l3_len;
	}

	for (i = 0; i < v->nbe; i++) {
		snprintf(ctx, sizeof(ctx), "backend %u", v->be_id[i]);
		CHECK_TRUE(ctx, "got some of the flows", hits[i] > 0);
		bt_be_stats(t, v->be_id[i], &bs);
		CHECK_EQ(ctx, "be new_flows", bs.new_flows, hits[i]);
		CHECK_EQ(ctx, "be packets", bs.packets, hits[i]);
		CHECK_EQ(ctx, "be bytes", bs.bytes, hits[i] * l3_len);
	}
	bt_vip_stats(t, v, &vs);
	CHECK_EQ("vip", "packets", vs.packets, FLOWS);
	CHECK_EQ("vip", "new_flows", vs.new_flows, FLOWS);
	CHECK_EQ("vip", "bytes", vs.bytes, (__u64)FLOWS * l3_len);
	CHECK_EQ("vip", "non_syn_miss", vs.non_syn_miss, 0);
	CHECK_EQ("reasons", "fwd_tx", bt_reason_count(t, SLUICE_R_FWD_TX), FLOWS);
	bt_assert_reasons_total(t);
}

static void test_syn_many_flows(void **state)
{
	syn_many_flows(*state);
}

/* The same against the default 65537-slot table. */
static void test_syn_many_flows_default_ring(void **state)
{
	syn_many_flows(*state);
}

struct fwd_case {
	const char *name;
	int vip;
	struct pkt_spec spec;
};

#define TCP4(...) { .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_TCP,	\
		    .sport = 40000, .dport = 80, .tcp_flags = PKT_TCP_SYN, \
		    __VA_ARGS__ }
#define TCP6(...) { .src = CLIENT6, .dst = VIP6, .proto = IPPROTO_TCP,	\
		    .sport = 40000, .dport = 80, .tcp_flags = PKT_TCP_SYN, \
		    __VA_ARGS__ }

static const struct fwd_case fwd_cases[] = {
	{ "ipv4 syn, DF", V4_TCP, TCP4(.df = 1) },
	{ "ipv4 syn, no DF", V4_TCP, TCP4(.sport = 40001) },
	{ "ipv4 syn, TOS 0xb8", V4_TCP, TCP4(.sport = 40002, .tos = 0xb8) },
	{ "ipv4 with 8 option bytes", V4_TCP, TCP4(.sport = 40003, .opt_len = 8) },
	{ "ipv4 with 40 option bytes", V4_TCP, TCP4(.sport = 40004, .opt_len = 40) },
	{ "ipv4 data segment 1400 bytes", V4_TCP,
	  TCP4(.sport = 40005, .tcp_flags = PKT_TCP_ACK | PKT_TCP_PSH,
	       .payload_len = 1400, .df = 1) },
	{ "ipv4 syn, 6 trailer bytes", V4_TCP, TCP4(.sport = 40006, .trailer = 6) },
	{ "ipv4 syn, 802.1Q tag", V4_TCP,
	  TCP4(.sport = 40007, .nvlans = 1, .vlan_id = { 100 }) },
	{ "ipv4 syn, QinQ tags", V4_TCP,
	  TCP4(.sport = 40008, .nvlans = 2, .vlan_tpid = { 0x88a8, 0x8100 },
	       .vlan_id = { 10, 20 }) },
	{ "ipv6 syn", V6_TCP, TCP6() },
	{ "ipv6 syn, traffic class 0x28", V6_TCP, TCP6(.sport = 40001, .tos = 0x28) },
	{ "ipv6 data segment 1200 bytes", V6_TCP,
	  TCP6(.sport = 40002, .tcp_flags = PKT_TCP_ACK, .payload_len = 1200) },
	{ "ipv6 syn, hop-by-hop + dstopts", V6_TCP,
	  TCP6(.sport = 40003, .next = 2,
	       .ext = { { .type = IPPROTO_HOPOPTS },
			{ .type = IPPROTO_DSTOPTS, .hdrlen = 1 } }) },
	{ "ipv6 syn, 4 extension headers (the limit)", V6_TCP,
	  TCP6(.sport = 40004, .next = 4,
	       .ext = { { .type = IPPROTO_HOPOPTS },
			{ .type = IPPROTO_DSTOPTS },
			{ .type = IPPROTO_ROUTING },
			{ .type = IPPROTO_DSTOPTS, .hdrlen = 2 } }) },
	{ "ipv6 syn, 802.1Q tag", V6_TCP,
	  TCP6(.sport = 40005, .nvlans = 1, .vlan_id = { 7 }) },
	{ "4in6: ipv4 VIP, ipv6 backend", V4_TO_V6,
	  TCP4(.dst = VIP4_B, .dport = 443, .df = 1, .tos = 0x10) },
	{ "4in6: ipv4 VIP, ipv6 backend, data", V4_TO_V6,
	  TCP4(.dst = VIP4_B, .dport = 443, .sport = 40001,
	       .tcp_flags = PKT_TCP_ACK, .payload_len = 300) },
	{ "6in4: ipv6 VIP, ipv4 backend", V6_TO_V4,
	  TCP6(.dst = VIP6_B, .dport = 443, .tos = 0x20) },
	{ "ipv4 udp", V4_UDP,
	  { .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_UDP, .sport = 5353,
	    .dport = 53, .payload_len = 33 } },
	{ "ipv6 udp", V6_UDP,
	  { .src = CLIENT6, .dst = VIP6, .proto = IPPROTO_UDP, .sport = 5353,
	    .dport = 53, .payload_len = 33 } },
};

/* Each row: XDP_TX, fwd_tx, encapsulated to the table's backend. */
static void test_forward_table(void **state)
{
	struct bt *t = *state;
	size_t i;

	for (i = 0; i < sizeof(fwd_cases) / sizeof(fwd_cases[0]); i++) {
		const struct fwd_case *c = &fwd_cases[i];

		expect_balanced(t, c->name, &t->vips[c->vip], &c->spec);
	}
	bt_assert_reasons_total(t);
}

/* Each backend's dmac is distinct: the output names the right one. */
static void test_backend_macs_distinct(void **state)
{
	struct bt *t = *state;
	const struct bt_vip *v = &t->vips[V4_TCP];
	size_t i, j;

	for (i = 0; i < v->nbe; i++)
		for (j = i + 1; j < v->nbe; j++)
			CHECK_MEM_NE(CHECK_HERE,
				     bt_backend(t, v->be_id[i])->dmac,
				     bt_backend(t, v->be_id[j])->dmac, 6);
}

struct pass_case {
	const char *name;
	int reason;
	struct pkt_spec spec;
};

/* An ARP request for a VIP address, as the router would send it. */
static const __u8 arp_req[28] = {
	0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
	0x02, 0xc1, 0x00, 0x00, 0x00, 0x01, 198, 18, 3, 1,
	0, 0, 0, 0, 0, 0, 198, 18, 0, 100,
};

static const struct pass_case pass_cases[] = {
	{ "ipv4 syn to another address", SLUICE_R_PASS_NOT_VIP,
	  TCP4(.dst = "198.18.0.200") },
	{ "ipv4 syn to the VIP address, other port", SLUICE_R_PASS_NOT_VIP,
	  TCP4(.dport = 81) },
	{ "ipv4 udp to a tcp-only VIP port", SLUICE_R_PASS_NOT_VIP,
	  { .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_UDP, .sport = 9,
	    .dport = 80, .payload_len = 4 } },
	{ "ipv4 tcp to a udp-only VIP port", SLUICE_R_PASS_NOT_VIP,
	  TCP4(.dport = 53) },
	{ "ipv4 from the VIP (reply direction)", SLUICE_R_PASS_NOT_VIP,
	  TCP4(.src = VIP4, .dst = CLIENT4, .sport = 80, .dport = 40000,
	       .tcp_flags = PKT_TCP_SYN | PKT_TCP_ACK) },
	{ "ARP request for the VIP", SLUICE_R_PASS_NOT_IP,
	  { .ethertype = 0x0806, .raw = arp_req, .raw_len = sizeof(arp_req) } },
	{ "ipv4 GRE to another address", SLUICE_R_PASS_NOT_VIP,
	  { .src = CLIENT4, .dst = "198.18.0.200", .proto = 47,
	    .payload_len = 24 } },
	{ "ipv4 GRE to the VIP address", SLUICE_R_PASS_NOT_VIP,
	  { .src = CLIENT4, .dst = VIP4, .proto = 47, .payload_len = 24 } },
	{ "ipv4 ICMP echo to another address", SLUICE_R_PASS_NOT_VIP,
	  { .src = CLIENT4, .dst = "198.18.0.200", .proto = IPPROTO_ICMP,
	    .icmp_type = 8, .payload_len = 16 } },
	{ "ipv4 tcp, 2 VLAN tags, another address", SLUICE_R_PASS_NOT_VIP,
	  TCP4(.dst = "198.18.0.200", .nvlans = 2, .vlan_id = { 1, 2 }) },
	{ "ipv6 syn to another address", SLUICE_R_PASS_NOT_VIP,
	  TCP6(.dst = "fd00::200") },
	{ "ipv6 syn to the VIP address, other port", SLUICE_R_PASS_NOT_VIP,
	  TCP6(.dport = 8080) },
	{ "ipv6 syn with hop-by-hop to another address", SLUICE_R_PASS_NOT_VIP,
	  TCP6(.dst = "fd00::200", .next = 1,
	       .ext = { { .type = IPPROTO_HOPOPTS } }) },
	{ "ipv6 fragment to another address", SLUICE_R_PASS_NOT_VIP,
	  TCP6(.dst = "fd00::200", .next = 1,
	       .ext = { { .type = IPPROTO_FRAGMENT, .frag_mf = 1 } }) },
	{ "ipv6 ICMPv6 echo to another address", SLUICE_R_PASS_NOT_VIP,
	  { .src = CLIENT6, .dst = "fd00::200", .proto = IPPROTO_ICMPV6,
	    .icmp_type = 128, .payload_len = 16 } },
	{ "ipv4 udp to a port-0 tcp VIP", SLUICE_R_PASS_NOT_VIP,
	  { .src = CLIENT4, .dst = VIP4_ANY, .proto = IPPROTO_UDP,
	    .sport = 9, .dport = 53, .payload_len = 4 } },
	{ "ipv6 tcp to a port-0 udp VIP", SLUICE_R_PASS_NOT_VIP,
	  TCP6(.dst = VIP6_ANY, .dport = 53) },
};

/* Each row: XDP_PASS with its reason, the frame untouched. */
static void test_pass_table(void **state)
{
	struct bt *t = *state;
	struct bt_result r;
	struct pkt in;
	size_t i;

	for (i = 0; i < sizeof(pass_cases) / sizeof(pass_cases[0]); i++) {
		const struct pass_case *c = &pass_cases[i];

		bt_run_spec(t, c->name, &c->spec, &in, &r);
		bt_check_verdict(c->name, &r, XDP_PASS, c->reason);
		bt_check_unchanged(c->name, &r, &in);
	}
	CHECK_EQ("pass table", "fwd_tx", bt_reason_count(t, SLUICE_R_FWD_TX), 0);
	bt_assert_reasons_total(t);
}

/* A port-0 VIP takes every port of its address and protocol. */
static void test_port0_vip(void **state)
{
	static const __u16 ports[] = { 1, 22, 80, 443, 8080, 65535 };
	struct bt *t = *state;
	char ctx[64];
	size_t i;

	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		struct pkt_spec s4 = TCP4(.dst = VIP4_ANY, .dport = ports[i]);
		struct pkt_spec s6 = {
			.src = CLIENT6, .dst = VIP6_ANY, .proto = IPPROTO_UDP,
			.sport = 5000, .dport = ports[i], .payload_len = 10,
		};

		snprintf(ctx, sizeof(ctx), "port-0 tcp VIP, dport %u", ports[i]);
		expect_balanced(t, ctx, &t->vips[V4_PORT0], &s4);
		snprintf(ctx, sizeof(ctx), "port-0 udp VIP, dport %u", ports[i]);
		expect_balanced(t, ctx, &t->vips[V6_PORT0], &s6);
	}
	bt_assert_reasons_total(t);
}

/* An exact VIP wins over nothing else: VIP4:80 is not the port-0 VIP. */
static void test_exact_vip_stats(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP4(.df = 1);
	struct sluice_vip_stats vs;

	expect_balanced(t, "exact VIP", &t->vips[V4_TCP], &s);
	bt_vip_stats(t, &t->vips[V4_TCP], &vs);
	CHECK_EQ("exact VIP", "vip packets", vs.packets, 1);
	bt_vip_stats(t, &t->vips[V4_PORT0], &vs);
	CHECK_EQ("port-0 VIP", "vip packets", vs.packets, 0);
}

/*
 * The verifier accepts the balancer at every ring size in use (the ring
 * size is a load-time constant the verifier sees) and the decap program.
 * bt_open() fails the test on a load error: never a skip.
 */
static void test_verifier_loads(void **state)
{
	static const __u32 sizes[] = {
		BT_RING_SMALL, BT_RING_MEDIUM, SLUICE_RING_SIZE_DEFAULT,
		SLUICE_RING_SIZE_MAX,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct bt *t = bt_open(sizes[i]);

		CHECK_TRUE("sluice", "program fd", t->prog_fd >= 0);
		bt_close(t);
	}
	bt_decap_close(bt_decap_open());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier_loads),
		cmocka_unit_test_setup_teardown(test_syn_many_flows,
						setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_syn_many_flows_default_ring,
						setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_forward_table,
						setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_backend_macs_distinct,
						setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_pass_table,
						setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_port0_vip,
						setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_exact_vip_stats,
						setup_small, teardown),
	};

	return cmocka_run_group_tests_name("bpf_forward", tests, NULL, NULL);
}
