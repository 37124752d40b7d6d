// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Write the effective configuration as YAML (config_dump.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_dump.h"
#include "settings.h"
#include "state_diff.h"

/* A setting's text by its dotted name (settings.c holds the formats). */
static const char *setting(const struct sl_config *cfg, const char *want,
			   char *buf, size_t len)
{
	const char *name;
	size_t i;

	for (i = 0; i < sl_settings_count(); i++) {
		sl_setting_text(cfg, i, &name, buf, len);
		if (!strcmp(name, want))
			return buf;
	}
	buf[0] = '\0';
	return buf;
}

/*
 * A YAML double-quoted scalar: always quoted, so "[fd00::1]:80/tcp", a
 * path with ": " or a leading "*" can never be read as something else.
 */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_kv_quoted(FILE *f, const char *indent, const char *key,
			  const char *val)
{
	fprintf(f, "%s%s: ", indent, key);
	put_quoted(f, val);
	fputc('\n', f);
}

/* The credentials are not shown: the dump goes to whoever may read status. */
static void put_cluster(FILE *f, const struct sl_config *cfg)
{
	const struct sl_etcd_opts *o = &cfg->cluster_etcd;
	char b[SL_ETCD_MAX_EP * SL_ETCD_URL_MAX];

	fprintf(f, "cluster:\n");
	put_kv_quoted(f, "  ", "endpoints",
		      setting(cfg, "cluster.endpoints", b, sizeof(b)));
	put_kv_quoted(f, "  ", "prefix",
		      setting(cfg, "cluster.prefix", b, sizeof(b)));
	put_kv_quoted(f, "  ", "box",
		      setting(cfg, "cluster.box", b, sizeof(b)));
	fprintf(f, "  lease_ttl: %s\n",
		setting(cfg, "cluster.lease_ttl", b, sizeof(b)));
	if (o->ca_file[0])
		put_kv_quoted(f, "  ", "ca_file", o->ca_file);
	if (o->cert_file[0]) {
		put_kv_quoted(f, "  ", "cert_file", o->cert_file);
		put_kv_quoted(f, "  ", "key_file", o->key_file);
	}
	if (o->username[0])
		fprintf(f, "  # username and password: set, not shown\n");
}

static void put_settings(FILE *f, const struct sl_config *cfg)
{
	char b[SL_SETTING_TEXT_MAX];
	size_t i;

	put_kv_quoted(f, "", "instance", setting(cfg, "instance", b, sizeof(b)));
	fprintf(f, "interfaces:\n");
	for (i = 0; i < cfg->n_ifaces; i++) {
		fprintf(f, "  - name: ");
		put_quoted(f, cfg->ifaces[i].name);
		fprintf(f, "\n    mode: %s\n",
			cfg->ifaces[i].mode == SL_XDP_MODE_SKB ? "skb" : "native");
	}
	if (cfg->has_source_v4 || cfg->has_source_v6)
		fprintf(f, "encap:\n");
	if (cfg->has_source_v4)
		put_kv_quoted(f, "  ", "source_v4", setting(cfg, "encap.source_v4", b, sizeof(b)));
	if (cfg->has_source_v6)
		put_kv_quoted(f, "  ", "source_v6", setting(cfg, "encap.source_v6", b, sizeof(b)));
	fprintf(f, "flows:\n");
	fprintf(f, "  table_size: %s\n", setting(cfg, "flows.table_size", b, sizeof(b)));
	fprintf(f, "  new_table_size: %s\n", setting(cfg, "flows.new_table_size", b, sizeof(b)));
	fprintf(f, "  drain_table_size: %s\n",
		setting(cfg, "flows.drain_table_size", b, sizeof(b)));
	fprintf(f, "  tcp_idle_timeout: %s\n", setting(cfg, "flows.tcp_idle_timeout", b, sizeof(b)));
	fprintf(f, "  udp_idle_timeout: %s\n", setting(cfg, "flows.udp_idle_timeout", b, sizeof(b)));
	fprintf(f, "  close_grace: %s\n", setting(cfg, "flows.close_grace", b, sizeof(b)));
	fprintf(f, "  close_linger: %s\n", setting(cfg, "flows.close_linger", b, sizeof(b)));
	fprintf(f, "  udp_fallback: %s\n",
		setting(cfg, "flows.udp_fallback", b, sizeof(b)));
	fprintf(f, "  sweep_interval: %s\n", setting(cfg, "flows.sweep_interval", b, sizeof(b)));
	fprintf(f, "  handshake_timeout: %s\n", setting(cfg, "flows.handshake_timeout", b, sizeof(b)));
	fprintf(f, "  unconfirmed_timeout: %s\n",
		setting(cfg, "flows.unconfirmed_timeout", b, sizeof(b)));
	fprintf(f, "maglev:\n  table_size: %s\n", setting(cfg, "maglev.table_size", b, sizeof(b)));
	fprintf(f, "  seed: %s\n", setting(cfg, "maglev.seed", b, sizeof(b)));
	fprintf(f, "drain:\n  default_timeout: %s\n",
		setting(cfg, "drain.default_timeout", b, sizeof(b)));
	fprintf(f, "  check_interval: %s\n", setting(cfg, "drain.check_interval", b, sizeof(b)));
	fprintf(f, "control:\n");
	put_kv_quoted(f, "  ", "socket", setting(cfg, "control.socket", b, sizeof(b)));
	fprintf(f, "metrics:\n");
	put_kv_quoted(f, "  ", "listen", setting(cfg, "metrics.listen", b, sizeof(b)));
	if (cfg->announce_enabled) {
		fprintf(f, "announce:\n  table: %s\n", setting(cfg, "announce.table", b, sizeof(b)));
		put_kv_quoted(f, "  ", "device", setting(cfg, "announce.device", b, sizeof(b)));
	}
	if (cfg->cluster_enabled)
		put_cluster(f, cfg);
	fprintf(f, "paths:\n");
	put_kv_quoted(f, "  ", "pin_dir", setting(cfg, "paths.pin_dir", b, sizeof(b)));
	put_kv_quoted(f, "  ", "state_dir", setting(cfg, "paths.state_dir", b, sizeof(b)));
}

