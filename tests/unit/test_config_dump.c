/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Unit tests for what the operator sees of the running configuration:
 * config dumps (user/lib/config_dump.c) that load back to the same state,
 * the settings table (settings.c), state differences (state_diff.c),
 * runtime weights (state_weight.c) and sluicectl's config diff.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include "../lib/check.h"

#include "cli.h"
#include "config.h"
#include "config_dump.h"
#include "ctl.h"
#include "persist.h"
#include "settings.h"
#include "state_diff.h"

#include "array.h"
#define ERR_MAX		1024

static char tmp_dir[64];
static char tmp_a[128], tmp_b[128];

static int setup(void **state)
{
	(void)state;
	strcpy(tmp_dir, "/tmp/sluice-test-dump-XXXXXX");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(tmp_a, sizeof(tmp_a), "%s/a.yaml", tmp_dir);
	snprintf(tmp_b, sizeof(tmp_b), "%s/b.yaml", tmp_dir);
	return 0;
}

static int teardown(void **state)
{
	char ca[96];

	(void)state;
	unlink(tmp_a);
	unlink(tmp_b);
	/* test_settings_diff_cluster's CA files, left there if it failed. */
	snprintf(ca, sizeof(ca), "%s/ca1.pem", tmp_dir);
	unlink(ca);
	snprintf(ca, sizeof(ca), "%s/ca2.pem", tmp_dir);
	unlink(ca);
	return rmdir(tmp_dir);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK_NONNULL(CHECK_HERE, f);
	CHECK_RC(CHECK_HERE, fputs(text, f));
	CHECK_INT(CHECK_HERE, fclose(f), 0);
}

static void load_ok(const char *path, const char *text, struct sl_config *cfg)
{
	char err[ERR_MAX];

	if (text)
		write_file(path, text);
	if (sl_config_load(path, cfg, err, sizeof(err)))
		fail_msg("%s does not load: %s", path, err);
}

/* Every setting away from its default, odd characters in strings, health checks. */
static const char rich[] = "instance: edge-7\n"
			   "interfaces:\n"
			   "  - name: eth0\n"
			   "  - name: \"eth1\"\n"
			   "    mode: skb\n"
			   "encap:\n"
			   "  source_v4: 198.18.0.1\n"
			   "  source_v6: fd00::1\n"
			   "flows:\n"
			   "  table_size: 4096\n"
			   "  new_table_size: 2048\n"
			   "  drain_table_size: 3000\n"
			   "  tcp_idle_timeout: 1h30m\n"
			   "  udp_idle_timeout: 45s\n"
			   "  close_grace: 1500ms\n"
			   "  close_linger: 5s\n"
			   "  sweep_interval: 250ms\n"
			   "maglev:\n"
			   "  table_size: 1021\n"
			   "  seed: 4294967295\n"
			   "drain:\n"
			   "  default_timeout: 2h\n"
			   "control:\n"
			   "  socket: \"/run/odd dir/a\\\"b.sock\"\n"
			   "metrics:\n"
			   "  listen: \"[::1]:9470\"\n"
			   "paths:\n"
			   "  pin_dir: \"/sys/fs/bpf/x: y\"\n"
			   "  state_dir: /var/lib/sluice/#7\n"
			   "vips:\n"
			   "  - vip: 198.18.0.100:80/tcp\n"
			   "    health_check:\n"
			   "      type: http\n"
			   "      path: /healthz\n"
			   "      expect_status: 204\n"
			   "      interval: 5s\n"
			   "      timeout: 2s\n"
			   "      rise: 3\n"
			   "      fall: 4\n"
			   "      on_down: release\n"
			   "    backends:\n"
			   "      - address: 198.18.1.10\n"
			   "        weight: 0\n"
			   "      - address: fd00:1::12\n"
			   "        weight: 10000\n"
			   "        health_check:\n"
			   "          type: tcp\n"
			   "          port: 8080\n"
			   "  - vip: \"[fd00::100]:0/udp\"\n"
			   "    backends: []\n"
			   "  - vip: 198.18.0.101:443/tcp\n"
			   "    backends:\n"
			   "      - address: 198.18.1.11\n";

