/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A flag one thread raises while it works and another waits on to fall:
 * the drain walk holds the sweep (sweep.h). The waiter sleeps on a
 * condition variable, woken the moment the flag falls, and never longer
 * than it asks, so a worker that never ends cannot stop it for good.
 */
#ifndef SLUICE_HOLD_H
#define SLUICE_HOLD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct sl_hold {
	atomic_bool on;		/* written under @lock; read without it first */
	pthread_mutex_t lock;
	pthread_cond_t off;	/* CLOCK_MONOTONIC; broadcast when @on falls */
};

/* 0, or -errno from pthread. */
int sl_hold_init(struct sl_hold *h);
void sl_hold_destroy(struct sl_hold *h);

/* Raise or drop the flag; dropping it wakes every waiter. */
void sl_hold_set(struct sl_hold *h, bool on);

/* Wait while the flag is up, @max_ms at most: true once it is down,
 * false if it was still up after @max_ms. */
bool sl_hold_wait(struct sl_hold *h, unsigned int max_ms);

#endif /* SLUICE_HOLD_H */
