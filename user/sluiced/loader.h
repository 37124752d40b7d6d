/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Load, attach and detach the XDP program over its pinned maps (loader.c). */
#ifndef SLUICED_LOADER_H
#define SLUICED_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "pins.h"

struct sl_daemon;

/* Pinned maps whose layout the config changed and that may simply be
 * re-created (sl_new, sl_rings) are unpinned first. 0. */
int sl_loader_prepare_pins(struct sl_daemon *d);

/* Open and load the program over the pinned maps (created if absent),
 * carrying an older sluiced's layout over; fills d->skel, d->maps. 0 or
 * -errno, logged. */
int sl_loader_load(struct sl_daemon *d);

/* Attach to every configured interface through pinned links. 0 or -errno,
 * logged. */
int sl_loader_attach(struct sl_daemon *d);

/*
 * The device now named ifaces[@i], @ifindex, does not run our program
 * (@st, as the caller asked the kernel). If it is a new device (another
 * ifindex than the one attached to) with no XDP program, attach to it
 * again, re-resolve next hops and say so. Never over another program
 * (that is said once, and left alone), nor onto the device we were
 * detached from (an operator's doing). True when attached again; a
 * failure is logged once per device.
 */
bool sl_loader_reattach(struct sl_daemon *d, size_t i, unsigned int ifindex,
			enum sl_xdp_state st);

/*
 * An older sluiced's single flow table, carried into the shards by the
 * load and the attach, is let go once the start has succeeded
 * (@started), or pinned back where it was when the start failed (after
 * its own pins were undone), so that no flow is lost to a failed start.
 */
void sl_loader_flows_done(struct sl_daemon *d, bool started);

/* --detach: off every interface, pins and saved state removed. An exit
 * code (SL_EXIT_*). */
int sl_loader_detach(struct sl_daemon *d);

#endif /* SLUICED_LOADER_H */
