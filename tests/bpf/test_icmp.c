/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, ICMP: a router's "fragmentation needed" / "packet too big"
 * about a VIP flow (its inner header is the backend's reply, VIP -> client)
 * goes, encapsulated, to the backend that owns the flow; other ICMP to a
 * VIP address passes to the kernel; a too-big error whose inner header is
 * unusable is dropped.
 */
#include "../lib/bpftest.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#pragma GCC diagnostic ignored "-Woverride-init"	/* spec defaults */

enum { V4_TCP, V6_TCP, V4_UDP };

#define VIP4		"198.18.0.100"
#define VIP6		"fd00::100"
#define CLIENT4		"198.18.2.1"
#define CLIENT6		"fd00:c::1"
#define ROUTER4		"198.18.3.1"
#define ROUTER6		"fd00:3::1"
#define OTHER4		"198.18.0.200"
#define OTHER6		"fd00::200"

#define ICMP_DEST_UNREACH	3
#define ICMP_FRAG_NEEDED	4
#define ICMP_HOST_UNREACH	1
#define ICMP_ECHO		8
#define ICMPV6_PKT_TOOBIG	2
#define ICMPV6_DEST_UNREACH	1
#define ICMPV6_ECHO_REQUEST	128

static const char *const be4[] = {
	"198.18.1.10", "198.18.1.11", "198.18.1.12", "198.18.1.13", NULL
};
static const char *const be6[] = {
	"fd00:be::10", "fd00:be::11", "fd00:be::12", NULL
};

static int setup(void **state)
{
	struct bt *t = bt_open(BT_RING_SMALL);

	bt_vip_add(t, VIP4, 80, IPPROTO_TCP, be4);
	bt_vip_add(t, VIP6, 443, IPPROTO_TCP, be6);
	bt_vip_add(t, VIP4, 53, IPPROTO_UDP, be4);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	bt_close(*state);
	return 0;
}

/* The backends' replies that routers quote, and the client flows. */
static const struct pkt_spec reply4 = {
	.src = VIP4, .dst = CLIENT4, .proto = IPPROTO_TCP, .sport = 80,
	.dport = 40000, .tcp_flags = PKT_TCP_ACK, .df = 1, .payload_len = 1400,
};
static const struct pkt_spec reply4_udp = {
	.src = VIP4, .dst = CLIENT4, .proto = IPPROTO_UDP, .sport = 53,
	.dport = 5353, .df = 1, .payload_len = 1400,
};
static const struct pkt_spec reply4_other_port = {
	.src = VIP4, .dst = CLIENT4, .proto = IPPROTO_TCP, .sport = 81,
	.dport = 40000, .tcp_flags = PKT_TCP_ACK, .payload_len = 1400,
};
static const struct pkt_spec reply4_icmp = {
	.src = VIP4, .dst = CLIENT4, .proto = IPPROTO_ICMP, .icmp_type = 0,
	.payload_len = 1400,
};
static const struct pkt_spec reply6 = {
	.src = VIP6, .dst = CLIENT6, .proto = IPPROTO_TCP, .sport = 443,
	.dport = 40000, .tcp_flags = PKT_TCP_ACK, .payload_len = 1400,
};

#define TOOBIG4(...) { .src = ROUTER4, .dst = VIP4, .proto = IPPROTO_ICMP, \
		       .icmp_type = ICMP_DEST_UNREACH,			    \
		       .icmp_code = ICMP_FRAG_NEEDED, .icmp_mtu = 1400,    \
		       .inner = &reply4, .inner_len = 548, __VA_ARGS__ }
#define TOOBIG6(...) { .src = ROUTER6, .dst = VIP6,			    \
		       .proto = IPPROTO_ICMPV6,			    \
		       .icmp_type = ICMPV6_PKT_TOOBIG, .icmp_mtu = 1280,   \
		       .inner = &reply6, .inner_len = 1232, __VA_ARGS__ }

/* The client's flow key for a quoted reply: the reply reversed. */
static void client_key(const struct pkt_spec *reply,
		       struct sluice_flow_key *key)
{
	struct pkt_spec s = *reply;

	s.src = reply->dst;
	s.dst = reply->src;
	s.sport = reply->dport;
	s.dport = reply->sport;
	pkt_flow_key(&s, key);
}

/* The client's packet of the flow @reply answers. */
static void client_spec(const struct pkt_spec *reply, __u8 flags,
			struct pkt_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->src = reply->dst;
	s->dst = reply->src;
	s->proto = reply->proto;
	s->sport = reply->dport;
	s->dport = reply->sport;
	s->tcp_flags = flags;
}

static void run_expect_encap(struct bt *t, const char *ctx,
			     const struct pkt_spec *s, int reason, __u32 be)
{
	struct bt_result r;
	struct pkt in;

	bt_run_spec(t, ctx, s, &in, &r);
	bt_check_verdict(ctx, &r, XDP_TX, reason);
	bt_check_encap(ctx, &r, &in, bt_backend(t, be));
}

/*
 * Establish the flow @reply answers, take its backend out of the table,
 * then send @toobig: it must reach the flow's backend, not the table's
 * new pick.
 */
