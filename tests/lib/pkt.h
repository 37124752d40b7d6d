/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Test packet builder and checkers: a table-friendly struct pkt_spec
 * describes one frame (Ethernet, 0-3 VLAN tags, IPv4 or IPv6 with options
 * or extension headers, TCP/UDP/ICMP/ICMPv6), pkt_build() turns it into
 * bytes with every checksum correct, then applies the deliberate damage the
 * spec asks for (bad IHL, lengths, data offset, truncation).
 *
 * Addresses are strings ("198.18.0.100", "fd00::100"): the family follows
 * from the text. Tests use 198.18.0.0/15 and fd00::/8 only.
 */
#ifndef SLUICE_TEST_PKT_H
#define SLUICE_TEST_PKT_H

#include <stddef.h>
#include <linux/types.h>

#include "sluice/abi.h"

#define PKT_MAX		4096	/* largest frame the builder makes */
#define PKT_MAX_VLANS	3	/* one more than the balancer parses */
#define PKT_MAX_EXT	8	/* IPv6 extension headers per packet */

#define PKT_ETH_LEN	14
#define PKT_VLAN_LEN	4
#define PKT_IP4_LEN	20
#define PKT_IP6_LEN	40

#define PKT_TCP_FIN	0x01
#define PKT_TCP_SYN	0x02
#define PKT_TCP_RST	0x04
#define PKT_TCP_PSH	0x08
#define PKT_TCP_ACK	0x10

/* One IPv6 extension header. */
struct pkt_ext {
	__u8 type;	/* IPPROTO_HOPOPTS, _ROUTING, _DSTOPTS or _FRAGMENT */
	__u8 hdrlen;	/* length field: (hdrlen + 1) * 8 bytes; not for fragment */
	__u16 frag_off;	/* fragment header: offset in 8-byte units */
	__u8 frag_mf;	/* fragment header: more fragments */
};

struct pkt_spec {
	/* Ethernet: fixed client-side MACs unless given. */
	const __u8 *dmac;
	const __u8 *smac;
	__u16 ethertype;	/* 0: from the IP family */
	__u8 nvlans;		/* 0..PKT_MAX_VLANS */
	__u16 vlan_tpid[PKT_MAX_VLANS];	/* 0: 0x8100 */
	__u16 vlan_id[PKT_MAX_VLANS];

	/* Without src/dst no IP header is built: raw bytes follow Ethernet. */
	const __u8 *raw;
	__u16 raw_len;

	/* IP */
	const char *src;
	const char *dst;
	__u8 ttl;		/* 0: 64 */
	__u8 tos;		/* IPv4 TOS / IPv6 traffic class */
	__u16 ip_id;
	__u8 df;
	__u8 mf;
	__u16 frag_off;		/* IPv4 fragment offset, 8-byte units */
	__u8 opt_len;		/* IPv4 option bytes (NOPs), multiple of 4 */
	__u8 next;		/* IPv6 extension headers used in ext[] */
	struct pkt_ext ext[PKT_MAX_EXT];
	__u8 proto;		/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 or other */

	/* TCP / UDP */
	__u16 sport;
	__u16 dport;
	__u8 tcp_flags;
	__u32 seq;
	__u32 ack;
	__u16 payload_len;	/* patterned payload bytes */

	/* ICMP / ICMPv6; other protocols (IPIP, IPv6) carry @inner whole */
	__u8 icmp_type;
	__u8 icmp_code;
	__u32 icmp_mtu;		/* frag-needed / packet-too-big MTU */
	const struct pkt_spec *inner;	/* quoted or tunnelled IP packet */
	__u16 inner_len;	/* bytes of it to include; 0: all */

	/* Deliberate damage, applied after the checksums. */
	__u8 version;		/* IP version field; 0: correct */
	__u8 ihl;		/* IPv4 IHL field; 0: correct */
	int len_adj;		/* added to IPv4 tot_len / IPv6 payload_len */
	__u8 doff;		/* TCP data offset field; 0: correct */
	int udp_len_adj;	/* added to the UDP length field */
	__u16 l4_trunc;		/* keep only this many L4 bytes (IP lengths
				 * follow); 0: all */
	__u16 frame_len;	/* cut the frame to this length; 0: all */
	__u16 trailer;		/* Ethernet padding after the IP packet */
};

/* A built frame and where its parts are. */
struct pkt {
	__u8 data[PKT_MAX];
	__u32 len;		/* frame length */
	__u32 l3_off;		/* start of the IP header (or raw bytes) */
	__u32 l3_len;		/* IP packet length as built (before frame_len) */
	__u32 l4_off;		/* start of the upper-layer header */
};

/* MACs used when a spec gives none: the balancer's and its upstream peer's. */
extern const __u8 pkt_lb_mac[6];
extern const __u8 pkt_peer_mac[6];

/* Build @s into @p. Returns 0, or -1 (and prints why) on a bad spec. */
int pkt_build(const struct pkt_spec *s, struct pkt *p);
/* Build the IP packet only (no Ethernet) into @buf; returns its length. */
int pkt_build_ip(const struct pkt_spec *s, __u8 *buf, size_t cap);

/* "198.18.0.1" or "fd00::1" -> address and SLUICE_AF_*; 0 or -1. */
int pkt_addr(const char *text, struct sluice_addr *addr, __u8 *family);
/* The balancer's flow key for @s: zeroed, then as the datapath fills it. */
void pkt_flow_key(const struct pkt_spec *s, struct sluice_flow_key *key);
/* Printable address of @addr into @buf (INET6_ADDRSTRLEN). */
const char *pkt_addr_str(const struct sluice_addr *addr, __u8 family,
			 char *buf, size_t len);

/* RFC 1071 sum helpers. */
__u32 pkt_csum_add(__u32 sum, const void *data, size_t len);
__u16 pkt_csum_fold(__u32 sum);

/* 1 if the IPv4 header at @ip has a valid checksum, else 0. */
int pkt_ipv4_csum_ok(const void *ip, size_t len);
/*
 * 1 if the TCP/UDP/ICMP/ICMPv6 checksum of the IPv4 or IPv6 packet at @ip
 * (@len bytes) is valid, 0 if not, -1 if the packet cannot be parsed or
 * has no checksummed upper layer (fragment, unknown protocol).
 */
int pkt_l4_csum_ok(const void *ip, size_t len);

/* Hex dump of @len bytes to the cmocka message stream, 16 per line. */
void pkt_hexdump(const char *title, const void *data, size_t len);

#endif /* SLUICE_TEST_PKT_H */
