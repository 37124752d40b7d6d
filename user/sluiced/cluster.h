/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The fleet's desired state (cluster: in the config): a thread keeps a
 * session with etcd (etcd.h), hands every revision of PREFIX/desired to
 * the main thread, which applies it whole through the commit path or
 * refuses it whole, and publishes the box's report under PREFIX/boxes/NAME
 * with a lease, so a dead box's report goes with it. Losing etcd changes
 * nothing in the datapath: the last applied revision stays in force.
 */
#ifndef SLUICED_CLUSTER_H
#define SLUICED_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include <json-c/json.h>

struct sl_daemon;

/* Who runs a box: HOST/INSTANCE (a takeover by the same owner is allowed). */
#define SL_CLUSTER_OWNER_MAX 256

/* What status and metrics show. */
struct sl_cluster_status {
	bool enabled, connected;
	/* Another live sluiced holds our box name: we do not join. */
	bool name_conflict;
	char conflict_holder[SL_CLUSTER_OWNER_MAX];
	/* PREFIX/desired is not in etcd (a new fleet, or deleted). */
	bool desired_absent;
	int64_t applied_rev; /* the desired revision in force; 0: none yet */
	int64_t rejected_rev; /* the last revision refused; 0: none */
	__u64 applied_unix_ms;
	char rejected[512]; /* why it was refused */
	char last_error[512]; /* why etcd is unreachable */
};

/* Start the etcd thread when the config has cluster:; 0 or -errno. */
int sl_cluster_start(struct sl_daemon *d);
/* Stop it and revoke the lease (the report goes at once). */
void sl_cluster_stop(struct sl_daemon *d);
/* Main thread: d->cluster_fd is readable; apply what arrived. */
void sl_cluster_on_desired(struct sl_daemon *d);
/* Main thread: republish the box report (after every commit and sweep). */
void sl_cluster_report(struct sl_daemon *d);
void sl_cluster_get_status(const struct sl_daemon *d,
			   struct sl_cluster_status *s);
json_object *sl_cluster_status_json(const struct sl_daemon *d);

#endif /* SLUICED_CLUSTER_H */
