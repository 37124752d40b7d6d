/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Fixtures and checks for the BPF tests (see bpftest.h). */
#include "bpftest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice.skel.h"
#include "decap.skel.h"

/* The very flow hash the datapath runs, to predict each flow's slot. */
#include "sluice/hash.h"
#include "new_tags.h"

const __u8 bt_egress_mac[6] = { 0x02, 0x5c, 0x00, 0x00, 0x00, 0x01 };

/* --- generic ------------------------------------------------------------ */

int bt_prog_run(int prog_fd, const void *in, __u32 len, struct bt_result *r)
{
	return bt_prog_run_on(prog_fd, 0, in, len, r);
}

int bt_prog_run_on(int prog_fd, __u32 ifindex, const void *in, __u32 len,
		   struct bt_result *r)
{
	struct xdp_md xctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = len,
		.data_out = r->out,
		.data_size_out = sizeof(r->out),	/* reset every run */
		.repeat = 1,
	);
	int err;

	if (ifindex) {
		opts.ctx_in = &xctx;
		opts.ctx_size_in = sizeof(xctx);
	}

	memset(r->out, 0, sizeof(r->out));
	r->verdict = -1;
	r->reason = -1;
	r->out_len = 0;
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return -errno;
	r->verdict = opts.retval;
	r->out_len = opts.data_size_out;
	return 0;
}

void bt_percpu_sum(int fd, __u32 key, size_t n, __u64 *out)
{
	int rc = sl_percpu_sum(fd, key, n, out);

	if (rc) {
		print_message("# per-CPU lookup of key %u: %s\n", key, strerror(-rc));
		fail();
	}
}

/* Fail with @what and the libbpf-style error @err (negative errno). */
static void check_ok(const char *ctx, const char *what, int err)
{
	if (err) {
		print_message("# %s: %s failed: %s (%d)\n", ctx, what,
			      strerror(err < 0 ? -err : err), err);
		fail();
	}
}

/* --- balancer fixture --------------------------------------------------- */

static void bt_config(struct bt *t)
{
	struct sluice_config cfg;
	struct sluice_addr a;
	__u8 family;

	memset(&cfg, 0, sizeof(cfg));
	CHECK_INT(CHECK_HERE, pkt_addr(BT_SRC4, &a, &family), 0);
	cfg.src4 = a.addr[0];
	CHECK_INT(CHECK_HERE, pkt_addr(BT_SRC6, &cfg.src6, &family), 0);
	cfg.ring_size = t->ring_size;	/* as sluiced records it */
	cfg.hash_seed = BT_HASH_SEED;
	check_ok("bt_open", "sl_config_set", sl_config_set(&t->maps, &cfg));
}

static struct bt *open_bt(__u32 ring_size, bool udp_fallback, __u32 flows)
{
	struct bt *t = calloc(1, sizeof(*t));

	CHECK_NONNULL(CHECK_HERE, t);
	t->ring_size = ring_size;
	t->next_be_id = BT_BE_ID_BASE;
	t->prog_fd = -1;
	t->skel = sluice_bpf__open();
	if (!t->skel) {
		print_message("# sluice_bpf__open: %s\n", strerror(errno));
		fail();
	}
	t->skel->rodata->cfg_ring_size = ring_size;
	t->skel->rodata->cfg_hash_seed = BT_HASH_SEED;
	t->skel->rodata->cfg_new_slots = BT_NEW_FLOWS;
	t->skel->rodata->cfg_udp_fallback = udp_fallback;
	check_ok("bt_open", "sl_maps_set_sizes",
		 sl_maps_set_sizes(t->skel->obj, ring_size, flows, BT_NEW_FLOWS,
				   BT_NEW_FLOWS));
	/* Verifier rejection lands here: a failure, never a skip. */
	check_ok("bt_open", "sluice_bpf__load (verifier)",
		 sluice_bpf__load(t->skel));
	check_ok("bt_open", "sl_maps_open",
		 sl_maps_open(t->skel->obj, ring_size, &t->maps));
	t->maps.hash_seed = BT_HASH_SEED;
	t->prog_fd = bpf_program__fd(t->skel->progs.sluice_xdp);
	CHECK_RC(CHECK_HERE, t->prog_fd);
	bt_config(t);
	return t;
}

