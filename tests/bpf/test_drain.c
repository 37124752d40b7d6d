/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, the datapath half of a truthful drain signal (issue 12):
 * which packets confirm a flow (a table), the confirmed counter, draining
 * backends' confirmed flows copied into the drain table (sl_pinned) and
 * nothing else, a DRAINED backend refusing new state, closing flows
 * refreshed by every client packet, RST, and a reused tuple leaving both
 * tables.
 *
 * The datapath reads the kernel's clock, which no test can set: flows are
 * written with created/last_seen in the past of bt_now(), and times read
 * back are checked within the [before, after] window of the run.
 */
#include <bpf/bpf.h>
#include "../lib/bpftest.h"
#include "sluice.skel.h"
#include "sluice/hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#pragma GCC diagnostic ignored "-Woverride-init"	/* spec defaults */

enum { V4_TCP, V4_UDP, V6_TCP };

#define VIP4		"198.18.0.100"
#define VIP6		"fd00::100"
#define CLIENT4		"198.18.2.1"
#define CLIENT6		"fd00:c::1"
#define CONFIRMED	SLUICE_FLOW_F_CONFIRMED
/* Attempts at a check that needs the run to happen within a time window;
 * only a machine stalled for seconds at a time uses more than one. */
#define WINDOW_TRIES	5

static const char *const be4[] = {
	"198.18.1.10", "198.18.1.11", "198.18.1.12", "198.18.1.13", NULL
};
static const char *const be6[] = { "fd00:be::10", "fd00:be::11", NULL };

#define TCP4(...) { .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_TCP,	\
		    .dport = 80, .df = 1, __VA_ARGS__ }
#define TCP6(...) { .src = CLIENT6, .dst = VIP6, .proto = IPPROTO_TCP,	\
		    .dport = 80, __VA_ARGS__ }
#define UDP4(...) { .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_UDP,	\
		    .dport = 53, __VA_ARGS__ }

static int setup(void **state)
{
	struct bt *t = bt_open(BT_RING_MEDIUM);

	bt_vip_add(t, VIP4, 80, IPPROTO_TCP, be4);
	bt_vip_add(t, VIP4, 53, IPPROTO_UDP, be4);
	bt_vip_add(t, VIP6, 80, IPPROTO_TCP, be6);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	bt_close(*state);
	return 0;
}

/* Send @s with TCP @flags and @payload bytes; expect it sent to @be_id. */
static void send_to(struct bt *t, const char *ctx, struct pkt_spec *s,
		    __u8 flags, __u16 payload, __u32 be_id)
{
	struct bt_result r;
	struct pkt in;

	s->tcp_flags = flags;
	s->payload_len = payload;
	s->seq++;
	bt_run_spec(t, ctx, s, &in, &r);
	bt_check_verdict(ctx, &r, XDP_TX, SLUICE_R_FWD_TX);
	bt_check_encap(ctx, &r, &in, bt_backend(t, be_id));
}

/*
 * As send_to, for a frame whose TCP data offset was rewritten after its
 * checksum (pkt.h damage fields): the verdict only; the caller checks the
 * backend through the flow entry.
 */
static void send_damaged(struct bt *t, const char *ctx, struct pkt_spec *s,
			 __u8 flags, __u16 payload)
{
	struct bt_result r;
	struct pkt in;

	s->tcp_flags = flags;
	s->payload_len = payload;
	s->seq++;
	bt_run_spec(t, ctx, s, &in, &r);
	bt_check_verdict(ctx, &r, XDP_TX, SLUICE_R_FWD_TX);
}

static __u32 pick(const struct bt *t, int vip, const struct pkt_spec *s)
{
	struct sluice_flow_key key;

	pkt_flow_key(s, &key);
	return bt_pick(t, &t->vips[vip], &key);
}

/*
 * Move @s to the first source port from @from whose flow the live table
 * gives @be, so several flows share one backend whatever the hash.
 */
static void port_for(const struct bt *t, int vip, struct pkt_spec *s,
		     __u32 be, __u16 from)
{
	for (s->sport = from; s->sport < from + 4096; s->sport++)
		if (pick(t, vip, s) == be)
			return;
	print_message("# no port from %u maps to backend %u\n", from, be);
	fail();
}

/* The first slot of the first sl_new bucket that @s may take. */
static __u32 new_bucket_of(const struct bt *t, const struct pkt_spec *s)
{
	struct sluice_flow_key key;

	pkt_flow_key(s, &key);
	return sluice_new_bucket(sluice_flow_hash(&key, t->maps.hash_seed),
				 t->maps.new_slots, 0);
}

/* The sl_flows entry of @s; fails the test if there is none. */
static struct sluice_flow flow_of(const struct bt *t, const char *ctx,
				  const struct pkt_spec *s)
{
	struct sluice_flow_key key;
	struct sluice_flow f;

	memset(&f, 0, sizeof(f));
	pkt_flow_key(s, &key);
	if (bt_flow_get(t, &key, &f)) {
		print_message("# %s: no sl_flows entry\n", ctx);
		fail();
	}
	return f;
}

