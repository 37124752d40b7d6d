// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Active health checks. A dedicated thread runs every check concurrently
 * through libcurl's multi interface (TCP connect, or HTTP GET with an
 * expected status), each bounded by its own timeout, so a slow or dead
 * backend never delays another's check, the sweeper or the control socket.
 * Results go to the main thread through a queue and an eventfd; only the
 * main thread changes the state (rise/fall, tables).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <curl/curl.h>

#include "daemon.h"

#define HC_TICK_MS	50	/* scheduling granularity */
#define HC_RESYNC_MS	500	/* how often targets are re-read from the snapshot */

struct hc_target {
	__u32 id;
	struct sluice_addr addr;
	__u8 family;
	__u16 port;
	struct sl_health_cfg hc;
	__u64 due_ms;
	CURL *easy;		/* in flight, or NULL */
	bool seen;		/* still in the state at the last resync */
};

struct hc_result {
	__u32 id;
	struct sluice_addr addr;
	bool ok;
	char reason[48];
	__u64 latency_us;
};

struct sl_checker {
	struct sl_daemon *d;
	pthread_t thr;
	CURLM *multi;
	struct hc_target *t;
	size_t n, cap;
	pthread_mutex_t lock;	/* guards results */
	struct hc_result *results;
	size_t n_results, cap_results;
};

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static size_t discard(char *p, size_t size, size_t n, void *u)
{
	(void)p;
	(void)u;
	return size * n;
}

static struct hc_target *find_target(struct sl_checker *h, __u32 id)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->t[i].id == id)
			return &h->t[i];
	return NULL;
}

static void stop_check(struct sl_checker *h, struct hc_target *t)
{
	if (!t->easy)
		return;
	curl_multi_remove_handle(h->multi, t->easy);
	curl_easy_cleanup(t->easy);
	t->easy = NULL;
}

/* Track one backend from the snapshot; a changed check restarts at once. */
static void resync_one(struct sl_checker *h, const struct sl_vip *v,
		       const struct sl_be *b, __u64 now)
{
	struct hc_target *t = find_target(h, b->id);
	__u16 port = b->hc.port ? b->hc.port : ntohs(v->spec.port);

	if (t && (t->family != b->family || memcmp(&t->addr, &b->addr, sizeof(b->addr)) ||
		  t->port != port || memcmp(&t->hc, &b->hc, sizeof(b->hc)))) {
		stop_check(h, t);
		t->due_ms = now;
	}
	if (!t) {
		struct hc_target *n = h->t;

		if (h->n == h->cap) {
			h->cap = h->cap ? h->cap * 2 : 16;
			n = realloc(h->t, h->cap * sizeof(*n));
			if (!n)
				return;
			h->t = n;
		}
		t = &h->t[h->n++];
		memset(t, 0, sizeof(*t));
		/* Spread first checks over an interval: no thundering herd. */
		t->due_ms = now + (b->id * 37) % (b->hc.interval_ms ? b->hc.interval_ms : 1);
	}
	t->id = b->id;
	t->addr = b->addr;
	t->family = b->family;
	t->port = port;
	t->hc = b->hc;
	t->seen = true;
}

static void resync(struct sl_checker *h)
{
	struct sl_daemon *d = h->d;
	__u64 now = mono_ms();
	size_t i, j;

	for (i = 0; i < h->n; i++)
		h->t[i].seen = false;
	pthread_mutex_lock(&d->snap_lock);
	for (i = 0; i < d->snap.st.n_vips; i++) {
		const struct sl_vip *v = &d->snap.st.vips[i];

		for (j = 0; j < v->n_bes; j++)
			if (v->bes[j].hc.type != SL_HC_NONE)
				resync_one(h, v, &v->bes[j], now);
	}
	pthread_mutex_unlock(&d->snap_lock);
	for (i = 0; i < h->n;) {
		if (h->t[i].seen) {
			i++;
			continue;
		}
		stop_check(h, &h->t[i]);
		h->t[i] = h->t[--h->n];
	}
}

/*
 * The backend is addressed by IP: with tls_verify its certificate must
 * name that IP (subjectAltName) and chain to ca_file or the system's CAs.
 */
static void set_tls(CURL *e, const struct sl_health_cfg *hc)
{
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, hc->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, hc->tls_verify ? 2L : 0L);
	if (hc->ca_file[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, hc->ca_file);
}

