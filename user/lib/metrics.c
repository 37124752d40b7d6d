/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The Prometheus text format of sluiced's snapshot and datapath counters. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "ctl.h"
#include "maps.h"
#include "parse.h"
#include "state.h"
#include "guard.h"
/* struct sl_snapshot: published by sluiced's main thread, only read here. */
#include "snapshot.h"
#include "sluice/version.h"

#include "array.h"
/* vip="<escaped VIP>",backend="<escaped address>"[,name="<name>"] */
#define LABELS_MAX	(2 * SL_VIP_STR_MAX + 2 * SL_ADDR_STR_MAX + SL_BE_NAME_MAX + 48)
/* Reserve per series up front: one realloc for most scrapes. */
#define BUF_BASE	16384
#define BUF_PER_BE	4096
#define BUF_PER_VIP	2048

/* --- output buffer ------------------------------------------------------ */

struct mbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static int mb_reserve(struct mbuf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : BUF_BASE;
	char *p;

	if (b->oom)
		return -ENOMEM;
	if (b->len + more < b->cap)
		return 0;
	while (cap <= b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return -ENOMEM;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void __attribute__((format(printf, 2, 3)))
mb_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (mb_reserve(b, 256))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (mb_reserve(b, (size_t)n + 1))
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += n;
}

/* --- escaping ----------------------------------------------------------- */

char *sl_metrics_escape_label(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	char e;

	if (!len)
		return buf;
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			e = '\\';
			break;
		case '"':
			e = '"';
			break;
		case '\n':
			e = 'n';
			break;
		default:
			e = 0;
			break;
		}
		/* Never split an escape pair: stop at the first that does not fit. */
		if (o + (e ? 2 : 1) >= len)
			break;
		if (e) {
			buf[o++] = '\\';
			buf[o++] = e;
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* HELP text escapes only backslash and newline. */
static void mb_help(struct mbuf *b, const char *name, const char *type,
		    const char *help)
{
	const char *p;

	mb_printf(b, "# HELP %s ", name);
	for (p = help; *p; p++) {
		if (*p == '\\')
			mb_printf(b, "\\\\");
		else if (*p == '\n')
			mb_printf(b, "\\n");
		else
			mb_printf(b, "%c", *p);
	}
	mb_printf(b, "\n# TYPE %s %s\n", name, type);
}

/* --- values ------------------------------------------------------------- */

/* A value as an exact decimal: v / scale, scale 1, 1000 (ms) or 1000000 (us). */
struct mval {
	__u64 v;
	__u32 scale;
};

static struct mval num(__u64 v)
{
	return (struct mval){ .v = v, .scale = 1 };
}

static struct mval ms_to_s(__u64 ms)
{
	return (struct mval){ .v = ms, .scale = 1000 };
}

static struct mval us_to_s(__u64 us)
{
	return (struct mval){ .v = us, .scale = 1000000 };
}

/* name{labels,extra} value, braces only when there is a label. */
static void mb_sample(struct mbuf *b, const char *name, const char *labels,
		      const char *extra_key, const char *extra_val, struct mval v)
{
	bool l = labels && *labels, x = extra_key != NULL;

	mb_printf(b, "%s%s%s%s", name, l || x ? "{" : "", l ? labels : "",
		  l && x ? "," : "");
	if (x)
		mb_printf(b, "%s=\"%s\"", extra_key, extra_val);
	mb_printf(b, "%s ", l || x ? "}" : "");
	if (v.scale == 1000)
		mb_printf(b, "%llu.%03llu\n", (unsigned long long)(v.v / 1000),
			  (unsigned long long)(v.v % 1000));
	else if (v.scale == 1000000)
		mb_printf(b, "%llu.%06llu\n", (unsigned long long)(v.v / 1000000),
			  (unsigned long long)(v.v % 1000000));
	else
		mb_printf(b, "%llu\n", (unsigned long long)v.v);
}

/* --- per-backend families ----------------------------------------------- */

struct be_ref {
	const struct sl_vip *vip;
	const struct sl_be *be;
	const struct sluice_be_stats *s;
	__u64 nh_unconfirmed;
	int agent_sockets;	/* -1: no agent, or its last read failed */
	char labels[LABELS_MAX];
};

/* Label values in SL_BE_* order (checked by tests/unit/test_metrics.c). */
static const char *const state_vals[] = { "active", "draining", "drained" };
static const char *const health_vals[] = { "up", "down", "unknown" };
static const int health_of[] = { SL_HEALTH_UP, SL_HEALTH_DOWN, SL_HEALTH_UNKNOWN };
static const char *const result_vals[] = { "ok", "fail" };

static bool in_drain(const struct sl_be *b)
{
	return b->state == SL_BE_DRAINING || b->state == SL_BE_DRAINED;
}

/*
 * A getter for a family with no extra label: @expr over r, a backend's
 * (be_ref: its state be, its counters s) or a VIP's (vip_ref).
 */
#define VALUE_GETTER(ref, fn, expr)						\
static bool fn(const struct ref *r, int k, struct mval *v)		\
{									\
	(void)k;							\
	*v = num(expr);							\
	return true;							\
}
#define BE_VALUE(fn, expr)	VALUE_GETTER(be_ref, fn, expr)
BE_VALUE(be_handshakes, r->be->handshakes)
BE_VALUE(be_weight, r->be->weight)
BE_VALUE(be_new_flows, r->s->new_flows)
BE_VALUE(be_packets, r->s->packets)
BE_VALUE(be_bytes, r->s->bytes)
BE_VALUE(be_closing, r->s->closing)
BE_VALUE(be_lost, r->be->lost)
BE_VALUE(be_evicted, r->be->evicted)
BE_VALUE(be_rescued, r->s->rescued)
/* Never under the truth: the last pass's count plus flows confirmed since. */
BE_VALUE(be_flows, sl_be_flows_shown(r->be, r->s->confirmed))
BE_VALUE(be_timed_out, r->be->state == SL_BE_DRAINED && r->be->timed_out)
BE_VALUE(be_unverifiable,
	 r->be->state == SL_BE_DRAINING && sl_be_unverifiable(r->be))
#undef BE_VALUE

static bool be_state(const struct be_ref *r, int k, struct mval *v)
{
	*v = num(r->be->state == k);
	return true;
}

static bool be_health(const struct be_ref *r, int k, struct mval *v)
{
	*v = num(r->be->health == health_of[k]);
	return true;
}

static bool be_drain_start(const struct be_ref *r, int k, struct mval *v)
{
	(void)k;
	*v = ms_to_s(r->be->drain_started);
	return in_drain(r->be) && r->be->drain_started;
}

static bool be_drain_deadline(const struct be_ref *r, int k, struct mval *v)
{
	(void)k;
	*v = ms_to_s(r->be->drain_deadline);
	return in_drain(r->be) && r->be->drain_deadline;
}

/* Live flows still assigned to a draining or drained backend (now, not at the deadline). */
static bool be_drain_left(const struct be_ref *r, int k, struct mval *v)
{
	(void)k;
	*v = num(sl_be_flows_shown(r->be, r->s->confirmed));
	return in_drain(r->be);
}

static bool be_checks(const struct be_ref *r, int k, struct mval *v)
{
	*v = num(k == 0 ? r->be->checks_ok : r->be->checks_failed);
	return true;
}

struct be_family {
	const char *name;
	const char *type;
	const char *help;
	const char *key;		/* extra label, or NULL */
	const char *const *vals;	/* its values */
	int n_vals;
	/* The value for extra label value k; false: no sample for this backend. */
	bool (*get)(const struct be_ref *r, int k, struct mval *v);
};

#define EXTRA(key, vals)	key, vals, (int)ARRAY_SIZE(vals)
#define NO_EXTRA		NULL, NULL, 1

static bool be_nh_unconfirmed(const struct be_ref *r, int k, struct mval *v)
{
	(void)k;
	*v = num(r->nh_unconfirmed);
	return true;
}

static bool be_agent_sockets(const struct be_ref *r, int k, struct mval *v)
{
	(void)k;
	if (!r->be->hc.agent_port || r->agent_sockets < 0)
		return false;
	*v = num(r->agent_sockets);
	return true;
}

static bool be_agent_up(const struct be_ref *r, int k, struct mval *v)
{
	(void)k;
	if (!r->be->hc.agent_port)
		return false;
	*v = num(r->agent_sockets >= 0);
	return true;
}

static const struct be_family be_families[] = {
	{ "sluice_backend_agent_sockets", "gauge",
	  "Live sockets of the VIP on the backend, as its sluice-decap agent counts them (backends with agent_port whose agent answered); a drain also waits for this to reach 0.",
	  NO_EXTRA, be_agent_sockets },
	{ "sluice_backend_agent_up", "gauge",
	  "1 if the backend's agent answered its last read, 0 if not (backends with agent_port): a drain of it cannot complete while 0.",
	  NO_EXTRA, be_agent_up },
	{ "sluice_backend_nexthop_unconfirmed_packets_total", "counter",
	  "Packets forwarded to the backend while the kernel did not confirm its next hop's MAC (neighbour STALE, DELAY or PROBE); a steady rise means the backend is unreachable at that MAC.",
	  NO_EXTRA, be_nh_unconfirmed },
	{ "sluice_backend_flows", "gauge",
	  "Live confirmed flows of the backend: the last count plus flows confirmed since (never below the truth).",
	  NO_EXTRA, be_flows },
	{ "sluice_backend_handshakes", "gauge",
	  "Flows of the backend without signs of a real connection yet (handshakes in flight), at the last sweep.",
	  NO_EXTRA, be_handshakes },
	{ "sluice_backend_state", "gauge",
	  "Lifecycle state of the backend: 1 for the current state, 0 for the others.",
	  EXTRA("state", state_vals), be_state },
	{ "sluice_backend_health", "gauge",
	  "Health of the backend: 1 for the current health, 0 for the others.",
	  EXTRA("health", health_vals), be_health },
	{ "sluice_backend_weight", "gauge",
	  "Configured Maglev weight of the backend (0: no new flows).",
	  NO_EXTRA, be_weight },
	{ "sluice_backend_new_flows_total", "counter",
	  "Flows the datapath assigned to the backend (per-CPU map pinned on bpffs: survives daemon restarts).",
	  NO_EXTRA, be_new_flows },
	{ "sluice_backend_packets_total", "counter",
	  "Packets forwarded to the backend (per-CPU map pinned on bpffs: survives daemon restarts).",
	  NO_EXTRA, be_packets },
	{ "sluice_backend_bytes_total", "counter",
	  "Bytes forwarded to the backend, before encapsulation (per-CPU map pinned on bpffs).",
	  NO_EXTRA, be_bytes },
	{ "sluice_backend_closing_total", "counter",
	  "Flows to the backend the datapath saw a FIN or RST on (per-CPU map pinned on bpffs).",
	  NO_EXTRA, be_closing },
	{ "sluice_backend_flows_lost_total", "counter",
	  "Flows lost while the backend drained: expired while open, moved to another backend, or gone from every table (persisted: survives daemon restarts).",
	  NO_EXTRA, be_lost },
	{ "sluice_backend_flows_evicted_total", "counter",
	  "Draining flows evicted from the flow table and kept in the drain table (since sluiced started).",
	  NO_EXTRA, be_evicted },
	{ "sluice_backend_flows_rescued_total", "counter",
	  "Evicted draining flows the datapath restored from the drain table (per-CPU map pinned on bpffs).",
	  NO_EXTRA, be_rescued },
	{ "sluice_backend_drain_start_timestamp_seconds", "gauge",
	  "Unix time the drain of a draining or drained backend started.",
	  NO_EXTRA, be_drain_start },
	{ "sluice_backend_drain_deadline_timestamp_seconds", "gauge",
	  "Unix time a draining or drained backend's drain times out.",
	  NO_EXTRA, be_drain_deadline },
	{ "sluice_backend_drain_remaining_flows", "gauge",
	  "Live flows still assigned to a draining or drained backend.",
	  NO_EXTRA, be_drain_left },
	{ "sluice_backend_drain_timed_out", "gauge",
	  "1 if the backend's drain ended at its deadline with flows left, else 0.",
	  NO_EXTRA, be_timed_out },
	{ "sluice_backend_drain_unverifiable", "gauge",
	  "1 while the backend drains after the drain table had no room for all its flows: no count can prove it idle, so the drain ends at its deadline (raise flows.drain_table_size), else 0.",
	  NO_EXTRA, be_unverifiable },
	{ "sluice_backend_health_checks_total", "counter",
	  "Health checks of the backend by result, since sluiced started.",
	  EXTRA("result", result_vals), be_checks },
};

/* --- histograms and per-reason counters --------------------------------- */

/* One series: cumulative le buckets, +Inf, _sum and _count. */
static void mb_hist(struct mbuf *b, const char *name, const char *labels,
		    const struct sl_hist *h, const struct sl_hist_bounds *bounds)
{
	char le[32], series[128];
	__u64 cum = 0;
	int i;

	snprintf(series, sizeof(series), "%s_bucket", name);
	for (i = 0; i <= bounds->n; i++) {
		cum += h->bucket[i];
		if (i < bounds->n)
			snprintf(le, sizeof(le), "%g", bounds->le_us[i] / 1e6);
		else
			snprintf(le, sizeof(le), "+Inf");
		mb_sample(b, series, labels, "le", le, num(cum));
	}
	snprintf(series, sizeof(series), "%s_sum", name);
	mb_sample(b, series, labels, NULL, NULL, us_to_s(h->sum_us));
	snprintf(series, sizeof(series), "%s_count", name);
	mb_sample(b, series, labels, NULL, NULL, num(h->count));
}

static void render_be_check_latency(struct mbuf *b, const struct be_ref *refs, size_t n)
{
	static const char name[] = "sluice_backend_health_check_latency_seconds";
	size_t i;

	mb_help(b, name, "histogram",
		"Duration of the backend's health checks, failed ones included, since sluiced started.");
	for (i = 0; i < n; i++)
		if (refs[i].be->hc.type != SL_HC_NONE)
			mb_hist(b, name, refs[i].labels, &refs[i].be->hc_latency,
				&sl_hist_check_latency);
}

static void render_be_check_failures(struct mbuf *b, const struct be_ref *refs, size_t n)
{
	static const char name[] = "sluice_backend_health_check_failures_total";
	char reason[2 * SL_HC_REASON_MAX];
	size_t i;
	int k;

	mb_help(b, name, "counter",
		"Failed health checks of the backend by reason (timeout, refused, unreachable, HTTP <status>, TLS certificate not trusted, TLS handshake failed, other), since sluiced started.");
	for (i = 0; i < n; i++)
		for (k = 0; k < SL_HC_REASONS; k++)
			if (refs[i].be->hc_fails.n[k])
				mb_sample(b, name, refs[i].labels, "reason",
					  sl_metrics_escape_label(refs[i].be->hc_fails.name[k],
								  reason, sizeof(reason)),
					  num(refs[i].be->hc_fails.n[k]));
}

static void render_be_families(struct mbuf *b, const struct be_ref *refs, size_t n)
{
	const struct be_family *f;
	struct mval v;
	size_t i;
	int k;

	for (f = be_families; f < be_families + ARRAY_SIZE(be_families); f++) {
		mb_help(b, f->name, f->type, f->help);
		for (i = 0; i < n; i++)
			for (k = 0; k < f->n_vals; k++)
				if (f->get(&refs[i], k, &v))
					mb_sample(b, f->name, refs[i].labels, f->key,
						  f->key ? f->vals[k] : NULL, v);
	}
	render_be_check_latency(b, refs, n);
	render_be_check_failures(b, refs, n);
}

/* --- per-VIP families --------------------------------------------------- */

struct vip_ref {
	const struct sl_vip *vip;
	const struct sluice_vip_stats *s;
	bool all_down;
	char labels[LABELS_MAX];
};

static bool vip_flows(const struct vip_ref *r, int k, struct mval *v)
{
	__u64 sum = 0;
	size_t i;

	(void)k;
	for (i = 0; i < r->vip->n_bes; i++)
		sum += r->vip->bes[i].flows;
	*v = num(sum);
	return true;
}

static bool vip_backends(const struct vip_ref *r, int k, struct mval *v)
{
	__u64 n = 0;
	size_t i;

	for (i = 0; i < r->vip->n_bes; i++)
		n += r->vip->bes[i].state == k;
	*v = num(n);
	return true;
}

#define VIP_VALUE(fn, expr)	VALUE_GETTER(vip_ref, fn, expr)
VIP_VALUE(vip_new_flows, r->s->new_flows)
VIP_VALUE(vip_packets, r->s->packets)
VIP_VALUE(vip_bytes, r->s->bytes)
VIP_VALUE(vip_non_syn_miss, r->s->non_syn_miss)
VIP_VALUE(vip_no_backend, r->s->no_backend)
VIP_VALUE(vip_rescheduled, r->s->rescheduled)
VIP_VALUE(vip_fallback, r->s->fallback)
VIP_VALUE(vip_active_backends, sl_vip_n_active(r->vip))
VIP_VALUE(vip_all_down, r->all_down)
#undef VIP_VALUE
#undef VALUE_GETTER

struct vip_family {
	const char *name;
	const char *type;
	const char *help;
	const char *key;
	const char *const *vals;
	int n_vals;
	bool (*get)(const struct vip_ref *r, int k, struct mval *v);
};

static const struct vip_family vip_families[] = {
	{ "sluice_vip_flows", "gauge",
	  "Live flows of the VIP at the last sweep (sum over its backends).",
	  NO_EXTRA, vip_flows },
	{ "sluice_vip_backends", "gauge",
	  "Backends of the VIP by lifecycle state.", EXTRA("state", state_vals),
	  vip_backends },
	{ "sluice_vip_new_flows_total", "counter",
	  "Flows the datapath balanced for the VIP (per-CPU map pinned on bpffs: survives daemon restarts).",
	  NO_EXTRA, vip_new_flows },
	{ "sluice_vip_packets_total", "counter",
	  "Packets to the VIP the datapath forwarded (per-CPU map pinned on bpffs).",
	  NO_EXTRA, vip_packets },
	{ "sluice_vip_bytes_total", "counter",
	  "Bytes to the VIP the datapath forwarded, before encapsulation (per-CPU map pinned on bpffs).",
	  NO_EXTRA, vip_bytes },
	{ "sluice_vip_non_syn_miss_total", "counter",
	  "Mid-stream TCP packets of the VIP with no flow state (eviction, restart, ECMP move), re-hashed.",
	  NO_EXTRA, vip_non_syn_miss },
	{ "sluice_vip_no_backend_total", "counter",
	  "Packets to the VIP dropped because its table held no backend.",
	  NO_EXTRA, vip_no_backend },
	{ "sluice_vip_rescheduled_total", "counter",
	  "Flows of the VIP re-balanced because their backend was removed or released.",
	  NO_EXTRA, vip_rescheduled },
	{ "sluice_vip_fallback_total", "counter",
	  "TCP packets of the VIP with no flow state sent, during a drain, to the pre-drain table's backend with the live pick as second hop.",
	  NO_EXTRA, vip_fallback },
	{ "sluice_vip_active_backends", "gauge",
	  "Backends of the VIP that take new flows (state active, weight above 0, whatever their health); 0: the VIP drops every new connection.",
	  NO_EXTRA, vip_active_backends },
	{ "sluice_vip_all_backends_down", "gauge",
	  "1 if every backend of the VIP is down, else 0.", NO_EXTRA,
	  vip_all_down },
};

static void render_vip_families(struct mbuf *b, const struct vip_ref *refs, size_t n)
{
	const struct vip_family *f;
	struct mval v;
	size_t i;
	int k;

	for (f = vip_families; f < vip_families + ARRAY_SIZE(vip_families); f++) {
		mb_help(b, f->name, f->type, f->help);
		for (i = 0; i < n; i++)
			for (k = 0; k < f->n_vals; k++)
				if (f->get(&refs[i], k, &v))
					mb_sample(b, f->name, refs[i].labels, f->key,
						  f->key ? f->vals[k] : NULL, v);
	}
}

/* --- global families ---------------------------------------------------- */

static void render_head(struct mbuf *b, const struct sl_snapshot *snap,
			const char *instance)
{
	char inst[2 * SL_CFG_INSTANCE_MAX + 8], labels[sizeof(inst) + 64];

	sl_metrics_escape_label(instance ? instance : "", inst, sizeof(inst));
	/* Not "instance": Prometheus owns that label (the scrape target). */
	snprintf(labels, sizeof(labels), "version=\"%s\",sluice_instance=\"%s\"",
		 SL_VERSION, inst);
	mb_help(b, "sluice_info", "gauge",
		"sluiced's version and instance (paths and socket name); always 1.");
	mb_sample(b, "sluice_info", labels, NULL, NULL, num(1));
	mb_help(b, "sluice_start_time_seconds", "gauge", "Unix time sluiced started.");
	mb_sample(b, "sluice_start_time_seconds", NULL, NULL, NULL,
		  ms_to_s(snap->started_unix_ms));
}

/* What the box announces to its routers (a fleet behind ECMP). */
static void render_announce(struct mbuf *b, const struct sl_snapshot *snap)
{
	char addr[SL_ADDR_STR_MAX], labels[SL_ADDR_STR_MAX + 16];
	size_t i;

	mb_help(b, "sluice_box_drained", "gauge",
		"1 while the box is drained (sluicectl box drain): it announces no VIP.");
	mb_sample(b, "sluice_box_drained", NULL, NULL, NULL, num(snap->box_drained));
	if (!snap->announce_enabled)
		return;
	mb_help(b, "sluice_vip_address_announced", "gauge",
		"1 for each VIP address this box announces to its routers (announce: table); absent when withdrawn.");
	for (i = 0; i < snap->n_announced && i < SL_ANNOUNCE_MAX; i++) {
		sl_format_addr(&snap->announced[i].addr, snap->announced[i].family, addr,
			       sizeof(addr));
		snprintf(labels, sizeof(labels), "address=\"%s\"", addr);
		mb_sample(b, "sluice_vip_address_announced", labels, NULL, NULL, num(1));
	}
}

/* The fleet's desired state in etcd: is this box following it? */
static void render_cluster(struct mbuf *b, const struct sl_snapshot *snap)
{
	if (!snap->cluster.enabled)
		return;
	mb_help(b, "sluice_cluster_connected", "gauge",
		"1 while sluiced holds a session with etcd; 0: it forwards with the last applied revision.");
	mb_sample(b, "sluice_cluster_connected", NULL, NULL, NULL,
		  num(snap->cluster.connected));
	mb_help(b, "sluice_cluster_applied_revision", "gauge",
		"The etcd revision of the desired state in force on this box (0: none yet).");
	mb_sample(b, "sluice_cluster_applied_revision", NULL, NULL, NULL,
		  num((__u64)snap->cluster.applied_rev));
	mb_help(b, "sluice_cluster_rejected_revision", "gauge",
		"The last revision of the desired state this box refused (0: none).");
	mb_sample(b, "sluice_cluster_rejected_revision", NULL, NULL, NULL,
		  num((__u64)snap->cluster.rejected_rev));
	mb_help(b, "sluice_cluster_box_name_conflict", "gauge",
		"1 while another live sluiced holds this box's name in etcd: this box does not join the fleet (give every box a unique cluster.box).");
	mb_sample(b, "sluice_cluster_box_name_conflict", NULL, NULL, NULL,
		  num(snap->cluster.name_conflict));
}

/* Is the program really running, and will it outlive sluiced (pins)? */
static void render_datapath(struct mbuf *b, const struct sl_snapshot *snap)
{
	char name[2 * 16 + 8], labels[sizeof(name) + 16];
	unsigned int i;

	mb_help(b, "sluice_xdp_attached", "gauge",
		"1 if the interface runs sluiced's XDP program (asked of the kernel every second), else 0.");
	for (i = 0; i < snap->n_ifaces && i < SL_CFG_MAX_IFACES; i++) {
		sl_metrics_escape_label(snap->ifname[i], name, sizeof(name));
		snprintf(labels, sizeof(labels), "interface=\"%s\"", name);
		mb_sample(b, "sluice_xdp_attached", labels, NULL, NULL, num(snap->attached[i]));
	}
	mb_help(b, "sluice_pins_ok", "gauge",
		"1 if every map and link is pinned in bpffs; 0: a sluiced exit detaches sluice and a restart loses the flows.");
	mb_sample(b, "sluice_pins_ok", NULL, NULL, NULL, num(snap->pins_ok));
	mb_help(b, "sluice_repins_total", "counter",
		"Pins sluiced restored after they were lost (bpffs unmounted, pin removed).");
	mb_sample(b, "sluice_repins_total", NULL, NULL, NULL, num(snap->repins));
	mb_help(b, "sluice_xdp_reattaches_total", "counter",
		"Interfaces re-created (new ifindex, no XDP program) that sluiced attached to again.");
	mb_sample(b, "sluice_xdp_reattaches_total", NULL, NULL, NULL,
		  num(snap->reattaches));
	render_announce(b, snap);
	render_cluster(b, snap);
}

static void render_tail(struct mbuf *b, const struct sl_snapshot *snap,
			const struct sl_counters *ctr)
{
	char labels[96];
	int r;

	mb_help(b, "sluice_flow_table_entries", "gauge",
		"Entries in the flow tables at the last sweep: established (sl_flows) and new (sl_new slots in use: flows seen once).");
	mb_sample(b, "sluice_flow_table_entries", NULL, "table", "established",
		  num(snap->flow_entries));
	mb_sample(b, "sluice_flow_table_entries", NULL, "table", "new",
		  num(snap->new_entries));
	mb_help(b, "sluice_flow_table_capacity", "gauge", "Size of the flow tables.");
	mb_sample(b, "sluice_flow_table_capacity", NULL, "table", "established",
		  num(snap->flow_capacity));
	mb_sample(b, "sluice_flow_table_capacity", NULL, "table", "new",
		  num(snap->new_capacity));

	mb_help(b, "sluice_packets_total", "counter",
		"Packets the XDP program saw, by verdict and reason; every packet counts under exactly one reason (per-CPU map pinned on bpffs: survives daemon restarts).");
	for (r = 0; r < SLUICE_R_MAX; r++) {
		snprintf(labels, sizeof(labels), "verdict=\"%s\"",
			 sl_verdict_name(sluice_reason_verdict(r)));
		mb_sample(b, "sluice_packets_total", labels, "reason", sl_reason_label(r),
			  num(ctr->reasons[r]));
	}

	render_datapath(b, snap);

	mb_help(b, "sluice_sweep_duration_seconds", "histogram",
		"Duration of the sweeps of the flow tables since sluiced started.");
	mb_hist(b, "sluice_sweep_duration_seconds", NULL, &snap->sweep_time, &sl_hist_sweep);
	mb_help(b, "sluice_sweeps_total", "counter", "Sweeps of the flow tables since sluiced started.");
	mb_sample(b, "sluice_sweeps_total", NULL, NULL, NULL, num(snap->sweeps));
	mb_help(b, "sluice_drain_walks_total", "counter",
		"Drain walks (in-kernel walks of sl_flows when a drain comes into force) "
		"since sluiced started.");
	mb_sample(b, "sluice_drain_walks_total", NULL, NULL, NULL, num(snap->walks));
	mb_help(b, "sluice_drain_walk_duration_seconds", "histogram",
		"Duration of the drain walks since sluiced started: how long a drain "
		"waits before its flows are in the drain table and its handshakes counted.");
	mb_hist(b, "sluice_drain_walk_duration_seconds", NULL, &snap->walk_time,
		&sl_hist_sweep);
	mb_help(b, "sluice_drain_walk_loaded", "gauge",
		"1 if the drain walk loaded; 0: drains wait for a full sweep.");
	mb_sample(b, "sluice_drain_walk_loaded", NULL, NULL, NULL, num(snap->walker));
	mb_help(b, "sluice_flows_expired_total", "counter",
		"Flows the sweeper expired (closed or idle) since sluiced started.");
	mb_sample(b, "sluice_flows_expired_total", NULL, NULL, NULL, num(snap->expired_total));
}

/* --- reloads and tables (what the box runs) ------------------------------ */

static void render_reload(struct mbuf *b, const struct sl_snapshot *snap)
{
	const struct sl_reload_status *r = &snap->reload;

	mb_help(b, "sluice_reload_last_success", "gauge",
		"1 if the last config reload (SIGHUP or sluicectl reload) was applied, 0 if it was rejected; 1 before any reload.");
	mb_sample(b, "sluice_reload_last_success", NULL, NULL, NULL,
		  num(!r->unix_ms || r->success));
	mb_help(b, "sluice_reload_last_timestamp_seconds", "gauge",
		"Unix time of the last config reload, applied or rejected; 0 before any.");
	mb_sample(b, "sluice_reload_last_timestamp_seconds", NULL, NULL, NULL,
		  ms_to_s(r->unix_ms));
	mb_help(b, "sluice_reloads_total", "counter",
		"Config reloads since sluiced started, by result.");
	mb_sample(b, "sluice_reloads_total", NULL, "result", "applied", num(r->applied_total));
	mb_sample(b, "sluice_reloads_total", NULL, "result", "rejected", num(r->rejected_total));
	mb_help(b, "sluice_reload_restart_pending", "gauge",
		"Settings of the last applied config file that differ from the running ones and wait for a restart.");
	mb_sample(b, "sluice_reload_restart_pending", NULL, NULL, NULL, num(r->restart_pending));
}

/*
 * The fingerprint as a label of an info metric: boxes behind one ECMP
 * group balance identically when every VIP's value matches
 * (count by (vip) (count by (vip, fingerprint) (...)) > 1 finds those that do not).
 */
static void render_tables(struct mbuf *b, const struct sl_snapshot *snap,
			  const struct vip_ref *refs, size_t n)
{
	char fp[SL_CTL_FINGERPRINT_LEN + 1];
	size_t i;

	mb_help(b, "sluice_vip_table_info", "gauge",
		"The live Maglev table of the VIP: fingerprint is a 64-bit hash of its slots as backend addresses; always 1.");
	for (i = 0; i < n; i++) {
		__u32 id = refs[i].vip->id;
		__u64 v = id < SLUICE_MAX_VIPS ? snap->table_fp[id] : 0;

		if (!v)
			continue;	/* not built yet */
		snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)v);
		mb_sample(b, "sluice_vip_table_info", refs[i].labels, "fingerprint", fp, num(1));
	}
}

