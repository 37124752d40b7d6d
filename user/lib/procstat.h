/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The calling process's own resource use, from /proc/self, for the
 * standard Prometheus process_* metrics (the names client libraries use,
 * so existing dashboards and alerts for any exporter work on sluiced).
 */
#ifndef SLUICE_PROCSTAT_H
#define SLUICE_PROCSTAT_H

#include <linux/types.h>

struct sl_proc {
	__u64 cpu_us;		/* user + system time */
	__u64 rss_bytes;	/* resident set */
	__u64 vsize_bytes;	/* virtual memory */
	__u64 open_fds;
	__u64 max_fds;		/* RLIMIT_NOFILE, soft */
	__u64 start_unix_ms;	/* when the process started */
};

/* Fill @p for the calling process; 0 or -errno (then @p is unusable). */
int sl_proc_read(struct sl_proc *p);

#endif /* SLUICE_PROCSTAT_H */