static void toobig_follows_flow(struct bt *t, int vip,
				const struct pkt_spec *reply,
				const struct pkt_spec *toobig)
{
	struct bt_vip *v = &t->vips[vip];
	struct sluice_flow_key key;
	struct pkt_spec c;
	__u32 owner;

	client_key(reply, &key);
	owner = bt_pick(t, v, &key);
	client_spec(reply, PKT_TCP_SYN, &c);
	run_expect_encap(t, "client SYN", &c, SLUICE_R_FWD_TX, owner);
	c.tcp_flags = PKT_TCP_ACK;
	run_expect_encap(t, "client ACK", &c, SLUICE_R_FWD_TX, owner);

	bt_vip_set_weight(t, v, bt_vip_be_index(v, owner), 0);
	CHECK_TRUE("table after drain", "picks another backend",
		bt_pick(t, v, &key) != owner);
	run_expect_encap(t, "too-big for the flow", toobig, SLUICE_R_ICMP_TX,
			 owner);
	bt_assert_reasons_total(t);
}

static void test_frag_needed_follows_flow(void **state)
{
	const struct pkt_spec toobig = TOOBIG4();

	toobig_follows_flow(*state, V4_TCP, &reply4, &toobig);
}

static void test_pkt_toobig_follows_flow(void **state)
{
	const struct pkt_spec toobig = TOOBIG6();

	toobig_follows_flow(*state, V6_TCP, &reply6, &toobig);
}

/* A flow still in sl_new (SYN seen) owns its too-big errors too. */
static void test_toobig_follows_new_flow(void **state)
{
	struct bt *t = *state;
	struct bt_vip *v = &t->vips[V4_TCP];
	const struct pkt_spec toobig = TOOBIG4();
	struct sluice_flow_key key;
	struct pkt_spec c;
	__u32 owner;

	client_key(&reply4, &key);
	owner = bt_pick(t, v, &key);
	client_spec(&reply4, PKT_TCP_SYN, &c);
	run_expect_encap(t, "client SYN", &c, SLUICE_R_FWD_TX, owner);
	bt_vip_set_weight(t, v, bt_vip_be_index(v, owner), 0);
	run_expect_encap(t, "too-big for the new flow", &toobig,
			 SLUICE_R_ICMP_TX, owner);
	bt_assert_reasons_total(t);
}

struct icmp_case {
	const char *name;
	struct pkt_spec spec;
	int verdict;
	int reason;
};

/*
 * Without flow state a too-big error goes where the table sends the flow
 * now; everything else either passes untouched or is dropped.
 */
static const struct icmp_case icmp_cases[] = {
	{ "frag-needed, no state: the table's pick", TOOBIG4(),
	  XDP_TX, SLUICE_R_ICMP_TX },
	{ "frag-needed quoting 28 bytes (RFC 792 minimum)",
	  TOOBIG4(.inner_len = 28), XDP_TX, SLUICE_R_ICMP_TX },
	{ "frag-needed for a udp flow", TOOBIG4(.inner = &reply4_udp),
	  XDP_TX, SLUICE_R_ICMP_TX },
	{ "packet-too-big, no state: the table's pick", TOOBIG6(),
	  XDP_TX, SLUICE_R_ICMP_TX },
	{ "packet-too-big quoting 48 bytes", TOOBIG6(.inner_len = 48),
	  XDP_TX, SLUICE_R_ICMP_TX },

	{ "echo request to a VIP address",
	  { .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_ICMP,
	    .icmp_type = ICMP_ECHO, .icmp_mtu = 0x12340001, .payload_len = 56 },
	  XDP_PASS, SLUICE_R_PASS_VIP_ICMP },
	{ "ICMPv6 echo request to a VIP address",
	  { .src = CLIENT6, .dst = VIP6, .proto = IPPROTO_ICMPV6,
	    .icmp_type = ICMPV6_ECHO_REQUEST, .payload_len = 56 },
	  XDP_PASS, SLUICE_R_PASS_VIP_ICMP },
	{ "host unreachable (not too-big) to a VIP address",
	  TOOBIG4(.icmp_code = ICMP_HOST_UNREACH, .icmp_mtu = 0),
	  XDP_PASS, SLUICE_R_PASS_VIP_ICMP },
	{ "ICMPv6 destination unreachable to a VIP address",
	  TOOBIG6(.icmp_type = ICMPV6_DEST_UNREACH, .icmp_mtu = 0),
	  XDP_PASS, SLUICE_R_PASS_VIP_ICMP },
	{ "frag-needed about a port that is no VIP",
	  TOOBIG4(.inner = &reply4_other_port),
	  XDP_PASS, SLUICE_R_PASS_VIP_ICMP },
	{ "frag-needed, truncated inner, to a non-VIP address",
	  TOOBIG4(.dst = OTHER4, .inner_len = 20),
	  XDP_PASS, SLUICE_R_PASS_NOT_VIP },

	{ "frag-needed, inner cut after the IP header",
	  TOOBIG4(.inner_len = 20), XDP_DROP, SLUICE_R_DROP_BAD_ICMP },
	{ "frag-needed, inner cut inside the ports",
	  TOOBIG4(.inner_len = 22), XDP_DROP, SLUICE_R_DROP_BAD_ICMP },
	{ "frag-needed, inner cut inside the IP header",
	  TOOBIG4(.inner_len = 12), XDP_DROP, SLUICE_R_DROP_BAD_ICMP },
	{ "frag-needed, no inner at all",
	  TOOBIG4(.inner = NULL, .inner_len = 0),
	  XDP_DROP, SLUICE_R_DROP_BAD_ICMP },
	{ "frag-needed, ICMP header cut to 4 bytes",
	  TOOBIG4(.l4_trunc = 4), XDP_DROP, SLUICE_R_DROP_BAD_ICMP },
	{ "frag-needed quoting an ICMP packet",
	  TOOBIG4(.inner = &reply4_icmp), XDP_DROP, SLUICE_R_DROP_BAD_ICMP },
	{ "packet-too-big, inner cut after the IPv6 header",
	  TOOBIG6(.inner_len = 40), XDP_DROP, SLUICE_R_DROP_BAD_ICMP },
	{ "packet-too-big, inner cut inside the IPv6 header",
	  TOOBIG6(.inner_len = 30), XDP_DROP, SLUICE_R_DROP_BAD_ICMP },
};