/* The names and meanings every Prometheus client library uses. */
static void render_process(struct mbuf *b, const struct sl_proc *p)
{
	mb_help(b, "process_cpu_seconds_total", "counter",
		"Total user and system CPU time spent in seconds.");
	mb_sample(b, "process_cpu_seconds_total", NULL, NULL, NULL, us_to_s(p->cpu_us));
	mb_help(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	mb_sample(b, "process_resident_memory_bytes", NULL, NULL, NULL, num(p->rss_bytes));
	mb_help(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	mb_sample(b, "process_virtual_memory_bytes", NULL, NULL, NULL, num(p->vsize_bytes));
	mb_help(b, "process_open_fds", "gauge", "Number of open file descriptors.");
	mb_sample(b, "process_open_fds", NULL, NULL, NULL, num(p->open_fds));
	mb_help(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
	mb_sample(b, "process_max_fds", NULL, NULL, NULL, num(p->max_fds));
	mb_help(b, "process_start_time_seconds", "gauge",
		"Start time of the process since unix epoch in seconds.");
	mb_sample(b, "process_start_time_seconds", NULL, NULL, NULL,
		  ms_to_s(p->start_unix_ms));
}

/* --- the whole page ----------------------------------------------------- */

static const struct sluice_be_stats zero_be;
static const struct sluice_vip_stats zero_vip;

static void fill_refs(const struct sl_snapshot *snap, const struct sl_counters *ctr,
		      struct vip_ref *vrefs, struct be_ref *brefs)
{
	char vip[SL_VIP_STR_MAX], vesc[2 * SL_VIP_STR_MAX], addr[SL_ADDR_STR_MAX],
	     aesc[2 * SL_ADDR_STR_MAX];
	const struct sl_state *st = &snap->st;
	size_t i, j, n = 0;

	for (i = 0; i < st->n_vips; i++) {
		const struct sl_vip *v = &st->vips[i];
		bool ok = v->id < SLUICE_MAX_VIPS;

		if (sl_format_vip(&v->spec, vip, sizeof(vip)))
			snprintf(vip, sizeof(vip), "vip%u", v->id);
		sl_metrics_escape_label(vip, vesc, sizeof(vesc));
		vrefs[i].vip = v;
		vrefs[i].s = ok ? &ctr->vip[v->id] : &zero_vip;
		/*
		 * The main thread may publish all_down with the snapshot; the
		 * state copy says the same, so a snapshot without it is right too.
		 */
		vrefs[i].all_down = (ok && snap->all_down[v->id]) || sl_vip_all_down(v);
		snprintf(vrefs[i].labels, LABELS_MAX, "vip=\"%s\"", vesc);
		for (j = 0; j < v->n_bes; j++, n++) {
			const struct sl_be *be = &v->bes[j];

			if (sl_format_addr(&be->addr, be->family, addr, sizeof(addr)))
				snprintf(addr, sizeof(addr), "backend%u", be->id);
			sl_metrics_escape_label(addr, aesc, sizeof(aesc));
			brefs[n].vip = v;
			brefs[n].be = be;
			brefs[n].s = be->id < SLUICE_MAX_BACKENDS ? &ctr->be[be->id] : &zero_be;
			brefs[n].nh_unconfirmed = be->id < SLUICE_MAX_BACKENDS ?
						  snap->nh_unconfirmed[be->id] : 0;
			brefs[n].agent_sockets = be->id < SLUICE_MAX_BACKENDS ?
						 snap->agent_sockets[be->id] : -1;
			/* A name is [A-Za-z0-9._-] (sl_be_name_check): nothing to escape. */
			snprintf(brefs[n].labels, LABELS_MAX, "vip=\"%s\",backend=\"%s\"%s%s%s",
				 vesc, aesc, be->name[0] ? ",name=\"" : "", be->name,
				 be->name[0] ? "\"" : "");
		}
	}
}

int sl_metrics_render(const struct sl_snapshot *snap, const struct sl_counters *ctr,
		      const char *instance, char **out, size_t *len)
{
	const struct sl_state *st = &snap->st;
	size_t n_bes = sl_state_n_backends(st);
	struct mbuf b = { 0 };
	struct vip_ref *vrefs;
	struct be_ref *brefs;

	*out = NULL;
	*len = 0;
	vrefs = calloc(st->n_vips + 1, sizeof(*vrefs));
	brefs = calloc(n_bes + 1, sizeof(*brefs));
	if (!vrefs || !brefs ||
	    mb_reserve(&b, BUF_BASE + n_bes * BUF_PER_BE + st->n_vips * BUF_PER_VIP)) {
		free(vrefs);
		free(brefs);
		return -ENOMEM;
	}
	fill_refs(snap, ctr, vrefs, brefs);
	render_head(&b, snap, instance);
	render_vip_families(&b, vrefs, st->n_vips);
	render_be_families(&b, brefs, n_bes);
	render_tail(&b, snap, ctr);
	render_reload(&b, snap);
	render_tables(&b, snap, vrefs, st->n_vips);
	if (ctr->have_proc)
		render_process(&b, &ctr->proc);
	free(vrefs);
	free(brefs);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
