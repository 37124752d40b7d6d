/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP too-big generation (Katran's ICMP_TOOBIG_GENERATION): a client
 * packet for a VIP that would exceed the egress MTU once encapsulated is
 * turned, in place, into ICMP "fragmentation needed" (IPv4 with DF) or
 * ICMPv6 "packet too big", from the VIP to the client, carrying the MTU
 * the client may use (egress MTU minus the outer header), and sent back
 * out the ingress interface (XDP_TX). The client lowers its path MTU (TCP:
 * its MSS) and resends smaller, as if a router on the path had answered.
 *
 * IPv4 without DF is dropped (SLUICE_R_DROP_TOO_BIG), not answered: XDP
 * cannot fragment the outer packet, and a sender that lowered its MTU on
 * our word would then send fragments, which sluice drops for a VIP
 * (SLUICE_R_DROP_FRAGMENT) anyway. Linux TCP always sets DF.
 *
 * Rate: one reply per too-big packet, no limiter. A reply is never larger
 * than the packet it answers (IPv4: 28 bytes of headers + the client's IP
 * header + 8; IPv6: at most 1280 bytes for a packet over the usable MTU),
 * so a spoofed flood reflects fewer bytes than it sends, and a real client
 * stops after its first too-big segment.
 *
 * The reply frame: the ingress Ethernet header with its VLAN tags (the
 * reply leaves where the packet came in) and the MACs swapped, a new IP
 * header, an 8-byte ICMP header, then the start of the client's IP packet,
 * which is already in place: the head grows by IP + ICMP, the tail is cut.
 */
#ifndef SLUICE_BPF_TOOBIG_H
#define SLUICE_BPF_TOOBIG_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sluice/abi.h"
#include "parse.h"
#include "encap.h"

/* Ethernet plus the VLAN tags sl_parse_l2() accepts. */
#define SL_TOOBIG_L2_MAX	(ETH_HLEN + SL_VLAN_MAX_DEPTH * 4)
/* RFC 792/1191: the quote is the IP header plus the first 64 bits. */
#define SL_ICMP4_QUOTE_EXTRA	8
/* RFC 4443 2.4(c): as much of the packet as fits in a 1280-byte error. */
#define SL_ICMP6_QUOTE_MAX	(1280 - sizeof(struct ipv6hdr) - \
				 sizeof(struct sl_icmphdr))
#define SL_ICMP_TOS		0xc0	/* IPTOS_PREC_INTERNETCONTROL, as Linux */
#define SL_ICMP_TTL		64
/* Checksum chunks read through bpf_xdp_load_bytes: 10 x 128 bytes cover
 * the ICMPv6 header and the largest quote (1240), and the buffer stays
 * small: the whole program shares one 512-byte stack. */
#define SL_CSUM_CHUNK		128
#define SL_CSUM_CHUNKS		10

struct sl_toobig4 {
	struct iphdr ip;
	struct sl_icmphdr icmp;
};

struct sl_toobig6 {
	struct ipv6hdr ip;
	struct sl_icmphdr icmp;
};

/* RFC 8200 8.1 pseudo-header of the ICMPv6 checksum. */
struct sl_icmp6_pseudo {
	struct sluice_addr src;
	struct sluice_addr dst;
	__be32 len;
	__be32 nexthdr;
};

/*
 * Is @pkt too big for @nh's MTU once encapsulated to @be (@extra: GUE
 * bytes, encap.h)? (0 MTU: unknown)
 */
static __always_inline int sl_too_big(const struct sl_pkt *pkt,
				      const struct sluice_backend *be,
				      __u32 extra, const struct sl_nexthop *nh)
{
	return nh->mtu && pkt->l3_len + sl_encap_overhead(be, extra) > nh->mtu;
}

static __always_inline __sum16 sl_csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__sum16)~sum;
}

/*
 * Unfolded ones'-complement sum of @len frame bytes from @off, on top of
 * @seed; negative on error. Reads chunks into a zeroed buffer so a last
 * chunk that is not a multiple of 4 (bpf_csum_diff's unit) is padded with
 * zeros, which add nothing.
 */
