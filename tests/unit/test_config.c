/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests for user/lib/config.c: the example file, defaults, and a table of bad configs. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include "../lib/check.h"

#include "config.h"

#include "array.h"
#define ERR_MAX		1024

/* Fixtures are written to DIR/sluiced.yaml so messages start "sluiced.yaml:". */
static char tmp_dir[64];
static char tmp_file[128];

static int setup(void **state)
{
	(void)state;
	strcpy(tmp_dir, "/tmp/sluice-test-config-XXXXXX");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(tmp_file, sizeof(tmp_file), "%s/sluiced.yaml", tmp_dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(tmp_file);
	return rmdir(tmp_dir);
}

static void write_file(const char *text)
{
	FILE *f = fopen(tmp_file, "w");

	CHECK_NONNULL(CHECK_HERE, f);
	CHECK_INT(CHECK_HERE, fputs(text, f) >= 0, 1);
	CHECK_INT(CHECK_HERE, fclose(f), 0);
}

/* Write text as the config and load it. */
static int load_text(const char *text, struct sl_config *cfg, char *err)
{
	write_file(text);
	err[0] = '\0';
	return sl_config_load(tmp_file, cfg, err, ERR_MAX);
}

static void check_addr(const struct sluice_addr *a, __u8 family,
		       const char *want)
{
	char buf[SL_ADDR_STR_MAX];

	CHECK_INT(CHECK_HERE, sl_format_addr(a, family, buf, sizeof(buf)), 0);
	CHECK_STR(CHECK_HERE, buf, want);
}

/* The fields every config has, compared one by one so a failure names it. */
static void check_same_settings(const struct sl_config *a,
				const struct sl_config *b)
{
	CHECK_STR(CHECK_HERE, a->instance, b->instance);
	CHECK_INT(CHECK_HERE, a->flow_table_size, b->flow_table_size);
	CHECK_INT(CHECK_HERE, a->new_table_size, b->new_table_size);
	CHECK_INT(CHECK_HERE, a->drain_table_size, b->drain_table_size);
	CHECK_INT(CHECK_HERE, a->udp_fallback, b->udp_fallback);
	CHECK_INT(CHECK_HERE, a->handshake_timeout_ms, b->handshake_timeout_ms);
	CHECK_INT(CHECK_HERE, a->unconfirmed_timeout_ms,
		  b->unconfirmed_timeout_ms);
	CHECK_INT(CHECK_HERE, a->drain_check_interval_ms,
		  b->drain_check_interval_ms);
	CHECK_INT(CHECK_HERE, a->tcp_idle_timeout_ms, b->tcp_idle_timeout_ms);
	CHECK_INT(CHECK_HERE, a->udp_idle_timeout_ms, b->udp_idle_timeout_ms);
	CHECK_INT(CHECK_HERE, a->close_grace_ms, b->close_grace_ms);
	CHECK_INT(CHECK_HERE, a->close_linger_ms, b->close_linger_ms);
	CHECK_INT(CHECK_HERE, a->sweep_interval_ms, b->sweep_interval_ms);
	CHECK_INT(CHECK_HERE, a->maglev_table_size, b->maglev_table_size);
	CHECK_INT(CHECK_HERE, a->maglev_seed, b->maglev_seed);
	CHECK_INT(CHECK_HERE, a->drain_timeout_ms, b->drain_timeout_ms);
	CHECK_STR(CHECK_HERE, a->control_socket, b->control_socket);
	CHECK_INT(CHECK_HERE, a->metrics_enabled, b->metrics_enabled);
	CHECK_INT(CHECK_HERE, a->metrics_family, b->metrics_family);
	CHECK_MEM(CHECK_HERE, &a->metrics_addr, &b->metrics_addr,
		  sizeof(a->metrics_addr));
	CHECK_INT(CHECK_HERE, a->metrics_port, b->metrics_port);
	CHECK_STR(CHECK_HERE, a->pin_dir, b->pin_dir);
	CHECK_STR(CHECK_HERE, a->state_dir, b->state_dir);
}

static void test_defaults(void **state)
{
	struct sl_config cfg;

	(void)state;
	memset(&cfg, 0xaa, sizeof(cfg));
	sl_config_defaults(&cfg);
	CHECK_STR(CHECK_HERE, cfg.instance, "default");
	CHECK_INT(CHECK_HERE, cfg.n_ifaces, 0);
	CHECK_NOT(CHECK_HERE, cfg.has_source_v4);
	CHECK_NOT(CHECK_HERE, cfg.has_source_v6);
	CHECK_INT(CHECK_HERE, cfg.flow_table_size, 1048576);
	CHECK_INT(CHECK_HERE, cfg.tcp_idle_timeout_ms, 15 * 60 * 1000);
	CHECK_INT(CHECK_HERE, cfg.udp_idle_timeout_ms, 30 * 1000);
	CHECK_INT(CHECK_HERE, cfg.close_grace_ms, 300);
	CHECK_INT(CHECK_HERE, cfg.close_linger_ms, 2000);
	CHECK_NOT(CHECK_HERE, cfg.udp_fallback);
	CHECK_INT(CHECK_HERE, cfg.sweep_interval_ms, 1000);
	CHECK_INT(CHECK_HERE, cfg.maglev_table_size, 65537);
	CHECK_INT(CHECK_HERE, cfg.maglev_seed, 0);
	CHECK_INT(CHECK_HERE, cfg.drain_timeout_ms, 5 * 60 * 1000);
	CHECK_INT(CHECK_HERE, cfg.handshake_timeout_ms, 3000);
	CHECK_INT(CHECK_HERE, cfg.unconfirmed_timeout_ms, 10 * 1000);
	CHECK_INT(CHECK_HERE, cfg.drain_check_interval_ms, 50);
	CHECK_STR(CHECK_HERE, cfg.control_socket, "/run/sluice/default.sock");
	CHECK(CHECK_HERE, cfg.metrics_enabled);
	CHECK_INT(CHECK_HERE, cfg.metrics_family, SLUICE_AF_INET);
	check_addr(&cfg.metrics_addr, cfg.metrics_family, "127.0.0.1");
	CHECK_INT(CHECK_HERE, ntohs(cfg.metrics_port), 9469);
	CHECK_STR(CHECK_HERE, cfg.pin_dir, "/sys/fs/bpf/sluice/default");
	CHECK_STR(CHECK_HERE, cfg.state_dir, "/var/lib/sluice/default");
	CHECK_NULL(CHECK_HERE, cfg.vips);
	CHECK_INT(CHECK_HERE, cfg.n_vips, 0);
	sl_config_free(&cfg);
}

static void test_example_file(void **state)
{
	const char *srcdir = getenv("SLUICE_SRCDIR");
	struct sl_config cfg, def;
	char path[PATH_MAX], err[ERR_MAX], vip[SL_VIP_STR_MAX];
	const struct sl_cfg_vip *v;
	int ret;

	(void)state;
	snprintf(path, sizeof(path), "%s/scripts/sluiced.example.yaml", srcdir ? srcdir : ".");
	err[0] = '\0';
	ret = sl_config_load(path, &cfg, err, sizeof(err));
	CHECK_STR(CHECK_HERE, err, "");
	CHECK_INT(CHECK_HERE, ret, 0);

	/* The example documents the defaults: every defaulted value matches. */
	sl_config_defaults(&def);
	check_same_settings(&cfg, &def);

	CHECK_INT(CHECK_HERE, cfg.n_ifaces, 1);
	CHECK_STR(CHECK_HERE, cfg.ifaces[0].name, "eth0");
	CHECK_INT(CHECK_HERE, cfg.ifaces[0].mode, SL_XDP_MODE_NATIVE);
	CHECK(CHECK_HERE, cfg.has_source_v4);
	CHECK(CHECK_HERE, cfg.has_source_v6);
	check_addr(&cfg.source_v4, SLUICE_AF_INET, "198.18.0.1");
	check_addr(&cfg.source_v6, SLUICE_AF_INET6, "fd00::1");

	CHECK_INT(CHECK_HERE, cfg.n_vips, 3);
	v = &cfg.vips[0];
	CHECK_INT(CHECK_HERE, sl_format_vip(&v->vip, vip, sizeof(vip)), 0);
	CHECK_STR(CHECK_HERE, vip, "198.18.0.100:80/tcp");
	CHECK_INT(CHECK_HERE, v->n_backends, 3);
	check_addr(&v->backends[0].addr, v->backends[0].family, "198.18.1.10");
	CHECK_INT(CHECK_HERE, v->backends[0].weight, 100);
	check_addr(&v->backends[1].addr, v->backends[1].family, "198.18.1.11");
	CHECK_INT(CHECK_HERE, v->backends[1].weight, 50);
	CHECK_INT(CHECK_HERE, v->backends[2].family, SLUICE_AF_INET6);
	check_addr(&v->backends[2].addr, v->backends[2].family, "fd00:1::12");
	CHECK_INT(CHECK_HERE, v->backends[2].weight, SL_CFG_DEF_WEIGHT);

	v = &cfg.vips[1];
	CHECK_INT(CHECK_HERE, sl_format_vip(&v->vip, vip, sizeof(vip)), 0);
	CHECK_STR(CHECK_HERE, vip, "[fd00::100]:443/udp");
	CHECK_INT(CHECK_HERE, v->n_backends, 1);
	check_addr(&v->backends[0].addr, v->backends[0].family, "fd00:1::10");

	v = &cfg.vips[2];
	CHECK_INT(CHECK_HERE, sl_format_vip(&v->vip, vip, sizeof(vip)), 0);
	CHECK_STR(CHECK_HERE, vip, "198.18.0.101:0/tcp");
	CHECK_INT(CHECK_HERE, v->n_backends, 0);
	CHECK_NULL(CHECK_HERE, v->backends);

	sl_config_free(&cfg);
	CHECK_NULL(CHECK_HERE, cfg.vips);
	CHECK_INT(CHECK_HERE, cfg.n_vips, 0);
	sl_config_free(&cfg);	/* idempotent */
}

/* Only interfaces given: everything else is the default. */
static void test_minimal(void **state)
{
	struct sl_config cfg, def;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT(CHECK_HERE,
		  load_text("interfaces:\n  - name: eth1\n    mode: skb\n",
			    &cfg, err),
		  0);
	sl_config_defaults(&def);
	check_same_settings(&cfg, &def);
	CHECK_INT(CHECK_HERE, cfg.n_ifaces, 1);
	CHECK_STR(CHECK_HERE, cfg.ifaces[0].name, "eth1");
	CHECK_INT(CHECK_HERE, cfg.ifaces[0].mode, SL_XDP_MODE_SKB);
	CHECK_NOT(CHECK_HERE, cfg.has_source_v4);
	CHECK_NULL(CHECK_HERE, cfg.vips);
	sl_config_free(&cfg);
}

/* "flows:" with everything under it commented out is the same as no flows. */
static void test_null_sections(void **state)
{
	struct sl_config cfg, def;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT(
		CHECK_HERE,
		load_text(
			"interfaces:\n  - name: eth0\nflows:\n#  table_size: 5\n"
			"maglev: ~\nencap: null\nvips:\n"
			"drain: {}\ncontrol:\nmetrics:\npaths:\n",
			&cfg, err),
		0);
	CHECK_STR(CHECK_HERE, err, "");
	sl_config_defaults(&def);
	check_same_settings(&cfg, &def);
	CHECK_INT(CHECK_HERE, cfg.n_vips, 0);
	sl_config_free(&cfg);
}

static void test_instance_paths(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX];

	(void)state;
	/* paths before instance in the file: the instance still only fills the gaps. */
	CHECK_INT(CHECK_HERE,
		  load_text("paths:\n  state_dir: /srv/sluice\n"
			    "interfaces: [{name: eth0}]\ninstance: edge-1\n",
			    &cfg, err),
		  0);
	CHECK_STR(CHECK_HERE, cfg.instance, "edge-1");
	CHECK_STR(CHECK_HERE, cfg.control_socket, "/run/sluice/edge-1.sock");
	CHECK_STR(CHECK_HERE, cfg.pin_dir, "/sys/fs/bpf/sluice/edge-1");
	CHECK_STR(CHECK_HERE, cfg.state_dir, "/srv/sluice");
	sl_config_free(&cfg);
}

