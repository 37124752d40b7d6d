/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Unit tests for sluicectl top (user/sluicectl/cli_top.c) without a daemon:
 * rates from successive lists, their formatting, the drain column, the
 * command line, and whole runs over a scripted fake sluiced with a fake
 * clock (plain blocks, JSON lines, terminal redraw, lost contact).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/check.h"

#include "cli.h"

#include "array.h"
#define MAX_ARGV	12
#define T0		1700000000000ULL	/* the fake clock's start, Unix ms */
#define VIP		"198.18.0.100:80/tcp"

static int parse_line(const char *line, struct sl_cli_cmd *cmd, char *err, size_t errlen)
{
	static char buf[512];
	char *argv[MAX_ARGV + 1], *tok, *save;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	argv[argc++] = "sluicectl";
	for (tok = strtok_r(buf, " ", &save); tok && argc < MAX_ARGV;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return sl_cli_build_request(argc, argv, cmd, err, errlen);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

/* --- rates and formatting ----------------------------------------------- */

static void test_rate(void **state)
{
	static const struct {
		__u64 prev, cur, dt_ms;
		bool ok;
		double rate;
	} cases[] = {
		{ 100, 200, 1000, true, 100.0 },
		{ 100, 200, 500, true, 200.0 },
		{ 100, 200, 2000, true, 50.0 },
		{ 5, 5, 1000, true, 0.0 },
		{ 0, 1, 3000, true, 1.0 / 3 },
		{ 0, 18446744073709551615ULL, 1000, true, 18446744073709551615.0 },
		{ 100, 200, 0, false, 0 },		/* no interval */
		{ 200, 100, 1000, false, 0 },		/* went back: maps recreated */
	};
	double r;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		r = -1;
		CHECK_INT(CHECK_HERE,
			  sl_top_rate(cases[i].prev, cases[i].cur,
				      cases[i].dt_ms, &r),
			  cases[i].ok);
		if (cases[i].ok)
			CHECK(CHECK_HERE,
			      r >= cases[i].rate * (1 - 1e-9) &&
				      r <= cases[i].rate * (1 + 1e-9));
	}
}

static void test_format_rate(void **state)
{
	static const struct {
		double rate;
		const char *text;
	} cases[] = {
		{ 0, "0" }, { 0.04, "0.0" }, { 0.5, "0.5" }, { 1.0 / 3, "0.3" },
		{ 9.94, "9.9" }, { 9.96, "10" }, { 12.4, "12" }, { 99.5, "100" },
		{ 1234567.0, "1234567" }, { -1, "-" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		sl_top_format_rate(cases[i].rate, buf, sizeof(buf));
		CHECK_STR(CHECK_HERE, buf, cases[i].text);
	}
}

static void test_format_drain(void **state)
{
	static const struct {
		const char *row;
		const char *text;
	} cases[] = {
		{ "{\"state\":\"active\",\"flows\":9}", "" },
		{ "{\"state\":\"draining\",\"flows\":37,\"deadline_unix_ms\":1700000041000}",
		  "37 left, 41s to deadline" },
		{ "{\"state\":\"draining\",\"flows\":37,\"deadline_unix_ms\":1700000000500}",
		  "37 left, 1s to deadline" },
		{ "{\"state\":\"draining\",\"flows\":1,\"deadline_unix_ms\":1699999999000}",
		  "1 left, deadline passed" },
		{ "{\"state\":\"draining\",\"flows\":4}", "4 left" },
		{ "{\"state\":\"drained\",\"flows\":0,\"timed_out\":false}", "done" },
		{ "{\"state\":\"drained\",\"flows\":0}", "done" },
		{ "{\"state\":\"drained\",\"flows\":2,\"timed_out\":true}", "timed out, 2 left" },
		{ "{\"flows\":2}", "" },
	};
	struct json_object *row;
	char buf[128];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		row = json_tokener_parse(cases[i].row);
		CHECK_NONNULL(cases[i].row, row);
		sl_top_format_drain(row, T0, buf, sizeof(buf));
		CHECK_STR(cases[i].row, buf, cases[i].text);
		json_object_put(row);
	}
}

/* The rate text of one row's key, "null" when there is none. */
static const char *rate_of(struct json_object *rows, size_t i, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(json_object_array_get_idx(rows, i), key, &v);
	return json_object_to_json_string(v);
}

static void test_rows(void **state)
{
	struct json_object *prev, *cur, *rows;

	(void)state;
	prev = json_tokener_parse(
		"[{\"vip\":\"" VIP "\",\"backend\":\"198.18.20.11\",\"state\":\"active\",\"new_flows\":100,\"packets\":5000},"
		" {\"vip\":\"" VIP "\",\"backend\":\"198.18.20.12\",\"state\":\"draining\",\"flows\":5,\"new_flows\":7,\"packets\":900},"
		" {\"vip\":\"[fd00::100]:80/tcp\",\"backend\":\"198.18.20.11\",\"new_flows\":1,\"packets\":1}]");
	cur = json_tokener_parse(
		"[{\"vip\":\"[fd00::100]:80/tcp\",\"backend\":\"198.18.20.11\",\"new_flows\":3,\"packets\":31},"
		" {\"vip\":\"" VIP "\",\"backend\":\"198.18.20.11\",\"state\":\"active\",\"new_flows\":150,\"packets\":7000},"
		" {\"vip\":\"" VIP "\",\"backend\":\"198.18.20.12\",\"state\":\"draining\",\"flows\":4,\"new_flows\":7,\"packets\":100},"
		" {\"vip\":\"" VIP "\",\"backend\":\"198.18.20.13\",\"state\":\"active\",\"new_flows\":1,\"packets\":1}]");
	CHECK_NONNULL(CHECK_HERE, prev);
	CHECK_NONNULL(CHECK_HERE, cur);

	rows = sl_top_rows(prev, cur, 2000, true, T0);
	CHECK_NONNULL(CHECK_HERE, rows);
	CHECK_INT(CHECK_HERE, json_object_array_length(rows), 4);
	/* Matched by VIP and backend, not by position. */
	CHECK_STR(CHECK_HERE, rate_of(rows, 0, "new_per_s"), "1.0");
	CHECK_STR(CHECK_HERE, rate_of(rows, 0, "packets_per_s"), "15");
	CHECK_STR(CHECK_HERE, rate_of(rows, 1, "new_per_s"), "25");
	CHECK_STR(CHECK_HERE, rate_of(rows, 1, "packets_per_s"), "1000");
	CHECK_STR(CHECK_HERE, rate_of(rows, 2, "new_per_s"), "0");
	CHECK_STR(CHECK_HERE, rate_of(rows, 2, "packets_per_s"),
		  "null"); /* went back */
	CHECK_STR(CHECK_HERE, rate_of(rows, 3, "new_per_s"),
		  "null"); /* new backend */
	CHECK_STR(CHECK_HERE, rate_of(rows, 2, "drain"), "\"4 left\"");
	CHECK_STR(CHECK_HERE, rate_of(rows, 1, "drain"), "\"\"");
	/* The list's own fields are kept. */
	CHECK_STR(CHECK_HERE, rate_of(rows, 1, "backend"), "\"198.18.20.11\"");
	json_object_put(rows);

	/* First refresh, or no time between the two: no rates. */
	rows = sl_top_rows(NULL, cur, 1000, true, T0);
	CHECK_STR(CHECK_HERE, rate_of(rows, 1, "new_per_s"), "null");
	json_object_put(rows);
	rows = sl_top_rows(prev, cur, 0, true, T0);
	CHECK_STR(CHECK_HERE, rate_of(rows, 1, "packets_per_s"), "null");
	json_object_put(rows);

	/* VIP rows match by VIP alone and have no drain column. */
	rows = sl_top_rows(prev, cur, 1000, false, T0);
	CHECK_STR(CHECK_HERE, rate_of(rows, 0, "drain"), "null");
	json_object_put(rows);

	/* Not a list: nothing to show. */
	rows = json_object_new_object();
	CHECK_NULL(CHECK_HERE, sl_top_rows(prev, rows, 1000, true, T0));
	CHECK_NULL(CHECK_HERE, sl_top_rows(prev, NULL, 1000, true, T0));
	json_object_put(rows);
	json_object_put(prev);
	json_object_put(cur);
}

/* --- the command line --------------------------------------------------- */

static void test_cmdline(void **state)
{
	static const struct {
		const char *line;
		const char *err;	/* NULL: accepted */
	} bad[] = {
		{ "top --interval 10ms", "--interval: invalid duration \"10ms\" (expected 100ms to 1h)" },
		{ "top --interval 2h", "--interval: invalid duration \"2h\" (expected 100ms to 1h)" },
		{ "top --interval soon", "--interval:" },
		{ "top --interval", "--interval: missing DURATION" },
		{ "top --count 0", "--count: invalid count \"0\" (expected an integer from 1 to 1000000)" },
		{ "top --count -1", "--count: invalid count \"-1\"" },
		{ "top --count 1x", "--count: invalid count \"1x\"" },
		{ "top --count 10000000", "--count: invalid count" },
		{ "top --wait", "option --wait does not apply to top (it takes --interval DURATION, --count N)" },
		{ "backend list --count 2", "option --count does not apply to backend list" },
		{ "top 198.18.20.11", "198.18.20.11" },
		{ "top " VIP " " VIP, "top: unexpected argument" },
		{ "--count 2 top", "option --count goes after the command" },
	};
	struct sl_cli_cmd cmd;
	char err[256];
	size_t i;

	(void)state;
	CHECK_INT(CHECK_HERE, parse_line("top", &cmd, err, sizeof(err)), 0);
	CHECK_STR(CHECK_HERE, cmd.verb->object, "top");
	CHECK_NOT(CHECK_HERE, cmd.has_interval);
	CHECK_NOT(CHECK_HERE, cmd.has_count);
	CHECK_STR(CHECK_HERE,
		  json_object_to_json_string_ext(cmd.req,
						 JSON_C_TO_STRING_PLAIN),
		  "{\"cmd\":\"backend.list\"}");
	sl_cli_cmd_free(&cmd);

	CHECK_INT(CHECK_HERE,
		  parse_line("-j top " VIP " --interval=250ms --count 3", &cmd,
			     err, sizeof(err)),
		  0);
	CHECK(CHECK_HERE, cmd.json);
	CHECK(CHECK_HERE, cmd.has_interval);
	CHECK_INT(CHECK_HERE, cmd.interval_ms, 250);
	CHECK(CHECK_HERE, cmd.has_count);
	CHECK_INT(CHECK_HERE, cmd.count, 3);
	CHECK_STR(CHECK_HERE, cmd.vip, VIP);
	CHECK_STR(CHECK_HERE,
		  json_object_to_json_string_ext(
			  cmd.req, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE),
		  "{\"cmd\":\"backend.list\",\"vip\":\"" VIP "\"}");
	sl_cli_cmd_free(&cmd);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_INT(bad[i].line,
			  parse_line(bad[i].line, &cmd, err, sizeof(err)),
			  -EINVAL);
		if (!strstr(err, bad[i].err)) {
			print_error("\"%s\": error \"%s\", expected \"%s\"\n", bad[i].line, err,
				    bad[i].err);
			fail();
		}
		sl_cli_cmd_free(&cmd);
	}
}

