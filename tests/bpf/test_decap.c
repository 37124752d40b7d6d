/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, decapsulation (bpf/decap.bpf.c): the balancer's output for
 * every outer/inner family pair, fed to the backend's decap program, comes
 * out as Ethernet + the client's original IP packet byte-for-byte. Tunnels
 * to other addresses and plain traffic pass untouched; a truncated or
 * inconsistent tunnel is dropped.
 */
#include "../lib/bpftest.h"

#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#pragma GCC diagnostic ignored "-Woverride-init"	/* spec defaults */

enum { V4_TCP, V6_TCP, V4_TO_V6, V6_TO_V4, V4_UDP };

#define VIP4		"198.18.0.100"
#define VIP4_B		"198.18.0.101"
#define VIP6		"fd00::100"
#define VIP6_B		"fd00::101"
#define CLIENT4		"198.18.2.1"
#define CLIENT6		"fd00:c::1"
#define LOCAL4		"198.18.1.50"	/* this backend's tunnel endpoints */
#define LOCAL6		"fd00:be::50"
#define REMOTE4		"198.18.1.51"	/* another backend's */
#define REMOTE6		"fd00:be::51"

static const char *const be4[] = { "198.18.1.10", "198.18.1.11", NULL };
static const char *const be6[] = { "fd00:be::10", "fd00:be::11", NULL };
static const char *const one6[] = { "fd00:be::20", NULL };
static const char *const one4[] = { "198.18.1.20", NULL };

struct fixture {
	struct bt *lb;
	struct bt_decap *decap;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int i;
	size_t j;

	CHECK_NONNULL(CHECK_HERE, f);
	*state = f;
	f->lb = bt_open(BT_RING_SMALL);
	bt_vip_add(f->lb, VIP4, 80, IPPROTO_TCP, be4);
	bt_vip_add(f->lb, VIP6, 80, IPPROTO_TCP, be6);
	bt_vip_add(f->lb, VIP4_B, 443, IPPROTO_TCP, one6);
	bt_vip_add(f->lb, VIP6_B, 443, IPPROTO_TCP, one4);
	bt_vip_add(f->lb, VIP4, 53, IPPROTO_UDP, be4);

	f->decap = bt_decap_open();
	/* Every backend is "this host" for the round trips. */
	for (i = 0; i < f->lb->nvips; i++)
		for (j = 0; j < f->lb->vips[i].nbe; j++) {
			const struct sluice_backend *be =
				bt_backend(f->lb, f->lb->vips[i].be_id[j]);
			char addr[64];

			pkt_addr_str(&be->addr, be->family, addr, sizeof(addr));
			bt_decap_add_addr(f->decap, addr);
		}
	bt_decap_add_addr(f->decap, LOCAL4);
	bt_decap_add_addr(f->decap, LOCAL6);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f) {
		bt_close(f->lb);
		bt_decap_close(f->decap);
		free(f);
	}
	return 0;
}

/* Run decap once; exactly one SLUICE_DR_* counter moves, the one given. */
static void decap_run(struct bt_decap *d, const char *ctx, const void *in,
		      __u32 len, int verdict, __u32 reason, struct bt_result *r)
{
	__u64 before[SLUICE_DR_MAX], after;
	__u32 i;

	for (i = 0; i < SLUICE_DR_MAX; i++)
		before[i] = bt_decap_stat(d, i);
	bt_decap_run(d, ctx, in, len, r);
	CHECK_EQ(ctx, "decap verdict", r->verdict, verdict);
	for (i = 0; i < SLUICE_DR_MAX; i++) {
		after = bt_decap_stat(d, i);
		if (i == reason)
			CHECK_EQ(ctx, "decap counter of the expected reason",
			      after - before[i], 1);
		else
			CHECK_EQ(ctx, "decap counter of another reason",
			      after - before[i], 0);
	}
}

/* Decap output: @dmac/@smac, the inner family's ethertype, @ip. */
static void check_stripped(const char *ctx, const struct bt_result *r,
			   const __u8 *dmac, const __u8 *smac,
			   const __u8 *ip, __u32 len)
{
	__u16 ethertype = (ip[0] >> 4) == 4 ? 0x0800 : 0x86dd;
	__u8 eth[PKT_ETH_LEN];

	memcpy(eth, dmac, 6);
	memcpy(eth + 6, smac, 6);
	eth[12] = ethertype >> 8;
	eth[13] = ethertype & 0xff;
	CHECK_EQ(ctx, "decap output length", r->out_len, PKT_ETH_LEN + len);
	bt_check_mem(ctx, "decap Ethernet header", r->out, eth, PKT_ETH_LEN);
	bt_check_mem(ctx, "decap inner packet", r->out + PKT_ETH_LEN, ip, len);
}

