/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sluicectl: sending a parsed command, checking the reply, reporting failures. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "cli.h"

#define DESCRIBE_MAX	192
#define MSG_MAX		512

enum sl_cli_reply sl_cli_check_reply(struct json_object *reply,
				     struct json_object **result,
				     const char **error, const char **hint)
{
	struct json_object *ok, *v;

	*result = NULL;
	*error = NULL;
	*hint = NULL;
	if (!json_object_is_type(reply, json_type_object) ||
	    !json_object_object_get_ex(reply, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean))
		return SL_REPLY_MALFORMED;
	if (json_object_get_boolean(ok)) {
		json_object_object_get_ex(reply, "result", result);
		return SL_REPLY_OK;
	}
	if (json_object_object_get_ex(reply, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		*error = json_object_get_string(v);
	if (json_object_object_get_ex(reply, "hint", &v) &&
	    json_object_is_type(v, json_type_string) && *json_object_get_string(v))
		*hint = json_object_get_string(v);
	if (!*error)
		*error = "sluiced refused the request without saying why";
	return SL_REPLY_ERROR;
}

/* Daemon text goes to a terminal: no escape sequences smuggled through. */
static void put_clean(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(isprint((unsigned char)*s) ? *s : '?', f);
}

/* One line saying what failed and why, once; then an optional hint. */
static void report(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
		   bool say_what, const char *msg, const char *hint)
{
	char what[DESCRIBE_MAX], line[DESCRIBE_MAX + MSG_MAX];

	sl_cli_describe(cmd, what, sizeof(what));
	if (say_what && what[0])
		snprintf(line, sizeof(line), "cannot %s: %s", what, msg);
	else
		snprintf(line, sizeof(line), "%s", msg);
	fputs("sluicectl: ", io->err);
	put_clean(io->err, line);
	fputc('\n', io->err);
	if (hint) {
		fputs("hint: ", io->err);
		put_clean(io->err, hint);
		fputc('\n', io->err);
	}
	if (cmd->json)
		sl_cli_print_error_json(io->out, line, hint);
}

void sl_cli_report(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
		   const char *msg, const char *hint)
{
	report(io, cmd, true, msg, hint);
}

/*
 * sluiced's errors that start "cannot ..." already say what failed
 * ("cannot drain backend X on V: no VIP has this backend"): not twice.
 */
void sl_cli_report_reply(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			 const char *error, const char *hint)
{
	report(io, cmd, strncmp(error, "cannot ", 7) != 0, error, hint);
}

void sl_cli_report_call_error(const struct sl_cli_io *io,
			      const struct sl_cli_cmd *cmd, int err)
{
	char msg[MSG_MAX], hint[MSG_MAX];

	hint[0] = '\0';
	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
	case -ENOTDIR:
		snprintf(msg, sizeof(msg), "cannot connect to %s: %s", cmd->sock,
			 strerror(-err));
		snprintf(hint, sizeof(hint), "is sluiced running? (socket %s)", cmd->sock);
		break;
	case -EACCES:
	case -EPERM:
		snprintf(msg, sizeof(msg), "cannot connect to %s: %s", cmd->sock,
			 strerror(-err));
		snprintf(hint, sizeof(hint), "the control socket is root-only; run as root");
		break;
	case -ETIMEDOUT:
		snprintf(msg, sizeof(msg), "no reply from sluiced within %ds (socket %s)",
			 sl_cli_call_timeout_ms(cmd) / 1000, cmd->sock);
		snprintf(hint, sizeof(hint), "sluiced may be overloaded or stuck; see its log");
		break;
	case -EPROTO:
		snprintf(msg, sizeof(msg), "the reply on %s is not JSON", cmd->sock);
		snprintf(hint, sizeof(hint), "is %s the control socket of sluiced?", cmd->sock);
		break;
	case -ECONNRESET:
	case -EPIPE:
		snprintf(msg, sizeof(msg), "sluiced closed the connection without a reply");
		snprintf(hint, sizeof(hint), "see sluiced's log");
		break;
	case -EINTR:
		snprintf(msg, sizeof(msg), "interrupted before sluiced replied");
		snprintf(hint, sizeof(hint), "the request may or may not have taken effect; check with sluicectl");
		break;
	case -EMSGSIZE:
		snprintf(msg, sizeof(msg), "request or reply too large for the control protocol");
		break;
	default:
		snprintf(msg, sizeof(msg), "talking to sluiced on %s: %s", cmd->sock,
			 strerror(-err));
		break;
	}
	sl_cli_report(io, cmd, msg, hint[0] ? hint : NULL);
}

/* Verbose trace of the exchange lives in main(); this only interprets it. */
int sl_cli_call_result(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io,
		       struct json_object *req, struct json_object **reply,
		       struct json_object **result)
{
	const char *error, *hint;
	int ret;

	*reply = NULL;
	*result = NULL;
	ret = io->call(io, req, reply);
	if (ret) {
		sl_cli_report_call_error(io, cmd, ret);
		return ret == -EINTR ? SL_CLI_EXIT_INTERRUPTED : SL_CLI_EXIT_FAIL;
	}
	switch (sl_cli_check_reply(*reply, result, &error, &hint)) {
	case SL_REPLY_OK:
		return SL_CLI_EXIT_OK;
	case SL_REPLY_ERROR:
		sl_cli_report_reply(io, cmd, error, hint);
		break;
	case SL_REPLY_MALFORMED:
		sl_cli_report(io, cmd, "malformed reply from sluiced (no boolean \"ok\")",
			      "sluicectl and sluiced may be different versions");
		break;
	}
	json_object_put(*reply);
	*reply = NULL;
	*result = NULL;
	return SL_CLI_EXIT_FAIL;
}

static void print_result(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io,
			 struct json_object *result)
{
	if (cmd->json)
		sl_cli_print_json(io->out, result);
	else if (cmd->verb->print)
		cmd->verb->print(io, cmd, result);
}

int sl_cli_run_simple(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io)
{
	struct json_object *reply, *result;
	int ret;

	ret = sl_cli_call_result(cmd, io, cmd->req, &reply, &result);
	if (ret)
		return ret;
	print_result(cmd, io, result);
	json_object_put(reply);
	return SL_CLI_EXIT_OK;
}

int sl_cli_run_drain(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io)
{
	struct json_object *reply, *result;
	int ret;

	ret = sl_cli_call_result(cmd, io, cmd->req, &reply, &result);
	if (ret)
		return ret;
	sl_cli_drain_notes(io, result);
	if (cmd->wait)
		ret = sl_cli_drain_wait(cmd, io, result);
	else
		print_result(cmd, io, result);
	json_object_put(reply);
	return ret;
}

int sl_cli_run(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io)
{
	int ret;

	ret = cmd->verb->run(cmd, io);
	fflush(io->out);
	return ret;
}