static void test_metrics(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT(
		CHECK_HERE,
		load_text("interfaces: [{name: eth0}]\nmetrics: {listen: off}\n",
			  &cfg, err),
		0);
	CHECK_NOT(CHECK_HERE, cfg.metrics_enabled);
	CHECK_INT(
		CHECK_HERE,
		load_text(
			"interfaces: [{name: eth0}]\nmetrics:\n  listen: \"[::1]:9100\"\n",
			&cfg, err),
		0);
	CHECK(CHECK_HERE, cfg.metrics_enabled);
	CHECK_INT(CHECK_HERE, cfg.metrics_family, SLUICE_AF_INET6);
	check_addr(&cfg.metrics_addr, cfg.metrics_family, "::1");
	CHECK_INT(CHECK_HERE, ntohs(cfg.metrics_port), 9100);
}

static void test_announce(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT(CHECK_HERE,
		  load_text("interfaces: [{name: eth0}]\n", &cfg, err), 0);
	CHECK_NOT(CHECK_HERE, cfg.announce_enabled);
	CHECK_INT(CHECK_HERE,
		  load_text("instance: edge-1\ninterfaces: [{name: eth0}]\n"
			    "announce: {table: 100}\n",
			    &cfg, err),
		  0);
	CHECK(CHECK_HERE, cfg.announce_enabled);
	CHECK_INT(CHECK_HERE, cfg.announce_table, 100);
	CHECK_STR(CHECK_HERE, cfg.announce_device, "sl-edge-1");
	CHECK_INT(CHECK_HERE,
		  load_text("interfaces: [{name: eth0}]\n"
			    "announce: {table: 4000, device: vips0}\n",
			    &cfg, err),
		  0);
	CHECK_INT(CHECK_HERE, cfg.announce_table, 4000);
	CHECK_STR(CHECK_HERE, cfg.announce_device, "vips0");
}

