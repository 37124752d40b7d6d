/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, MTU: a client packet for a VIP that would not fit the egress
 * MTU once encapsulated is answered, back out the ingress interface, with
 * ICMP "fragmentation needed" (IPv4 with DF) or ICMPv6 "packet too big"
 * from the VIP to the client, carrying the egress MTU minus the outer
 * header; IPv4 without DF and ICMP errors are dropped instead; a packet
 * that fits is forwarded; traffic that is not for a VIP never gets an ICMP.
 * The reply is checked byte by byte: Ethernet (MACs swapped, VLAN tags
 * kept), IP header and its checksum, ICMP type, code, MTU and checksum,
 * and the quote of the client's packet.
 */
#include "../lib/bpftest.h"

#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#pragma GCC diagnostic ignored "-Woverride-init"	/* spec defaults */

enum { V4_TCP, V4_UDP, V6_TCP, V4_IN6, V6_IN4, V4_NO_MTU };

#define VIP4		"198.18.0.100"
#define VIP4_IN6	"198.18.0.101"	/* IPv6 backend: 40 bytes of outer */
#define VIP4_NO_MTU	"198.18.0.102"	/* next hop MTU unknown (0) */
#define VIP6		"fd00::100"
#define VIP6_IN4	"fd00::101"	/* IPv4 backend: 20 bytes of outer */
#define CLIENT4		"198.18.2.1"
#define CLIENT6		"fd00:c::1"
#define ROUTER4		"198.18.3.1"
#define OTHER4		"198.18.0.200"
#define OTHER6		"fd00::200"

#define LINK_MTU	1500
#define ICMP4_TOOBIG_HDRS	28	/* IPv4 + ICMP header */
#define ICMP6_TOOBIG_HDRS	48	/* IPv6 + ICMPv6 header */
#define ICMP6_ERROR_MAX		1280	/* RFC 4443: an error fits in this */

static const char *const be4[] = { "198.18.1.10", "198.18.1.11", NULL };
static const char *const be4_udp[] = { "198.18.1.20", NULL };
static const char *const be6[] = { "fd00:be::10", "fd00:be::11", NULL };
static const char *const be46[] = { "fd00:be::20", NULL };
static const char *const be64[] = { "198.18.1.30", NULL };
static const char *const be_nomtu[] = { "198.18.1.40", NULL };

/* Give every backend of @v the next-hop MTU @mtu, as sluiced would. */
static void set_mtu(struct bt *t, const struct bt_vip *v, __u32 mtu)
{
	struct sluice_backend be;
	size_t i;

	for (i = 0; i < v->nbe; i++) {
		be = *bt_backend(t, v->be_id[i]);
		be.mtu = mtu;
		bt_backend_update(t, v->be_id[i], &be);
	}
}

static int setup(void **state)
{
	struct bt *t = bt_open(BT_RING_SMALL);

	bt_vip_add(t, VIP4, 80, IPPROTO_TCP, be4);
	bt_vip_add(t, VIP4, 53, IPPROTO_UDP, be4_udp);
	bt_vip_add(t, VIP6, 80, IPPROTO_TCP, be6);
	bt_vip_add(t, VIP4_IN6, 80, IPPROTO_TCP, be46);
	bt_vip_add(t, VIP6_IN4, 80, IPPROTO_TCP, be64);
	bt_vip_add(t, VIP4_NO_MTU, 80, IPPROTO_TCP, be_nomtu);
	set_mtu(t, &t->vips[V4_TCP], LINK_MTU);
	set_mtu(t, &t->vips[V4_UDP], LINK_MTU);
	set_mtu(t, &t->vips[V6_TCP], LINK_MTU);
	set_mtu(t, &t->vips[V4_IN6], LINK_MTU);
	set_mtu(t, &t->vips[V6_IN4], LINK_MTU);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	bt_close(*state);
	return 0;
}

/* Client segments whose IP total length is 40 + payload (+ options). */
#define TCP4(...) { .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_TCP,	\
		    .sport = 40000, .dport = 80, .tcp_flags = PKT_TCP_ACK, \
		    .df = 1, .payload_len = 1460, __VA_ARGS__ }
#define UDP4(...) { .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_UDP,	\
		    .sport = 40000, .dport = 53, .df = 1,		\
		    .payload_len = 1472, __VA_ARGS__ }
