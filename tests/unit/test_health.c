/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests: health-check rise/fall logic and the health_check config. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "config.h"
#include "health.h"
#include "state.h"

/* Feed a sequence ("+" ok, "-" fail); return the health after each step. */
static void run_seq(const char *seq, __u32 rise, __u32 fall, char *out)
{
	struct sl_health_track t = { .health = SL_HEALTH_UNKNOWN };
	size_t i;

	for (i = 0; seq[i]; i++) {
		sl_health_result(&t, seq[i] == '+', rise, fall);
		out[i] = t.health == SL_HEALTH_UP ? 'U' :
			 t.health == SL_HEALTH_DOWN ? 'D' : '?';
	}
	out[i] = '\0';
}

static void test_rise_fall_table(void **state)
{
	static const struct {
		const char *seq;
		__u32 rise, fall;
		const char *want;
	} rows[] = {
		/* unknown until rise successes or fall failures */
		{ "++++", 2, 3, "?UUU" },
		{ "---", 2, 3, "??D" },
		/* failures must be consecutive to fall */
		{ "++-+--+---", 2, 3, "?UUUUUUUUD" },
		/* successes must be consecutive to rise */
		{ "---+-++", 2, 3, "??DDDDU" },
		/* rise 1 / fall 1: every result counts */
		{ "+-+-", 1, 1, "UDUD" },
		/* nginx max_fails=3: three fails in a row */
		{ "+---", 1, 3, "UUUD" },
	};
	char got[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		run_seq(rows[i].seq, rows[i].rise, rows[i].fall, got);
		if (strcmp(got, rows[i].want))
			fail_msg("seq %s rise %u fall %u: got %s, want %s", rows[i].seq,
				 rows[i].rise, rows[i].fall, got, rows[i].want);
	}
}

static void test_result_reports_change(void **state)
{
	struct sl_health_track t = { .health = SL_HEALTH_UNKNOWN };

	(void)state;
	CHECK_NOT(CHECK_HERE, sl_health_result(&t, true, 2, 2));
	CHECK(CHECK_HERE, sl_health_result(&t, true, 2, 2)); /* -> up */
	CHECK_NOT(CHECK_HERE, sl_health_result(&t, true, 2, 2));
	CHECK_NOT(CHECK_HERE, sl_health_result(&t, false, 2, 2));
	CHECK(CHECK_HERE, sl_health_result(&t, false, 2, 2)); /* -> down */
	CHECK_INT(CHECK_HERE, t.health, SL_HEALTH_DOWN);
}

static void test_in_table_and_all_down(void **state)
{
	struct sl_be bes[2];
	struct sl_vip v = { .bes = bes, .n_bes = 2 };

	(void)state;
	memset(bes, 0, sizeof(bes));
	bes[0].weight = bes[1].weight = 100;
	CHECK(CHECK_HERE, sl_be_in_table(&bes[0]));
	CHECK_NOT(CHECK_HERE, sl_vip_all_down(&v));
	bes[0].health = SL_HEALTH_DOWN;
	CHECK_NOT(CHECK_HERE, sl_be_in_table(&bes[0]));
	CHECK_NOT(CHECK_HERE, sl_vip_all_down(&v));
	bes[1].health = SL_HEALTH_DOWN;
	CHECK(CHECK_HERE, sl_vip_all_down(&v));
	/* A draining backend does not count: it takes no new flows anyway. */
	bes[1].state = SL_BE_DRAINING;
	bes[1].health = SL_HEALTH_UP;
	CHECK(CHECK_HERE, sl_vip_all_down(&v));
	/* No candidate at all is not "all down". */
	bes[0].state = SL_BE_DRAINING;
	CHECK_NOT(CHECK_HERE, sl_vip_all_down(&v));
}

/* ---- config ------------------------------------------------------------ */

static int load_text(const char *text, struct sl_config *cfg, char *err, size_t len)
{
	char path[] = "/tmp/sluice-test-health-XXXXXX";
	int fd = mkstemp(path), rc;

	CHECK_RC(CHECK_HERE, fd);
	CHECK_INT(CHECK_HERE, write(fd, text, strlen(text)),
		  (ssize_t)strlen(text));
	close(fd);
	rc = sl_config_load(path, cfg, err, len);
	unlink(path);
	return rc;
}

#define HEAD "interfaces: [{name: eth0}]\nencap: {source_v4: 198.18.0.1}\n"

