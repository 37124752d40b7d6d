// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Counting live flows and deciding drains (docs/design.md, "Counting live flows and deciding drains").
 *
 * Two threads gather evidence: the sweeper walks every table each
 * sweep_interval (sweep.h); the drain checker walks only sl_pinned each
 * drain.check_interval while anything drains (checker.h). Each pass
 * records the commit sequence in force and a tick at its start and end.
 * The main thread alone turns their results into counts and decisions,
 * through the completion rule in user/lib/drain.c, and writes the drain
 * flags to the datapath.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "neigh.h"
#include "agent_poll.h"
#include "persist.h"
#include "drain_walk.h"

/*
 * After a commit that changes drain flags, packets the datapath was
 * processing under the old flags finish within microseconds (one XDP
 * run); waiting this long before saying "in force" covers any NAPI poll.
 */
#define SETTLE_NS	(2 * 1000000L)

static void settle(void)
{
	struct timespec ts = { 0, SETTLE_NS };

	nanosleep(&ts, NULL);
}

static __u64 tick(struct sl_daemon *d)
{
	return __atomic_add_fetch(&d->pass_tick, 1, __ATOMIC_SEQ_CST);
}

/*
 * A pass's pause: @ms, cut short when *@watch (guarded by d->lock) moves
 * past @seen, so that a pass the drain rule waits for starts at once
 * rather than at the next interval. The sweeper watches sweep_kick: without
 * a drain walk (or when one failed), step 2 of the completion rule waits for
 * a full sweep that began after the drain. The checker watches check_kick:
 * a drain in force waits for its drain walk, a DRAINED flag just set for one
 * more checker pass. Steps of at most 50ms keep a stop request seen soon.
 */
