/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sluiced internals: one main thread owns the desired state, the maps'
 * control-plane side and the control socket (epoll); a sweeper thread
 * walks the flow tables, and a drain checker thread walks the drain table while
 * anything drains; each hands its counts to the main thread through an
 * eventfd, and the main thread alone decides drains (counting.c). Flow times are the kernel's coarse monotonic clock, read by the
 * datapath itself: nothing here keeps time for it.
 */
#ifndef SLUICED_DAEMON_H
#define SLUICED_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <linux/types.h>

#include <json-c/json.h>

#include "announce.h"
#include "config.h"
#include "ctl.h"
#include "dp.h"
#include "hold.h"
#include "lock.h"
#include "log.h"
#include "maps.h"
#include "nexthop.h"
#include "checker.h"
#include "cluster.h"
#include "pins.h"
#include "reload.h"
#include "state.h"
#include "snapshot.h"
#include "sweep.h"
#include "wallclock.h"
#include "sluice/version.h"

struct sluice_bpf;

/* Exit codes of sluiced. */
#define SL_EXIT_OK	0
#define SL_EXIT_FAIL	1
#define SL_EXIT_USAGE	2
#define SL_EXIT_CONFIG	3

struct sl_client {
	int fd;
	char *in;		/* partial request line */
	size_t in_len;
	char *out;		/* reply bytes not yet written */
	size_t out_len, out_off;
	__u64 last_active_ms;
	__u64 request_start_ms;	/* the next full request is due SL_CTL_REQUEST_MS after */
	unsigned int uid, pid;	/* the peer (SO_PEERCRED), for the audit log */
	bool waiting;		/* its reply comes when reload @reload_gen is done */
	__u64 reload_gen;
};

/*
 * The audit line of a control action answered late (a reload): who and
 * what, written with the outcome once reload @reload_gen is over. Kept
 * apart from the client, which may hang up while the reload still runs.
 * Each waiting client holds one; the rest of the room is for those that
 * hung up.
 */
struct sl_audit_due {
	char *who;		/* "uid=... pid=... cmd=... args=...", NULL: free */
	__u64 reload_gen;
};
#define SL_AUDIT_DUE_MAX	(SL_CTL_MAX_CLIENTS * 2)

struct sl_metrics;
struct sl_checker;
struct sl_reload;
struct sl_agent_poll;

struct sl_daemon {
	struct sl_config cfg;
	char cfg_path[4096];
	char state_path[4096 + 64];
	bool verbose;

	struct sluice_bpf *skel;
	struct sl_maps maps;
	int old_flows_fd; /* unsharded sl_flows being carried over, or -1 */
	__u32 prog_id;			/* our XDP program, as interfaces report it */

	struct sl_lock inst_lock;	/* one sluiced per instance (lock.c) */
	struct sl_pins pins;		/* what we pinned, kept in place (pins.c) */
	bool attached[SL_CFG_MAX_IFACES];	/* last check: ifaces[i] runs prog_id */
	/* The device each was attached to; a new one whose re-attach failed,
	 * or that came with another program (ifindexes, so each is logged
	 * once); re-attaches so far. */
	unsigned int ifindex[SL_CFG_MAX_IFACES];
	unsigned int reattach_failed[SL_CFG_MAX_IFACES];
	unsigned int reattach_other[SL_CFG_MAX_IFACES];
	__u64 reattaches;

	struct sl_state st;		/* desired state, main thread only */
	struct sl_state cfg_applied;	/* config VIPs as last applied */
	struct sl_dp dp;		/* the map sync over maps and cfg (dp.h) */
	struct sl_nh_mon *neigh_mon;	/* neighbour changes (neigh.c) */
	int neigh_fd;

	int epfd, listen_fd, sig_fd, sweep_fd, check_fd;
	struct sl_client clients[SL_CTL_MAX_CLIENTS];
	struct sl_audit_due audit_due[SL_AUDIT_DUE_MAX];

