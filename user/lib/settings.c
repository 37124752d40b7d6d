// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The config's scalar settings as named text (settings.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "settings.h"

#include "array.h"

typedef void (*fmt_fn)(const struct sl_config *cfg, char *buf, size_t len);

static void f_instance(const struct sl_config *c, char *b, size_t l)
{
	snprintf(b, l, "%s", c->instance);
}

/* "eth0 native, eth1 skb": order matters (attach order), so it is kept. */
static void f_ifaces(const struct sl_config *c, char *b, size_t l)
{
	size_t i, off = 0;

	b[0] = '\0';
	for (i = 0; i < c->n_ifaces && off < l; i++)
		off += snprintf(b + off, l - off, "%s%s %s", i ? ", " : "",
				c->ifaces[i].name,
				c->ifaces[i].mode == SL_XDP_MODE_SKB ? "skb" : "native");
}

static void f_src4(const struct sl_config *c, char *b, size_t l)
{
	b[0] = '\0';
	if (c->has_source_v4)
		sl_format_addr(&c->source_v4, SLUICE_AF_INET, b, l);
}

static void f_src6(const struct sl_config *c, char *b, size_t l)
{
	b[0] = '\0';
	if (c->has_source_v6)
		sl_format_addr(&c->source_v6, SLUICE_AF_INET6, b, l);
}

#define U32_FN(fn, field)						\
static void fn(const struct sl_config *c, char *b, size_t l)		\
{									\
	snprintf(b, l, "%u", c->field);					\
}
U32_FN(f_flows, flow_table_size)
U32_FN(f_new, new_table_size)
U32_FN(f_drain_table, drain_table_size)
U32_FN(f_ring, maglev_table_size)
U32_FN(f_seed, maglev_seed)
#undef U32_FN

#define DUR_FN(fn, field)						\
static void fn(const struct sl_config *c, char *b, size_t l)		\
{									\
	sl_format_duration(c->field, b, l);				\
}
DUR_FN(f_tcp, tcp_idle_timeout_ms)
DUR_FN(f_udp, udp_idle_timeout_ms)
DUR_FN(f_grace, close_grace_ms)
DUR_FN(f_linger, close_linger_ms)
DUR_FN(f_sweep, sweep_interval_ms)
DUR_FN(f_handshake, handshake_timeout_ms)
DUR_FN(f_unconfirmed, unconfirmed_timeout_ms)
DUR_FN(f_drain, drain_timeout_ms)
DUR_FN(f_check, drain_check_interval_ms)
#undef DUR_FN

static void f_socket(const struct sl_config *c, char *b, size_t l)
{
	snprintf(b, l, "%s", c->control_socket);
}

static void f_metrics(const struct sl_config *c, char *b, size_t l)
{
	if (!c->metrics_enabled)
		snprintf(b, l, "off");
	else
		sl_format_addr_port(&c->metrics_addr, c->metrics_family,
				    c->metrics_port, b, l);
}

/* announce: is optional; "off" when the section is absent. */
static void f_ann_table(const struct sl_config *c, char *b, size_t l)
{
	if (c->announce_enabled)
		snprintf(b, l, "%u", c->announce_table);
	else
		snprintf(b, l, "off");
}

static void f_ann_device(const struct sl_config *c, char *b, size_t l)
{
	snprintf(b, l, "%s", c->announce_enabled ? c->announce_device : "off");
}

/* cluster: is optional; "off" when the section is absent. */
static void f_cl_endpoints(const struct sl_config *c, char *b, size_t l)
{
	size_t i, off = 0;

	snprintf(b, l, "off");
	for (i = 0;
	     c->cluster_enabled && i < c->cluster_etcd.n_endpoints && off < l;
	     i++)
		off += snprintf(b + off, l - off, "%s%s", i ? "," : "",
				c->cluster_etcd.endpoints[i]);
}

static void f_cl_prefix(const struct sl_config *c, char *b, size_t l)
{
	snprintf(b, l, "%s", c->cluster_enabled ? c->cluster_prefix : "off");
}

static void f_cl_box(const struct sl_config *c, char *b, size_t l)
{
	snprintf(b, l, "%s", c->cluster_enabled ? c->cluster_box : "off");
}