static void test_cluster(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT(CHECK_HERE,
		  load_text("interfaces: [{name: eth0}]\n", &cfg, err), 0);
	CHECK_NOT(CHECK_HERE, cfg.cluster_enabled);
	CHECK_INT(
		CHECK_HERE,
		load_text(
			"interfaces: [{name: eth0}]\n"
			"cluster:\n  endpoints: \"http://198.18.0.1:2379,https://[fd00::1]:2379\"\n"
			"  box: edge-1\n  prefix: /sluice/dc1\n  lease_ttl: 5s\n"
			"  username: sluice\n  password: secret\n",
			&cfg, err),
		0);
	CHECK(CHECK_HERE, cfg.cluster_enabled);
	CHECK_INT(CHECK_HERE, cfg.cluster_etcd.n_endpoints, 2);
	CHECK_STR(CHECK_HERE, cfg.cluster_etcd.endpoints[1],
		  "https://[fd00::1]:2379");
	CHECK_STR(CHECK_HERE, cfg.cluster_box, "edge-1");
	CHECK_STR(CHECK_HERE, cfg.cluster_prefix, "/sluice/dc1");
	CHECK_INT(CHECK_HERE, cfg.cluster_lease_ms, 5000);
	CHECK_STR(CHECK_HERE, cfg.cluster_etcd.username, "sluice");
	CHECK_STR(CHECK_HERE, cfg.cluster_etcd.password, "secret");
	CHECK_INT(
		CHECK_HERE,
		load_text(
			"interfaces: [{name: eth0}]\n"
			"cluster: {endpoints: \"http://198.18.0.1:2379\", box: b}\n",
			&cfg, err),
		0);
	CHECK_STR(CHECK_HERE, cfg.cluster_prefix, "/sluice");
	CHECK_INT(CHECK_HERE, cfg.cluster_lease_ms, SL_CFG_DEF_LEASE_MS);
}

/* A backend pool shared between VIPs with a YAML anchor. */
static void test_anchor_alias(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT(CHECK_HERE,
		  load_text("interfaces: [{name: eth0}]\n"
			    "encap: {source_v4: 198.18.0.1}\n"
			    "vips:\n"
			    "  - vip: 198.18.0.100:80/tcp\n"
			    "    backends: &pool\n"
			    "      - address: 198.18.1.10\n"
			    "        weight: 7\n"
			    "  - vip: 198.18.0.100:443/tcp\n"
			    "    backends: *pool\n",
			    &cfg, err),
		  0);
	CHECK_STR(CHECK_HERE, err, "");
	CHECK_INT(CHECK_HERE, cfg.n_vips, 2);
	CHECK_INT(CHECK_HERE, cfg.vips[1].n_backends, 1);
	CHECK_INT(CHECK_HERE, cfg.vips[1].backends[0].weight, 7);
	sl_config_free(&cfg);
}

#define IF0	"interfaces: [{name: eth0}]\n"
#define ENC4	"encap: {source_v4: 198.18.0.1}\n"
#define LONG_SOCK "/run/sluice/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.sock"

