/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sluiced's Prometheus endpoint: GET /metrics over libmicrohttpd, on its
 * own epoll thread with a few connections and a per-connection timeout.
 *
 * A scrape never blocks the datapath or the control socket. It reads the
 * per-CPU counters from the maps (map syscalls are thread-safe) for the
 * ids in use, outside any lock, then holds d->snap_lock only while it
 * renders d->snap, the copy the main thread republishes after each change
 * and sweep. It never touches d->st (main thread only) and never walks the
 * flow tables: flow counts come from the last sweep.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "daemon.h"
#include "metrics.h"
#include "parse.h"

#define METRICS_MAX_CONN	8	/* Prometheus needs one; leave room for curl */
#define METRICS_TIMEOUT_S	10	/* idle or slow connections are closed */
#define METRICS_BACKLOG		16
/*
 * Reading the counters and taking the lock are two steps: a backend added
 * in between has no counters read yet. Read those and look again, a few
 * times at most.
 */
#define SCRAPE_TRIES		3
#define SCRAPE_SLOW_MS		100	/* log scrapes slower than this */

struct sl_metrics {
	struct sl_daemon *d;
	struct MHD_Daemon *mhd;
	char instance[SL_CFG_INSTANCE_MAX + 1];
	char where[SL_ADDR_STR_MAX + 16];	/* "127.0.0.1:9469", for logs */
};

/* --- one scrape --------------------------------------------------------- */

struct scrape {
	struct sl_counters ctr;
	bool vip_read[SLUICE_MAX_VIPS];
	bool be_read[SLUICE_MAX_BACKENDS];
	__u32 vip_need[SLUICE_MAX_VIPS];
	__u32 be_need[SLUICE_MAX_BACKENDS];
	size_t n_vip_need, n_be_need;
};

/* Which ids of the snapshot have no counters read yet (under snap_lock). */
static void find_unread(const struct sl_state *st, struct scrape *s)
{
	size_t i, j;

	s->n_vip_need = 0;
	s->n_be_need = 0;
	for (i = 0; i < st->n_vips; i++) {
		const struct sl_vip *v = &st->vips[i];

		if (v->id < SLUICE_MAX_VIPS && !s->vip_read[v->id] &&
		    s->n_vip_need < SLUICE_MAX_VIPS)
			s->vip_need[s->n_vip_need++] = v->id;
		for (j = 0; j < v->n_bes; j++) {
			__u32 id = v->bes[j].id;

			/* Backend ids are unique across VIPs: no duplicates. */
			if (id < SLUICE_MAX_BACKENDS && !s->be_read[id] &&
			    s->n_be_need < SLUICE_MAX_BACKENDS)
				s->be_need[s->n_be_need++] = id;
		}
	}
}

/* The counters of the listed ids, without any lock held. */
static int read_unread(const struct sl_maps *maps, struct scrape *s)
{
	size_t i;
	int rc;

	for (i = 0; i < s->n_vip_need; i++) {
		__u32 id = s->vip_need[i];

		rc = sl_vip_stats_read(maps, id, &s->ctr.vip[id]);
		if (rc)
			return rc;
		s->vip_read[id] = true;
	}
	for (i = 0; i < s->n_be_need; i++) {
		__u32 id = s->be_need[i];

		rc = sl_be_stats_read(maps, id, &s->ctr.be[id]);
		if (rc)
			return rc;
		s->be_read[id] = true;
	}
	return 0;
}

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Render the page into *out. A counter that cannot be read fails the
 * scrape rather than report a zero (which Prometheus would take for a
 * counter reset).
 */