struct bt *bt_open(__u32 ring_size)
{
	return open_bt(ring_size, false, BT_FLOWS);
}

struct bt *bt_open_udp_fallback(__u32 ring_size, bool udp_fallback)
{
	return open_bt(ring_size, udp_fallback, BT_FLOWS);
}

struct bt *bt_open_flows(__u32 ring_size, __u32 flows)
{
	return open_bt(ring_size, false, flows);
}

void bt_close(struct bt *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < t->nvips; i++) {
		free(t->vips[i].table);
		free(t->vips[i].fb_table);
	}
	sluice_bpf__destroy(t->skel);
	free(t);
}

static void bt_backend_make(struct bt *t, struct bt_vip *v, const char *addr,
			    struct maglev_backend *mb)
{
	struct sluice_backend be;
	__u32 id = t->next_be_id++;

	CHECK(CHECK_HERE, id - BT_BE_ID_BASE < BT_MAX_BE_IDS);
	memset(&be, 0, sizeof(be));
	if (pkt_addr(addr, &be.addr, &be.family)) {
		print_message("# bad backend address %s\n", addr);
		fail();
	}
	be.flags = SLUICE_BE_F_IN_USE | SLUICE_BE_F_NH_VALID;
	be.vip_id = v->vip_id;
	be.ifindex = BT_TEST_IFINDEX;
	be.dmac[0] = 0x02;
	be.dmac[1] = 0xbe;
	be.dmac[4] = id >> 8;
	be.dmac[5] = id;
	memcpy(be.smac, bt_egress_mac, sizeof(be.smac));
	check_ok(addr, "sl_backend_set", sl_backend_set(&t->maps, id, &be));
	t->be[id - BT_BE_ID_BASE] = be;

	memset(mb, 0, sizeof(*mb));
	mb->id = id;
	mb->addr = be.addr;
	mb->family = be.family;
	mb->weight = 1;
}

struct bt_vip *bt_vip_add(struct bt *t, const char *addr, __u16 port,
			  __u8 proto, const char *const *backends)
{
	struct bt_vip *v;

	CHECK(CHECK_HERE, t->nvips < BT_MAX_VIPS);
	v = &t->vips[t->nvips];
	memset(v, 0, sizeof(*v));
	v->vip_id = BT_VIP_ID_BASE + t->nvips;
	t->nvips++;
	if (pkt_addr(addr, &v->key.addr, &v->key.family)) {
		print_message("# bad VIP address %s\n", addr);
		fail();
	}
	v->key.port = htons(port);
	v->key.proto = proto;
	v->table = calloc(t->ring_size, sizeof(*v->table));
	CHECK_NONNULL(CHECK_HERE, v->table);
	for (; backends && backends[v->nbe]; v->nbe++) {
		CHECK(CHECK_HERE, v->nbe < BT_MAX_BE);
		v->be_id[v->nbe] = t->next_be_id;
		bt_backend_make(t, v, backends[v->nbe], &v->mb[v->nbe]);
	}
	bt_vip_publish(t, v);
	check_ok(addr, "sl_vip_addr_set",
		 sl_vip_addr_set(&t->maps, &v->key.addr, v->key.family, 1));
	check_ok(addr, "sl_vip_filter_sync", sl_vip_filter_sync(&t->maps));
	return v;
}

void bt_vip_publish(struct bt *t, struct bt_vip *v)
{
	check_ok("bt_vip_publish", "maglev_build",
		 maglev_build(v->mb, v->nbe, t->ring_size, BT_MAGLEV_SEED,
			      v->table));
	check_ok("bt_vip_publish", "sl_ring_publish",
		 sl_ring_publish(&t->maps, &v->key, v->vip_id, 0, v->table,
				 v->fb_table));
}

void bt_vip_drain(struct bt *t, struct bt_vip *v, size_t idx)
{
	struct sluice_backend be;

	CHECK(CHECK_HERE, idx < v->nbe);
	if (!v->fb_table) {
		v->fb_table = calloc(t->ring_size, sizeof(*v->fb_table));
		CHECK_NONNULL(CHECK_HERE, v->fb_table);
		check_ok("bt_vip_drain", "maglev_build",
			 maglev_build(v->mb, v->nbe, t->ring_size,
				      BT_MAGLEV_SEED, v->fb_table));
	}
	be = *bt_backend(t, v->be_id[idx]);
	be.flags |= SLUICE_BE_F_DRAINING;
	bt_backend_update(t, v->be_id[idx], &be);
	bt_vip_set_weight(t, v, idx, 0);
}