/* clang-format off */
static const struct {
	const char *yaml;
	int ret;
	const char *want;	/* substring of the message, from the file name on */
} bad_configs[] = {
	/* file level */
	{ "", -EINVAL,
	  "sluiced.yaml: no configuration found (the file is empty; at least \"interfaces\" is required)" },
	{ "interfaces: [{name: eth0}\nflows: {}\n", -EINVAL,
	  "sluiced.yaml:2:1: invalid YAML: wrongly indented flow sequence" },
	{ "interfaces:\n  - name: eth0\n   mode: skb\n", -EINVAL, "sluiced.yaml:3:" },
	{ IF0 "flows: {}\nflows: {}\n", -EINVAL, "sluiced.yaml:3:1: invalid YAML: duplicate key" },
	{ IF0 "vips:\n  - vip: [fd00::1]:80/tcp\n", -EINVAL,
	  "sluiced.yaml:3:19: invalid YAML: invalid value after mapping (quote values that start "
	  "with \"[\", e.g. vip: \"[fd00::100]:443/tcp\")" },
	{ "- eth0\n- eth1\n", -EINVAL,
	  "sluiced.yaml:1:3: the configuration must be a mapping of sections, got a list" },
	{ IF0 "? [a]\n: b\n", -EINVAL,
	  "sluiced.yaml: byte 27: explicit keys (\"? \") are not supported in a sluiced config" },
	/* unknown keys, with the allowed ones listed */
	{ IF0 "flow:\n  table_size: 2048\n", -EINVAL,
	  "sluiced.yaml:2:1: flow: unknown key (allowed: instance, interfaces, encap, flows, "
	  "maglev, drain, control, metrics, paths, vips, announce, cluster)" },
	{ IF0 "flows:\n  tabel_size: 2048\n", -EINVAL,
	  "sluiced.yaml:3:3: flows.tabel_size: unknown key (allowed: table_size, tcp_idle_timeout, "
	  "udp_idle_timeout, close_grace, sweep_interval, new_table_size, drain_table_size, handshake_timeout, unconfirmed_timeout, close_linger, udp_fallback, pinned_table_size)" },
	{ IF0 "encap:\n  source_v5: 198.18.0.1\n", -EINVAL,
	  "sluiced.yaml:3:3: encap.source_v5: unknown key (allowed: source_v4, source_v6)" },
	{ IF0 ENC4 "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n"
	  "      - address: 198.18.1.10\n        wieght: 5\n", -EINVAL,
	  "sluiced.yaml:7:9: vips[0].backends[0].wieght: unknown key (allowed: address, weight, health_check, name, agent_port)" },
	/* instance and interfaces */
	{ "instance: Edge\n" IF0, -EINVAL,
	  "sluiced.yaml:1:11: instance: \"Edge\" is not a valid instance name "
	  "(expected 1..32 characters from a-z, 0-9, _ and -)" },
	{ "# no interfaces\nflows: {}\n", -EINVAL,
	  "sluiced.yaml:2:1: interfaces: required field is missing (e.g. interfaces: [{name: eth0}])" },
	{ "interfaces: []\n", -EINVAL,
	  "sluiced.yaml:1:1: interfaces: at least one interface is required" },
	{ "interfaces: eth0\n", -EINVAL,
	  "sluiced.yaml:1:13: interfaces: expected a list of interfaces, got a scalar" },
	{ "interfaces:\n  - name: averyveryverylongname0\n", -EINVAL,
	  "sluiced.yaml:2:11: interfaces[0].name: value is too long: 22 bytes" },
	{ "interfaces:\n  - name: eth0:1\n", -EINVAL,
	  "sluiced.yaml:2:11: interfaces[0].name: \"eth0:1\" is not a valid interface name" },
	{ "interfaces:\n  - name: \"eth\\0\"\n", -EINVAL,
	  "sluiced.yaml:2:11: interfaces[0].name: contains a NUL byte" },
	{ "interfaces:\n  - name: eth0\n    mode: xdp\n", -EINVAL,
	  "sluiced.yaml:3:11: interfaces[0].mode: \"xdp\" is not a valid mode (expected native or skb)" },
	{ "interfaces:\n  - name: eth0\n  - name: eth0\n", -EINVAL,
	  "sluiced.yaml:3:11: interfaces[1].name: interface \"eth0\" is listed twice (also interfaces[0])" },
	{ "interfaces:\n  - mode: skb\n", -EINVAL,
	  "sluiced.yaml:2:5: interfaces[0].name: required field is missing (e.g. name: eth0)" },
	/* encap */
	{ IF0 "encap:\n  source_v4: fd00::1\n", -EINVAL,
	  "sluiced.yaml:3:14: encap.source_v4: \"fd00::1\" is an IPv6 address "
	  "(expected an IPv4 address such as 198.18.0.1)" },
	{ IF0 "encap:\n  source_v6: \"::\"\n", -EINVAL,
	  "sluiced.yaml:3:14: encap.source_v6: \"::\" is not a unicast address" },
	/* flows */
	{ IF0 "flows: [1, 2]\n", -EINVAL, "sluiced.yaml:2:9: flows: expected a mapping (keys: table_size, tcp_idle_timeout, "
	  "udp_idle_timeout, close_grace, sweep_interval, new_table_size, drain_table_size, handshake_timeout, unconfirmed_timeout, close_linger, udp_fallback, pinned_table_size), got a list" },
	{ IF0 ENC4 "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n      - 198.18.1.10\n",
	  -EINVAL,
	  "sluiced.yaml:6:9: vips[0].backends[0]: expected a mapping (keys: address, weight, health_check, name, agent_port), "
	  "got a scalar" },
	{ IF0 "flows:\n  table_size: abc\n", -EINVAL,
	  "sluiced.yaml:3:15: flows.table_size: \"abc\" is not a number "
	  "(expected an integer 1024..16777216)" },
	{ IF0 "flows:\n  table_size: 100\n", -EINVAL,
	  "sluiced.yaml:3:15: flows.table_size: 100 is out of range (expected an integer 1024..16777216)" },
	{ IF0 "flows:\n  new_table_size: 100000\n", -EINVAL,
	  "sluiced.yaml:3:19: flows.new_table_size: 100000 is not a power of two (sl_new is "
	  "indexed by the flow hash's low bits); use 65536 or 131072" },
	{ IF0 "flows:\n  new_table_size: 33554432\n", -EINVAL,
	  "sluiced.yaml:3:19: flows.new_table_size: 33554432 is out of range (expected an integer "
	  "1024..16777216)" },
	{ IF0 "flows:\n  table_size: 99999999999999999999999\n", -EINVAL,
	  "sluiced.yaml:3:15: flows.table_size: 99999999999999999999999 is out of range" },
	{ IF0 "flows:\n  table_size: {a: 1}\n", -EINVAL,
	  "sluiced.yaml:3:16: flows.table_size: expected an integer 1024..16777216, got a mapping" },
	{ IF0 "flows:\n  tcp_idle_timeout: 90\n", -EINVAL,
	  "sluiced.yaml:3:21: flows.tcp_idle_timeout: invalid duration \"90\": missing unit "
	  "(add one of ms, s, m, h, e.g. \"90s\")" },
	{ IF0 "flows:\n  udp_idle_timeout: 0s\n", -EINVAL,
	  "sluiced.yaml:3:21: flows.udp_idle_timeout: must be greater than zero "
	  "(expected a duration from 1ms to 596h)" },
	{ IF0 "flows:\n  tcp_idle_timeout: 600h\n", -EINVAL,
	  "sluiced.yaml:3:21: flows.tcp_idle_timeout: 600h is out of range "
	  "(expected a duration from 1ms to 596h)" },
	{ IF0 "flows:\n  sweep_interval: 10ms\n", -EINVAL,
	  "sluiced.yaml:3:19: flows.sweep_interval: 10ms is out of range "
	  "(expected a duration from 100ms to 1m)" },
	{ IF0 "flows:\n  close_grace: 1m\n  close_linger: 1m\n", -EINVAL,
	  "sluiced.yaml:3:16: flows.close_grace: close_grace (1m) must be shorter than "
	  "udp_idle_timeout (30s)" },
	{ IF0 "flows:\n  udp_idle_timeout: 200ms\n", -EINVAL,
	  "sluiced.yaml:3:21: flows.udp_idle_timeout: close_grace (300ms) must be shorter than "
	  "udp_idle_timeout (200ms)" },
	{ IF0 "flows:\n  close_grace: 3s\n", -EINVAL,
	  "sluiced.yaml:3:16: flows.close_grace: close_linger (2s) must not be shorter than "
	  "close_grace (3s): raise close_linger or lower close_grace" },
	{ IF0 "flows:\n  udp_fallback: yes\n", -EINVAL,
	  "sluiced.yaml:3:17: flows.udp_fallback: \"yes\" is not allowed (expected true or false)" },
	{ IF0 "flows:\n  close_linger: 100ms\n", -EINVAL,
	  "sluiced.yaml:3:17: flows.close_linger: close_linger (100ms) must not be shorter than "
	  "close_grace (300ms): raise close_linger or lower close_grace" },
	{ IF0 "flows:\n  tcp_idle_timeout: 1s\n", -EINVAL,
	  "sluiced.yaml:3:21: flows.tcp_idle_timeout: close_linger (2s) must not be longer than "
	  "tcp_idle_timeout (1s)" },
	/* maglev and drain */
	{ IF0 "maglev:\n  table_size: 65536\n", -EINVAL,
	  "sluiced.yaml:3:15: maglev.table_size: 65536 is not a prime "
	  "(Maglev needs a prime table size; nearest primes: 65521 and 65537)" },
	{ IF0 "maglev:\n  table_size: 1000\n", -EINVAL,
	  "sluiced.yaml:3:15: maglev.table_size: 1000 is out of range (expected an integer 1021..655373)" },
	{ IF0 "maglev:\n  seed: 4294967296\n", -EINVAL,
	  "sluiced.yaml:3:9: maglev.seed: 4294967296 is out of range (expected an integer 0..4294967295)" },
	{ IF0 "maglev:\n  seed: -1\n", -EINVAL,
	  "sluiced.yaml:3:9: maglev.seed: -1 is out of range (expected an integer 0..4294967295)" },
	{ IF0 "flows:\n  handshake_timeout: 50ms\n", -EINVAL,
	  "sluiced.yaml:3:22: flows.handshake_timeout: 50ms is out of range "
	  "(expected a duration from 100ms to 10m)" },
	{ IF0 "flows:\n  unconfirmed_timeout: 1s\n", -EINVAL,
	  "sluiced.yaml:3:24: flows.unconfirmed_timeout: unconfirmed_timeout (1000 ms) must be "
	  "longer than 1000 ms, the time after which any packet confirms a TCP flow" },
	{ IF0 "drain:\n  check_interval: 1ms\n", -EINVAL,
	  "sluiced.yaml:3:19: drain.check_interval: 1ms is out of range "
	  "(expected a duration from 10ms to 10s)" },
	{ IF0 "drain:\n  default_timeout: 0s\n", -EINVAL,
	  "sluiced.yaml:3:20: drain.default_timeout: must be greater than zero "
	  "(expected a duration from 1ms to 596h)" },
	/* The bound the control socket and the CLI apply to --timeout. */
	{ IF0 "drain:\n  default_timeout: 600h\n", -EINVAL,
	  "sluiced.yaml:3:20: drain.default_timeout: 600h is out of range "
	  "(expected a duration from 1ms to 596h)" },
	/* control, metrics, paths */
	{ IF0 "control:\n  socket: run/sluice.sock\n", -EINVAL,
	  "sluiced.yaml:3:11: control.socket: \"run/sluice.sock\" is not an absolute path" },
	{ IF0 "control:\n  socket: " LONG_SOCK "\n", -EINVAL,
	  "sluiced.yaml:3:11: control.socket: \"/run/sluice/xxx" },
	{ IF0 "control:\n  socket: " LONG_SOCK "\n", -EINVAL,
	  "is 116 bytes long (a Unix socket path must be at most 107)" },
	{ IF0 "metrics:\n  listen: localhost:9469\n", -EINVAL,
	  "sluiced.yaml:3:11: metrics.listen: invalid address \"localhost:9469\": "
	  "\"localhost\" is not a valid IPv4 address" },
	{ IF0 "metrics:\n  listen: 127.0.0.1:0\n", -EINVAL,
	  "sluiced.yaml:3:11: metrics.listen: port 0 is not allowed" },
	{ IF0 "announce:\n  device: x\n", -EINVAL,
	  "announce.table: required field is missing (e.g. table: 100)" },
	{ IF0 "announce:\n  table: 254\n", -EINVAL,
	  "sluiced.yaml:3:10: announce.table: table 254 is one of the kernel's own" },
	{ IF0 "announce:\n  table: 100\n  device: a/b\n", -EINVAL,
	  "announce.device: \"a/b\" is not an interface name" },
	{ IF0 "announce:\n  table: 100\n  device: abcdefghijklmnopq\n", -EINVAL,
	  "announce.device: value is too long" },
	{ IF0 "paths:\n  pin_dir: sluice\n", -EINVAL,
	  "sluiced.yaml:3:12: paths.pin_dir: \"sluice\" is not an absolute path" },
	/* vips */
	{ IF0 "vips: 198.18.0.100:80/tcp\n", -EINVAL,
	  "sluiced.yaml:2:7: vips: expected a list of VIPs, got a scalar" },
	{ IF0 "vips:\n  - backends: []\n", -EINVAL,
	  "sluiced.yaml:3:5: vips[0].vip: required field is missing (e.g. vip: 198.18.0.100:80/tcp)" },
	{ IF0 "vips:\n  - vip: 198.18.3.4:80\n", -EINVAL,
	  "sluiced.yaml:3:10: vips[0].vip: invalid VIP \"198.18.3.4:80\": missing protocol "
	  "(expected ADDR:PORT/tcp or ADDR:PORT/udp, IPv6 as [ADDR]:PORT/tcp)" },
	{ IF0 "vips:\n  - vip: 198.18.0.100:80/tcp\n  - vip: 198.18.0.100:80/udp\n"
	  "  - vip: 198.18.0.100:80/tcp\n", -EINVAL,
	  "sluiced.yaml:5:10: vips[2].vip: duplicate VIP 198.18.0.100:80/tcp (already defined as vips[0])" },
	{ IF0 "vips:\n  - vip: \"[fd00::100]:443/udp\"\n  - vip: \"[FD00:0::100]:443/udp\"\n",
	  -EINVAL,
	  "sluiced.yaml:4:10: vips[1].vip: duplicate VIP [fd00::100]:443/udp (already defined as vips[0])" },
	{ IF0 ENC4 "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends: {address: 198.18.1.10}\n",
	  -EINVAL,
	  "sluiced.yaml:5:16: vips[0].backends: expected a list of backends, got a mapping" },
	{ IF0 ENC4 "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n      - weight: 5\n",
	  -EINVAL,
	  "sluiced.yaml:6:9: vips[0].backends[0].address: required field is missing" },
	{ IF0 ENC4 "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n      - address: 198.18.1\n",
	  -EINVAL,
	  "sluiced.yaml:6:18: vips[0].backends[0].address: \"198.18.1\" is not an IP address" },
	{ IF0 ENC4 "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n"
	  "      - address: 198.18.1.10\n      - address: 198.18.1.11\n      - address: 198.18.1.10\n",
	  -EINVAL,
	  "sluiced.yaml:8:18: vips[0].backends[2].address: duplicate backend 198.18.1.10 "
	  "(already listed as vips[0].backends[0])" },
	{ IF0 "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n      - address: 198.18.1.10\n",
	  -EINVAL,
	  "sluiced.yaml:5:18: vips[0].backends[0].address: IPv4 backend needs encap.source_v4" },
	{ IF0 ENC4 "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n"
	  "      - address: 198.18.1.10\n      - address: fd00:1::10\n", -EINVAL,
	  "sluiced.yaml:7:18: vips[0].backends[1].address: IPv6 backend needs encap.source_v6" },
	/* The example from the design notes, to the line and column. */
	{ "# sluiced test config\n"
	  "interfaces:\n"
	  "  - name: eth0\n"
	  "encap:\n"
	  "  source_v4: 198.18.0.1\n"
	  "vips:\n"
	  "  - vip: 198.18.0.100:80/tcp\n"
	  "    backends:\n"
	  "      - address: 198.18.1.10\n"
	  "  - vip: 198.18.0.100:443/tcp\n"
	  "    backends:\n"
	  "      # weights: 0..10000\n"
	  "      - address: 198.18.1.10\n"
	  "        weight: abc\n", -EINVAL,
	  "sluiced.yaml:14:17: vips[1].backends[0].weight: \"abc\" is not a number "
	  "(expected an integer 0..10000)" },
	{ IF0 ENC4 "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n"
	  "      - address: 198.18.1.10\n        weight: 10001\n", -EINVAL,
	  "sluiced.yaml:7:17: vips[0].backends[0].weight: 10001 is out of range "
	  "(expected an integer 0..10000)" },
	{ IF0 ENC4 "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n"
	  "      - address: 198.18.1.10\n        weight:\n", -EINVAL,
	  "sluiced.yaml:7:9: vips[0].backends[0].weight: missing value (expected an integer 0..10000)" },
};
/* clang-format on */