static void pause_pass(struct sl_daemon *d, __u64 ms, const __u64 *watch, __u64 seen)
{
	__u64 end = sl_mono_us() + ms * 1000, now, step;
	struct timespec at;

	pthread_mutex_lock(&d->lock);
	while (!d->stop && *watch == seen) {
		now = sl_mono_us();
		if (now >= end)
			break;
		step = end - now < 50000 ? end - now : 50000;
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_nsec += (long)(step * 1000);
		at.tv_sec += at.tv_nsec / 1000000000L;
		at.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&d->drain_cond, &d->lock, &at);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Start a checker pass now: a drain waits for one that begins after this. */
static void kick_checker(struct sl_daemon *d)
{
	pthread_mutex_lock(&d->lock);
	d->check_kick++;
	pthread_cond_broadcast(&d->drain_cond);
	pthread_mutex_unlock(&d->lock);
}

static __u64 watched(struct sl_daemon *d, const __u64 *watch)
{
	__u64 v;

	pthread_mutex_lock(&d->lock);
	v = *watch;
	pthread_mutex_unlock(&d->lock);
	return v;
}

/* The sequence first, then the tick: a pass never claims a commit that
 * was not in force before it began. */
static void pass_begin(struct sl_daemon *d, struct sl_pass *p, bool *draining)
{
	pthread_mutex_lock(&d->lock);
	p->seq = d->seq_in_force;
	memcpy(draining, d->draining, sizeof(d->draining));
	pthread_mutex_unlock(&d->lock);
	p->start_tick = tick(d);
}

static void notify(int fd)
{
	__u64 one = 1;

	if (write(fd, &one, sizeof(one)) < 0)
		sl_err("cannot notify the main thread: %s", strerror(errno));
}

static bool any(const bool *draining)
{
	size_t i;

	for (i = 0; i < SLUICE_MAX_BACKENDS; i++)
		if (draining[i])
			return true;
	return false;
}

static void *sweep_main(void *arg)
{
	struct sl_daemon *d = arg;
	struct sl_sweep_result *res = malloc(sizeof(*res));
	static bool draining[SLUICE_MAX_BACKENDS];
	__u64 kicks;
	int rc;

	while (res && !d->stop) {
		kicks = watched(d, &d->sweep_kick);
		pass_begin(d, &res->pass, draining);
		rc = sl_sweep(&d->maps, &d->sweep_cfg, draining, res);
		res->pass.end_tick = tick(d);
		pthread_mutex_lock(&d->lock);
		d->sweep_err = rc;
		if (!rc)
			memcpy(d->sweep_out, res, sizeof(*res));
		pthread_mutex_unlock(&d->lock);
		notify(d->sweep_fd);
		if (any(draining))	/* step 3 waits for a checker pass after it */
			kick_checker(d);
		pause_pass(d, d->cfg.sweep_interval_ms, &d->sweep_kick, kicks);
	}
	free(res);
	return NULL;
}

/* CPU time well under the wall time: the walk shared its CPU (say whether it
 * could raise its priority, drain_walk.h). */
static void log_walk(const struct sl_daemon *d, const struct sl_sweep_result *w)
{
	int err = sl_drain_walker_nice_err(d->walker);

	sl_log("drain walk: %llu flows in %llu ms (%llu ms of CPU%s%s), "
	       "%llu kept in the drain table",
	       (unsigned long long)w->entries,
	       (unsigned long long)w->duration_us / 1000,
	       (unsigned long long)w->cpu_us / 1000,
	       err ? ", at its own priority: " : "", err ? strerror(-err) : "",
	       (unsigned long long)w->drain_table_entries);
}

/*
 * The drain walk (drain_walk.h), once per drain commit in force: step 2 of the
 * completion rule from a walk in the kernel rather than a full sweep. Its
 * result goes to the main thread with the checker pass that follows it,
 * which began after it ended, as step 3 asks.
 */
static void walk_pass(struct sl_daemon *d, struct sl_sweep_result *w, bool *draining)
{
	int rc;

	pass_begin(d, &w->pass, draining);
	if (!any(draining))
		return;
	sl_hold_set(&d->walking, true);
	rc = sl_drain_walk(d->walker, &d->sweep_cfg, draining, w);
	sl_hold_set(&d->walking, false);
	w->pass.end_tick = tick(d);
	pthread_mutex_lock(&d->lock);
	if (!rc) {
		memcpy(d->walk_out, w, sizeof(*w));
		d->walk_ready = true;
	} else {
		d->sweep_kick++;	/* step 2 from a full sweep, then */
		pthread_cond_broadcast(&d->drain_cond);
	}
	pthread_mutex_unlock(&d->lock);
	if (rc)
		sl_warn("drain walk failed: %s (drains wait for a full sweep)",
			strerror(-rc));
	else
		log_walk(d, w);
}

static void *check_main(void *arg)
{
	struct sl_daemon *d = arg;
	struct sl_check_result *res = malloc(sizeof(*res));
	struct sl_sweep_result *walk = malloc(sizeof(*walk));
	static bool draining[SLUICE_MAX_BACKENDS];
	__u64 kicks, walked_seq = 0;
	int rc;

	while (res && walk && !d->stop) {
		kicks = watched(d, &d->check_kick);
		if (d->walker && watched(d, &d->seq_in_force) != walked_seq) {
			walk_pass(d, walk, draining);
			walked_seq = walk->pass.seq;
		}
		pass_begin(d, &res->pass, draining);
		if (any(draining)) {
			rc = sl_check_drain_table(&d->maps, &d->sweep_cfg,
						  draining, res);
			res->pass.end_tick = tick(d);
			pthread_mutex_lock(&d->lock);
			d->check_err = rc;
			if (!rc)
				memcpy(d->check_out, res, sizeof(*res));
			pthread_mutex_unlock(&d->lock);
			notify(d->check_fd);
		}
		pause_pass(d, d->cfg.drain_check_interval_ms, &d->check_kick, kicks);
	}
	free(walk);
	free(res);
	return NULL;
}

/* Without the walk (a kernel that refuses syscall programs), drains wait
 * for a full sweep, as they did before it. */
static void open_walker(struct sl_daemon *d)
{
	char err[256];

	d->walk_out = calloc(1, sizeof(*d->walk_out));
	d->walk_last = calloc(1, sizeof(*d->walk_last));
	if (!d->walk_out || !d->walk_last)
		return;
	if (sl_drain_walker_open(&d->maps, &d->walker, err, sizeof(err)))
		sl_warn("%s", err);
}

static int init_drain_cond(struct sl_daemon *d)
{
	pthread_condattr_t attr;
	int rc;

	if (pthread_condattr_init(&attr))
		return -1;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
	     pthread_cond_init(&d->drain_cond, &attr);
	pthread_condattr_destroy(&attr);
	return rc ? -1 : 0;
}

int sl_counting_start(struct sl_daemon *d)
{
	d->sweep_cfg.tcp_idle_ms = d->cfg.tcp_idle_timeout_ms;
	d->sweep_cfg.udp_idle_ms = d->cfg.udp_idle_timeout_ms;
	d->sweep_cfg.close_grace_ms = d->cfg.close_grace_ms;
	d->sweep_cfg.close_linger_ms = d->cfg.close_linger_ms;
	d->sweep_cfg.handshake_ms = d->cfg.handshake_timeout_ms;
	if (init_drain_cond(d) || sl_hold_init(&d->walking))
		return -EAGAIN;
	open_walker(d);
	d->sweep_cfg.unconfirmed_ms = d->cfg.unconfirmed_timeout_ms;
	d->sweep_cfg.hold = &d->walking;
	d->sweep_cfg.drain_lock = &d->lock;
	d->sweep_cfg.draining_now = d->draining;
	if (pthread_create(&d->sweep_thr, NULL, sweep_main, d))
		return -EAGAIN;
	if (pthread_create(&d->check_thr, NULL, check_main, d))
		return -EAGAIN;
	return 0;
}

void sl_counting_stop(struct sl_daemon *d)
{
	pthread_join(d->sweep_thr, NULL);
	pthread_join(d->check_thr, NULL);
	sl_hold_destroy(&d->walking);
	sl_drain_walker_close(d->walker);
	d->walker = NULL;
	free(d->walk_out);
	free(d->walk_last);
	d->walk_out = d->walk_last = NULL;
}

/* ---- drains: sequence numbers ------------------------------------------ */

bool sl_drains_arm(struct sl_daemon *d, struct sl_state *st)
{
	__u64 seq = d->next_seq + 1;
	bool started = false;
	size_t i, j;

	for (i = 0; i < st->n_vips; i++) {
		for (j = 0; j < st->vips[i].n_bes; j++) {
			struct sl_be *b = &st->vips[i].bes[j];

			if (b->state != SL_BE_DRAINING || b->drain.seq)
				continue;
			sl_drain_arm(&b->drain, seq);
			started = true;
		}
	}
	if (started)
		d->next_seq = seq;
	return started;
}

void sl_drains_publish(struct sl_daemon *d, bool wait)
{
	static bool next[SLUICE_MAX_BACKENDS];
	size_t i, j;

	if (wait)
		settle();
	memset(next, 0, sizeof(next));
	for (i = 0; i < d->st.n_vips; i++)
		for (j = 0; j < d->st.vips[i].n_bes; j++)
			if (d->st.vips[i].bes[j].state == SL_BE_DRAINING)
				next[d->st.vips[i].bes[j].id] = true;
	pthread_mutex_lock(&d->lock);
	memcpy(d->draining, next, sizeof(next));
	if (d->seq_in_force != d->next_seq) {
		d->check_kick++; /* a drain in force: its drain walk, now */
		if (!d->walker)
			d->sweep_kick++;	/* or, without one, a full sweep */
	}
	d->seq_in_force = d->next_seq;
	pthread_cond_broadcast(&d->drain_cond);
	pthread_mutex_unlock(&d->lock);
}

/* ---- drains: decisions (main thread) ------------------------------------ */

/* What the results of one pass ask of the main thread. */
struct outcome {
	bool set_flag;		/* some drain met (b): set DRAINED */
	bool sync;		/* drain flags changed */
	bool save;		/* persisted state changed */
	bool republish;		/* the draining set changed */
};

static void be_names(const struct sl_vip *v, const struct sl_be *b,
		     char *vs, char *bs)
{
	sl_format_vip(&v->spec, vs, SL_VIP_STR_MAX);
	sl_format_addr(&b->addr, b->family, bs, SL_ADDR_STR_MAX);
}

/* A newer pass's count replaces the older one (ticks order passes). */
static void take_base(struct sl_be *b, const struct sl_pass *p, __u64 flows,
		      __u64 confirmed_start, __u64 confirmed_now)
{
	if (p->start_tick > b->base_tick) {
		b->flows_base = flows;
		b->confirmed_base = confirmed_start;
		b->base_tick = p->start_tick;
	}
	b->flows = sl_be_flows_shown(b, confirmed_now);
}

static void apply(const struct sl_vip *v, struct sl_be *b, enum sl_drain_action act, struct outcome *o)
{
	char vs[SL_VIP_STR_MAX], bs[SL_ADDR_STR_MAX];

	switch (act) {
	case SL_DRAIN_ACT_SET_FLAG:
		o->set_flag = true;
		break;
	case SL_DRAIN_ACT_CLEAR_FLAG:
		be_names(v, b, vs, bs);
		sl_info("backend %s on %s: a flow showed up after the drained flag; draining on",
			 bs, vs);
		o->sync = true;
		break;
	case SL_DRAIN_ACT_COMPLETE:
		sl_be_drain_complete(b);
		b->flows = 0;
		be_names(v, b, vs, bs);
		sl_log("backend %s on %s: drained, no flows left", bs, vs);
		o->sync = o->save = o->republish = true;
		break;
	default:
		break;
	}
}

/*
 * A sweep or walk's step (a) for draining backend @b: @unprotected of its
 * live flows had no room in the drain table. The first time in a drain,
 * say that it can now end only at its deadline (drain.h, "blind").
 */
static void on_sweep(const struct sl_vip *v, struct sl_be *b,
		     const struct sl_pass *pass, __u64 handshakes,
		     __u64 unprotected, struct outcome *o)
{
	char vs[SL_VIP_STR_MAX], bs[SL_ADDR_STR_MAX];
	bool was_blind = b->drain.blind;

	apply(v, b, sl_drain_on_sweep(&b->drain, pass, handshakes, unprotected),
	      o);
	if (!b->drain.blind || was_blind)
		return;
	o->save = true; /* a restart must not forget it */
	be_names(v, b, vs, bs);
	sl_warn("backend %s on %s: %llu of its live flows had no room in the "
		"drain table: an eviction could now end one unseen, so this "
		"drain cannot complete by count and ends %s",
		bs, vs, (unsigned long long)unprotected,
		b->hc.agent_port ? "when the backend's agent counts no "
				   "socket, or at its deadline" :
				   "at its deadline");
	sl_warn("hint: raise flows.drain_table_size (a restart with --detach) "
		"above the flows a draining backend holds");
}

/*
 * The drain table full, said when it starts and when it ends, not at
 * every sweep: @unprotected from the pass that just ended.
 */
static void note_unprotected(struct sl_daemon *d, __u64 unprotected)
{
	if (unprotected && !d->unprotected_noted)
		sl_warn("sl_pinned is full: %llu draining flows unprotected from "
			"eviction (raise flows.drain_table_size)",
			(unsigned long long)unprotected);
	else if (!unprotected && d->unprotected_noted)
		sl_log("sl_pinned has room again for every draining flow");
	d->unprotected_noted = unprotected != 0;
}

/* Set DRAINED for the drains that asked for it; start their confirm pass. */
static void set_flags(struct sl_daemon *d)
{
	char err[512];
	bool ok;
	__u64 t;
	size_t i, j;

	ok = !sl_dp_sync(&d->dp, &d->st, err, sizeof(err));
	if (!ok)
		sl_err("cannot set a drained flag: %s", err);
	else
		settle();
	t = __atomic_load_n(&d->pass_tick, __ATOMIC_SEQ_CST);
	for (i = 0; i < d->st.n_vips; i++) {
		for (j = 0; j < d->st.vips[i].n_bes; j++) {
			struct sl_drain_track *tr = &d->st.vips[i].bes[j].drain;

			if (tr->phase != SL_DRAIN_FLAG_PENDING)
				continue;
			if (ok)
				sl_drain_flag_set(tr, t);
			else
				tr->phase = SL_DRAIN_WAIT_CHECK;	/* try again */
		}
	}
	if (ok)
		kick_checker(d);
}

/* Drains past their deadline end with what is left. */
static void deadlines(struct sl_daemon *d, struct outcome *o)
{
	char vs[SL_VIP_STR_MAX], bs[SL_ADDR_STR_MAX];
	struct sluice_be_stats s;
	__u64 now = sl_daemon_now(d);
	size_t i, j;

	for (i = 0; i < d->st.n_vips; i++) {
		for (j = 0; j < d->st.vips[i].n_bes; j++) {
			struct sl_be *b = &d->st.vips[i].bes[j];

			if (b->state != SL_BE_DRAINING || now < b->drain_deadline)
				continue;
			memset(&s, 0, sizeof(s));
			sl_be_stats_read(&d->maps, b->id, &s);
			sl_be_drain_deadline(b, sl_be_flows_shown(b, s.confirmed), now);
			be_names(&d->st.vips[i], b, vs, bs);
			sl_warn("backend %s on %s: drain deadline passed with %llu flows left",
				bs, vs, (unsigned long long)b->flows_left);
			o->sync = o->save = o->republish = true;
		}
	}
}

static void finish(struct sl_daemon *d, struct outcome *o)
{
	char err[512];

	deadlines(d, o);
	if (d->wallclock_moved) {
		o->save = true; /* the drains' new times, for a restart */
		d->wallclock_moved = false;
	}
	if (o->set_flag)
		set_flags(d);
	else if (o->sync && sl_dp_sync(&d->dp, &d->st, err, sizeof(err)))
		sl_err("cannot update drain flags: %s", err);
	if (o->republish)
		sl_drains_publish(d, false);
	if (o->save &&
	    sl_state_save(d->state_path, &d->st, &d->cfg_applied, err, sizeof(err)))
		sl_err("%s", err);
}

static bool take(struct sl_daemon *d, int fd, void *last, const void *out,
		 size_t len, int *err)
{
	__u64 n;

	if (read(fd, &n, sizeof(n)) < 0)
		return false;
	pthread_mutex_lock(&d->lock);
	*err = fd == d->sweep_fd ? d->sweep_err : d->check_err;
	if (!*err)
		memcpy(last, out, len);
	pthread_mutex_unlock(&d->lock);
	return true;
}

void sl_counting_on_sweep(struct sl_daemon *d)
{
	const struct sl_sweep_result *r = d->sweep_last;
	struct outcome o = { 0 };
	size_t i, j;
	int err;

	if (!take(d, d->sweep_fd, d->sweep_last, d->sweep_out, sizeof(*r), &err))
		return;
	if (err) {
		sl_err("sweep failed: %s", strerror(-err));
		return;
	}
	d->sweeps++;
	d->expired_total += r->expired;
	sl_hist_observe(&d->sweep_time, &sl_hist_sweep, r->duration_us);
	for (i = 0; i < d->st.n_vips; i++) {
		for (j = 0; j < d->st.vips[i].n_bes; j++) {
			struct sl_be *b = &d->st.vips[i].bes[j];
			__u32 id = b->id;

			b->handshakes = r->handshakes[id];
			b->evicted += r->evicted[id];
			take_base(b, &r->pass, r->flows[id], r->confirmed_start[id],
				  r->confirmed_start[id]);
			if (b->state != SL_BE_DRAINING)
				continue;
			on_sweep(&d->st.vips[i], b, &r->pass, r->handshakes[id],
				 r->unprotected_be[id], &o);
		}
	}
	note_unprotected(d, r->unprotected);
	finish(d, &o);
	sl_dp_refresh_nexthops(d);
	sl_neigh_account(d);
	sl_ctl_reap_idle(d);
	sl_snapshot_publish(d);
}

/* Losses the checker counted: per backend, logged, persisted. */
static void account_losses(const struct sl_vip *v,
			   struct sl_be *b, __u64 lost, struct outcome *o)
{
	char vs[SL_VIP_STR_MAX], bs[SL_ADDR_STR_MAX];

	if (!lost)
		return;
	b->lost += lost;
	o->save = true;
	be_names(v, b, vs, bs);
	sl_warn("backend %s on %s: %llu flow(s) lost while draining (%llu in all)",
		bs, vs, (unsigned long long)lost, (unsigned long long)b->lost);
}

/* A drain walk's result, if one came: step 2 for the draining backends, as
 * from a sweep (no counts: it only saw the draining backends' flows). */
static void apply_walk(struct sl_daemon *d, struct outcome *o)
{
	const struct sl_sweep_result *w = d->walk_last;
	bool ready;
	size_t i, j;

	pthread_mutex_lock(&d->lock);
	ready = d->walk_ready;
	if (ready)
		memcpy(d->walk_last, d->walk_out, sizeof(*w));
	d->walk_ready = false;
	pthread_mutex_unlock(&d->lock);
	if (!ready)
		return;
	d->walks++;
	sl_hist_observe(&d->walk_time, &sl_hist_sweep, w->duration_us);
	for (i = 0; i < d->st.n_vips; i++) {
		for (j = 0; j < d->st.vips[i].n_bes; j++) {
			struct sl_be *b = &d->st.vips[i].bes[j];

			if (b->state != SL_BE_DRAINING)
				continue;
			on_sweep(&d->st.vips[i], b, &w->pass,
				 w->handshakes[b->id], w->unprotected_be[b->id],
				 o);
		}
	}
	note_unprotected(d, w->unprotected);
}

void sl_counting_on_check(struct sl_daemon *d)
{
	const struct sl_check_result *c = d->check_last;
	struct outcome o = { 0 };
	enum sl_drain_action act;
	size_t i, j;
	int err;

	if (!take(d, d->check_fd, d->check_last, d->check_out, sizeof(*c), &err))
		return;
	apply_walk(d, &o);
	if (err) {
		finish(d, &o);
		sl_err("drain check failed: %s", strerror(-err));
		return;
	}
	d->checks++;
	for (i = 0; i < d->st.n_vips; i++) {
		for (j = 0; j < d->st.vips[i].n_bes; j++) {
			struct sl_be *b = &d->st.vips[i].bes[j];
			__u32 id = b->id;

			account_losses(&d->st.vips[i], b, c->lost[id], &o);
			if (b->state != SL_BE_DRAINING)
				continue;
			if (sl_drain_check_counts(&b->drain, &c->pass))
				take_base(b, &c->pass, c->flows[id], c->confirmed_start[id],
					  c->confirmed_end[id]);
			b->drain.has_agent = b->hc.agent_port;
			b->drain.backend_empty = sl_agent_counted_none(d, b);
			act = sl_drain_on_check(&b->drain, &c->pass, c->flows[id],
						c->confirmed_end[id] != c->confirmed_start[id]);
			apply(&d->st.vips[i], b, act, &o);
		}
	}
	finish(d, &o);
	sl_snapshot_publish(d);
}
