/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Prometheus text exposition format (version 0.0.4) of sluiced's
 * state: a pure renderer over a snapshot of the desired state and the
 * datapath counters, so it is unit-testable without maps or a daemon.
 * user/sluiced/metrics_http.c serves it over HTTP.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "sluice/abi.h"
#include "procstat.h"

/* What GET /metrics answers with (the 0.0.4 text format). */
#define SL_METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define SL_METRICS_PATH		"/metrics"

/*
 * The datapath counters, summed over CPUs, indexed like the maps: by VIP
 * id, by backend id, by SLUICE_R_*. They come from the pinned per-CPU
 * arrays, which outlive sluiced: counters keep counting across daemon
 * restarts and upgrades, so they only go back when the maps are removed
 * (sluiced --detach) or a backend id is reused.
 */
struct sl_counters {
	struct sluice_vip_stats vip[SLUICE_MAX_VIPS];
	struct sluice_be_stats be[SLUICE_MAX_BACKENDS];
	__u64 reasons[SLUICE_R_MAX];
	/* sluiced's own resource use, read at scrape time: process_* metrics. */
	struct sl_proc proc;
	bool have_proc;
};

struct sl_snapshot;	/* snapshot.h */

/*
 * Render every metric family of @snap and @ctr (instance label @instance)
 * into a malloc'ed buffer: *out (NUL-terminated, free() it) of *len bytes
 * without the NUL. Families appear in a fixed order, each with its HELP
 * and TYPE lines, all of its samples grouped under them. Returns 0 or
 * -ENOMEM (then *out is NULL).
 */
int sl_metrics_render(const struct sl_snapshot *snap, const struct sl_counters *ctr,
		      const char *instance, char **out, size_t *len);

/*
 * Escape a label value for the text format (backslash, double quote and
 * newline), truncated to fit @len. Returns @buf.
 */
char *sl_metrics_escape_label(const char *s, char *buf, size_t len);

#endif /* SLUICE_METRICS_H */