static void test_help(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	sl_cli_help(f, NULL);
	fclose(f);
	CHECK_CONTAINS(CHECK_HERE, buf,
		       "top [VIP] [--interval DURATION] [--count N]");
	CHECK_CONTAINS(CHECK_HERE, buf, "--interval DURATION");
	free(buf);
}

/* --- whole runs over a fake sluiced ------------------------------------- */

struct fake {
	__u64 now; /* boot clock */
	__u64 wall_step; /* the wall clock's offset from it */
	int step_after; /* the wall clock steps after this refresh */
	int refresh;		/* vip.list calls so far */
	int status_calls;
	int sleeps;
	int fail_refresh;	/* calls of this refresh fail (0: none) */
	int fail_err;
	int stop_after;		/* set *stop in the sleep after this refresh */
	volatile sig_atomic_t stop;
};

static int fake_call(const struct sl_cli_io *io, struct json_object *req,
		     struct json_object **reply)
{
	struct fake *f = io->ctx;
	struct json_object *c;
	const char *cmd;
	char text[2048];
	int r;

	CHECK(CHECK_HERE, json_object_object_get_ex(req, "cmd", &c));
	cmd = json_object_get_string(c);
	if (!strcmp(cmd, "vip.list"))
		f->refresh++;
	r = f->refresh;
	if (f->fail_refresh == r || f->fail_refresh < 0)
		return f->fail_err;
	if (!strcmp(cmd, "vip.list")) {
		snprintf(text, sizeof(text),
			 "{\"ok\":true,\"result\":[{\"vip\":\"" VIP "\",\"backends\":2,\"active\":1,"
			 "\"flows\":%d,\"new_flows\":%d,\"packets\":%d,\"bytes\":1},"
			 "{\"vip\":\"[fd00::100]:443/udp\",\"backends\":0,\"active\":0,\"flows\":0,"
			 "\"new_flows\":0,\"packets\":0,\"bytes\":0}]}",
			 60 - 10 * r, 100 * r, 3000 * r);
	} else if (!strcmp(cmd, "backend.list")) {
		snprintf(text, sizeof(text),
			 "{\"ok\":true,\"result\":["
			 "{\"vip\":\"" VIP "\",\"backend\":\"198.18.20.11\",\"state\":\"active\","
			 "\"health\":\"up\",\"weight\":100,\"flows\":20,\"new_flows\":%d,"
			 "\"packets\":%d,\"bytes\":1},"
			 "{\"vip\":\"" VIP "\",\"backend\":\"198.18.20.12\",\"state\":\"draining\","
			 "\"health\":\"up\",\"weight\":100,\"flows\":%d,\"new_flows\":3,"
			 "\"packets\":%d,\"bytes\":1}]}",
			 100 * r, 1000 * r, 40 - 10 * r, 2000 * r);
	} else if (!strcmp(cmd, "backend.status")) {
		f->status_calls++;
		snprintf(text, sizeof(text),
			 "{\"ok\":true,\"result\":[{\"vip\":\"" VIP "\",\"backend\":\"198.18.20.12\","
			 "\"state\":\"draining\",\"flows\":%d,\"timed_out\":false,\"flows_left\":0,"
			 "\"drain_started_unix_ms\":%llu,\"deadline_unix_ms\":%llu}]}",
			 40 - 10 * r, T0 - 1000, T0 + 41000);
	} else {
		snprintf(text, sizeof(text), "{\"ok\":false,\"error\":\"unknown command\"}");
	}
	*reply = json_tokener_parse(text);
	return 0;
}