static __always_inline __s64 sl_xdp_csum(struct xdp_md *ctx, __u32 off,
					 __u64 len, __u32 seed)
{
	__u8 buf[SL_CSUM_CHUNK + 4];
	__s64 sum = seed;
	__u64 n;
	int i;

	for (i = 0; i < SL_CSUM_CHUNKS && len; i++) {
		n = len > SL_CSUM_CHUNK ? SL_CSUM_CHUNK : len;
		/* Make the verifier see the bounds clang already knows, on
		 * the very register (64-bit: no zero-extended copy) passed. */
		asm volatile("" : "+r"(n));
		if (n < 1 || n > SL_CSUM_CHUNK)
			return -1;
		__builtin_memset(buf, 0, sizeof(buf));
		if (bpf_xdp_load_bytes(ctx, off, buf, n))
			return -1;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)buf, (n + 3) & ~3U,
				    (__u32)sum);
		if (sum < 0)
			return -1;
		off += n;
		len -= n;
	}
	return len ? -1 : sum;
}

/*
 * Reshape the frame for a reply: its L2 header (MACs swapped) in front,
 * room for @hlen bytes of new IP + ICMP header after it, then @quote bytes
 * of the client's IP packet; the rest is cut. 0 or -1.
 */
static __always_inline int sl_toobig_reshape(struct xdp_md *ctx,
					     const struct sl_pkt *pkt,
					     __u32 hlen, __u32 quote)
{
	__u8 l2[SL_TOOBIG_L2_MAX], mac[ETH_ALEN];
	int len;

	/* A too-big frame is far longer than 22 bytes. */
	if (bpf_xdp_load_bytes(ctx, 0, l2, sizeof(l2)))
		return -1;
	__builtin_memcpy(mac, l2, ETH_ALEN);
	__builtin_memcpy(l2, l2 + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(l2 + ETH_ALEN, mac, ETH_ALEN);
	if (bpf_xdp_adjust_head(ctx, -(int)hlen))
		return -1;
	len = pkt->l3_off + hlen + quote;
	if (bpf_xdp_adjust_tail(ctx, len - (int)bpf_xdp_get_buff_len(ctx)))
		return -1;
	/* With fewer than two tags, bytes past l3_off are stale copies:
	 * the new IP header written next covers them. */
	return bpf_xdp_store_bytes(ctx, 0, l2, sizeof(l2)) ? -1 : 0;
}

/*
 * Write the reply: reshape, store @hdr (new IP + ICMP header with a zero
 * ICMP checksum, @hlen bytes), then the ICMP checksum over the ICMP header
 * and the quote, on top of @seed (the IPv6 pseudo-header; 0 for IPv4).
 */
static __always_inline int sl_toobig_emit(struct xdp_md *ctx,
					  const struct sl_pkt *pkt, void *hdr,
					  __u32 hlen, __u32 quote, __u32 seed)
{
	__u32 icmp_off = pkt->l3_off + hlen - sizeof(struct sl_icmphdr);
	__sum16 csum;
	__s64 sum;

	if (sl_toobig_reshape(ctx, pkt, hlen, quote) ||
	    bpf_xdp_store_bytes(ctx, pkt->l3_off, hdr, hlen))
		return SLUICE_R_DROP_ENCAP;
	sum = sl_xdp_csum(ctx, icmp_off, sizeof(struct sl_icmphdr) + quote,
			  seed);
	if (sum < 0)
		return SLUICE_R_DROP_ENCAP;
	csum = sl_csum_fold(sum);
	if (bpf_xdp_store_bytes(ctx, icmp_off + 2, &csum, sizeof(csum)))
		return SLUICE_R_DROP_ENCAP;
	return SLUICE_R_ICMP_TOOBIG;
}

/* ICMP "fragmentation needed", RFC 1191: the next-hop MTU in the low 16
 * bits of the second word. */
static __always_inline int sl_toobig4(struct xdp_md *ctx,
				      const struct sl_pkt *pkt, __u32 mtu)
{
	__u32 quote = pkt->l4_off - pkt->l3_off + SL_ICMP4_QUOTE_EXTRA;
	struct sl_toobig4 h = {};

	if (!pkt->df)
		return SLUICE_R_DROP_TOO_BIG;
	h.ip.version = 4;
	h.ip.ihl = 5;
	h.ip.tos = SL_ICMP_TOS;
	h.ip.tot_len = bpf_htons(sizeof(h) + quote);
	h.ip.ttl = SL_ICMP_TTL;
	h.ip.protocol = IPPROTO_ICMP;
	h.ip.saddr = pkt->key.dst.addr[0];	/* the VIP */
	h.ip.daddr = pkt->key.src.addr[0];	/* the client */
	h.ip.check = sl_ipv4_csum(&h.ip);
	h.icmp.type = SL_ICMP_DEST_UNREACH;
	h.icmp.code = SL_ICMP_FRAG_NEEDED;
	h.icmp.rest = bpf_htonl(mtu & 0xffff);
	return sl_toobig_emit(ctx, pkt, &h, sizeof(h), quote, 0);
}

/* ICMPv6 "packet too big", RFC 4443 3.2: the MTU is the second word. */
static __always_inline int sl_toobig6(struct xdp_md *ctx,
				      const struct sl_pkt *pkt, __u32 mtu)
{
	__u32 quote = pkt->l3_len < SL_ICMP6_QUOTE_MAX ? pkt->l3_len
						       : SL_ICMP6_QUOTE_MAX;
	struct sl_icmp6_pseudo ps = {};
	struct sl_toobig6 h = {};
	__s64 seed;

	h.ip.version = 6;
	h.ip.payload_len = bpf_htons(sizeof(h.icmp) + quote);
	h.ip.nexthdr = IPPROTO_ICMPV6;
	h.ip.hop_limit = SL_ICMP_TTL;
	__builtin_memcpy(&h.ip.saddr, &pkt->key.dst, 16);	/* the VIP */
	__builtin_memcpy(&h.ip.daddr, &pkt->key.src, 16);	/* the client */
	h.icmp.type = SL_ICMPV6_PKT_TOOBIG;
	h.icmp.rest = bpf_htonl(mtu);

	ps.src = pkt->key.dst;
	ps.dst = pkt->key.src;
	ps.len = bpf_htonl(sizeof(h.icmp) + quote);
	ps.nexthdr = bpf_htonl(IPPROTO_ICMPV6);
	seed = bpf_csum_diff(NULL, 0, (__be32 *)&ps, sizeof(ps), 0);
	if (seed < 0)
		return SLUICE_R_DROP_ENCAP;
	return sl_toobig_emit(ctx, pkt, &h, sizeof(h), quote, (__u32)seed);
}

/*
 * Answer a packet that does not fit @mtu (the egress MTU) once
 * encapsulated to @be (@extra: GUE bytes, encap.h). The MTU announced is
 * what this encapsulation leaves, so a stream that lost its state during
 * a drain shrinks to fit the longer GUE path. Returns SLUICE_R_ICMP_TOOBIG
 * (XDP_TX the reply) or the drop reason.
 */
static __always_inline int sl_toobig_reply(struct xdp_md *ctx,
					   const struct sl_pkt *pkt,
					   const struct sluice_backend *be,
					   __u32 extra, __u32 mtu)
{
	__u32 overhead = sl_encap_overhead(be, extra);
	__u32 usable = mtu - overhead;

	if (mtu <= overhead) /* no MTU worth announcing */
		return SLUICE_R_DROP_TOO_BIG;
	if (pkt->key.family == SLUICE_AF_INET)
		return sl_toobig4(ctx, pkt, usable);
	return sl_toobig6(ctx, pkt, usable);
}

#endif /* SLUICE_BPF_TOOBIG_H */
