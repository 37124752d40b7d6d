// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Read the backends' agents (agent_poll.h) in a thread of their own: GET
 * http://BACKEND:agent_port/v1/sockets every SL_AGENT_POLL_MS, each read
 * bounded by SL_AGENT_TIMEOUT_MS, so a dead agent delays nothing but the
 * drains that wait for it. The main thread only looks at the results.
 */
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "agent_poll.h"
#include "daemon.h"

#define AGENT_BODY_MAX	(64 * 1024)

struct agent_target {
	__u32 id;
	struct sl_vip_spec vip;
	struct sluice_addr addr;
	__u8 family;
	__u16 port;
};

struct sl_agent_poll {
	pthread_t thr;
	pthread_mutex_t lock;		/* guards reads */
	struct sl_agent_read reads[SLUICE_MAX_BACKENDS];
	struct agent_target *t;		/* the poll thread's own list */
	size_t n;
};

struct body {
	char buf[AGENT_BODY_MAX];
	size_t len;
	bool over;
};

static size_t keep_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;

	if (b->len + len >= sizeof(b->buf)) {
		b->over = true;
		return 0;	/* makes libcurl stop: an agent never says this much */
	}
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return len;
}

/* The backends that name an agent, from the published snapshot. */
static void collect_targets(struct sl_daemon *d, struct sl_agent_poll *a)
{
	size_t i, j, n = 0;

	pthread_mutex_lock(&d->snap_lock);
	for (i = 0; i < d->snap.st.n_vips; i++)
		n += d->snap.st.vips[i].n_bes;
	free(a->t);
	a->t = calloc(n ? n : 1, sizeof(*a->t));
	a->n = 0;
	for (i = 0; a->t && i < d->snap.st.n_vips; i++) {
		const struct sl_vip *v = &d->snap.st.vips[i];

		for (j = 0; j < v->n_bes; j++) {
			const struct sl_be *b = &v->bes[j];

			if (!b->hc.agent_port || b->id >= SLUICE_MAX_BACKENDS)
				continue;
			a->t[a->n++] = (struct agent_target){
				.id = b->id, .vip = v->spec, .addr = b->addr,
				.family = b->family, .port = b->hc.agent_port,
			};
		}
	}
	pthread_mutex_unlock(&d->snap_lock);
}

/* The "live" count of @vip in the agent's reply, or -1 with @r->err. */
static void parse_reply(const char *text, const struct sl_vip_spec *vip,
			struct sl_agent_read *r)
{
	json_object *o = json_tokener_parse(text), *vips, *v, *x;
	struct sl_vip_spec spec;
	char err[64];
	size_t i;

	if (!o || !json_object_object_get_ex(o, "vips", &vips) ||
	    !json_object_is_type(vips, json_type_array)) {
		snprintf(r->err, sizeof(r->err), "the agent's reply is not a socket count");
		goto out;
	}
	for (i = 0; i < json_object_array_length(vips); i++) {
		v = json_object_array_get_idx(vips, i);
		if (!json_object_object_get_ex(v, "vip", &x) ||
		    sl_parse_vip(json_object_get_string(x), &spec, err, sizeof(err)) ||
		    memcmp(&spec, vip, sizeof(spec)))
			continue;
		if (!json_object_object_get_ex(v, "live", &x) ||
		    !json_object_is_type(x, json_type_int)) {
			snprintf(r->err, sizeof(r->err), "the agent's count has no \"live\"");
			goto out;
		}
		r->live = json_object_get_uint64(x);
		r->ok = true;
		goto out;
	}
	snprintf(r->err, sizeof(r->err), "the agent does not count this VIP (its --vip list)");
out:
	json_object_put(o);
}

static void read_one(const struct agent_target *t, struct sl_agent_read *r)
{
	char url[SL_ADDR_STR_MAX + 48], host[SL_ADDR_STR_MAX];
	struct body *b = calloc(1, sizeof(*b));
	CURL *e = curl_easy_init();
	long status = 0;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	r->started_boot_ms = sl_boot_ms();
	if (!b || !e) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		goto out;
	}
	sl_format_addr(&t->addr, t->family, host, sizeof(host));
	snprintf(url, sizeof(url), t->family == SLUICE_AF_INET6 ?
		 "http://[%s]:%u/v1/sockets" : "http://%s:%u/v1/sockets", host, t->port);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)SL_AGENT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "sluiced/" SL_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	rc = curl_easy_perform(e);
	if (rc != CURLE_OK) {
		snprintf(r->err, sizeof(r->err), "%s", b->over ? "the agent's reply is too long" :
			 curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		snprintf(r->err, sizeof(r->err), "the agent answered HTTP %ld", status);
		goto out;
	}
	parse_reply(b->buf, &t->vip, r);
out:
	if (e)
		curl_easy_cleanup(e);
	free(b);
}

static void *poll_main(void *arg)
{
	struct sl_daemon *d = arg;
	struct sl_agent_poll *a = d->agents;
	struct timespec ts = { 0, SL_AGENT_POLL_MS * 1000000L };
	struct sl_agent_read r;
	size_t i;

	while (!d->stop) {
		collect_targets(d, a);
		for (i = 0; i < a->n && !d->stop; i++) {
			read_one(&a->t[i], &r);
			pthread_mutex_lock(&a->lock);
			a->reads[a->t[i].id] = r;
			pthread_mutex_unlock(&a->lock);
		}
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int sl_agent_poll_start(struct sl_daemon *d)
{
	struct sl_agent_poll *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->lock, NULL);
	d->agents = a;
	if (pthread_create(&a->thr, NULL, poll_main, d)) {
		d->agents = NULL;
		free(a);
		return -EAGAIN;
	}
	return 0;
}

void sl_agent_poll_stop(struct sl_daemon *d)
{
	struct sl_agent_poll *a = d->agents;

	if (!a)
		return;
	pthread_join(a->thr, NULL);
	free(a->t);
	free(a);
	d->agents = NULL;
}

void sl_agent_last(struct sl_daemon *d, __u32 id, struct sl_agent_read *out)
{
	struct sl_agent_poll *a = d->agents;

	memset(out, 0, sizeof(*out));
	if (!a || id >= SLUICE_MAX_BACKENDS)
		return;
	pthread_mutex_lock(&a->lock);
	*out = a->reads[id];
	pthread_mutex_unlock(&a->lock);
}

void sl_agent_counts(struct sl_daemon *d, int *out, size_t n)
{
	struct sl_agent_read r;
	size_t i, j;

	for (i = 0; i < n; i++)
		out[i] = -1;
	for (i = 0; i < d->st.n_vips; i++) {
		for (j = 0; j < d->st.vips[i].n_bes; j++) {
			const struct sl_be *b = &d->st.vips[i].bes[j];

			if (!b->hc.agent_port || b->id >= n)
				continue;
			sl_agent_last(d, b->id, &r);
			if (r.ok)
				out[b->id] = r.live > INT32_MAX ? INT32_MAX : (int)r.live;
		}
	}
}

bool sl_agent_counted_none(struct sl_daemon *d, const struct sl_be *b)
{
	struct sl_agent_read r;

	if (!b->hc.agent_port)
		return false;
	sl_agent_last(d, b->id, &r);
	/* No socket can appear after the drain began: it is out of the table.
	 * The read's start in today's wall clock, in which the drain's start
	 * moves with any step (wallclock.h). */
	return r.ok && !r.live && r.started_boot_ms &&
	       sl_wallclock_unix(&d->wallclock, r.started_boot_ms) >
		       b->drain_started;
}
