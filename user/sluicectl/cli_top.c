/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sluicectl top: a live view of VIPs and backends. Every refresh asks
 * sluiced for vip.list and backend.list (and backend.status for the
 * deadlines of drains), and turns the counters of two successive answers
 * into rates per second. A terminal gets the screen cleared and redrawn
 * with plain ANSI sequences; a pipe or a log gets one block of lines per
 * refresh, headed by its time; -j gets one JSON object per line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ctl.h"
#include "json_get.h"

#include "array.h"
#define TEXT_MAX	128
#define KEY_MAX		(SL_VIP_STR_MAX + SL_ADDR_STR_MAX + 2)
/* Home the cursor, clear the screen: the whole redraw, no curses needed. */
#define ANSI_CLEAR	"\033[H\033[2J"

/* --- numbers ------------------------------------------------------------ */

bool sl_top_rate(__u64 prev, __u64 cur, __u64 dt_ms, double *rate)
{
	if (!dt_ms || cur < prev)
		return false;
	*rate = (double)(cur - prev) * 1000.0 / (double)dt_ms;
	return true;
}

void sl_top_format_rate(double rate, char *buf, size_t len)
{
	if (!(rate >= 0))		/* NaN too */
		snprintf(buf, len, "-");
	else if (rate == 0)
		snprintf(buf, len, "0");
	else if (rate < 9.95)
		snprintf(buf, len, "%.1f", rate);
	else
		snprintf(buf, len, "%.0f", rate);
}

static bool get_u64(struct json_object *o, const char *key, __u64 *v)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int))
		return false;
	*v = json_object_get_uint64(x);
	return true;
}

void sl_top_format_drain(struct json_object *row, __u64 now_ms, char *buf, size_t len)
{
	const char *state = sl_cli_json_str(row, "state");
	char until[SL_DURATION_STR_MAX];
	__u64 flows = 0, deadline = 0;

	buf[0] = '\0';
	if (!state)
		return;
	get_u64(row, "flows", &flows);
	get_u64(row, SL_CTL_KEY_DEADLINE, &deadline);
	if (!strcmp(state, "draining")) {
		if (!deadline) {
			snprintf(buf, len, "%llu left", (unsigned long long)flows);
		} else if (deadline <= now_ms) {
			snprintf(buf, len, "%llu left, deadline passed",
				 (unsigned long long)flows);
		} else {
			sl_cli_format_until(deadline, now_ms, until, sizeof(until));
			snprintf(buf, len, "%llu left, %s to deadline",
				 (unsigned long long)flows, until);
		}
	} else if (!strcmp(state, "drained")) {
		if (sl_json_true(row, "timed_out"))
			snprintf(buf, len, "timed out, %llu left", (unsigned long long)flows);
		else
			snprintf(buf, len, "done");
	}
}

/* --- rows --------------------------------------------------------------- */

static void row_key(struct json_object *row, bool backends, char *buf, size_t len)
{
	const char *vip = sl_cli_json_str(row, "vip"), *be = sl_cli_json_str(row, "backend");

	snprintf(buf, len, "%s %s", vip ? vip : "", backends && be ? be : "");
}

/* prev's rows by key, for one lookup per row instead of a scan. */
static struct json_object *index_rows(struct json_object *rows, bool backends)
{
	struct json_object *idx = json_object_new_object(), *row;
	char key[KEY_MAX];
	size_t i, n;

	if (!idx || !json_object_is_type(rows, json_type_array))
		return idx;
	n = json_object_array_length(rows);
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(rows, i);
		if (!json_object_is_type(row, json_type_object))
			continue;
		row_key(row, backends, key, sizeof(key));
		json_object_object_add(idx, key, json_object_get(row));
	}
	return idx;
}

/* key: a number with its own text (so tables and -j agree), or null. */
static void add_rate(struct json_object *o, const char *key, struct json_object *prev,
		     struct json_object *cur, const char *counter, __u64 dt_ms)
{
	char text[32];
	__u64 a, b;
	double r;