/* IPv6: total length 60 + payload. */
#define TCP6(...) { .src = CLIENT6, .dst = VIP6, .proto = IPPROTO_TCP,	\
		    .sport = 40000, .dport = 80, .tcp_flags = PKT_TCP_ACK, \
		    .payload_len = 1440, __VA_ARGS__ }

static const struct pkt_spec reply4 = {
	.src = VIP4, .dst = CLIENT4, .proto = IPPROTO_TCP, .sport = 80,
	.dport = 40000, .tcp_flags = PKT_TCP_ACK, .df = 1, .payload_len = 1460,
};

struct mtu_case {
	const char *name;
	struct pkt_spec spec;
	int reason;
	__u32 mtu;		/* ICMP_TOOBIG: the MTU the reply announces */
};

static const struct mtu_case mtu_cases[] = {
	/* The cases: 1500 bytes over a 1500-byte egress. */
	{ "ipv4 DF 1500 bytes -> frag needed 1480", TCP4(),
	  SLUICE_R_ICMP_TOOBIG, 1480 },
	{ "ipv6 1500 bytes -> packet too big 1460", TCP6(),
	  SLUICE_R_ICMP_TOOBIG, 1460 },
	{ "ipv4 1480 bytes fits: forwarded", TCP4(.payload_len = 1440),
	  SLUICE_R_FWD_TX, 0 },
	{ "ipv4 1481 bytes -> frag needed 1480", TCP4(.payload_len = 1441),
	  SLUICE_R_ICMP_TOOBIG, 1480 },
	{ "ipv6 1460 bytes fits: forwarded", TCP6(.payload_len = 1400),
	  SLUICE_R_FWD_TX, 0 },
	{ "ipv6 1461 bytes -> packet too big 1460", TCP6(.payload_len = 1401),
	  SLUICE_R_ICMP_TOOBIG, 1460 },
	/* The quote and the L2 header follow the packet's own shape. */
	{ "ipv4 with 8 option bytes: quote is header + 8",
	  TCP4(.opt_len = 8, .payload_len = 1452), SLUICE_R_ICMP_TOOBIG, 1480 },
	{ "ipv4 802.1Q tag kept", TCP4(.nvlans = 1, .vlan_id = { 42 }),
	  SLUICE_R_ICMP_TOOBIG, 1480 },
	{ "ipv6 QinQ tags kept",
	  TCP6(.nvlans = 2, .vlan_tpid = { 0x88a8, 0x8100 },
	       .vlan_id = { 42, 43 }), SLUICE_R_ICMP_TOOBIG, 1460 },
	{ "ipv4 Ethernet padding is not quoted",
	  TCP4(.trailer = 6), SLUICE_R_ICMP_TOOBIG, 1480 },
	{ "ipv4 DF UDP -> frag needed 1480", UDP4(), SLUICE_R_ICMP_TOOBIG,
	  1480 },
	/* The outer family sets the overhead, not the client's. */
	{ "ipv4 over an IPv6 backend -> frag needed 1460",
	  TCP4(.dst = VIP4_IN6), SLUICE_R_ICMP_TOOBIG, 1460 },
	{ "ipv4 1460 bytes over an IPv6 backend fits",
	  TCP4(.dst = VIP4_IN6, .payload_len = 1420), SLUICE_R_FWD_TX, 0 },
	{ "ipv6 over an IPv4 backend -> packet too big 1480",
	  TCP6(.dst = VIP6_IN4), SLUICE_R_ICMP_TOOBIG, 1480 },
	/* Policy: no ICMP where it would be wrong or useless. */
	{ "ipv4 without DF: dropped, never fragmented",
	  TCP4(.df = 0), SLUICE_R_DROP_TOO_BIG, 0 },
	{ "next-hop MTU unknown: forwarded unchecked",
	  TCP4(.dst = VIP4_NO_MTU), SLUICE_R_FWD_TX, 0 },
	{ "ICMP error too big for the backend: dropped, never answered",
	  { .src = ROUTER4, .dst = VIP4, .proto = IPPROTO_ICMP,
	    .icmp_type = 3, .icmp_code = 4, .icmp_mtu = 1400,
	    .inner = &reply4 },	/* 1528 bytes: quotes all 1500 */
	  SLUICE_R_DROP_TOO_BIG, 0 },
	/* Not for a VIP: the kernel's business, untouched. */
	{ "ipv4 1500 bytes to another host: passed",
	  TCP4(.dst = OTHER4), SLUICE_R_PASS_NOT_VIP, 0 },
	{ "ipv6 1500 bytes to another host: passed",
	  TCP6(.dst = OTHER6), SLUICE_R_PASS_NOT_VIP, 0 },
	{ "ipv4 1500 bytes to a VIP address, other port: passed",
	  TCP4(.dport = 8080), SLUICE_R_PASS_NOT_VIP, 0 },
};

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* Ethernet: the input's with source and destination swapped, tags kept. */
static void check_l2(const char *ctx, const struct bt_result *r,
		     const struct pkt *in)
{
	bt_check_mem(ctx, "Ethernet destination (the input's source)", r->out,
		     in->data + 6, 6);
	bt_check_mem(ctx, "Ethernet source (the input's destination)",
		     r->out + 6, in->data, 6);
	bt_check_mem(ctx, "VLAN tags and ethertype", r->out + 12,
		     in->data + 12, in->l3_off - 12);
}