/*
 * An error is "for a VIP" only when it is addressed to the VIP that sent
 * the quoted packet: one addressed elsewhere passes to its addressee.
 */
static const struct icmp_case icmp_addressee_cases[] = {
	{ "frag-needed to a non-VIP address, quoting a VIP's packet",
	  TOOBIG4(.dst = OTHER4), XDP_PASS, SLUICE_R_PASS_NOT_VIP },
	{ "packet-too-big to a non-VIP address, quoting a VIP's packet",
	  TOOBIG6(.dst = OTHER6), XDP_PASS, SLUICE_R_PASS_NOT_VIP },
};

/* The IP length ends the error: Ethernet padding is not quoted bytes. */
static const struct icmp_case icmp_padding_cases[] = {
	{ "frag-needed, inner cut after the IP header, 4 bytes of padding",
	  TOOBIG4(.inner_len = 20, .trailer = 4),
	  XDP_DROP, SLUICE_R_DROP_BAD_ICMP },
	{ "packet-too-big, inner cut after the IPv6 header, 4 bytes of padding",
	  TOOBIG6(.inner_len = 40, .trailer = 4),
	  XDP_DROP, SLUICE_R_DROP_BAD_ICMP },
};

static void run_icmp_cases(struct bt *t, const struct icmp_case *cases,
			   size_t n)
{
	struct sluice_flow_key key;
	struct bt_result r;
	struct pkt in;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct icmp_case *c = &cases[i];

		bt_run_spec(t, c->name, &c->spec, &in, &r);
		bt_check_verdict(c->name, &r, c->verdict, c->reason);
		if (c->verdict == XDP_PASS) {
			bt_check_unchanged(c->name, &r, &in);
		} else if (c->verdict == XDP_TX) {
			client_key(c->spec.inner, &key);
			bt_check_encap(c->name, &r, &in,
				       bt_backend(t, bt_pick(t, bt_vip_find(t, &key),
							     &key)));
		}
	}
	bt_assert_reasons_total(t);
}

#define RUN_CASES(t, cases) run_icmp_cases(t, cases, sizeof(cases) / sizeof(cases[0]))

static void test_icmp_table(void **state)
{
	RUN_CASES(*state, icmp_cases);
}

static void test_toobig_addressee(void **state)
{
	RUN_CASES(*state, icmp_addressee_cases);
}

static void test_toobig_padding_is_not_inner(void **state)
{
	RUN_CASES(*state, icmp_padding_cases);
}

/* Too-big errors are not flows: no flow entry, no VIP packet counted. */
static void test_toobig_leaves_no_state(void **state)
{
	struct bt *t = *state;
	const struct pkt_spec toobig = TOOBIG4();
	struct sluice_flow_key key;
	struct sluice_vip_stats vs;
	struct sluice_flow f;
	struct bt_result r;
	struct pkt in;

	bt_run_spec(t, "too-big", &toobig, &in, &r);
	bt_check_verdict("too-big", &r, XDP_TX, SLUICE_R_ICMP_TX);
	client_key(&reply4, &key);
	CHECK_EQ("too-big", "sl_flows entry", bt_flow_get(t, &key, &f), -ENOENT);
	CHECK_EQ("too-big", "sl_new entry", bt_new_get(t, &key, &f), -ENOENT);
	bt_vip_stats(t, &t->vips[V4_TCP], &vs);
	CHECK_EQ("too-big", "vip new_flows", vs.new_flows, 0);
	bt_assert_reasons_total(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frag_needed_follows_flow,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pkt_toobig_follows_flow,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_toobig_follows_new_flow,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_table,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_toobig_addressee,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_toobig_padding_is_not_inner,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_toobig_leaves_no_state,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_icmp", tests, NULL, NULL);
}
