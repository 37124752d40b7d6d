/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make bench, per-packet parts (bench_xdp, bench_fallback): one crafted
 * frame per BPF_PROG_TEST_RUN call, the kernel's timing of that one run,
 * and the tuples, the balancer instance and the XDP_DROP baseline they
 * share. The method is in bench_xdp.c's header comment.
 */
#ifndef SLUICE_BENCH_XDP_H
#define SLUICE_BENCH_XDP_H

#include "bench.h"
#include "../lib/bpftest.h"

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice.skel.h"
#include "bench_drop.skel.h"

#define BX_RING		SLUICE_RING_SIZE_DEFAULT
/* sl_flows holds every flow established here on one CPU's LRU list
 * (BPF_F_NO_COMMON_LRU splits max_entries between the CPUs). */
#define BX_FLOWS	(2U << 20)
#define BX_NEW		SLUICE_NEW_FLOWS_DEFAULT
#define BX_CYCLE	65536	/* distinct flows in the "many" cases */
#define BX_PAYLOAD	64
#define BX_MAX_REPS	20

static inline void bx_build(struct pkt *p, const char *src, const char *dst,
			    __u8 proto, __u16 dport, __u8 flags, __u16 payload)
{
	struct pkt_spec s = {
		.src = src,
		.dst = dst,
		.proto = proto,
		.df = 1,
		.sport = 1024,
		.dport = dport,
		.tcp_flags = flags,
		.seq = 1000,
		.ack = flags & PKT_TCP_ACK ? 2000 : 0,
		.payload_len = payload,
	};

	if (pkt_build(&s, p))
		bench_die("cannot build a %s packet to %s", src, dst);
}

/*
 * Client @i (0..65535) of tuple set @set (1..255 for IPv4): the source
 * address and port change. IPv4: byte 2 of the source is @set, byte 3
 * @i >> 8; IPv6: bytes 12-13 are @set, 14-15 @i. Port 1024 + (@i & 0xff).
 * No checksum is updated: no program measured reads one.
 */
static inline void bx_tuple(struct pkt *p, unsigned int set, unsigned int i)
{
	__u8 *ip = p->data + p->l3_off, *l4 = p->data + p->l4_off;
	__u16 sport = 1024 + (i & 0xff);

	if ((ip[0] >> 4) == 4) {
		ip[14] = set;
		ip[15] = i >> 8;
	} else {
		ip[20] = set >> 8;
		ip[21] = set;
		ip[22] = i >> 8;
		ip[23] = i;
	}
	l4[0] = sport >> 8;
	l4[1] = sport;
}

/* The flow key of a built frame, as the programs fill it. */
static inline void bx_key(const struct pkt *p, struct sluice_flow_key *k)
{
	const __u8 *ip = p->data + p->l3_off, *l4 = p->data + p->l4_off;

	memset(k, 0, sizeof(*k));
	if ((ip[0] >> 4) == 4) {
		k->family = SLUICE_AF_INET;
		memcpy(&k->src.addr[0], ip + 12, 4);
		memcpy(&k->dst.addr[0], ip + 16, 4);
		k->proto = ip[9];
	} else {
		k->family = SLUICE_AF_INET6;
		memcpy(&k->src, ip + 8, 16);
		memcpy(&k->dst, ip + 24, 16);
		k->proto = ip[6];
	}
	memcpy(&k->sport, l4, 2);
	memcpy(&k->dport, l4 + 2, 2);
}

/*
 * One frame, one call, arriving on @ifindex (0: loopback); returns the
 * kernel's time for the run. An encapsulating program changes the buffer
 * it runs on, and with repeat > 1 the kernel re-runs it on its own output.
 */
static inline __u32 bx_run_on(int fd, __u32 ifindex, const void *data,
			      __u32 len, int *verdict)
{
	struct xdp_md xctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len,
		    .repeat = 1);

	if (ifindex) {
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
	}
	if (bpf_prog_test_run_opts(fd, &o))
		bench_die("BPF_PROG_TEST_RUN: %s", strerror(errno));
	*verdict = o.retval;
	return o.duration;
}

static inline __u32 bx_run1(int fd, const struct pkt *p, int *verdict)
{
	return bx_run_on(fd, 0, p->data, p->len, verdict);
}