static int scrape(struct sl_metrics *m, char **out, size_t *len)
{
	struct sl_daemon *d = m->d;
	__u64 t0 = mono_ms(), took;
	struct scrape *s;
	int rc, tries;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	rc = sl_reasons_read(&d->maps, s->ctr.reasons);
	/* process_* are extras: a /proc hiccup must not fail the scrape. */
	s->ctr.have_proc = !sl_proc_read(&s->ctr.proc);
	for (tries = 1; !rc; tries++) {
		pthread_mutex_lock(&d->snap_lock);
		find_unread(&d->snap.st, s);
		if ((!s->n_vip_need && !s->n_be_need) || tries == SCRAPE_TRIES) {
			rc = sl_metrics_render(&d->snap, &s->ctr, m->instance, out, len);
			pthread_mutex_unlock(&d->snap_lock);
			break;
		}
		pthread_mutex_unlock(&d->snap_lock);
		rc = read_unread(&d->maps, s);
	}
	free(s);
	took = mono_ms() - t0;
	if (took > SCRAPE_SLOW_MS)
		sl_warn("metrics: a scrape took %llu ms",
			(unsigned long long)took);
	return rc;
}

/* --- HTTP --------------------------------------------------------------- */

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned int status,
				 const char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * Only GET (and HEAD, which HTTP requires wherever GET is served) of
 * /metrics. The reply is queued on the first call: no request body is
 * ever read.
 */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct sl_metrics *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *page;
	size_t len;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(url, SL_METRICS_PATH))
		return send_text(conn, MHD_HTTP_NOT_FOUND,
				 "not found: sluiced serves " SL_METRICS_PATH " only\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				 "method not allowed: use GET\n");
	if (scrape(m, &page, &len))
		return send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				 "cannot read sluice's counters; see sluiced's log\n");
	resp = MHD_create_response_from_buffer(len, page, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(page);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				SL_METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	sl_warn("metrics: %s", msg);
}

/* Our own listening socket, so a bind failure says why (MHD would not). */
static int listen_on(const struct sl_config *cfg, const char *where, char *err,
		     size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (cfg->metrics_family == SLUICE_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = cfg->metrics_port;
		memcpy(&s6->sin6_addr, cfg->metrics_addr.addr, 16);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = cfg->metrics_port;
		s4->sin_addr.s_addr = cfg->metrics_addr.addr[0];
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, METRICS_BACKLOG))
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "cannot serve metrics on %s: %s (metrics.listen; \"off\" disables it)",
		 where, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int sl_metrics_start(struct sl_daemon *d, char *err, size_t errlen)
{
	struct sl_metrics *m;
	unsigned int flags;
	int fd;

	if (!d->cfg.metrics_enabled || d->metrics)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "cannot serve metrics: out of memory");
		return -ENOMEM;
	}
	m->d = d;
	snprintf(m->instance, sizeof(m->instance), "%s", d->cfg.instance);
	if (sl_format_addr_port(&d->cfg.metrics_addr, d->cfg.metrics_family,
				d->cfg.metrics_port, m->where, sizeof(m->where)))
		snprintf(m->where, sizeof(m->where), "the metrics address");
	fd = listen_on(&d->cfg, m->where, err, errlen);
	if (fd < 0) {
		free(m);
		return -EADDRNOTAVAIL;
	}
	flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (d->cfg.metrics_family == SLUICE_AF_INET6)
		flags |= MHD_USE_IPv6;
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, m,
				  /* First, or MHD logs the others its own way. */
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_MAX_CONN,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_S,
				  MHD_OPTION_END);
	if (!m->mhd) {
		snprintf(err, errlen, "cannot serve metrics on %s: libmicrohttpd did not start",
			 m->where);
		close(fd);
		free(m);
		return -EIO;
	}
	d->metrics = m;
	sl_log("metrics on http://%s%s", m->where, SL_METRICS_PATH);
	return 0;
}

/* Waits for a scrape in progress; closes the listening socket. */
void sl_metrics_stop(struct sl_daemon *d)
{
	struct sl_metrics *m = d->metrics;

	if (!m)
		return;
	MHD_stop_daemon(m->mhd);
	free(m);
	d->metrics = NULL;
}
