// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The drain walk: load and run the in-kernel sl_flows walk (drain_walk.h). */
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <stdatomic.h>
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

/* The walk of one sl_flows shard: its own program and .bss, its own thread. */
struct shard_walk {
	struct drain_walk_bpf *skel;
	struct sl_drain_walker *w;
	pthread_t tid;
	int rc, nice_err;
	int nice; /* its thread's, during the walk; INT_MIN: unread */
	__u64 cpu_us;
};

struct sl_drain_walker {
	struct shard_walk shard[SLUICE_FLOW_SHARDS];
	const struct sl_maps *m;
	int nice_err;
	/* Shard walks in the kernel now, and the most at once this walk. */
	atomic_uint inside, most;
};

void sl_drain_walker_close(struct sl_drain_walker *w)
{
	unsigned int i;

	if (!w)
		return;
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++)
		drain_walk_bpf__destroy(w->shard[i].skel);
	free(w);
}

static int shard_open(const struct sl_maps *m, unsigned int i,
		      struct shard_walk *sw)
{
	int rc;

	sw->nice = INT_MIN;
	sw->skel = drain_walk_bpf__open();
	if (!sw->skel)
		return -errno;
	rc = bpf_map__reuse_fd(sw->skel->maps.flows, m->flow_shard[i]);
	if (!rc)
		rc = bpf_map__reuse_fd(sw->skel->maps.sl_pinned,
				       m->drain_table);
	if (!rc)
		rc = drain_walk_bpf__load(sw->skel);
	return rc;
}

int sl_drain_walker_open(const struct sl_maps *m, struct sl_drain_walker **out,
			 char *err, size_t errlen)
{
	struct sl_drain_walker *w = calloc(1, sizeof(*w));
	unsigned int i;
	int rc = w ? 0 : -ENOMEM;

	*out = NULL;
	if (w)
		w->m = m;
	for (i = 0; !rc && i < SLUICE_FLOW_SHARDS; i++) {
		w->shard[i].w = w;
		rc = shard_open(m, i, &w->shard[i]);
	}
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

int sl_drain_walker_shard_nice(const struct sl_drain_walker *w, unsigned int i)
{
	return i < SLUICE_FLOW_SHARDS ? w->shard[i].nice : INT_MIN;
}

unsigned int sl_drain_walker_overlap(const struct sl_drain_walker *w)
{
	return atomic_load(&w->most);
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
 * once per drain. The thread is the shard walk's own and ends with it:
 * nothing to give back. Records the nice the thread then runs at.
 */
static void boost(struct shard_walk *sw, pid_t tid)
{
	int old;

	errno = 0;
	old = getpriority(PRIO_PROCESS, tid);
	sw->nice_err = -errno;
	if (!errno && old > SL_DRAIN_WALK_NICE &&
	    setpriority(PRIO_PROCESS, tid, SL_DRAIN_WALK_NICE))
		sw->nice_err = -errno;
	errno = 0;
	sw->nice = getpriority(PRIO_PROCESS, tid);
	if (errno)
		sw->nice = INT_MIN;
}

/* Shard walks in the kernel at once: one more, and the most seen. */
static void walk_enter(struct sl_drain_walker *w)
{
	unsigned int n = atomic_fetch_add(&w->inside, 1) + 1;
	unsigned int most = atomic_load(&w->most);

	while (n > most && !atomic_compare_exchange_weak(&w->most, &most, n))
		;
}

/* One shard's walk, on a thread of its own. */
static void *shard_run(void *arg)
{
	struct shard_walk *sw = arg;
	int fd = bpf_program__fd(sw->skel->progs.sl_drain_walk);
	__u64 ctx = 0, cpu;
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx));

	boost(sw, syscall(SYS_gettid));
	cpu = thread_cpu_us();
	walk_enter(sw->w);
	sw->rc = bpf_prog_test_run_opts(fd, &opts) ? -errno : 0;
	atomic_fetch_sub(&sw->w->inside, 1);
	sw->cpu_us = thread_cpu_us() - cpu;
	return NULL;
}

/*
 * Every shard at once, one thread each: the walk is memory latency, which
 * CPUs pay in parallel. 0, or the first error.
 */
static int run_shards(struct sl_drain_walker *w, __u64 *cpu_us)
{
	unsigned int i, started = 0;
	int rc = 0;

	atomic_store(&w->inside, 0);
	atomic_store(&w->most, 0);
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++) {
		w->shard[i].rc = 0;
		w->shard[i].cpu_us = 0;
		w->shard[i].nice = INT_MIN;
		if (pthread_create(&w->shard[i].tid, NULL, shard_run,
				   &w->shard[i])) {
			rc = -EAGAIN;
			break;
		}
		started++;
	}
	w->nice_err = 0;
	for (i = 0; i < started; i++) {
		pthread_join(w->shard[i].tid, NULL);
		*cpu_us += w->shard[i].cpu_us;
		if (!rc)
			rc = w->shard[i].rc;
		if (!w->nice_err)
			w->nice_err = w->shard[i].nice_err;
	}
	return rc;
}

/* Inputs into shard @sw's .bss, outputs zeroed. */
static void shard_prepare(struct shard_walk *sw, const struct sl_sweep_cfg *cfg,
			  const bool *draining, __u32 now)
{
	struct drain_walk_bpf__bss *bss = sw->skel->bss;
	size_t i;

	memset(bss, 0, sizeof(*bss));
	for (i = 0; i < SLUICE_MAX_BACKENDS; i++)
		bss->draining[i] = draining[i];
	bss->unconfirmed_ms = cfg->unconfirmed_ms;
	bss->close_grace_ms = cfg->close_grace_ms;
	bss->now_ms = now;
}

/* Shard @sw's outputs, added to @res. */
static void shard_collect(const struct shard_walk *sw, const bool *draining,
			  struct sl_sweep_result *res)
{
	const struct drain_walk_bpf__bss *bss = sw->skel->bss;
	size_t i;

	for (i = 0; i < SLUICE_MAX_BACKENDS; i++) {
		if (!draining[i])
			continue;
		res->handshakes[i] += bss->handshakes[i];
		res->unprotected_be[i] += bss->unprotected[i];
		res->unprotected += bss->unprotected[i];
	}
	res->entries += bss->walked;
	res->drain_table_entries += bss->kept;
}

int sl_drain_walk(struct sl_drain_walker *w, const struct sl_sweep_cfg *cfg,
		  const bool *draining, struct sl_sweep_result *res)
{
	struct sl_pass pass = res->pass;
	__u64 start = sl_mono_us(), cpu = thread_cpu_us(), shard_cpu = 0;
	__u32 now = sl_clock_now();
	unsigned int i;
	int rc;

	memset(res, 0, sizeof(*res));
	res->pass = pass;
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++)
		shard_prepare(&w->shard[i], cfg, draining, now);
	/* sl_new before sl_flows: a promotion in between is seen in sl_flows. */
	rc = sl_sweep_new_handshakes(w->m, cfg, res);
	if (!rc)
		rc = run_shards(w, &shard_cpu);
	for (i = 0; !rc && i < SLUICE_FLOW_SHARDS; i++)
		shard_collect(&w->shard[i], draining, res);
	res->duration_us = sl_mono_us() - start;
	res->cpu_us = thread_cpu_us() - cpu + shard_cpu;
	return rc;
}