static void start_check(struct sl_checker *h, struct hc_target *t)
{
	char url[SL_HC_PATH_MAX + 96], host[SL_ADDR_STR_MAX];
	CURL *e = curl_easy_init();

	if (!e)
		return;
	sl_format_addr(&t->addr, t->family, host, sizeof(host));
	snprintf(url, sizeof(url), t->family == SLUICE_AF_INET6 ? "%s://[%s]:%u%s"
								  : "%s://%s:%u%s",
		 t->hc.type == SL_HC_HTTPS ? "https" : "http", host, t->port,
		 sl_hc_is_http(t->hc.type) ? t->hc.path : "/");
	curl_easy_setopt(e, CURLOPT_URL, url);
	/* Whatever the URL or a redirect says, libcurl speaks HTTP(S) only. */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (t->hc.type == SL_HC_HTTPS)
		set_tls(e, &t->hc);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)t->hc.timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)t->hc.timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "sluice-health/" SL_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	if (t->hc.type == SL_HC_TCP)
		curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	/* The id, not &t: h->t moves (realloc, compaction) while checks run. */
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)(uintptr_t)t->id);
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		return;
	}
	t->easy = e;
}

/* Why a check failed, in an operator's words. */
static void describe(CURL *e, CURLcode rc, const struct hc_target *t,
		     struct hc_result *r)
{
	long status = 0, oserr = 0;

	if (rc == CURLE_OK && sl_hc_is_http(t->hc.type)) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		r->ok = status == t->hc.expect_status;
		if (!r->ok)
			snprintf(r->reason, sizeof(r->reason), "HTTP %ld", status);
		return;
	}
	r->ok = rc == CURLE_OK;
	if (r->ok)
		return;
	curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &oserr);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(r->reason, sizeof(r->reason), "timeout");
	else if (oserr == ECONNREFUSED)
		snprintf(r->reason, sizeof(r->reason), "refused");
	else if (oserr == EHOSTUNREACH || oserr == ENETUNREACH)
		snprintf(r->reason, sizeof(r->reason), "unreachable");
	else if (rc == CURLE_PEER_FAILED_VERIFICATION)
		snprintf(r->reason, sizeof(r->reason), "TLS certificate not trusted");
	else if (rc == CURLE_SSL_CONNECT_ERROR)
		snprintf(r->reason, sizeof(r->reason), "TLS handshake failed");
	else
		snprintf(r->reason, sizeof(r->reason), "%s", curl_easy_strerror(rc));
}

static void push_result(struct sl_checker *h, const struct hc_result *r)
{
	struct hc_result *n;

	pthread_mutex_lock(&h->lock);
	if (h->n_results == h->cap_results) {
		h->cap_results = h->cap_results ? h->cap_results * 2 : 64;
		n = realloc(h->results, h->cap_results * sizeof(*n));
		if (!n) {
			pthread_mutex_unlock(&h->lock);
			return;
		}
		h->results = n;
	}
	h->results[h->n_results++] = *r;
	pthread_mutex_unlock(&h->lock);
}

static void collect_done(struct sl_checker *h)
{
	struct CURLMsg *m;
	int left;
	__u64 one = 1;
	bool any = false;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct hc_target *t;
		struct hc_result r;
		curl_off_t us = 0;
		char *priv = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		t = find_target(h, (__u32)(uintptr_t)priv);
		if (!t || t->easy != m->easy_handle) {
			/* Its target is gone: just drop the handle. */
			curl_multi_remove_handle(h->multi, m->easy_handle);
			curl_easy_cleanup(m->easy_handle);
			continue;
		}
		memset(&r, 0, sizeof(r));
		r.id = t->id;
		r.addr = t->addr;
		describe(m->easy_handle, m->data.result, t, &r);
		curl_easy_getinfo(m->easy_handle, CURLINFO_TOTAL_TIME_T, &us);
		r.latency_us = us;
		stop_check(h, t);
		push_result(h, &r);
		any = true;
	}
	if (any && write(h->d->health_fd, &one, sizeof(one)) < 0)
		sl_err("health: cannot notify: %s", strerror(errno));
}

static void *health_main(void *arg)
{
	struct sl_checker *h = arg;
	__u64 next_resync = 0, now;
	size_t i;
	int running;

	while (!h->d->stop) {
		now = mono_ms();
		if (now >= next_resync) {
			resync(h);
			next_resync = now + HC_RESYNC_MS;
		}
		for (i = 0; i < h->n; i++) {
			struct hc_target *t = &h->t[i];

			if (t->easy || now < t->due_ms)
				continue;
			t->due_ms = now + t->hc.interval_ms;
			start_check(h, t);
		}
		curl_multi_perform(h->multi, &running);
		collect_done(h);
		curl_multi_poll(h->multi, NULL, 0, HC_TICK_MS, NULL);
	}
	for (i = 0; i < h->n; i++)
		stop_check(h, &h->t[i]);
	return NULL;
}