static __u64 fake_now(const struct sl_cli_io *io)
{
	return ((struct fake *)io->ctx)->now;
}

static __u64 fake_wall(const struct sl_cli_io *io)
{
	struct fake *f = io->ctx;

	return f->now +
	       (f->step_after && f->refresh > f->step_after ? f->wall_step : 0);
}

static void fake_sleep(const struct sl_cli_io *io, unsigned int ms)
{
	struct fake *f = io->ctx;

	f->sleeps++;
	f->now += ms;
	if (f->stop_after && f->refresh >= f->stop_after)
		f->stop = 1;
}

struct run {
	struct fake f;
	char *out, *err;
	size_t out_len, err_len;
	int rc;
};

static void run_top(struct run *r, const char *line)
{
	struct sl_cli_cmd cmd;
	char err[256];
	FILE *out, *errf;
	struct sl_cli_io io = {
		.call = fake_call,
		.now_ms = fake_wall,
		.mono_ms = fake_now,
		.sleep_ms = fake_sleep,
		.ctx = &r->f,
		.stop = &r->f.stop,
	};

	r->f.now = r->f.now ? r->f.now : T0;
	CHECK_INT(CHECK_HERE, parse_line(line, &cmd, err, sizeof(err)), 0);
	out = open_memstream(&r->out, &r->out_len);
	errf = open_memstream(&r->err, &r->err_len);
	io.out = out;
	io.err = errf;
	r->rc = sl_cli_run(&cmd, &io);
	fclose(out);
	fclose(errf);
	sl_cli_cmd_free(&cmd);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/*
 * The block of @out headed @heading (the second refresh, one second after
 * the first): be1's and the VIP's rates, 100 new flows and 1000 and 3000
 * packets a second. Returns the block.
 */
static const char *check_second_rates(const char *out, const char *heading)
{
	const char *second = strstr(out, heading);

	CHECK_NONNULL(CHECK_HERE, second);
	CHECK_CONTAINS(
		CHECK_HERE, second,
		"198.18.0.100:80/tcp  198.18.20.11  active    up         100     20    100    1000\n");
	CHECK_CONTAINS(
		CHECK_HERE, second,
		"198.18.0.100:80/tcp         2       1     40    100    3000\n");
	return second;
}

static void test_run_plain(void **state)
{
	struct run r = { 0 };
	const char *second;

	(void)state;
	run_top(&r, "-s /x top --count 3 --interval 1s");
	CHECK_INT(CHECK_HERE, r.rc, 0);
	CHECK_STR(CHECK_HERE, r.err, "");
	CHECK_INT(CHECK_HERE, r.f.refresh, 3);
	CHECK_INT(CHECK_HERE, r.f.sleeps, 2);
	CHECK_INT(CHECK_HERE, r.f.status_calls,
		  3); /* one draining backend per refresh */
	/* One block per refresh, each headed by its time; no escape sequences. */
	CHECK_INT(CHECK_HERE, count_of(r.out, "# 2023-11-14T22:13:2"), 3);
	CHECK_CONTAINS(CHECK_HERE, r.out,
		       "# 2023-11-14T22:13:20Z sluice top, every 1s\n");
	CHECK_CONTAINS(CHECK_HERE, r.out,
		       "# 2023-11-14T22:13:22Z sluice top, every 1s\n");
	CHECK_NULL(CHECK_HERE, strchr(r.out, '\033'));
	CHECK_INT(
		CHECK_HERE,
		count_of(
			r.out,
			"VIP                  BACKENDS  ACTIVE  FLOWS  NEW/S  PKTS/S"),
		3);
	CHECK_INT(
		CHECK_HERE,
		count_of(
			r.out,
			"VIP                  BACKEND       STATE     HEALTH  WEIGHT  FLOWS  NEW/S  PKTS/S  DRAIN"),
		3);
	/* First refresh: no rates yet. Then 100 new flows/s, 1000 packets/s. */
	CHECK_CONTAINS(
		CHECK_HERE, r.out,
		"198.18.0.100:80/tcp  198.18.20.11  active    up         100     20      -       -\n");
	second = check_second_rates(r.out, "# 2023-11-14T22:13:21Z");
	CHECK_CONTAINS(
		CHECK_HERE, second,
		"198.18.0.100:80/tcp  198.18.20.12  draining  up         100     20      0    2000  20 left, 40s to deadline\n");
	CHECK_CONTAINS(
		CHECK_HERE, r.out,
		"198.18.0.100:80/tcp  198.18.20.12  draining  up         100     10      0    2000  10 left, 39s to deadline\n");
	run_free(&r);
}

/* Rates come from the boot clock: the wall clock stepping an hour ahead
 * between two refreshes moves the time shown, not the rates. */
static void test_run_wall_clock_step(void **state)
{
	struct run r = { 0 };

	(void)state;
	r.f.step_after = 1;
	r.f.wall_step = 3600000;
	run_top(&r, "-s /x top --count 2 --interval 1s");
	CHECK_INT(CHECK_HERE, r.rc, 0);
	check_second_rates(r.out, "# 2023-11-14T23:13:21Z");
	run_free(&r);
}

static void test_run_vip_filter(void **state)
{
	struct run r = { 0 };

	(void)state;
	run_top(&r, "-s /x top " VIP " --count 1");
	CHECK_INT(CHECK_HERE, r.rc, 0);
	CHECK_CONTAINS(CHECK_HERE, r.out, "198.18.0.100:80/tcp  ");
	CHECK_NULL(CHECK_HERE, strstr(r.out, "[fd00::100]:443/udp"));
	run_free(&r);

	run_top(&r, "-s /x top --count 1");
	CHECK_CONTAINS(CHECK_HERE, r.out, "[fd00::100]:443/udp");
	run_free(&r);
}

static void test_run_json(void **state)
{
	struct json_object *o, *be, *v;
	struct run r = { 0 };
	char *line, *save;
	int n = 0;

	(void)state;
	run_top(&r, "-s /x -j top --count 2 --interval 500ms");
	CHECK_INT(CHECK_HERE, r.rc, 0);
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		o = json_tokener_parse(line);
		CHECK_NONNULL(CHECK_HERE, o);
		CHECK(CHECK_HERE,
		      json_object_object_get_ex(o, "time_unix_ms", &v));
		CHECK_INT(CHECK_HERE, json_object_get_int64(v), T0 + 500 * n);
		CHECK(CHECK_HERE,
		      json_object_object_get_ex(o, "backends", &be));
		be = json_object_array_get_idx(be, 0);
		CHECK(CHECK_HERE,
		      json_object_object_get_ex(be, "packets_per_s", &v));
		if (n == 0) {
			CHECK_NULL(CHECK_HERE, v);
		} else {
			/* 1000 packets in 500 ms: a number in JSON. */
			CHECK(CHECK_HERE,
			      json_object_is_type(v, json_type_double) ||
				      json_object_is_type(v, json_type_int));
			CHECK(CHECK_HERE, json_object_get_double(v) == 2000.0);
		}
		json_object_put(o);
		n++;
	}
	CHECK_INT(CHECK_HERE, n, 2);
	run_free(&r);
}

