/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The effective configuration as a config file: the running settings of
 * @cfg with the VIPs, backends, weights and health checks of the running
 * state @st (runtime changes included), in a form sl_config_load()
 * accepts and that reproduces @st's VIPs and backends. Drains are
 * runtime state, not configuration: they appear as comments only.
 */
#ifndef SLUICE_CONFIG_DUMP_H
#define SLUICE_CONFIG_DUMP_H

#include <stdio.h>

#include "config.h"
#include "state.h"

/* Returns 0, or -EIO if writing to @f failed. */
int sl_config_dump(FILE *f, const struct sl_config *cfg, const struct sl_state *st);

/* The same into a malloc'ed NUL-terminated string (*out; free() it). */
int sl_config_dump_str(const struct sl_config *cfg, const struct sl_state *st,
		       char **out);

#endif /* SLUICE_CONFIG_DUMP_H */
