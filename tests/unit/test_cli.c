/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Unit tests for sluicectl's logic (user/sluicectl/cli*.c) without a daemon:
 * command lines to requests, usage errors, reply handling and error
 * lines, drain verdicts and exit codes, tables and the status summary.
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

#include "array.h"
#define MAX_ARGV	12

/* Split a command line on spaces into argv (argv[0] = "sluicectl"). */
static int split(const char *line, char *buf, size_t len, char **argv)
{
	int argc = 0;
	char *tok, *save;

	snprintf(buf, len, "%s", line);
	argv[argc++] = "sluicectl";
	for (tok = strtok_r(buf, " ", &save); tok && argc < MAX_ARGV;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return argc;
}

static int parse_line(const char *line, struct sl_cli_cmd *cmd, char *err, size_t errlen)
{
	static char buf[512];
	char *argv[MAX_ARGV + 1];
	int argc = split(line, buf, sizeof(buf), argv);

	return sl_cli_build_request(argc, argv, cmd, err, errlen);
}

static const char *req_text(const struct sl_cli_cmd *cmd)
{
	return json_object_to_json_string_ext(cmd->req, JSON_C_TO_STRING_PLAIN);
}

/* --- command lines to requests ------------------------------------------- */

static const struct {
	const char *line;
	const char *req;
	bool json, wait;
} good_lines[] = {
	{ "status", "{\"cmd\":\"status\"}", false, false },
	{ "-v status", "{\"cmd\":\"status\"}", false, false },
	{ "-j vip list", "{\"cmd\":\"vip.list\"}", true, false },
	{ "--json vip list", "{\"cmd\":\"vip.list\"}", true, false },
	{ "vip add 198.18.0.100:80/tcp",
	  "{\"cmd\":\"vip.add\",\"vip\":\"198.18.0.100:80\\/tcp\"}", false, false },
	{ "vip del [FD00::100]:443/udp",
	  "{\"cmd\":\"vip.del\",\"vip\":\"[fd00::100]:443\\/udp\"}", false, false },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10",
	  "{\"cmd\":\"backend.add\",\"vip\":\"198.18.0.100:80\\/tcp\",\"backend\":\"198.18.1.10\"}",
	  false, false },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10 --weight 250",
	  "{\"cmd\":\"backend.add\",\"vip\":\"198.18.0.100:80\\/tcp\",\"backend\":\"198.18.1.10\",\"weight\":250}",
	  false, false },
	{ "backend add --weight=0 [fd00::100]:443/tcp FD00:0::10",
	  "{\"cmd\":\"backend.add\",\"vip\":\"[fd00::100]:443\\/tcp\",\"backend\":\"fd00::10\",\"weight\":0}",
	  false, false },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10 --name web-1",
	  "{\"cmd\":\"backend.add\",\"vip\":\"198.18.0.100:80\\/tcp\",\"backend\":\"198.18.1.10\",\"name\":\"web-1\"}",
	  false, false },
	{ "backend drain web-1 --wait",
	  "{\"cmd\":\"backend.drain\",\"backend\":\"web-1\"}",
	  false, true },
	{ "backend add 198.18.0.100:80/tcp --weight 10000 198.18.1.10",
	  "{\"cmd\":\"backend.add\",\"vip\":\"198.18.0.100:80\\/tcp\",\"backend\":\"198.18.1.10\",\"weight\":10000}",
	  false, false },
	{ "backend del 198.18.0.100:80/tcp 198.18.1.10",
	  "{\"cmd\":\"backend.del\",\"vip\":\"198.18.0.100:80\\/tcp\",\"backend\":\"198.18.1.10\"}",
	  false, false },
	{ "backend drain 198.18.1.10",
	  "{\"cmd\":\"backend.drain\",\"backend\":\"198.18.1.10\"}", false, false },
	{ "backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait --timeout 90s",
	  "{\"cmd\":\"backend.drain\",\"vip\":\"198.18.0.100:80\\/tcp\",\"backend\":\"198.18.1.10\",\"timeout_ms\":90000}",
	  false, true },
	{ "backend drain --timeout=1h --wait 198.18.1.10",
	  "{\"cmd\":\"backend.drain\",\"backend\":\"198.18.1.10\",\"timeout_ms\":3600000}",
	  false, true },
	{ "backend drain 198.18.1.10 --timeout 5m",
	  "{\"cmd\":\"backend.drain\",\"backend\":\"198.18.1.10\",\"timeout_ms\":300000}",
	  false, false },
	/* --force: may take a VIP's last active backend away. */
	{ "backend drain 198.18.1.10 --force",
	  "{\"cmd\":\"backend.drain\",\"backend\":\"198.18.1.10\",\"force\":true}", false, false },
	{ "backend del 198.18.0.100:80/tcp --force 198.18.1.10",
	  "{\"cmd\":\"backend.del\",\"vip\":\"198.18.0.100:80\\/tcp\",\"backend\":\"198.18.1.10\",\"force\":true}",
	  false, false },
	{ "backend undrain 198.18.1.10",
	  "{\"cmd\":\"backend.undrain\",\"backend\":\"198.18.1.10\"}", false, false },
	{ "backend undrain 198.18.0.100:80/tcp 198.18.1.10",
	  "{\"cmd\":\"backend.undrain\",\"vip\":\"198.18.0.100:80\\/tcp\",\"backend\":\"198.18.1.10\"}",
	  false, false },
	{ "-j backend list", "{\"cmd\":\"backend.list\"}", true, false },
	{ "backend list -- 198.18.0.100:0/udp",
	  "{\"cmd\":\"backend.list\",\"vip\":\"198.18.0.100:0\\/udp\"}", false, false },
	{ "-- status", "{\"cmd\":\"status\"}", false, false },
	/* the operator commands (issues 13 section 4, 17) */
	{ "reload", "{\"cmd\":\"reload\"}", false, false },
	{ "-j reload --exact", "{\"cmd\":\"reload\",\"exact\":true}", true, false },
	{ "config dump", "{\"cmd\":\"config.dump\"}", false, false },
	{ "config diff /etc/sluice/sluiced.yaml", "{\"cmd\":\"config.dump\"}", false, false },
	{ "backend set 198.18.0.100:80/tcp 198.18.1.10 --weight 0",
	  "{\"cmd\":\"backend.set\",\"vip\":\"198.18.0.100:80\\/tcp\",\"backend\":\"198.18.1.10\",\"weight\":0}",
	  false, false },
	{ "backend status 198.18.1.10",
	  "{\"cmd\":\"backend.status\",\"backend\":\"198.18.1.10\"}", false, false },
	{ "backend status 198.18.0.100:80/tcp 198.18.1.10",
	  "{\"cmd\":\"backend.status\",\"vip\":\"198.18.0.100:80\\/tcp\",\"backend\":\"198.18.1.10\"}",
	  false, false },
	{ "flows", "{\"cmd\":\"flows.list\"}", false, false },
	{ "flows 198.18.1.10", "{\"cmd\":\"flows.list\",\"backend\":\"198.18.1.10\"}", false, false },
	{ "flows 198.18.0.100:80/tcp --limit 7",
	  "{\"cmd\":\"flows.list\",\"vip\":\"198.18.0.100:80\\/tcp\",\"limit\":7}", false, false },
	{ "flows [fd00::100]:443/udp fd00::10 --limit=4096",
	  "{\"cmd\":\"flows.list\",\"vip\":\"[fd00::100]:443\\/udp\",\"backend\":\"fd00::10\",\"limit\":4096}",
	  false, false },
};