static void test_tty_redraw(void **state)
{
	struct json_object *rows = json_tokener_parse("[{\"vip\":\"" VIP "\",\"backends\":1}]");
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	sl_top_print(f, true, T0, 1000, rows, NULL, NULL);
	sl_top_print(f, true, T0 + 1000, 1000, rows, NULL, "lost \033[2Jcontact");
	fclose(f);
	/* Each refresh homes the cursor and clears, then redraws. */
	CHECK_INT(
		CHECK_HERE,
		strncmp(buf,
			"\033[H\033[2Jsluice top  2023-11-14T22:13:20Z  every 1s",
			46),
		0);
	CHECK_INT(CHECK_HERE, count_of(buf, "\033[H\033[2J"), 2);
	/* Text from sluiced never carries escape sequences to the terminal. */
	CHECK_CONTAINS(CHECK_HERE, buf, "sluicectl: lost ?[2Jcontact\n");
	free(buf);
	json_object_put(rows);
}

static void test_run_unreachable(void **state)
{
	struct run r = { 0 };

	(void)state;
	r.f.fail_refresh = -1;
	r.f.fail_err = -ECONNREFUSED;
	run_top(&r, "-s /x top --count 5");
	CHECK_INT(CHECK_HERE, r.rc, SL_CLI_EXIT_FAIL);
	CHECK_INT(CHECK_HERE, r.f.sleeps, 0);
	CHECK_STR(CHECK_HERE, r.out, "");
	CHECK_CONTAINS(
		CHECK_HERE, r.err,
		"sluicectl: cannot show the live view: cannot connect to /x: Connection refused\n"
		"hint: is sluiced running? (socket /x)\n");
	run_free(&r);
}

