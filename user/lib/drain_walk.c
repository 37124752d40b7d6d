// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The drain walk: load and run the in-kernel sl_flows walk (drain_walk.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "drain_walk.h"
#include "drain_walk.skel.h"

struct sl_drain_walker {
	struct drain_walk_bpf *skel;
	const struct sl_maps *m;
	int nice_err;
};

void sl_drain_walker_close(struct sl_drain_walker *w)
{
	if (!w)
		return;
	drain_walk_bpf__destroy(w->skel);
	free(w);
}

int sl_drain_walker_open(const struct sl_maps *m, struct sl_drain_walker **out,
			 char *err, size_t errlen)
{
	struct sl_drain_walker *w = calloc(1, sizeof(*w));
	int rc = -ENOMEM;

	*out = NULL;
	if (w) {
		w->m = m;
		w->skel = drain_walk_bpf__open();
		rc = w->skel ? 0 : -errno;
	}
	if (!rc)
		rc = bpf_map__reuse_fd(w->skel->maps.sl_flows, m->flows);
	if (!rc)
		rc = bpf_map__reuse_fd(w->skel->maps.sl_pinned, m->drain_table);
	if (!rc)
		rc = drain_walk_bpf__load(w->skel);
	if (!rc) {
		*out = w;
		return 0;
	}
	snprintf(err, errlen,
		 "cannot load the drain walk (a syscall program): %s; "
		 "drains wait for a full sweep instead",
		 strerror(-rc));
	sl_drain_walker_close(w);
	return rc;
}

int sl_drain_walker_nice_err(const struct sl_drain_walker *w)
{
	return w->nice_err;
}

static __u64 thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/*
 * The walk holds its CPU (migration disabled) for about a second at 10M
 * flows, and its time is memory latency the kernel's loop spends whatever
 * the program does (docs/design.md). A task sharing that CPU at the same
 * nice took half of it or more: 3.0-4.3 s instead of 1.1-1.3 s with a
 * busy loop beside it (tests/bench/bench_walk.c). At nice -10 the walk
 * gets about 90% of the CPU and the other task the rest, for that second,
 * once per drain. @tid's nice before, or INT_MIN when it could not be read.
 */
static int boost(struct sl_drain_walker *w, pid_t tid)
{
	int old;

	errno = 0;
	old = getpriority(PRIO_PROCESS, tid);
	if (errno) {
		w->nice_err = -errno;
		return INT_MIN;
	}
	w->nice_err = 0;
	if (old > SL_DRAIN_WALK_NICE &&
	    setpriority(PRIO_PROCESS, tid, SL_DRAIN_WALK_NICE))
		w->nice_err = -errno;
	return old;
}

static int run(struct sl_drain_walker *w)
{
	pid_t tid = syscall(SYS_gettid);
	int old = boost(w, tid), rc = 0;
	int fd = bpf_program__fd(w->skel->progs.sl_drain_walk);
	__u64 ctx = 0;
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx));

	if (bpf_prog_test_run_opts(fd, &opts))
		rc = -errno;
	/* Back up to the thread's own nice: always allowed. */
	if (old != INT_MIN && !w->nice_err)
		setpriority(PRIO_PROCESS, tid, old);
	return rc;
}

int sl_drain_walk(struct sl_drain_walker *w, const struct sl_sweep_cfg *cfg,
		  const bool *draining, struct sl_sweep_result *res)
{
	struct drain_walk_bpf__bss *bss = w->skel->bss;
	struct sl_pass pass = res->pass;
	__u64 start = sl_mono_us(), cpu = thread_cpu_us();
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	res->pass = pass;
	memset(bss, 0, sizeof(*bss));
	for (i = 0; i < SLUICE_MAX_BACKENDS; i++)
		bss->draining[i] = draining[i];
	bss->unconfirmed_ms = cfg->unconfirmed_ms;
	bss->close_grace_ms = cfg->close_grace_ms;
	bss->now_ms = sl_clock_now();
	/* sl_new before sl_flows: a promotion in between is seen in sl_flows. */
	rc = sl_sweep_new_handshakes(w->m, cfg, res);
	if (!rc)
		rc = run(w);
	for (i = 0; !rc && i < SLUICE_MAX_BACKENDS; i++) {
		if (!draining[i])
			continue;
		res->handshakes[i] += bss->handshakes[i];
		res->unprotected_be[i] = bss->unprotected[i];
		res->unprotected += bss->unprotected[i];
	}
	res->entries = bss->walked;
	res->drain_table_entries = bss->kept;
	res->duration_us = sl_mono_us() - start;
	res->cpu_us = thread_cpu_us() - cpu;
	return rc;
}
