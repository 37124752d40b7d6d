/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Is a packet for a VIP: the address filter, the address markers and the
 * VIP lookup (exact port, then port 0).
 */
#ifndef SLUICE_BPF_VIP_H
#define SLUICE_BPF_VIP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "sluice/abi.h"
#include "sluice/hash.h"
#include "maps.h"
#include "settings.h"

/* Exact VIP, then the port-0 VIP of the same address and protocol. */
static __always_inline struct sluice_vip *
sl_lookup_vip(const struct sluice_flow_key *fk)
{
	struct sluice_vip_key vk = {};
	struct sluice_vip *vip;

	vk.addr = fk->dst;
	vk.port = fk->dport;
	vk.proto = fk->proto;
	vk.family = fk->family;
	vip = bpf_map_lookup_elem(&sl_vips, &vk);
	if (vip || !vk.port)
		return vip;
	vk.port = 0;
	return bpf_map_lookup_elem(&sl_vips, &vk);
}

/*
 * Could @addr be a VIP address? sl_vip_addrs answers "no" for certain
 * (a clear bit) at the cost of an inlined array access and a mix, so
 * traffic that is not ours passes before any flow lookup. "Yes" may be
 * another address on the same bit: the caller's lookups decide.
 */
static __always_inline int sl_maybe_vip_addr(const struct sluice_addr *addr,
					     __u8 family)
{
	const struct sluice_vip_filter *vf;
	__u32 bit;

	vf = bpf_map_lookup_elem(&sl_vip_addrs, &zero);
	if (!vf || !vf->ready)
		return 1;
	bit = sluice_vip_filter_bit(addr, family);
	return (vf->bits[(bit / 64) & (SLUICE_VIP_FILTER_BITS / 64 - 1)] >>
		(bit % 64)) &
	       1;
}

/* Is @addr one of the VIP addresses (the ADDR_ONLY marker entries)? */
static __always_inline int sl_is_vip_addr(const struct sluice_addr *addr,
					  __u8 family)
{
	struct sluice_vip_key vk = {};

	if (!sl_maybe_vip_addr(addr, family))
		return 0;

	vk.addr = *addr;
	vk.family = family;
	return bpf_map_lookup_elem(&sl_vips, &vk) != NULL;
}

#endif /* SLUICE_BPF_VIP_H */