static void test_build_good(void **state)
{
	struct sl_cli_cmd cmd;
	char err[256];
	size_t i;

	(void)state;
	unsetenv(SL_CLI_SOCKET_ENV);
	for (i = 0; i < ARRAY_SIZE(good_lines); i++) {
		const char *tc = good_lines[i].line;

		CHECK_INT(tc, parse_line(tc, &cmd, err, sizeof(err)), 0);
		CHECK_INT(tc, cmd.action, SL_CLI_RUN);
		CHECK_STR(tc, req_text(&cmd), good_lines[i].req);
		CHECK_INT(tc, cmd.json, good_lines[i].json);
		CHECK_INT(tc, cmd.wait, good_lines[i].wait);
		CHECK_STR(tc, cmd.sock, SL_CLI_DEFAULT_SOCKET);
		sl_cli_cmd_free(&cmd);
	}
}

/* --- usage errors -------------------------------------------------------- */

/* One row a line, greppable: clang-format would wrap them. */
/* clang-format off */
static const struct {
	const char *line;
	const char *msg;	/* must appear in the error */
	const char *verb;	/* recognised verb ("backend drain"), or NULL */
} bad_lines[] = {
	{ "", "missing command", NULL },
	{ "-j", "missing command", NULL },
	{ "frob", "unknown command \"frob\" (expected status, vip, backend, flows, reload, config, box, top)", NULL },
	{ "backend", "backend: missing verb (expected add, del, drain, undrain, list, set, status)", NULL },
	{ "vip frob", "unknown command \"vip frob\" (vip takes list, add, del)", NULL },
	{ "-x status", "unknown option \"-x\"", NULL },
	{ "--frob status", "unknown option \"--frob\"", NULL },
	{ "backend set 198.18.0.100:80/tcp 198.18.1.10",
	  "backend set: missing --weight N", "backend set" },
	{ "backend set 198.18.0.100:80/tcp 198.18.1.10 --weight 10001",
	  "--weight: invalid weight \"10001\" (expected an integer from 0 to 10000)", "backend set" },
	{ "flows --limit 0", "--limit: invalid count \"0\" (expected an integer from 1 to 4096)", "flows" },
	{ "flows --limit 4097", "--limit: invalid count \"4097\"", "flows" },
	{ "flows 198.18.0.100:80/tcp 198.18.1.10 x", "flows: unexpected argument \"x\"", "flows" },
	{ "flows non:sense", "invalid backend address \"non:sense\" (expected an IPv4 or IPv6 "
	  "address without port or brackets, e.g. 198.18.1.10 or fd00::10, or a backend's name)",
	  "flows" },
	{ "backend add 198.18.0.100:80/tcp web-1", "invalid backend address \"web-1\" (expected an "
	  "IPv4 or IPv6 address without port or brackets, e.g. 198.18.1.10 or fd00::10)",
	  "backend add" },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10 --name 198.18.1.11",
	  "is an address, not a name", "backend add" },
	{ "backend drain 198.18.1.10 --name x", "option --name does not apply to backend drain",
	  "backend drain" },
	{ "reload --wait", "option --wait does not apply to reload (it takes --exact)", "reload" },
	{ "reload --exact=yes", "--exact takes no value", "reload" },
	{ "config diff", "config diff: missing FILE", "config diff" },
	{ "config frob", "unknown command \"config frob\" (config takes dump, diff)", NULL },
	{ "help frob", "help: unknown command \"frob\"", NULL },
	{ "--json=yes status", "--json takes no value", NULL },
	{ "-s", "-s: missing PATH", NULL },
	{ "--socket", "--socket: missing PATH", NULL },
	{ "--socket= status", "--socket: empty socket path", NULL },
	{ "--wait backend drain 198.18.1.10", "option --wait goes after the command", NULL },
	{ "status extra", "status: unexpected argument \"extra\"", "status" },
	{ "vip add", "vip add: missing VIP", "vip add" },
	{ "vip add 198.18.0.100:80", "invalid VIP \"198.18.0.100:80\"", "vip add" },
	{ "vip add 198.18.0.100:80/sctp", "unknown protocol", "vip add" },
	{ "vip add 224.0.0.1:80/tcp", "not a unicast address", "vip add" },
	{ "backend add", "backend add: missing VIP ADDR", "backend add" },
	{ "backend add 198.18.0.100:80/tcp", "backend add: missing ADDR", "backend add" },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10:80",
	  "invalid backend address \"198.18.1.10:80\" (expected an IPv4 or IPv6 address", "backend add" },
	{ "backend add 198.18.0.100:80/tcp [fd00::10]", "invalid backend address \"[fd00::10]\"",
	  "backend add" },
	{ "backend add 198.18.0.100:80/tcp 0.0.0.0", "not a unicast address", "backend add" },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10 x", "backend add: unexpected argument \"x\"",
	  "backend add" },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10 --weight 10001",
	  "--weight: invalid weight \"10001\" (expected an integer from 0 to 10000)", "backend add" },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10 --weight -1",
	  "--weight: invalid weight \"-1\"", "backend add" },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10 --weight=0x10",
	  "--weight: invalid weight \"0x10\"", "backend add" },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10 --weight=", "--weight: invalid weight \"\"",
	  "backend add" },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10 --weight", "--weight: missing N",
	  "backend add" },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10 --wait",
	  "option --wait does not apply to backend add (it takes --weight N, --name NAME)", "backend add" },
	{ "backend drain", "backend drain: missing ADDR", "backend drain" },
	{ "backend drain 198.18.1.10 --timeout 90", "--timeout: invalid duration \"90\"",
	  "backend drain" },
	{ "backend drain 198.18.1.10 --timeout 1.5m", "--timeout: invalid duration \"1.5m\"",
	  "backend drain" },
	{ "backend drain 198.18.1.10 --timeout 600h",
	  "--timeout: invalid duration \"600h\" (expected 1ms to 596h)",
	  "backend drain" },
	/* 0 would time the drain out at once: refused like the config's. */
	{ "backend drain 198.18.0.100:80/tcp 198.18.1.10 --timeout 0s",
	  "--timeout: invalid duration \"0s\" (expected 1ms to 596h)",
	  "backend drain" },
	{ "backend drain 198.18.1.10 --timeout=0ms",
	  "--timeout: invalid duration \"0ms\" (expected 1ms to 596h)",
	  "backend drain" },
	{ "backend drain 198.18.1.10 --timeout", "--timeout: missing DURATION", "backend drain" },
	{ "backend drain 198.18.1.10 --wait=yes", "--wait takes no value", "backend drain" },
	{ "backend drain 198.18.1.10 --force=yes", "--force takes no value", "backend drain" },
	{ "backend add 198.18.0.100:80/tcp 198.18.1.10 --force",
	  "option --force does not apply to backend add (it takes --weight N, --name NAME)", "backend add" },
	{ "backend drain 198.18.1.10 --weight 3",
	  "option --weight does not apply to backend drain (it takes --wait, --timeout DURATION, --force)",
	  "backend drain" },
	{ "backend drain 198.18.1.10 --frob",
	  "unknown option \"--frob\" for backend drain (it takes --wait, --timeout DURATION, --force)",
	  "backend drain" },
	{ "backend drain 198.18.0.100:80/tcp", "invalid backend address", "backend drain" },
	{ "backend drain 198.18.1.10 198.18.0.100:80/tcp", "invalid VIP \"198.18.1.10\"",
	  "backend drain" },
	{ "backend drain a b c", "backend drain: unexpected argument \"c\"", "backend drain" },
	{ "backend list -j", "-j is a global option: put it before the command (e.g. sluicectl -j backend list)",
	  "backend list" },
	{ "status --socket /x", "--socket is a global option", "status" },
	{ "backend list --frob", "unknown option \"--frob\" (backend list takes no options)",
	  "backend list" },
};
/* clang-format on */