/* Every row is checked and every mismatch printed before the test fails. */
static void test_bad_configs(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX];
	int ret, failed = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_configs); i++) {
		const char *want = bad_configs[i].want;

		ret = load_text(bad_configs[i].yaml, &cfg, err);
		if (ret != bad_configs[i].ret || !strstr(err, want) ||
		    strncmp(err, tmp_file, strlen(tmp_file))) {
			print_error("bad_configs[%zu]:\n  got:      %d \"%s\"\n"
				    "  expected: %d \"...%s...\"\n",
				    i, ret, err, bad_configs[i].ret, want);
			failed++;
		}
		/* Failed loads leave no memory behind. */
		if (cfg.vips || cfg.n_vips) {
			print_error("bad_configs[%zu]: VIPs left allocated\n", i);
			failed++;
		}
	}
	CHECK_INT(CHECK_HERE, failed, 0);
}

/* name: per backend, checked as state.c says, unique within its VIP. */
static void test_backend_name(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT(
		CHECK_HERE,
		load_text(IF0 ENC4
			  "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n"
			  "      - {address: 198.18.1.10, name: web-1}\n"
			  "      - {address: 198.18.1.11}\n",
			  &cfg, err),
		0);
	CHECK_STR(CHECK_HERE, cfg.vips[0].backends[0].name, "web-1");
	CHECK_STR(CHECK_HERE, cfg.vips[0].backends[1].name, "");
	sl_config_free(&cfg);
	CHECK_INT(
		CHECK_HERE,
		load_text(IF0 ENC4
			  "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n"
			  "      - {address: 198.18.1.10, name: web-1}\n"
			  "      - {address: 198.18.1.11, name: web-1}\n",
			  &cfg, err),
		-EINVAL);
	CHECK_CONTAINS(
		CHECK_HERE, err,
		"vips[0].backends[1].name: \"web-1\" already names backends[0]");
	CHECK_INT(
		CHECK_HERE,
		load_text(IF0 ENC4
			  "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n"
			  "      - {address: 198.18.1.10, name: 198.18.1.11}\n",
			  &cfg, err),
		-EINVAL);
	CHECK_CONTAINS(CHECK_HERE, err, "is an address, not a name");
	CHECK_INT(
		CHECK_HERE,
		load_text(IF0 ENC4
			  "vips:\n  - vip: 198.18.0.100:80/tcp\n    backends:\n"
			  "      - {address: 198.18.1.10, name: \"web 1\"}\n",
			  &cfg, err),
		-EINVAL);
	CHECK_CONTAINS(CHECK_HERE, err, "letters, digits");
}

