// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A flag to wait on until it falls (see hold.h). */
#include <errno.h>
#include <time.h>

#include "hold.h"

int sl_hold_init(struct sl_hold *h)
{
	pthread_condattr_t attr;
	int rc;

	atomic_init(&h->on, false);
	rc = pthread_mutex_init(&h->lock, NULL);
	if (rc)
		return -rc;
	rc = pthread_condattr_init(&attr);
	if (!rc) {
		/* A deadline on the monotonic clock: a wall-clock step
		 * neither cuts a hold short nor makes it endless. */
		rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		if (!rc)
			rc = pthread_cond_init(&h->off, &attr);
		pthread_condattr_destroy(&attr);
	}
	if (rc)
		pthread_mutex_destroy(&h->lock);
	return -rc;
}

void sl_hold_destroy(struct sl_hold *h)
{
	pthread_cond_destroy(&h->off);
	pthread_mutex_destroy(&h->lock);
}

void sl_hold_set(struct sl_hold *h, bool on)
{
	pthread_mutex_lock(&h->lock);
	atomic_store(&h->on, on);
	if (!on)
		pthread_cond_broadcast(&h->off);
	pthread_mutex_unlock(&h->lock);
}

bool sl_hold_wait(struct sl_hold *h, unsigned int max_ms)
{
	struct timespec at;
	bool off;

	if (!atomic_load(&h->on))
		return true;	/* the common case: no lock taken */
	clock_gettime(CLOCK_MONOTONIC, &at);
	at.tv_sec += max_ms / 1000;
	at.tv_nsec += (long)(max_ms % 1000) * 1000000L;
	at.tv_sec += at.tv_nsec / 1000000000L;
	at.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&h->lock);
	while (atomic_load(&h->on))
		if (pthread_cond_timedwait(&h->off, &h->lock, &at) == ETIMEDOUT)
			break;
	off = !atomic_load(&h->on);
	pthread_mutex_unlock(&h->lock);
	return off;
}
