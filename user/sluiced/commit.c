// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The commit transaction (daemon.h): a new desired state goes into the
 * maps whole or not at all, is persisted, and is published for the
 * threads that only read it (metrics, health checks, agents).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent_poll.h"
#include "daemon.h"
#include "persist.h"

void sl_snapshot_publish(struct sl_daemon *d)
{
	static int agent_sockets[SLUICE_MAX_BACKENDS];
	struct sl_cluster_status cs;
	struct sl_state copy;

	sl_ann_update(d);	/* every state change passes here */
	if (sl_state_copy(&copy, &d->st))
		return;		/* keep the previous snapshot */
	sl_agent_counts(d, agent_sockets, SLUICE_MAX_BACKENDS);
	pthread_mutex_lock(&d->snap_lock);
	memcpy(d->snap.agent_sockets, agent_sockets, sizeof(agent_sockets));
	sl_state_free(&d->snap.st);
	d->snap.st = copy;
	d->snap.flow_entries = d->sweep_last->entries;
	d->snap.new_entries = d->sweep_last->new_entries;
	d->snap.flow_capacity = sl_flows_capacity(&d->maps);
	d->snap.new_capacity = d->cfg.new_table_size;
	d->snap.sweep_duration_us = d->sweep_last->duration_us;
	d->snap.sweep_time = d->sweep_time;
	d->snap.walk_time = d->walk_time;
	d->snap.sweeps = d->sweeps;
	d->snap.walks = d->walks;
	d->snap.walker = d->walker != NULL;
	d->snap.expired_total = d->expired_total;
	d->snap.started_unix_ms = d->started_ms;
	memset(d->snap.all_down, 0, sizeof(d->snap.all_down));
	for (size_t i = 0; i < d->st.n_vips; i++)
		d->snap.all_down[d->st.vips[i].id] = sl_vip_all_down(&d->st.vips[i]);
	d->snap.announce_enabled = d->ann != NULL;
	d->snap.box_drained = d->box_drained;
	d->snap.n_announced = sl_announce_list(d->ann, d->snap.announced, SL_ANNOUNCE_MAX);
	sl_cluster_get_status(d, &cs);
	d->snap.cluster.enabled = cs.enabled;
	d->snap.cluster.connected = cs.connected;
	d->snap.cluster.name_conflict = cs.name_conflict;
	d->snap.cluster.applied_rev = cs.applied_rev;
	d->snap.cluster.rejected_rev = cs.rejected_rev;
	pthread_mutex_unlock(&d->snap_lock);
	sl_cluster_report(d);
}

/* The control socket reads d->dp.table_fp, the metrics thread d->snap's copy. */
static void fp_changed(void *arg, __u32 vip_id, __u64 fp)
{
	struct sl_daemon *d = arg;

	pthread_mutex_lock(&d->snap_lock);
	d->snap.table_fp[vip_id] = fp;
	pthread_mutex_unlock(&d->snap_lock);
}

void sl_daemon_dp_init(struct sl_daemon *d)
{
	d->dp.maps = &d->maps;
	d->dp.cfg = &d->cfg;
	d->dp.fp_changed = fp_changed;
	d->dp.arg = d;
}

int sl_daemon_commit(struct sl_daemon *d, struct sl_state *next, char *err,
		     size_t errlen)
{
	char ignore[256];
	bool started;
	int rc;

	/*
	 * Every change passes here (control socket, reload, etcd): refuse one
	 * that outgrows a Maglev table before anything is touched. sl_dp_sync()
	 * refuses it too, but its failure would send us down the rollback
	 * below, which republishes every table for nothing.
	 */
	rc = sl_state_check_table_size(next, d->maps.ring_size, err, errlen);
	if (rc)
		return rc;
	/* Drains this commit starts take effect with it: number them. */
	started = sl_drains_arm(d, next);
	rc = sl_dp_sync(&d->dp, next, err, errlen);
	if (!rc)
		rc = sl_state_save(d->state_path, next, &d->cfg_applied, err, errlen);
	if (rc) {
		/* Put the datapath back to the state still in force. */
		memset(d->dp.table_sig, 0, sizeof(d->dp.table_sig));
		sl_dp_sync(&d->dp, &d->st, ignore, sizeof(ignore));
		return rc;
	}
	sl_state_free(&d->st);
	d->st = *next;
	sl_state_init(next);
	sl_drains_publish(d, started);
	sl_snapshot_publish(d);
	return 0;
}