/*
 * agent_port: a VIP's is inherited by its backends, a backend's own wins,
 * and 0 turns an inherited one off (README's example); a backend's own
 * health_check keeps the inherited agent.
 */
static void test_agent_port(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT(CHECK_HERE,
		  load_text(IF0 ENC4
			    "vips:\n"
			    "  - vip: 198.18.0.100:80/tcp\n"
			    "    agent_port: 9470\n"
			    "    backends:\n"
			    "      - address: 198.18.20.11\n"
			    "      - address: 198.18.20.12\n"
			    "        agent_port: 0\n"
			    "      - address: 198.18.20.13\n"
			    "        health_check: {type: tcp, port: 8080}\n"
			    "  - vip: 198.18.0.101:80/tcp\n"
			    "    backends:\n"
			    "      - address: 198.18.20.14\n"
			    "        agent_port: 9471\n"
			    "      - address: 198.18.20.15\n",
			    &cfg, err),
		  0);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.agent_port, 9470);
	CHECK_INT(CHECK_HERE, cfg.vips[0].backends[0].hc.agent_port, 9470);
	CHECK_INT(CHECK_HERE, cfg.vips[0].backends[1].hc.agent_port, 0);
	CHECK_INT(CHECK_HERE, cfg.vips[0].backends[2].hc.agent_port, 9470);
	CHECK_INT(CHECK_HERE, cfg.vips[0].backends[2].hc.port, 8080);
	CHECK_INT(CHECK_HERE, cfg.vips[1].hc.agent_port, 0);
	CHECK_INT(CHECK_HERE, cfg.vips[1].backends[0].hc.agent_port, 9471);
	CHECK_INT(CHECK_HERE, cfg.vips[1].backends[1].hc.agent_port, 0);
	sl_config_free(&cfg);
}

/* The drain truth keys (issue 12): handshakes, unconfirmed flows, checker. */
static void test_drain_truth_keys(void **state)
{
	struct sl_config cfg;
	char err[1024];

	(void)state;
	CHECK_INT(CHECK_HERE,
		  load_text(IF0 "flows:\n  handshake_timeout: 5s\n"
				"  unconfirmed_timeout: 20s\n"
				"drain:\n  check_interval: 70ms\n",
			    &cfg, err),
		  0);
	CHECK_INT(CHECK_HERE, cfg.handshake_timeout_ms, 5000);
	CHECK_INT(CHECK_HERE, cfg.unconfirmed_timeout_ms, 20000);
	CHECK_INT(CHECK_HERE, cfg.drain_check_interval_ms, 70);
	sl_config_free(&cfg);
	CHECK_INT(CHECK_HERE,
		  load_text(IF0 "flows:\n  udp_fallback: true\n", &cfg, err),
		  0);
	CHECK(CHECK_HERE, cfg.udp_fallback);
	sl_config_free(&cfg);
}

/* An error after VIPs were allocated frees them and resets every field. */
static void test_error_resets(void **state)
{
	struct sl_config cfg, def;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT(
		CHECK_HERE,
		load_text("instance: other\n" IF0 ENC4 "vips:\n"
			  "  - vip: 198.18.0.100:80/tcp\n    backends:\n"
			  "      - address: 198.18.1.10\n"
			  "  - vip: 198.18.0.100:81/tcp\n    backends:\n"
			  "      - address: 198.18.1.10\n        weight: -3\n",
			  &cfg, err),
		-EINVAL);
	CHECK_CONTAINS(CHECK_HERE, err, "vips[1].backends[0].weight");
	sl_config_defaults(&def);
	check_same_settings(&cfg, &def);
	CHECK_INT(CHECK_HERE, cfg.n_ifaces, 0);
	CHECK_NULL(CHECK_HERE, cfg.vips);
	sl_config_free(&cfg);
}

static void test_file_errors(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT(CHECK_HERE,
		  sl_config_load("/nonexistent/sluiced.yaml", &cfg, err,
				 sizeof(err)),
		  -ENOENT);
	CHECK_STR(
		CHECK_HERE, err,
		"/nonexistent/sluiced.yaml: cannot open: No such file or directory");
	CHECK_INT(CHECK_HERE, sl_config_load(tmp_dir, &cfg, err, sizeof(err)),
		  -EISDIR);
	CHECK_CONTAINS(CHECK_HERE, err, "cannot open: Is a directory");
	/* No err buffer: still fails cleanly. */
	write_file("interfaces: 3\n");
	CHECK_INT(CHECK_HERE, sl_config_load(tmp_file, &cfg, NULL, 0), -EINVAL);
	/* A tiny err buffer is cut short, not overrun. */
	memset(err, 'x', sizeof(err));
	CHECK_INT(CHECK_HERE, sl_config_load(tmp_file, &cfg, err, 5), -EINVAL);
	CHECK_INT(CHECK_HERE, strlen(err), 4);
	CHECK_INT(CHECK_HERE, err[5], 'x');
}

/* Send stderr to a fresh file until stderr_end(); the saved stderr's fd. */
static int stderr_begin(char *path, int *fd)
{
	int saved;

	*fd = mkstemp(path);
	CHECK(CHECK_HERE, *fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(*fd, STDERR_FILENO);
	return saved;
}

/* Restore stderr; what was written meanwhile (at most @len - 1 bytes). */
static void stderr_end(const char *path, int fd, int saved, char *out,
		       size_t len)
{
	ssize_t n;

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, out, len - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
}

/* libfyaml must not print its own diagnostics: sluiced prints ours. */
static void test_quiet(void **state)
{
	static const char *const texts[] = {
		"interfaces: [{name: eth0}\n", "a: 1\na: 2\n", "a: *nope\n", "",
		"interfaces:\tx\n  y: 1\n",
	};
	struct sl_config cfg;
	char err[ERR_MAX], capture[] = "/tmp/sluice-test-stderr-XXXXXX";
	char out[256];
	int fd, saved;
	size_t i;

	(void)state;
	saved = stderr_begin(capture, &fd);
	for (i = 0; i < ARRAY_SIZE(texts); i++)
		load_text(texts[i], &cfg, err);
	sl_config_load("/nonexistent.yaml", &cfg, err, sizeof(err));
	stderr_end(capture, fd, saved, out, sizeof(out));
	CHECK_STR(CHECK_HERE, out, "");
}

/*
 * flows.pinned_table_size, drain_table_size's old name, still loads (with
 * a warning naming the new one); both at once is an error.
 */
static void test_drain_table_old_name(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX], capture[] = "/tmp/sluice-test-stderr-XXXXXX";
	char out[512];
	int fd, saved;

	(void)state;
	CHECK_INT(CHECK_HERE,
		  load_text(IF0 "flows:\n  drain_table_size: 3000\n", &cfg,
			    err),
		  0);
	CHECK_INT(CHECK_HERE, cfg.drain_table_size, 3000);
	sl_config_free(&cfg);

	saved = stderr_begin(capture, &fd);
	CHECK_INT(CHECK_HERE,
		  load_text(IF0 "flows:\n  pinned_table_size: 4000\n", &cfg,
			    err),
		  0);
	stderr_end(capture, fd, saved, out, sizeof(out));
	CHECK_INT(CHECK_HERE, cfg.drain_table_size, 4000);
	CHECK_CONTAINS(CHECK_HERE, out,
		       "sluiced.yaml:3:3: flows.pinned_table_size: deprecated "
		       "name: rename it to drain_table_size (same meaning)");
	sl_config_free(&cfg);

	CHECK_INT(CHECK_HERE,
		  load_text(IF0 "flows:\n  drain_table_size: 3000\n"
				"  pinned_table_size: 4000\n",
			    &cfg, err),
		  -EINVAL);
	CHECK_CONTAINS(
		CHECK_HERE, err,
		"sluiced.yaml:4:3: flows.pinned_table_size: give only "
		"drain_table_size: pinned_table_size is its deprecated old name");
}