	if (!prev || !get_u64(prev, counter, &a) || !get_u64(cur, counter, &b) ||
	    !sl_top_rate(a, b, dt_ms, &r)) {
		json_object_object_add(o, key, NULL);
		return;
	}
	sl_top_format_rate(r, text, sizeof(text));
	json_object_object_add(o, key, json_object_new_double_s(r, text));
}

struct json_object *sl_top_rows(struct json_object *prev, struct json_object *cur,
				__u64 dt_ms, bool backends, __u64 now_ms)
{
	struct json_object *out, *idx = NULL, *row, *o, *p;
	char key[KEY_MAX], drain[TEXT_MAX];
	size_t i, n;

	if (!json_object_is_type(cur, json_type_array))
		return NULL;
	out = json_object_new_array();
	if (prev)
		idx = index_rows(prev, backends);
	if (!out || (prev && !idx)) {
		json_object_put(out);
		json_object_put(idx);
		return NULL;
	}
	n = json_object_array_length(cur);
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(cur, i);
		if (!json_object_is_type(row, json_type_object))
			continue;
		o = json_object_new_object();
		if (!o)
			break;
		json_object_object_foreach(row, k, v)
			json_object_object_add(o, k, json_object_get(v));
		p = NULL;
		if (idx) {
			row_key(row, backends, key, sizeof(key));
			json_object_object_get_ex(idx, key, &p);
		}
		add_rate(o, "new_per_s", p, row, "new_flows", dt_ms);
		add_rate(o, "packets_per_s", p, row, "packets", dt_ms);
		if (backends) {
			sl_top_format_drain(row, now_ms, drain, sizeof(drain));
			json_object_object_add(o, "drain", json_object_new_string(drain));
		}
		json_object_array_add(out, o);
	}
	json_object_put(idx);
	return out;
}

/* --- output ------------------------------------------------------------- */

static void utc_time(__u64 ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%llu", (unsigned long long)ms);
}

void sl_top_print(FILE *f, bool tty, __u64 now_ms, __u64 interval_ms,
		  struct json_object *vips, struct json_object *backends,
		  const char *note)
{
	static const struct sl_cli_col vip_cols[] = {
		{ "VIP", "vip", SL_COL_TEXT },
		{ "BACKENDS", "backends", SL_COL_NUM },
		{ "ACTIVE", "active", SL_COL_NUM },
		{ "FLOWS", "flows", SL_COL_NUM },
		{ "NEW/S", "new_per_s", SL_COL_NUM },
		{ "PKTS/S", "packets_per_s", SL_COL_NUM },
	};
	static const struct sl_cli_col be_cols[] = {
		{ "VIP", "vip", SL_COL_TEXT },
		{ "BACKEND", "backend", SL_COL_TEXT },
		{ "STATE", "state", SL_COL_TEXT },
		{ "HEALTH", "health", SL_COL_TEXT },
		{ "WEIGHT", "weight", SL_COL_NUM },
		{ "FLOWS", "flows", SL_COL_NUM },
		{ "NEW/S", "new_per_s", SL_COL_NUM },
		{ "PKTS/S", "packets_per_s", SL_COL_NUM },
		{ "DRAIN", "drain", SL_COL_TEXT },
	};
	char when[32], every[SL_DURATION_STR_MAX];

	utc_time(now_ms, when, sizeof(when));
	if (sl_format_duration(interval_ms, every, sizeof(every)))
		snprintf(every, sizeof(every), "%llums", (unsigned long long)interval_ms);
	if (tty)
		fprintf(f, ANSI_CLEAR "sluice top  %s  every %s  (Ctrl-C quits)\n\n", when, every);
	else
		fprintf(f, "# %s sluice top, every %s\n", when, every);
	if (note) {
		fputs("sluicectl: ", f);
		for (; *note; note++)
			fputc(isprint((unsigned char)*note) ? *note : '?', f);
		fputc('\n', f);
	}
	if (vips) {
		sl_cli_print_table(f, vip_cols, ARRAY_SIZE(vip_cols), vips, now_ms);
		fputc('\n', f);
	}
	if (backends) {
		sl_cli_print_table(f, be_cols, ARRAY_SIZE(be_cols), backends, now_ms);
		if (!tty)
			fputc('\n', f);
	}
	fflush(f);
}

