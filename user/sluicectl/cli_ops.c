// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluicectl's operator commands: reload, config dump and diff, backend set
 * and status, flows, and the table fingerprints of status. Output for
 * people; -j prints sluiced's result as JSON instead.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "json_get.h"
#include "config.h"
#include "ctl.h"
#include "persist.h"
#include "settings.h"
#include "state_diff.h"

#include "array.h"

/* Daemon and file text goes to a terminal: no escape sequences through. */
static void put_clean(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc(isprint((unsigned char)*s) ? *s : '?', f);
}

static void put_lines(FILE *f, struct json_object *arr, const char *indent)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++) {
		fputs(indent, f);
		put_clean(f, json_object_get_string(json_object_array_get_idx(arr, i)));
		fputc('\n', f);
	}
}

/* "flows.table_size: running 1048576, file 2097152" per restart-only setting. */
static void put_restart(FILE *f, struct json_object *arr)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);

		fputs("  ", f);
		put_clean(f, sl_cli_json_str(o, SL_CTL_KEY_SETTING));
		fputs(": running \"", f);
		put_clean(f, sl_cli_json_str(o, SL_CTL_KEY_RUNNING));
		fputs("\", file \"", f);
		put_clean(f, sl_cli_json_str(o, SL_CTL_KEY_FILE));
		fputs("\"\n", f);
		if (sl_cli_json_str(o, SL_CTL_KEY_NOTE)) {
			fputs("    note: ", f);
			put_clean(f, sl_cli_json_str(o, SL_CTL_KEY_NOTE));
			fputc('\n', f);
		}
	}
}

/* --- reload --------------------------------------------------------------- */

int sl_cli_call_timeout_ms(const struct sl_cli_cmd *cmd)
{
	if (cmd->verb && cmd->verb->run == sl_cli_run_reload)
		return SL_CLI_RELOAD_TIMEOUT_MS;
	return SL_CLI_CALL_TIMEOUT_MS;
}

void sl_cli_print_reload(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			 struct json_object *result)
{
	struct json_object *changes = json_object_object_get(result, SL_CTL_KEY_CHANGES);
	struct json_object *restart = json_object_object_get(result, SL_CTL_KEY_RESTART);
	size_t n = json_object_array_length(changes);

	(void)cmd;
	fputs("reloaded ", io->out);
	put_clean(io->out, sl_cli_json_str(result, SL_CTL_KEY_FILE));
	if (n)
		fprintf(io->out, ": %zu change%s\n", n, n == 1 ? "" : "s");
	else
		fprintf(io->out, ": no changes\n");
	put_lines(io->out, changes, "  ");
	if (json_object_array_length(restart)) {
		fprintf(io->out, "waiting for a restart (read at start only):\n");
		put_restart(io->out, restart);
	}
}

/*
 * The error once on stderr; with -j, one JSON document on stdout: the
 * reload's result ("applied": false, "rejected") with "ok", "error" and
 * "hint" as every other failed command has them.
 */
static void reload_rejected(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			    struct json_object *result)
{
	static const char hint[] = "nothing changed; fix the file and run sluicectl "
				   "reload again (sluiced --check -c FILE checks it first)";
	struct sl_cli_cmd quiet = *cmd;
	const char *why = sl_cli_json_str(result, SL_CTL_KEY_REJECTED) ?: "rejected";
	char line[1024];

	quiet.json = false;
	sl_cli_report(io, &quiet, why, hint);
	if (!cmd->json)
		return;
	snprintf(line, sizeof(line), "cannot reload the configuration: %s", why);
	json_object_object_add(result, "ok", json_object_new_boolean(0));
	json_object_object_add(result, "error", json_object_new_string(line));
	json_object_object_add(result, "hint", json_object_new_string(hint));
	sl_cli_print_json(io->out, result);
}

