/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Checks of a valid config against this machine, for what a start would
 * refuse: interfaces that do not exist, a pin directory off bpffs, pinned
 * maps of another size. `sluiced --check` runs them all and reports every
 * problem; a start runs them before it touches anything.
 */
#ifndef SLUICE_ENVCHECK_H
#define SLUICE_ENVCHECK_H

#include <stddef.h>

#include "config.h"

/* Problems found so far, one "problem" or "hint: ..." per line. */
struct sl_problems {
	char text[8192];
	unsigned int n;		/* problems (hint lines not counted) */
};

void sl_problems_init(struct sl_problems *p);
/* Add a problem; @msg may carry "\nhint: ..." lines of its own. */
void sl_problem_add(struct sl_problems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Each interface in the config exists here (sluiced attaches to it). */
void sl_check_ifaces(const struct sl_config *cfg, struct sl_problems *p);
/* flows.table_size and flows.drain_table_size match the pinned maps, if any. */
void sl_check_pinned_sizes(const struct sl_config *cfg, struct sl_problems *p);
/* The pin directory is on bpffs (nothing is created). */
void sl_check_pindir(const struct sl_config *cfg, struct sl_problems *p);
/* All of the above; the number of problems found. */
unsigned int sl_check_env(const struct sl_config *cfg, struct sl_problems *p);

#endif /* SLUICE_ENVCHECK_H */
