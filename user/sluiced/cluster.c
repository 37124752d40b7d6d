// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The etcd session (cluster.h): read PREFIX/desired, watch it, grant a
 * lease, keep it alive and put the box report under it. Any failure ends
 * the session; the next one starts after a second, from a fresh read, so
 * a revision missed while away is never lost. The datapath is not
 * touched here: the main thread applies what this thread hands it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "cluster_priv.h"
#include "daemon.h"
#include "desired.h"
#include "etcd.h"

#define RETRY_MS 1000 /* between sessions */
#define POLL_MS 100 /* watch poll; also how soon a report goes out */

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_connected(struct sl_cluster *c, bool up, const char *why)
{
	long long rev;
	bool was, conflict;

	pthread_mutex_lock(&c->lock);
	was = c->st.connected;
	conflict = c->st.name_conflict;
	rev = (long long)c->st.applied_rev;
	c->st.connected = up;
	if (!up)
		snprintf(c->st.last_error, sizeof(c->st.last_error), "%s", why);
	if (up)
		c->report_dirty = true; /* a new lease needs the report again */
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_lock(&c->d->snap_lock);
	c->d->snap.cluster.connected = up;
	c->d->snap.cluster.name_conflict = conflict;
	pthread_mutex_unlock(&c->d->snap_lock);
	if (was && !up)
		sl_warn("cluster: lost etcd (%s); forwarding with revision %lld",
			why, rev);
	else if (!was && up)
		sl_log("cluster: connected to etcd");
}

/* Hand a revision to the main thread (the newest wins if it is busy). */
static void deliver(void *ctx, const char *val, size_t len, int64_t rev,
		    bool deleted)
{
	struct sl_cluster *c = ctx;
	char *copy = malloc(len + 1);
	__u64 one = 1;

	if (!copy)
		return;
	memcpy(copy, val, len);
	copy[len] = '\0';
	pthread_mutex_lock(&c->lock);
	free(c->pending);
	c->pending = copy;
	c->pending_len = len;
	c->pending_rev = rev;
	c->pending_deleted = deleted;
	c->st.desired_absent = deleted;
	pthread_mutex_unlock(&c->lock);
	if (write(c->d->cluster_fd, &one, sizeof(one)) < 0)
		sl_err("cluster: cannot wake the main loop");
}

/* Put the report if the main thread changed it (or @force). */
static int put_report(struct sl_cluster *c, struct sl_etcd *e, int64_t lease,
		      bool force)
{
	const struct sl_config *cfg = &c->d->cfg;
	char key[SL_DESIRED_KEY_MAX], *rep = NULL;
	int rc;

	pthread_mutex_lock(&c->lock);
	if ((c->report_dirty || force) && c->report)
		rep = strdup(c->report);
	c->report_dirty = false;
	pthread_mutex_unlock(&c->lock);
	if (!rep)
		return 0;
	sl_desired_box_key(cfg->cluster_prefix, cfg->cluster_box, key,
			   sizeof(key));
	rc = sl_etcd_put(e, key, rep, lease, NULL);
	free(rep);
	if (rc) {
		pthread_mutex_lock(&c->lock);
		c->report_dirty = true;
		pthread_mutex_unlock(&c->lock);
	}
	return rc;
}

/* The owner a report names (host/instance), or "" without one. */
static void owner_of(const char *report, char *buf, size_t len)
{
	json_object *r = report ? json_tokener_parse(report) : NULL, *o;

	snprintf(buf, len, "%s",
		 json_object_object_get_ex(r, "owner", &o) ?
			 json_object_get_string(o) :
			 "");
	json_object_put(r);
}

static void set_conflict(struct sl_cluster *c, struct sl_etcd *e, int64_t lease,
			 const char *holder)
{
	const struct sl_config *cfg = &c->d->cfg;
	char key[SL_DESIRED_KEY_MAX], val[768];
	bool was;

	pthread_mutex_lock(&c->lock);
	was = c->st.name_conflict;
	c->st.name_conflict = true;
	snprintf(c->st.conflict_holder, sizeof(c->st.conflict_holder), "%s",
		 holder[0] ? holder : "unknown");
	pthread_mutex_unlock(&c->lock);
	snprintf(e->err, sizeof(e->err),
		 "box name \"%s\" is held in %.100s by another live sluiced "
		 "(%.120s); this one does not join the fleet until the name is "
		 "free: give every box a unique cluster.box",
		 cfg->cluster_box, cfg->cluster_prefix,
		 holder[0] ? holder : "owner unknown");
	if (!was)
		sl_warn("cluster: %s", e->err);
	/* Seen by sluicectl --cluster box list; goes with our lease. */
	snprintf(
		val, sizeof(val),
		"{\"box\": \"%s\", \"owner\": \"%.300s\", \"holder\": \"%.300s\"}",
		cfg->cluster_box, c->owner, holder);
	sl_desired_conflict_key(cfg->cluster_prefix, cfg->cluster_box,
				(long long)lease, key, sizeof(key));
	sl_etcd_put(e, key, val, lease, NULL);
}