static void check_toobig4(const char *ctx, const struct bt_result *r,
			  const struct pkt *in, __u32 mtu)
{
	const __u8 *cip = in->data + in->l3_off;	/* the client's packet */
	__u32 quote = (cip[0] & 0xf) * 4 + 8;	/* RFC 792: header + 64 bits */
	const __u8 *ip = r->out + in->l3_off, *ic = ip + 20;
	__u32 tot = ICMP4_TOOBIG_HDRS + quote;

	CHECK_EQ(ctx, "output length", r->out_len, in->l3_off + tot);
	check_l2(ctx, r, in);
	CHECK_EQ(ctx, "IPv4 version/IHL", ip[0], 0x45);
	CHECK_EQ(ctx, "IPv4 total length", get16(ip + 2), tot);
	CHECK_EQ(ctx, "IPv4 fragment field", get16(ip + 6) & 0x3fff, 0);
	CHECK_EQ(ctx, "IPv4 TTL", ip[8], 64);
	CHECK_EQ(ctx, "IPv4 protocol", ip[9], IPPROTO_ICMP);
	CHECK_TRUE(ctx, "IPv4 header checksum", pkt_ipv4_csum_ok(ip, 20));
	bt_check_mem(ctx, "source is the VIP", ip + 12, cip + 16, 4);
	bt_check_mem(ctx, "destination is the client", ip + 16, cip + 12, 4);
	CHECK_EQ(ctx, "ICMP type (destination unreachable)", ic[0], 3);
	CHECK_EQ(ctx, "ICMP code (fragmentation needed)", ic[1], 4);
	CHECK_EQ(ctx, "ICMP unused word", get16(ic + 4), 0);
	CHECK_EQ(ctx, "ICMP next-hop MTU", get16(ic + 6), mtu);
	CHECK_EQ(ctx, "ICMP checksum valid", pkt_l4_csum_ok(ip, tot), 1);
	bt_check_mem(ctx, "quote: client's IP header + 8 bytes", ic + 8, cip,
		     quote);
}

static void check_toobig6(const char *ctx, const struct bt_result *r,
			  const struct pkt *in, __u32 mtu)
{
	const __u8 *cip = in->data + in->l3_off;
	__u32 max = ICMP6_ERROR_MAX - ICMP6_TOOBIG_HDRS;
	__u32 quote = in->l3_len < max ? in->l3_len : max;
	const __u8 *ip = r->out + in->l3_off, *ic = ip + 40;
	__u32 tot = ICMP6_TOOBIG_HDRS + quote;

	CHECK_EQ(ctx, "output length", r->out_len, in->l3_off + tot);
	CHECK_TRUE(ctx, "error within 1280 bytes", tot <= ICMP6_ERROR_MAX);
	check_l2(ctx, r, in);
	CHECK_EQ(ctx, "IPv6 version", ip[0] >> 4, 6);
	CHECK_EQ(ctx, "IPv6 payload length", get16(ip + 4), tot - 40);
	CHECK_EQ(ctx, "IPv6 next header", ip[6], IPPROTO_ICMPV6);
	CHECK_EQ(ctx, "IPv6 hop limit", ip[7], 64);
	bt_check_mem(ctx, "source is the VIP", ip + 8, cip + 24, 16);
	bt_check_mem(ctx, "destination is the client", ip + 24, cip + 8, 16);
	CHECK_EQ(ctx, "ICMPv6 type (packet too big)", ic[0], 2);
	CHECK_EQ(ctx, "ICMPv6 code", ic[1], 0);
	CHECK_EQ(ctx, "ICMPv6 MTU", get32(ic + 4), mtu);
	CHECK_EQ(ctx, "ICMPv6 checksum valid", pkt_l4_csum_ok(ip, tot), 1);
	bt_check_mem(ctx, "quote: the client's packet", ic + 8, cip, quote);
}