static void test_build_usage_errors(void **state)
{
	struct sl_cli_cmd cmd;
	char err[256], vname[64];
	size_t i;

	(void)state;
	unsetenv(SL_CLI_SOCKET_ENV);
	for (i = 0; i < ARRAY_SIZE(bad_lines); i++) {
		const char *tc = bad_lines[i].line;

		CHECK_INT(tc, parse_line(tc, &cmd, err, sizeof(err)), -EINVAL);
		CHECK_CONTAINS(tc, err, bad_lines[i].msg);
		if (!bad_lines[i].verb) {
			CHECK_INT(tc, cmd.verb == NULL, 1);
		} else {
			CHECK_INT(tc, cmd.verb != NULL, 1);
			snprintf(vname, sizeof(vname), "%s%s%s", cmd.verb->object,
				 cmd.verb->verb ? " " : "", cmd.verb->verb ? cmd.verb->verb : "");
			CHECK_STR(tc, vname, bad_lines[i].verb);
		}
		CHECK_INT(tc, cmd.req == NULL, 1);
		sl_cli_cmd_free(&cmd);
	}
}

/* Exit 2 is main()'s mapping of -EINVAL; check the usage line it prints. */
static void test_usage_hint(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	sl_cli_usage_hint(f, &sl_cli_verbs[6]);
	fclose(f);
	CHECK_STR(
		CHECK_HERE, buf,
		"usage: sluicectl [-s SOCKET] [-j] [-v] backend drain [VIP] ADDR "
		"[--wait] [--timeout DURATION] [--force]\n");
	free(buf);
	CHECK_INT(CHECK_HERE, SL_CLI_EXIT_USAGE, 2);
}

static void test_socket_choice(void **state)
{
	struct sl_cli_cmd cmd;
	char err[256];
	char long_path[200];

	(void)state;
	setenv(SL_CLI_SOCKET_ENV, "/tmp/env.sock", 1);
	CHECK_INT(CHECK_HERE, parse_line("status", &cmd, err, sizeof(err)), 0);
	CHECK_STR(CHECK_HERE, cmd.sock, "/tmp/env.sock");
	sl_cli_cmd_free(&cmd);

	CHECK_INT(CHECK_HERE,
		  parse_line("-s /tmp/opt.sock status", &cmd, err, sizeof(err)),
		  0);
	CHECK_STR(CHECK_HERE, cmd.sock, "/tmp/opt.sock");
	sl_cli_cmd_free(&cmd);

	CHECK_INT(CHECK_HERE,
		  parse_line("-js/tmp/b.sock status", &cmd, err, sizeof(err)),
		  0);
	CHECK_STR(CHECK_HERE, cmd.sock, "/tmp/b.sock");
	CHECK(CHECK_HERE, cmd.json);
	sl_cli_cmd_free(&cmd);

	CHECK_INT(CHECK_HERE,
		  parse_line("--socket=/tmp/c.sock -v status", &cmd, err,
			     sizeof(err)),
		  0);
	CHECK_STR(CHECK_HERE, cmd.sock, "/tmp/c.sock");
	CHECK(CHECK_HERE, cmd.verbose);
	sl_cli_cmd_free(&cmd);

	/* An empty variable means "not set". */
	setenv(SL_CLI_SOCKET_ENV, "", 1);
	CHECK_INT(CHECK_HERE, parse_line("status", &cmd, err, sizeof(err)), 0);
	CHECK_STR(CHECK_HERE, cmd.sock, SL_CLI_DEFAULT_SOCKET);
	sl_cli_cmd_free(&cmd);

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	setenv(SL_CLI_SOCKET_ENV, long_path, 1);
	CHECK_INT(CHECK_HERE, parse_line("status", &cmd, err, sizeof(err)),
		  -EINVAL);
	CHECK_CONTAINS(
		CHECK_HERE, err,
		"$SLUICE_SOCKET: socket path too long (at most 107 bytes)");
	sl_cli_cmd_free(&cmd);
	unsetenv(SL_CLI_SOCKET_ENV);
}

