/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, second chance on the backend (issue 15 part 2): the
 * balancer's GUE output during a drain, fed to the backend's decap
 * program. With a real socket for the inner tuple (a connection on
 * loopback in this test's own network namespace) it is delivered; without
 * one it is sent on to the second hop in plain IPIP, found through the
 * FIB (a veth and a permanent neighbour of the namespace) and back out
 * the interface it came in on (XDP_TX); what was sent
 * on once, or says it was, is never sent on again.
 */
#include "../lib/bpftest.h"
#include "../lib/backendns.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#pragma GCC diagnostic ignored "-Woverride-init" /* spec defaults */

#define VIP BNS_VIP
#define CLIENT BNS_CLIENT
#define VPORT BNS_VPORT
#define HOST BNS_HOST /* this backend: drained, pre-drain pick */
#define HOP_MAC BNS_HOP_MAC
#define VETH BNS_VETH

static const char *const bes[] = { HOST, BNS_HOP, BNS_HOP_UNRESOLVED, NULL };

struct fixture {
	struct bt *lb;
	struct bt_decap *decap;
	int lfd; /* listener on VIP:VPORT */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	CHECK_NONNULL(CHECK_HERE, f);
	*state = f;
	f->lb = bt_open(BT_RING_MEDIUM);
	bt_vip_add(f->lb, VIP, VPORT, IPPROTO_TCP, bes);
	bt_vip_drain(f->lb, &f->lb->vips[0], 0);
	f->decap = bt_decap_open();
	f->decap->ifindex = if_nametoindex(VETH); /* the backends' side */
	CHECK(CHECK_HERE, f->decap->ifindex > 0);
	bt_decap_add_addr(f->decap, HOST);
	bt_decap_add_addr(f->decap, BNS_HOP);
	f->lfd = bns_listen(VIP, VPORT);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f) {
		bt_close(f->lb);
		bt_decap_close(f->decap);
		close(f->lfd);
		free(f);
	}
	return 0;
}

#define ACK(...)                                                   \
	{                                                          \
		.src = CLIENT, .dst = VIP, .proto = IPPROTO_TCP,   \
		.dport = VPORT, .df = 1, .tcp_flags = PKT_TCP_ACK, \
		.payload_len = 32, __VA_ARGS__                     \
	}

/* A source port from @from that falls back to this host (bt_fallback_port). */
static __u16 fallback_port_to(const struct fixture *f, __u16 from,
			      struct pkt_spec *s, __u32 live)
{
	const struct bt_vip *v = &f->lb->vips[0];

	return bt_fallback_port(f->lb, v, s, from, v->be_id[0], live);
}

static __u16 fallback_port(const struct fixture *f, __u16 from,
			   struct pkt_spec *s)
{
	return fallback_port_to(f, from, s, 0);
}

/* The balancer's GUE output for @s, into @enc; @in is the client packet. */
static void via_box(struct fixture *f, const char *ctx, struct pkt_spec *s,
		    struct pkt *in, struct bt_result *enc)
{
	struct sluice_flow_key key;

	pkt_flow_key(s, &key);
	bt_run_spec(f->lb, ctx, s, in, enc);
	bt_check_verdict(ctx, enc, XDP_TX, SLUICE_R_FWD_TX);
	bt_check_encap_hop(
		ctx, enc, in, bt_backend(f->lb, f->lb->vips[0].be_id[0]),
		bt_backend(f->lb, bt_pick(f->lb, &f->lb->vips[0], &key)));
}

static void decap_expect(struct bt_decap *d, const char *ctx, const void *in,
			 __u32 len, int verdict, __u32 reason,
			 struct bt_result *r)
{
	__u64 before = bt_decap_stat(d, reason);

	bt_decap_run(d, ctx, in, len, r);
	CHECK_EQ(ctx, "decap verdict", r->verdict, verdict);
	CHECK_EQ(ctx, "decap counter", bt_decap_stat(d, reason) - before, 1);
}

/* A socket for the tuple: delivered here, GUE stripped. */
static void test_deliver_with_socket(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = ACK();
	struct bt_result enc, dec;
	struct pkt in;
	int fd;

	fallback_port(f, 20000, &s);
	fd = bns_connect(s.sport);
	via_box(f, "established", &s, &in, &enc);
	decap_expect(f->decap, "established", enc.out, enc.out_len, XDP_PASS,
		     SLUICE_DR_GUE, &dec);
	CHECK_EQ("established", "stripped length", dec.out_len,
		 PKT_ETH_LEN + in.l3_len);
	bt_check_mem("established", "inner packet", dec.out + PKT_ETH_LEN,
		     in.data + in.l3_off, in.l3_len);
	close(fd);
}

