/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Next-hop resolution for backends through the kernel's routing and
 * neighbour tables (rtnetlink, via libmnl), so the datapath can use a
 * cached next hop per backend instead of a bpf_fib_lookup per packet.
 */
#ifndef SLUICE_NEXTHOP_H
#define SLUICE_NEXTHOP_H

#include <linux/types.h>
#include "sluice/abi.h"

struct sl_nh_ctx;

struct sl_nh {
	__u32 ifindex;
	__u8 dmac[6];
	__u8 smac[6];
	struct sluice_addr via;		/* gateway, or the backend itself */
	__u32 mtu;			/* route MTU if set, else the interface's */
};

struct sl_nh_ctx *sl_nh_open(void);
void sl_nh_close(struct sl_nh_ctx *ctx);

/*
 * Resolve the next hop towards @dst and the MTU on the way to it. Returns 0 with @nh filled, -EAGAIN
 * when the neighbour is not resolved yet (a resolution was triggered: ask
 * again later), -ENETUNREACH with no route, or another -errno.
 */
int sl_nh_resolve(struct sl_nh_ctx *ctx, const struct sluice_addr *dst,
		  __u8 family, struct sl_nh *nh);

#endif /* SLUICE_NEXTHOP_H */
