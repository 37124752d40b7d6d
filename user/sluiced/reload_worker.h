/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Reloads read and checked by a worker thread (reload_worker.c). */
#ifndef SLUICED_RELOAD_WORKER_H
#define SLUICED_RELOAD_WORKER_H

struct sl_daemon;
struct sl_config;

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

int sl_reload_init(struct sl_daemon *d);
/* SIGHUP: start reading d->cfg_path in the background (one at a time). */
void sl_reload_request(struct sl_daemon *d);
/*
 * sluicectl reload: start one, or queue one after the one running; its
 * number in @gen (the client's reply waits for it: sl_ctl_reload_done).
 * -EBUSY: one with the other @exact is already queued.
 */
int sl_reload_request_ctl(struct sl_daemon *d, bool exact, __u64 *gen);
/* d->reload_fd is readable: apply the worker's config, or log its error. */
void sl_reload_on_done(struct sl_daemon *d);


#endif /* SLUICED_RELOAD_WORKER_H */