static void test_config_health_good(void **state)
{
	struct sl_config cfg;
	char err[512];

	(void)state;
	CHECK_INT(
		CHECK_HERE,
		load_text(
			HEAD
			"vips:\n"
			"  - vip: 198.18.0.100:80/tcp\n"
			"    health_check: {type: http, path: /health, expect_status: 204, interval: 1s,\n"
			"                   timeout: 300ms, rise: 1, fall: 4, on_down: release}\n"
			"    backends:\n"
			"      - address: 198.18.1.10\n"
			"      - address: 198.18.1.11\n"
			"        health_check: {port: 8080, path: /ready}\n",
			&cfg, err, sizeof(err)),
		0);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.type, SL_HC_HTTP);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.expect_status, 204);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.interval_ms, 1000);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.timeout_ms, 300);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.fall, 4);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.on_down, SL_HC_RELEASE);
	/* The first backend inherits the VIP's check... */
	CHECK_MEM(CHECK_HERE, &cfg.vips[0].backends[0].hc, &cfg.vips[0].hc,
		  sizeof(cfg.vips[0].hc));
	/* ...the second overrides port and path, inherits the rest. */
	CHECK_INT(CHECK_HERE, cfg.vips[0].backends[1].hc.port, 8080);
	CHECK_STR(CHECK_HERE, cfg.vips[0].backends[1].hc.path, "/ready");
	CHECK_INT(CHECK_HERE, cfg.vips[0].backends[1].hc.fall, 4);
	sl_config_free(&cfg);
}

static void test_config_health_defaults(void **state)
{
	struct sl_config cfg;
	char err[512];

	(void)state;
	CHECK_INT(CHECK_HERE,
		  load_text(HEAD "vips:\n  - vip: 198.18.0.100:80/tcp\n"
				 "    health_check: {type: tcp}\n",
			    &cfg, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.type, SL_HC_TCP);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.interval_ms,
		  SL_HC_DEF_INTERVAL_MS);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.timeout_ms, SL_HC_DEF_TIMEOUT_MS);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.rise, SL_HC_DEF_RISE);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.fall, SL_HC_DEF_FALL);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.on_down, SL_HC_KEEP);
	sl_config_free(&cfg);
	/* No health_check: no checks. */
	CHECK_INT(CHECK_HERE,
		  load_text(HEAD "vips:\n  - vip: 198.18.0.100:80/tcp\n", &cfg,
			    err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.type, SL_HC_NONE);
	sl_config_free(&cfg);
}

static void test_config_health_bad(void **state)
{
	static const struct {
		const char *vip_block;
		const char *want;
	} rows[] = {
		{ "    health_check: {type: ping}\n", "not a check type" },
		{ "    health_check: {path: /x}\n", "type" },
		{ "    health_check: {rise: 3}\n",
		  "required field is missing (e.g. type: http)" },
		{ "    health_check: {fall: 3}\n", "type: http" },
		{ "    health_check: {expect_status: 204}\n", "type: http" },
		{ "    health_check: {on_down: release}\n", "type: http" },
		{ "    health_check: {type: tcp, path: /x}\n",
		  "type: http and https checks only" },
		{ "    health_check: {type: tcp, expect_status: 204}\n",
		  "type: http and https checks only" },
		{ "    health_check: {type: http, path: health}\n",
		  "not a usable path" },
		{ "    health_check: {type: http, interval: 1s, timeout: 2s}\n",
		  "timeout must not exceed interval" },
		{ "    health_check: {type: tcp, rise: 0}\n", "rise" },
		{ "    health_check: {type: tcp, on_down: drop}\n",
		  "keep or release" },
		{ "    health_check: {type: tcp, interval: 10ms}\n",
		  "interval" },
		{ "    health_check: {type: tcp, bogus: 1}\n", "unknown key" },
		{ "    health_check: {type: http, tls_verify: false}\n",
		  "type: https checks only" },
		{ "    health_check: {type: tcp, ca_file: /etc/hostname}\n",
		  "type: https checks only" },
		{ "    health_check: {type: https, tls_verify: no}\n",
		  "expected true or false" },
		{ "    health_check: {type: https, ca_file: ca.pem}\n",
		  "not an absolute path" },
		{ "    health_check: {type: https, ca_file: /nonexistent/ca.pem}\n",
		  "cannot read /nonexistent/ca.pem" },
		{ "    health_check: {type: https, tls_verify: false, ca_file: /proc/self/status}\n",
		  "no effect with tls_verify: false" },
	};
	struct sl_config cfg;
	char text[1024], err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(text, sizeof(text), HEAD "vips:\n  - vip: 198.18.0.100:80/tcp\n%s",
			 rows[i].vip_block);
		if (load_text(text, &cfg, err, sizeof(err)) == 0)
			fail_msg("row %zu accepted, want error containing \"%s\"", i, rows[i].want);
		if (!strstr(err, rows[i].want) || !strstr(err, "health_check"))
			fail_msg("row %zu: error \"%s\" lacks \"%s\" or the field path", i, err,
				 rows[i].want);
	}
	/* A port-0 VIP needs the check's own port. */
	CHECK_INT_NE(CHECK_HERE,
		     load_text(HEAD "vips:\n  - vip: 198.18.0.100:0/tcp\n"
				    "    health_check: {type: tcp}\n",
			       &cfg, err, sizeof(err)),
		     0);
	CHECK_CONTAINS(CHECK_HERE, err, "port");
}