int sl_cli_run_reload(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io)
{
	struct json_object *reply, *result, *applied;
	int ret;

	ret = sl_cli_call_result(cmd, io, cmd->req, &reply, &result);
	if (ret)
		return ret;
	if (!json_object_object_get_ex(result, SL_CTL_KEY_APPLIED, &applied) ||
	    !json_object_is_type(applied, json_type_boolean)) {
		sl_cli_report(io, cmd, "sluiced's reply has no \"applied\"", NULL);
		json_object_put(reply);
		return SL_CLI_EXIT_FAIL;
	}
	if (!json_object_get_boolean(applied)) {
		reload_rejected(io, cmd, result);
		json_object_put(reply);
		return SL_CLI_EXIT_FAIL;
	}
	if (cmd->json)
		sl_cli_print_json(io->out, result);
	else
		sl_cli_print_reload(io, cmd, result);
	json_object_put(reply);
	return SL_CLI_EXIT_OK;
}

/* --- config dump and diff --------------------------------------------------- */

void sl_cli_print_config_dump(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			      struct json_object *result)
{
	(void)cmd;
	/* Written as is: it is a file, meant for redirection. */
	fputs(sl_cli_json_str(result, SL_CTL_KEY_YAML) ?: "", io->out);
}

/* Load YAML text through the config loader, from a memfd (no temp file). */
static int load_text(const char *yaml, struct sl_config *cfg, char *err, size_t errlen)
{
	char path[64];
	size_t len = strlen(yaml), off = 0;
	ssize_t n;
	int fd, rc;

	fd = memfd_create("sluice-running", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot hold the running configuration: %s", strerror(errno));
		return -errno;
	}
	while (off < len) {
		n = write(fd, yaml + off, len - off);
		if (n <= 0) {
			snprintf(err, errlen, "cannot hold the running configuration: %s",
				 strerror(errno));
			close(fd);
			return -EIO;
		}
		off += n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = sl_config_load(path, cfg, err, errlen);
	close(fd);
	return rc;
}

static void diff_line(void *ctx, const char *line)
{
	json_object_array_add(ctx, json_object_new_string(line));
}

/* VIPs as states, so both sides compare exactly as a reload would see them. */
static int diff_states(const struct sl_config *run, const struct sl_config *file,
		       struct json_object *changes, char *err, size_t errlen)
{
	struct sl_state a, b;
	int rc;

	rc = sl_state_from_config(&a, run, err, errlen);
	if (rc)
		return rc;
	rc = sl_state_from_config(&b, file, err, errlen);
	if (!rc) {
		sl_state_diff(&a, &b, diff_line, changes);
		sl_state_free(&b);
	}
	sl_state_free(&a);
	return rc;
}

/*
 * The running side is a dump, which leaves the etcd credentials out: they
 * read as unset there, so comparing them here would report every box with
 * etcd authentication as differing. sluiced compares them (add_undumped()).
 */
static void diff_setting(void *arr, const char *name, const char *running,
			 const char *file)
{
	if (sl_setting_dumped(name))
		sl_ctl_setting_add(arr, name, running, file);
}

static void put_compare(void *cmp, const char *name, const char *text)
{
	json_object_object_add(cmp, name, json_object_new_string(text));
}

void sl_cli_config_compare_arg(struct json_object *req,
			       const struct sl_config *file)
{
	struct json_object *cmp = json_object_new_object();

	sl_settings_undumped(file, put_compare, cmp);
	json_object_object_add(req, SL_CTL_KEY_COMPARE, cmp);
}

struct undumped {
	struct json_object *compared, *restart, *not_compared;
};

/* An undumped setting as sluiced compared it, shown as a secret is. */
static void add_undumped(void *ctx, const char *name, const char *text)
{
	struct undumped *u = ctx;
	const char *running, *file;
	struct json_object *c;

	if (!json_object_object_get_ex(u->compared, name, &c)) {
		json_object_array_add(u->not_compared,
				      json_object_new_string(name));
		return;
	}
	if (!sl_json_true(c, SL_CTL_KEY_DIFFERS))
		return;
	sl_setting_secret_shown(sl_json_true(c, SL_CTL_KEY_RUNNING_SET),
				text[0], &running, &file);
	sl_ctl_setting_add(u->restart, name, running, file);
}

struct json_object *sl_cli_config_diff(const char *running_yaml,
				       const struct sl_config *file,
				       struct json_object *compared, char *err,
				       size_t errlen)
{
	struct json_object *res, *changes, *restart;
	struct undumped u = { .compared = compared };
	struct sl_config run;
	char lerr[1024];
	int rc;

	if (load_text(running_yaml, &run, lerr, sizeof(lerr))) {
		snprintf(err, errlen, "sluiced's running configuration does not load: %s", lerr);
		return NULL;
	}
	res = json_object_new_object();
	changes = json_object_new_array();
	restart = json_object_new_array();
	rc = diff_states(&run, file, changes, err, errlen);
	sl_settings_diff(&run, file, diff_setting, restart);
	u.restart = restart;
	u.not_compared = json_object_new_array();
	sl_settings_undumped(file, add_undumped, &u);
	sl_config_free(&run);
	json_object_object_add(res, "same", json_object_new_boolean(
		!json_object_array_length(changes) && !json_object_array_length(restart)));
	json_object_object_add(res, SL_CTL_KEY_CHANGES, changes);
	json_object_object_add(res, SL_CTL_KEY_RESTART, restart);
	if (json_object_array_length(u.not_compared))
		json_object_object_add(res, SL_CTL_KEY_NOT_COMPARED,
				       u.not_compared);
	else
		json_object_put(u.not_compared);
	if (rc) {
		json_object_put(res);
		return NULL;
	}
	return res;
}

static void print_diff(FILE *f, const char *file, struct json_object *d)
{
	struct json_object *changes = json_object_object_get(d, SL_CTL_KEY_CHANGES);
	struct json_object *restart = json_object_object_get(d, SL_CTL_KEY_RESTART);

	if (sl_json_true(d, "same")) {
		fputs("no differences: ", f);
		put_clean(f, file);
		fputs(" matches the running configuration\n", f);
	}
	if (json_object_array_length(changes)) {
		fputs("from the running state to ", f);
		put_clean(f, file);
		fputs(" (sluicectl reload --exact applies these):\n", f);
		put_lines(f, changes, "  ");
	}
	if (json_object_array_length(restart)) {
		fputs("settings that differ (applied at the next restart):\n", f);
		put_restart(f, restart);
	}
	/* Said whatever else differs: "no differences" would not cover them. */
	if (json_object_object_get(d, SL_CTL_KEY_NOT_COMPARED)) {
		fputs("not compared: the etcd username and password (this sluiced does not "
		      "compare them; a reload reports them)\n",
		      f);
	}
}

int sl_cli_run_config_diff(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io)
{
	struct json_object *reply, *result, *d;
	struct sl_config file;
	const char *yaml;
	char err[1024];
	int ret;

	if (sl_config_load(cmd->file, &file, err, sizeof(err))) {
		sl_cli_report(io, cmd, err, NULL);
		return SL_CLI_EXIT_DIFF_TROUBLE;
	}
	sl_cli_config_compare_arg(cmd->req, &file);
	ret = sl_cli_call_result(cmd, io, cmd->req, &reply, &result);
	if (ret) {
		sl_config_free(&file);
		return SL_CLI_EXIT_DIFF_TROUBLE;
	}
	yaml = sl_cli_json_str(result, SL_CTL_KEY_YAML);
	d = yaml ? sl_cli_config_diff(
			   yaml, &file,
			   json_object_object_get(result, SL_CTL_KEY_COMPARED),
			   err, sizeof(err)) :
		   NULL;
	if (!yaml)
		snprintf(err, sizeof(err), "sluiced's reply has no \"%s\"", SL_CTL_KEY_YAML);
	json_object_put(reply);
	sl_config_free(&file);
	if (!d) {
		sl_cli_report(io, cmd, err, NULL);
		return SL_CLI_EXIT_DIFF_TROUBLE;
	}
	if (cmd->json)
		sl_cli_print_json(io->out, d);
	else
		print_diff(io->out, cmd->file, d);
	ret = sl_json_true(d, "same") ? SL_CLI_EXIT_OK : SL_CLI_EXIT_DIFFERS;
	json_object_put(d);
	return ret;
}

/* --- backends ----------------------------------------------------------------- */

void sl_cli_print_backend_set(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			      struct json_object *result)
{
	(void)cmd;
	fputs("backend ", io->out);
	put_clean(io->out, sl_cli_json_str(result, SL_CTL_KEY_BACKEND));
	fputs(" on ", io->out);
	put_clean(io->out, sl_cli_json_str(result, SL_CTL_KEY_VIP));
	fprintf(io->out, ": weight %lld -> %lld\n",
		(long long)json_object_get_int64(json_object_object_get(result, SL_CTL_KEY_OLD_WEIGHT)),
		(long long)json_object_get_int64(json_object_object_get(result, SL_CTL_KEY_WEIGHT)));
}

static void put_time(FILE *f, const char *label, __u64 unix_ms, __u64 now_ms)
{
	char buf[64];

	if (!unix_ms) {
		fprintf(f, "  %-14s -\n", label);
		return;
	}
	sl_cli_format_until(unix_ms, now_ms, buf, sizeof(buf));
	if (unix_ms <= now_ms) {
		sl_cli_format_idle(now_ms - unix_ms, buf, sizeof(buf));
		fprintf(f, "  %-14s %s ago\n", label, buf);
	} else {
		fprintf(f, "  %-14s in %s\n", label, buf);
	}
}

static __u64 u64_of(struct json_object *o, const char *key)
{
	return json_object_get_uint64(json_object_object_get(o, key));
}

/* One block per (VIP, backend): the drain and health details lists hide. */
static void print_one_status(FILE *f, struct json_object *o, __u64 now)
{
	const char *reason = sl_cli_json_str(o, "health_reason");
	bool draining = !strcmp(sl_cli_json_str(o, "state") ?: "", "draining");

	const char *name = sl_cli_json_str(o, "name");

	fputs("backend ", f);
	put_clean(f, sl_cli_json_str(o, "backend"));
	if (name && *name) {
		fputs(" (", f);
		put_clean(f, name);
		fputc(')', f);
	}
	fputs(" on ", f);
	put_clean(f, sl_cli_json_str(o, "vip"));
	fputs("\n  state          ", f);
	put_clean(f, sl_cli_json_str(o, "state"));
	if (sl_json_true(o, "timed_out"))
		fprintf(f, " (timed out with %llu flows left)",
			(unsigned long long)u64_of(o, "flows_left"));
	if (sl_json_true(o, "unverifiable"))
		fputs(" (the drain table had no room for all its flows: "
		      "ends at its deadline)",
		      f);
	fputs("\n  health         ", f);
	put_clean(f, sl_cli_json_str(o, "health"));
	fputs(" (check: ", f);
	put_clean(f, sl_cli_json_str(o, "health_check"));
	fputs(")\n  last failure   ", f);
	put_clean(f, reason && *reason ? reason : "-");
	/* While draining, the live flows are what the drain waits for. */
	fprintf(f, "\n  %-14s %llu\n", draining ? "flows left" : "flows",
		(unsigned long long)u64_of(o, "flows"));
	put_time(f, "drain started", u64_of(o, "drain_started_unix_ms"), now);
	if (draining)
		put_time(f, "deadline", u64_of(o, SL_CTL_KEY_DEADLINE), now);
	else
		fprintf(f, "  %-14s -\n", "deadline");
	fprintf(f, "  lost           %llu\n  evicted        %llu\n  rescued        %llu\n",
		(unsigned long long)u64_of(o, "lost"), (unsigned long long)u64_of(o, "evicted"),
		(unsigned long long)u64_of(o, "rescued"));
}

void sl_cli_print_backend_status(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
				 struct json_object *result)
{
	size_t i;

	(void)cmd;
	if (!json_object_is_type(result, json_type_array)) {
		sl_cli_print_json(io->out, result);
		return;
	}
	for (i = 0; i < json_object_array_length(result); i++) {
		if (i)
			fputc('\n', io->out);
		print_one_status(io->out, json_object_array_get_idx(result, i),
				 io->now_ms(io));
	}
}

/* --- flows and tables --------------------------------------------------------- */

void sl_cli_format_idle(__u64 ms, char *buf, size_t len)
{
	sl_format_duration(ms / 1000 * 1000, buf, len);
}

/* Rows with the columns people read: "client" as ADDR:PORT, idle as a duration. */
static struct json_object *flow_rows(struct json_object *flows)
{
	struct json_object *rows = json_object_new_array();
	char ep[SL_ADDR_STR_MAX + 16], d[SL_DURATION_STR_MAX];
	size_t i;

	for (i = 0; i < json_object_array_length(flows); i++) {
		struct json_object *f = json_object_array_get_idx(flows, i);
		struct json_object *o = json_object_new_object();
		const char *c = sl_cli_json_str(f, SL_CTL_KEY_CLIENT) ?: "?";
		int port = json_object_get_int(json_object_object_get(f, SL_CTL_KEY_CLIENT_PORT));

		snprintf(ep, sizeof(ep), strchr(c, ':') ? "[%s]:%d" : "%s:%d", c, port);
		json_object_object_add(o, "client", json_object_new_string(ep));
		json_object_object_add(o, "vip", json_object_get(json_object_object_get(f, SL_CTL_KEY_VIP)));
		json_object_object_add(o, "backend",
				       json_object_get(json_object_object_get(f, SL_CTL_KEY_BACKEND)));
		json_object_object_add(o, "state", json_object_get(json_object_object_get(f, SL_CTL_KEY_STATE)));
		sl_cli_format_idle(u64_of(f, SL_CTL_KEY_IDLE_MS), d, sizeof(d));
		json_object_object_add(o, "idle", json_object_new_string(d));
		sl_cli_format_idle(u64_of(f, SL_CTL_KEY_AGE_MS), d, sizeof(d));
		json_object_object_add(o, "age", json_object_new_string(d));
		json_object_array_add(rows, o);
	}
	return rows;
}

void sl_cli_print_flows(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			struct json_object *result)
{
	static const struct sl_cli_col cols[] = {
		{ "CLIENT", "client", SL_COL_TEXT },
		{ "VIP", "vip", SL_COL_TEXT },
		{ "BACKEND", "backend", SL_COL_TEXT },
		{ "STATE", "state", SL_COL_TEXT },
		{ "IDLE", "idle", SL_COL_NUM },
		{ "AGE", "age", SL_COL_NUM },
	};
	struct json_object *flows = json_object_object_get(result, SL_CTL_KEY_FLOWS);
	struct json_object *rows;

	if (!json_object_is_type(flows, json_type_array)) {
		sl_cli_print_json(io->out, result);
		return;
	}
	rows = flow_rows(flows);
	sl_cli_print_table(io->out, cols, ARRAY_SIZE(cols), rows, 0);
	json_object_put(rows);
	if (sl_json_true(result, SL_CTL_KEY_TRUNCATED))
		fprintf(io->out, "(first %zu shown; more match: raise --limit, up to %u)\n",
			json_object_array_length(flows), SL_CTL_FLOWS_LIMIT_MAX);
	else
		fprintf(io->out, "(%zu flow%s)\n", json_object_array_length(flows),
			json_object_array_length(flows) == 1 ? "" : "s");
	if (json_object_object_get_ex(result, SL_CTL_KEY_COMPLETE, NULL) &&
	    !sl_json_true(result, SL_CTL_KEY_COMPLETE))
		fprintf(io->out, "(the scan stopped after %llu entries to keep sluiced responsive: "
			"narrow it with a VIP or backend, or run it again)\n",
			(unsigned long long)u64_of(result, SL_CTL_KEY_SCANNED));
	(void)cmd;
}

void sl_cli_print_tables(FILE *f, struct json_object *status)
{
	static const struct sl_cli_col cols[] = {
		{ "VIP", SL_CTL_KEY_VIP, SL_COL_TEXT },
		{ "TABLE_FINGERPRINT", SL_CTL_KEY_FINGERPRINT, SL_COL_TEXT },
	};
	struct json_object *tables;

	if (!json_object_object_get_ex(status, SL_CTL_KEY_TABLES, &tables) ||
	    !json_object_is_type(tables, json_type_array) ||
	    !json_object_array_length(tables))
		return;
	fputc('\n', f);
	sl_cli_print_table(f, cols, ARRAY_SIZE(cols), tables, 0);
}