/* --- the loop ----------------------------------------------------------- */

struct top {
	const struct sl_cli_cmd *cmd;
	const struct sl_cli_io *io;
	bool tty;
	__u64 interval_ms;
	struct json_object *prev_vips, *prev_bes;	/* last lists, for rates */
	__u64 prev_mono_ms; /* boot clock: rates, unbent by a clock step */
	int call_err;		/* -errno of the last failed call, or 0 */
};

static bool stopped(const struct sl_cli_io *io)
{
	return io->stop && *io->stop;
}

/* One call; the result (a new reference) or NULL with *msg set. */
static struct json_object *call(struct top *t, struct json_object *req, char *msg,
				size_t len)
{
	struct json_object *reply = NULL, *result, *ret = NULL;
	const char *error, *hint;
	int rc;

	rc = t->io->call(t->io, req, &reply);
	t->call_err = rc;
	if (rc) {
		snprintf(msg, len, "talking to sluiced on %s: %s", t->cmd->sock, strerror(-rc));
		json_object_put(reply);
		return NULL;
	}
	switch (sl_cli_check_reply(reply, &result, &error, &hint)) {
	case SL_REPLY_OK:
		ret = json_object_get(result);
		break;
	case SL_REPLY_ERROR:
		snprintf(msg, len, "%s", error);
		break;
	default:
		snprintf(msg, len, "malformed reply from sluiced");
		break;
	}
	json_object_put(reply);
	return ret;
}

static struct json_object *request(const char *cmd, const char *vip, const char *backend)
{
	struct json_object *req = json_object_new_object();

	if (!req)
		return NULL;
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (vip && *vip)
		json_object_object_add(req, "vip", json_object_new_string(vip));
	if (backend)
		json_object_object_add(req, "backend", json_object_new_string(backend));
	return req;
}

/*
 * Lists do not carry drain deadlines: ask backend.status for those of the
 * draining and drained rows (a bounded number per refresh) and copy
 * deadline_unix_ms and timed_out into the row.
 */
static void add_drain_status(struct top *t, struct json_object *bes)
{
	struct json_object *row, *req, *st, *e, *v;
	const char *state, *vip, *be;
	char msg[TEXT_MAX];
	size_t i, n, asked = 0;

	n = json_object_array_length(bes);
	for (i = 0; i < n && asked < SL_TOP_STATUS_MAX; i++) {
		row = json_object_array_get_idx(bes, i);
		state = sl_cli_json_str(row, "state");
		vip = sl_cli_json_str(row, "vip");
		be = sl_cli_json_str(row, "backend");
		if (!state || !vip || !be || !strcmp(state, "active") ||
		    json_object_object_get_ex(row, SL_CTL_KEY_DEADLINE, NULL))
			continue;
		req = request("backend.status", vip, be);
		if (!req)
			return;
		asked++;
		st = call(t, req, msg, sizeof(msg));
		json_object_put(req);
		e = json_object_is_type(st, json_type_array) ?
		    json_object_array_get_idx(st, 0) : NULL;
		if (e && json_object_object_get_ex(e, SL_CTL_KEY_DEADLINE, &v))
			json_object_object_add(row, SL_CTL_KEY_DEADLINE, json_object_get(v));
		if (e && json_object_object_get_ex(e, "timed_out", &v))
			json_object_object_add(row, "timed_out", json_object_get(v));
		json_object_put(st);
	}
}

/* vip.list has no filter: keep the VIP asked for. */
static struct json_object *only_vip(struct json_object *vips, const char *vip)
{
	struct json_object *out, *row;
	const char *v;
	size_t i, n;

	if (!vip[0] || !json_object_is_type(vips, json_type_array))
		return json_object_get(vips);
	out = json_object_new_array();
	n = json_object_array_length(vips);
	for (i = 0; out && i < n; i++) {
		row = json_object_array_get_idx(vips, i);
		v = sl_cli_json_str(row, "vip");
		if (v && !strcmp(v, vip))
			json_object_array_add(out, json_object_get(row));
	}
	return out;
}

