// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The main thread's side of the fleet (cluster.h): apply a revision of the
 * desired state whole through sl_daemon_commit() or refuse it whole, and
 * build the box report the etcd thread publishes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_priv.h"
#include "daemon.h"
#include "desired.h"
#include "state_diff.h"

static void log_change(void *ctx, const char *line)
{
	sl_log("cluster: revision %lld: %s", *(long long *)ctx, line);
}

/* Drains and undrains the document asks for; a drain in progress keeps its deadline. */
static int apply_drains(struct sl_daemon *d, struct sl_state *next,
			const struct sl_state *want, __u64 now, char *err,
			size_t errlen)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; !rc && i < want->n_vips; i++) {
		const struct sl_vip *wv = &want->vips[i];

		for (j = 0; !rc && j < wv->n_bes; j++) {
			const struct sl_be *wb = &wv->bes[j];
			const struct sl_be *nb = sl_vip_find_be(
				sl_state_find_vip(next, &wv->spec), &wb->addr,
				wb->family);

			if (!nb || (wb->state != SL_BE_ACTIVE) ==
					   (nb->state != SL_BE_ACTIVE))
				continue;
			rc = wb->state == SL_BE_ACTIVE ?
				     sl_state_be_undrain(next, &wv->spec,
							 &wb->addr, wb->family,
							 err, errlen) :
				     sl_state_be_drain(next, &wv->spec,
						       &wb->addr, wb->family,
						       now,
						       d->cfg.drain_timeout_ms,
						       err, errlen);
		}
	}
	return rc;
}

/* Make the running state equal to @want; 0, or -errno with @err and nothing changed. */
static int apply(struct sl_daemon *d, const struct sl_state *want,
		 long long rev, char *err, size_t errlen)
{
	/* Before the copy: a clock step moves the running drains in d->st. */
	__u64 now = sl_daemon_now(d);
	struct sl_state next;
	int rc = sl_state_copy(&next, &d->st);

	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	/* Exact: the running state is the merge base, so whatever differs goes. */
	rc = sl_state_apply_config(&next, &d->st, want, err, errlen);
	if (!rc)
		rc = apply_drains(d, &next, want, now, err, errlen);
	if (!rc) {
		sl_state_diff(&d->st, &next, log_change, &rev);
		next.cluster_rev = rev;
		rc = sl_daemon_commit(d, &next, err, errlen);
	}
	sl_state_free(&next);
	return rc;
}

/*
 * boxes_drained: withdraw or announce this box's VIPs when the fleet's
 * wish changes (a local `box drain` in between stands until it does).
 */
static void apply_box_drain(struct sl_daemon *d, const struct sl_desired *want)
{
	bool drain = sl_desired_box_drained(want, d->cfg.cluster_box);
	char err[256];

	if (drain == d->cluster->box_drain_wanted)
		return;
	d->cluster->box_drain_wanted = drain;
	if (drain != d->box_drained &&
	    sl_ann_box_drain(d, drain, true, err, sizeof(err)))
		sl_log("cluster: cannot %s this box: %s",
		       drain ? "drain" : "undrain", err);
	else
		sl_log("cluster: box %s %s by the desired state",
		       d->cfg.cluster_box, drain ? "drained" : "undrained");
}

static void refuse(struct sl_cluster *c, int64_t rev, const char *why)
{
	pthread_mutex_lock(&c->lock);
	c->st.rejected_rev = rev;
	snprintf(c->st.rejected, sizeof(c->st.rejected), "%.500s", why);
	pthread_mutex_unlock(&c->lock);
	sl_log("cluster: revision %lld refused, revision %lld stays in force: %s",
	       (long long)rev, (long long)c->st.applied_rev, why);
}

void sl_cluster_on_desired(struct sl_daemon *d)
{
	struct sl_cluster *c = d->cluster;
	struct sl_desired_caps caps = { d->cfg.has_source_v4,
					d->cfg.has_source_v6 };
	struct sl_desired want;
	char err[768], *doc;
	__u64 n;
	int64_t rev;
	size_t len;
	bool deleted;

	if (read(d->cluster_fd, &n, sizeof(n)) < 0 || !c)
		return;
	pthread_mutex_lock(&c->lock);
	doc = c->pending;
	len = c->pending_len;
	rev = c->pending_rev;
	deleted = c->pending_deleted;
	c->pending = NULL;
	pthread_mutex_unlock(&c->lock);
	/* A new session reads the key again: a revision seen before is done. */
	if (!doc || (rev == c->st.applied_rev && !c->resumed) ||
	    rev == c->st.rejected_rev) {
		free(doc);
		return;
	}
	c->resumed = false;
	if (deleted) {
		refuse(c, rev,
		       "the desired state was deleted from etcd (put one back; "
		       "an empty fleet is {\"vips\": []})");
	} else if (sl_desired_parse(doc, len, &caps, &want, err, sizeof(err))) {
		refuse(c, rev, err);
	} else {
		if (apply(d, &want.st, (long long)rev, err, sizeof(err))) {
			refuse(c, rev, err);
		} else {
			pthread_mutex_lock(&c->lock);
			c->st.applied_rev = rev;
			c->st.applied_unix_ms = sl_unix_ms();
			pthread_mutex_unlock(&c->lock);
			sl_log("cluster: applied revision %lld: %zu VIPs, %zu backends",
			       (long long)rev, d->st.n_vips,
			       sl_state_n_backends(&d->st));
			apply_box_drain(d, &want);
		}
		sl_state_free(&want.st);
	}
	free(doc);
	sl_snapshot_publish(d); /* which republishes the report */
}