/* sluiced gone for one refresh: the view says so, then recovers. */
static void test_run_lost_midway(void **state)
{
	struct run r = { 0 };
	const char *after;

	(void)state;
	r.f.fail_refresh = 2;
	r.f.fail_err = -ECONNRESET;
	run_top(&r, "-s /x top --count 4");
	CHECK_INT(CHECK_HERE, r.rc, 0);
	CHECK_CONTAINS(
		CHECK_HERE, r.out,
		"sluicectl: talking to sluiced on /x: Connection reset by peer\n");
	/* Refresh 3 has nothing to compare with: rates restart. */
	after = strstr(r.out, "# 2023-11-14T22:13:22Z");
	CHECK_NONNULL(CHECK_HERE, after);
	CHECK_CONTAINS(CHECK_HERE, after,
		       "active    up         100     20      -       -\n");
	after = strstr(r.out, "# 2023-11-14T22:13:23Z");
	CHECK_NONNULL(CHECK_HERE, after);
	CHECK_CONTAINS(CHECK_HERE, after,
		       "active    up         100     20    100    1000\n");
	run_free(&r);
}

/* SIGINT (the stop flag) ends an unbounded view cleanly. */
static void test_run_stop(void **state)
{
	struct run r = { 0 };

	(void)state;
	r.f.stop_after = 2;
	run_top(&r, "-s /x top");
	CHECK_INT(CHECK_HERE, r.rc, 0);
	CHECK_INT(CHECK_HERE, r.f.refresh, 2);
	CHECK_INT(CHECK_HERE, count_of(r.out, "sluice top"), 2);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_format_rate),
		cmocka_unit_test(test_format_drain),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_run_plain),
		cmocka_unit_test(test_run_wall_clock_step),
		cmocka_unit_test(test_run_vip_filter),
		cmocka_unit_test(test_run_json),
		cmocka_unit_test(test_tty_redraw),
		cmocka_unit_test(test_run_unreachable),
		cmocka_unit_test(test_run_lost_midway),
		cmocka_unit_test(test_run_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
