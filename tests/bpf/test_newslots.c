/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, sl_new's layout (abi.h): flows that share a slot index keep
 * their own slots (four ways, two buckets) and are all promoted; a new
 * flow takes the bucket with more free slots; with both buckets full it
 * overwrites the oldest flow in them, and only that one. sl_new_tags
 * (abi.h) follows the slots through claims and promotions; a stale tag
 * neither hides a free slot nor hands out another flow's, and sluiced's
 * rebuild finds the slots an older sluiced wrote without tags.
 */
#include <bpf/bpf.h>
#include "../lib/bpftest.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#include "sluice/hash.h"
#include "new_tags.h"

#pragma GCC diagnostic ignored "-Woverride-init" /* spec defaults */

#define VIP4 "198.18.0.100"
#define CLIENT4 "198.18.2.1"
#define SHARED 6 /* flows on one slot index: more than the ways */

static const char *const be4[] = { "198.18.1.10", "198.18.1.11", NULL };

#define TCP4(...)                                                           \
	{                                                                   \
		.src = CLIENT4, .dst = VIP4, .proto = IPPROTO_TCP,          \
		.dport = 80, .df = 1, .tcp_flags = PKT_TCP_SYN, __VA_ARGS__ \
	}

static int setup(void **state)
{
	struct bt *t = bt_open(BT_RING_MEDIUM);

	bt_vip_add(t, VIP4, 80, IPPROTO_TCP, be4);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	bt_close(*state);
	return 0;
}

static __u32 flow_hash(const struct bt *t, const struct pkt_spec *s)
{
	struct sluice_flow_key key;

	pkt_flow_key(s, &key);
	return sluice_flow_hash(&key, t->maps.hash_seed);
}

/*
 * @n source ports from 1024 up whose flows have the same low bits of the
 * hash over the whole table: one slot in a direct-mapped table.
 */
static void same_index_ports(const struct bt *t, __u16 *ports, int n)
{
	struct pkt_spec s = TCP4();
	__u32 want = 0, mask = t->maps.new_slots - 1;
	int found = 0;
	__u32 p;

	for (p = 1024; p < 65536 && found < n; p++) {
		s.sport = p;
		if (!found)
			want = flow_hash(t, &s) & mask;
		if ((flow_hash(t, &s) & mask) == want)
			ports[found++] = p;
	}
	if (found < n)
		fail_msg("only %d source ports share a slot index", found);
}

static void run_expect(struct bt *t, const char *ctx, struct pkt_spec *s,
		       __u8 flags, int reason)
{
	struct bt_result r;
	struct pkt in;

	s->tcp_flags = flags;
	bt_run_spec(t, ctx, s, &in, &r);
	bt_check_verdict(ctx, &r, XDP_TX, reason);
}

/* Six flows on one index: all keep a slot, all six are promoted. */
static void test_shared_index_all_promoted(void **state)
{
	struct sluice_vip_stats vs;
	struct sluice_flow_key key;
	struct sluice_flow f;
	struct bt *t = *state;
	__u16 ports[SHARED];
	struct pkt_spec s = TCP4();
	char ctx[64];
	int i;

	same_index_ports(t, ports, SHARED);
	for (i = 0; i < SHARED; i++) {
		s.sport = ports[i];
		snprintf(ctx, sizeof(ctx), "SYN of flow %d", i);
		run_expect(t, ctx, &s, PKT_TCP_SYN, SLUICE_R_FWD_TX);
	}
	for (i = 0; i < SHARED; i++) {
		s.sport = ports[i];
		pkt_flow_key(&s, &key);
		snprintf(ctx, sizeof(ctx), "flow %d after all SYNs", i);
		CHECK_EQ(ctx, "in sl_new", bt_new_get(t, &key, &f), 0);
	}
	for (i = 0; i < SHARED; i++) {
		s.sport = ports[i];
		snprintf(ctx, sizeof(ctx), "ACK of flow %d", i);
		run_expect(t, ctx, &s, PKT_TCP_ACK, SLUICE_R_FWD_TX);
		pkt_flow_key(&s, &key);
		CHECK_EQ(ctx, "in sl_flows", bt_flow_get(t, &key, &f), 0);
		CHECK_EQ(ctx, "left sl_new", bt_new_get(t, &key, &f), -ENOENT);
	}
	bt_vip_stats(t, &t->vips[0], &vs);
	CHECK_EQ("shared index", "promoted", vs.promoted, SHARED);
	CHECK_EQ("shared index", "new flows", vs.new_flows, SHARED);
	bt_assert_reasons_total(t);
}

/* Fill slot @idx with a flow of another client, created @age ms ago. */
static void occupy(const struct bt *t, __u32 idx, __u32 age)
{
	struct sluice_new_slot s;

	memset(&s, 0, sizeof(s));
	s.key.family = SLUICE_AF_INET;
	s.key.proto = IPPROTO_TCP;
	s.key.src.addr[0] = htonl(0xc6130000 | idx); /* 198.19.x.y */
	s.key.sport = htons(1000);
	s.key.dport = htons(80);
	s.flow.backend_id = t->vips[0].be_id[0];
	s.flow.created = s.flow.last_seen = bt_now() - age;
	bt_new_slot_put(t, idx, &s);
}