static json_object *report_vip(struct sl_daemon *d, const struct sl_vip *v)
{
	json_object *o = json_object_new_object(),
		    *bes = json_object_new_array();
	char buf[SL_VIP_STR_MAX];
	size_t j;

	sl_format_vip(&v->spec, buf, sizeof(buf));
	json_object_object_add(o, "vip", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%016llx",
		 (unsigned long long)d->dp.table_fp[v->id]);
	json_object_object_add(o, "fingerprint", json_object_new_string(buf));
	for (j = 0; j < v->n_bes; j++) {
		const struct sl_be *b = &v->bes[j];
		json_object *bo = json_object_new_object();
		struct sluice_be_stats s;

		memset(&s, 0, sizeof(s));
		sl_be_stats_read(&d->maps, b->id, &s);
		sl_format_addr(&b->addr, b->family, buf, sizeof(buf));
		json_object_object_add(bo, "address",
				       json_object_new_string(buf));
		json_object_object_add(
			bo, "state",
			json_object_new_string(sl_be_state_name(b->state)));
		json_object_object_add(bo, "weight",
				       json_object_new_int64(b->weight));
		json_object_object_add(bo, "flows",
				       json_object_new_uint64(sl_be_flows_shown(
					       b, s.confirmed)));
		json_object_array_add(bes, bo);
	}
	json_object_object_add(o, "backends", bes);
	return o;
}

void sl_cluster_report(struct sl_daemon *d)
{
	struct sl_cluster *c = d->cluster;
	json_object *r, *vips;
	char *s;
	size_t i;

	if (!c)
		return;
	r = sl_cluster_status_json(d);
	vips = json_object_new_array();
	json_object_object_add(r, "box",
			       json_object_new_string(d->cfg.cluster_box));
	json_object_object_add(r, "owner", json_object_new_string(c->owner));
	/* what `sluicectl --cluster backend add` checks a VIP's size against */
	json_object_object_add(r, "maglev_table_size",
			       json_object_new_int64(d->cfg.maglev_table_size));
	for (i = 0; i < d->st.n_vips; i++)
		json_object_array_add(vips, report_vip(d, &d->st.vips[i]));
	json_object_object_add(r, "vips", vips);
	json_object_object_add(r, "announce", sl_ann_status(d));
	json_object_object_del(
		r, "connected"); /* a published report is connected */
	json_object_object_del(r, "last_error");
	json_object_object_del(r, "box_name_conflict");
	s = strdup(json_object_to_json_string_ext(
		r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(r);
	if (!s)
		return;
	pthread_mutex_lock(&c->lock);
	if (!c->report || strcmp(c->report, s)) {
		free(c->report);
		c->report = s;
		c->report_dirty = true;
		s = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	free(s);
}

void sl_cluster_get_status(const struct sl_daemon *d,
			   struct sl_cluster_status *s)
{
	struct sl_cluster *c = d->cluster;

	memset(s, 0, sizeof(*s));
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	*s = c->st;
	pthread_mutex_unlock(&c->lock);
}

json_object *sl_cluster_status_json(const struct sl_daemon *d)
{
	struct sl_cluster_status s;
	json_object *o = json_object_new_object();

	sl_cluster_get_status(d, &s);
	json_object_object_add(o, "enabled",
			       json_object_new_boolean(s.enabled));
	if (!s.enabled)
		return o;
	json_object_object_add(o, "connected",
			       json_object_new_boolean(s.connected));
	json_object_object_add(o, "desired_absent",
			       json_object_new_boolean(s.desired_absent));
	json_object_object_add(o, "applied_revision",
			       json_object_new_int64(s.applied_rev));
	json_object_object_add(o, "applied_unix_ms",
			       json_object_new_uint64(s.applied_unix_ms));
	json_object_object_add(o, "rejected_revision",
			       json_object_new_int64(s.rejected_rev));
	json_object_object_add(o, "rejected",
			       json_object_new_string(s.rejected));
	json_object_object_add(o, "box_name_conflict",
			       json_object_new_boolean(s.name_conflict));
	if (s.name_conflict)
		json_object_object_add(
			o, "box_name_holder",
			json_object_new_string(s.conflict_holder));
	if (!s.connected)
		json_object_object_add(o, "last_error",
				       json_object_new_string(s.last_error));
	return o;
}