static void print_json(struct top *t, __u64 now, struct json_object *vips,
		       struct json_object *bes)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return;
	json_object_object_add(o, "time_unix_ms", json_object_new_uint64(now));
	json_object_object_add(o, "vips", json_object_get(vips));
	json_object_object_add(o, "backends", json_object_get(bes));
	fprintf(t->io->out, "%s\n", json_object_to_json_string_ext(o,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(t->io->out);
	json_object_put(o);
}

/*
 * One refresh. Returns 0, or -1 with @msg set when sluiced could not be
 * asked (the previous lists are dropped: rates restart).
 */
static int refresh(struct top *t, char *msg, size_t len)
{
	struct json_object *req, *vips_all, *vips = NULL, *bes = NULL, *vrows, *brows;
	__u64 now, mono, dt;

	req = request(SL_CTL_CMD_VIP_LIST, NULL, NULL);
	vips_all = req ? call(t, req, msg, len) : NULL;
	json_object_put(req);
	if (vips_all) {
		vips = only_vip(vips_all, t->cmd->vip);
		bes = call(t, t->cmd->req, msg, len);	/* backend.list [VIP] */
	}
	json_object_put(vips_all);
	if (!vips || !json_object_is_type(bes, json_type_array)) {
		if (vips && bes)
			snprintf(msg, len, "malformed backend.list reply from sluiced");
		json_object_put(vips);
		json_object_put(bes);
		json_object_put(t->prev_vips);
		json_object_put(t->prev_bes);
		t->prev_vips = t->prev_bes = NULL;
		return -1;
	}
	add_drain_status(t, bes);
	now = t->io->now_ms(t->io);
	mono = t->io->mono_ms(t->io);
	dt = t->prev_bes && mono > t->prev_mono_ms ? mono - t->prev_mono_ms : 0;
	vrows = sl_top_rows(t->prev_vips, vips, dt, false, now);
	brows = sl_top_rows(t->prev_bes, bes, dt, true, now);
	if (t->cmd->json)
		print_json(t, now, vrows, brows);
	else
		sl_top_print(t->io->out, t->tty, now, t->interval_ms, vrows, brows, NULL);
	json_object_put(vrows);
	json_object_put(brows);
	json_object_put(t->prev_vips);
	json_object_put(t->prev_bes);
	t->prev_vips = vips;
	t->prev_bes = bes;
	t->prev_mono_ms = mono;
	return 0;
}

int sl_cli_run_top(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io)
{
	struct top t = {
		.cmd = cmd,
		.io = io,
		.tty = !cmd->json && isatty(fileno(io->out)) == 1,
		.interval_ms = cmd->has_interval ? cmd->interval_ms : SL_TOP_INTERVAL_MS,
	};
	char msg[TEXT_MAX * 2];
	__u32 i;
	int ret = SL_CLI_EXIT_OK;

	/* Without --count: until interrupted (SIGINT, or a closed pipe). */
	for (i = 0; !cmd->has_count || i < cmd->count; i++) {
		if (i)
			io->sleep_ms(io, t.interval_ms);
		if (stopped(io))
			break;
		if (!refresh(&t, msg, sizeof(msg))) {
			if (ferror(io->out))
				break;
			continue;
		}
		if (!i) {
			/* Nothing to show yet: say why, as other commands do. */
			if (t.call_err)
				sl_cli_report_call_error(io, cmd, t.call_err);
			else
				sl_cli_report(io, cmd, msg, NULL);
			ret = t.call_err == -EINTR ? SL_CLI_EXIT_INTERRUPTED : SL_CLI_EXIT_FAIL;
			break;
		}
		/* Later: keep the view up and retry; sluiced may be restarting. */
		if (cmd->json)
			sl_cli_report(io, cmd, msg, NULL);
		else
			sl_top_print(io->out, t.tty, io->now_ms(io), t.interval_ms, NULL,
				     NULL, msg);
		if (ferror(io->out))
			break;
	}
	json_object_put(t.prev_vips);
	json_object_put(t.prev_bes);
	return ret;
}