void bt_vip_drains_end(struct bt *t, struct bt_vip *v)
{
	free(v->fb_table);
	v->fb_table = NULL;
	bt_vip_publish(t, v);
}

__u32 bt_fb_pick(const struct bt *t, const struct bt_vip *v,
		 const struct sluice_flow_key *key)
{
	return v->fb_table ? v->fb_table[bt_slot(t, key)] : bt_pick(t, v, key);
}

__u16 bt_fallback_port(const struct bt *t, const struct bt_vip *v,
		       struct pkt_spec *s, __u16 from, __u32 fb, __u32 live)
{
	struct sluice_flow_key key;
	__u32 pick;

	for (s->sport = from; s->sport < from + 8000; s->sport++) {
		pkt_flow_key(s, &key);
		pick = bt_pick(t, v, &key);
		if (bt_fb_pick(t, v, &key) == fb && pick != fb &&
		    (!live || pick == live))
			return s->sport;
	}
	print_message("# no port from %u falls back to backend %u\n", from, fb);
	fail();
	return 0;
}

void bt_vip_set_weight(struct bt *t, struct bt_vip *v, size_t idx,
		       __u32 weight)
{
	CHECK(CHECK_HERE, idx < v->nbe);
	v->mb[idx].weight = weight;
	bt_vip_publish(t, v);
}

static const struct bt_vip *vip_match(const struct bt *t,
				      const struct sluice_flow_key *key,
				      __be16 port)
{
	int i;

	for (i = 0; i < t->nvips; i++) {
		const struct sluice_vip_key *vk = &t->vips[i].key;

		if (vk->family == key->family && vk->proto == key->proto &&
		    vk->port == port &&
		    !memcmp(&vk->addr, &key->dst, sizeof(vk->addr)))
			return &t->vips[i];
	}
	return NULL;
}

const struct bt_vip *bt_vip_find(const struct bt *t,
				 const struct sluice_flow_key *key)
{
	const struct bt_vip *v = vip_match(t, key, key->dport);

	if (!v)
		v = vip_match(t, key, 0);
	if (!v) {
		print_message("# no VIP for the flow's destination\n");
		fail();
	}
	return v;
}

__u32 bt_slot(const struct bt *t, const struct sluice_flow_key *key)
{
	return sluice_flow_hash(key, BT_HASH_SEED) % t->ring_size;
}

__u32 bt_pick(const struct bt *t, const struct bt_vip *v,
	      const struct sluice_flow_key *key)
{
	return v->table[bt_slot(t, key)];
}

void bt_backend_update(struct bt *t, __u32 id, const struct sluice_backend *be)
{
	CHECK(CHECK_HERE, id >= BT_BE_ID_BASE && id < t->next_be_id);
	check_ok("bt_backend_update", "sl_backend_set",
		 sl_backend_set(&t->maps, id, be));
	t->be[id - BT_BE_ID_BASE] = *be;
}

int bt_other_ifindex(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int idx = 0;

	CHECK_NONNULL(CHECK_HERE, ifs);
	for (i = ifs; i->if_index && !idx; i++)
		if (i->if_index != BT_TEST_IFINDEX)
			idx = (int)i->if_index;
	if_freenameindex(ifs);
	if (!idx) {
		print_message("# no interface besides lo: redirect cases need one\n");
		fail();
	}
	return idx;
}

const struct sluice_backend *bt_backend(const struct bt *t, __u32 id)
{
	CHECK(CHECK_HERE, id >= BT_BE_ID_BASE && id < t->next_be_id);
	return &t->be[id - BT_BE_ID_BASE];
}

int bt_vip_be_index(const struct bt_vip *v, __u32 id)
{
	size_t i;

	for (i = 0; i < v->nbe; i++)
		if (v->be_id[i] == id)
			return (int)i;
	return -1;
}