static void f_cl_lease(const struct sl_config *c, char *b, size_t l)
{
	if (c->cluster_enabled)
		sl_format_duration(c->cluster_lease_ms, b, l);
	else
		snprintf(b, l, "off");
}

/*
 * The etcd client's TLS files and user: "" when not set (or no cluster:),
 * so a cluster: section added without them lists only what it sets.
 */
#define CL_TEXT_FN(fn, field)                                              \
	static void fn(const struct sl_config *c, char *b, size_t l)       \
	{                                                                  \
		snprintf(b, l, "%s",                                       \
			 c->cluster_enabled ? c->cluster_etcd.field : ""); \
	}
CL_TEXT_FN(f_cl_ca, ca_file)
CL_TEXT_FN(f_cl_cert, cert_file)
CL_TEXT_FN(f_cl_key, key_file)
CL_TEXT_FN(f_cl_user, username)
/* Compared as is, shown only as SECRET_SET (setting_shown()). */
CL_TEXT_FN(f_cl_pass, password)
#undef CL_TEXT_FN

static void f_udp_fb(const struct sl_config *c, char *b, size_t l)
{
	snprintf(b, l, "%s", c->udp_fallback ? "true" : "false");
}

static void f_pin(const struct sl_config *c, char *b, size_t l)
{
	snprintf(b, l, "%s", c->pin_dir);
}

static void f_state(const struct sl_config *c, char *b, size_t l)
{
	snprintf(b, l, "%s", c->state_dir);
}

/*
 * SECRET: never shown, only whether it is set. UNDUMPED: `config dump`
 * leaves it out (the etcd credentials: a dump must not carry the
 * password, and the username goes with it), so `config diff` has sluiced
 * compare it (sl_setting_undumped_differs()).
 */
#define SECRET 1U
#define UNDUMPED 2U

/* In the config file's order, so a dump reads like the example file. */
static const struct {
	const char *name;
	fmt_fn fmt;
	unsigned int flags;
} settings[] = {
	{ "instance", f_instance, 0 },
	{ "interfaces", f_ifaces, 0 },
	{ "encap.source_v4", f_src4, 0 },
	{ "encap.source_v6", f_src6, 0 },
	{ "flows.table_size", f_flows, 0 },
	{ "flows.new_table_size", f_new, 0 },
	{ "flows.drain_table_size", f_drain_table, 0 },
	{ "flows.tcp_idle_timeout", f_tcp, 0 },
	{ "flows.udp_idle_timeout", f_udp, 0 },
	{ "flows.close_grace", f_grace, 0 },
	{ "flows.close_linger", f_linger, 0 },
	{ "flows.udp_fallback", f_udp_fb, 0 },
	{ "flows.sweep_interval", f_sweep, 0 },
	{ "flows.handshake_timeout", f_handshake, 0 },
	{ "flows.unconfirmed_timeout", f_unconfirmed, 0 },
	{ "maglev.table_size", f_ring, 0 },
	{ "maglev.seed", f_seed, 0 },
	{ "drain.default_timeout", f_drain, 0 },
	{ "drain.check_interval", f_check, 0 },
	{ "control.socket", f_socket, 0 },
	{ "metrics.listen", f_metrics, 0 },
	{ "announce.table", f_ann_table, 0 },
	{ "announce.device", f_ann_device, 0 },
	{ "cluster.endpoints", f_cl_endpoints, 0 },
	{ "cluster.prefix", f_cl_prefix, 0 },
	{ "cluster.box", f_cl_box, 0 },
	{ "cluster.lease_ttl", f_cl_lease, 0 },
	{ "cluster.ca_file", f_cl_ca, 0 },
	{ "cluster.cert_file", f_cl_cert, 0 },
	{ "cluster.key_file", f_cl_key, 0 },
	{ "cluster.username", f_cl_user, UNDUMPED },
	{ "cluster.password", f_cl_pass, SECRET | UNDUMPED },
	{ "paths.pin_dir", f_pin, 0 },
	{ "paths.state_dir", f_state, 0 },
};