	pthread_t sweep_thr, check_thr;
	atomic_bool stop;		/* the main thread asks every thread to end */
	pthread_mutex_t lock;		/* guards the *_out results, draining, seq_in_force */
	pthread_cond_t drain_cond;	/* signalled when a *_kick moves */
	__u64 check_kick;		/* bumped to start a checker pass now */
	__u64 sweep_kick;		/* bumped to start a sweep now */
	struct sl_hold walking;		/* up while a drain walk runs: sweeps hold */
	/* The drain walk (drain_walk.h): NULL when the kernel refused it. */
	struct sl_drain_walker *walker;
	struct sl_sweep_result *walk_out;	/* latest, from the checker thread */
	struct sl_sweep_result *walk_last;	/* consumed by the main thread */
	bool walk_ready;			/* walk_out holds a new walk */
	__u64 walks;
	bool draining[SLUICE_MAX_BACKENDS]; /* ids whose flows the drain table keeps */
	/*
	 * Commit sequence numbers (drain.h): next_seq numbers the last commit
	 * that started a drain (main thread); seq_in_force is published once
	 * that commit is in the datapath, and every pass records it at its
	 * start. pass_tick: one counter both threads take at the start and
	 * the end of each pass (atomic), so passes can be ordered.
	 */
	__u64 next_seq;
	__u64 seq_in_force;
	__u64 pass_tick;
	struct sl_sweep_result *sweep_out;	/* latest, from the sweeper */
	struct sl_sweep_result *sweep_last;	/* consumed by the main thread */
	struct sl_check_result *check_out;	/* latest, from the checker */
	struct sl_check_result *check_last;	/* consumed by the main thread */
	struct sl_sweep_cfg sweep_cfg;
	__u64 sweeps, checks;
	int sweep_err, check_err;

	__u64 started_ms;		/* unix ms */
	__u64 started_boot_ms;		/* the same, for the uptime */
	struct sl_wallclock wallclock;	/* main thread: steps (clock.c) */
	bool wallclock_moved;		/* a step seen, not saved yet */
	char boot_id[SL_BOOT_ID_LEN + 1]; /* this boot's; "" if unreadable */
	__u64 expired_total;
	bool unprotected_noted; /* the drain table full was said (counting.c) */
	struct sl_hist sweep_time;	/* every sweep's duration */
	struct sl_hist walk_time; /* every drain walk's duration */

	pthread_mutex_t snap_lock;	/* guards snap */
	struct sl_snapshot snap;
	struct sl_metrics *metrics;
	struct sl_checker *health;
	int health_fd;			/* eventfd: check results queued */

	struct sl_announce *ann;	/* NULL: announcements off (announce_run.c) */
	bool box_drained;		/* every VIP withdrawn (sluicectl box drain) */
	bool datapath_lost;		/* an interface runs no sluice program: same */
	struct sl_reload *reload;	/* the SIGHUP worker (reload.c) */
	struct sl_agent_poll *agents;	/* the backends' agents (agent_poll.c) */
	int reload_fd;			/* eventfd: the worker is done */
	struct sl_cluster *cluster; /* NULL: no cluster: section (cluster.h) */
	int cluster_fd; /* eventfd: a desired revision arrived */
};

/*
 * pins.c: keep our pins in place and check that each interface runs our
 * program; rate-limited unless @force. Publishes the result in d->snap.
 */
void sl_watch_datapath(struct sl_daemon *d, bool force);
/* reload.c: one config reload, for SIGHUP and the control socket. */
struct json_object;
/*
 * Apply a config read by the reload worker (@load_rc 0), or reject one
 * that failed to read (@load_rc and @load_err). @exact: make VIPs,
 * backends and weights equal to the file (undo runtime changes) instead
 * of applying only what changed in it since it was last applied. Logs the
 * outcome, records it for metrics and returns the control reply's result
 * (applied, changes, rejected, restart, unix_ms; user/lib/ctl.h), or NULL
 * when out of memory. Frees @ncfg.
 */
struct json_object *sl_reload_finish(struct sl_daemon *d, bool exact, int load_rc,
				     struct sl_config *ncfg, const char *load_err);
/* Read @path as a reload does: a regular file, parsed in a sandboxed child
 * first, then loaded. 0, or -errno with @err. */
int sl_config_read(const char *path, struct sl_config *cfg, char *err, size_t errlen);
int sl_config_check_regular(const char *path, char *err, size_t errlen);
/*
 * Parse @path in a child with memory and CPU limits (main.c): 0 when it
 * parsed, else -errno with @err.
 */
int sl_config_precheck(const char *path, char *err, size_t errlen);

/* Republish d->snap from the live state (main thread). */
void sl_snapshot_publish(struct sl_daemon *d);

/* health_thread.c: active health checks (their own thread). */
int sl_health_start(struct sl_daemon *d);
void sl_health_stop(struct sl_daemon *d);
void sl_health_on_results(struct sl_daemon *d);

