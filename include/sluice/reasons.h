/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Why the balancer gave each packet its verdict. Defined once as an
 * X-macro: the datapath uses the SLUICE_R_* values as sl_reasons indexes,
 * userspace uses the names in metrics and `sluicectl status`.
 *
 * The rule (docs/design.md, "Packet rules"): sluice forwards only packets
 * it fully understands. A frame the kernel's IP layer would reject (truncated
 * Ethernet/VLAN, IPv4 with a bad version, IHL or total length, IPv6 with a
 * bad payload length) is dropped. A well-formed packet that is not for a
 * VIP passes to the kernel untouched. A packet for a VIP address that
 * cannot be balanced (fragment, truncated TCP/UDP header, bogus ICMP
 * error) is dropped. A packet for a VIP that would exceed the egress MTU
 * once encapsulated is answered with ICMP too-big (IPv4 with DF, IPv6) or
 * dropped (IPv4 without DF: sluice cannot fragment).
 *
 * Reason 0 is reserved: helpers return 0 for "no verdict yet, carry on",
 * so 0 must never be a verdict of its own. Were it FWD_TX, a stray
 * `return 0` on an early path would transmit a packet nobody chose a
 * backend for. The exit never returns it as a verdict: a packet that
 * reaches the exit with reason 0 is a bug, dropped and counted under
 * "internal_error", which must stay at zero.
 *
 *	X(NAME, verdict, "metric label", "one-line description")
 */
#ifndef SLUICE_REASONS_H
#define SLUICE_REASONS_H

/* A table: one row per line, wider than 80 columns. */
/* clang-format off */
#define SLUICE_REASONS(X)						\
	X(INTERNAL,	DROP,	  "internal_error", "no verdict: a helper's carry-on 0 reached the exit (a bug)") \
	X(FWD_TX,	TX,	  "fwd_tx",	  "forwarded back out the ingress interface") \
	X(FWD_REDIRECT,	REDIRECT, "fwd_redirect", "forwarded out another interface") \
	X(ICMP_TX,	TX,	  "icmp_tx",	  "ICMP too-big sent to the flow's backend (same interface)") \
	X(ICMP_REDIRECT, REDIRECT, "icmp_redirect", "ICMP too-big sent to the flow's backend (other interface)") \
	X(ICMP_TOOBIG,	TX,	  "icmp_toobig",  "too big for the egress MTU once encapsulated: ICMP frag-needed / packet-too-big sent back to the client") \
	X(PASS_NOT_IP,	PASS,	  "pass_not_ip",  "not IPv4/IPv6") \
	X(PASS_VLAN_DEPTH, PASS,  "pass_vlan_depth", "more than two VLAN tags: not parsed") \
	X(PASS_NOT_VIP,	PASS,	  "pass_not_vip", "not addressed to a VIP") \
	X(PASS_VIP_ICMP, PASS,	  "pass_vip_icmp", "ICMP to a VIP address that is not a too-big error") \
	X(DROP_BAD_L2,	DROP,	  "drop_bad_l2",  "truncated Ethernet or VLAN header") \
	X(DROP_BAD_L3,	DROP,	  "drop_bad_l3",  "truncated or invalid IPv4/IPv6 header or length") \
	X(DROP_BAD_L4,	DROP,	  "drop_bad_l4",  "truncated or invalid TCP/UDP header to a VIP") \
	X(DROP_FRAGMENT, DROP,	  "drop_fragment", "IP fragment to a VIP address") \
	X(DROP_EXTHDR,	DROP,	  "drop_exthdr",  "IPv6 extension headers to a VIP address not walkable") \
	X(DROP_BAD_ICMP, DROP,	  "drop_bad_icmp", "ICMP error to a VIP whose inner header is unusable") \
	X(DROP_NO_BACKEND, DROP,  "drop_no_backend", "VIP has no backend in its table") \
	X(DROP_NO_NEXTHOP, DROP,  "drop_no_nexthop", "backend's next hop not resolved") \
	X(DROP_TOO_BIG,	DROP,	  "drop_too_big", "too big for the egress MTU once encapsulated, and no ICMP may answer it (IPv4 without DF, or an ICMP error)") \
	X(DROP_ENCAP,	DROP,	  "drop_encap",	  "encapsulation or ICMP reply failed (no headroom)")
/* clang-format on */

#define SLUICE_R_ENUM(name, verdict, label, desc) SLUICE_R_##name,
enum sluice_reason {
	SLUICE_REASONS(SLUICE_R_ENUM)
	SLUICE_R_MAX
};
#undef SLUICE_R_ENUM

_Static_assert(SLUICE_R_INTERNAL == 0, "reason 0 is reserved for carry-on");

/* Verdict classes (match XDP_* for the four used). */
#define SLUICE_V_DROP		1	/* XDP_DROP */
#define SLUICE_V_PASS		2	/* XDP_PASS */
#define SLUICE_V_TX		3	/* XDP_TX */
#define SLUICE_V_REDIRECT	4	/* XDP_REDIRECT */

/* The XDP verdict of a reason (SLUICE_V_* equal XDP_*). */
#define SLUICE_R_CASE(name, verdict, label, desc) \
	case SLUICE_R_##name: return SLUICE_V_##verdict;
static inline int sluice_reason_verdict(int reason)
{
	switch (reason) {
	SLUICE_REASONS(SLUICE_R_CASE)
	default:
		return SLUICE_V_DROP;
	}
}
#undef SLUICE_R_CASE

#endif /* SLUICE_REASONS_H */