static void bt_reasons(const struct bt *t, __u64 out[SLUICE_R_MAX])
{
	check_ok("bt_reasons", "sl_reasons_read",
		 sl_reasons_read(&t->maps, out));
}

void bt_run(struct bt *t, const char *ctx, const struct pkt *in,
	    struct bt_result *r)
{
	__u64 before[SLUICE_R_MAX], after[SLUICE_R_MAX];
	int i, counted = 0;

	bt_reasons(t, before);
	check_ok(ctx, "BPF_PROG_TEST_RUN",
		 bt_prog_run(t->prog_fd, in->data, in->len, r));
	t->runs++;
	bt_reasons(t, after);
	for (i = 0; i < SLUICE_R_MAX; i++) {
		if (after[i] == before[i])
			continue;
		CHECK_EQ(ctx, sl_reason_label(i), after[i] - before[i], 1);
		r->reason = i;
		counted++;
	}
	CHECK_EQ(ctx, "reasons counted for one packet", counted, 1);
	if (r->verdict != sluice_reason_verdict(r->reason)) {
		print_message("# %s: verdict %d (%s) disagrees with reason %s (%s)\n",
			      ctx, r->verdict, sl_verdict_name(r->verdict),
			      sl_reason_label(r->reason),
			      sl_verdict_name(sluice_reason_verdict(r->reason)));
		fail();
	}
}

void bt_run_spec(struct bt *t, const char *ctx, const struct pkt_spec *s,
		 struct pkt *in, struct bt_result *r)
{
	if (pkt_build(s, in)) {
		print_message("# %s: packet spec does not build\n", ctx);
		fail();
	}
	bt_run(t, ctx, in, r);
}

__u64 bt_reason_count(const struct bt *t, int reason)
{
	__u64 all[SLUICE_R_MAX];

	bt_reasons(t, all);
	return all[reason];
}

void bt_assert_reasons_total(const struct bt *t)
{
	__u64 all[SLUICE_R_MAX], sum = 0;
	int i;

	bt_reasons(t, all);
	for (i = 0; i < SLUICE_R_MAX; i++)
		sum += all[i];
	CHECK_EQ("reasons", "sum of all reasons vs packets run", sum, t->runs);
}

__u64 bt_assert_new_tags(const struct bt *t, const char *ctx)
{
	struct sluice_new_slot s;
	struct sluice_new_tags tg;
	__u32 idx, b, want;
	__u64 used = 0;
	char what[64];

	for (idx = 0; idx < t->maps.new_slots; idx++) {
		b = idx / SLUICE_NEW_WAYS;
		check_ok(ctx, "sl_new lookup",
			 bpf_map_lookup_elem(t->maps.new_map, &idx, &s) ?
				 -errno :
				 0);
		check_ok(ctx, "sl_new_tags lookup",
			 bpf_map_lookup_elem(t->maps.new_tags, &b, &tg) ?
				 -errno :
				 0);
		want = sl_new_slot_tag(&s, t->maps.hash_seed);
		if (s.key.family)
			used++;
		snprintf(what, sizeof(what), "tag of slot %u", idx);
		CHECK_EQ(ctx, what, tg.tag[idx % SLUICE_NEW_WAYS], want);
	}
	return used;
}

void bt_vip_stats(const struct bt *t, const struct bt_vip *v,
		  struct sluice_vip_stats *out)
{
	check_ok("bt_vip_stats", "sl_vip_stats_read",
		 sl_vip_stats_read(&t->maps, v->vip_id, out));
}

void bt_be_stats(const struct bt *t, __u32 be_id, struct sluice_be_stats *out)
{
	check_ok("bt_be_stats", "sl_be_stats_read",
		 sl_be_stats_read(&t->maps, be_id, out));
}

static int flow_get(int fd, const struct sluice_flow_key *key,
		    struct sluice_flow *f)
{
	if (bpf_map_lookup_elem(fd, key, f))
		return -errno;
	return 0;
}

int bt_flow_get(const struct bt *t, const struct sluice_flow_key *key,
		struct sluice_flow *f)
{
	return flow_get(sl_flows_fd(&t->maps, key), key, f);
}

int bt_new_get(const struct bt *t, const struct sluice_flow_key *key,
	       struct sluice_flow *f)
{
	return sl_new_get(&t->maps, key, f);
}

