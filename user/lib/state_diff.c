// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Differences between two desired states, as operator lines (state_diff.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "state_diff.h"

struct out {
	sl_diff_line_fn fn;
	void *ctx;
	size_t n;
};

static void __attribute__((format(printf, 2, 3)))
emit(struct out *o, const char *fmt, ...)
{
	char line[SL_DIFF_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->n++;
	if (o->fn)
		o->fn(o->ctx, line);
}

/* Field by field: padding bytes of copies made elsewhere may differ. Two
 * "no check" are equal whatever their unused settings (a state file and
 * etcd's document may fill those differently). */
bool sl_health_cfg_equal(const struct sl_health_cfg *a, const struct sl_health_cfg *b)
{
	if (a->type == SL_HC_NONE && b->type == SL_HC_NONE)
		return true;
	return a->type == b->type && a->on_down == b->on_down &&
	       a->port == b->port && a->expect_status == b->expect_status &&
	       !strncmp(a->path, b->path, sizeof(a->path)) &&
	       a->interval_ms == b->interval_ms && a->timeout_ms == b->timeout_ms &&
	       a->rise == b->rise && a->fall == b->fall &&
	       (a->type != SL_HC_HTTPS ||
		(a->tls_verify == b->tls_verify &&
		 !strncmp(a->ca_file, b->ca_file, sizeof(a->ca_file))));
}

void sl_health_cfg_text(const struct sl_health_cfg *hc, char *buf, size_t len)
{
	char every[SL_DURATION_STR_MAX], tmo[SL_DURATION_STR_MAX], port[16] = "";
	char tls[96] = "";

	if (hc->type == SL_HC_NONE) {
		snprintf(buf, len, "none");
		return;
	}
	sl_format_duration(hc->interval_ms, every, sizeof(every));
	sl_format_duration(hc->timeout_ms, tmo, sizeof(tmo));
	if (hc->port)
		snprintf(port, sizeof(port), " port %u", hc->port);
	if (hc->type == SL_HC_HTTPS)
		snprintf(tls, sizeof(tls), " tls_verify %s%s%.64s", hc->tls_verify ? "true" : "false",
			 hc->ca_file[0] ? " ca_file " : "", hc->ca_file);
	if (sl_hc_is_http(hc->type))
		snprintf(buf, len, "%s %.64s%s%s expect %u every %s timeout %s rise %u fall %u on_down %s",
			 sl_health_type_name(hc->type), hc->path, port, tls, hc->expect_status,
			 every, tmo, hc->rise, hc->fall,
			 hc->on_down == SL_HC_RELEASE ? "release" : "keep");
	else
		snprintf(buf, len, "tcp%s every %s timeout %s rise %u fall %u on_down %s",
			 port, every, tmo, hc->rise, hc->fall,
			 hc->on_down == SL_HC_RELEASE ? "release" : "keep");
}

static void diff_hc(struct out *o, const struct sl_health_cfg *a,
		    const struct sl_health_cfg *b, const char *who)
{
	char ta[160], tb[160];

	if (a->agent_port != b->agent_port)
		emit(o, "agent port of %s: %u -> %u (0: none)", who, a->agent_port, b->agent_port);
	if (sl_health_cfg_equal(a, b))
		return;
	sl_health_cfg_text(a, ta, sizeof(ta));
	sl_health_cfg_text(b, tb, sizeof(tb));
	emit(o, "health check of %s: %s -> %s", who, ta, tb);
}

static void diff_backends(struct out *o, const struct sl_vip *from,
			  const struct sl_vip *to, const char *vs)
{
	char bs[SL_ADDR_STR_MAX], who[SL_ADDR_STR_MAX + SL_VIP_STR_MAX + 16];
	size_t j;

	for (j = 0; j < to->n_bes; j++) {
		const struct sl_be *nb = &to->bes[j];
		const struct sl_be *ob = sl_vip_find_be(from, &nb->addr, nb->family);

		sl_format_addr(&nb->addr, nb->family, bs, sizeof(bs));
		if (!ob) {
			emit(o, "added backend %s to %s (weight %u)", bs, vs, nb->weight);
			continue;
		}
		if (ob->weight != nb->weight)
			emit(o, "weight of backend %s on %s: %u -> %u", bs, vs,
			     ob->weight, nb->weight);
		if (strcmp(ob->name, nb->name))
			emit(o, "name of backend %s on %s: \"%s\" -> \"%s\"", bs, vs,
			     ob->name, nb->name);
		snprintf(who, sizeof(who), "backend %s on %s", bs, vs);
		diff_hc(o, &ob->hc, &nb->hc, who);
	}
	for (j = 0; j < from->n_bes; j++) {
		const struct sl_be *ob = &from->bes[j];

		if (sl_vip_find_be(to, &ob->addr, ob->family))
			continue;
		sl_format_addr(&ob->addr, ob->family, bs, sizeof(bs));
		emit(o, "removed backend %s from %s", bs, vs);
	}
}

/* A VIP only one side has: it and each of its backends. */
static void whole_vip(struct out *o, const struct sl_vip *v, bool added)
{
	static const struct sl_vip none;
	char vs[SL_VIP_STR_MAX];

	sl_format_vip(&v->spec, vs, sizeof(vs));
	emit(o, "%s VIP %s", added ? "added" : "removed", vs);
	if (added)
		diff_backends(o, &none, v, vs);
}

size_t sl_state_diff(const struct sl_state *from, const struct sl_state *to,
		     sl_diff_line_fn fn, void *ctx)
{
	struct out o = { .fn = fn, .ctx = ctx };
	char vs[SL_VIP_STR_MAX];
	size_t i;

	for (i = 0; i < to->n_vips; i++) {
		const struct sl_vip *nv = &to->vips[i];
		const struct sl_vip *ov = sl_state_find_vip(from, &nv->spec);

		if (!ov) {
			whole_vip(&o, nv, true);
			continue;
		}
		sl_format_vip(&nv->spec, vs, sizeof(vs));
		diff_hc(&o, &ov->hc, &nv->hc, vs);
		diff_backends(&o, ov, nv, vs);
	}
	for (i = 0; i < from->n_vips; i++)
		if (!sl_state_find_vip(to, &from->vips[i].spec))
			whole_vip(&o, &from->vips[i], false);
	return o.n;
}
