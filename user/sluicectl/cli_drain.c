/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sluicectl backend drain --wait: poll backend.status until the drain is over. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "ctl.h"
#include "json_get.h"

#define LINE_MAX_LEN	256

static long long get_int(struct json_object *o, const char *key, long long def)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x) ||
	    !(json_object_is_type(x, json_type_int) ||
	      json_object_is_type(x, json_type_double)))
		return def;
	return json_object_get_int64(x);
}

/* Adds one entry to t; false if it has no state we know. */
static bool tally_entry(struct json_object *e, struct sl_drain_tally *t,
			bool *active)
{
	const char *state = sl_cli_json_str(e, "state");
	long long deadline;

	if (!json_object_is_type(e, json_type_object) || !state)
		return false;
	if (!t->vip)
		t->vip = sl_cli_json_str(e, "vip");
	t->entries++;
	deadline = get_int(e, SL_CTL_KEY_DEADLINE, 0);
	if (deadline > 0 && (__u64)deadline > t->deadline_ms)
		t->deadline_ms = deadline;
	if (!strcmp(state, "draining")) {
		t->draining++;
		t->flows += get_int(e, "flows", 0);
		t->handshakes += get_int(e, "handshakes", 0);
	} else if (!strcmp(state, "drained")) {
		if (sl_json_true(e, "timed_out"))
			t->timed_out++;
	} else if (!strcmp(state, "active")) {
		*active = true;
	} else {
		return false;
	}
	return true;
}

enum sl_drain_phase sl_cli_drain_tally(struct json_object *result,
				       struct sl_drain_tally *t)
{
	bool active = false;
	size_t i, n;

	memset(t, 0, sizeof(*t));
	if (!json_object_is_type(result, json_type_array))
		return SL_DRAIN_MALFORMED;
	n = json_object_array_length(result);
	for (i = 0; i < n; i++)
		if (!tally_entry(json_object_array_get_idx(result, i), t, &active))
			return SL_DRAIN_MALFORMED;
	if (!n)
		return SL_DRAIN_EMPTY;
	/* Undrained under our feet: it will never reach "drained". */
	if (active)
		return SL_DRAIN_CANCELLED;
	if (t->draining)
		return SL_DRAIN_PENDING;
	return t->timed_out ? SL_DRAIN_TIMED_OUT : SL_DRAIN_DONE;
}

int sl_cli_drain_exit(enum sl_drain_phase phase)
{
	switch (phase) {
	case SL_DRAIN_PENDING:
		return -1;
	case SL_DRAIN_DONE:
		return SL_CLI_EXIT_OK;
	case SL_DRAIN_TIMED_OUT:
		return SL_CLI_EXIT_DRAIN_TIMEOUT;
	default:
		return SL_CLI_EXIT_FAIL;
	}
}

static void clean(char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			*s = '?';
}

void sl_cli_format_progress(char *buf, size_t len, const char *backend,
			    const struct sl_drain_tally *t, __u64 now_ms)
{
	char where[SL_VIP_STR_MAX + 16], until[SL_DURATION_STR_MAX];
	int off;

	if (t->entries == 1 && t->vip)
		snprintf(where, sizeof(where), "%s", t->vip);
	else
		snprintf(where, sizeof(where), "%zu VIPs", t->entries);
	if (t->handshakes > 0)
		off = snprintf(buf, len, "draining %s on %s: %lld flow%s and %lld handshake%s left",
			       backend, where, t->flows, t->flows == 1 ? "" : "s",
			       t->handshakes, t->handshakes == 1 ? "" : "s");
	else
		off = snprintf(buf, len, "draining %s on %s: %lld flow%s left", backend,
			       where, t->flows, t->flows == 1 ? "" : "s");
	if (off < 0 || (size_t)off >= len || !t->deadline_ms)
		goto out;
	if (t->deadline_ms <= now_ms) {
		snprintf(buf + off, len - off, ", deadline passed");
	} else {
		sl_cli_format_until(t->deadline_ms, now_ms, until, sizeof(until));
		snprintf(buf + off, len - off, ", %s to deadline", until);
	}
out:
	clean(buf);
}

/*
 * A re-drain says what it did to the deadline (sluiced's "deadline" field):
 * moved by the --timeout given, or kept when none was given.
 */
void sl_cli_drain_notes(const struct sl_cli_io *io, struct json_object *result)
{
	char until[SL_DURATION_STR_MAX], was[SL_DURATION_STR_MAX];
	const char *what, *vip, *be;
	__u64 now = io->now_ms(io);
	struct json_object *e;
	size_t i, n;

	if (!json_object_is_type(result, json_type_array))
		return;
	n = json_object_array_length(result);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(result, i);
		what = sl_cli_json_str(e, "deadline");
		vip = sl_cli_json_str(e, "vip");
		be = sl_cli_json_str(e, "backend");
		if (!what || !vip || !be)
			continue;
		sl_cli_format_until(get_int(e, SL_CTL_KEY_DEADLINE, 0), now, until, sizeof(until));
		if (!strcmp(what, "moved")) {
			sl_cli_format_until(get_int(e, "previous_deadline_unix_ms", 0), now,
					    was, sizeof(was));
			fprintf(io->err, "sluicectl: %s on %s was already draining: deadline "
				"moved to %s from now (was %s)\n", be, vip, until, was);
		} else if (!strcmp(what, "kept")) {
			fprintf(io->err, "sluicectl: %s on %s was already draining: deadline "
				"kept (%s from now); give --timeout to move it\n", be, vip, until);
		}
	}
}