/* HTTPS: verify by default; ca_file and tls_verify: false when asked. */
static void test_config_health_https(void **state)
{
	struct sl_config cfg;
	char err[512];

	(void)state;
	CHECK_INT(
		CHECK_HERE,
		load_text(HEAD
			  "vips:\n"
			  "  - vip: 198.18.0.100:443/tcp\n"
			  "    health_check: {type: https, path: /health}\n"
			  "    backends:\n"
			  "      - address: 198.18.1.10\n"
			  "      - address: 198.18.1.11\n"
			  "        health_check: {tls_verify: false}\n"
			  "      - address: 198.18.1.12\n"
			  "        health_check: {ca_file: /proc/self/status}\n",
			  &cfg, err, sizeof(err)),
		0);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.type, SL_HC_HTTPS);
	CHECK(CHECK_HERE, sl_hc_is_http(cfg.vips[0].hc.type));
	CHECK(CHECK_HERE, cfg.vips[0].backends[0].hc.tls_verify);
	CHECK_STR(CHECK_HERE, cfg.vips[0].backends[0].hc.ca_file, "");
	CHECK_NOT(CHECK_HERE, cfg.vips[0].backends[1].hc.tls_verify);
	CHECK_STR(CHECK_HERE, cfg.vips[0].backends[1].hc.path, "/health");
	CHECK_STR(CHECK_HERE, cfg.vips[0].backends[2].hc.ca_file,
		  "/proc/self/status");
	CHECK_STR(CHECK_HERE, sl_health_type_name(SL_HC_HTTPS), "https");
	sl_config_free(&cfg);
}

/* agent_port: per VIP, inherited, overridden (0: none) per backend. */
static void test_config_agent_port(void **state)
{
	struct sl_config cfg;
	char err[512];

	(void)state;
	CHECK_INT(CHECK_HERE,
		  load_text(HEAD "vips:\n"
				 "  - vip: 198.18.0.100:80/tcp\n"
				 "    agent_port: 9470\n"
				 "    health_check: {type: tcp}\n"
				 "    backends:\n"
				 "      - address: 198.18.1.10\n"
				 "      - address: 198.18.1.11\n"
				 "        agent_port: 0\n"
				 "        health_check: {port: 8080}\n",
			    &cfg, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, cfg.vips[0].hc.agent_port, 9470);
	CHECK_INT(CHECK_HERE, cfg.vips[0].backends[0].hc.agent_port, 9470);
	CHECK_INT(CHECK_HERE, cfg.vips[0].backends[1].hc.agent_port, 0);
	CHECK_INT(CHECK_HERE, cfg.vips[0].backends[1].hc.port, 8080);
	sl_config_free(&cfg);
	CHECK_INT_NE(CHECK_HERE,
		     load_text(HEAD "vips:\n  - vip: 198.18.0.100:80/tcp\n"
				    "    agent_port: 70000\n",
			       &cfg, err, sizeof(err)),
		     0);
	CHECK_CONTAINS(CHECK_HERE, err, "agent_port");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rise_fall_table),
		cmocka_unit_test(test_result_reports_change),
		cmocka_unit_test(test_in_table_and_all_down),
		cmocka_unit_test(test_config_health_good),
		cmocka_unit_test(test_config_health_defaults),
		cmocka_unit_test(test_config_health_bad),
		cmocka_unit_test(test_config_health_https),
		cmocka_unit_test(test_config_agent_port),
	};

	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
