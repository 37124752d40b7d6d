/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, the VIP address filter (sl_vip_addrs, abi.h): packets to an
 * address whose bit is clear pass before any flow lookup; an address that
 * shares a VIP's bit still passes through the lookups; the filter follows
 * address entries added and removed; an unwritten filter is skipped.
 */
#include <bpf/bpf.h>
#include "../lib/bpftest.h"

#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#include "sluice/hash.h"

#pragma GCC diagnostic ignored "-Woverride-init" /* spec defaults */

#define VIP4 "198.18.0.100"
#define VIP6 "fd00::100"
#define OTHER4 "198.18.0.200"
#define CLIENT4 "198.18.2.1"

static const char *const be4[] = { "198.18.1.10", "198.18.1.11", NULL };
static const char *const be6[] = { "fd00:be::10", NULL };

#define TCP4(...)                                                           \
	{                                                                   \
		.src = CLIENT4, .dst = VIP4, .proto = IPPROTO_TCP,          \
		.dport = 80, .df = 1, .tcp_flags = PKT_TCP_SYN, __VA_ARGS__ \
	}

static int setup(void **state)
{
	struct bt *t = bt_open(BT_RING_MEDIUM);

	bt_vip_add(t, VIP4, 80, IPPROTO_TCP, be4);
	bt_vip_add(t, VIP6, 80, IPPROTO_TCP, be6);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	bt_close(*state);
	return 0;
}

static void filter_get(const struct bt *t, struct sluice_vip_filter *vf)
{
	__u32 zero = 0;

	CHECK_INT(CHECK_HERE, bpf_map_lookup_elem(t->maps.vip_addrs, &zero, vf),
		  0);
}

static int filter_has(const struct sluice_vip_filter *vf, const char *addr)
{
	struct sluice_addr a;
	__u8 family;
	__u32 bit;

	CHECK_INT(CHECK_HERE, pkt_addr(addr, &a, &family), 0);
	bit = sluice_vip_filter_bit(&a, family);
	return (vf->bits[bit / 64] >> (bit % 64)) & 1;
}

/* An address in 198.18.3.0-198.18.255.255 whose bit is @vip's. */
static const char *colliding_addr(const char *vip, char *buf, size_t len)
{
	struct sluice_addr a, v;
	__u8 family;
	int i;

	CHECK_INT(CHECK_HERE, pkt_addr(vip, &v, &family), 0);
	for (i = 0; i < 253 * 256; i++) {
		snprintf(buf, len, "198.18.%d.%d", 3 + i / 256, i % 256);
		CHECK_INT(CHECK_HERE, pkt_addr(buf, &a, &family), 0);
		if (sluice_vip_filter_bit(&a, family) ==
		    sluice_vip_filter_bit(&v, SLUICE_AF_INET))
			return buf;
	}
	fail_msg("no address of 198.18.3.0-198.18.255.255 shares %s's bit",
		 vip);
	return NULL;
}

/* sluiced's writes: ready, the VIP addresses' bits and few others. */
static void test_filter_written(void **state)
{
	struct sluice_vip_filter vf;
	struct bt *t = *state;
	int i, set = 0;

	filter_get(t, &vf);
	CHECK_EQ("filter", "ready", vf.ready, 1);
	CHECK_EQ("filter", "bit of " VIP4, filter_has(&vf, VIP4), 1);
	CHECK_EQ("filter", "bit of " VIP6, filter_has(&vf, VIP6), 1);
	CHECK_EQ("filter", "bit of " OTHER4, filter_has(&vf, OTHER4), 0);
	for (i = 0; i < SLUICE_VIP_FILTER_BITS / 64; i++)
		set += __builtin_popcountll(vf.bits[i]);
	CHECK_EQ("filter", "bits set (two addresses)", set, 2);
}

/*
 * A flow entry for a non-VIP address, with a usable backend: without the
 * filter the flow lookup would find it and forward. The filter passes the
 * packet first.
 */