size_t sl_settings_count(void)
{
	return ARRAY_SIZE(settings);
}

/* What may be shown of setting @i whose real text is @buf: a secret's is replaced. */
static void setting_shown(size_t i, char *buf, size_t len)
{
	if (settings[i].flags & SECRET && buf[0]) {
		explicit_bzero(buf, len);
		snprintf(buf, len, "%s", SL_SETTING_SECRET_SET);
	}
}

void sl_setting_text(const struct sl_config *cfg, size_t i, const char **name,
		     char *buf, size_t len)
{
	if (i >= ARRAY_SIZE(settings)) {
		*name = NULL;
		buf[0] = '\0';
		return;
	}
	*name = settings[i].name;
	settings[i].fmt(cfg, buf, len);
	setting_shown(i, buf, len);
}

/* The index of setting @name, or ARRAY_SIZE(settings) when none is called that. */
static size_t find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(settings); i++)
		if (!strcmp(name, settings[i].name))
			break;
	return i;
}

bool sl_setting_dumped(const char *name)
{
	size_t i = find(name);

	return i < ARRAY_SIZE(settings) && !(settings[i].flags & UNDUMPED);
}

void sl_setting_secret_shown(bool running_set, bool file_set,
			     const char **running, const char **file)
{
	*running = running_set ? SL_SETTING_SECRET_SET : "";
	*file = !file_set   ? "" :
		running_set ? SL_SETTING_SECRET_OTHER :
			      SL_SETTING_SECRET_SET;
}

void sl_settings_undumped(const struct sl_config *cfg, sl_setting_text_fn fn,
			  void *ctx)
{
	char b[SL_SETTING_TEXT_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(settings); i++) {
		if (!(settings[i].flags & UNDUMPED))
			continue;
		settings[i].fmt(cfg, b, sizeof(b));
		fn(ctx, settings[i].name, b);
	}
	explicit_bzero(b, sizeof(b));
}

int sl_setting_undumped_differs(const struct sl_config *running,
				const char *name, const char *text,
				bool *running_set)
{
	char b[SL_SETTING_TEXT_MAX];
	size_t i = find(name);
	int differs;

	if (i == ARRAY_SIZE(settings) || !(settings[i].flags & UNDUMPED))
		return -ENOENT;
	settings[i].fmt(running, b, sizeof(b));
	*running_set = b[0] != '\0';
	differs = strcmp(b, text) != 0;
	explicit_bzero(b, sizeof(b));
	return differs;
}

/* Compared on the real text: a secret changed from one value to another differs too. */
size_t sl_settings_diff(const struct sl_config *running, const struct sl_config *file,
			sl_setting_diff_fn fn, void *ctx)
{
	char a[SL_SETTING_TEXT_MAX], b[SL_SETTING_TEXT_MAX];
	const char *ra, *fb;
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(settings); i++) {
		settings[i].fmt(running, a, sizeof(a));
		settings[i].fmt(file, b, sizeof(b));
		if (!strcmp(a, b))
			continue;
		n++;
		if (!fn)
			continue;
		ra = a;
		fb = b;
		if (settings[i].flags & SECRET)
			sl_setting_secret_shown(a[0], b[0], &ra, &fb);
		fn(ctx, settings[i].name, ra, fb);
	}
	/* Neither copy of a secret outlives the comparison. */
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return n;
}

/* What check_pinned_sizes() and the pin paths mean for a restart. */
const char *sl_setting_restart_note(const char *name)
{
	static const struct {
		const char *name;
		const char *note;
	} notes[] = {
		{ "flows.table_size",
		  "a restart refuses it while the pinned maps exist: "
		  "sluiced --detach first (drops every flow)" },
		{ "flows.drain_table_size",
		  "a restart refuses it while the pinned maps exist: "
		  "sluiced --detach first (drops every flow)" },
		{ "paths.pin_dir",
		  "a restart starts with empty flow tables there; the old "
		  "pins stay until sluiced --detach with the old config" },
		{ "instance",
		  "a restart runs a new instance; the old one's pins and state stay" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(notes); i++)
		if (!strcmp(name, notes[i].name))
			return notes[i].note;
	return NULL;
}