static void test_help_and_version(void **state)
{
	struct sl_cli_cmd cmd;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	CHECK_INT(CHECK_HERE, parse_line("--help", &cmd, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, cmd.action, SL_CLI_HELP);
	CHECK_NULL(CHECK_HERE, cmd.verb);
	sl_cli_cmd_free(&cmd);

	CHECK_INT(CHECK_HERE,
		  parse_line("-h backend frob", &cmd, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, cmd.action, SL_CLI_HELP);
	sl_cli_cmd_free(&cmd);

	/* Help after the verb wins over missing or bad arguments. */
	CHECK_INT(CHECK_HERE,
		  parse_line("backend drain --help", &cmd, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, cmd.action, SL_CLI_HELP);
	CHECK_STR(CHECK_HERE, cmd.verb->cmd, "backend.drain");
	sl_cli_cmd_free(&cmd);

	CHECK_INT(CHECK_HERE, parse_line("--version", &cmd, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, cmd.action, SL_CLI_VERSION);
	sl_cli_cmd_free(&cmd);

	/* vip --help and help vip: vip's commands; help CMD VERB: that one. */
	CHECK_INT(CHECK_HERE, parse_line("vip --help", &cmd, err, sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, cmd.action, SL_CLI_HELP);
	CHECK_NULL(CHECK_HERE, cmd.verb);
	CHECK_STR(CHECK_HERE, cmd.help_object, "vip");
	f = open_memstream(&buf, &len);
	sl_cli_help_cmd(f, &cmd);
	fclose(f);
	CHECK_CONTAINS(CHECK_HERE, buf, "  vip list");
	CHECK_CONTAINS(CHECK_HERE, buf, "  vip add VIP");
	CHECK_CONTAINS(CHECK_HERE, buf, "  vip del VIP");
	CHECK_NULL(CHECK_HERE, strstr(buf, "backend drain"));
	free(buf);
	buf = NULL;
	sl_cli_cmd_free(&cmd);
	CHECK_INT(CHECK_HERE, parse_line("help vip", &cmd, err, sizeof(err)),
		  0);
	CHECK_STR(CHECK_HERE, cmd.help_object, "vip");
	CHECK_NULL(CHECK_HERE, cmd.verb);
	sl_cli_cmd_free(&cmd);
	CHECK_INT(CHECK_HERE,
		  parse_line("help backend set", &cmd, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, cmd.action, SL_CLI_HELP);
	CHECK_STR(CHECK_HERE, cmd.verb->cmd, "backend.set");
	sl_cli_cmd_free(&cmd);
	CHECK_INT(CHECK_HERE, parse_line("help reload", &cmd, err, sizeof(err)),
		  0);
	CHECK_STR(CHECK_HERE, cmd.verb->cmd, "reload");
	sl_cli_cmd_free(&cmd);
	CHECK_INT(CHECK_HERE, parse_line("help", &cmd, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, cmd.action, SL_CLI_HELP);
	CHECK_NULL(CHECK_HERE, cmd.verb);
	CHECK_NULL(CHECK_HERE, cmd.help_object);
	sl_cli_cmd_free(&cmd);

	/* --help documents every exit code. */
	f = open_memstream(&buf, &len);
	sl_cli_help(f, NULL);
	fclose(f);
	CHECK_CONTAINS(CHECK_HERE, buf, "Exit status:");
	CHECK_CONTAINS(CHECK_HERE, buf, "  0    success");
	CHECK_CONTAINS(CHECK_HERE, buf, "  1    the operation failed");
	CHECK_CONTAINS(CHECK_HERE, buf, "  2    usage error");
	CHECK_CONTAINS(CHECK_HERE, buf,
		       "  3    backend drain --wait: the drain timed out");
	CHECK_CONTAINS(
		CHECK_HERE, buf,
		"backend drain [VIP] ADDR [--wait] [--timeout DURATION] [--force]");
	CHECK_CONTAINS(
		CHECK_HERE, buf,
		"backend drain [VIP] ADDR [--wait] [--timeout DURATION]");
	CHECK_CONTAINS(CHECK_HERE, buf, "reload: 0 applied, 1 rejected");
	CHECK_CONTAINS(CHECK_HERE, buf,
		       "config diff: 0 same, 1 differs, 2 could not compare");
	free(buf);
}

/* Every row of the table is reachable and consistent with its usage text. */
static void test_table_consistent(void **state)
{
	struct sl_cli_cmd cmd;
	char err[256], line[128];
	size_t i;

	(void)state;
	for (i = 0; i < sl_cli_n_verbs; i++) {
		const struct sl_cli_verb *v = &sl_cli_verbs[i];

		/* The verb's --help line names its case. */
		snprintf(line, sizeof(line), "%s %s --help", v->object, v->verb ? v->verb : "");
		CHECK(line, v->min_args <= v->max_args);
		CHECK(line, v->max_args <= 2);
		CHECK_NONNULL(line, v->run);
		CHECK_NONNULL(line, v->usage);
		CHECK_INT(line, strncmp(v->usage, v->object, strlen(v->object)),
			  0);
		CHECK_INT(line, parse_line(line, &cmd, err, sizeof(err)), 0);
		CHECK_PTR(line, cmd.verb, v);
		sl_cli_cmd_free(&cmd);
	}
}

static void test_describe(void **state)
{
	static const struct {
		const char *line;
		const char *what;
	} cases[] = {
		{ "backend drain 198.18.0.100:80/tcp 198.18.1.10",
		  "drain backend 198.18.1.10 on 198.18.0.100:80/tcp" },
		{ "backend drain 198.18.1.10", "drain backend 198.18.1.10" },
		{ "backend add [fd00::1]:53/udp fd00::10", "add backend fd00::10 to [fd00::1]:53/udp" },
		{ "backend list", "list backends" },
		{ "backend list 198.18.0.100:80/tcp", "list the backends of 198.18.0.100:80/tcp" },
		{ "vip del 198.18.0.100:80/tcp", "delete VIP 198.18.0.100:80/tcp" },
	};
	struct sl_cli_cmd cmd;
	char err[256], what[128];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		CHECK_INT(cases[i].line,
			  parse_line(cases[i].line, &cmd, err, sizeof(err)), 0);
		sl_cli_describe(&cmd, what, sizeof(what));
		CHECK_STR(cases[i].line, what, cases[i].what);
		sl_cli_cmd_free(&cmd);
	}
}

/* --- replies and error lines --------------------------------------------- */

struct fake {
	const char *reply;	/* JSON text, or NULL to fail with err */
	int err;
	int calls;
	char last_req[512];
};

static int fake_call(const struct sl_cli_io *io, struct json_object *req,
		     struct json_object **reply)
{
	struct fake *fk = io->ctx;

	fk->calls++;
	snprintf(fk->last_req, sizeof(fk->last_req), "%s",
		 json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	*reply = NULL;
	if (!fk->reply)
		return fk->err;
	*reply = json_tokener_parse(fk->reply);
	return *reply ? 0 : -EPROTO;
}

static __u64 fake_now(const struct sl_cli_io *io)
{
	(void)io;
	return 1700000000000ULL;
}

static void fake_sleep(const struct sl_cli_io *io, unsigned int ms)
{
	(void)io;
	(void)ms;
}

struct captured {
	char *out, *err;
	size_t outlen, errlen;
	struct sl_cli_io io;
};

static void capture_start(struct captured *c, struct fake *fk)
{
	memset(c, 0, sizeof(*c));
	c->io.call = fake_call;
	c->io.now_ms = fake_now;
	c->io.mono_ms = fake_now;
	c->io.sleep_ms = fake_sleep;
	c->io.ctx = fk;
	c->io.out = open_memstream(&c->out, &c->outlen);
	c->io.err = open_memstream(&c->err, &c->errlen);
}

static void capture_end(struct captured *c)
{
	fclose(c->io.out);
	fclose(c->io.err);
}

static void capture_free(struct captured *c)
{
	free(c->out);
	free(c->err);
}

/* Parse line, run it against a fake daemon; returns the exit code. */
static int run_line(const char *line, struct fake *fk, struct captured *c)
{
	struct sl_cli_cmd cmd;
	char err[256];
	int ret;

	unsetenv(SL_CLI_SOCKET_ENV);
	if (parse_line(line, &cmd, err, sizeof(err))) {
		print_error("case \"%s\": usage error: %s\n", line, err);
		fail();
	}
	capture_start(c, fk);
	ret = sl_cli_run(&cmd, &c->io);
	capture_end(c);
	sl_cli_cmd_free(&cmd);
	return ret;
}

/*
 * config diff against a fake sluiced: the file's credentials go in the
 * request; compared by sluiced, a rotated password is listed as a secret
 * is (exit 1, no password in the output); a sluiced that does not compare
 * them is said, even when nothing else differs (exit 0).
 */
static void test_config_diff_output(void **state)
{
	static const char running[] =
		"interfaces: [{name: eth0}]\nencap: {source_v4: 198.18.0.1}\n"
		"cluster: {endpoints: \"http://198.18.0.1:2379\", box: e1}\n";
	char path[] = "/tmp/sluice-test-cli-XXXXXX.yaml", line[128];
	struct json_object *reply, *result, *cmp, *o;
	struct captured c;
	struct fake fk = { 0 };
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemps(path, 5);
	CHECK_TRUE(path, "temp file", fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f,
		"interfaces: [{name: eth0}]\nencap: {source_v4: 198.18.0.1}\n"
		"cluster: {endpoints: \"http://198.18.0.1:2379\", box: e1,"
		" username: u, password: rotated-4711}\n");
	fclose(f);
	snprintf(line, sizeof(line), "config diff %s", path);

	reply = json_object_new_object();
	result = json_object_new_object();
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "result", result);
	json_object_object_add(result, "yaml", json_object_new_string(running));
	fk.reply = json_object_to_json_string(reply);
	CHECK_INT(line, run_line(line, &fk, &c), 0);
	CHECK_CONTAINS("same, not compared", c.out, "no differences: ");
	CHECK_CONTAINS("same, not compared", c.out,
		       "not compared: the etcd username and password");
	CHECK_CONTAINS("the request", fk.last_req,
		       "\"compare\":{\"cluster.username\":\"u\"");
	capture_free(&c);

	cmp = json_object_new_object();
	o = json_object_new_object();
	json_object_object_add(o, "differs", json_object_new_boolean(1));
	json_object_object_add(o, "running_set", json_object_new_boolean(1));
	json_object_object_add(cmp, "cluster.password", o);
	o = json_object_new_object();
	json_object_object_add(o, "differs", json_object_new_boolean(0));
	json_object_object_add(o, "running_set", json_object_new_boolean(1));
	json_object_object_add(cmp, "cluster.username", o);
	json_object_object_add(result, "compared", cmp);
	fk.reply = json_object_to_json_string(reply);
	CHECK_INT(line, run_line(line, &fk, &c), 1);
	CHECK_CONTAINS(
		"rotated", c.out,
		"cluster.password: running \"(set)\", file \"(set, another)\"");
	CHECK_TRUE(c.out, "username not listed",
		   !strstr(c.out, "cluster.username"));
	CHECK_TRUE(c.out, "no password shown", !strstr(c.out, "rotated-4711"));
	CHECK_TRUE(c.out, "compared: nothing said missing",
		   !strstr(c.out, "not compared"));
	capture_free(&c);
	json_object_put(reply);
	unlink(path);
}

static void test_check_reply(void **state)
{
	static const struct {
		const char *text;
		enum sl_cli_reply kind;
		const char *error, *hint;
	} cases[] = {
		{ "{\"ok\":true,\"result\":[]}", SL_REPLY_OK, NULL, NULL },
		{ "{\"ok\":true}", SL_REPLY_OK, NULL, NULL },
		{ "{\"ok\":false,\"error\":\"no such VIP\",\"errno\":\"ENOENT\"}", SL_REPLY_ERROR,
		  "no such VIP", NULL },
		{ "{\"ok\":false,\"error\":\"busy\",\"hint\":\"try later\"}", SL_REPLY_ERROR,
		  "busy", "try later" },
		{ "{\"ok\":false}", SL_REPLY_ERROR, "sluiced refused the request without saying why",
		  NULL },
		{ "{\"result\":1}", SL_REPLY_MALFORMED, NULL, NULL },
		{ "{\"ok\":\"yes\"}", SL_REPLY_MALFORMED, NULL, NULL },
		{ "[1]", SL_REPLY_MALFORMED, NULL, NULL },
	};
	struct json_object *reply, *result;
	const char *error, *hint;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *tc = cases[i].text;

		reply = json_tokener_parse(tc);
		CHECK_INT(tc, sl_cli_check_reply(reply, &result, &error, &hint), cases[i].kind);
		if (cases[i].error)
			CHECK_STR(tc, error, cases[i].error);
		if (cases[i].hint)
			CHECK_STR(tc, hint, cases[i].hint);
		else
			CHECK_INT(tc, hint == NULL, 1);
		json_object_put(reply);
	}
}

static void test_daemon_error_line(void **state)
{
	struct fake fk = {
		.reply = "{\"ok\":false,\"error\":\"no such backend\",\"hint\":\"see sluicectl backend list\",\"errno\":\"ENOENT\"}",
	};
	struct captured c;

	(void)state;
	CHECK_INT(CHECK_HERE,
		  run_line("backend drain 198.18.0.100:80/tcp 198.18.1.10", &fk,
			   &c),
		  SL_CLI_EXIT_FAIL);
	CHECK_STR(
		CHECK_HERE, c.err,
		"sluicectl: cannot drain backend 198.18.1.10 on 198.18.0.100:80/tcp: no such backend\n"
		"hint: see sluicectl backend list\n");
	CHECK_STR(CHECK_HERE, c.out, "");
	CHECK_STR(
		CHECK_HERE, fk.last_req,
		"{\"cmd\":\"backend.drain\",\"vip\":\"198.18.0.100:80\\/tcp\",\"backend\":\"198.18.1.10\"}");
	capture_free(&c);

	/* Escape sequences from the daemon never reach the terminal. */
	fk.reply = "{\"ok\":false,\"error\":\"bad\\u001b[2Jthing\"}";
	CHECK_INT(CHECK_HERE, run_line("vip add 198.18.0.100:80/tcp", &fk, &c),
		  SL_CLI_EXIT_FAIL);
	CHECK_STR(
		CHECK_HERE, c.err,
		"sluicectl: cannot add VIP 198.18.0.100:80/tcp: bad?[2Jthing\n");
	capture_free(&c);
}

/* sluiced's own "cannot ..." error is printed once, not behind a second "cannot drain ...". */
static void test_daemon_error_not_repeated(void **state)
{
	struct fake fk = {
		.reply = "{\"ok\":false,\"error\":\"cannot drain backend 198.18.1.10 on "
			 "198.18.0.100:80/tcp: no VIP has this backend\",\"errno\":\"ENOENT\"}",
	};
	struct captured c;

	(void)state;
	CHECK_INT(CHECK_HERE,
		  run_line("backend drain 198.18.0.100:80/tcp 198.18.1.10", &fk,
			   &c),
		  SL_CLI_EXIT_FAIL);
	CHECK_STR(CHECK_HERE, c.err, "sluicectl: cannot drain backend 198.18.1.10 on "
		  "198.18.0.100:80/tcp: no VIP has this backend\n");
	capture_free(&c);
}

/* With -j an error is also a JSON object on stdout, for scripts. */
static void test_json_error_object(void **state)
{
	struct fake fk = {
		.reply = "{\"ok\":false,\"error\":\"no such backend\",\"hint\":\"see sluicectl "
			 "backend list\"}",
	};
	struct json_object *o, *v;
	struct captured c;

	(void)state;
	CHECK_INT(CHECK_HERE,
		  run_line("-j backend drain 198.18.0.100:80/tcp 198.18.1.10",
			   &fk, &c),
		  SL_CLI_EXIT_FAIL);
	CHECK_CONTAINS(CHECK_HERE, c.err, "sluicectl: cannot drain backend 198.18.1.10 on "
		       "198.18.0.100:80/tcp: no such backend\nhint: see sluicectl backend list\n");
	o = json_tokener_parse(c.out);
	CHECK_NONNULL(CHECK_HERE, o);
	CHECK(CHECK_HERE, json_object_object_get_ex(o, "ok", &v));
	CHECK_INT(CHECK_HERE, json_object_get_boolean(v), 0);
	CHECK(CHECK_HERE, json_object_object_get_ex(o, "error", &v));
	CHECK_STR(CHECK_HERE, json_object_get_string(v), "cannot drain backend 198.18.1.10 on "
		  "198.18.0.100:80/tcp: no such backend");
	CHECK(CHECK_HERE, json_object_object_get_ex(o, "hint", &v));
	CHECK_STR(CHECK_HERE, json_object_get_string(v), "see sluicectl backend list");
	json_object_put(o);
	capture_free(&c);

	/* A failed call too, and without -j nothing goes to stdout. */
	fk.reply = NULL;
	fk.err = -ECONNREFUSED;
	CHECK_INT(CHECK_HERE, run_line("-j status", &fk, &c), SL_CLI_EXIT_FAIL);
	CHECK_CONTAINS(CHECK_HERE, c.out, "\"error\": \"cannot ");
	CHECK_CONTAINS(CHECK_HERE, c.out, "cannot connect to ");
	capture_free(&c);
	CHECK_INT(CHECK_HERE, run_line("status", &fk, &c), SL_CLI_EXIT_FAIL);
	CHECK_STR(CHECK_HERE, c.out, "");
	capture_free(&c);
}

static void test_call_error_lines(void **state)
{
	static const struct {
		int err;
		const char *line, *hint;
	} cases[] = {
		{ -ENOENT, "sluicectl: cannot list backends: cannot connect to /run/sluice/default.sock: No such file or directory\n",
		  "hint: is sluiced running? (socket /run/sluice/default.sock)\n" },
		{ -ECONNREFUSED, "cannot connect to /run/sluice/default.sock: Connection refused\n",
		  "hint: is sluiced running? (socket /run/sluice/default.sock)\n" },
		{ -EACCES, "cannot connect to /run/sluice/default.sock: Permission denied\n",
		  "hint: the control socket is root-only; run as root\n" },
		{ -ETIMEDOUT, "no reply from sluiced within 10s", "hint: sluiced may be overloaded" },
		{ -EPROTO, "the reply on /run/sluice/default.sock is not JSON", "hint: is " },
		{ -ECONNRESET, "closed the connection without a reply", "hint: see sluiced's log" },
	};
	struct fake fk = { 0 };
	struct captured c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *tc = cases[i].line;

		fk.err = cases[i].err;
		CHECK_INT(tc, run_line("backend list", &fk, &c), SL_CLI_EXIT_FAIL);
		CHECK_CONTAINS(tc, c.err, cases[i].line);
		CHECK_CONTAINS(tc, c.err, cases[i].hint);
		capture_free(&c);
	}
}

/* -j prints the daemon's result untouched: the keys are sluiced's. */
static void test_json_passthrough(void **state)
{
	struct fake fk = {
		.reply = "{\"ok\":true,\"result\":[{\"vip\":\"198.18.0.100:80/tcp\",\"backend\":\"198.18.1.10\","
			 "\"state\":\"active\",\"health\":\"up\",\"weight\":100,\"flows\":3,\"new_flows\":7,"
			 "\"packets\":18446744073709551615,\"bytes\":1000}]}",
	};
	struct json_object *out, *row;
	struct captured c;
	int keys = 0;

	(void)state;
	CHECK_INT(CHECK_HERE, run_line("-j backend list", &fk, &c), 0);
	out = json_tokener_parse(c.out);
	CHECK_NONNULL(CHECK_HERE, out);
	CHECK(CHECK_HERE, json_object_is_type(out, json_type_array));
	CHECK_INT(CHECK_HERE, json_object_array_length(out), 1);
	row = json_object_array_get_idx(out, 0);
	json_object_object_foreach(row, key, val) {
		(void)val;
		CHECK_CONTAINS(
			CHECK_HERE,
			" vip backend state health weight flows new_flows packets bytes ",
			key);
		keys++;
	}
	CHECK_INT(CHECK_HERE, keys, 9);
	CHECK_CONTAINS(CHECK_HERE, c.out, "18446744073709551615");
	json_object_put(out);
	capture_free(&c);

	fk.reply = "{\"ok\":true,\"result\":{}}";
	CHECK_INT(CHECK_HERE,
		  run_line("-j vip add 198.18.0.100:80/tcp", &fk, &c), 0);
	CHECK_STR(CHECK_HERE, c.out, "{\n}\n");
	capture_free(&c);

	/* Quiet success for changes in human mode. */
	CHECK_INT(CHECK_HERE, run_line("vip add 198.18.0.100:80/tcp", &fk, &c),
		  0);
	CHECK_STR(CHECK_HERE, c.out, "");
	CHECK_STR(CHECK_HERE, c.err, "");
	capture_free(&c);
}

/* --- tables ------------------------------------------------------------- */

static void test_backend_table(void **state)
{
	struct fake fk = {
		.reply = "{\"ok\":true,\"result\":["
			 "{\"vip\":\"198.18.0.100:80/tcp\",\"backend\":\"198.18.1.10\",\"state\":\"active\","
			 "\"health\":\"up\",\"weight\":100,\"flows\":1234,\"handshakes\":3,\"new_flows\":5,\"packets\":987654,"
			 "\"bytes\":123456789,\"lost\":0},"
			 "{\"vip\":\"[fd00::100]:443/udp\",\"backend\":\"fd00::10\",\"state\":\"draining\","
			 "\"health\":\"unknown\",\"weight\":0,\"flows\":7,\"new_flows\":0,\"packets\":0}"
			 "]}",
	};
	struct captured c;

	(void)state;
	CHECK_INT(CHECK_HERE, run_line("backend list", &fk, &c), 0);
	CHECK_STR(
		CHECK_HERE, c.out,
		"VIP                  BACKEND      STATE     HEALTH   WEIGHT  FLOWS  HANDSHAKES  NEW_FLOWS  PACKETS      BYTES  LOST\n"
		"198.18.0.100:80/tcp  198.18.1.10  active    up          100   1234           3          5   987654  123456789     0\n"
		"[fd00::100]:443/udp  fd00::10     draining  unknown       0      7           -          0        0          -     -\n");
	capture_free(&c);

	fk.reply = "{\"ok\":true,\"result\":[]}";
	CHECK_INT(CHECK_HERE, run_line("backend list", &fk, &c), 0);
	CHECK_STR(
		CHECK_HERE, c.out,
		"VIP  BACKEND  STATE  HEALTH  WEIGHT  FLOWS  HANDSHAKES  NEW_FLOWS  PACKETS  BYTES  LOST\n");
	capture_free(&c);
}

/* --- operator commands ------------------------------------------------------ */

static void test_reload_output(void **state)
{
	struct fake fk = {
		.reply = "{\"ok\":true,\"result\":{\"applied\":true,\"file\":\"/etc/s.yaml\","
			 "\"changes\":[\"weight of backend 198.18.1.10 on 198.18.0.100:80/tcp: 100 -> 7\"],"
			 "\"restart\":[{\"setting\":\"flows.table_size\",\"running\":\"1048576\","
			 "\"file\":\"4096\",\"note\":\"sluiced --detach first\"}]}}",
	};
	struct captured c;

	(void)state;
	CHECK_INT(CHECK_HERE, run_line("reload", &fk, &c), SL_CLI_EXIT_OK);
	CHECK_STR("applied", c.out,
		  "reloaded /etc/s.yaml: 1 change\n"
		  "  weight of backend 198.18.1.10 on 198.18.0.100:80/tcp: 100 -> 7\n"
		  "waiting for a restart (read at start only):\n"
		  "  flows.table_size: running \"1048576\", file \"4096\"\n"
		  "    note: sluiced --detach first\n");
	CHECK_STR("no request args", fk.last_req, "{\"cmd\":\"reload\"}");
	capture_free(&c);

	/* Rejected: the reply is ok, the reload is not: exit 1, the reason on stderr. */
	fk.reply = "{\"ok\":true,\"result\":{\"applied\":false,\"changes\":[],\"restart\":[],"
		   "\"rejected\":\"s.yaml:3:5: flows.table_size: \\\"x\\\" is not a number\"}}";
	CHECK_INT(CHECK_HERE, run_line("reload --exact", &fk, &c),
		  SL_CLI_EXIT_FAIL);
	CHECK_STR("exact", fk.last_req, "{\"cmd\":\"reload\",\"exact\":true}");
	CHECK_STR("rejected out", c.out, "");
	CHECK_CONTAINS("rejected err", c.err,
		       "sluicectl: cannot reload the configuration: s.yaml:3:5: flows.table_size");
	CHECK_CONTAINS("rejected hint", c.err, "hint: nothing changed");
	capture_free(&c);

	/* -j: the result on stdout either way; the exit code still says. */
	CHECK_INT(CHECK_HERE, run_line("-j reload", &fk, &c), SL_CLI_EXIT_FAIL);
	CHECK_CONTAINS("json", c.out, "\"applied\": false");
	capture_free(&c);

	fk.reply = "{\"ok\":true,\"result\":{}}";
	CHECK_INT(CHECK_HERE, run_line("reload", &fk, &c), SL_CLI_EXIT_FAIL);
	CHECK_CONTAINS("malformed", c.err, "no \"applied\"");
	capture_free(&c);
}

static void test_flows_table(void **state)
{
	struct fake fk = {
		.reply = "{\"ok\":true,\"result\":{\"flows\":["
			 "{\"client\":\"198.18.10.2\",\"client_port\":40000,\"vip\":\"198.18.0.100:80/tcp\","
			 "\"backend\":\"198.18.1.10\",\"state\":\"open\",\"idle_ms\":1999,\"age_ms\":65000},"
			 "{\"client\":\"fd00:10::2\",\"client_port\":5,\"vip\":\"[fd00::100]:443/udp\","
			 "\"backend\":\"fd00::10\",\"state\":\"closing\",\"idle_ms\":0,\"age_ms\":0}],"
			 "\"scanned\":9,\"matched\":2,\"truncated\":true}}",
	};
	struct captured c;

	(void)state;
	CHECK_INT(CHECK_HERE, run_line("flows --limit 2", &fk, &c), 0);
	CHECK_STR("flows", c.out,
		  "CLIENT             VIP                  BACKEND      STATE    IDLE   AGE\n"
		  "198.18.10.2:40000  198.18.0.100:80/tcp  198.18.1.10  open       1s  1m5s\n"
		  "[fd00:10::2]:5     [fd00::100]:443/udp  fd00::10     closing    0s    0s\n"
		  "(first 2 shown; more match: raise --limit, up to 4096)\n");
	capture_free(&c);

	/* A scan that hit sluiced's time budget says so. */
	fk.reply = "{\"ok\":true,\"result\":{\"flows\":[],\"scanned\":123456,"
		   "\"matched\":0,\"truncated\":false,\"complete\":false}}";
	CHECK_INT(CHECK_HERE, run_line("flows 198.18.1.10", &fk, &c), 0);
	CHECK_CONTAINS("partial", c.out, "(0 flows)\n(the scan stopped after 123456 entries");
	capture_free(&c);
}

static void test_backend_status_block(void **state)
{
	struct fake fk = {
		.reply = "{\"ok\":true,\"result\":[{\"vip\":\"198.18.0.100:80/tcp\","
			 "\"backend\":\"198.18.1.10\",\"state\":\"draining\",\"health\":\"down\","
			 "\"health_reason\":\"HTTP 503\",\"health_check\":\"http\",\"flows\":37,"
			 "\"timed_out\":false,\"flows_left\":0,\"lost\":2,\"evicted\":5,\"rescued\":4,"
			 "\"drain_started_unix_ms\":1699999940000,\"deadline_unix_ms\":1700000041000}]}",
	};
	struct captured c;

	(void)state;
	CHECK_INT(CHECK_HERE, run_line("backend status 198.18.1.10", &fk, &c),
		  0);
	CHECK_STR("status", c.out,
		  "backend 198.18.1.10 on 198.18.0.100:80/tcp\n"
		  "  state          draining\n"
		  "  health         down (check: http)\n"
		  "  last failure   HTTP 503\n"
		  "  flows left     37\n"
		  "  drain started  1m ago\n"
		  "  deadline       in 41s\n"
		  "  lost           2\n"
		  "  evicted        5\n"
		  "  rescued        4\n");
	capture_free(&c);

	fk.reply = "{\"ok\":true,\"result\":{\"vip\":\"198.18.0.100:80/tcp\","
		   "\"backend\":\"198.18.1.10\",\"weight\":5,\"old_weight\":100}}";
	CHECK_INT(
		CHECK_HERE,
		run_line(
			"backend set 198.18.0.100:80/tcp 198.18.1.10 --weight 5",
			&fk, &c),
		0);
	CHECK_STR("set", c.out, "backend 198.18.1.10 on 198.18.0.100:80/tcp: weight 100 -> 5\n");
	capture_free(&c);
}

static void test_drain_table(void **state)
{
	/* fake_now() + 299.5 s: shown rounded up, as "in 5m". */
	struct fake fk = {
		.reply = "{\"ok\":true,\"result\":[{\"vip\":\"198.18.0.100:80/tcp\",\"backend\":\"198.18.1.10\","
			 "\"state\":\"draining\",\"flows\":42,\"handshakes\":1,\"deadline_unix_ms\":1700000299500}]}",
	};
	struct captured c;

	(void)state;
	CHECK_INT(CHECK_HERE,
		  run_line("backend drain 198.18.0.100:80/tcp 198.18.1.10", &fk,
			   &c),
		  0);
	CHECK_STR(
		CHECK_HERE, c.out,
		"VIP                  BACKEND      STATE     FLOWS  HANDSHAKES  DEADLINE\n"
		"198.18.0.100:80/tcp  198.18.1.10  draining     42           1  in 5m\n");
	CHECK_INT(CHECK_HERE, fk.calls, 1); /* no --wait: no status polling */
	capture_free(&c);
}

static void test_format_until(void **state)
{
	char buf[SL_DURATION_STR_MAX];

	(void)state;
	sl_cli_format_until(0, 1000, buf, sizeof(buf));
	CHECK_STR(CHECK_HERE, buf, "-");
	sl_cli_format_until(1000, 1000, buf, sizeof(buf));
	CHECK_STR(CHECK_HERE, buf, "passed");
	sl_cli_format_until(1001, 1000, buf, sizeof(buf));
	CHECK_STR(CHECK_HERE, buf, "1s");
	sl_cli_format_until(1000 + 41000, 1000, buf, sizeof(buf));
	CHECK_STR(CHECK_HERE, buf, "41s");
	sl_cli_format_until(1000 + 5400000, 1000, buf, sizeof(buf));
	CHECK_STR(CHECK_HERE, buf, "1h30m");
}

/* --- status ------------------------------------------------------------- */

static const char status_json[] =
	"{\"instance\":\"default\",\"version\":\"0.1.0\",\"uptime_s\":11525,"
	"\"interfaces\":[{\"name\":\"eth0\",\"mode\":\"native\"},{\"name\":\"eth1\",\"mode\":\"skb\"}],"
	"\"flows\":{\"entries\":1234,\"capacity\":1048576,\"new_entries\":12,\"new_capacity\":65536},"
	"\"vips\":3,\"maglev_table_size\":65537,\"backends\":12,\"draining\":2,\"last_sweep_ms\":120,"
	"\"reasons\":{\"fwd_tx\":123456,\"pass_not_ip\":0,\"drop_no_backend\":12,\"drop_future\":1}}";

static void test_status_summary(void **state)
{
	struct json_object *st = json_tokener_parse(status_json);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	sl_cli_print_status(f, st, false);
	fclose(f);
	CHECK_STR(
		CHECK_HERE, buf,
		"instance    default\n"
		"version     0.1.0\n"
		"uptime      3h12m5s\n"
		"interfaces  eth0 (native), eth1 (skb)\n"
		"flows       1234 of 1048576 (0.1%)\n"
		"new flows   12 of 65536 (0.0%)\n"
		"vips        3 (Maglev tables of 65537 slots)\n"
		"backends    12 (2 draining)\n"
		"last sweep  120 ms\n"
		"\n"
		"REASON           PACKETS  DESCRIPTION\n"
		"fwd_tx            123456  forwarded back out the ingress interface\n"
		"drop_no_backend       12  VIP has no backend in its table\n"
		"drop_future            1\n");
	free(buf);

	/* -v: the zero counters too. */
	buf = NULL;
	f = open_memstream(&buf, &len);
	sl_cli_print_status(f, st, true);
	fclose(f);
	CHECK_CONTAINS(CHECK_HERE, buf,
		       "pass_not_ip            0  not IPv4/IPv6\n");
	free(buf);
	json_object_put(st);
}

static void test_status_nothing_counted(void **state)
{
	struct json_object *st = json_tokener_parse("{\"vips\":0,\"reasons\":{\"fwd_tx\":0}}");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	sl_cli_print_status(f, st, false);
	fclose(f);
	CHECK_STR(CHECK_HERE, buf,
		  "vips        0\npackets     none counted yet\n");
	free(buf);
	json_object_put(st);
}

/* The cluster line of @json's status (without its trailing newline). */
static void check_cluster_line(const char *json, const char *want)
{
	struct json_object *st = json_tokener_parse(json);
	char *buf = NULL, line[512];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	sl_cli_print_status(f, st, false);
	fclose(f);
	snprintf(line, sizeof(line), "cluster     %s\n", want);
	CHECK_CONTAINS(CHECK_HERE, buf, line);
	free(buf);
	json_object_put(st);
}

static void test_status_cluster(void **state)
{
	struct json_object *st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	check_cluster_line("{\"cluster\":{\"enabled\":true,\"connected\":true,"
			   "\"desired_absent\":false,\"applied_revision\":41,"
			   "\"rejected_revision\":0,\"rejected\":\"\"}}",
			   "connected, revision 41 in force");
	check_cluster_line("{\"cluster\":{\"enabled\":true,\"connected\":true,"
			   "\"desired_absent\":true,\"applied_revision\":0,"
			   "\"rejected_revision\":0}}",
			   "connected, no revision applied yet, the desired "
			   "state is absent from etcd");
	check_cluster_line("{\"cluster\":{\"enabled\":true,\"connected\":false,"
			   "\"last_error\":\"connection refused\","
			   "\"applied_revision\":41,\"rejected_revision\":43,"
			   "\"rejected\":\"vips[0]: bad\"}}",
			   "not connected (connection refused), revision 41 in "
			   "force, revision 43 refused: vips[0]: bad");
	/* An older refusal, superseded by a revision applied since: not shown. */
	check_cluster_line("{\"cluster\":{\"enabled\":true,\"connected\":true,"
			   "\"applied_revision\":44,\"rejected_revision\":43,"
			   "\"box_name_conflict\":true,"
			   "\"box_name_holder\":\"edge2/default\"}}",
			   "connected, revision 44 in force, box name held by "
			   "edge2/default");
	/* Not under cluster: no line. */
	st = json_tokener_parse("{\"cluster\":{\"enabled\":false},\"vips\":0}");
	f = open_memstream(&buf, &len);
	sl_cli_print_status(f, st, false);
	fclose(f);
	CHECK_TRUE(CHECK_HERE, "no cluster line", !strstr(buf, "cluster"));
	free(buf);
	json_object_put(st);
}

/* --- drain verdicts ----------------------------------------------------- */

static const struct {
	const char *name;
	const char *result;
	enum sl_drain_phase phase;
	int exit_code;
	long long flows;
	size_t timed_out;
} drain_cases[] = {
	{ "one draining",
	  "[{\"vip\":\"v1\",\"state\":\"draining\",\"flows\":37,\"deadline_unix_ms\":5000}]",
	  SL_DRAIN_PENDING, -1, 37, 0 },
	{ "one drained",
	  "[{\"vip\":\"v1\",\"state\":\"drained\",\"flows\":0,\"timed_out\":false,\"flows_left\":0}]",
	  SL_DRAIN_DONE, 0, 0, 0 },
	{ "one timed out",
	  "[{\"vip\":\"v1\",\"state\":\"drained\",\"timed_out\":true,\"flows_left\":12}]",
	  SL_DRAIN_TIMED_OUT, 3, 0, 1 },
	{ "mixed: one still draining",
	  "[{\"vip\":\"v1\",\"state\":\"drained\",\"timed_out\":false},"
	  "{\"vip\":\"v2\",\"state\":\"draining\",\"flows\":4}]",
	  SL_DRAIN_PENDING, -1, 4, 0 },
	{ "all drained, one timed out",
	  "[{\"vip\":\"v1\",\"state\":\"drained\",\"timed_out\":false},"
	  "{\"vip\":\"v2\",\"state\":\"drained\",\"timed_out\":true,\"flows_left\":2}]",
	  SL_DRAIN_TIMED_OUT, 3, 0, 1 },
	{ "undrained meanwhile",
	  "[{\"vip\":\"v1\",\"state\":\"active\"},{\"vip\":\"v2\",\"state\":\"draining\"}]",
	  SL_DRAIN_CANCELLED, 1, 0, 0 },
	{ "empty", "[]", SL_DRAIN_EMPTY, 1, 0, 0 },
	{ "not an array", "{\"state\":\"drained\"}", SL_DRAIN_MALFORMED, 1, 0, 0 },
	{ "unknown state", "[{\"state\":\"resting\"}]", SL_DRAIN_MALFORMED, 1, 0, 0 },
	{ "no state", "[{\"flows\":1}]", SL_DRAIN_MALFORMED, 1, 0, 0 },
};

static void test_drain_verdicts(void **state)
{
	struct sl_drain_tally t;
	struct json_object *r;
	enum sl_drain_phase p;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(drain_cases); i++) {
		const char *tc = drain_cases[i].name;

		r = json_tokener_parse(drain_cases[i].result);
		p = sl_cli_drain_tally(r, &t);
		CHECK_INT(tc, p, drain_cases[i].phase);
		CHECK_INT(tc, sl_cli_drain_exit(p), drain_cases[i].exit_code);
		if (p != SL_DRAIN_MALFORMED) {
			CHECK_INT(tc, t.flows, drain_cases[i].flows);
			CHECK_INT(tc, t.timed_out, drain_cases[i].timed_out);
		}
		json_object_put(r);
	}
}

static void test_progress_line(void **state)
{
	struct sl_drain_tally t = {
		.entries = 1, .draining = 1, .flows = 37, .deadline_ms = 100000,
		.vip = "198.18.0.100:80/tcp",
	};
	char buf[256];

	(void)state;
	sl_cli_format_progress(buf, sizeof(buf), "198.18.1.10", &t, 59000);
	CHECK_STR(
		CHECK_HERE, buf,
		"draining 198.18.1.10 on 198.18.0.100:80/tcp: 37 flows left, 41s to deadline");
	t.flows = 1;
	t.entries = 3;
	sl_cli_format_progress(buf, sizeof(buf), "198.18.1.10", &t, 100000);
	CHECK_STR(
		CHECK_HERE, buf,
		"draining 198.18.1.10 on 3 VIPs: 1 flow left, deadline passed");
	t.deadline_ms = 0;
	sl_cli_format_progress(buf, sizeof(buf), "198.18.1.10", &t, 100000);
	CHECK_STR(CHECK_HERE, buf,
		  "draining 198.18.1.10 on 3 VIPs: 1 flow left");
}

/* --cluster switches to the fleet's commands; the same arguments are checked. */
static void test_build_cluster(void **state)
{
	static const struct {
		const char *line;
		int rc;
		const char *cmd, *err;
	} cases[] = {
		{ "--cluster http://198.18.0.1:2379 backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait --timeout 1m",
		  0, "fleet.backend.drain", NULL },
		{ "--cluster http://a:1,https://b:2 --prefix /s/dc1 box drain edge-1",
		  0, "fleet.box.drain", NULL },
		{ "--cluster http://a:1 box list", 0, "fleet.box.list", NULL },
		{ "--cluster http://a:1 backend list", 0, "fleet.backend.list",
		  NULL },
		{ "--cluster http://a:1 box drain a/b", -EINVAL, NULL,
		  "box name" },
		{ "--cluster http://a:1 box drain", -EINVAL, NULL,
		  "missing BOX" },
		{ "--cluster a:1 box list", -EINVAL, NULL,
		  "expected http://HOST:PORT" },
		{ "--prefix /s box list", -EINVAL, NULL,
		  "--prefix goes with --cluster" },
		{ "--cluster http://a:1 --prefix /s/ box list", -EINVAL, NULL,
		  "trailing" },
		{ "--cluster http://a:1 vip list", -EINVAL, NULL,
		  "unknown command" },
		{ "--cluster http://a:1 backend drain 198.18.0.100:80/tcp 198.18.1.10 --limit 3",
		  -EINVAL, NULL, "--limit" },
		{ "--cluster http://a:1 backend drain 198.18.0.100:80/tcp 198.18.1.10 --wait --timeout 0s",
		  -EINVAL, NULL,
		  "--timeout: invalid duration \"0s\" (expected 1ms to 596h)" },
		/* Without --cluster, the box's table again. */
		{ "box drain", 0, "box.drain", NULL },
	};
	struct sl_cli_cmd cmd;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(cases[i].line,
			  parse_line(cases[i].line, &cmd, err, sizeof(err)),
			  cases[i].rc);
		if (cases[i].cmd)
			CHECK_STR(cases[i].line, cmd.verb->cmd, cases[i].cmd);
		if (cases[i].err)
			CHECK_CONTAINS(cases[i].line, err, cases[i].err);
		sl_cli_cmd_free(&cmd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_good),
		cmocka_unit_test(test_build_cluster),
		cmocka_unit_test(test_build_usage_errors),
		cmocka_unit_test(test_usage_hint),
		cmocka_unit_test(test_socket_choice),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_table_consistent),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_check_reply),
		cmocka_unit_test(test_daemon_error_line),
		cmocka_unit_test(test_call_error_lines),
		cmocka_unit_test(test_json_passthrough),
		cmocka_unit_test(test_daemon_error_not_repeated),
		cmocka_unit_test(test_json_error_object),
		cmocka_unit_test(test_backend_table),
		cmocka_unit_test(test_drain_table),
		cmocka_unit_test(test_reload_output),
		cmocka_unit_test(test_flows_table),
		cmocka_unit_test(test_backend_status_block),
		cmocka_unit_test(test_format_until),
		cmocka_unit_test(test_status_summary),
		cmocka_unit_test(test_status_cluster),
		cmocka_unit_test(test_status_nothing_counted),
		cmocka_unit_test(test_drain_verdicts),
		cmocka_unit_test(test_progress_line),
		cmocka_unit_test(test_config_diff_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
