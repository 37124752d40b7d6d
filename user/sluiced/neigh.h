/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Next hops that follow the kernel's neighbour changes (neigh.c). */
#ifndef SLUICED_NEIGH_H
#define SLUICED_NEIGH_H

struct sl_daemon;

/* Listen to neighbour changes on the main loop (d->neigh_fd). */
int sl_neigh_start(struct sl_daemon *d);
/* d->neigh_fd is readable: re-resolve next hops if a backend's changed. */
void sl_neigh_on_event(struct sl_daemon *d);
/* After a refresh: count packets sent through unconfirmed next hops. */
void sl_neigh_account(struct sl_daemon *d);

#endif /* SLUICED_NEIGH_H */