#define TCP4(...) { .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_TCP,	\
		    .sport = 41000, .dport = 80, .tcp_flags = PKT_TCP_SYN, \
		    .df = 1, __VA_ARGS__ }
#define TCP6(...) { .src = CLIENT6, .dst = VIP6, .proto = IPPROTO_TCP,	\
		    .sport = 41000, .dport = 80, .tcp_flags = PKT_TCP_SYN, \
		    __VA_ARGS__ }

struct trip_case {
	const char *name;
	struct pkt_spec spec;	/* the client's packet to a VIP */
};

static const struct trip_case trip_cases[] = {
	{ "IPIP (ipv4 VIP, ipv4 backend)", TCP4() },
	{ "IPIP, data segment", TCP4(.sport = 41001, .tcp_flags = PKT_TCP_ACK,
				     .payload_len = 1400) },
	{ "IPIP, ipv4 options", TCP4(.sport = 41002, .opt_len = 12) },
	{ "IPIP, 802.1Q-tagged client frame", TCP4(.sport = 41003, .nvlans = 1,
						   .vlan_id = { 5 }) },
	{ "IPIP, udp", { .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_UDP,
			 .sport = 41000, .dport = 53, .payload_len = 100 } },
	{ "IPv6-in-IPv6", TCP6() },
	{ "IPv6-in-IPv6, data and extension headers",
	  TCP6(.sport = 41001, .tcp_flags = PKT_TCP_ACK, .payload_len = 1200,
	       .next = 2, .ext = { { .type = IPPROTO_HOPOPTS },
				   { .type = IPPROTO_DSTOPTS } }) },
	{ "4in6 (ipv4 VIP, ipv6 backend)", TCP4(.dst = VIP4_B, .dport = 443) },
	{ "4in6, data", TCP4(.dst = VIP4_B, .dport = 443, .sport = 41001,
			     .tcp_flags = PKT_TCP_ACK, .payload_len = 900) },
	{ "6in4 (ipv6 VIP, ipv4 backend)", TCP6(.dst = VIP6_B, .dport = 443) },
};

/* Client packet -> balancer -> decap: the client's IP packet again. */
static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct sluice_flow_key key;
	const struct sluice_backend *be;
	struct bt_result enc, dec;
	struct pkt in;
	size_t i;

	for (i = 0; i < sizeof(trip_cases) / sizeof(trip_cases[0]); i++) {
		const struct trip_case *c = &trip_cases[i];

		pkt_flow_key(&c->spec, &key);
		be = bt_backend(f->lb, bt_pick(f->lb, bt_vip_find(f->lb, &key),
					       &key));
		bt_run_spec(f->lb, c->name, &c->spec, &in, &enc);
		bt_check_verdict(c->name, &enc, XDP_TX, SLUICE_R_FWD_TX);
		bt_check_encap(c->name, &enc, &in, be);

		decap_run(f->decap, c->name, enc.out, enc.out_len, XDP_PASS,
			  SLUICE_DR_DECAP, &dec);
		check_stripped(c->name, &dec, be->dmac, be->smac,
			       in.data + in.l3_off, in.len - in.l3_off);
	}
	bt_assert_reasons_total(f->lb);
}

/* The inner packets of hand-built tunnels. */
static const struct pkt_spec inner4 = TCP4(.payload_len = 64);
static const struct pkt_spec inner6 = TCP6(.payload_len = 64);

#define IPIP(...)  { .src = "198.18.0.1", .dst = LOCAL4,		\
		     .proto = IPPROTO_IPIP, .inner = &inner4, __VA_ARGS__ }
#define IP6IP6(...) { .src = "fd00::1", .dst = LOCAL6,			\
		      .proto = IPPROTO_IPV6, .inner = &inner6, __VA_ARGS__ }

/* What to check of the decap output besides verdict and counter. */
enum decap_out { D_NONE, D_UNCHANGED, D_STRIPPED };

struct decap_case {
	const char *name;
	struct pkt_spec spec;
	int verdict;
	__u32 reason;
	enum decap_out out;
};