static void put_health(FILE *f, const char *indent, const struct sl_health_cfg *hc)
{
	char d[SL_DURATION_STR_MAX];

	fprintf(f, "%shealth_check:\n", indent);
	fprintf(f, "%s  type: %s\n", indent, sl_health_type_name(hc->type));
	if (hc->port)
		fprintf(f, "%s  port: %u\n", indent, hc->port);
	if (sl_hc_is_http(hc->type) && hc->path[0]) {
		fprintf(f, "%s  path: ", indent);
		put_quoted(f, hc->path);
		fputc('\n', f);
	}
	if (sl_hc_is_http(hc->type) && hc->expect_status)
		fprintf(f, "%s  expect_status: %u\n", indent, hc->expect_status);
	if (hc->type == SL_HC_HTTPS) {
		fprintf(f, "%s  tls_verify: %s\n", indent, hc->tls_verify ? "true" : "false");
		if (hc->ca_file[0]) {
			fprintf(f, "%s  ca_file: ", indent);
			put_quoted(f, hc->ca_file);
			fputc('\n', f);
		}
	}
	sl_format_duration(hc->interval_ms, d, sizeof(d));
	fprintf(f, "%s  interval: %s\n", indent, d);
	sl_format_duration(hc->timeout_ms, d, sizeof(d));
	fprintf(f, "%s  timeout: %s\n", indent, d);
	fprintf(f, "%s  rise: %u\n%s  fall: %u\n", indent, hc->rise, indent, hc->fall);
	fprintf(f, "%s  on_down: %s\n", indent,
		hc->on_down == SL_HC_RELEASE ? "release" : "keep");
}

static void put_backend(FILE *f, const struct sl_vip *v, const struct sl_be *b)
{
	char a[SL_ADDR_STR_MAX];

	sl_format_addr(&b->addr, b->family, a, sizeof(a));
	if (b->state != SL_BE_ACTIVE)
		fprintf(f, "      # runtime state: %s (not configuration)\n",
			sl_be_state_name(b->state));
	fprintf(f, "      - address: ");
	put_quoted(f, a);
	fprintf(f, "\n        weight: %u\n", b->weight);
	if (b->name[0])
		fprintf(f, "        name: %s\n", b->name);	/* [A-Za-z0-9._-]: plain */
	if (b->hc.agent_port != v->hc.agent_port)
		fprintf(f, "        agent_port: %u\n", b->hc.agent_port);
	/* Only an override: otherwise the backend inherits the VIP's check. */
	if (b->hc.type != SL_HC_NONE && !sl_health_cfg_equal(&b->hc, &v->hc))
		put_health(f, "        ", &b->hc);
}

static void put_vips(FILE *f, const struct sl_state *st)
{
	char vs[SL_VIP_STR_MAX];
	size_t i, j;

	if (!st->n_vips) {
		fprintf(f, "vips: []\n");
		return;
	}
	fprintf(f, "vips:\n");
	for (i = 0; i < st->n_vips; i++) {
		const struct sl_vip *v = &st->vips[i];

		sl_format_vip(&v->spec, vs, sizeof(vs));
		fprintf(f, "  - vip: ");
		put_quoted(f, vs);
		fputc('\n', f);
		if (v->hc.type != SL_HC_NONE)
			put_health(f, "    ", &v->hc);
		if (v->hc.agent_port)
			fprintf(f, "    agent_port: %u\n", v->hc.agent_port);
		if (!v->n_bes) {
			fprintf(f, "    backends: []\n");
			continue;
		}
		fprintf(f, "    backends:\n");
		for (j = 0; j < v->n_bes; j++)
			put_backend(f, v, &v->bes[j]);
	}
}

int sl_config_dump(FILE *f, const struct sl_config *cfg, const struct sl_state *st)
{
	fprintf(f, "# sluiced effective configuration (instance %s), written by\n"
		   "# `sluicectl config dump`: the running settings, and the VIPs,\n"
		   "# backends and weights in force, runtime changes included.\n",
		cfg->instance);
	put_settings(f, cfg);
	/* A cluster box's VIPs are etcd's: a file with both would not load. */
	if (cfg->cluster_enabled)
		fprintf(f,
			"# vips: in etcd, %s/desired (sluicectl --cluster ... backend list)\n",
			cfg->cluster_prefix);
	else
		put_vips(f, st);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}

int sl_config_dump_str(const struct sl_config *cfg, const struct sl_state *st,
		       char **out)
{
	size_t len = 0;
	FILE *f;
	int rc;

	*out = NULL;
	f = open_memstream(out, &len);
	if (!f)
		return -ENOMEM;
	rc = sl_config_dump(f, cfg, st);
	if (fclose(f) && !rc)
		rc = -EIO;
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}