/* --- generated configs at and past the limits --- */

struct buf {
	char *p;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		CHECK(CHECK_HERE, n >= 0);
		if (b->p && b->len + n < b->cap)
			break;
		b->cap = (b->cap + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		CHECK_NONNULL(CHECK_HERE, b->p);
	}
	b->len += n;
}

/* Header of 3 lines; VIP i's backends follow, one line each, from line 6. */
static void gen_vip(struct buf *b, unsigned int vip, unsigned int n_backends,
		    unsigned int first)
{
	unsigned int i, a;

	bprintf(b, "  - vip: 198.18.%u.%u:80/tcp\n", vip / 250, vip % 250 + 1);
	if (!n_backends)
		return;
	bprintf(b, "    backends:\n");
	for (i = 0; i < n_backends; i++) {
		a = first + i;
		bprintf(b, "      - address: 10.%u.%u.%u\n", a >> 16, (a >> 8) & 0xff, a & 0xff);
	}
}

static int load_generated(struct buf *b, const char *maglev, unsigned int n_vips,
			  const unsigned int *backends, struct sl_config *cfg, char *err)
{
	unsigned int i, first = 1;
	int ret;

	b->len = 0;
	bprintf(b, IF0 ENC4 "maglev: {table_size: %s}\nvips:\n", maglev);
	for (i = 0; i < n_vips; i++) {
		gen_vip(b, i, backends ? backends[i] : 0, first);
		first += backends ? backends[i] : 0;
	}
	ret = load_text(b->p, cfg, err);
	return ret;
}

static void test_limits(void **state)
{
	unsigned int counts[SLUICE_MAX_VIPS + 1] = { 0 };
	struct buf b = { 0 };
	struct sl_config cfg;
	char err[ERR_MAX], want[256];

	(void)state;
	/* 256 VIPs fit, 257 do not; VIP i is on line 5 + i. */
	CHECK_INT(CHECK_HERE,
		  load_generated(&b, "65537", SLUICE_MAX_VIPS, NULL, &cfg, err),
		  0);
	CHECK_INT(CHECK_HERE, cfg.n_vips, SLUICE_MAX_VIPS);
	sl_config_free(&cfg);
	CHECK_INT(CHECK_HERE,
		  load_generated(&b, "65537", SLUICE_MAX_VIPS + 1, NULL, &cfg,
				 err),
		  -EINVAL);
	snprintf(want, sizeof(want), "sluiced.yaml:%d:5: vips[256]: too many VIPs (at most 256)",
		 5 + SLUICE_MAX_VIPS);
	CHECK_CONTAINS("257 vips", err, want);

	/* 4096 backends in one VIP fit; 4097 do not. */
	counts[0] = SLUICE_MAX_BACKENDS;
	CHECK_INT(CHECK_HERE, load_generated(&b, "65537", 1, counts, &cfg, err),
		  0);
	CHECK_INT(CHECK_HERE, cfg.vips[0].n_backends, SLUICE_MAX_BACKENDS);
	sl_config_free(&cfg);
	counts[0] = SLUICE_MAX_BACKENDS + 1;
	CHECK_INT(CHECK_HERE, load_generated(&b, "65537", 1, counts, &cfg, err),
		  -EINVAL);
	CHECK_CONTAINS("4097 backends", err,
		       "sluiced.yaml:7:9: vips[0].backends: 4097 backends, at most 4096 per VIP");

	/* 4096 pairs across VIPs fit; one more is reported at the first one over. */
	counts[0] = 4000;
	counts[1] = 96;
	CHECK_INT(CHECK_HERE, load_generated(&b, "65537", 2, counts, &cfg, err),
		  0);
	sl_config_free(&cfg);
	counts[1] = 97;
	CHECK_INT(CHECK_HERE, load_generated(&b, "65537", 2, counts, &cfg, err),
		  -EINVAL);
	snprintf(want, sizeof(want), "sluiced.yaml:%d:9: vips[1].backends[96]: too many backends "
		 "in total (at most 4096 (VIP, backend) pairs across all VIPs)",
		 5 + 2 + 4000 + 2 + 96);
	CHECK_CONTAINS("4097 pairs", err, want);

	/* A VIP cannot have more backends than Maglev slots. */
	counts[0] = 1022;
	CHECK_INT(CHECK_HERE, load_generated(&b, "1021", 1, counts, &cfg, err),
		  -EINVAL);
	CHECK_CONTAINS("ring", err, "sluiced.yaml:7:9: vips[0].backends: 1022 backends do not fit "
		       "a Maglev table of 1021 slots (raise maglev.table_size)");
	free(b.p);
}

static void test_too_many_interfaces(void **state)
{
	struct buf b = { 0 };
	struct sl_config cfg;
	char err[ERR_MAX];
	int i;

	(void)state;
	bprintf(&b, "interfaces:\n");
	for (i = 0; i < SL_CFG_MAX_IFACES; i++)
		bprintf(&b, "  - name: eth%d\n", i);
	CHECK_INT(CHECK_HERE, load_text(b.p, &cfg, err), 0);
	CHECK_INT(CHECK_HERE, cfg.n_ifaces, SL_CFG_MAX_IFACES);
	CHECK_STR(CHECK_HERE, cfg.ifaces[15].name, "eth15");
	bprintf(&b, "  - name: eth%d\n", i);
	CHECK_INT(CHECK_HERE, load_text(b.p, &cfg, err), -EINVAL);
	CHECK_CONTAINS("17 interfaces", err,
		       "sluiced.yaml:18:5: interfaces[16]: too many interfaces (at most 16)");
	free(b.p);
}

/* Count the lines of a multi-line error. */
static int err_lines(const char *err)
{
	int n = err[0] ? 1 : 0;

	for (; *err; err++)
		n += *err == '\n';
	return n;
}

/* One load reports a problem in every section, not just the first. */
static void test_every_error_reported(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX * 2];

	(void)state;
	write_file("interfaces: [{name: eth0, mode: xdp}]\n"
		   "flows: {table_size: 10, bogus: 1}\n"
		   "maglev: {seed: -1}\n"
		   ENC4
		   "vips:\n"
		   "  - vip: 198.18.0.100:80/tcp\n"
		   "    backends:\n"
		   "      - address: 198.18.1.10\n"
		   "        weight: -3\n"
		   "      - address: 198.18.1.11\n"
		   "        weight: 20000\n");
	CHECK_INT(CHECK_HERE, sl_config_load(tmp_file, &cfg, err, sizeof(err)),
		  -EINVAL);
	CHECK_CONTAINS(CHECK_HERE, err, "sluiced.yaml:1:33: interfaces[0].mode: \"xdp\" is not a valid mode");
	CHECK_CONTAINS(CHECK_HERE, err, "sluiced.yaml:2:25: flows.bogus: unknown key");
	CHECK_CONTAINS(CHECK_HERE, err, "sluiced.yaml:2:21: flows.table_size: 10 is out of range");
	CHECK_CONTAINS(CHECK_HERE, err, "sluiced.yaml:3:16: maglev.seed: -1 is out of range");
	CHECK_CONTAINS(CHECK_HERE, err, "sluiced.yaml:9:17: vips[0].backends[0].weight: -3");
	CHECK_CONTAINS(CHECK_HERE, err, "sluiced.yaml:11:17: vips[0].backends[1].weight: 20000");
	CHECK_INT(CHECK_HERE, err_lines(err), 6);
	CHECK_NULL(CHECK_HERE, cfg.vips);
}

