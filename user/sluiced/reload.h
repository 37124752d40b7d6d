/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* SIGHUP reloads read and checked by a worker thread (reload.c). */
#ifndef SLUICED_RELOAD_H
#define SLUICED_RELOAD_H

struct sl_daemon;
struct sl_config;

#include <stddef.h>

int sl_reload_init(struct sl_daemon *d);
/* SIGHUP: start reading d->cfg_path in the background (one at a time). */
void sl_reload_request(struct sl_daemon *d);
/* d->reload_fd is readable: apply the worker's config, or log its error. */
void sl_reload_on_done(struct sl_daemon *d);

/* main.c: apply a loaded config to the running state; frees @ncfg. */
void sl_reload_apply(struct sl_daemon *d, struct sl_config *ncfg);
/* main.c: parse @path in a sandboxed child first (limits, timeout). */
int sl_config_precheck(const char *path, char *err, size_t errlen);

#endif /* SLUICED_RELOAD_H */