/* --- the wait loop ------------------------------------------------------ */

struct drain_wait {
	const struct sl_cli_cmd *cmd;
	const struct sl_cli_io *io;
	__u64 deadline_ms;	/* latest deadline sluiced reported; 0 = none */
	__u64 lost_since;	/* sluiced unreachable since (Unix ms); 0 = fine */
	bool noted;		/* the "lost contact" note went out (once only) */
	bool line_open;		/* a \r progress line still needs its newline */
	long long last_flows;	/* count last printed on a non-terminal; -1 = none */
};

static bool stopped(const struct sl_cli_io *io)
{
	return io->stop && *io->stop;
}

/* Any other output goes below the live progress line, not over it. */
static void end_line(struct drain_wait *w)
{
	if (w->line_open)
		fputc('\n', w->io->err);
	w->line_open = false;
}

/*
 * A terminal gets one line rewritten in place (clear to end of line, as
 * the text can shrink); a log gets a line only when the count moves, so a
 * long drain does not flood it.
 */
static void progress(struct drain_wait *w, const struct sl_drain_tally *t)
{
	char line[LINE_MAX_LEN];

	sl_cli_format_progress(line, sizeof(line), w->cmd->backend, t,
			       w->io->now_ms(w->io));
	if (w->io->err_tty) {
		fprintf(w->io->err, "\r%s\033[K", line);
		w->line_open = true;
	} else if (t->flows + t->handshakes != w->last_flows) {
		fprintf(w->io->err, "%s\n", line);
		w->last_flows = t->flows + t->handshakes;
	}
	fflush(w->io->err);
}

static int interrupted(struct drain_wait *w)
{
	const struct sl_cli_cmd *c = w->cmd;

	end_line(w);
	fprintf(w->io->err,
		"sluicectl: interrupted; the drain goes on in sluiced (to cancel it: sluicectl backend undrain %s%s%s)\n",
		c->vip, c->vip[0] ? " " : "", c->backend);
	return SL_CLI_EXIT_INTERRUPTED;
}

/*
 * sluiced persists drains and resumes them after a restart, so losing it
 * is worth waiting out: until the deadline (what the operator asked to
 * wait for anyway) plus a grace for the restart. Returns -1 to go on.
 */
static int lost(struct drain_wait *w, int err)
{
	const struct sl_cli_io *io = w->io;
	char left[SL_DURATION_STR_MAX];
	__u64 now = io->now_ms(io), give_up;

	if (!w->lost_since)
		w->lost_since = now;
	give_up = (w->deadline_ms > w->lost_since ? w->deadline_ms : w->lost_since) +
		  SL_CLI_LOST_GRACE_MS;
	if (now >= give_up) {
		end_line(w);
		if (err == -EBUSY)
			sl_cli_report(io, w->cmd, "sluiced kept refusing: too many control connections",
				      "the drain goes on in sluiced; see who holds its control socket");
		else
			sl_cli_report_call_error(io, w->cmd, err);
		return SL_CLI_EXIT_FAIL;
	}
	if (!w->noted) {
		end_line(w);
		sl_cli_format_until(give_up, now, left, sizeof(left));
		fprintf(io->err, "sluicectl: lost contact with sluiced (%s); retrying for up to %s\n",
			err == -EBUSY ? "too many control connections" : strerror(-err), left);
		w->noted = true;
	}
	return -1;
}

/* The drain is stuck in sluiced: its deadline passed long ago. */
static bool stuck(const struct drain_wait *w)
{
	return w->deadline_ms &&
	       w->io->now_ms(w->io) > w->deadline_ms + SL_CLI_STUCK_GRACE_MS;
}

static void report_entries(struct drain_wait *w, struct json_object *result)
{
	struct json_object *e;
	const char *vip, *be;
	size_t i, n = json_object_array_length(result);
	long long left;

	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(result, i);
		vip = sl_cli_json_str(e, "vip");
		be = sl_cli_json_str(e, "backend");
		if (!vip || !be)
			continue;
		left = get_int(e, "flows_left", get_int(e, "flows", 0));
		if (sl_json_true(e, "timed_out"))
			fprintf(w->io->err,
				"sluicectl: drain of %s on %s timed out with %lld flow%s left%s\n",
				be, vip, left, left == 1 ? "" : "s",
				sl_json_true(e, "unverifiable") ?
					" (the drain table had no room for all "
					"its flows, so no count could end it "
					"early: raise flows.drain_table_size)" :
					"");
		else if (!w->cmd->json)
			fprintf(w->io->out, "drained %s on %s\n", be, vip);
	}
}

