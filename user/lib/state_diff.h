/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What differs between two desired states, as lines for operators: what a
 * reload changed, how a config file differs from the running state. Only
 * what a config file can say is compared: VIPs, backends, weights and
 * health-check settings; drains and health results are runtime state.
 */
#ifndef SLUICE_STATE_DIFF_H
#define SLUICE_STATE_DIFF_H

#include <stddef.h>

#include "state.h"

#define SL_DIFF_LINE_MAX	256

/*
 * Call @fn(ctx, line) once per difference from @from to @to, VIPs in
 * @to's order then removals in @from's order:
 *   "added VIP 198.18.0.100:80/tcp"
 *   "removed VIP 198.18.0.100:80/tcp"
 *   "added backend 198.18.1.12 to 198.18.0.100:80/tcp (weight 100)"
 *   "removed backend 198.18.1.12 from 198.18.0.100:80/tcp"
 *   "weight of backend 198.18.1.12 on 198.18.0.100:80/tcp: 100 -> 50"
 *   "health check of 198.18.0.100:80/tcp: none -> tcp every 2s"
 *   "health check of backend 198.18.1.12 on 198.18.0.100:80/tcp: ..."
 * Returns how many lines there were (0: the same).
 */
typedef void (*sl_diff_line_fn)(void *ctx, const char *line);
size_t sl_state_diff(const struct sl_state *from, const struct sl_state *to,
		     sl_diff_line_fn fn, void *ctx);

/* "none", "tcp every 2s", "http /health port 8080 every 1s". */
void sl_health_cfg_text(const struct sl_health_cfg *hc, char *buf, size_t len);
bool sl_health_cfg_equal(const struct sl_health_cfg *a, const struct sl_health_cfg *b);

#endif /* SLUICE_STATE_DIFF_H */
