/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Test packet builder and checksum checkers (see pkt.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "pkt.h"

const __u8 pkt_lb_mac[6] = { 0x02, 0x1b, 0x00, 0x00, 0x00, 0x01 };
const __u8 pkt_peer_mac[6] = { 0x02, 0xc1, 0x00, 0x00, 0x00, 0x01 };

#define PKT_IP_DF	0x4000
#define PKT_IP_MF	0x2000
#define PKT_DEFAULT_TTL	64

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/* --- checksums ------------------------------------------------------- */

/* Sum @len bytes as big-endian 16-bit words (odd tail padded with zero). */
__u32 pkt_csum_add(__u32 sum, const void *data, size_t len)
{
	const __u8 *b = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(b + i);
	if (len & 1)
		sum += (__u32)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* The one's complement of the folded sum: the value to store (host order). */
__u16 pkt_csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Pseudo-header sum for TCP/UDP/ICMPv6 (RFC 793, 768, 8200 section 8.1). */
static __u32 pseudo_sum(const __u8 *ip, __u8 proto, __u32 l4_len)
{
	__u8 tail[8] = {};
	__u32 sum;

	if ((ip[0] >> 4) == 4) {
		sum = pkt_csum_add(0, ip + 12, 8);
		tail[1] = proto;
		put16(tail + 2, l4_len);
		return pkt_csum_add(sum, tail, 4);
	}
	sum = pkt_csum_add(0, ip + 8, 32);
	put32(tail, l4_len);
	tail[7] = proto;
	return pkt_csum_add(sum, tail, 8);
}

static __u16 l4_csum(const __u8 *ip, __u8 proto, const __u8 *l4, __u32 len)
{
	__u32 sum = 0;

	if (proto != IPPROTO_ICMP)
		sum = pseudo_sum(ip, proto, len);
	return pkt_csum_fold(pkt_csum_add(sum, l4, len));
}

int pkt_ipv4_csum_ok(const void *ip, size_t len)
{
	const __u8 *b = ip;
	size_t hl;

	if (len < PKT_IP4_LEN || (b[0] >> 4) != 4)
		return 0;
	hl = (b[0] & 0xf) * 4;
	if (hl < PKT_IP4_LEN || hl > len)
		return 0;
	return pkt_csum_fold(pkt_csum_add(0, b, hl)) == 0;
}

static int is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_FRAGMENT;
}

/* Find the upper layer of an IPv6 packet; -1 on a fragment or bad chain. */
static int ipv6_upper(const __u8 *b, size_t end, size_t *off, __u8 *proto)
{
	__u8 nh = b[6];
	size_t o = PKT_IP6_LEN;

	while (is_ext(nh)) {
		if (nh == IPPROTO_FRAGMENT || o + 8 > end)
			return -1;
		nh = b[o];
		o += (b[o + 1] + 1) * 8;
	}
	if (o > end)
		return -1;
	*off = o;
	*proto = nh;
	return 0;
}

int pkt_l4_csum_ok(const void *ip, size_t len)
{
	const __u8 *b = ip;
	size_t off, end;
	__u8 proto;

	if (len < 1)
		return -1;
	if ((b[0] >> 4) == 4) {
		if (len < PKT_IP4_LEN)
			return -1;
		off = (b[0] & 0xf) * 4;
		end = get16(b + 2);
		if (off < PKT_IP4_LEN || end > len || end < off)
			return -1;
		if (get16(b + 6) & (PKT_IP_MF | 0x1fff))
			return -1;
		proto = b[9];
	} else if ((b[0] >> 4) == 6) {
		if (len < PKT_IP6_LEN)
			return -1;
		end = PKT_IP6_LEN + get16(b + 4);
		if (end > len || ipv6_upper(b, end, &off, &proto))
			return -1;
	} else {
		return -1;
	}

	switch (proto) {
	case IPPROTO_TCP:
		if (end - off < 20)
			return -1;
		break;
	case IPPROTO_UDP:
		if (end - off < 8)
			return -1;
		if ((b[0] >> 4) == 4 && get16(b + off + 6) == 0)
			return 1;	/* no checksum */
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (end - off < 8)
			return -1;
		break;
	default:
		return -1;
	}
	return l4_csum(b, proto, b + off, end - off) == 0;
}

/* --- addresses ------------------------------------------------------- */

int pkt_addr(const char *text, struct sluice_addr *addr, __u8 *family)
{
	memset(addr, 0, sizeof(*addr));
	if (!text)
		return -1;
	if (strchr(text, ':')) {
		*family = SLUICE_AF_INET6;
		return inet_pton(AF_INET6, text, addr) == 1 ? 0 : -1;
	}
	*family = SLUICE_AF_INET;
	return inet_pton(AF_INET, text, &addr->addr[0]) == 1 ? 0 : -1;
}

const char *pkt_addr_str(const struct sluice_addr *addr, __u8 family,
			 char *buf, size_t len)
{
	if (!inet_ntop(family == SLUICE_AF_INET6 ? AF_INET6 : AF_INET,
		       addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

void pkt_flow_key(const struct pkt_spec *s, struct sluice_flow_key *key)
{
	__u8 family;

	memset(key, 0, sizeof(*key));
	pkt_addr(s->src, &key->src, &family);
	pkt_addr(s->dst, &key->dst, &key->family);
	key->sport = htons(s->sport);
	key->dport = htons(s->dport);
	key->proto = s->proto;
}

/* --- builder --------------------------------------------------------- */

static __u8 pattern(size_t i, __u16 seed)
{
	return (__u8)(i * 7 + seed + 0x5a);
}

static int ext_len(const struct pkt_ext *e)
{
	return e->type == IPPROTO_FRAGMENT ? 8 : (e->hdrlen + 1) * 8;
}

/* One extension header at @p; options are padding, routing is a no-op. */
static void put_ext(__u8 *p, const struct pkt_ext *e, __u8 next, __u16 id)
{
	int len = ext_len(e);

	memset(p, 0, len);
	p[0] = next;
	if (e->type == IPPROTO_FRAGMENT) {
		put16(p + 2, (__u16)(e->frag_off << 3) | (e->frag_mf ? 1 : 0));
		put32(p + 4, 0x51000000 | id);
		return;
	}
	p[1] = e->hdrlen;
	if (e->type == IPPROTO_ROUTING) {
		p[2] = 253;	/* experimental type, segments left 0: skipped */
		return;
	}
	p[2] = 1;		/* PadN over the rest */
	p[3] = len - 4;
}

/* Upper-layer bytes at @l4 (checksum left 0); returns their length. */
static int build_l4(const struct pkt_spec *s, __u8 *l4, size_t cap)
{
	size_t n, i;

	switch (s->proto) {
	case IPPROTO_TCP:
		n = 20 + s->payload_len;
		if (n > cap)
			return -1;
		memset(l4, 0, 20);
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = 5 << 4;
		l4[13] = s->tcp_flags;
		put16(l4 + 14, 64240);
		for (i = 0; i < s->payload_len; i++)
			l4[20 + i] = pattern(i, s->sport);
		return n;
	case IPPROTO_UDP:
		n = 8 + s->payload_len;
		if (n > cap)
			return -1;
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, n);
		put16(l4 + 6, 0);
		for (i = 0; i < s->payload_len; i++)
			l4[8 + i] = pattern(i, s->sport);
		return n;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		__u8 inner[PKT_MAX];
		int ilen = 0;

		if (s->inner) {
			ilen = pkt_build_ip(s->inner, inner, sizeof(inner));
			if (ilen < 0)
				return -1;
			if (s->inner_len && s->inner_len < ilen)
				ilen = s->inner_len;
		}
		n = 8 + ilen + s->payload_len;
		if (n > cap)
			return -1;
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		put16(l4 + 2, 0);
		put32(l4 + 4, s->icmp_mtu);
		memcpy(l4 + 8, inner, ilen);
		for (i = 0; i < s->payload_len; i++)
			l4[8 + ilen + i] = pattern(i, 0);
		return n;
	}
	default: {
		/* Other protocols carry the inner packet (tunnels), if any,
		 * then patterned payload. */
		__u8 inner[PKT_MAX];
		int ilen = 0;

		if (s->inner) {
			ilen = pkt_build_ip(s->inner, inner, sizeof(inner));
			if (ilen < 0)
				return -1;
			if (s->inner_len && s->inner_len < ilen)
				ilen = s->inner_len;
		}
		n = ilen + s->payload_len;
		if (n > cap)
			return -1;
		memcpy(l4, inner, ilen);
		for (i = 0; i < s->payload_len; i++)
			l4[ilen + i] = pattern(i, s->proto);
		return n;
	}
	}
}

/* Store the upper-layer checksum of @len bytes at @l4. */
static void fill_l4_csum(const struct pkt_spec *s, const __u8 *ip, __u8 *l4,
			 __u32 len)
{
	__u16 c;

	switch (s->proto) {
	case IPPROTO_TCP:
		put16(l4 + 16, l4_csum(ip, s->proto, l4, len));
		break;
	case IPPROTO_UDP:
		c = l4_csum(ip, s->proto, l4, len);
		put16(l4 + 6, c ? c : 0xffff);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		put16(l4 + 2, l4_csum(ip, s->proto, l4, len));
		break;
	}
}

/* Damage to the upper layer asked for by the spec (after the checksum). */
static void damage_l4(const struct pkt_spec *s, __u8 *l4, __u32 len)
{
	if (s->proto == IPPROTO_TCP && s->doff && len >= 13)
		l4[12] = (__u8)(s->doff << 4);
	if (s->proto == IPPROTO_UDP && s->udp_len_adj && len >= 6)
		put16(l4 + 4, get16(l4 + 4) + s->udp_len_adj);
}

static int ip4_header(const struct pkt_spec *s, __u8 *ip, int hl, int tot)
{
	struct sluice_addr a;
	__u8 family;
	__u16 frag;

	memset(ip, 0, hl);
	ip[0] = 0x40 | (hl / 4);
	ip[1] = s->tos;
	put16(ip + 2, tot);
	put16(ip + 4, s->ip_id);
	frag = (s->df ? PKT_IP_DF : 0) | (s->mf ? PKT_IP_MF : 0) |
	       (s->frag_off & 0x1fff);
	put16(ip + 6, frag);
	ip[8] = s->ttl ? s->ttl : PKT_DEFAULT_TTL;
	ip[9] = s->proto;
	if (pkt_addr(s->src, &a, &family) || family != SLUICE_AF_INET)
		return -1;
	memcpy(ip + 12, &a.addr[0], 4);
	if (pkt_addr(s->dst, &a, &family) || family != SLUICE_AF_INET)
		return -1;
	memcpy(ip + 16, &a.addr[0], 4);
	memset(ip + PKT_IP4_LEN, 1, hl - PKT_IP4_LEN);	/* NOP options */
	return 0;
}

static int ip6_header(const struct pkt_spec *s, __u8 *ip, int plen)
{
	struct sluice_addr a;
	__u8 family;
	__u32 w;
	int i, off = PKT_IP6_LEN;

	w = 6U << 28 | (__u32)s->tos << 20;
	put32(ip, w);
	put16(ip + 4, plen);
	ip[6] = s->next ? s->ext[0].type : s->proto;
	ip[7] = s->ttl ? s->ttl : PKT_DEFAULT_TTL;
	if (pkt_addr(s->src, &a, &family) || family != SLUICE_AF_INET6)
		return -1;
	memcpy(ip + 8, &a, 16);
	if (pkt_addr(s->dst, &a, &family) || family != SLUICE_AF_INET6)
		return -1;
	memcpy(ip + 24, &a, 16);
	for (i = 0; i < s->next; i++) {
		__u8 nh = i + 1 < s->next ? s->ext[i + 1].type : s->proto;

		put_ext(ip + off, &s->ext[i], nh, s->ip_id);
		off += ext_len(&s->ext[i]);
	}
	return 0;
}

/* IP header bytes, IPv4 options or IPv6 extension headers included. */
static int ip_hdr_len(const struct pkt_spec *s, __u8 family)
{
	int hl, i;

	if (family == SLUICE_AF_INET) {
		if (s->opt_len % 4 || s->opt_len > 40)
			return -1;
		return PKT_IP4_LEN + s->opt_len;
	}
	if (s->next > PKT_MAX_EXT)
		return -1;
	hl = PKT_IP6_LEN;
	for (i = 0; i < s->next; i++)
		hl += ext_len(&s->ext[i]);
	return hl;
}

int pkt_build_ip(const struct pkt_spec *s, __u8 *buf, size_t cap)
{
	struct sluice_addr a;
	__u8 family;
	int hl, l4len;

	if (pkt_addr(s->src, &a, &family))
		return -1;
	hl = ip_hdr_len(s, family);
	if (hl < 0 || (size_t)hl > cap)
		return -1;
	l4len = build_l4(s, buf + hl, cap - hl);
	if (l4len < 0)
		return -1;

	/* Addresses first (the pseudo-header needs them), lengths after. */
	if (family == SLUICE_AF_INET ? ip4_header(s, buf, hl, hl + l4len)
				     : ip6_header(s, buf, hl - PKT_IP6_LEN + l4len))
		return -1;
	fill_l4_csum(s, buf, buf + hl, l4len);
	damage_l4(s, buf + hl, l4len);
	if (s->l4_trunc && s->l4_trunc < l4len)
		l4len = s->l4_trunc;

	if (family == SLUICE_AF_INET) {
		put16(buf + 2, hl + l4len + s->len_adj);
		if (s->ihl)
			buf[0] = 0x40 | (s->ihl & 0xf);
	} else {
		put16(buf + 4, hl - PKT_IP6_LEN + l4len + s->len_adj);
	}
	if (s->version)
		buf[0] = (__u8)(s->version << 4) | (buf[0] & 0xf);
	if (family == SLUICE_AF_INET) {
		put16(buf + 10, 0);
		put16(buf + 10, pkt_csum_fold(pkt_csum_add(0, buf, hl)));
	}
	return hl + l4len;
}

static int build_l2(const struct pkt_spec *s, __u8 *d, __u16 *ethertype)
{
	struct sluice_addr a;
	__u8 family;
	int off = 12, i;

	if (s->nvlans > PKT_MAX_VLANS)
		return -1;
	memcpy(d, s->dmac ? s->dmac : pkt_lb_mac, 6);
	memcpy(d + 6, s->smac ? s->smac : pkt_peer_mac, 6);
	for (i = 0; i < s->nvlans; i++) {
		put16(d + off, s->vlan_tpid[i] ? s->vlan_tpid[i] : 0x8100);
		put16(d + off + 2, s->vlan_id[i] & 0xfff);
		off += PKT_VLAN_LEN;
	}
	*ethertype = s->ethertype;
	if (!*ethertype && s->src) {
		if (pkt_addr(s->src, &a, &family))
			return -1;
		*ethertype = family == SLUICE_AF_INET ? 0x0800 : 0x86dd;
	}
	put16(d + off, *ethertype);
	return off + 2;
}

int pkt_build(const struct pkt_spec *s, struct pkt *p)
{
	struct sluice_addr a;
	__u16 ethertype;
	__u8 family;
	int l3;

	memset(p, 0, sizeof(*p));
	p->l3_off = build_l2(s, p->data, &ethertype);
	if ((int)p->l3_off < 0)
		goto bad;
	if (s->src) {
		l3 = pkt_build_ip(s, p->data + p->l3_off,
				  PKT_MAX - p->l3_off - s->trailer);
		if (l3 < 0)
			goto bad;
		pkt_addr(s->src, &a, &family);
		p->l4_off = p->l3_off + ip_hdr_len(s, family);
	} else {
		l3 = s->raw_len;
		if (p->l3_off + l3 > PKT_MAX)
			goto bad;
		if (l3)
			memcpy(p->data + p->l3_off, s->raw, l3);
	}
	p->l3_len = l3;
	p->len = p->l3_off + l3 + s->trailer;	/* trailer bytes stay zero */
	if (s->frame_len && s->frame_len < p->len)
		p->len = s->frame_len;
	return 0;
bad:
	print_message("# pkt_build: bad spec (src %s dst %s proto %u)\n",
		      s->src ? s->src : "-", s->dst ? s->dst : "-", s->proto);
	return -1;
}

void pkt_hexdump(const char *title, const void *data, size_t len)
{
	const __u8 *b = data;
	char line[16 * 3 + 1];
	size_t i, j;

	print_message("# %s (%zu bytes):\n", title, len);
	for (i = 0; i < len; i += 16) {
		for (j = 0; j < 16 && i + j < len; j++)
			snprintf(line + j * 3, 4, " %02x", b[i + j]);
		line[j * 3] = '\0';
		print_message("#   %04zx:%s\n", i, line);
	}
}
