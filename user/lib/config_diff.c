// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Names the settings of a reloaded config that only a restart (or --detach) applies. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config_diff.h"

#define RESTART	"(restart)"
/* A pinned map keeps its size: sluiced refuses to start with another. */
#define DETACH	"(restart refuses it while maps are pinned: needs sluiced --detach, which drops flows)"

struct diff {
	char *buf;
	size_t len, used, n;
};

static void note(struct diff *d, bool changed, const char *field, const char *what)
{
	int w;

	if (!changed)
		return;
	d->n++;
	if (d->used >= d->len)
		return;
	w = snprintf(d->buf + d->used, d->len - d->used, "%s%s %s",
		     d->n > 1 ? ", " : "", field, what);
	if (w > 0)
		d->used += (size_t)w;
}

static bool ifaces_differ(const struct sl_config *a, const struct sl_config *b)
{
	size_t i;

	if (a->n_ifaces != b->n_ifaces)
		return true;
	for (i = 0; i < a->n_ifaces; i++)
		if (strcmp(a->ifaces[i].name, b->ifaces[i].name) ||
		    a->ifaces[i].mode != b->ifaces[i].mode)
			return true;
	return false;
}

static bool addr_differs(bool has_a, const struct sluice_addr *a, bool has_b,
			 const struct sluice_addr *b)
{
	return has_a != has_b || (has_a && memcmp(a, b, sizeof(*a)));
}

static bool metrics_differ(const struct sl_config *a, const struct sl_config *b)
{
	return a->metrics_enabled != b->metrics_enabled ||
	       a->metrics_family != b->metrics_family ||
	       a->metrics_port != b->metrics_port ||
	       memcmp(&a->metrics_addr, &b->metrics_addr, sizeof(a->metrics_addr));
}

size_t sl_config_restart_changes(const struct sl_config *r, const struct sl_config *n,
				 char *buf, size_t len)
{
	struct diff d = { .buf = buf, .len = len };

	if (len)
		buf[0] = '\0';
	note(&d, strcmp(r->instance, n->instance), "instance", RESTART);
	note(&d, ifaces_differ(r, n), "interfaces", RESTART);
	note(&d, addr_differs(r->has_source_v4, &r->source_v4, n->has_source_v4, &n->source_v4),
	     "encap.source_v4", RESTART);
	note(&d, addr_differs(r->has_source_v6, &r->source_v6, n->has_source_v6, &n->source_v6),
	     "encap.source_v6", RESTART);
	note(&d, r->flow_table_size != n->flow_table_size, "flows.table_size", DETACH);
	note(&d, r->pinned_table_size != n->pinned_table_size, "flows.pinned_table_size", DETACH);
	note(&d, r->new_table_size != n->new_table_size, "flows.new_table_size", RESTART);
	note(&d, r->tcp_idle_timeout_ms != n->tcp_idle_timeout_ms, "flows.tcp_idle_timeout", RESTART);
	note(&d, r->udp_idle_timeout_ms != n->udp_idle_timeout_ms, "flows.udp_idle_timeout", RESTART);
	note(&d, r->close_grace_ms != n->close_grace_ms, "flows.close_grace", RESTART);
	note(&d, r->sweep_interval_ms != n->sweep_interval_ms, "flows.sweep_interval", RESTART);
	note(&d, r->maglev_table_size != n->maglev_table_size, "maglev.table_size", RESTART);
	note(&d, r->maglev_seed != n->maglev_seed, "maglev.seed", RESTART);
	note(&d, r->drain_timeout_ms != n->drain_timeout_ms, "drain.default_timeout", RESTART);
	note(&d, strcmp(r->control_socket, n->control_socket), "control.socket", RESTART);
	note(&d, metrics_differ(r, n), "metrics.listen", RESTART);
	note(&d, strcmp(r->pin_dir, n->pin_dir), "paths.pin_dir", RESTART);
	note(&d, strcmp(r->state_dir, n->state_dir), "paths.state_dir", RESTART);
	return d.n;
}