static void clear_conflict(struct sl_cluster *c, struct sl_etcd *e,
			   int64_t lease)
{
	const struct sl_config *cfg = &c->d->cfg;
	char key[SL_DESIRED_KEY_MAX];
	bool was;

	pthread_mutex_lock(&c->lock);
	was = c->st.name_conflict;
	c->st.name_conflict = false;
	c->st.conflict_holder[0] = '\0';
	pthread_mutex_unlock(&c->lock);
	if (!was)
		return;
	sl_desired_conflict_key(cfg->cluster_prefix, cfg->cluster_box,
				(long long)lease, key, sizeof(key));
	sl_etcd_del(e, key);
	sl_log("cluster: box name \"%s\" is free now; joining the fleet",
	       cfg->cluster_box);
}

/*
 * Take PREFIX/boxes/NAME for this sluiced: create it, or take it over
 * from our own earlier lease or incarnation (same owner). Another owner's
 * live report is never overwritten: -EEXIST.
 */
static int claim_name(struct sl_cluster *c, struct sl_etcd *e, int64_t lease)
{
	const struct sl_config *cfg = &c->d->cfg;
	char key[SL_DESIRED_KEY_MAX], holder[SL_CLUSTER_OWNER_MAX], *rep;
	struct sl_etcd_kv cur;
	int rc;

	pthread_mutex_lock(&c->lock);
	rep = strdup(c->report ? c->report : "{}");
	c->report_dirty = false;
	pthread_mutex_unlock(&c->lock);
	if (!rep)
		return -ENOMEM;
	sl_desired_box_key(cfg->cluster_prefix, cfg->cluster_box, key,
			   sizeof(key));
	rc = sl_etcd_put_new(e, key, rep, lease, &cur);
	if (rc == -EEXIST) {
		owner_of(cur.value, holder, sizeof(holder));
		if ((c->prev_lease && cur.lease == c->prev_lease) ||
		    !strcmp(holder, c->owner))
			rc = sl_etcd_put_if(e, key, rep, lease, cur.mod_rev,
					    NULL);
		else
			set_conflict(c, e, lease, holder);
	}
	free(cur.value);
	free(rep);
	if (!rc) {
		c->prev_lease = lease;
		clear_conflict(c, e, lease);
	}
	return rc;
}

/* Claim the box name, retrying each second while another sluiced holds it. */
static int claim_name_wait(struct sl_cluster *c, struct sl_etcd *e,
			   int64_t lease)
{
	int64_t ttl;
	int rc, i;

	for (;;) {
		rc = claim_name(c, e, lease);
		if (rc != -EEXIST && rc != -EAGAIN)
			return rc;
		if (rc == -EEXIST)
			set_connected(c, false, e->err);
		for (i = 0; i < RETRY_MS / POLL_MS && !c->stop; i++)
			usleep(POLL_MS * 1000);
		if (c->stop)
			return -EINTR;
		rc = sl_etcd_lease_keepalive(e, lease, &ttl);
		if (rc || !ttl)
			return rc ? rc : -ETIME;
	}
}

/*
 * A session found no PREFIX/desired at @key: say so once, while it stays
 * absent. The box keeps what it runs (its config, or its state file).
 */
static void desired_absent(struct sl_cluster *c, const char *key)
{
	bool was;

	pthread_mutex_lock(&c->lock);
	was = c->st.desired_absent;
	c->st.desired_absent = true;
	pthread_mutex_unlock(&c->lock);
	if (!was)
		sl_log("cluster: %s is absent: running with the state this box "
		       "has until a desired state is written there (a new "
		       "fleet's first `sluicectl --cluster ...` change writes it)",
		       key);
}

/*
 * Read the desired state, take a lease and the box name; only then apply
 * what was read. The watch starts after it.
 */
static struct sl_etcd_watch *open_session(struct sl_cluster *c,
					  struct sl_etcd *e, int64_t *lease)
{
	const struct sl_config *cfg = &c->d->cfg;
	char key[SL_DESIRED_KEY_MAX], *val = NULL;
	int64_t mod_rev, rev = 0;
	size_t len;
	int rc;