static size_t count_diff(const struct sl_config *a, const struct sl_config *b)
{
	struct sl_state sa, sb;
	char err[ERR_MAX];
	size_t n;

	CHECK_INT(CHECK_HERE, sl_state_from_config(&sa, a, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, sl_state_from_config(&sb, b, err, sizeof(err)),
		  0);
	n = sl_state_diff(&sa, &sb, NULL, NULL) + sl_settings_diff(a, b, NULL, NULL);
	sl_state_free(&sa);
	sl_state_free(&sb);
	return n;
}

/* dump(load(file)) loads to the same settings and the same VIPs, and is stable. */
static void test_dump_roundtrip(void **state)
{
	struct sl_config a, b;
	struct sl_state st;
	char err[ERR_MAX], *text = NULL, *again = NULL;

	(void)state;
	load_ok(tmp_a, rich, &a);
	CHECK_INT(CHECK_HERE, sl_state_from_config(&st, &a, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, sl_config_dump_str(&a, &st, &text), 0);
	load_ok(tmp_b, text, &b);
	CHECK_INT("rich", count_diff(&a, &b), 0);
	/* A dump of the dump is the same text: nothing drifts on the way. */
	sl_state_free(&st);
	CHECK_INT(CHECK_HERE, sl_state_from_config(&st, &b, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, sl_config_dump_str(&b, &st, &again), 0);
	CHECK_STR("dump of the dump", again, text);
	free(text);
	free(again);
	sl_state_free(&st);
	sl_config_free(&a);
	sl_config_free(&b);
}

/* A cluster box's dump loads back: its cluster: section, and no vips:. */
static void test_dump_cluster(void **state)
{
	static const char cl[] =
		"interfaces: [{name: eth0}]\n"
		"encap: {source_v4: 198.18.0.1}\n"
		"cluster: {endpoints: \"http://198.18.0.1:2379\", box: e1, prefix: /s/dc1, "
		"lease_ttl: 4s, username: u, password: secret}\n";
	struct sl_config a, b;
	struct sl_state st;
	char err[ERR_MAX], *text = NULL;

	(void)state;
	load_ok(tmp_a, cl, &a);
	CHECK_INT(CHECK_HERE, sl_state_from_config(&st, &a, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, sl_config_dump_str(&a, &st, &text), 0);
	CHECK_INT("password not shown", strstr(text, "secret") == NULL, 1);
	CHECK_INT("no vips:", strstr(text, "\nvips:") == NULL, 1);
	/* Credentials are not in the dump: drop them from the original too. */
	a.cluster_etcd.username[0] = a.cluster_etcd.password[0] = '\0';
	load_ok(tmp_b, text, &b);
	CHECK_INT("cluster", count_diff(&a, &b), 0);
	CHECK_STR("box", b.cluster_box, "e1");
	CHECK_INT("lease", b.cluster_lease_ms, 4000);
	free(text);
	sl_state_free(&st);
	sl_config_free(&a);
	sl_config_free(&b);
}

/* Runtime changes are in the dump: the state, not the file, is written. */
static void test_dump_runtime_state(void **state)
{
	struct sl_vip_spec vip, vip2;
	struct sluice_addr be, be2;
	struct sl_config a, b;
	struct sl_state st, back;
	char err[ERR_MAX], *text = NULL;
	__u8 fam, fam2;
	__u32 old;

	(void)state;
	load_ok(tmp_a, rich, &a);
	CHECK_INT(CHECK_HERE, sl_state_from_config(&st, &a, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE,
		  sl_parse_vip("198.18.0.100:80/tcp", &vip, NULL, 0), 0);
	CHECK_INT(CHECK_HERE,
		  sl_parse_vip("198.18.0.102:53/udp", &vip2, NULL, 0), 0);
	CHECK_INT(CHECK_HERE, sl_parse_addr("198.18.1.10", &be, &fam), 0);
	CHECK_INT(CHECK_HERE, sl_parse_addr("198.18.1.99", &be2, &fam2), 0);
	CHECK_INT(CHECK_HERE,
		  sl_state_be_set_weight(&st, &vip, &be, fam, 77, &old, err,
					 sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, old, 0);
	CHECK_INT(CHECK_HERE, sl_state_vip_add(&st, &vip2, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE,
		  sl_state_be_add(&st, &vip2, &be2, fam2, 5, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE,
		  sl_state_be_drain(&st, &vip, &be, fam, 1000, 60000, err,
				    sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, sl_config_dump_str(&a, &st, &text), 0);
	CHECK_CONTAINS("drain comment", text, "# runtime state: draining (not configuration)");
	load_ok(tmp_b, text, &b);
	CHECK_INT(CHECK_HERE, sl_state_from_config(&back, &b, err, sizeof(err)),
		  0);
	/* The drain is not configuration: everything else matches. */
	CHECK_INT("state diff", sl_state_diff(&st, &back, NULL, NULL), 0);
	CHECK_INT("weight", sl_vip_find_be(sl_state_find_vip(&back, &vip), &be, fam)->weight, 77);
	CHECK_INT("be state", sl_vip_find_be(sl_state_find_vip(&back, &vip), &be, fam)->state,
		  SL_BE_ACTIVE);
	free(text);
	sl_state_free(&st);
	sl_state_free(&back);
	sl_config_free(&a);
	sl_config_free(&b);
}

/* --- settings ------------------------------------------------------------ */

struct lines {
	char text[16][SL_DIFF_LINE_MAX + SL_SETTING_TEXT_MAX];
	size_t n;
};

static void collect_setting(void *ctx, const char *name, const char *running, const char *file)
{
	struct lines *l = ctx;

	if (l->n < ARRAY_SIZE(l->text))
		snprintf(l->text[l->n++], sizeof(l->text[0]), "%s: %s -> %s", name, running, file);
}

static void collect_line(void *ctx, const char *line)
{
	struct lines *l = ctx;

	if (l->n < ARRAY_SIZE(l->text))
		snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", line);
}

static void test_settings_diff(void **state)
{
	struct sl_config a, b;
	struct lines l = { .n = 0 };

	(void)state;
	load_ok(tmp_a, "interfaces: [{name: eth0}]\n", &a);
	load_ok(tmp_b, "interfaces: [{name: eth0, mode: skb}, {name: eth1}]\n"
		       "flows: {table_size: 2048, close_grace: 1500ms}\n"
		       "metrics: {listen: \"off\"}\n", &b);
	CHECK_INT("count", sl_settings_diff(&a, &b, collect_setting, &l), 4);
	CHECK_STR("ifaces", l.text[0], "interfaces: eth0 native -> eth0 skb, eth1 native");
	CHECK_STR("flows", l.text[1], "flows.table_size: 1048576 -> 2048");
	CHECK_STR("grace", l.text[2], "flows.close_grace: 300ms -> 1s500ms");
	CHECK_STR("metrics", l.text[3], "metrics.listen: 127.0.0.1:9469 -> off");
	CHECK_INT("same", sl_settings_diff(&a, &a, NULL, NULL), 0);
	/* A restart refuses a new flow table size: the note says what to do. */
	CHECK_CONTAINS("note", sl_setting_restart_note("flows.table_size"), "sluiced --detach first");
	CHECK_NULL(CHECK_HERE, sl_setting_restart_note("maglev.seed"));
	sl_config_free(&a);
	sl_config_free(&b);
}

/* A cluster config at @path with CA file @ca, and user u with @password
 * unless it is NULL. */
static void load_cluster(const char *path, const char *ca, const char *password,
			 struct sl_config *cfg)
{
	char text[512], cred[128] = "";

	if (password)
		snprintf(cred, sizeof(cred), ", username: u, password: %s",
			 password);
	snprintf(text, sizeof(text),
		 "interfaces: [{name: eth0}]\nencap: {source_v4: 198.18.0.1}\n"
		 "cluster: {endpoints: \"https://198.18.0.1:2379\", box: e1, "
		 "prefix: /s/dc1, ca_file: %s%s}\n",
		 ca, cred);
	load_ok(path, text, cfg);
}

/*
 * The etcd client's files and credentials are read at start only too: a
 * change is listed (reload, config diff, sluice_reload_restart_pending),
 * and a password is compared but never shown, in no output at all.
 */
static void test_settings_diff_cluster(void **state)
{
	static const char *const secrets[] = { "old-pw-4242", "new-pw-4343" };
	char ca1[96], ca2[96], text[512], buf[SL_SETTING_TEXT_MAX],
		err[ERR_MAX];
	struct json_object *arr, *d;
	struct sl_config a, b, c;
	struct lines l = { .n = 0 };
	struct sl_state st;
	char *dump = NULL;
	const char *name, *out;
	size_t i, k;

	(void)state;
	snprintf(ca1, sizeof(ca1), "%s/ca1.pem", tmp_dir);
	snprintf(ca2, sizeof(ca2), "%s/ca2.pem", tmp_dir);
	write_file(ca1, "ca 1\n");
	write_file(ca2, "ca 2\n");
	load_cluster(tmp_a, ca1, secrets[0], &a);
	load_cluster(tmp_b, ca2, secrets[1], &b);
	load_cluster(tmp_a, ca1, NULL, &c);

	CHECK_INT("count", sl_settings_diff(&a, &b, collect_setting, &l), 2);
	snprintf(text, sizeof(text), "cluster.ca_file: %s -> %s", ca1, ca2);
	CHECK_STR("ca_file", l.text[0], text);
	CHECK_STR("password", l.text[1],
		  "cluster.password: (set) -> (set, another)");
	/* Credentials added: the user shows, the password only as set. */
	CHECK_INT("added", sl_settings_diff(&c, &a, collect_setting, &l), 2);
	CHECK_STR("user", l.text[2], "cluster.username:  -> u");
	CHECK_STR("password added", l.text[3], "cluster.password:  -> (set)");
	CHECK_INT("same", sl_settings_diff(&b, &b, NULL, NULL), 0);

	/* The reload's and config diff's JSON, each setting's text, the dump. */
	arr = json_object_new_array();
	sl_settings_diff(&a, &b, sl_ctl_setting_add, arr);
	sl_settings_diff(&b, &a, sl_ctl_setting_add, arr);
	out = json_object_to_json_string(arr);
	for (k = 0; k < ARRAY_SIZE(secrets); k++) {
		for (i = 0; i < l.n; i++)
			CHECK_TRUE(l.text[i], "password not shown",
				   !strstr(l.text[i], secrets[k]));
		CHECK_TRUE(out, "password not in the reload's JSON",
			   !strstr(out, secrets[k]));
		for (i = 0; i < sl_settings_count(); i++) {
			sl_setting_text(&b, i, &name, buf, sizeof(buf));
			CHECK_TRUE(name, "password not in a setting's text",
				   !strstr(buf, secrets[k]));
			sl_setting_text(&a, i, &name, buf, sizeof(buf));
			CHECK_TRUE(name, "password not in a setting's text",
				   !strstr(buf, secrets[k]));
		}
	}
	json_object_put(arr);

	/*
	 * config diff compares with a dump, which has no credentials: the CA
	 * file differs, the password (set on both sides) is not reported.
	 */
	CHECK_INT(CHECK_HERE, sl_state_from_config(&st, &a, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, sl_config_dump_str(&a, &st, &dump), 0);
	CHECK_TRUE(CHECK_HERE, "password not in the dump",
		   !strstr(dump, secrets[0]));
	d = sl_cli_config_diff(dump, &b, NULL, err, sizeof(err));
	CHECK_NONNULL(CHECK_HERE, d);
	arr = json_object_object_get(d, "restart");
	CHECK_INT("config diff: only the CA file",
		  json_object_array_length(arr), 1);
	CHECK_STR("config diff",
		  json_object_get_string(json_object_object_get(
			  json_object_array_get_idx(arr, 0), "setting")),
		  "cluster.ca_file");
	json_object_put(d);
	free(dump);
	sl_state_free(&st);
	unlink(ca1);
	unlink(ca2);
	sl_config_free(&a);
	sl_config_free(&b);
	sl_config_free(&c);
}

struct compared {
	struct json_object *out;
	const struct sl_config *run;
};

/* What sluiced's config.dump answers to `config diff`'s "compare" argument. */
static void compare_one(void *ctx, const char *name, const char *text)
{
	struct compared *c = ctx;
	struct json_object *o = json_object_new_object();
	bool set = false;
	int rc = sl_setting_undumped_differs(c->run, name, text, &set);

	CHECK_TRUE(name, "an undumped setting", rc >= 0);
	json_object_object_add(o, "differs", json_object_new_boolean(rc == 1));
	json_object_object_add(o, "running_set", json_object_new_boolean(set));
	json_object_object_add(c->out, name, o);
}

/* config diff of file @path against running @run, as sluicectl and sluiced do it. */
static struct json_object *diff_compared(const struct sl_config *run,
					 const char *path,
					 const char *const *secrets,
					 size_t n_secrets)
{
	struct json_object *req = json_object_new_object(), *d;
	struct compared c = { .out = json_object_new_object(), .run = run };
	struct sl_state st;
	char err[ERR_MAX], *dump = NULL;
	struct sl_config file;
	const char *out;
	size_t k;

	load_ok(path, NULL, &file);
	sl_cli_config_compare_arg(req, &file);
	CHECK_NONNULL(CHECK_HERE, json_object_object_get(req, "compare"));
	sl_settings_undumped(&file, compare_one, &c);
	CHECK_INT(CHECK_HERE, sl_state_from_config(&st, run, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, sl_config_dump_str(run, &st, &dump), 0);
	d = sl_cli_config_diff(dump, &file, c.out, err, sizeof(err));
	sl_config_free(&file);
	CHECK_NONNULL(CHECK_HERE, d);
	out = json_object_to_json_string(d);
	for (k = 0; k < n_secrets; k++) {
		CHECK_TRUE(out, "no password in config diff's result",
			   !strstr(out, secrets[k]));
		CHECK_TRUE(dump, "no password in the dump",
			   !strstr(dump, secrets[k]));
	}
	json_object_put(c.out);
	json_object_put(req);
	free(dump);
	sl_state_free(&st);
	return d;
}

/* The credentials' row of config diff @d, "" when there is none. */
static const char *cred_row(struct json_object *d, const char *name,
			    const char *side)
{
	struct json_object *arr = json_object_object_get(d, "restart"), *o;
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++) {
		o = json_object_array_get_idx(arr, i);
		if (!strcmp(json_object_get_string(
				    json_object_object_get(o, "setting")),
			    name))
			return json_object_get_string(
				json_object_object_get(o, side));
	}
	return "";
}

/*
 * config dump leaves the etcd credentials out, so config diff sends the
 * file's to sluiced, which says which differ: a rotated password, added
 * or removed credentials are listed (shown as set, never as text), the
 * same ones are not, and a sluiced that does not compare them is said.
 */
static void test_config_diff_credentials(void **state)
{
	static const char *const secrets[] = { "old-pw-4242", "new-pw-4343" };
	char ca[96], err[ERR_MAX];
	struct sl_config run, none, file;
	struct json_object *d;
	bool set;

	(void)state;
	snprintf(ca, sizeof(ca), "%s/ca1.pem", tmp_dir);
	write_file(ca, "ca 1\n");
	load_cluster(tmp_b, ca, NULL, &none);
	load_cluster(tmp_a, ca, secrets[0], &run);

	/* The same file: nothing differs. */
	d = diff_compared(&run, tmp_a, secrets, 1);
	CHECK_INT("same credentials",
		  json_object_get_boolean(json_object_object_get(d, "same")),
		  1);
	json_object_put(d);
	/* A rotated password. */
	load_cluster(tmp_b, ca, secrets[1], &file);
	sl_config_free(&file);
	d = diff_compared(&run, tmp_b, secrets, 2);
	CHECK_INT("rotated",
		  json_object_get_boolean(json_object_object_get(d, "same")),
		  0);
	CHECK_STR("rotated: running",
		  cred_row(d, "cluster.password", "running"), "(set)");
	CHECK_STR("rotated: file", cred_row(d, "cluster.password", "file"),
		  "(set, another)");
	CHECK_STR("rotated: same user", cred_row(d, "cluster.username", "file"),
		  "");
	json_object_put(d);
	/* Credentials removed, then added. */
	load_cluster(tmp_b, ca, NULL, &file);
	sl_config_free(&file);
	d = diff_compared(&run, tmp_b, secrets, 1);
	CHECK_STR("removed: running",
		  cred_row(d, "cluster.password", "running"), "(set)");
	CHECK_STR("removed: file", cred_row(d, "cluster.password", "file"), "");
	CHECK_STR("removed: user", cred_row(d, "cluster.username", "running"),
		  "(set)");
	json_object_put(d);
	d = diff_compared(&none, tmp_a, secrets, 1);
	CHECK_STR("added: running", cred_row(d, "cluster.password", "running"),
		  "");
	CHECK_STR("added: file", cred_row(d, "cluster.password", "file"),
		  "(set)");
	json_object_put(d);

	/* A sluiced that does not compare them: said, not taken as the same. */
	d = sl_cli_config_diff(
		"interfaces: [{name: eth0}]\nencap: {source_v4: 198.18.0.1}\n",
		&run, NULL, err, sizeof(err));
	CHECK_NONNULL(CHECK_HERE, d);
	CHECK_INT("not compared",
		  (int)json_object_array_length(
			  json_object_object_get(d, "not_compared")),
		  2);
	json_object_put(d);

	/* Only the undumped settings are compared. */
	CHECK_INT("a dumped setting",
		  sl_setting_undumped_differs(&run, "cluster.ca_file", ca,
					      &set),
		  -ENOENT);
	CHECK_INT("no such setting",
		  sl_setting_undumped_differs(&run, "nope", "", &set), -ENOENT);
	CHECK_INT("same user",
		  sl_setting_undumped_differs(&run, "cluster.username", "u",
					      &set),
		  0);
	CHECK_INT("running user set", set, 1);
	CHECK_INT("other user",
		  sl_setting_undumped_differs(&none, "cluster.username", "u",
					      &set),
		  1);
	CHECK_INT("running user unset", set, 0);
	unlink(ca);
	sl_config_free(&run);
	sl_config_free(&none);
}

/* --- state differences ------------------------------------------------- */

static void test_state_diff_lines(void **state)
{
	struct sl_config a, b;
	struct sl_state sa, sb;
	struct lines l = { .n = 0 };
	char err[ERR_MAX];

	(void)state;
	load_ok(tmp_a, "interfaces: [{name: eth0}]\nencap: {source_v4: 198.18.0.1}\n"
		       "vips:\n"
		       "  - vip: 198.18.0.100:80/tcp\n"
		       "    backends: [{address: 198.18.1.10}, {address: 198.18.1.11}]\n"
		       "  - vip: 198.18.0.101:80/tcp\n", &a);
	load_ok(tmp_b, "interfaces: [{name: eth0}]\nencap: {source_v4: 198.18.0.1}\n"
		       "vips:\n"
		       "  - vip: 198.18.0.100:80/tcp\n"
		       "    health_check: {type: tcp}\n"
		       "    backends: [{address: 198.18.1.10, weight: 5}, {address: 198.18.1.12}]\n"
		       "  - vip: 198.18.0.102:80/tcp\n"
		       "    backends: [{address: 198.18.1.13}]\n", &b);
	CHECK_INT(CHECK_HERE, sl_state_from_config(&sa, &a, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, sl_state_from_config(&sb, &b, err, sizeof(err)),
		  0);
	CHECK_INT("count", sl_state_diff(&sa, &sb, collect_line, &l), 8);
	CHECK_STR("hc", l.text[0], "health check of 198.18.0.100:80/tcp: none -> "
		  "tcp every 2s timeout 1s rise 2 fall 3 on_down keep");
	CHECK_STR("weight", l.text[1], "weight of backend 198.18.1.10 on 198.18.0.100:80/tcp: 100 -> 5");
	/* Backends inherit the VIP's check: each says so. */
	CHECK_CONTAINS("be hc", l.text[2], "health check of backend 198.18.1.10 on 198.18.0.100:80/tcp: none -> tcp");
	CHECK_STR("added be", l.text[3], "added backend 198.18.1.12 to 198.18.0.100:80/tcp (weight 100)");
	CHECK_STR("removed be", l.text[4], "removed backend 198.18.1.11 from 198.18.0.100:80/tcp");
	CHECK_STR("added vip", l.text[5], "added VIP 198.18.0.102:80/tcp");
	CHECK_STR("added vip be", l.text[6], "added backend 198.18.1.13 to 198.18.0.102:80/tcp (weight 100)");
	CHECK_STR("removed vip", l.text[7], "removed VIP 198.18.0.101:80/tcp");
	CHECK_INT("same", sl_state_diff(&sa, &sa, NULL, NULL), 0);
	/* No check on either side: its unused settings are no change. */
	sb.vips[0].hc = sa.vips[0].hc;
	sb.vips[0].hc.interval_ms += 1000;
	sb.vips[0].hc.rise += 1;
	CHECK_INT("none -> none",
		  sl_health_cfg_equal(&sa.vips[0].hc, &sb.vips[0].hc), 1);
	sl_state_free(&sa);
	sl_state_free(&sb);
	sl_config_free(&a);
	sl_config_free(&b);
}

static void test_set_weight(void **state)
{
	struct sl_config a;
	struct sl_state st;
	struct sl_vip_spec vip, other;
	struct sluice_addr be, nobe;
	char err[ERR_MAX];
	__u32 old = 99;
	__u8 fam;

	(void)state;
	load_ok(tmp_a, rich, &a);
	CHECK_INT(CHECK_HERE, sl_state_from_config(&st, &a, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE,
		  sl_parse_vip("198.18.0.100:80/tcp", &vip, NULL, 0), 0);
	CHECK_INT(CHECK_HERE,
		  sl_parse_vip("198.18.0.109:80/tcp", &other, NULL, 0), 0);
	CHECK_INT(CHECK_HERE, sl_parse_addr("198.18.1.10", &be, &fam), 0);
	CHECK_INT(CHECK_HERE, sl_parse_addr("198.18.1.99", &nobe, &fam), 0);
	CHECK_INT("too big", sl_state_be_set_weight(&st, &vip, &be, fam, 10001, &old, err,
						    sizeof(err)), -EINVAL);
	CHECK_CONTAINS("too big", err, "weight 10001 is out of range (0..10000)");
	CHECK_INT("no vip", sl_state_be_set_weight(&st, &other, &be, fam, 1, &old, err,
						   sizeof(err)), -ENOENT);
	CHECK_STR("no vip", err, "no such VIP");
	CHECK_INT("no be", sl_state_be_set_weight(&st, &vip, &nobe, fam, 1, &old, err,
						  sizeof(err)), -ENOENT);
	CHECK_INT("untouched", old, 99);
	CHECK_INT("max", sl_state_be_set_weight(&st, &vip, &be, fam, 10000, &old, err,
						sizeof(err)), 0);
	CHECK_INT("old", old, 0);
	CHECK_INT("new", sl_vip_find_be(sl_state_find_vip(&st, &vip), &be, fam)->weight, 10000);
	sl_state_free(&st);
	sl_config_free(&a);
}

/* --- sluicectl config diff --------------------------------------------- */

static void test_cli_config_diff(void **state)
{
	struct json_object *d;
	struct sl_config file;
	char err[ERR_MAX];
	const char *running =
		"interfaces: [{name: eth0}]\nencap: {source_v4: 198.18.0.1}\n"
		"vips: [{vip: 198.18.0.100:80/tcp, backends: [{address: 198.18.1.10}]}]\n";

	(void)state;
	load_ok(tmp_a, running, &file);
	d = sl_cli_config_diff(running, &file, NULL, err, sizeof(err));
	sl_config_free(&file);
	CHECK_NONNULL(CHECK_HERE, d);
	CHECK_INT("same", json_object_get_boolean(json_object_object_get(d, "same")), 1);
	json_object_put(d);

	load_ok(tmp_a,
		"interfaces: [{name: eth0}]\nencap: {source_v4: 198.18.0.1}\n"
		"maglev: {seed: 3}\n"
		"vips: [{vip: 198.18.0.100:80/tcp, backends: [{address: 198.18.1.10, weight: 1}]}]\n",
		&file);
	d = sl_cli_config_diff(running, &file, NULL, err, sizeof(err));
	CHECK_NONNULL(CHECK_HERE, d);
	CHECK_INT("differs", json_object_get_boolean(json_object_object_get(d, "same")), 0);
	CHECK_STR("change", json_object_get_string(json_object_array_get_idx(
		json_object_object_get(d, "changes"), 0)),
		"weight of backend 198.18.1.10 on 198.18.0.100:80/tcp: 100 -> 1");
	CHECK_STR("restart", json_object_get_string(json_object_object_get(
		json_object_array_get_idx(json_object_object_get(d, "restart"), 0), "setting")),
		"maglev.seed");
	json_object_put(d);

	/*
	 * A running side that does not load: no result, and the message says
	 * which side (a bad or missing file is refused before any call:
	 * t_ops_config_dump_roundtrip).
	 */
	CHECK_NULL(CHECK_HERE,
		   sl_cli_config_diff("interfaces: [{name: eth0}]\n"
				      "flows: {table_size: lots}\n",
				      &file, NULL, err, sizeof(err)));
	CHECK_CONTAINS("bad running side", err,
		       "sluiced's running configuration does not load");
	CHECK_CONTAINS("bad running side", err, "flows.table_size");
	sl_config_free(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_dump_cluster),
		cmocka_unit_test(test_dump_runtime_state),
		cmocka_unit_test(test_settings_diff),
		cmocka_unit_test(test_settings_diff_cluster),
		cmocka_unit_test(test_config_diff_credentials),
		cmocka_unit_test(test_state_diff_lines),
		cmocka_unit_test(test_set_weight),
		cmocka_unit_test(test_cli_config_diff),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