/*
 * Several errors into a buffer too small for all of them, at every size:
 * the text is always terminated (the fuzzer found a size where the line
 * separator took the terminator's place), and it begins with the first.
 */
static void test_error_text_fills_up(void **state)
{
	char full[ERR_MAX * 2], err[ERR_MAX * 2];
	struct sl_config cfg;
	size_t len;

	(void)state;
	write_file("flows: {table_size: 10, bogus: 1}\n"
		   "maglev: {seed: -1}\n");
	CHECK_INT(CHECK_HERE,
		  sl_config_load(tmp_file, &cfg, full, sizeof(full)), -EINVAL);
	CHECK(CHECK_HERE, err_lines(full) >= 3);
	for (len = 1; len <= strlen(full) + 1; len++) {
		memset(err, 0x5a, sizeof(err));
		CHECK_INT(CHECK_HERE, sl_config_load(tmp_file, &cfg, err, len),
			  -EINVAL);
		CHECK_NONNULL(CHECK_HERE, memchr(err, '\0', len));
		CHECK_INT(CHECK_HERE, strncmp(err, full, strlen(err)), 0);
	}
}

/* A second document would be ignored silently: refused, pointing at it. */
static void test_second_document(void **state)
{
	struct sl_config cfg;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT(CHECK_HERE,
		  load_text("---\n" IF0 "---\n"
			    "flows: {table_size: 4096}\n",
			    &cfg, err),
		  -EINVAL);
	CHECK_CONTAINS(CHECK_HERE, err, "sluiced.yaml:4:1: a second YAML document starts here");
	CHECK_INT(CHECK_HERE, err_lines(err), 1);
	/* One document with a leading marker, or a trailing empty one, is fine. */
	CHECK_INT(CHECK_HERE, load_text("---\n" IF0, &cfg, err), 0);
	sl_config_free(&cfg);
	CHECK_INT(CHECK_HERE, load_text(IF0 "...\n", &cfg, err), 0);
	sl_config_free(&cfg);
}

/* Backends that would loop back into sluice: a VIP's address, loopback. */
static void test_backend_not_vip_or_loopback(void **state)
{
	static const struct {
		const char *label, *yaml, *want;
	} cases[] = {
		{ "backend is a later VIP", IF0 ENC4 "vips:\n"
		  "  - vip: 198.18.0.100:80/tcp\n    backends: [{address: 198.18.0.101}]\n"
		  "  - vip: 198.18.0.101:443/tcp\n    backends: [{address: 198.18.1.10}]\n",
		  "sluiced.yaml:5:26: vips[0].backends[0].address: backend 198.18.0.101 is the "
		  "address of VIP 198.18.0.101:443/tcp (vips[1])" },
		{ "backend is its own VIP (other port)", IF0 ENC4 "vips:\n"
		  "  - vip: 198.18.0.100:80/tcp\n    backends: [{address: 198.18.0.100}]\n",
		  "vips[0].backends[0].address: backend 198.18.0.100 is the address of VIP "
		  "198.18.0.100:80/tcp (vips[0])" },
		{ "IPv4 loopback", IF0 ENC4 "vips:\n"
		  "  - vip: 198.18.0.100:80/tcp\n    backends: [{address: 127.0.0.2}]\n",
		  "vips[0].backends[0].address: backend 127.0.0.2 is a loopback address" },
		{ "IPv6 loopback", IF0 "encap: {source_v6: 'fd00::1'}\n" "vips:\n"
		  "  - vip: '[fd00:100::1]:80/tcp'\n    backends: [{address: '::1'}]\n",
		  "vips[0].backends[0].address: backend ::1 is a loopback address" },
	};
	struct sl_config cfg;
	char err[ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		CHECK_INT(cases[i].label, load_text(cases[i].yaml, &cfg, err), -EINVAL);
		CHECK_CONTAINS(cases[i].label, err, cases[i].want);
		CHECK_INT(cases[i].label, err_lines(err), 1);
	}
	/* A backend next to a VIP, not on it, is fine. */
	CHECK_INT(CHECK_HERE,
		  load_text(IF0 ENC4
			    "vips:\n  - vip: 198.18.0.100:80/tcp\n"
			    "    backends: [{address: 198.18.0.102}]\n",
			    &cfg, err),
		  0);
	sl_config_free(&cfg);
}

/* cluster: errors; VIPs come from etcd, so not from the file too. */
static void test_cluster_errors(void **state)
{
	static const struct {
		const char *text;
		int ret;
		const char *want;
	} cases[] = {
		{ IF0
		  "cluster: {endpoints: \"http://198.18.0.1:2379\", box: e1}\n"
		  "vips: [{vip: 198.18.0.100:80/tcp}]\n",
		  -EINVAL,
		  "vips: with cluster:, VIPs and backends come from etcd (/sluice/desired): remove vips:" },
		{ IF0 "cluster: {endpoints: \"198.18.0.1:2379\", box: e1}\n",
		  -EINVAL, "expected http://HOST:PORT" },
		{ IF0 "cluster: {endpoints: \"http://198.18.0.1:2379\"}\n",
		  -EINVAL,
		  "cluster.box: required field is missing (e.g. box: edge1)" },
		{ IF0
		  "cluster: {endpoints: \"http://198.18.0.1:2379\", box: \"a/b\"}\n",
		  -EINVAL, "cluster.box: box name \"a/b\"" },
		{ IF0
		  "cluster: {endpoints: \"http://198.18.0.1:2379\", box: e1, username: u}\n",
		  -EINVAL, "username and password go together" },
		{ IF0
		  "cluster: {endpoints: \"http://198.18.0.1:2379\", box: e1, prefix: /a/}\n",
		  -EINVAL, "without a trailing '/'" },
		{ IF0
		  "cluster: {endpoints: \"http://198.18.0.1:2379\", box: e1, lease_ttl: 1s}\n",
		  -EINVAL, "cluster.lease_ttl" },
		{ IF0
		  "cluster: {endpoints: \"http://198.18.0.1:2379\", box: e1, "
		  "ca_file: /nonexistent/ca.pem}\n",
		  -EINVAL, "cannot read /nonexistent/ca.pem" },
	};
	struct sl_config cfg;
	char err[ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(cases[i].want, load_text(cases[i].text, &cfg, err),
			  cases[i].ret);
		CHECK_CONTAINS(cases[i].want, err, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_null_sections),
		cmocka_unit_test(test_instance_paths),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_announce),
		cmocka_unit_test(test_cluster),
		cmocka_unit_test(test_cluster_errors),
		cmocka_unit_test(test_anchor_alias),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_error_text_fills_up),
		cmocka_unit_test(test_backend_name),
		cmocka_unit_test(test_agent_port),
		cmocka_unit_test(test_drain_truth_keys),
		cmocka_unit_test(test_error_resets),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_quiet),
		cmocka_unit_test(test_drain_table_old_name),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_too_many_interfaces),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_second_document),
		cmocka_unit_test(test_backend_not_vip_or_loopback),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
