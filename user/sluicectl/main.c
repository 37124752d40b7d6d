/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sluicectl: the operator's CLI over sluiced's control socket. The logic
 * (command table, validation, output, drain --wait) is in user/sluicectl/cli*.c;
 * this file wires it to the socket, the clock, SIGINT and the terminal.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sluice/version.h"
#include "ctl.h"

static volatile sig_atomic_t stop_requested;

static void on_sigint(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * No SA_RESTART: the blocking poll() in the client and the sleep between
 * status polls must return so the wait loop sees the flag at once.
 */
static void catch_sigint(void)
{
	struct sigaction sa = { .sa_handler = on_sigint };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

/* --verbose's copy of @req: what `config diff` sends to compare is not shown. */
static void print_request(const char *sock, struct json_object *req)
{
	struct json_object *shown = NULL, *cmp;

	if (json_object_deep_copy(req, &shown, NULL))
		return;
	if (json_object_object_get_ex(shown, SL_CTL_KEY_COMPARE, &cmp) &&
	    json_object_is_type(cmp, json_type_object)) {
		json_object_object_foreach(cmp, name, val) {
			(void)val;
			json_object_object_add(
				cmp, name,
				json_object_new_string("(not shown)"));
		}
	}
	fprintf(stderr, "sluicectl: %s -> %s\n", sock,
		json_object_to_json_string_ext(
			shown, JSON_C_TO_STRING_PLAIN |
				       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(shown);
}

static int ctl_call(const struct sl_cli_io *io, struct json_object *req,
		    struct json_object **reply)
{
	const struct sl_cli_cmd *cmd = io->ctx;
	int ret;

	if (cmd->verbose)
		print_request(cmd->sock, req);
	ret = sl_ctl_call(cmd->sock, req, reply, sl_cli_call_timeout_ms(cmd));
	if (cmd->verbose && ret)
		fprintf(stderr, "sluicectl: <- %s\n", strerror(-ret));
	else if (cmd->verbose)
		fprintf(stderr, "sluicectl: <- %s\n",
			json_object_to_json_string_ext(*reply, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	return ret;
}

/* Wall clock: drain deadlines arrive from sluiced as Unix ms. */
static __u64 wall_ms(const struct sl_cli_io *io)
{
	struct timespec ts;

	(void)io;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __u64 boot_ms(const struct sl_cli_io *io)
{
	struct timespec ts;

	(void)io;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One nanosleep(): a signal ends it early, which is what SIGINT wants. */
static void sleep_ms(const struct sl_cli_io *io, unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	(void)io;
	nanosleep(&ts, NULL);
}

static int run(const struct sl_cli_cmd *cmd)
{
	struct sl_cli_io io = {
		.call = ctl_call,
		.now_ms = wall_ms,
		.mono_ms = boot_ms,
		.sleep_ms = sleep_ms,
		.ctx = (void *)cmd,
		.out = stdout,
		.err = stderr,
		.err_tty = isatty(STDERR_FILENO) == 1,
		.stop = &stop_requested,
	};

	if (cmd->wait || cmd->verb->run == sl_cli_run_top)
		catch_sigint();
	return sl_cli_run(cmd, &io);
}

int main(int argc, char **argv)
{
	struct sl_cli_cmd cmd;
	char err[512];
	int ret;

	ret = sl_cli_build_request(argc, argv, &cmd, err, sizeof(err));
	if (ret == -EINVAL) {
		fprintf(stderr, "sluicectl: %s\n", err);
		sl_cli_usage_hint(stderr, cmd.verb);
		if (cmd.json)
			sl_cli_print_error_json(stdout, err, "see sluicectl --help");
		ret = SL_CLI_EXIT_USAGE;
	} else if (ret) {
		fprintf(stderr, "sluicectl: %s\n", strerror(-ret));
		if (cmd.json)
			sl_cli_print_error_json(stdout, strerror(-ret), NULL);
		ret = SL_CLI_EXIT_FAIL;
	} else if (cmd.action == SL_CLI_HELP) {
		sl_cli_help_cmd(stdout, &cmd);
	} else if (cmd.action == SL_CLI_VERSION) {
		printf("sluicectl %s\n", SL_VERSION);
	} else {
		ret = run(&cmd);
	}
	sl_cli_cmd_free(&cmd);
	/* Output that never arrived (full disk, closed pipe) is a failure. */
	if (fflush(stdout) || ferror(stdout)) {
		if (!ret)
			ret = SL_CLI_EXIT_FAIL;
	}
	return ret;
}