int bt_drain_table_get(const struct bt *t, const struct sluice_flow_key *key,
		       struct sluice_flow *f)
{
	return flow_get(t->maps.drain_table, key, f);
}

void bt_flow_put(const struct bt *t, const struct sluice_flow_key *key,
		 const struct sluice_flow *f)
{
	check_ok("bt_flow_put", "sl_flows update",
		 bpf_map_update_elem(sl_flows_fd(&t->maps, key), key, f,
				     BPF_ANY) ?
			 -errno :
			 0);
}

void bt_drain_table_put(const struct bt *t, const struct sluice_flow_key *key,
			const struct sluice_flow *f)
{
	check_ok("bt_drain_table_put", "sl_pinned update",
		 bpf_map_update_elem(t->maps.drain_table, key, f, BPF_ANY) ?
			 -errno :
			 0);
}

/*
 * The slot the flow already has, else the first way of its first bucket
 * (abi.h): a slot the datapath searches.
 */
void bt_new_put(const struct bt *t, const struct sluice_flow_key *key,
		const struct sluice_flow *f)
{
	__u32 idx = sluice_new_bucket(sluice_flow_hash(key, t->maps.hash_seed),
				      t->maps.new_slots, 0);
	struct sluice_new_slot s;
	struct sluice_flow old;

	sl_new_slot_get(t->maps.new_map, t->maps.new_slots, t->maps.hash_seed,
			key, &old, &idx);
	memset(&s, 0, sizeof(s));
	s.key = *key;
	s.flow = *f;
	bt_new_slot_put(t, idx, &s);
}

void bt_new_slot_put(const struct bt *t, __u32 idx,
		     const struct sluice_new_slot *s)
{
	__u32 tag = sl_new_slot_tag(s, t->maps.hash_seed);

	check_ok("bt_new_slot_put", "sl_new update",
		 bpf_map_update_elem(t->maps.new_map, &idx, s, BPF_ANY) ?
			 -errno :
			 0);
	check_ok("bt_new_slot_put", "sl_new_tags update",
		 sl_new_tag_write(t->maps.new_tags, idx, tag));
}

__u32 bt_now(void)
{
	return sl_clock_now();
}

/* --- checks ------------------------------------------------------------- */

void bt_check_mem(const char *ctx, const char *what, const void *got,
		  const void *want, size_t len)
{
	const __u8 *g = got, *w = want;
	size_t i = check_mem_diff(got, want, len);

	if (i == len)
		return;
	print_message("# %s: %s: differs at byte %zu: got %#04x, expected %#04x\n",
		      ctx, what, i, g[i], w[i]);
	pkt_hexdump("got", got, len);
	pkt_hexdump("expected", want, len);
	fail();
}

void bt_check_verdict(const char *ctx, const struct bt_result *r,
		      int verdict, int reason)
{
	if (r->verdict == verdict && r->reason == reason)
		return;
	print_message("# %s: got %s/%s, expected %s/%s\n", ctx,
		      sl_verdict_name(r->verdict), sl_reason_label(r->reason),
		      sl_verdict_name(verdict), sl_reason_label(reason));
	fail();
}

void bt_check_unchanged(const char *ctx, const struct bt_result *r,
			const struct pkt *in)
{
	CHECK_EQ(ctx, "verdict (XDP_PASS)", r->verdict, XDP_PASS);
	CHECK_EQ(ctx, "output length", r->out_len, in->len);
	bt_check_mem(ctx, "passed frame", r->out, in->data, in->len);
}

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/* Traffic class of an IPv4 or IPv6 packet. */
static __u8 ip_tos(const __u8 *ip)
{
	if ((ip[0] >> 4) == 4)
		return ip[1];
	return (__u8)((ip[0] & 0xf) << 4 | ip[1] >> 4);
}

/* The outer protocol: the inner IP version, or UDP when GUE follows. */
static __u8 outer_proto(const __u8 *inner, __u32 extra)
{
	if (extra)
		return IPPROTO_UDP;
	return (inner[0] >> 4) == 4 ? IPPROTO_IPIP : IPPROTO_IPV6;
}

