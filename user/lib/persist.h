/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The persisted state file: the running state (VIPs, backends, weights,
 * ids, drains with their deadlines) plus the config file's VIP section as
 * last applied, so a restarted sluiced resumes exactly, and edits made to
 * the file while it was down still apply. JSON, written atomically
 * (temporary file, fsync, rename, fsync of the directory).
 */
#ifndef SLUICE_PERSIST_H
#define SLUICE_PERSIST_H

#include <stddef.h>
#include "config.h"
#include "state.h"

#define SL_STATE_FILE "state.json"

/* The config file's VIPs as a state: every backend active. */
int sl_state_from_config(struct sl_state *st, const struct sl_config *cfg,
			 char *err, size_t errlen);

int sl_state_save(const char *path, const struct sl_state *st,
		  const struct sl_state *cfg_applied, char *err, size_t errlen);
/* -ENOENT when there is no file (first start); other errors name the file. */
int sl_state_load(const char *path, struct sl_state *st,
		  struct sl_state *cfg_applied, char *err, size_t errlen);

#endif /* SLUICE_PERSIST_H */