static int slot_holds_client(const struct bt *t, __u32 idx)
{
	struct sluice_new_slot s;

	CHECK_INT(CHECK_HERE, bpf_map_lookup_elem(t->maps.new_map, &idx, &s),
		  0);
	return s.key.family && s.key.src.addr[0] == htonl(0xc6130000 | idx);
}

/* The slot of the flow @s, as the userspace reader finds it. */
static __u32 slot_of(const struct bt *t, const struct pkt_spec *s)
{
	struct sluice_flow_key key;
	struct sluice_flow f;
	__u32 idx = ~0U;

	pkt_flow_key(s, &key);
	CHECK_EQ("slot_of", "found",
	      sl_new_slot_get(t->maps.new_map, t->maps.new_slots,
			      t->maps.hash_seed, &key, &f, &idx),
	      0);
	return idx;
}

/* Three of four taken in bucket 0, none in bucket 1: bucket 1 wins. */
static void test_bucket_with_more_free_slots(void **state)
{
	struct pkt_spec s = TCP4(.sport = 4321);
	struct bt *t = *state;
	__u32 h = flow_hash(t, &s), b0, b1, idx;
	int w;

	b0 = sluice_new_bucket(h, t->maps.new_slots, 0);
	b1 = sluice_new_bucket(h, t->maps.new_slots, 1);
	if (b0 == b1)
		fail_msg("pick another port: both choices are bucket %u", b0);
	for (w = 0; w < 3; w++)
		occupy(t, b0 + w, 10);
	run_expect(t, "SYN", &s, PKT_TCP_SYN, SLUICE_R_FWD_TX);
	idx = slot_of(t, &s);
	CHECK_TRUE("SYN", "in bucket 1", idx >= b1 && idx < b1 + SLUICE_NEW_WAYS);
	for (w = 0; w < 3; w++)
		CHECK_TRUE("SYN", "bucket 0 untouched",
			slot_holds_client(t, b0 + w));
}

/* Both buckets full: the oldest of the eight is overwritten, nothing else. */
static void test_full_buckets_lose_the_oldest(void **state)
{
	struct pkt_spec s = TCP4(.sport = 4321);
	struct bt *t = *state;
	__u32 h = flow_hash(t, &s), base[2], oldest;
	int c, w;

	base[0] = sluice_new_bucket(h, t->maps.new_slots, 0);
	base[1] = sluice_new_bucket(h, t->maps.new_slots, 1);
	oldest = base[1] + 2;
	for (c = 0; c < 2; c++)
		for (w = 0; w < SLUICE_NEW_WAYS; w++)
			occupy(t, base[c] + w,
			       base[c] + w == oldest ? 5000 : 100 + 10 * w);
	run_expect(t, "SYN", &s, PKT_TCP_SYN, SLUICE_R_FWD_TX);
	CHECK_EQ("SYN", "slot taken", slot_of(t, &s), oldest);
	for (c = 0; c < 2; c++)
		for (w = 0; w < SLUICE_NEW_WAYS; w++)
			if (base[c] + w != oldest)
				CHECK_TRUE("SYN", "younger flow kept",
					slot_holds_client(t, base[c] + w));
}

/* Promote flow @s with its ACK and check it left sl_new for sl_flows. */
static void promote(struct bt *t, const char *ctx, struct pkt_spec *s)
{
	struct sluice_flow_key key;
	struct sluice_flow f;

	run_expect(t, ctx, s, PKT_TCP_ACK, SLUICE_R_FWD_TX);
	pkt_flow_key(s, &key);
	CHECK_EQ(ctx, "in sl_flows", bt_flow_get(t, &key, &f), 0);
	CHECK_EQ(ctx, "left sl_new", bt_new_get(t, &key, &f), -ENOENT);
}

static __u64 promoted(struct bt *t)
{
	struct sluice_vip_stats vs;

	bt_vip_stats(t, &t->vips[0], &vs);
	return vs.promoted;
}

/* Claims set tags, promotions clear them, on crowded and empty buckets. */
static void test_tags_follow_slots(void **state)
{
	struct pkt_spec s = TCP4();
	struct bt *t = *state;
	__u16 ports[SHARED];
	char ctx[64];
	int i;

	same_index_ports(t, ports, SHARED);
	for (i = 0; i < SHARED; i++) {
		s.sport = ports[i];
		run_expect(t, "SYN", &s, PKT_TCP_SYN, SLUICE_R_FWD_TX);
		run_expect(t, "SYN again", &s, PKT_TCP_SYN, SLUICE_R_FWD_TX);
	}
	CHECK_EQ("after the SYNs", "slots in use",
		 bt_assert_new_tags(t, "after the SYNs"), SHARED);
	for (i = 0; i < SHARED; i += 2) {
		s.sport = ports[i];
		snprintf(ctx, sizeof(ctx), "ACK of flow %d", i);
		promote(t, ctx, &s);
	}
	CHECK_EQ("half promoted", "slots in use",
		 bt_assert_new_tags(t, "half promoted"), SHARED / 2);
	for (i = 1; i < SHARED; i += 2) {
		s.sport = ports[i];
		snprintf(ctx, sizeof(ctx), "ACK of flow %d", i);
		promote(t, ctx, &s);
	}
	CHECK_EQ("all promoted", "slots in use",
		 bt_assert_new_tags(t, "all promoted"), 0);
	CHECK_EQ("all promoted", "promoted", promoted(t), SHARED);
}