static const struct decap_case decap_cases[] = {
	{ "IPIP to a local address", IPIP(), XDP_PASS, SLUICE_DR_DECAP,
	  D_STRIPPED },
	{ "6in4 to a local address",
	  IPIP(.proto = IPPROTO_IPV6, .inner = &inner6), XDP_PASS,
	  SLUICE_DR_DECAP, D_STRIPPED },
	{ "IPv6-in-IPv6 to a local address", IP6IP6(), XDP_PASS,
	  SLUICE_DR_DECAP, D_STRIPPED },
	{ "4in6 to a local address",
	  IP6IP6(.proto = IPPROTO_IPIP, .inner = &inner4), XDP_PASS,
	  SLUICE_DR_DECAP, D_STRIPPED },
	{ "IPIP with outer options to a local address", IPIP(.opt_len = 8),
	  XDP_PASS, SLUICE_DR_DECAP, D_STRIPPED },

	{ "IPIP to another address", IPIP(.dst = REMOTE4), XDP_PASS,
	  SLUICE_DR_NOT_LOCAL, D_UNCHANGED },
	{ "IPv6-in-IPv6 to another address", IP6IP6(.dst = REMOTE6), XDP_PASS,
	  SLUICE_DR_NOT_LOCAL, D_UNCHANGED },
	{ "4in6 to another address",
	  IP6IP6(.dst = REMOTE6, .proto = IPPROTO_IPIP, .inner = &inner4),
	  XDP_PASS, SLUICE_DR_NOT_LOCAL, D_UNCHANGED },

	{ "plain tcp to a local address",
	  TCP4(.dst = LOCAL4), XDP_PASS, SLUICE_DR_NOT_TUNNEL, D_UNCHANGED },
	{ "plain ipv6 tcp to a local address",
	  TCP6(.dst = LOCAL6), XDP_PASS, SLUICE_DR_NOT_TUNNEL, D_UNCHANGED },
	{ "plain tcp to a VIP", TCP4(), XDP_PASS, SLUICE_DR_NOT_TUNNEL,
	  D_UNCHANGED },
	{ "ARP", { .ethertype = 0x0806, .raw_len = 0 }, XDP_PASS,
	  SLUICE_DR_NOT_TUNNEL, D_UNCHANGED },
	{ "802.1Q-tagged IPIP (VLAN frames are not ours)",
	  IPIP(.nvlans = 1, .vlan_id = { 9 }), XDP_PASS, SLUICE_DR_NOT_TUNNEL,
	  D_UNCHANGED },

	{ "IPIP, inner cut to 10 bytes", IPIP(.inner_len = 10), XDP_DROP,
	  SLUICE_DR_MALFORMED, D_NONE },
	{ "IPIP, no inner at all", IPIP(.inner = NULL), XDP_DROP,
	  SLUICE_DR_MALFORMED, D_NONE },
	{ "4in6, inner cut to 19 bytes",
	  IP6IP6(.proto = IPPROTO_IPIP, .inner = &inner4, .inner_len = 19),
	  XDP_DROP, SLUICE_DR_MALFORMED, D_NONE },
	{ "IPv6-in-IPv6, inner cut to 39 bytes", IP6IP6(.inner_len = 39),
	  XDP_DROP, SLUICE_DR_MALFORMED, D_NONE },
	{ "IPIP announcing ipv4, carrying ipv6",
	  IPIP(.inner = &inner6), XDP_DROP, SLUICE_DR_MALFORMED, D_NONE },
	{ "IPv6 tunnel announcing ipv6, carrying ipv4",
	  IP6IP6(.inner = &inner4), XDP_DROP, SLUICE_DR_MALFORMED, D_NONE },
	{ "IPIP outer fragment", IPIP(.mf = 1), XDP_DROP, SLUICE_DR_MALFORMED,
	  D_NONE },
	{ "IPIP outer IHL 4", IPIP(.ihl = 4), XDP_DROP, SLUICE_DR_MALFORMED,
	  D_NONE },
	{ "IPIP outer header cut at 19 bytes", IPIP(.frame_len = 14 + 19),
	  XDP_DROP, SLUICE_DR_MALFORMED, D_NONE },
};

static void test_decap_table(void **state)
{
	struct fixture *f = *state;
	struct bt_result r;
	struct pkt in;
	size_t i;

	for (i = 0; i < sizeof(decap_cases) / sizeof(decap_cases[0]); i++) {
		const struct decap_case *c = &decap_cases[i];

		if (pkt_build(&c->spec, &in)) {
			print_message("# %s: packet spec does not build\n", c->name);
			fail();
		}
		decap_run(f->decap, c->name, in.data, in.len, c->verdict,
			  c->reason, &r);
		switch (c->out) {
		case D_NONE:
			break;
		case D_UNCHANGED:
			CHECK_EQ(c->name, "output length", r.out_len, in.len);
			bt_check_mem(c->name, "passed frame", r.out, in.data,
				     in.len);
			break;
		case D_STRIPPED:
			check_stripped(c->name, &r, in.data, in.data + 6,
				       in.data + in.l4_off,
				       in.len - in.l4_off);
			break;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_decap_table, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("bpf_decap", tests, NULL, NULL);
}