static int cip_is_v6(const struct pkt *in)
{
	return (in->data[in->l3_off] >> 4) == 6;
}

static void run_case(struct bt *t, const struct mtu_case *c)
{
	struct bt_result r;
	struct pkt in;
	__u64 toobig = bt_reason_count(t, SLUICE_R_ICMP_TOOBIG);

	bt_run_spec(t, c->name, &c->spec, &in, &r);
	bt_check_verdict(c->name, &r, sluice_reason_verdict(c->reason),
			 c->reason);
	switch (c->reason) {
	case SLUICE_R_ICMP_TOOBIG:
		CHECK_EQ(c->name, "icmp_toobig counted",
		      bt_reason_count(t, SLUICE_R_ICMP_TOOBIG), toobig + 1);
		if (cip_is_v6(&in))
			check_toobig6(c->name, &r, &in, c->mtu);
		else
			check_toobig4(c->name, &r, &in, c->mtu);
		break;
	case SLUICE_R_FWD_TX: {
		struct sluice_flow_key key;
		const struct bt_vip *v;

		pkt_flow_key(&c->spec, &key);
		v = bt_vip_find(t, &key);
		bt_check_encap(c->name, &r, &in, bt_backend(t, bt_pick(t, v, &key)));
		break;
	}
	case SLUICE_R_PASS_NOT_VIP:
		bt_check_unchanged(c->name, &r, &in);
		/* fall through */
	default:
		CHECK_EQ(c->name, "no ICMP generated",
		      bt_reason_count(t, SLUICE_R_ICMP_TOOBIG), toobig);
	}
}

static void test_mtu_table(void **state)
{
	struct bt *t = *state;
	size_t i;

	for (i = 0; i < sizeof(mtu_cases) / sizeof(mtu_cases[0]); i++)
		run_case(t, &mtu_cases[i]);
	bt_assert_reasons_total(t);
}

/*
 * The MTU comes from the backend entry, so a change sluiced writes takes
 * effect on the next packet: the same segment forwards over a 9000-byte
 * next hop and is answered again once the MTU drops back.
 */
static void test_mtu_follows_backend_entry(void **state)
{
	const struct mtu_case big = { "1500 bytes, egress 9000", TCP4(),
				      SLUICE_R_FWD_TX, 0 };
	const struct mtu_case back = { "1500 bytes, egress 1400 again", TCP4(),
				       SLUICE_R_ICMP_TOOBIG, 1380 };
	struct bt *t = *state;

	set_mtu(t, &t->vips[V4_TCP], 9000);
	run_case(t, &big);
	set_mtu(t, &t->vips[V4_TCP], 1400);
	run_case(t, &back);
	bt_assert_reasons_total(t);
}

/* An IPv6 packet shorter than 1232 bytes (a small egress MTU) is quoted
 * whole; the error then stays under 1280 bytes. */
static void test_ipv6_short_packet_quoted_whole(void **state)
{
	const struct mtu_case c = { "ipv6 1210 bytes, egress 1200",
				    TCP6(.payload_len = 1150),
				    SLUICE_R_ICMP_TOOBIG, 1160 };
	struct bt *t = *state;

	set_mtu(t, &t->vips[V6_TCP], 1200);
	run_case(t, &c);
	bt_assert_reasons_total(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mtu_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mtu_follows_backend_entry,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_short_packet_quoted_whole,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_mtu", tests, NULL, NULL);
}