/* Every tag of @s's two buckets set to a value no flow of them has. */
static void tags_garbage(const struct bt *t, const struct pkt_spec *s)
{
	__u32 h = flow_hash(t, s), base;
	int c, w;

	for (c = 0; c < 2; c++) {
		base = sluice_new_bucket(h, t->maps.new_slots, c);
		for (w = 0; w < SLUICE_NEW_WAYS; w++)
			CHECK_INT(CHECK_HERE,
				  sl_new_tag_write(t->maps.new_tags, base + w,
						   sluice_new_tag(~h)),
				  0);
	}
}

/* Tags that say full over empty slots: the slots are read, a SYN still
 * gets one and its ACK is promoted. */
static void test_stale_tags_hide_no_free_slot(void **state)
{
	struct pkt_spec s = TCP4(.sport = 4321);
	struct bt *t = *state;

	tags_garbage(t, &s);
	run_expect(t, "SYN", &s, PKT_TCP_SYN, SLUICE_R_FWD_TX);
	slot_of(t, &s);
	promote(t, "ACK", &s);
	CHECK_EQ("ACK", "promoted", promoted(t), 1);
}

/* Another flow's slot under our tag (a collision): read, not taken, and
 * left as it was. */
static void test_tag_collision_checks_the_slot(void **state)
{
	struct pkt_spec s = TCP4(.sport = 4321);
	struct bt *t = *state;
	__u32 h = flow_hash(t, &s), b0;

	b0 = sluice_new_bucket(h, t->maps.new_slots, 0);
	occupy(t, b0, 10);
	CHECK_INT(CHECK_HERE,
		  sl_new_tag_write(t->maps.new_tags, b0, sluice_new_tag(h)), 0);
	run_expect(t, "SYN", &s, PKT_TCP_SYN, SLUICE_R_FWD_TX);
	CHECK_TRUE("SYN", "a slot of its own", slot_of(t, &s) != b0);
	CHECK_TRUE("SYN", "the other flow kept", slot_holds_client(t, b0));
	promote(t, "ACK", &s);
	CHECK_EQ("ACK", "promoted", promoted(t), 1);
	CHECK_TRUE("ACK", "the other flow kept", slot_holds_client(t, b0));
}

/*
 * Slots an older sluiced wrote without tags, and tags over slots it
 * emptied: sluiced's rebuild (new_tags.h) makes both right, and the
 * handshake in flight is promoted.
 */
static void test_rebuild_finds_untagged_slots(void **state)
{
	struct pkt_spec s = TCP4(.sport = 4321), e = TCP4(.sport = 4322);
	struct sl_new_tags_fix fix;
	struct bt *t = *state;
	__u32 idx, empty;

	run_expect(t, "SYN", &s, PKT_TCP_SYN, SLUICE_R_FWD_TX);
	idx = slot_of(t, &s);
	CHECK_INT(CHECK_HERE, sl_new_tag_write(t->maps.new_tags, idx, 0), 0);
	empty = sluice_new_bucket(flow_hash(t, &e), t->maps.new_slots, 1);
	if (empty / SLUICE_NEW_WAYS == idx / SLUICE_NEW_WAYS)
		fail_msg("pick another port: %u shares a bucket with %u", empty,
			 idx);
	CHECK_INT(CHECK_HERE,
		  sl_new_tag_write(t->maps.new_tags, empty, 0x12345), 0);

	CHECK_INT(CHECK_HERE,
		  sl_new_tags_rebuild(t->maps.new_map, t->maps.new_tags,
				      t->maps.new_slots, t->maps.hash_seed,
				      &fix),
		  0);
	CHECK_EQ("rebuild", "tags set", fix.set, 1);
	CHECK_EQ("rebuild", "tags cleared", fix.cleared, 1);
	CHECK_EQ("rebuild", "slots in use", bt_assert_new_tags(t, "rebuild"),
		 1);
	promote(t, "ACK after the rebuild", &s);
	CHECK_EQ("ACK after the rebuild", "promoted", promoted(t), 1);
	CHECK_INT(CHECK_HERE,
		  sl_new_tags_rebuild(t->maps.new_map, t->maps.new_tags,
				      t->maps.new_slots, t->maps.hash_seed,
				      &fix),
		  0);
	CHECK_EQ("second rebuild", "tags changed", fix.set + fix.cleared, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shared_index_all_promoted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_bucket_with_more_free_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_full_buckets_lose_the_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tags_follow_slots, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_stale_tags_hide_no_free_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_tag_collision_checks_the_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rebuild_finds_untagged_slots, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