/* @extra: GUE bytes between the outer header and @inner (0: none). */
static void check_outer4(const char *ctx, const __u8 *o, const __u8 *inner,
			 __u32 inner_len, const struct sluice_backend *be,
			 __u32 extra)
{
	struct sluice_addr src;
	__u8 family;
	__u16 df;

	CHECK_INT(ctx, pkt_addr(BT_SRC4, &src, &family), 0);
	/* RFC 2003: DF copied from an IPv4 inner; always set for IPv6 inner. */
	df = (inner[0] >> 4) == 6 || (get16(inner + 6) & 0x4000) ? 0x4000 : 0;
	CHECK_EQ(ctx, "outer version/IHL", o[0], 0x45);
	CHECK_EQ(ctx, "outer TOS == inner", o[1], ip_tos(inner));
	CHECK_EQ(ctx, "outer tot_len == inner + 20 (+ GUE)", get16(o + 2),
		 inner_len + 20 + extra);
	CHECK_EQ(ctx, "outer frag_off (DF rule)", get16(o + 6), df);
	CHECK_EQ(ctx, "outer TTL", o[8], SLUICE_OUTER_TTL);
	CHECK_EQ(ctx, "outer protocol", o[9], outer_proto(inner, extra));
	CHECK_TRUE(ctx, "outer IPv4 checksum", pkt_ipv4_csum_ok(o, PKT_IP4_LEN));
	bt_check_mem(ctx, "outer source", o + 12, &src.addr[0], 4);
	bt_check_mem(ctx, "outer destination (backend)", o + 16,
		     &be->addr.addr[0], 4);
}

static void check_outer6(const char *ctx, const __u8 *o, const __u8 *inner,
			 __u32 inner_len, const struct sluice_backend *be,
			 __u32 extra)
{
	struct sluice_addr src;
	__u8 family;

	CHECK_INT(ctx, pkt_addr(BT_SRC6, &src, &family), 0);
	CHECK_EQ(ctx, "outer version", o[0] >> 4, 6);
	CHECK_EQ(ctx, "outer traffic class == inner", ip_tos(o), ip_tos(inner));
	CHECK_EQ(ctx, "outer payload_len == inner length (+ GUE)", get16(o + 4),
		 inner_len + extra);
	CHECK_EQ(ctx, "outer next header", o[6], outer_proto(inner, extra));
	CHECK_EQ(ctx, "outer hop limit", o[7], SLUICE_OUTER_TTL);
	bt_check_mem(ctx, "outer source", o + 8, &src, 16);
	bt_check_mem(ctx, "outer destination (backend)", o + 24, &be->addr, 16);
}

/* UDP to SLUICE_GUE_PORT, GUE header, hop field naming @hop2 (abi.h). */
static void check_gue(const char *ctx, const __u8 *g, const __u8 *inner,
		      __u32 inner_len, const struct sluice_backend *hop2)
{
	CHECK_TRUE(ctx, "GUE UDP source port in 49152-65535",
		   get16(g) >= 0xc000);
	CHECK_EQ(ctx, "GUE UDP destination port", get16(g + 2),
		 SLUICE_GUE_PORT);
	CHECK_EQ(ctx, "GUE UDP length", get16(g + 4),
		 inner_len + SLUICE_GUE_OVERHEAD);
	CHECK_EQ(ctx, "GUE UDP checksum (0)", get16(g + 6), 0);
	CHECK_EQ(ctx, "GUE version 0, hlen", g[8], SLUICE_GUE_HLEN);
	CHECK_EQ(ctx, "GUE proto", g[9],
		 (inner[0] >> 4) == 4 ? IPPROTO_IPIP : IPPROTO_IPV6);
	CHECK_EQ(ctx, "GUE flags", get16(g + 10), 0);
	CHECK_EQ(ctx, "hop magic", g[12], SLUICE_GUE_MAGIC);
	CHECK_EQ(ctx, "hop family", g[13], hop2->family);
	CHECK_EQ(ctx, "hops taken", g[14], 0);
	bt_check_mem(ctx, "second hop address", g + 16, &hop2->addr, 16);
}

