/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, hostile packets: a seeded packet fuzzer through
 * BPF_PROG_TEST_RUN. Frames come from three sources: valid packets built
 * from random specs (VLANs 0-3, IPv4 options, IPv6 extension headers,
 * fragments, ICMP/ICMPv6 errors, TCP flag soup), the same with the
 * builder's deliberate damage (IHL, lengths, data offset, truncation), and
 * byte-level mutations of both; a few are random bytes. Every output must
 * pass an oracle that knows nothing of the generator:
 *   - exactly one reason counted, and the verdict is its
 *     sluice_reason_verdict();
 *   - XDP_PASS: the frame is byte-for-byte the input;
 *   - XDP_TX/XDP_REDIRECT: Ethernet to a configured backend's next hop,
 *     an outer header from the configured source to that backend with
 *     consistent lengths (and a valid IPv4 checksum), then the input's IP
 *     packet unchanged: a well-formed IPv4/IPv6 header whose length fits
 *     the frame, carrying TCP/UDP (a non-fragment of a VIP the backend
 *     serves) or an ICMP too-big error quoting a packet from that VIP;
 *   - icmp_toobig: the input was a TCP/UDP packet (IPv4: with DF) for a
 *     VIP whose backend's next-hop MTU it exceeds once encapsulated, and
 *     the output is the ICMP error back to its sender: MACs swapped,
 *     headers and checksums valid, the MTU left after the outer header,
 *     the input's packet quoted.
 * The reasons add up to the packets run. Afterwards, the flow tables:
 * every sl_flows entry has a known state, no flag but CONFIRMED and a
 * configured backend; no more flows are confirmed than the backends'
 * confirmed counters say; the drain table is empty (no backend drains here, and
 * only a draining backend's confirmed flows may enter it); every
 * sl_new_tags entry is its slot's tag (abi.h).
 *
 * SLUICE_FUZZ_SEED sets the seed (default fixed, always printed),
 * SLUICE_FUZZ_ITERS the number of packets. A failure prints the seed, the
 * iteration and both frames.
 */
#include "../lib/bpftest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define FUZZ_SEED_DEFAULT	0x5111ce0f022ULL
#define FUZZ_ITERS_DEFAULT	200000
/* Under this many packets not every reason can be expected to show up. */
#define FUZZ_COVERAGE_MIN	10000
/* test-run takes at most a page minus head- and tailroom for XDP. */
#define FUZZ_FRAME_MAX		3000

#define VIP4		"198.18.0.100"
#define VIP4_ANY	"198.18.0.101"	/* port 0, IPv6 backends (4in6) */
#define VIP4_EMPTY	"198.18.0.110"
#define VIP4_NO_NH	"198.18.0.111"
#define VIP4_REDIR	"198.18.0.112"
#define VIP4_MTU	"198.18.0.113"	/* backend behind a 600-byte MTU */
#define VIP6		"fd00::100"
#define VIP6_MTU	"fd00::113"	/* backend behind a 1000-byte MTU */
#define OTHER4		"198.18.0.200"
#define OTHER6		"fd00::200"
#define NO_SUCH_IFINDEX	0x7ffe

static const char *const be4[] = { "198.18.1.10", "198.18.1.11", "198.18.1.12", NULL };
static const char *const be6[] = { "fd00:be::10", "fd00:be::11", NULL };
static const char *const be_nh[] = { "198.18.1.30", NULL };
static const char *const be_redir[] = { "198.18.1.40", NULL };
static const char *const be_mtu4[] = { "198.18.1.50", NULL };
static const char *const be_mtu6[] = { "fd00:be::50", NULL };

static const char *const dst4[] = {
	VIP4, VIP4, VIP4, VIP4_ANY, VIP4_EMPTY, VIP4_NO_NH, VIP4_REDIR, OTHER4,
	VIP4_MTU,
};
static const char *const dst6[] = { VIP6, VIP6, VIP6, OTHER6, VIP6_MTU };
static const char *const client4[] = { "198.18.2.1", "198.18.2.2" };
static const char *const client6[] = { "fd00:c::1", "fd00:c::2" };
static const char *const router4[] = { "198.18.3.1" };
static const char *const router6[] = { "fd00:3::1" };
static const __u16 ports[] = { 80, 80, 53, 443, 22, 0 };

#include "array.h"

static int setup(void **state)
{
	struct bt *t = bt_open(BT_RING_SMALL);
	struct sluice_backend be;
	__u32 id;
	int other;

	bt_vip_add(t, VIP4, 80, IPPROTO_TCP, be4);
	bt_vip_add(t, VIP4, 53, IPPROTO_UDP, be4);
	bt_vip_add(t, VIP4_ANY, 0, IPPROTO_TCP, be6);
	bt_vip_add(t, VIP6, 80, IPPROTO_TCP, be6);
	bt_vip_add(t, VIP6, 443, IPPROTO_UDP, be4);		/* 6in4 */
	bt_vip_add(t, VIP4_EMPTY, 80, IPPROTO_TCP, NULL);
	bt_vip_add(t, VIP4_NO_NH, 80, IPPROTO_TCP, be_nh);
	bt_vip_add(t, VIP4_REDIR, 80, IPPROTO_TCP, be_redir);
	bt_vip_add(t, VIP4_MTU, 80, IPPROTO_TCP, be_mtu4);
	bt_vip_add(t, VIP6_MTU, 80, IPPROTO_TCP, be_mtu6);

	/* Next hop out of an interface that is not in sl_tx_ports. */
	id = t->vips[6].be_id[0];
	be = *bt_backend(t, id);
	be.ifindex = NO_SUCH_IFINDEX;
	bt_backend_update(t, id, &be);
	/* Next hop out of another interface that is: XDP_REDIRECT. */
	other = bt_other_ifindex();
	id = t->vips[7].be_id[0];
	be = *bt_backend(t, id);
	be.ifindex = other;
	bt_backend_update(t, id, &be);
	CHECK_INT(CHECK_HERE, sl_tx_port_add(&t->maps, other), 0);
	/* Small next-hop MTUs: bigger packets for these VIPs meet too-big. */
	id = t->vips[8].be_id[0];
	be = *bt_backend(t, id);
	be.mtu = 600;
	bt_backend_update(t, id, &be);
	id = t->vips[9].be_id[0];
	be = *bt_backend(t, id);
	be.mtu = 1000;
	bt_backend_update(t, id, &be);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	bt_close(*state);
	return 0;
}

/* --- random numbers: splitmix64, one stream per (seed, iteration) ------- */

struct rng {
	__u64 s;
};

static __u64 rng_next(struct rng *r)
{
	__u64 z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static __u32 rnd(struct rng *r, __u32 n)
{
	return n ? (__u32)(rng_next(r) % n) : 0;
}

/* True with probability pct %. */
static int chance(struct rng *r, __u32 pct)
{
	return rnd(r, 100) < pct;
}

#define PICK(r, a)	((a)[rnd((r), ARRAY_SIZE(a))])

/* --- the generator -------------------------------------------------------- */

/* A spec and the quoted/tunnelled packet it may point to. */
struct gen {
	struct pkt_spec s;
	struct pkt_spec inner;
};

static void gen_ext(struct rng *r, struct pkt_spec *s)
{
	static const __u8 types[] = {
		IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
		IPPROTO_FRAGMENT,
	};
	int i;

	s->next = chance(r, 70) ? 1 + rnd(r, 4) : 1 + rnd(r, PKT_MAX_EXT);
	for (i = 0; i < s->next; i++) {
		s->ext[i].type = chance(r, 85) ? PICK(r, types) : types[0];
		if (s->ext[i].type == IPPROTO_FRAGMENT && chance(r, 50))
			s->ext[i].type = IPPROTO_DSTOPTS;
		s->ext[i].hdrlen = chance(r, 80) ? rnd(r, 2) : rnd(r, 8);
		s->ext[i].frag_off = chance(r, 50) ? 0 : rnd(r, 200);
		s->ext[i].frag_mf = rnd(r, 2);
	}
}

/* Common IP-level choices: TOS, DF, options or extension headers, fragments. */
static void gen_ip(struct rng *r, struct pkt_spec *s, int v6)
{
	s->tos = chance(r, 20) ? rnd(r, 256) : 0;
	s->ttl = chance(r, 10) ? rnd(r, 256) : 0;
	s->ip_id = rnd(r, 65536);
	if (v6) {
		if (chance(r, 25))
			gen_ext(r, s);
		return;
	}
	s->df = rnd(r, 2);
	if (chance(r, 20))
		s->opt_len = 4 * rnd(r, 11);
	if (chance(r, 10)) {
		s->df = 0;
		s->mf = rnd(r, 2);
		s->frag_off = chance(r, 50) ? 0 : 1 + rnd(r, 400);
		if (!s->mf && !s->frag_off)
			s->mf = 1;
	}
}

/* A reply from a VIP (or not) to a client, as a router quotes it. */
static void gen_quote(struct rng *r, struct pkt_spec *in, int v6)
{
	static const __u8 protos[] = {
		IPPROTO_TCP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDP, IPPROTO_ICMP,
		IPPROTO_GRE,
	};

	memset(in, 0, sizeof(*in));
	in->src = v6 ? PICK(r, dst6) : PICK(r, dst4);
	in->dst = v6 ? PICK(r, client6) : PICK(r, client4);
	in->proto = PICK(r, protos);
	if (v6 && in->proto == IPPROTO_ICMP)
		in->proto = IPPROTO_ICMPV6;
	in->sport = PICK(r, ports);
	in->dport = 40000 + rnd(r, 32);
	in->tcp_flags = PKT_TCP_ACK;
	in->payload_len = rnd(r, 1400);
	in->df = 1;
	if (chance(r, 10))
		gen_ip(r, in, v6);
}

static void gen_icmp(struct rng *r, struct gen *g, int v6)
{
	static const __u16 cuts[] = { 0, 0, 0, 8, 20, 24, 27, 28, 40, 44, 47, 48, 64 };
	struct pkt_spec *s = &g->s;

	s->src = v6 ? PICK(r, router6) : PICK(r, router4);
	s->proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	if (chance(r, 5))	/* the other family's ICMP */
		s->proto = v6 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	if (chance(r, 70)) {
		s->icmp_type = v6 ? 2 : 3;	/* packet too big / unreachable */
		s->icmp_code = v6 ? 0 : 4;	/* frag needed */
	} else {
		s->icmp_type = rnd(r, 256);
		s->icmp_code = chance(r, 50) ? rnd(r, 16) : 0;
	}
	s->icmp_mtu = chance(r, 80) ? 1280 + rnd(r, 200) : rng_next(r);
	if (chance(r, 85)) {
		/* The quote is usually the same family, not always. */
		gen_quote(r, &g->inner, chance(r, 95) ? v6 : !v6);
		s->inner = &g->inner;
		s->inner_len = PICK(r, cuts);
		if (!s->inner_len && chance(r, 50))
			s->inner_len = 28 + rnd(r, 600);
		/* Quoting the VIP the error goes to is the useful case. */
		if (chance(r, 70) && !strchr(g->inner.src, ':') == !v6)
			s->dst = g->inner.src;
	} else {
		s->payload_len = rnd(r, 64);
	}
}

/* A valid frame's spec, with nothing damaged yet. */
static void gen_spec(struct rng *r, struct gen *g)
{
	struct pkt_spec *s = &g->s;
	int v6 = rnd(r, 2), i;
	__u32 p = rnd(r, 100);

	memset(g, 0, sizeof(*g));
	s->src = v6 ? PICK(r, client6) : PICK(r, client4);
	s->dst = v6 ? PICK(r, dst6) : PICK(r, dst4);
	if (p < 45) {
		s->proto = IPPROTO_TCP;
		/* Typical flags mostly, flag soup otherwise. */
		if (chance(r, 60)) {
			static const __u8 flags[] = {
				PKT_TCP_SYN, PKT_TCP_SYN, PKT_TCP_ACK,
				PKT_TCP_ACK | PKT_TCP_PSH, PKT_TCP_FIN | PKT_TCP_ACK,
				PKT_TCP_RST, PKT_TCP_RST | PKT_TCP_ACK,
				PKT_TCP_SYN | PKT_TCP_ACK,
			};
			s->tcp_flags = PICK(r, flags);
		} else {
			s->tcp_flags = rnd(r, 256);
		}
		s->seq = rng_next(r);
		s->ack = rng_next(r);
	} else if (p < 70) {
		s->proto = IPPROTO_UDP;
	} else if (p < 92) {
		gen_icmp(r, g, v6);
	} else {
		static const __u8 others[] = {
			IPPROTO_GRE, IPPROTO_SCTP, IPPROTO_IPIP, IPPROTO_IPV6, 0, 255,
		};

		s->proto = PICK(r, others);
		if (s->proto == IPPROTO_IPIP || s->proto == IPPROTO_IPV6) {
			gen_quote(r, &g->inner, s->proto == IPPROTO_IPV6);
			g->inner.proto = IPPROTO_TCP;
			s->inner = &g->inner;
		}
	}
	/* Few client ports, so later packets find the flows earlier ones made. */
	s->sport = 40000 + rnd(r, 32);
	if (chance(r, 15))
		s->dport = chance(r, 50) ? PICK(r, ports) : rnd(r, 65536);
	else if (s->proto == IPPROTO_UDP)
		s->dport = v6 ? 443 : 53;
	else
		s->dport = chance(r, 80) ? 80 : 8080;	/* 8080: the port-0 VIP */
	if (!s->payload_len)
		s->payload_len = chance(r, 80) ? rnd(r, 200) : rnd(r, 1400);
	gen_ip(r, s, v6);
	if (chance(r, 25)) {
		s->nvlans = chance(r, 80) ? 1 + rnd(r, 2) : PKT_MAX_VLANS;
		for (i = 0; i < s->nvlans; i++) {
			s->vlan_tpid[i] = chance(r, 70) ? 0x8100 : 0x88a8;
			s->vlan_id[i] = rnd(r, 4096);
		}
	}
	if (chance(r, 15))
		s->trailer = chance(r, 70) ? rnd(r, 8) : rnd(r, 64);
}

/* The builder's deliberate damage: lengths, header lengths, truncation. */
static void gen_damage(struct rng *r, struct pkt_spec *s)
{
	int n = 1 + rnd(r, 2);

	while (n--) {
		switch (rnd(r, 8)) {
		case 0:
			s->ihl = rnd(r, 16);
			break;
		case 1:
			s->version = rnd(r, 16);
			break;
		case 2:
			s->len_adj = chance(r, 50) ? (int)rnd(r, 9) - 4
						   : (int)rnd(r, 200) - 100;
			break;
		case 3:
			s->doff = rnd(r, 16);
			break;
		case 4:
			s->udp_len_adj = chance(r, 50) ? (int)rnd(r, 9) - 4
						       : (int)rnd(r, 200) - 100;
			break;
		case 5:
			s->l4_trunc = 1 + rnd(r, 24);
			break;
		case 6:
			s->frame_len = PKT_ETH_LEN + rnd(r, 80);
			break;
		case 7:
			s->inner_len = rnd(r, 60);
			break;
		}
	}
}

/* Offset of the IP header as the frame's own VLAN tags say (max 3). */
static __u32 frame_l3_off(const struct pkt *p)
{
	__u32 off = 12;

	while (off + 4 <= p->len && off < 12 + 4 * 3 &&
	       ((p->data[off] == 0x81 && p->data[off + 1] == 0x00) ||
		(p->data[off] == 0x88 && p->data[off + 1] == 0xa8)))
		off += 4;
	return off + 2;
}

static void put16(__u8 *b, __u16 v)
{
	b[0] = v >> 8;
	b[1] = v;
}

/* Byte-level damage to a built frame; the length stays >= 14. */
static void mutate(struct rng *r, struct pkt *p)
{
	static const __u8 protos[] = { 0, 1, 6, 17, 43, 44, 58, 60 };
	__u32 l3 = frame_l3_off(p), i, off, span;
	int n = 1 + rnd(r, 3);

	while (n--) {
		span = p->len < 128 ? p->len : 128;	/* headers live here */
		switch (rnd(r, 12)) {
		case 0:		/* flip a bit */
			off = rnd(r, span);
			p->data[off] ^= 1 << rnd(r, 8);
			break;
		case 1:		/* a random byte */
			p->data[rnd(r, span)] = rnd(r, 256);
			break;
		case 2:		/* an IPv4 or IPv6 length field */
			if (l3 + 6 <= p->len)
				put16(p->data + l3 + ((p->data[l3] >> 4) == 6 ? 4 : 2),
				      chance(r, 50) ? rnd(r, 65536) : rnd(r, 128));
			break;
		case 3:		/* the IHL / version byte */
			if (l3 < p->len)
				p->data[l3] = chance(r, 50) ? 0x40 | rnd(r, 16) : rnd(r, 256);
			break;
		case 4:		/* IPv4 fragment bits */
			if (l3 + 8 <= p->len)
				put16(p->data + l3 + 6, rnd(r, 65536));
			break;
		case 5:		/* protocol / next header */
			if (l3 + 10 <= p->len)
				p->data[l3 + ((p->data[l3] >> 4) == 6 ? 6 : 9)] =
					chance(r, 50) ? PICK(r, protos) : rnd(r, 256);
			break;
		case 6:		/* truncate */
			p->len = PKT_ETH_LEN + rnd(r, p->len - PKT_ETH_LEN + 1);
			break;
		case 7:		/* append junk */
			off = rnd(r, 64);
			for (i = 0; i < off && p->len < FUZZ_FRAME_MAX; i++)
				p->data[p->len++] = rnd(r, 256);
			break;
		case 8:		/* insert a VLAN tag before the ethertype */
			if (p->len + 4 <= FUZZ_FRAME_MAX) {
				memmove(p->data + 16, p->data + 12, p->len - 12);
				put16(p->data + 12, chance(r, 50) ? 0x8100 : 0x88a8);
				put16(p->data + 14, rnd(r, 4096));
				p->len += 4;
				l3 += 4;
			}
			break;
		case 9:		/* the L4 header's first bytes: ports, lengths, flags */
			if (p->l4_off && p->l4_off + 16 <= p->len)
				p->data[p->l4_off + rnd(r, 16)] = rnd(r, 256);
			break;
		case 10:	/* the ICMP quote's header */
			if (p->l4_off && p->l4_off + 8 + 12 <= p->len)
				p->data[p->l4_off + 8 + rnd(r, 12)] = rnd(r, 256);
			break;
		case 11:	/* the ethertype */
			p->data[l3 - 2] = chance(r, 50) ? 0x86 : 0x08;
			p->data[l3 - 1] = chance(r, 50) ? 0xdd : 0x00;
			break;
		}
	}
}

/* Random bytes behind a plausible Ethernet header (sometimes). */
static void gen_random(struct rng *r, struct pkt *p)
{
	static const __u16 types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806 };
	__u32 i;

	memset(p, 0, sizeof(*p));
	p->len = PKT_ETH_LEN + rnd(r, chance(r, 80) ? 120 : 1500);
	for (i = 0; i < p->len; i++)
		p->data[i] = rnd(r, 256);
	if (chance(r, 80))
		put16(p->data + 12, PICK(r, types));
	p->l3_off = PKT_ETH_LEN;
	if (p->len > 34 && chance(r, 50)) {
		__u16 et = (__u16)(p->data[12] << 8 | p->data[13]);
		struct sluice_addr a;
		__u8 fam;

		if (et == 0x0800) {
			p->data[14] = 0x45;
			pkt_addr(PICK(r, dst4), &a, &fam);
			memcpy(p->data + 14 + 16, &a.addr[0], 4);
		} else if (et == 0x86dd && p->len >= 54) {
			p->data[14] = 0x60;
			pkt_addr(PICK(r, dst6), &a, &fam);
			memcpy(p->data + 14 + 24, &a, 16);
		}
	}
}

/* One packet of iteration @iter. */
static void gen_packet(__u64 seed, __u64 iter, struct pkt *p)
{
	struct rng r = { .s = seed ^ (iter * 0xd1342543de82ef95ULL) };
	struct gen g;
	__u32 kind;

	rng_next(&r);
	kind = rnd(&r, 100);
	if (kind < 8) {
		gen_random(&r, p);
		return;
	}
	do {
		gen_spec(&r, &g);
		if (kind >= 60)
			gen_damage(&r, &g.s);
		/* A damage the builder cannot express: start over. */
	} while (pkt_build(&g.s, p) || p->len > FUZZ_FRAME_MAX);
	if ((kind >= 40 && kind < 60) || (kind >= 85))
		mutate(&r, p);
	if (p->len < PKT_ETH_LEN)
		p->len = PKT_ETH_LEN;
}

/* --- the oracle ----------------------------------------------------------- */

static __u16 get16(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

static int is_ext6(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_FRAGMENT;
}

/* An inner IP packet as the oracle reads it. */
struct ip_view {
	int v6;
	__u32 tot;		/* total length from its header */
	__u32 l4_off, l4_len;	/* upper layer, within tot */
	__u8 proto;		/* after extension headers */
	int frag;
	const __u8 *src, *dst;	/* 4 or 16 bytes */
};

#define ORACLE_FAIL(...)	do { snprintf(why, whylen, __VA_ARGS__); return -1; } while (0)

/* Parse the IP packet at @ip with @avail bytes after it in the frame. */
static int view_ip(const __u8 *ip, __u32 avail, struct ip_view *v,
		   char *why, size_t whylen)
{
	__u32 o, hl;
	__u8 nh;
	int i;

	memset(v, 0, sizeof(*v));
	if (avail < 1)
		ORACLE_FAIL("inner: no IP header");
	if ((ip[0] >> 4) == 4) {
		if (avail < 20)
			ORACLE_FAIL("inner IPv4: %u bytes, under a header", avail);
		hl = (ip[0] & 0xf) * 4;
		v->tot = get16(ip + 2);
		if (hl < 20 || v->tot < hl || v->tot > avail)
			ORACLE_FAIL("inner IPv4: IHL %u, tot_len %u, %u bytes in the frame",
				    hl / 4, v->tot, avail);
		v->proto = ip[9];
		v->frag = !!(get16(ip + 6) & 0x3fff);
		v->l4_off = hl;
		v->l4_len = v->tot - hl;
		v->src = ip + 12;
		v->dst = ip + 16;
		return 0;
	}
	if ((ip[0] >> 4) != 6)
		ORACLE_FAIL("inner: IP version %u", ip[0] >> 4);
	if (avail < 40)
		ORACLE_FAIL("inner IPv6: %u bytes, under a header", avail);
	v->v6 = 1;
	v->tot = 40 + get16(ip + 4);
	if (v->tot > avail)
		ORACLE_FAIL("inner IPv6: payload_len %u past the frame (%u bytes)",
			    v->tot - 40, avail);
	v->src = ip + 8;
	v->dst = ip + 24;
	nh = ip[6];
	o = 40;
	for (i = 0; i < SLUICE_MAX_IPV6_EXTHDRS && is_ext6(nh); i++) {
		__u8 next;

		if (o + 8 > v->tot)
			ORACLE_FAIL("inner IPv6: extension header %d past payload_len", i);
		next = ip[o];
		v->frag |= nh == IPPROTO_FRAGMENT;
		o += nh == IPPROTO_FRAGMENT ? 8 : (ip[o + 1] + 1) * 8;
		nh = next;
	}
	if (is_ext6(nh))
		ORACLE_FAIL("inner IPv6: more than %d extension headers",
			    SLUICE_MAX_IPV6_EXTHDRS);
	if (o > v->tot)
		ORACLE_FAIL("inner IPv6: extension headers end at %u, past %u", o, v->tot);
	v->proto = nh;
	v->l4_off = o;
	v->l4_len = v->tot - o;
	return 0;
}

/* Its TCP or UDP header lies within the IP length and is sane. */
static int check_l4(const __u8 *ip, const struct ip_view *v, char *why,
		    size_t whylen)
{
	const __u8 *l4 = ip + v->l4_off;

	if (v->proto == IPPROTO_TCP) {
		if (v->l4_len < 20 || (l4[12] >> 4) < 5 ||
		    (__u32)(l4[12] >> 4) * 4 > v->l4_len)
			ORACLE_FAIL("inner TCP: %u bytes, data offset %u", v->l4_len,
				    l4[12] >> 4);
		return 0;
	}
	if (v->proto == IPPROTO_UDP) {
		if (v->l4_len < 8 || get16(l4 + 4) < 8 || get16(l4 + 4) > v->l4_len)
			ORACLE_FAIL("inner UDP: %u bytes, length field %u", v->l4_len,
				    v->l4_len >= 8 ? get16(l4 + 4) : 0);
		return 0;
	}
	ORACLE_FAIL("inner protocol %u forwarded (expected TCP or UDP)", v->proto);
}

/* The VIP that backend @be serves, found by its vip_id. */
static const struct bt_vip *be_vip(const struct bt *t,
				   const struct sluice_backend *be)
{
	int i;

	for (i = 0; i < t->nvips; i++)
		if (t->vips[i].vip_id == be->vip_id)
			return &t->vips[i];
	return NULL;
}

/* Does VIP @v serve (addr, proto, port)? */
static int vip_serves(const struct bt_vip *v, int v6, const __u8 *addr,
		      __u8 proto, __u16 port)
{
	return v && v->key.family == (v6 ? SLUICE_AF_INET6 : SLUICE_AF_INET) &&
	       !memcmp(&v->key.addr, addr, v6 ? 16 : 4) && v->key.proto == proto &&
	       (!v->key.port || ntohs(v->key.port) == port);
}

/* A forwarded TCP/UDP packet: not a fragment, of a VIP the backend serves. */
static int check_fwd(const struct bt *t, const __u8 *ip, const struct ip_view *v,
		     const struct sluice_backend *be, char *why, size_t whylen)
{
	if (v->frag)
		ORACLE_FAIL("a fragment was forwarded");
	if (check_l4(ip, v, why, whylen))
		return -1;
	if (!vip_serves(be_vip(t, be), v->v6, v->dst, v->proto,
			get16(ip + v->l4_off + 2)))
		ORACLE_FAIL("forwarded to a backend of VIP id %u, which does not serve "
			    "the packet's destination", be->vip_id);
	return 0;
}

/* A forwarded ICMP too-big error quoting a packet from a VIP of the backend. */
static int check_icmp(const struct bt *t, const __u8 *ip, const struct ip_view *v,
		      const struct sluice_backend *be, char *why, size_t whylen)
{
	const __u8 *ic = ip + v->l4_off, *q = ic + 8;
	__u32 qhl = v->v6 ? 40 : 20;
	__u8 qproto;

	if (v->frag)
		ORACLE_FAIL("an ICMP fragment was forwarded");
	if (v->proto != (v->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
		ORACLE_FAIL("icmp_* reason for inner protocol %u", v->proto);
	if (v->l4_len < 8 + qhl + 4)
		ORACLE_FAIL("ICMP error of %u bytes cannot quote a header and ports",
			    v->l4_len);
	if (v->v6 ? ic[0] != 2 : (ic[0] != 3 || ic[1] != 4))
		ORACLE_FAIL("forwarded ICMP type %u code %u is not too-big", ic[0], ic[1]);
	if (v->v6 ? (q[0] >> 4) != 6 : q[0] != 0x45)
		ORACLE_FAIL("quoted header starts with %#04x", q[0]);
	qproto = q[v->v6 ? 6 : 9];
	if (qproto != IPPROTO_TCP && qproto != IPPROTO_UDP)
		ORACLE_FAIL("quoted protocol %u", qproto);
	if (memcmp(q + (v->v6 ? 8 : 12), v->dst, v->v6 ? 16 : 4))
		ORACLE_FAIL("quoted packet is not from the address the error went to");
	if (!vip_serves(be_vip(t, be), v->v6, v->dst, qproto, get16(q + qhl)))
		ORACLE_FAIL("error sent to a backend of VIP id %u, which does not serve "
			    "the quoted flow", be->vip_id);
	return 0;
}

/* The backend an encapsulated frame went to, by outer address and MAC. */
static const struct sluice_backend *find_backend(const struct bt *t, int v6,
						 const __u8 *daddr, const __u8 *dmac)
{
	__u32 i;

	for (i = 0; i < t->next_be_id - BT_BE_ID_BASE; i++) {
		const struct sluice_backend *be = &t->be[i];

		if (be->family == (v6 ? SLUICE_AF_INET6 : SLUICE_AF_INET) &&
		    !memcmp(&be->addr, daddr, v6 ? 16 : 4) &&
		    !memcmp(be->dmac, dmac, 6))
			return be;
	}
	return NULL;
}

/* Ethernet and 0-2 VLAN tags in front of the inner packet, as sluice parses. */
static int check_l2(const struct pkt *in, __u32 l3, int inner_v6, char *why,
		    size_t whylen)
{
	__u32 off;

	if (l3 != 14 && l3 != 18 && l3 != 22)
		ORACLE_FAIL("inner packet starts at input offset %u", l3);
	for (off = 12; off < l3 - 2; off += 4)
		if (get16(in->data + off) != 0x8100 && get16(in->data + off) != 0x88a8)
			ORACLE_FAIL("input has no VLAN tag at %u, yet its IP header is at %u",
				    off, l3);
	if (get16(in->data + l3 - 2) != (inner_v6 ? 0x86dd : 0x0800))
		ORACLE_FAIL("input ethertype %#06x for an IPv%d inner packet",
			    get16(in->data + l3 - 2), inner_v6 ? 6 : 4);
	return 0;
}

static int check_encap(const struct bt *t, const struct pkt *in,
		       const struct bt_result *r, int icmp, char *why,
		       size_t whylen)
{
	const __u8 *o = r->out + PKT_ETH_LEN, *ip;
	const struct sluice_backend *be;
	struct sluice_addr src;
	struct ip_view v;
	__u32 ol, avail, l3;
	__u8 fam;
	int ov6;

	if (r->out_len < PKT_ETH_LEN + 20)
		ORACLE_FAIL("forwarded frame of %u bytes", r->out_len);
	if (get16(r->out + 12) == 0x0800 && o[0] == 0x45) {
		ov6 = 0;
		ol = 20;
	} else if (get16(r->out + 12) == 0x86dd && (o[0] >> 4) == 6 &&
		   r->out_len >= PKT_ETH_LEN + 40) {
		ov6 = 1;
		ol = 40;
	} else {
		ORACLE_FAIL("outer header: ethertype %#06x, first byte %#04x",
			    get16(r->out + 12), o[0]);
	}
	ip = o + ol;
	avail = r->out_len - PKT_ETH_LEN - ol;
	if (avail > in->len)
		ORACLE_FAIL("inner part (%u bytes) longer than the input (%u)", avail,
			    in->len);
	l3 = in->len - avail;
	if (memcmp(ip, in->data + l3, avail))
		ORACLE_FAIL("inner packet differs from the input's IP packet");
	if (view_ip(ip, avail, &v, why, whylen) ||
	    check_l2(in, l3, v.v6, why, whylen))
		return -1;
	/* Past the inner total length only the input's own trailer may follow. */

	be = find_backend(t, ov6, o + (ov6 ? 24 : 16), r->out);
	if (!be)
		ORACLE_FAIL("outer destination / next-hop MAC is no configured backend");
	if (memcmp(r->out + 6, be->smac, 6))
		ORACLE_FAIL("Ethernet source is not the backend's egress MAC");
	if (ov6) {
		CHECK_INT(CHECK_HERE, pkt_addr(BT_SRC6, &src, &fam), 0);
		if (get16(o + 4) != v.tot)
			ORACLE_FAIL("outer payload_len %u, inner total length %u",
				    get16(o + 4), v.tot);
		if (o[6] != (v.v6 ? IPPROTO_IPV6 : IPPROTO_IPIP) ||
		    o[7] != SLUICE_OUTER_TTL)
			ORACLE_FAIL("outer next header %u, hop limit %u", o[6], o[7]);
		if (memcmp(o + 8, &src, 16))
			ORACLE_FAIL("outer IPv6 source is not the configured one");
	} else {
		CHECK_INT(CHECK_HERE, pkt_addr(BT_SRC4, &src, &fam), 0);
		if (get16(o + 2) != v.tot + 20)
			ORACLE_FAIL("outer tot_len %u, inner total length %u",
				    get16(o + 2), v.tot);
		if (!pkt_ipv4_csum_ok(o, 20))
			ORACLE_FAIL("outer IPv4 checksum");
		if (o[9] != (v.v6 ? IPPROTO_IPV6 : IPPROTO_IPIP) ||
		    o[8] != SLUICE_OUTER_TTL)
			ORACLE_FAIL("outer protocol %u, TTL %u", o[9], o[8]);
		if (get16(o + 6) & 0xbfff)
			ORACLE_FAIL("outer fragment field %#06x", get16(o + 6));
		if (memcmp(o + 12, &src.addr[0], 4))
			ORACLE_FAIL("outer IPv4 source is not the configured one");
	}
	if ((r->verdict == XDP_TX) != (be->ifindex == BT_TEST_IFINDEX))
		ORACLE_FAIL("verdict %s for a next hop on ifindex %u",
			    sl_verdict_name(r->verdict), be->ifindex);
	return icmp ? check_icmp(t, ip, &v, be, why, whylen)
		    : check_fwd(t, ip, &v, be, why, whylen);
}

/* A backend with a known MTU whose VIP serves the client packet @v. */
static const struct sluice_backend *mtu_backend(const struct bt *t,
						const struct ip_view *v,
						__u16 dport)
{
	__u32 i;

	for (i = 0; i < t->next_be_id - BT_BE_ID_BASE; i++)
		if (t->be[i].mtu &&
		    vip_serves(be_vip(t, &t->be[i]), v->v6, v->dst, v->proto, dport))
			return &t->be[i];
	return NULL;
}

/* The ICMP error's own header fields, after the Ethernet header. */
static int check_toobig_hdr(const __u8 *ip, const struct ip_view *v,
			    __u32 len, __u32 mtu, char *why, size_t whylen)
{
	const __u8 *ic = ip + (v->v6 ? 40 : 20);

	if (v->v6) {
		if ((ip[0] >> 4) != 6 || get16(ip + 4) != len - 40 || ip[6] != 58)
			ORACLE_FAIL("too-big IPv6 header: %#04x, payload_len %u, next %u",
				    ip[0], get16(ip + 4), ip[6]);
		if (ic[0] != 2 || ic[1] != 0 ||
		    (__u32)(get16(ic + 4) << 16 | get16(ic + 6)) != mtu)
			ORACLE_FAIL("ICMPv6 type %u code %u MTU %u, expected 2/0/%u",
				    ic[0], ic[1], get16(ic + 4) << 16 | get16(ic + 6), mtu);
	} else {
		if (ip[0] != 0x45 || get16(ip + 2) != len || ip[9] != IPPROTO_ICMP ||
		    !pkt_ipv4_csum_ok(ip, 20))
			ORACLE_FAIL("too-big IPv4 header: %#04x, tot_len %u, proto %u",
				    ip[0], get16(ip + 2), ip[9]);
		if (ic[0] != 3 || ic[1] != 4 || get16(ic + 4) || get16(ic + 6) != mtu)
			ORACLE_FAIL("ICMP type %u code %u MTU %u, expected 3/4/%u",
				    ic[0], ic[1], get16(ic + 6), mtu);
	}
	if (memcmp(ip + (v->v6 ? 8 : 12), v->dst, v->v6 ? 16 : 4) ||
	    memcmp(ip + (v->v6 ? 24 : 16), v->src, v->v6 ? 16 : 4))
		ORACLE_FAIL("too-big error is not from the VIP to the client");
	if (pkt_l4_csum_ok(ip, len) != 1)
		ORACLE_FAIL("too-big ICMP checksum");
	return 0;
}

/* An ICMP too-big reply: the input could not fit its backend's MTU. */
static int check_toobig(const struct bt *t, const struct pkt *in,
			const struct bt_result *r, char *why, size_t whylen)
{
	__u32 l3 = frame_l3_off(in), quote, hl, ovh;
	const struct sluice_backend *be;
	const __u8 *cip;
	struct ip_view v;

	if (l3 > 22 || l3 >= in->len)
		ORACLE_FAIL("too-big reply to a frame with IP at offset %u", l3);
	cip = in->data + l3;
	if (view_ip(cip, in->len - l3, &v, why, whylen) ||
	    check_l2(in, l3, v.v6, why, whylen) || check_l4(cip, &v, why, whylen))
		return -1;
	if (v.frag)
		ORACLE_FAIL("too-big reply to a fragment");
	if (!v.v6 && !(get16(cip + 6) & 0x4000))
		ORACLE_FAIL("too-big reply to IPv4 without DF");
	be = mtu_backend(t, &v, get16(cip + v.l4_off + 2));
	if (!be)
		ORACLE_FAIL("too-big reply for a flow no MTU-limited backend serves");
	ovh = be->family == SLUICE_AF_INET ? 20 : 40;
	if (v.tot + ovh <= be->mtu)
		ORACLE_FAIL("too-big reply to %u bytes, which fit MTU %u", v.tot,
			    be->mtu);
	hl = v.v6 ? 48 : 28;
	quote = v.v6 ? (v.tot < 1232 ? v.tot : 1232) : v.l4_off + 8;
	if (r->out_len != l3 + hl + quote)
		ORACLE_FAIL("too-big reply of %u bytes, expected %u", r->out_len,
			    l3 + hl + quote);
	if (memcmp(r->out, in->data + 6, 6) || memcmp(r->out + 6, in->data, 6) ||
	    memcmp(r->out + 12, in->data + 12, l3 - 12))
		ORACLE_FAIL("too-big Ethernet header is not the input's, MACs swapped");
	if (memcmp(r->out + l3 + hl, cip, quote))
		ORACLE_FAIL("too-big quote differs from the client's packet");
	return check_toobig_hdr(r->out + l3, &v, hl + quote, be->mtu - ovh, why,
				whylen);
}

/* --- the runner ------------------------------------------------------------ */

struct fuzz {
	struct bt *t;
	__u64 seed;
	__u64 iters;
	int ncpu;
	__u64 *vals;			/* SLUICE_R_MAX * ncpu */
	__u64 reasons[SLUICE_R_MAX];	/* summed, as of the last read */
	__u64 seen[SLUICE_R_MAX];	/* per reason, from the diffs */
};

/* All reasons summed over CPUs, one batch syscall (fallback: per key). */
static void fuzz_reasons(struct fuzz *f, __u64 out[SLUICE_R_MAX])
{
	__u32 keys[SLUICE_R_MAX], count = SLUICE_R_MAX, batch, i;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int err, cpu;

	err = bpf_map_lookup_batch(f->t->maps.reasons, NULL, &batch, keys,
				   f->vals, &count, &opts);
	if ((err && errno != ENOENT) || count != SLUICE_R_MAX) {
		CHECK_INT(CHECK_HERE, sl_reasons_read(&f->t->maps, out), 0);
		return;
	}
	memset(out, 0, SLUICE_R_MAX * sizeof(*out));
	for (i = 0; i < count; i++) {
		CHECK(CHECK_HERE, keys[i] < SLUICE_R_MAX);
		for (cpu = 0; cpu < f->ncpu; cpu++)
			out[keys[i]] += f->vals[i * f->ncpu + cpu];
	}
}

static void report(const struct fuzz *f, __u64 iter, const struct pkt *in,
		   const struct bt_result *r, const char *why)
{
	print_message("# FUZZ FAILURE: seed %#llx iteration %llu: %s\n",
		      (unsigned long long)f->seed, (unsigned long long)iter, why);
	print_message("# verdict %s, reason %s\n", sl_verdict_name(r->verdict),
		      sl_reason_label(r->reason));
	print_message("# reproduce: SLUICE_FUZZ_SEED=%#llx SLUICE_FUZZ_ITERS=%llu %s\n",
		      (unsigned long long)f->seed, (unsigned long long)iter + 1,
		      "build/tests/bpf/test_fuzz");
	pkt_hexdump("input", in->data, in->len);
	if (r->verdict != XDP_DROP)
		pkt_hexdump("output", r->out, r->out_len);
}

/* Run one packet and judge it. 0, or -1 with @why filled. */
static int fuzz_one(struct fuzz *f, const struct pkt *in, struct bt_result *r,
		    char *why, size_t whylen)
{
	__u64 after[SLUICE_R_MAX];
	int i, counted = 0, err, icmp;

	err = bt_prog_run(f->t->prog_fd, in->data, in->len, r);
	if (err)
		ORACLE_FAIL("BPF_PROG_TEST_RUN: %s", strerror(-err));
	f->t->runs++;
	fuzz_reasons(f, after);
	for (i = 0; i < SLUICE_R_MAX; i++) {
		if (after[i] == f->reasons[i])
			continue;
		counted += (int)(after[i] - f->reasons[i]);
		r->reason = i;
	}
	memcpy(f->reasons, after, sizeof(after));
	if (counted != 1)
		ORACLE_FAIL("%d reasons counted for one packet", counted);
	f->seen[r->reason]++;
	if (r->verdict != sluice_reason_verdict(r->reason))
		ORACLE_FAIL("verdict %d disagrees with reason %s (%s)", r->verdict,
			    sl_reason_label(r->reason),
			    sl_verdict_name(sluice_reason_verdict(r->reason)));
	switch (r->verdict) {
	case XDP_DROP:
		return 0;
	case XDP_PASS:
		if (r->out_len != in->len || memcmp(r->out, in->data, in->len))
			ORACLE_FAIL("passed frame was modified");
		return 0;
	case XDP_TX:
	case XDP_REDIRECT:
		if (r->reason == SLUICE_R_ICMP_TOOBIG)
			return check_toobig(f->t, in, r, why, whylen);
		icmp = r->reason == SLUICE_R_ICMP_TX || r->reason == SLUICE_R_ICMP_REDIRECT;
		return check_encap(f->t, in, r, icmp, why, whylen);
	default:
		ORACLE_FAIL("verdict %d", r->verdict);
	}
}

static __u64 env_u64(const char *name, __u64 def)
{
	const char *s = getenv(name);
	char *end;
	__u64 v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end) {
		print_message("# %s=%s is not a number; using %llu\n", name, s,
			      (unsigned long long)def);
		return def;
	}
	return v;
}

/* The flow-table invariants after the run (see the top of the file). */
static void check_flow_tables(const struct bt *t, __u64 iters)
{
	struct sluice_flow_key key, next;
	struct sluice_be_stats bs;
	__u64 confirmed = 0, unconfirmed = 0, counted = 0, kept = 0;
	struct sluice_flow f;
	void *prev = NULL;
	__u32 id, i = 0;

	while (i < SLUICE_FLOW_SHARDS) {
		if (bpf_map_get_next_key(t->maps.flow_shard[i], prev, &next)) {
			i++;
			prev = NULL;
			continue;
		}
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(t->maps.flow_shard[i], &key, &f))
			continue;	/* evicted while we walked */
		CHECK_EQ("fuzz: sl_flows entry", "in its own shard",
			 sluice_flow_shard(&key), i);
		CHECK_TRUE("fuzz: sl_flows entry", "known state",
			f.state <= SLUICE_FLOW_RESET);
		CHECK_EQ("fuzz: sl_flows entry", "flags other than CONFIRMED",
		      f.flags & ~SLUICE_FLOW_F_CONFIRMED, 0);
		CHECK_TRUE("fuzz: sl_flows entry", "configured backend",
			f.backend_id >= BT_BE_ID_BASE && f.backend_id < t->next_be_id);
		confirmed += !!(f.flags & SLUICE_FLOW_F_CONFIRMED);
		unconfirmed += !(f.flags & SLUICE_FLOW_F_CONFIRMED);
	}
	for (id = BT_BE_ID_BASE; id < t->next_be_id; id++) {
		bt_be_stats(t, id, &bs);
		counted += bs.confirmed;
	}
	prev = NULL;
	while (!bpf_map_get_next_key(t->maps.drain_table, prev, &next)) {
		key = next;
		prev = &key;
		kept++;
	}
	print_message("# fuzz: sl_flows: %llu confirmed, %llu unconfirmed; confirmed counters %llu\n",
		      (unsigned long long)confirmed, (unsigned long long)unconfirmed,
		      (unsigned long long)counted);
	CHECK_TRUE("fuzz", "confirmed flows <= confirmed counters", confirmed <= counted);
	CHECK_EQ("fuzz", "sl_pinned entries (no backend drains)", kept, 0);
	print_message(
		"# fuzz: sl_new: %llu slots in use, every tag its slot's\n",
		(unsigned long long)bt_assert_new_tags(t, "fuzz: sl_new_tags"));
	if (iters < FUZZ_COVERAGE_MIN)
		return;
	/* The generator's flows mostly carry payload: all may be confirmed. */
	CHECK_TRUE("fuzz", "some flows confirmed", confirmed > 0);
}

static void test_fuzz_packets(void **state)
{
	struct fuzz f = { .t = *state };
	static struct bt_result r;
	static struct pkt in;
	struct timespec t0, t1;
	char why[256], line[1024];
	__u64 iter, sum = 0;
	size_t off = 0;
	int i;

	f.seed = env_u64("SLUICE_FUZZ_SEED", FUZZ_SEED_DEFAULT);
	f.iters = env_u64("SLUICE_FUZZ_ITERS", FUZZ_ITERS_DEFAULT);
	f.ncpu = libbpf_num_possible_cpus();
	CHECK(CHECK_HERE, f.ncpu > 0);
	f.vals = calloc((size_t)f.ncpu * SLUICE_R_MAX, sizeof(*f.vals));
	CHECK_NONNULL(CHECK_HERE, f.vals);
	print_message("# fuzz: seed %#llx, %llu packets (SLUICE_FUZZ_SEED, SLUICE_FUZZ_ITERS)\n",
		      (unsigned long long)f.seed, (unsigned long long)f.iters);
	fuzz_reasons(&f, f.reasons);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (iter = 0; iter < f.iters; iter++) {
		gen_packet(f.seed, iter, &in);
		if (fuzz_one(&f, &in, &r, why, sizeof(why))) {
			report(&f, iter, &in, &r, why);
			free(f.vals);
			fail();
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	for (i = 0; i < SLUICE_R_MAX; i++) {
		sum += f.reasons[i];
		if (f.seen[i])
			off += snprintf(line + off, sizeof(line) - off, " %s=%llu",
					sl_reason_label(i), (unsigned long long)f.seen[i]);
	}
	print_message("# fuzz: %llu packets in %.1fs:%s\n",
		      (unsigned long long)f.iters,
		      (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, line);
	free(f.vals);
	CHECK_EQ("fuzz", "sum of all reasons vs packets run", sum, f.t->runs);
	bt_assert_reasons_total(f.t);
	/* No path may reach the exit without a verdict (reserved reason 0). */
	CHECK_EQ("fuzz", "internal_error (a carry-on 0 at the exit)",
	      f.seen[SLUICE_R_INTERNAL], 0);
	check_flow_tables(f.t, f.iters);
	/* A generator that stops reaching a reason has stopped testing it. */
	if (f.iters < FUZZ_COVERAGE_MIN)
		return;
	for (i = 0; i < SLUICE_R_MAX; i++) {
		if (i == SLUICE_R_DROP_ENCAP ||	/* test-run always has headroom */
		    i == SLUICE_R_INTERNAL)	/* must never be reached */
			continue;
		if (!f.seen[i]) {
			print_message("# fuzz: reason %s never reached in %llu packets\n",
				      sl_reason_label(i), (unsigned long long)f.iters);
			fail();
		}
	}
	CHECK_EQ("fuzz", "drop_encap", f.seen[SLUICE_R_DROP_ENCAP], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fuzz_packets, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_fuzz", tests, NULL, NULL);
}
