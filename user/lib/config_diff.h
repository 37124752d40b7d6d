/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which settings of a reloaded config a reload cannot apply: a reload
 * applies VIPs, backends, weights and health checks; everything else is
 * read once at start. Saying so keeps an operator from believing an edit
 * is in force.
 */
#ifndef SLUICE_CONFIG_DIFF_H
#define SLUICE_CONFIG_DIFF_H

#include <stddef.h>

#include "config.h"

/*
 * List in @buf (", "-separated) the restart-only settings that differ
 * between @running and @next, each marked with what it takes: "(restart)",
 * or "(restart refuses it while maps are pinned: needs sluiced --detach,
 * which drops flows)". Returns how many differ; @buf is "" when none.
 */
size_t sl_config_restart_changes(const struct sl_config *running,
				 const struct sl_config *next, char *buf, size_t len);

#endif /* SLUICE_CONFIG_DIFF_H */