void bt_check_encap_hop(const char *ctx, const struct bt_result *r,
			const struct pkt *in, const struct sluice_backend *be,
			const struct sluice_backend *hop2)
{
	__u32 extra = hop2 ? SLUICE_GUE_OVERHEAD : 0;
	__u32 ol = be->family == SLUICE_AF_INET ? PKT_IP4_LEN : PKT_IP6_LEN;
	__u32 rest = in->len - in->l3_off;	/* IP packet + any trailer */
	const __u8 *inner = r->out + PKT_ETH_LEN + ol + extra;
	const __u8 *want = in->data + in->l3_off;

	CHECK_EQ(ctx, "output length", r->out_len,
		 PKT_ETH_LEN + ol + extra + rest);
	if (r->out_len != PKT_ETH_LEN + ol + extra + rest)
		return;
	bt_check_mem(ctx, "Ethernet destination (backend next hop)", r->out,
		     be->dmac, 6);
	bt_check_mem(ctx, "Ethernet source (egress interface)", r->out + 6,
		     be->smac, 6);
	CHECK_EQ(ctx, "ethertype", get16(r->out + 12),
	      be->family == SLUICE_AF_INET ? 0x0800 : 0x86dd);
	if (be->family == SLUICE_AF_INET)
		check_outer4(ctx, r->out + PKT_ETH_LEN, want, in->l3_len, be,
			     extra);
	else
		check_outer6(ctx, r->out + PKT_ETH_LEN, want, in->l3_len, be,
			     extra);
	if (hop2)
		check_gue(ctx, r->out + PKT_ETH_LEN + ol, want, in->l3_len,
			  hop2);
	bt_check_mem(ctx, "inner packet", inner, want, rest);
	if ((inner[0] >> 4) == 4)
		CHECK_TRUE(ctx, "inner IPv4 checksum",
			pkt_ipv4_csum_ok(inner, in->l3_len));
	CHECK_EQ(ctx, "inner L4 checksum valid", pkt_l4_csum_ok(inner, in->l3_len),
	      1);
}

void bt_check_encap(const char *ctx, const struct bt_result *r,
		    const struct pkt *in, const struct sluice_backend *be)
{
	bt_check_encap_hop(ctx, r, in, be, NULL);
}

/* --- decap fixture ------------------------------------------------------ */

struct bt_decap *bt_decap_open(void)
{
	struct bt_decap *d = calloc(1, sizeof(*d));

	CHECK_NONNULL(CHECK_HERE, d);
	d->skel = decap_bpf__open();
	if (!d->skel) {
		print_message("# decap_bpf__open: %s\n", strerror(errno));
		fail();
	}
	check_ok("bt_decap_open", "decap_bpf__load (verifier)",
		 decap_bpf__load(d->skel));
	d->prog_fd = bpf_program__fd(d->skel->progs.sluice_decap);
	d->addrs_fd = bpf_map__fd(d->skel->maps.sl_decap_addrs);
	d->stats_fd = bpf_map__fd(d->skel->maps.sl_decap_stats);
	CHECK(CHECK_HERE,
	      d->prog_fd >= 0 && d->addrs_fd >= 0 && d->stats_fd >= 0);
	return d;
}

void bt_decap_close(struct bt_decap *d)
{
	if (!d)
		return;
	decap_bpf__destroy(d->skel);
	free(d);
}

void bt_decap_add_addr(struct bt_decap *d, const char *addr)
{
	struct sluice_decap_key key;
	__u32 one = 1;

	memset(&key, 0, sizeof(key));
	if (pkt_addr(addr, &key.addr, &key.family)) {
		print_message("# bad decap address %s\n", addr);
		fail();
	}
	if (bpf_map_update_elem(d->addrs_fd, &key, &one, BPF_ANY)) {
		print_message("# sl_decap_addrs update %s: %s\n", addr,
			      strerror(errno));
		fail();
	}
}

void bt_decap_run(struct bt_decap *d, const char *ctx, const void *in,
		  __u32 len, struct bt_result *r)
{
	check_ok(ctx, "BPF_PROG_TEST_RUN (decap)",
		 bt_prog_run_on(d->prog_fd, d->ifindex, in, len, r));
	d->runs++;
}

__u64 bt_decap_stat(const struct bt_decap *d, __u32 reason)
{
	__u64 v;

	bt_percpu_sum(d->stats_fd, reason, 1, &v);
	return v;
}