static inline void bx_expect(const char *what, unsigned int i, int got,
			     int want)
{
	if (got != want)
		bench_die("%s, call %u: verdict %d, expected %d", what, i, got,
			  want);
}

/* Open flow @i of @set: its first packet, then the one that promotes it. */
static inline void bx_establish_one(int fd, struct pkt *first,
				    struct pkt *second, unsigned int set,
				    unsigned int i)
{
	int verdict;

	bx_tuple(first, set, i);
	bx_run1(fd, first, &verdict);
	bx_expect("establish, first packet", i, verdict, XDP_TX);
	bx_tuple(second, set, i);
	bx_run1(fd, second, &verdict);
	bx_expect("establish, second packet", i, verdict, XDP_TX);
}

/*
 * @calls frames through @fd, @nflows tuples of @set cycled (1: the frame
 * as it is, tuple 0), each verdict checked against @want unless it is -1;
 * the per-call times go into @s.
 */
static inline struct bench_summary bx_series(int fd, const char *what,
					     struct pkt *p, unsigned int set,
					     unsigned int nflows, int want,
					     __u32 *s, unsigned int calls)
{
	unsigned int c;
	int verdict;

	bx_tuple(p, set, 0);
	for (c = 0; c < calls; c++) {
		if (nflows > 1)
			bx_tuple(p, set, c % nflows);
		s[c] = bx_run1(fd, p, &verdict);
		if (want != -1)
			bx_expect(what, c, verdict, want);
	}
	return bench_summarize(s, calls);
}

/*
 * A balancer sized as sluiced sizes it by default (ring, sl_flows,
 * sl_new), configured as the BPF tests' bt_open() does.
 */
static inline struct bt *bx_open_sluice(void)
{
	struct sluice_config cfg;
	struct sluice_addr a;
	struct bt *t = calloc(1, sizeof(*t));
	__u8 family;
	int err;

	if (!t)
		bench_die("out of memory");
	t->ring_size = BX_RING;
	t->next_be_id = BT_BE_ID_BASE;
	t->skel = sluice_bpf__open();
	if (!t->skel)
		bench_die("sluice_bpf__open: %s", strerror(errno));
	t->skel->rodata->cfg_ring_size = BX_RING;
	t->skel->rodata->cfg_hash_seed = BT_HASH_SEED;
	t->skel->rodata->cfg_new_slots = BX_NEW;
	err = sl_maps_set_sizes(t->skel->obj, BX_RING, BX_FLOWS, BX_NEW,
				SLUICE_DRAIN_TABLE_DEFAULT);
	if (err)
		bench_die("sl_maps_set_sizes: %s", strerror(-err));
	err = sluice_bpf__load(t->skel);
	if (err)
		bench_die("sluice_bpf__load: %s", strerror(-err));
	err = sl_maps_open(t->skel->obj, BX_RING, &t->maps);
	if (err)
		bench_die("sl_maps_open: %s", strerror(-err));
	t->maps.hash_seed = BT_HASH_SEED;
	t->prog_fd = bpf_program__fd(t->skel->progs.sluice_xdp);

	memset(&cfg, 0, sizeof(cfg));
	pkt_addr(BT_SRC4, &a, &family);
	cfg.src4 = a.addr[0];
	pkt_addr(BT_SRC6, &cfg.src6, &family);
	cfg.ring_size = BX_RING;
	cfg.hash_seed = BT_HASH_SEED;
	err = sl_config_set(&t->maps, &cfg);
	if (err)
		bench_die("sl_config_set: %s", strerror(-err));
	return t;
}

/* The XDP_DROP program whose cost every figure is measured above. */
static inline int bx_open_drop(struct bench_drop_bpf **drop)
{
	*drop = bench_drop_bpf__open_and_load();
	if (!*drop)
		bench_die("bench_drop load: %s", strerror(errno));
	return bpf_program__fd((*drop)->progs.bench_drop);
}

/* One figure per repetition, as JSON: [{"mean": .., "median": ..}, ..]. */
static inline void bx_print_reps(const struct bench_summary *s, int reps)
{
	int r;

	printf("[");
	for (r = 0; r < reps; r++)
		printf("%s{\"mean\": %.1f, \"median\": %.1f}", r ? ", " : "",
		       s[r].mean, s[r].median);
	printf("]");
}

#endif /* SLUICE_BENCH_XDP_H */