static int finish(struct drain_wait *w, enum sl_drain_phase phase,
		  struct json_object *result)
{
	end_line(w);
	switch (phase) {
	case SL_DRAIN_DONE:
	case SL_DRAIN_TIMED_OUT:
		if (w->cmd->json)
			sl_cli_print_json(w->io->out, result);
		report_entries(w, result);
		break;
	case SL_DRAIN_CANCELLED:
		sl_cli_report(w->io, w->cmd, "the backend is active again (undrained)", NULL);
		break;
	case SL_DRAIN_EMPTY:
		sl_cli_report(w->io, w->cmd, "sluiced no longer lists the backend", NULL);
		break;
	default:
		sl_cli_report(w->io, w->cmd, "malformed backend.status reply from sluiced",
			      "sluicectl and sluiced may be different versions");
		break;
	}
	return sl_cli_drain_exit(phase);
}

/* backend.status with the drain's own vip (if any) and backend. */
static struct json_object *status_request(const struct sl_cli_cmd *c)
{
	struct json_object *req = json_object_new_object();

	if (!req)
		return NULL;
	json_object_object_add(req, "cmd", json_object_new_string("backend.status"));
	if (c->vip[0])
		json_object_object_add(req, "vip", json_object_new_string(c->vip));
	json_object_object_add(req, "backend", json_object_new_string(c->backend));
	return req;
}

static int give_up_stuck(struct drain_wait *w)
{
	char late[SL_DURATION_STR_MAX], msg[LINE_MAX_LEN];

	end_line(w);
	sl_format_duration(SL_CLI_STUCK_GRACE_MS, late, sizeof(late));
	snprintf(msg, sizeof(msg), "sluiced still reports it draining %s after its deadline",
		 late);
	sl_cli_report(w->io, w->cmd, msg, "the drain goes on in sluiced; see its log");
	return SL_CLI_EXIT_FAIL;
}

/* A status reply: progress, or the end of the wait. */
static int on_status(struct drain_wait *w, struct json_object *result)
{
	struct sl_drain_tally t;
	enum sl_drain_phase phase;

	phase = sl_cli_drain_tally(result, &t);
	/* The latest word counts: a repeated drain may have moved the deadline. */
	if (t.deadline_ms)
		w->deadline_ms = t.deadline_ms;
	if (phase != SL_DRAIN_PENDING)
		return finish(w, phase, result);
	progress(w, &t);
	return stuck(w) ? give_up_stuck(w) : -1;
}

/* The connection-limit refusal (ctl.h): transient, unlike any other error. */
static bool busy(struct json_object *reply)
{
	const char *name = sl_cli_json_str(reply, "errno");

	return name && !strcmp(name, "EBUSY");
}

/* One poll. Returns an exit code when the wait is over, else -1. */
static int poll_once(struct drain_wait *w, struct json_object *req)
{
	struct json_object *reply = NULL, *result;
	const char *error, *hint;
	int ret;

	ret = w->io->call(w->io, req, &reply);
	if (stopped(w->io))
		ret = interrupted(w);
	else if (ret < 0)
		ret = lost(w, ret);
	if (ret)
		goto out;
	switch (sl_cli_check_reply(reply, &result, &error, &hint)) {
	case SL_REPLY_OK:
		w->lost_since = 0;
		ret = on_status(w, result);
		break;
	case SL_REPLY_ERROR:
		/* sluiced was busy, not unwilling: wait it out like a restart. */
		if (busy(reply)) {
			ret = lost(w, -EBUSY);
			break;
		}
		end_line(w);
		sl_cli_report_reply(w->io, w->cmd, error, hint);
		ret = SL_CLI_EXIT_FAIL;
		break;
	default:
		ret = finish(w, SL_DRAIN_MALFORMED, NULL);
		break;
	}
out:
	json_object_put(reply);
	return ret;
}

int sl_cli_drain_wait(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io,
		      struct json_object *drain_result)
{
	struct drain_wait w = { .cmd = cmd, .io = io, .last_flows = -1 };
	struct json_object *req;
	struct sl_drain_tally t;
	enum sl_drain_phase phase;
	int ret = -1;

	phase = sl_cli_drain_tally(drain_result, &t);
	if (phase == SL_DRAIN_EMPTY || phase == SL_DRAIN_MALFORMED ||
	    phase == SL_DRAIN_CANCELLED)
		return finish(&w, phase, drain_result);
	w.deadline_ms = t.deadline_ms;
	req = status_request(cmd);
	if (!req) {
		sl_cli_report(io, cmd, "out of memory", NULL);
		return SL_CLI_EXIT_FAIL;
	}
	progress(&w, &t);
	while (ret < 0) {
		if (stopped(io)) {
			ret = interrupted(&w);
			break;
		}
		io->sleep_ms(io, SL_CLI_POLL_MS);
		ret = stopped(io) ? interrupted(&w) : poll_once(&w, req);
	}
	json_object_put(req);
	fflush(io->out);
	return ret;
}