static void test_passed_before_flow_lookup(void **state)
{
	struct pkt_spec s = TCP4(.dst = OTHER4, .tcp_flags = PKT_TCP_ACK);
	struct sluice_flow_key key;
	struct sluice_flow f = { 0 };
	struct bt *t = *state;
	struct bt_result r;
	struct pkt in;

	pkt_flow_key(&s, &key);
	f.backend_id = t->vips[0].be_id[0];
	f.epoch = bt_backend(t, f.backend_id)->epoch;
	f.created = f.last_seen = bt_now();
	f.flags = SLUICE_FLOW_F_CONFIRMED;
	bt_flow_put(t, &key, &f);
	bt_run_spec(t, "flow to a non-VIP address", &s, &in, &r);
	bt_check_verdict("flow to a non-VIP address", &r, XDP_PASS,
			 SLUICE_R_PASS_NOT_VIP);
	bt_check_unchanged("flow to a non-VIP address", &r, &in);

	s.dst = VIP4; /* the same flow to the VIP: forwarded */
	bt_run_spec(t, "the VIP", &s, &in, &r);
	bt_check_verdict("the VIP", &r, XDP_TX, SLUICE_R_FWD_TX);
	bt_assert_reasons_total(t);
}

/* A non-VIP address on a VIP's bit goes down the lookups: still passed. */
static void test_shared_bit_passes(void **state)
{
	struct bt *t = *state;
	struct bt_result r;
	struct pkt in;
	char buf[32];
	struct pkt_spec s = TCP4(.dst = colliding_addr(VIP4, buf, sizeof(buf)));

	bt_run_spec(t, s.dst, &s, &in, &r);
	bt_check_verdict(s.dst, &r, XDP_PASS, SLUICE_R_PASS_NOT_VIP);
	bt_check_unchanged(s.dst, &r, &in);
	bt_assert_reasons_total(t);
}

/* Removing the address entry clears its bit; its packets pass. */
static void test_removed_address(void **state)
{
	struct pkt_spec s = TCP4(.dst = VIP6, .src = "fd00:c::1");
	struct sluice_vip_filter vf;
	struct sluice_addr a;
	struct bt *t = *state;
	struct bt_result r;
	struct pkt in;
	__u8 family;

	CHECK_INT(CHECK_HERE, pkt_addr(VIP6, &a, &family), 0);
	CHECK_INT(CHECK_HERE, sl_vip_addr_set(&t->maps, &a, family, 0), 0);
	CHECK_INT(CHECK_HERE, sl_vip_filter_sync(&t->maps), 0);
	filter_get(t, &vf);
	CHECK_EQ("removed", "bit of " VIP6, filter_has(&vf, VIP6), 0);
	CHECK_EQ("removed", "bit of " VIP4, filter_has(&vf, VIP4), 1);
	bt_run_spec(t, "removed address", &s, &in, &r);
	bt_check_verdict("removed address", &r, XDP_PASS,
			 SLUICE_R_PASS_NOT_VIP);
	s = (struct pkt_spec)TCP4();
	bt_run_spec(t, "remaining VIP", &s, &in, &r);
	bt_check_verdict("remaining VIP", &r, XDP_TX, SLUICE_R_FWD_TX);
	bt_assert_reasons_total(t);
}

/* A filter never written (ready 0, all bits clear) is skipped. */
static void test_unwritten_filter_skipped(void **state)
{
	struct sluice_vip_filter vf = { 0 };
	struct pkt_spec s = TCP4();
	struct bt *t = *state;
	struct bt_result r;
	struct pkt in;
	__u32 zero = 0;

	CHECK_INT(CHECK_HERE,
		  bpf_map_update_elem(t->maps.vip_addrs, &zero, &vf, BPF_ANY),
		  0);
	bt_run_spec(t, "unwritten filter", &s, &in, &r);
	bt_check_verdict("unwritten filter", &r, XDP_TX, SLUICE_R_FWD_TX);
	s.dst = OTHER4;
	bt_run_spec(t, "unwritten filter, other address", &s, &in, &r);
	bt_check_verdict("unwritten filter, other address", &r, XDP_PASS,
			 SLUICE_R_PASS_NOT_VIP);
	bt_assert_reasons_total(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_filter_written, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_passed_before_flow_lookup,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_bit_passes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_removed_address, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unwritten_filter_skipped,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