int sl_health_start(struct sl_daemon *d)
{
	struct sl_checker *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		free(h);
		return -EINVAL;
	}
	h->d = d;
	h->multi = curl_multi_init();
	pthread_mutex_init(&h->lock, NULL);
	if (!h->multi || pthread_create(&h->thr, NULL, health_main, h)) {
		free(h);
		return -EAGAIN;
	}
	d->health = h;
	return 0;
}

void sl_health_stop(struct sl_daemon *d)
{
	struct sl_checker *h = d->health;

	if (!h)
		return;
	pthread_join(h->thr, NULL);
	curl_multi_cleanup(h->multi);
	free(h->t);
	free(h->results);
	free(h);
	d->health = NULL;
}

/* ---- main thread: apply results --------------------------------------- */

static void log_change(const struct sl_vip *v, const struct sl_be *b)
{
	char vs[SL_VIP_STR_MAX], bs[SL_ADDR_STR_MAX];

	sl_format_vip(&v->spec, vs, sizeof(vs));
	sl_format_addr(&b->addr, b->family, bs, sizeof(bs));
	if (b->health == SL_HEALTH_DOWN)
		sl_warn("backend %s on %s is down (%u failed checks, last: %s)%s", bs, vs,
		       b->fail_streak, b->health_reason,
		       b->hc.on_down == SL_HC_RELEASE ? "; its flows are released" : "");
	else
		sl_log("backend %s on %s is %s (%u good checks)", bs, vs,
		       sl_health_name(b->health), b->ok_streak);
}

/* Apply one result to @st; true when a backend's health changed. */
static bool apply_result(struct sl_state *st, const struct hc_result *r)
{
	struct sl_health_track tr;
	struct sl_vip *v;
	struct sl_be *b = sl_state_find_be_by_id(st, r->id, &v);
	bool changed;

	if (!b || memcmp(&b->addr, &r->addr, sizeof(r->addr)))
		return false;	/* the backend went away meanwhile */
	if (r->ok)
		b->checks_ok++;
	else
		b->checks_failed++;
	b->health_latency_us = r->latency_us;
	sl_hist_observe(&b->hc_latency, &sl_hist_check_latency, r->latency_us);
	if (!r->ok) {
		snprintf(b->health_reason, sizeof(b->health_reason), "%s", r->reason);
		sl_hc_reason_count(&b->hc_fails, r->reason);
	}
	tr.health = b->health;
	tr.ok_streak = b->ok_streak;
	tr.fail_streak = b->fail_streak;
	changed = sl_health_result(&tr, r->ok, b->hc.rise, b->hc.fall);
	b->health = tr.health;
	b->ok_streak = tr.ok_streak;
	b->fail_streak = tr.fail_streak;
	if (changed)
		log_change(v, b);
	return changed;
}

static void log_all_down(const struct sl_state *before, const struct sl_state *after)
{
	char vs[SL_VIP_STR_MAX];
	size_t i;

	for (i = 0; i < after->n_vips; i++) {
		const struct sl_vip *v = &after->vips[i];
		const struct sl_vip *o = sl_state_find_vip(before, &v->spec);
		bool now = sl_vip_all_down(v), was = o && sl_vip_all_down(o);

		if (now == was)
			continue;
		sl_format_vip(&v->spec, vs, sizeof(vs));
		if (now)
			sl_warn("every backend of %s is down: failing open, new flows go to all of them", vs);
		else
			sl_log("%s has a healthy backend again", vs);
	}
}

void sl_health_on_results(struct sl_daemon *d)
{
	struct sl_checker *h = d->health;
	struct hc_result *rs;
	struct sl_state next;
	char err[512];
	size_t i, n;
	__u64 cnt;
	bool changed = false;

	if (read(d->health_fd, &cnt, sizeof(cnt)) < 0 || !h)
		return;
	pthread_mutex_lock(&h->lock);
	rs = h->results;
	n = h->n_results;
	h->results = NULL;
	h->n_results = h->cap_results = 0;
	pthread_mutex_unlock(&h->lock);
	if (!n || sl_state_copy(&next, &d->st)) {
		free(rs);
		return;
	}
	for (i = 0; i < n; i++)
		changed |= apply_result(&next, &rs[i]);
	free(rs);
	if (changed) {
		log_all_down(&d->st, &next);
		if (sl_daemon_commit(d, &next, err, sizeof(err)))
			sl_err("cannot apply health change: %s", err);
	} else {
		/* Counters only: no table change, nothing to persist. */
		sl_state_free(&d->st);
		d->st = next;
		sl_state_init(&next);
	}
	sl_state_free(&next);
}
