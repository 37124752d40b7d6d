/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Next-hop resolution for backends through the kernel's routing and
 * neighbour tables (rtnetlink, via libmnl), so the datapath can use a
 * cached next hop per backend instead of a bpf_fib_lookup per packet.
 */
#ifndef SLUICE_NEXTHOP_H
#define SLUICE_NEXTHOP_H

#include <stdbool.h>
#include <linux/types.h>
#include "sluice/abi.h"

struct sl_nh_ctx;

struct sl_nh {
	__u32 ifindex;
	__u8 dmac[6];
	__u8 smac[6];
	struct sluice_addr via;		/* gateway, or the backend itself */
	__u32 mtu;			/* route MTU if set, else the interface's */
	__u16 state;			/* the kernel's NUD_* for via */
	bool confirmed;			/* reachable now (not merely remembered) */
};

struct sl_nh_ctx *sl_nh_open(void);
void sl_nh_close(struct sl_nh_ctx *ctx);

/*
 * Resolve the next hop towards @dst and the MTU on the way to it. Returns 0 with @nh filled (a STALE
 * neighbour is used, and the kernel asked to probe it: sluice's XDP
 * traffic never confirms it), -EAGAIN when the neighbour is not resolved
 * yet, -EHOSTUNREACH when the kernel's probes failed (the MAC is gone; a
 * new resolution was triggered either way: ask again later), -ENETUNREACH
 * with no route, or another -errno.
 */
int sl_nh_resolve(struct sl_nh_ctx *ctx, const struct sluice_addr *dst,
		  __u8 family, struct sl_nh *nh);


/*
 * Neighbour changes (RTM_NEWNEIGH/DELNEIGH on RTNLGRP_NEIGH): a
 * non-blocking socket for the caller's event loop. read() calls @cb for
 * each change and returns how many batches it read, or -errno: -ENOBUFS
 * when changes were lost (the kernel's queue overflowed: re-resolve all).
 */
struct sl_nh_mon;
typedef void (*sl_nh_event_cb)(__u32 ifindex, __u8 family,
			       const struct sluice_addr *dst, void *arg);
struct sl_nh_mon *sl_nh_monitor_open(void);
void sl_nh_monitor_close(struct sl_nh_mon *m);
int sl_nh_monitor_fd(const struct sl_nh_mon *m);
int sl_nh_monitor_read(struct sl_nh_mon *m, sl_nh_event_cb cb, void *arg);

#endif /* SLUICE_NEXTHOP_H */
