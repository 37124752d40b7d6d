/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared by cluster.c (the etcd thread) and cluster_apply.c (the main thread). */
#ifndef SLUICED_CLUSTER_PRIV_H
#define SLUICED_CLUSTER_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "cluster.h"

struct sl_cluster {
	struct sl_daemon *d;
	pthread_t thr;
	atomic_bool stop;	/* the main thread asks the etcd thread to end */
	pthread_mutex_t lock; /* guards everything below but the main-only part */
	/* etcd thread -> main thread: the latest revision of PREFIX/desired. */
	char *pending;
	size_t pending_len;
	int64_t pending_rev;
	bool pending_deleted;
	/* main thread -> etcd thread: the box report, put when dirty. */
	char *report;
	bool report_dirty;
	bool box_drain_wanted;
	/* main thread: st.applied_rev came from the state file, and the
	 * first document read since applies even at that revision (the
	 * config file may have changed the state while sluiced was down). */
	bool resumed;
	/* etcd thread only: who we are, and the lease our report had last. */
	char owner[SL_CLUSTER_OWNER_MAX];
	int64_t prev_lease; /* main thread: boxes_drained names us */
	/* Both: status and metrics read it through sl_cluster_get_status(). */
	struct sl_cluster_status st;
};

#endif /* SLUICED_CLUSTER_PRIV_H */
