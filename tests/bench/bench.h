/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make bench: what the C drivers in tests/bench/ share. Each driver
 * prints one JSON object on stdout with its raw per-repetition figures;
 * scripts/bench-report.py computes medians, spreads and ratios. Nothing
 * here passes or fails on time: a driver exits non-zero only when it
 * cannot measure (a load, a map update or a test run failed).
 */
#ifndef SLUICE_BENCH_H
#define SLUICE_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <linux/types.h>

static inline void __attribute__((format(printf, 1, 2), noreturn))
bench_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static inline __u64 bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* CPU time (user + system) this thread has used, in ns. */
static inline __u64 bench_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Keep this thread on @cpu (per-CPU LRU lists and caches stay put). */
static inline void bench_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		bench_die("cannot pin to CPU %d: %s", cpu, strerror(errno));
}

static inline int bench_cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Summary of one repetition's per-call samples (sorted in place): the
 * median, and the mean without the slowest 1% (an interrupt or a
 * preemption landing inside the timed region is not the program's cost).
 */
struct bench_summary {
	double median;
	double mean;
};

static inline struct bench_summary bench_summarize(__u32 *v, size_t n)
{
	struct bench_summary s = { 0, 0 };
	size_t i, keep;
	double sum = 0;

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), bench_cmp_u32);
	s.median = n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
	keep = n - n / 100;
	for (i = 0; i < keep; i++)
		sum += v[i];
	s.mean = sum / keep;
	return s;
}

#endif /* SLUICE_BENCH_H */