	sl_desired_key(cfg->cluster_prefix, key, sizeof(key));
	rc = sl_etcd_get(e, key, &val, &len, &mod_rev, &rev);
	if ((rc && rc != -ENOENT) ||
	    sl_etcd_lease_grant(e, (int64_t)(cfg->cluster_lease_ms / 1000),
				lease) ||
	    claim_name_wait(c, e, *lease)) {
		free(val);
		return NULL;
	}
	if (!rc)
		deliver(c, val, len, mod_rev, false);
	else
		desired_absent(c, key);
	free(val);
	set_connected(c, true, "");
	return sl_etcd_watch_start(e, key, rev + 1);
}

static void on_watch_event(void *ctx, const char *val, size_t len, int64_t rev,
			   bool del)
{
	deliver(ctx, val, len, rev, del);
}

/* One session: until etcd fails or we stop. Whether it opened. */
static bool session(struct sl_cluster *c, struct sl_etcd *e)
{
	__u64 every = c->d->cfg.cluster_lease_ms / 3, next_ka;
	struct sl_etcd_watch *w;
	int64_t lease = 0, ttl;
	bool opened;

	w = open_session(c, e, &lease);
	if (!w) {
		if (!e->err[0])
			snprintf(e->err, sizeof(e->err), "cannot open a watch");
		goto out;
	}
	next_ka = mono_ms() + every;
	while (!c->stop) {
		if (sl_etcd_watch_poll(w, POLL_MS, on_watch_event, c)) {
			snprintf(e->err, sizeof(e->err),
				 "the watch on the desired state ended");
			break;
		}
		if (mono_ms() >= next_ka) {
			if (sl_etcd_lease_keepalive(e, lease, &ttl))
				break;
			if (!ttl) {
				snprintf(e->err, sizeof(e->err),
					 "the box's lease expired");
				break;
			}
			next_ka = mono_ms() + every;
		}
		if (put_report(c, e, lease, false))
			break;
	}
out:
	opened = w != NULL;
	sl_etcd_watch_stop(w);
	if (c->stop && lease)
		sl_etcd_lease_revoke(
			e, lease); /* a clean stop: the report goes now */
	set_connected(c, false, c->stop ? "sluiced stopped" : e->err);
	return opened;
}

static void *cluster_main(void *arg)
{
	struct sl_cluster *c = arg;
	bool logged = false, opened;
	struct sl_etcd e;
	int i;

	if (sl_etcd_init(&e, &c->d->cfg.cluster_etcd)) {
		set_connected(c, false, "out of memory");
		return NULL;
	}
	while (!c->stop) {
		e.err[0] = '\0';
		opened = session(c, &e);
		/* A box that cannot connect says why, once until it does. */
		if (!opened && !c->stop && e.err[0] && !logged) {
			sl_warn("cluster: etcd session failed: %s", e.err);
			logged = true;
		}
		if (opened)
			logged = false;
		for (i = 0; i < RETRY_MS / POLL_MS && !c->stop; i++)
			usleep(POLL_MS * 1000);
	}
	sl_etcd_free(&e);
	return NULL;
}

int sl_cluster_start(struct sl_daemon *d)
{
	char host[128];
	struct sl_cluster *c;

	if (!d->cfg.cluster_enabled)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c || curl_global_init(CURL_GLOBAL_DEFAULT)) {
		free(c);
		return -ENOMEM;
	}
	c->d = d;
	c->st.enabled = true;
	/* The revision the resumed state file applies (0: none, or older). */
	c->st.applied_rev = d->st.cluster_rev;
	/* Its document applies again once: the config file may have changed
	 * the state since (cluster_apply.c). */
	c->resumed = c->st.applied_rev != 0;
	/* The fleet drained this box before a restart: its undrain applies. */
	c->box_drain_wanted = sl_ann_drained_by_fleet(d);
	if (gethostname(host, sizeof(host)))
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(c->owner, sizeof(c->owner), "%s/%s", host, d->cfg.instance);
	snprintf(c->st.last_error, sizeof(c->st.last_error),
		 "not connected yet");
	pthread_mutex_init(&c->lock, NULL);
	d->cluster = c;
	sl_cluster_report(d);
	if (pthread_create(&c->thr, NULL, cluster_main, c)) {
		d->cluster = NULL;
		free(c->report);
		free(c);
		return -EAGAIN;
	}
	sl_log("cluster: box %s, desired state %s/desired at %s",
	       d->cfg.cluster_box, d->cfg.cluster_prefix,
	       d->cfg.cluster_etcd.endpoints[0]);
	return 0;
}

void sl_cluster_stop(struct sl_daemon *d)
{
	struct sl_cluster *c = d->cluster;

	if (!c)
		return;
	c->stop = true;
	pthread_join(c->thr, NULL);
	d->cluster = NULL;
	free(c->pending);
	free(c->report);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
