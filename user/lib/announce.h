/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Announcing VIPs to the routers: sluiced keeps one host route per VIP
 * address it serves in a dedicated kernel routing table, and the box's BIRD
 * (kernel protocol, "learn") exports that table over BGP. The routes point
 * at a TUN device that only sluiced holds open: when sluiced stops or dies,
 * for any reason, the kernel removes the device and every route through
 * it, and BIRD withdraws them at once. Nothing has to run to withdraw.
 */
#ifndef SLUICE_ANNOUNCE_H
#define SLUICE_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "sluice/abi.h"

#define SL_ANNOUNCE_MAX		(SLUICE_MAX_VIPS)

struct sl_ann_addr {
	struct sluice_addr addr;
	__u8 family;			/* SLUICE_AF_* */
};

struct sl_announce;

/*
 * Create the TUN device @dev (up, no address) and prepare routing table
 * @table. A device of that name that exists already is refused: another
 * process announces through it. NULL with a message in @err.
 */
struct sl_announce *sl_announce_open(const char *dev, __u32 table, char *err,
				     size_t errlen);

/*
 * Make the table hold exactly the host routes for @addrs (duplicates
 * ignored): routes are added before any is removed. 0, or -errno with
 * @err; on error the routes already changed stay changed, and the next
 * call repairs the rest.
 */
int sl_announce_set(struct sl_announce *a, const struct sl_ann_addr *addrs,
		    size_t n, char *err, size_t errlen);

/* The addresses announced now; returns how many (at most @max copied). */
size_t sl_announce_list(const struct sl_announce *a, struct sl_ann_addr *out,
			size_t max);

/* Withdraw everything: closing the device removes its routes. */
void sl_announce_close(struct sl_announce *a);

struct sl_state;

/*
 * The addresses to announce for @st (announce_want.c): those of VIPs with
 * a backend in their live table, none while @withdraw_all (the box is
 * drained, or cannot balance). Returns how many were written to @out (at
 * most @max), each address once.
 */
size_t sl_announce_wanted(const struct sl_state *st, bool withdraw_all,
			  struct sl_ann_addr *out, size_t max);

/* Is @table usable for announcements (not unspec, default, main, local)? */
bool sl_announce_table_ok(__u32 table);

#endif /* SLUICE_ANNOUNCE_H */