/* No socket (only the listener): sent on to the live pick in IPIP. */
static void test_pass_on_without_socket(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = ACK();
	struct sluice_flow_key key;
	const struct sluice_backend *hop;
	struct bt_result enc, dec, again;
	struct bt_decap *d = f->decap;
	struct pkt in;
	__u8 mac[6];
	__u32 src;

	/* Live pick 198.18.1.11, also "local" here: the second hop's turn. */
	fallback_port_to(f, 30000, &s, f->lb->vips[0].be_id[1]);
	pkt_flow_key(&s, &key);
	hop = bt_backend(f->lb, bt_pick(f->lb, &f->lb->vips[0], &key));
	via_box(f, "no socket", &s, &in, &enc);
	decap_expect(d, "no socket", enc.out, enc.out_len, XDP_TX,
		     SLUICE_DR_PASS_ON, &dec);
	CHECK_EQ("no socket", "output length", dec.out_len,
		 PKT_ETH_LEN + PKT_IP4_LEN + in.l3_len);
	sscanf(HOP_MAC, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
	       &mac[2], &mac[3], &mac[4], &mac[5]);
	bt_check_mem("no socket", "next hop MAC", dec.out, mac, 6);
	CHECK_EQ("no socket", "outer protocol IPIP", dec.out[PKT_ETH_LEN + 9],
		 IPPROTO_IPIP);
	CHECK_TRUE("no socket", "outer IPv4 checksum",
		   pkt_ipv4_csum_ok(dec.out + PKT_ETH_LEN, PKT_IP4_LEN));
	inet_pton(AF_INET, HOST, &src);
	bt_check_mem("no socket", "outer source: this host",
		     dec.out + PKT_ETH_LEN + 12, &src, 4);
	bt_check_mem("no socket", "outer destination: second hop",
		     dec.out + PKT_ETH_LEN + 16, &hop->addr.addr[0], 4);
	bt_check_mem("no socket", "inner packet",
		     dec.out + PKT_ETH_LEN + PKT_IP4_LEN, in.data + in.l3_off,
		     in.l3_len);

	/* At the second hop (also without a socket): delivered, never
	 * passed again: plain IPIP carries no hop. */
	decap_expect(d, "at the second hop", dec.out, dec.out_len, XDP_PASS,
		     SLUICE_DR_DECAP, &again);
}

/*
 * No neighbour entry for the second hop yet: the rewritten packet goes to
 * the kernel (XDP_PASS, still addressed to this host's MAC), which
 * forwards it and resolves the neighbour.
 */
static void test_pass_on_unresolved_hop(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = ACK();
	struct bt_result enc, dec;
	struct pkt in;

	fallback_port_to(f, 35000, &s, f->lb->vips[0].be_id[2]);
	via_box(f, "unresolved hop", &s, &in, &enc);
	decap_expect(f->decap, "unresolved hop", enc.out, enc.out_len, XDP_PASS,
		     SLUICE_DR_PASS_ON, &dec);
	bt_check_mem("unresolved hop", "Ethernet kept (to this host)", dec.out,
		     enc.out, 12);
	CHECK_EQ("unresolved hop", "outer protocol IPIP",
		 dec.out[PKT_ETH_LEN + 9], IPPROTO_IPIP);
	/* Through this host's kernel: from the box, not a local address,
	 * which its forwarding would drop as a martian. */
	bt_check_mem("unresolved hop", "outer source: the box",
		     dec.out + PKT_ETH_LEN + 12, enc.out + PKT_ETH_LEN + 12, 4);
	CHECK_TRUE("unresolved hop", "outer IPv4 checksum",
		   pkt_ipv4_csum_ok(dec.out + PKT_ETH_LEN, PKT_IP4_LEN));
	bt_check_mem("unresolved hop", "inner packet",
		     dec.out + PKT_ETH_LEN + PKT_IP4_LEN, in.data + in.l3_off,
		     in.l3_len);
}

/* A GUE packet that says it was passed on once already: delivered. */
static void test_never_repass(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = ACK();
	struct bt_result enc, dec;
	struct pkt in;
	__u64 passed = bt_decap_stat(f->decap, SLUICE_DR_PASS_ON);

	fallback_port(f, 40000, &s);
	via_box(f, "hops 1", &s, &in, &enc);
	enc.out[PKT_ETH_LEN + PKT_IP4_LEN + 8 + 4 + 2] = 1; /* hop.hops */
	decap_expect(f->decap, "hops 1", enc.out, enc.out_len, XDP_PASS,
		     SLUICE_DR_GUE, &dec);
	CHECK_EQ("hops 1", "passed on",
		 bt_decap_stat(f->decap, SLUICE_DR_PASS_ON), passed);
}

/*
 * A flood of mid-stream packets to unknown tuples: each passed on once,
 * to its own second hop, and the counters add up.
 */
static void test_flood_passed_once(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = ACK();
	struct bt_result enc, dec;
	struct pkt in;
	__u64 before = bt_decap_stat(f->decap, SLUICE_DR_PASS_ON);
	__u64 gue = bt_decap_stat(f->decap, SLUICE_DR_GUE);
	__u16 from = 50000;
	int i, n = 64;

	for (i = 0; i < n; i++) {
		from = fallback_port_to(f, from, &s, f->lb->vips[0].be_id[1]) +
		       1;
		bt_run_spec(f->lb, "flood", &s, &in, &enc);
		bt_decap_run(f->decap, "flood", enc.out, enc.out_len, &dec);
		CHECK_EQ("flood", "verdict", dec.verdict, XDP_TX);
	}
	CHECK_EQ("flood", "passed on",
		 bt_decap_stat(f->decap, SLUICE_DR_PASS_ON) - before, n);
	CHECK_EQ("flood", "delivered", bt_decap_stat(f->decap, SLUICE_DR_GUE),
		 gue);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deliver_with_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pass_on_without_socket,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pass_on_unresolved_hop,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_repass, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flood_passed_once, setup,
						teardown),
	};

	if (bns_setup()) {
		fprintf(stderr, "cannot set up the test's network namespace\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