static void check_flow(const struct bt *t, const char *ctx,
		       const struct pkt_spec *s, __u32 be_id, __u8 state,
		       __u8 flags)
{
	struct sluice_flow f = flow_of(t, ctx, s);

	CHECK_EQ(ctx, "flow backend_id", f.backend_id, be_id);
	CHECK_EQ(ctx, "flow state", f.state, state);
	CHECK_EQ(ctx, "flow flags", f.flags, flags);
}

static int in_drain_table(const struct bt *t, const struct pkt_spec *s,
			  struct sluice_flow *f)
{
	struct sluice_flow_key key;

	pkt_flow_key(s, &key);
	return bt_drain_table_get(t, &key, f) == 0;
}

static int in_new(const struct bt *t, const struct pkt_spec *s)
{
	struct sluice_flow_key key;
	struct sluice_flow f;

	pkt_flow_key(s, &key);
	return bt_new_get(t, &key, &f) == 0;
}

static __u64 drain_table_entries(const struct bt *t)
{
	struct sluice_flow_key key, next;
	__u64 n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(t->maps.drain_table, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

static __u64 confirmed_count(const struct bt *t, __u32 be_id)
{
	struct sluice_be_stats bs;

	bt_be_stats(t, be_id, &bs);
	return bs.confirmed;
}

/* What sluiced does when a drain starts: out of the table, flag set. */
static void drain(struct bt *t, int vip, __u32 be_id, __u32 flags)
{
	struct bt_vip *v = &t->vips[vip];
	struct sluice_backend b = *bt_backend(t, be_id);

	bt_vip_set_weight(t, v, bt_vip_be_index(v, be_id), 0);
	b.flags |= flags;
	bt_backend_update(t, be_id, &b);
}

/* Rewrite the sl_flows entry of @s with created @age_ms in the past. */
static void age_flow(const struct bt *t, const char *ctx,
		     const struct pkt_spec *s, __u32 age_ms)
{
	struct sluice_flow f = flow_of(t, ctx, s);
	struct sluice_flow_key key;

	pkt_flow_key(s, &key);
	f.created = bt_now() - age_ms;
	bt_flow_put(t, &key, &f);
}

/* --- what confirms a flow at promotion ------------------------------------ */

struct confirm_case {
	const char *name;
	int vip;
	__u8 flags;		/* the second packet's TCP flags */
	__u16 payload;
	__u8 doff;		/* TCP data offset field (0: 5); options eat payload */
	__u16 trailer;		/* Ethernet padding: never payload */
	__u32 age_ms;		/* sl_new slot's created, this far back */
	__u8 state;		/* expected after promotion */
	__u8 confirmed;
};

static const struct confirm_case confirm_cases[] = {
	{ "bare ACK right after SYN (a spoofer's pair)", V4_TCP, PKT_TCP_ACK,
	  0, 0, 0, 0, SLUICE_FLOW_OPEN, 0 },
	{ "bare ACK, IPv6", V6_TCP, PKT_TCP_ACK, 0, 0, 0, 0,
	  SLUICE_FLOW_OPEN, 0 },
	{ "bare ACK in a padded frame", V4_TCP, PKT_TCP_ACK, 0, 0, 12, 0,
	  SLUICE_FLOW_OPEN, 0 },
	{ "ACK whose bytes are all TCP options", V4_TCP, PKT_TCP_ACK, 12, 8, 0,
	  0, SLUICE_FLOW_OPEN, 0 },
	{ "ACK with payload", V4_TCP, PKT_TCP_ACK | PKT_TCP_PSH, 100, 0, 0, 0,
	  SLUICE_FLOW_OPEN, 1 },
	{ "ACK with one byte of payload", V4_TCP, PKT_TCP_ACK, 1, 0, 0, 0,
	  SLUICE_FLOW_OPEN, 1 },
	{ "ACK with options and payload", V4_TCP, PKT_TCP_ACK, 13, 8, 0, 0,
	  SLUICE_FLOW_OPEN, 1 },
	{ "ACK with payload, IPv6", V6_TCP, PKT_TCP_ACK, 200, 0, 0, 0,
	  SLUICE_FLOW_OPEN, 1 },
	{ "bare ACK CONFIRM_MS after the SYN", V4_TCP, PKT_TCP_ACK, 0, 0, 0,
	  SLUICE_CONFIRM_MS, SLUICE_FLOW_OPEN, 1 },
	{ "bare ACK long after the SYN, IPv6", V6_TCP, PKT_TCP_ACK, 0, 0, 0,
	  3 * SLUICE_CONFIRM_MS, SLUICE_FLOW_OPEN, 1 },
	{ "FIN right after SYN", V4_TCP, PKT_TCP_FIN | PKT_TCP_ACK, 0, 0, 0, 0,
	  SLUICE_FLOW_CLOSING, 0 },
	{ "FIN with payload", V4_TCP, PKT_TCP_FIN | PKT_TCP_ACK, 10, 0, 0, 0,
	  SLUICE_FLOW_CLOSING, 1 },
	{ "RST right after SYN", V4_TCP, PKT_TCP_RST, 0, 0, 0, 0,
	  SLUICE_FLOW_RESET, 0 },
	{ "second UDP datagram", V4_UDP, 0, 40, 0, 0, 0, SLUICE_FLOW_OPEN, 1 },
	{ "second UDP datagram, empty", V4_UDP, 0, 0, 0, 0, 0,
	  SLUICE_FLOW_OPEN, 1 },
};

static void test_confirm_at_promotion(void **state)
{
	struct bt *t = *state;
	__u64 want_confirmed[BT_MAX_BE_IDS] = { 0 };
	size_t i;
	__u32 id;

	for (i = 0; i < sizeof(confirm_cases) / sizeof(confirm_cases[0]); i++) {
		const struct confirm_case *c = &confirm_cases[i];
		struct pkt_spec s4 = TCP4(.sport = 40000 + i);
		struct pkt_spec s6 = TCP6(.sport = 40000 + i);
		struct pkt_spec su = UDP4(.sport = 40000 + i);
		struct pkt_spec *s = c->vip == V6_TCP ? &s6 :
				     c->vip == V4_UDP ? &su : &s4;
		struct sluice_flow_key key;
		struct sluice_flow f;
		__u32 be = pick(t, c->vip, s);

		send_to(t, c->name, s, c->vip == V4_UDP ? 0 : PKT_TCP_SYN,
			c->vip == V4_UDP ? 40 : 0, be);
		if (c->age_ms) {
			pkt_flow_key(s, &key);
			CHECK_INT(c->name, bt_new_get(t, &key, &f), 0);
			f.created = f.last_seen = bt_now() - c->age_ms;
			bt_new_put(t, &key, &f);
		}
		s->doff = c->doff;
		s->trailer = c->trailer;
		if (c->doff)
			send_damaged(t, c->name, s, c->flags, c->payload);
		else
			send_to(t, c->name, s, c->flags, c->payload, be);
		CHECK_TRUE(c->name, "slot emptied", !in_new(t, s));
		check_flow(t, c->name, s, be, c->state,
			   c->confirmed ? CONFIRMED : 0);
		want_confirmed[be - BT_BE_ID_BASE] += c->confirmed;
	}
	/* No backend drains here: the drain table stays empty. */
	CHECK_EQ("after the table", "sl_pinned entries", drain_table_entries(t),
		 0);
	for (id = BT_BE_ID_BASE; id < t->next_be_id; id++)
		CHECK_EQ("after the table", "backend confirmed counter",
		      confirmed_count(t, id), want_confirmed[id - BT_BE_ID_BASE]);
	bt_assert_reasons_total(t);
}

/*
 * A bare ACK a little under CONFIRM_MS after the SYN does not confirm.
 * The window is half a CONFIRM_MS wide; a run that a stalled machine
 * pushed past it is tried again on a fresh tuple.
 */
static void test_confirm_not_before_confirm_ms(void **state)
{
	struct bt *t = *state;
	int try;

	for (try = 0; try < WINDOW_TRIES; try++) {
		struct pkt_spec s = TCP4(.sport = 40100 + try);
		__u32 be = pick(t, V4_TCP, &s), created, t1;
		struct sluice_flow_key key;
		struct sluice_flow f;

		send_to(t, "SYN", &s, PKT_TCP_SYN, 0, be);
		pkt_flow_key(&s, &key);
		CHECK_INT(CHECK_HERE, bt_new_get(t, &key, &f), 0);
		created = bt_now() - SLUICE_CONFIRM_MS / 2;
		f.created = f.last_seen = created;
		bt_new_put(t, &key, &f);
		send_to(t, "bare ACK under CONFIRM_MS", &s, PKT_TCP_ACK, 0, be);
		t1 = bt_now();
		if ((__s32)(t1 - created) >= SLUICE_CONFIRM_MS)
			continue;	/* stalled past the window: again */
		check_flow(t, "bare ACK under CONFIRM_MS", &s, be,
			   SLUICE_FLOW_OPEN, 0);
		CHECK_EQ("bare ACK under CONFIRM_MS", "confirmed counter",
		      confirmed_count(t, be), 0);
		return;
	}
	print_message("# every try stalled past a %u ms window\n",
		      SLUICE_CONFIRM_MS / 2);
	fail();
}

/* --- confirmation of an established flow ---------------------------------- */

/* Payload later confirms a flow promoted unconfirmed, once. */
static void test_confirm_established_on_payload(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP4(.sport = 40200);
	__u32 be = pick(t, V4_TCP, &s);

	send_to(t, "SYN", &s, PKT_TCP_SYN, 0, be);
	send_to(t, "ACK", &s, PKT_TCP_ACK, 0, be);
	check_flow(t, "handshake done", &s, be, SLUICE_FLOW_OPEN, 0);
	send_to(t, "bare ACK again", &s, PKT_TCP_ACK, 0, be);
	check_flow(t, "bare ACK again", &s, be, SLUICE_FLOW_OPEN, 0);
	CHECK_EQ("bare ACK again", "confirmed counter", confirmed_count(t, be), 0);

	send_to(t, "request", &s, PKT_TCP_ACK | PKT_TCP_PSH, 300, be);
	check_flow(t, "request", &s, be, SLUICE_FLOW_OPEN, CONFIRMED);
	CHECK_EQ("request", "confirmed counter", confirmed_count(t, be), 1);

	send_to(t, "more data", &s, PKT_TCP_ACK, 300, be);
	send_to(t, "ACK", &s, PKT_TCP_ACK, 0, be);
	check_flow(t, "more data", &s, be, SLUICE_FLOW_OPEN, CONFIRMED);
	CHECK_EQ("more data", "confirmed counter (once per flow)",
	      confirmed_count(t, be), 1);
	CHECK_EQ("active backend", "sl_pinned entries", drain_table_entries(t),
		 0);
	bt_assert_reasons_total(t);
}

/* Time alone confirms: a silent client's ACK CONFIRM_MS after the SYN. */
static void test_confirm_established_by_age(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP6(.sport = 40300);
	__u32 be = pick(t, V6_TCP, &s);

	send_to(t, "SYN", &s, PKT_TCP_SYN, 0, be);
	send_to(t, "ACK", &s, PKT_TCP_ACK, 0, be);
	check_flow(t, "handshake done", &s, be, SLUICE_FLOW_OPEN, 0);
	age_flow(t, "aged", &s, SLUICE_CONFIRM_MS);
	send_to(t, "bare ACK, CONFIRM_MS on", &s, PKT_TCP_ACK, 0, be);
	check_flow(t, "bare ACK, CONFIRM_MS on", &s, be, SLUICE_FLOW_OPEN,
		   CONFIRMED);
	CHECK_EQ("aged", "confirmed counter", confirmed_count(t, be), 1);
	bt_assert_reasons_total(t);
}

/* --- draining backends: confirmed flows, and only those, enter the drain table */

static void test_draining_keeps_on_confirm(void **state)
{
	struct bt *t = *state;
	struct pkt_spec a = TCP4(.sport = 40400), b = TCP4();
	__u32 be = pick(t, V4_TCP, &a);
	struct sluice_flow f;

	/* Two handshakes in flight for the same backend when it drains. */
	port_for(t, V4_TCP, &b, be, 40401);
	send_to(t, "a: SYN", &a, PKT_TCP_SYN, 0, be);
	send_to(t, "b: SYN", &b, PKT_TCP_SYN, 0, be);
	drain(t, V4_TCP, be, SLUICE_BE_F_DRAINING);

	/* a: a bare ACK promotes it to its backend, unconfirmed: not kept. */
	send_to(t, "a: ACK", &a, PKT_TCP_ACK, 0, be);
	check_flow(t, "a: ACK", &a, be, SLUICE_FLOW_OPEN, 0);
	CHECK_TRUE("a: ACK", "not in sl_pinned", !in_drain_table(t, &a, &f));
	/* ...its first data confirms and pins it. */
	send_to(t, "a: request", &a, PKT_TCP_ACK, 50, be);
	check_flow(t, "a: request", &a, be, SLUICE_FLOW_OPEN, CONFIRMED);
	CHECK_TRUE("a: request", "in sl_pinned", in_drain_table(t, &a, &f));
	CHECK_EQ("a: drain table copy", "backend_id", f.backend_id, be);
	CHECK_EQ("a: drain table copy", "flags", f.flags, CONFIRMED);
	CHECK_EQ("a: drain table copy", "state", f.state, SLUICE_FLOW_OPEN);

	/* b: payload on the promoting packet pins it at promotion. */
	send_to(t, "b: ACK with data", &b, PKT_TCP_ACK, 50, be);
	check_flow(t, "b: ACK with data", &b, be, SLUICE_FLOW_OPEN, CONFIRMED);
	CHECK_TRUE("b: ACK with data", "in sl_pinned",
		   in_drain_table(t, &b, &f));
	CHECK_EQ("b: drain table copy", "flags", f.flags, CONFIRMED);

	CHECK_EQ("draining backend", "confirmed counter", confirmed_count(t, be), 2);
	CHECK_EQ("draining backend", "sl_pinned entries",
		 drain_table_entries(t), 2);
	bt_assert_reasons_total(t);
}

/* A flow confirmed by age on a draining backend is kept too. */
static void test_draining_pins_aged(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP4(.sport = 40500);
	__u32 be = pick(t, V4_TCP, &s);
	struct sluice_flow f;

	send_to(t, "SYN", &s, PKT_TCP_SYN, 0, be);
	send_to(t, "ACK", &s, PKT_TCP_ACK, 0, be);
	drain(t, V4_TCP, be, SLUICE_BE_F_DRAINING);
	age_flow(t, "aged", &s, 2 * SLUICE_CONFIRM_MS);
	send_to(t, "bare ACK", &s, PKT_TCP_ACK, 0, be);
	check_flow(t, "bare ACK", &s, be, SLUICE_FLOW_OPEN, CONFIRMED);
	CHECK_TRUE("bare ACK", "in sl_pinned", in_drain_table(t, &s, &f));
	CHECK_EQ("drain table copy", "backend_id", f.backend_id, be);
	CHECK_EQ("drain table copy", "flags", f.flags, CONFIRMED);
	bt_assert_reasons_total(t);
}

/*
 * Spoofed SYN+ACK pairs, back to back, from many sources: the pairs in
 * flight when the backend starts draining (promoted to it) and those
 * after (balanced to the others) all stay unconfirmed, none is counted
 * confirmed and none enters the drain table.
 */
#define SPOOFED	256

static void spoofed_src(char *buf, size_t len, unsigned int i)
{
	snprintf(buf, len, "198.19.%u.%u", (i * 37) & 0xff, (i * 101 + 1) & 0xff);
}

static void test_spoofed_pairs_never_kept(void **state)
{
	struct bt *t = *state;
	static struct pkt_spec s[SPOOFED];
	static char src[SPOOFED][24];
	__u32 be[SPOOFED], drained_be, id;
	unsigned int i, on_drained = 0;
	struct sluice_flow f;

	static __u8 slot_used[BT_NEW_FLOWS];
	unsigned int n = 0;

	/* Tuples whose first sl_new bucket has a free slot: a lost slot
	 * would end a handshake early, which is not what this test is
	 * about. */
	memset(slot_used, 0, sizeof(slot_used));
	for (i = 0; n < SPOOFED && i < 4 * SPOOFED; i++) {
		struct pkt_spec init = TCP4(.sport = 1024 + i * 7);

		spoofed_src(src[n], sizeof(src[n]), i);
		s[n] = init;
		s[n].src = src[n];
		if (slot_used[new_bucket_of(t, &s[n])] >= SLUICE_NEW_WAYS)
			continue;
		slot_used[new_bucket_of(t, &s[n])]++;
		be[n] = pick(t, V4_TCP, &s[n]);
		n++;
	}
	CHECK_INT(CHECK_HERE, n, SPOOFED);
	drained_be = be[0];
	/* First half: SYN before the drain, ACK after. */
	for (i = 0; i < SPOOFED / 2; i++)
		send_to(t, "spoofed SYN", &s[i], PKT_TCP_SYN, 0, be[i]);
	drain(t, V4_TCP, drained_be, SLUICE_BE_F_DRAINING);
	for (i = 0; i < SPOOFED / 2; i++) {
		send_to(t, "spoofed ACK", &s[i], PKT_TCP_ACK, 0, be[i]);
		check_flow(t, "spoofed pair", &s[i], be[i], SLUICE_FLOW_OPEN, 0);
		on_drained += be[i] == drained_be;
	}
	/* Second half: both after the drain, on the live table. */
	for (i = SPOOFED / 2; i < SPOOFED; i++) {
		be[i] = pick(t, V4_TCP, &s[i]);
		CHECK_TRUE("after drain", "no new flow for the draining backend",
			be[i] != drained_be);
		send_to(t, "spoofed SYN", &s[i], PKT_TCP_SYN, 0, be[i]);
		send_to(t, "spoofed ACK", &s[i], PKT_TCP_ACK, 0, be[i]);
		check_flow(t, "spoofed pair", &s[i], be[i], SLUICE_FLOW_OPEN, 0);
	}
	CHECK_TRUE("spoofed pairs", "some promoted to the draining backend",
		on_drained > 0);
	for (i = 0; i < SPOOFED; i++)
		CHECK_TRUE("spoofed pair", "not in sl_pinned",
			   !in_drain_table(t, &s[i], &f));
	CHECK_EQ("spoofed pairs", "sl_pinned entries", drain_table_entries(t),
		 0);
	for (id = BT_BE_ID_BASE; id < t->next_be_id; id++)
		CHECK_EQ("spoofed pairs", "confirmed counter", confirmed_count(t, id), 0);
	bt_assert_reasons_total(t);
}

/* --- DRAINED: no new state for the backend -------------------------------- */

/* A handshake still in sl_new when the drain completes goes elsewhere. */
static void test_drained_refuses_promotion(void **state)
{
	struct bt *t = *state;
	struct pkt_spec a = TCP4(.sport = 40600), b = TCP4();
	__u32 be = pick(t, V4_TCP, &a), live_a, live_b;
	struct sluice_vip_stats vs;
	struct sluice_flow f;

	port_for(t, V4_TCP, &b, be, 40601);
	send_to(t, "a: SYN", &a, PKT_TCP_SYN, 0, be);
	send_to(t, "b: SYN", &b, PKT_TCP_SYN, 0, be);
	drain(t, V4_TCP, be, SLUICE_BE_F_DRAINING | SLUICE_BE_F_DRAINED);
	live_a = pick(t, V4_TCP, &a);
	live_b = pick(t, V4_TCP, &b);
	CHECK_TRUE("drained", "live pick differs", live_a != be && live_b != be);

	/* Data on the promoting packet: still not promoted to @be. */
	send_to(t, "a: ACK with data", &a, PKT_TCP_ACK, 100, live_a);
	check_flow(t, "a: re-balanced", &a, live_a, SLUICE_FLOW_OPEN, 0);
	CHECK_TRUE("a: re-balanced", "slot emptied", !in_new(t, &a));
	CHECK_TRUE("a: re-balanced", "not in sl_pinned",
		   !in_drain_table(t, &a, &f));
	/* A SYN retransmit does not stay on @be either. */
	send_to(t, "b: SYN retransmit", &b, PKT_TCP_SYN, 0, live_b);
	check_flow(t, "b: re-balanced", &b, live_b, SLUICE_FLOW_OPEN, 0);

	CHECK_EQ("drained backend", "confirmed counter", confirmed_count(t, be), 0);
	bt_vip_stats(t, &t->vips[V4_TCP], &vs);
	CHECK_EQ("vip", "rescheduled", vs.rescheduled, 2);
	CHECK_EQ("vip", "promoted", vs.promoted, 0);
	CHECK_EQ("re-balanced", "sl_new slots in use",
		 bt_assert_new_tags(t, "re-balanced: sl_new_tags"), 0);
	bt_assert_reasons_total(t);
}

/*
 * An unconfirmed flow of a DRAINED backend is never confirmed there, by
 * payload or by age: it is balanced afresh. A confirmed one keeps its
 * backend (a drain reported complete had none live: this is what an
 * operator's stop then ends, and sluice counted it until then).
 */
static void test_drained_refuses_confirmation(void **state)
{
	struct bt *t = *state;
	struct pkt_spec u = TCP4(.sport = 40700), c = TCP4(), o = TCP4();
	__u32 be = pick(t, V4_TCP, &u), live;
	struct sluice_vip_stats vs;

	port_for(t, V4_TCP, &c, be, 40701);
	port_for(t, V4_TCP, &o, be, c.sport + 1);
	send_to(t, "u: SYN", &u, PKT_TCP_SYN, 0, be);
	send_to(t, "u: ACK", &u, PKT_TCP_ACK, 0, be);
	send_to(t, "o: SYN", &o, PKT_TCP_SYN, 0, be);
	send_to(t, "o: ACK", &o, PKT_TCP_ACK, 0, be);
	send_to(t, "c: SYN", &c, PKT_TCP_SYN, 0, be);
	send_to(t, "c: ACK with data", &c, PKT_TCP_ACK, 10, be);
	check_flow(t, "c: confirmed", &c, be, SLUICE_FLOW_OPEN, CONFIRMED);
	drain(t, V4_TCP, be, SLUICE_BE_F_DRAINING | SLUICE_BE_F_DRAINED);

	live = pick(t, V4_TCP, &u);
	send_to(t, "u: data", &u, PKT_TCP_ACK, 100, live);
	check_flow(t, "u: re-balanced", &u, live, SLUICE_FLOW_OPEN, 0);

	age_flow(t, "o: aged", &o, 2 * SLUICE_CONFIRM_MS);
	live = pick(t, V4_TCP, &o);
	send_to(t, "o: bare ACK, aged", &o, PKT_TCP_ACK, 0, live);
	check_flow(t, "o: re-balanced", &o, live, SLUICE_FLOW_OPEN, 0);

	send_to(t, "c: data", &c, PKT_TCP_ACK, 100, be);
	check_flow(t, "c: stays", &c, be, SLUICE_FLOW_OPEN, CONFIRMED);

	CHECK_EQ("drained backend", "confirmed counter (c only)",
	      confirmed_count(t, be), 1);
	bt_vip_stats(t, &t->vips[V4_TCP], &vs);
	CHECK_EQ("vip", "rescheduled", vs.rescheduled, 2);
	bt_assert_reasons_total(t);
}

/* --- closing: FIN, half-close refresh, RST -------------------------------- */

/* Rewrite the sl_flows entry of @s with last_seen @ago_ms in the past. */
static __u32 idle_flow(const struct bt *t, const char *ctx,
		       const struct pkt_spec *s, __u32 ago_ms)
{
	struct sluice_flow f = flow_of(t, ctx, s);
	struct sluice_flow_key key;

	pkt_flow_key(s, &key);
	f.last_seen = bt_now() - ago_ms;
	bt_flow_put(t, &key, &f);
	return f.last_seen;
}

/*
 * After a FIN, every client packet refreshes last_seen (the half-closed
 * client ACKing the server's data), not once per TOUCH_MS as an open
 * flow's: close_grace counts from the client's last packet.
 */
static void test_half_close_refresh(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP4(.sport = 40800), o = TCP4(.sport = 40801);
	__u32 be = pick(t, V4_TCP, &s), be_o = pick(t, V4_TCP, &o);
	__u32 t0, t1, old;
	struct sluice_flow f;

	send_to(t, "SYN", &s, PKT_TCP_SYN, 0, be);
	send_to(t, "request", &s, PKT_TCP_ACK, 100, be);
	t0 = bt_now();
	send_to(t, "FIN", &s, PKT_TCP_FIN | PKT_TCP_ACK, 0, be);
	t1 = bt_now();
	check_flow(t, "FIN", &s, be, SLUICE_FLOW_CLOSING, CONFIRMED);
	f = flow_of(t, "FIN", &s);
	CHECK_TIME_IN("FIN", "last_seen", f.last_seen, t0, t1);

	/* The client goes on ACKing: each ACK refreshes. */
	for (int i = 0; i < 3; i++) {
		idle_flow(t, "half-closed", &s, 300);
		t0 = bt_now();
		send_to(t, "half-closed ACK", &s, PKT_TCP_ACK, 0, be);
		t1 = bt_now();
		f = flow_of(t, "half-closed ACK", &s);
		CHECK_EQ("half-closed ACK", "state", f.state, SLUICE_FLOW_CLOSING);
		CHECK_TIME_IN("half-closed ACK", "last_seen", f.last_seen, t0, t1);
	}
	/* A FIN retransmit refreshes too. */
	idle_flow(t, "FIN again", &s, 300);
	t0 = bt_now();
	send_to(t, "FIN retransmit", &s, PKT_TCP_FIN | PKT_TCP_ACK, 0, be);
	t1 = bt_now();
	f = flow_of(t, "FIN retransmit", &s);
	CHECK_TIME_IN("FIN retransmit", "last_seen", f.last_seen, t0, t1);

	/* An open flow with the same 300 ms of idle is left alone. */
	send_to(t, "o: SYN", &o, PKT_TCP_SYN, 0, be_o);
	send_to(t, "o: request", &o, PKT_TCP_ACK, 100, be_o);
	old = idle_flow(t, "o: idle", &o, 300);
	send_to(t, "o: ACK", &o, PKT_TCP_ACK, 0, be_o);
	t1 = bt_now();
	f = flow_of(t, "o: ACK", &o);
	if ((__s32)(t1 - old) < SLUICE_TOUCH_MS)
		CHECK_EQ("open flow", "last_seen (not rewritten)", f.last_seen, old);
	else	/* stalled past TOUCH_MS: a refresh is then right */
		CHECK_TIME_IN("open flow (stalled)", "last_seen", f.last_seen,
			   old + SLUICE_TOUCH_MS, t1);
	bt_assert_reasons_total(t);
}

/* RST ends a flow, open or closing; later packets do not revive it. */
static void test_rst_resets(void **state)
{
	struct bt *t = *state;
	struct pkt_spec a = TCP4(.sport = 40900), b = TCP4(.sport = 40901);
	__u32 be_a = pick(t, V4_TCP, &a), be_b = pick(t, V4_TCP, &b), t0, t1;
	struct sluice_be_stats bs_a, bs_b;
	struct sluice_flow f;

	send_to(t, "a: SYN", &a, PKT_TCP_SYN, 0, be_a);
	send_to(t, "a: request", &a, PKT_TCP_ACK, 10, be_a);
	t0 = bt_now();
	send_to(t, "a: RST", &a, PKT_TCP_RST | PKT_TCP_ACK, 0, be_a);
	t1 = bt_now();
	check_flow(t, "a: RST", &a, be_a, SLUICE_FLOW_RESET, CONFIRMED);
	f = flow_of(t, "a: RST", &a);
	CHECK_TIME_IN("a: RST", "last_seen", f.last_seen, t0, t1);
	send_to(t, "a: stray ACK", &a, PKT_TCP_ACK, 0, be_a);
	send_to(t, "a: stray FIN", &a, PKT_TCP_FIN | PKT_TCP_ACK, 0, be_a);
	check_flow(t, "a: after RST", &a, be_a, SLUICE_FLOW_RESET, CONFIRMED);

	send_to(t, "b: SYN", &b, PKT_TCP_SYN, 0, be_b);
	send_to(t, "b: request", &b, PKT_TCP_ACK, 10, be_b);
	send_to(t, "b: FIN", &b, PKT_TCP_FIN | PKT_TCP_ACK, 0, be_b);
	send_to(t, "b: RST", &b, PKT_TCP_RST, 0, be_b);
	check_flow(t, "b: RST after FIN", &b, be_b, SLUICE_FLOW_RESET, CONFIRMED);
	/* The closing counter counts FIN and RST packets, as before. */
	bt_be_stats(t, be_a, &bs_a);
	bt_be_stats(t, be_b, &bs_b);
	if (be_a == be_b) {
		CHECK_EQ("one backend", "closing", bs_a.closing, 4);
	} else {
		CHECK_EQ("a's backend", "closing", bs_a.closing, 2);
		CHECK_EQ("b's backend", "closing", bs_b.closing, 2);
	}
	bt_assert_reasons_total(t);
}

/* --- a reused tuple -------------------------------------------------------- */

/*
 * A SYN on a CLOSING or RESET flow of a draining backend: the old flow
 * leaves sl_flows and the drain table (not a loss), the new connection starts
 * in sl_new on the live table.
 */
static void reuse_after(struct bt *t, const char *ctx, __u16 sport,
			__u8 close_flags)
{
	struct pkt_spec s = TCP4(.sport = sport);
	__u32 be = pick(t, V4_TCP, &s), live;
	struct sluice_flow_key key;
	struct sluice_flow f;

	send_to(t, ctx, &s, PKT_TCP_SYN, 0, be);
	send_to(t, ctx, &s, PKT_TCP_ACK, 0, be);
	drain(t, V4_TCP, be, SLUICE_BE_F_DRAINING);
	send_to(t, ctx, &s, PKT_TCP_ACK, 20, be);
	CHECK_TRUE(ctx, "confirmed flow kept", in_drain_table(t, &s, &f));
	send_to(t, ctx, &s, close_flags, 0, be);

	live = pick(t, V4_TCP, &s);
	CHECK_TRUE(ctx, "live pick differs", live != be);
	send_to(t, ctx, &s, PKT_TCP_SYN, 0, live);
	pkt_flow_key(&s, &key);
	CHECK_TRUE(ctx, "old flow left sl_flows", bt_flow_get(t, &key, &f) != 0);
	CHECK_TRUE(ctx, "old flow left sl_pinned", !in_drain_table(t, &s, &f));
	CHECK_TRUE(ctx, "new connection in sl_new", bt_new_get(t, &key, &f) == 0);
	CHECK_EQ(ctx, "new connection backend", f.backend_id, live);
	CHECK_EQ(ctx, "new connection flags", f.flags, 0);
	CHECK_EQ(ctx, "new connection state", f.state, SLUICE_FLOW_OPEN);
	send_to(t, ctx, &s, PKT_TCP_ACK, 0, live);
	check_flow(t, ctx, &s, live, SLUICE_FLOW_OPEN, 0);
	bt_assert_reasons_total(t);
}

static void test_tuple_reuse_after_fin(void **state)
{
	reuse_after(*state, "reuse after FIN", 41000, PKT_TCP_FIN | PKT_TCP_ACK);
}

static void test_tuple_reuse_after_rst(void **state)
{
	reuse_after(*state, "reuse after RST", 41001, PKT_TCP_RST);
}

/* A SYN on an OPEN flow is not a reuse: it follows the flow, pin kept. */
static void test_syn_on_open_flow_follows(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP4(.sport = 41100);
	__u32 be = pick(t, V4_TCP, &s);
	struct sluice_flow f;

	send_to(t, "SYN", &s, PKT_TCP_SYN, 0, be);
	send_to(t, "request", &s, PKT_TCP_ACK, 20, be);
	drain(t, V4_TCP, be, SLUICE_BE_F_DRAINING);
	send_to(t, "data", &s, PKT_TCP_ACK, 20, be);
	CHECK_TRUE("open flow", "not kept (confirmed before the drain)",
		   !in_drain_table(t, &s, &f));
	send_to(t, "SYN on open flow", &s, PKT_TCP_SYN, 0, be);
	check_flow(t, "SYN on open flow", &s, be, SLUICE_FLOW_OPEN, CONFIRMED);
	bt_assert_reasons_total(t);
}

/* --- rescue ---------------------------------------------------------------- */

/* A drain table copy restored to sl_flows keeps CONFIRMED, not the sweeper's
 * EVICTED mark, and is not confirmed (counted) a second time. */
static void test_rescue_keeps_confirmed(void **state)
{
	struct bt *t = *state;
	struct pkt_spec s = TCP4(.sport = 41200);
	__u32 be = pick(t, V4_TCP, &s);
	struct sluice_flow_key key;
	struct sluice_flow f;

	send_to(t, "SYN", &s, PKT_TCP_SYN, 0, be);
	send_to(t, "ACK", &s, PKT_TCP_ACK, 0, be);
	drain(t, V4_TCP, be, SLUICE_BE_F_DRAINING);
	send_to(t, "request", &s, PKT_TCP_ACK, 30, be);
	pkt_flow_key(&s, &key);
	CHECK(CHECK_HERE, in_drain_table(t, &s, &f));
	f.flags |= SLUICE_FLOW_F_EVICTED;	/* as the sweeper marks it */
	bt_drain_table_put(t, &key, &f);
	CHECK_INT(CHECK_HERE,
		  bpf_map_delete_elem(sl_flows_fd(&t->maps, &key), &key), 0);

	send_to(t, "ACK after eviction", &s, PKT_TCP_ACK, 0, be);
	check_flow(t, "rescued", &s, be, SLUICE_FLOW_OPEN, CONFIRMED);
	CHECK_EQ("rescued", "confirmed counter", confirmed_count(t, be), 1);
	bt_assert_reasons_total(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_confirm_at_promotion,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_confirm_not_before_confirm_ms, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_confirm_established_on_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confirm_established_by_age,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_draining_keeps_on_confirm,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_draining_pins_aged, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_spoofed_pairs_never_kept,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_drained_refuses_promotion,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_drained_refuses_confirmation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_close_refresh, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rst_resets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tuple_reuse_after_fin,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_tuple_reuse_after_rst,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_on_open_flow_follows,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rescue_keeps_confirmed,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