/* metrics_http.c: the Prometheus endpoint (libmicrohttpd, its own thread). */
int sl_metrics_start(struct sl_daemon *d, char *err, size_t errlen);
void sl_metrics_stop(struct sl_daemon *d);

/* clock.c: wall-clock Unix time in ms, for what is shown and saved. */
__u64 sl_unix_ms(void);
/* CLOCK_BOOTTIME in ms: for durations, which no clock step may bend. */
__u64 sl_boot_ms(void);
/*
 * Unix ms now, for timing drains (main thread only): a wall-clock step
 * since the last call first moves every running drain with it
 * (wallclock.h), says so, and leaves wallclock_moved for the next save.
 */
__u64 sl_daemon_now(struct sl_daemon *d);
/*
 * At start, once the saved state is loaded: the first sl_daemon_now(),
 * from the saved state's clock mark if it was taken in this boot, so a
 * step made while sluiced was stopped moves the drains it resumes.
 */
void sl_clock_resume(struct sl_daemon *d);

/* counting.c: the sweeper and drain checker threads, and the drain
 * decisions the main thread takes on their results. */
int sl_counting_start(struct sl_daemon *d);
void sl_counting_stop(struct sl_daemon *d);
void sl_counting_on_sweep(struct sl_daemon *d);
void sl_counting_on_check(struct sl_daemon *d);
/* Number the drains @st starts (before committing it): drain.h. */
bool sl_drains_arm(struct sl_daemon *d, struct sl_state *st);
/* After a commit that started drains: wait until no packet can still be
 * under the old flags, then publish the draining set and sequence. */
void sl_drains_publish(struct sl_daemon *d, bool settle);
/* announce_run.c: VIP routes for BIRD, and the box drain. */
void sl_ann_start(struct sl_daemon *d);
bool sl_ann_drained_by_fleet(const struct sl_daemon *d);
void sl_ann_update(struct sl_daemon *d);
void sl_ann_stop(struct sl_daemon *d);
/* @by_fleet: asked by the desired state in etcd, not a local box drain. */
int sl_ann_box_drain(struct sl_daemon *d, bool drain, bool by_fleet, char *err,
		     size_t errlen);
/* The main loop's check: does some interface run no sluice program (@lost)?
 * Then every VIP is withdrawn, as for a box drain, until all run it again. */
void sl_ann_datapath(struct sl_daemon *d, bool lost);
json_object *sl_ann_status(const struct sl_daemon *d);

/* neigh.c: re-resolve next hops; re-syncs backends whose next hop changed. */
void sl_dp_refresh_nexthops(struct sl_daemon *d);
/* commit.c: point d->dp at d's maps and config (before the first sync). */
void sl_daemon_dp_init(struct sl_daemon *d);

/* control.c: the control socket. */
int sl_ctl_listen(struct sl_daemon *d, char *err, size_t errlen);
void sl_ctl_accept(struct sl_daemon *d);
void sl_ctl_event(struct sl_daemon *d, struct sl_client *c, __u32 events);
void sl_ctl_reap_idle(struct sl_daemon *d);
void sl_ctl_close_all(struct sl_daemon *d);
/* One request line -> one reply line (malloc'd, '\n'-terminated). */
char *sl_ctl_handle(struct sl_daemon *d, const char *line, size_t *len);
/* The same for client @c, with an audit line for every control action. */
char *sl_ctl_handle_client(struct sl_daemon *d, const struct sl_client *c,
			   const char *line, size_t *len);
/* Reload number @gen is over: answer the clients that waited for it. */
void sl_ctl_reload_done(struct sl_daemon *d, __u64 gen, struct json_object *result);

/*
 * Replace the running state with @next (already validated, but for what
 * only the running datapath knows: a VIP with more backends than its
 * Maglev table has slots is refused here, -ENOSPC): sync the maps,
 * persist, and keep it. On failure the old state stays in force (maps
 * re-synced to it) and @err says why.
 */
int sl_daemon_commit(struct sl_daemon *d, struct sl_state *next, char *err,
		     size_t errlen);

/*
 * loop.c: set up the main loop's descriptors (signals, eventfds, the
 * control socket) and run it until SIGTERM/SIGINT (0) or an error (-errno).
 */
int sl_loop_setup(struct sl_daemon *d);
int sl_loop_run(struct sl_daemon *d);
/* Tell systemd we serve (READY=1, with the VIP and backend counts). */
void sl_notify_serving(const struct sl_daemon *d);

#endif /* SLUICED_DAEMON_H */
