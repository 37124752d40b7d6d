/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sluicectl's logic: the command table, argument parsing into a protocol
 * request, reply handling, output, and the drain --wait loop. It lives in
 * libsluice so unit tests drive it without a daemon; user/sluicectl/main.c
 * only wires it to the real socket, clock, signals and terminal.
 */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>
#include <linux/types.h>

#include "config.h"
#include "parse.h"

/* Exit codes: part of the CLI contract, documented in --help. */
#define SL_CLI_EXIT_OK		0
#define SL_CLI_EXIT_FAIL	1	/* sluiced said no, or was unreachable */
#define SL_CLI_EXIT_USAGE	2
#define SL_CLI_EXIT_DRAIN_TIMEOUT 3	/* drain --wait: deadline hit with flows left */
#define SL_CLI_EXIT_AUTH \
	4 /* --cluster: etcd refused the credentials, or TLS failed */
#define SL_CLI_EXIT_INTERRUPTED	130	/* SIGINT during drain --wait (128 + 2) */
/* config diff only, as diff(1): 1 = the file differs, 2 = it could not compare. */
#define SL_CLI_EXIT_DIFFERS	1
#define SL_CLI_EXIT_DIFF_TROUBLE 2

/* The default instance's socket: SL_CFG_SOCKET_FMT with its name. */
#define SL_CLI_DEFAULT_SOCKET	SL_CFG_SOCKET_DIR "/" SL_CFG_DEF_INSTANCE ".sock"
#define SL_CLI_SOCKET_ENV	"SLUICE_SOCKET"

/* The string at @key of the JSON object @o, or NULL (absent, not a string). */
const char *sl_cli_json_str(struct json_object *o, const char *key);

/* One request/reply; table rebuilds in sluiced take milliseconds. */
#define SL_CLI_CALL_TIMEOUT_MS	10000
/*
 * reload: sluiced parses the file in a limited child for up to 15 s
 * (a hung path) before it answers; wait longer than that.
 */
#define SL_CLI_RELOAD_TIMEOUT_MS 30000
/* drain --wait polls backend.status this often: part of the drain-signal
 * lag an operator sees, and a status call costs sluiced microseconds. */
#define SL_CLI_POLL_MS		50
/* sluiced unreachable during --wait: retry until the deadline plus this. */
#define SL_CLI_LOST_GRACE_MS	30000ULL
/*
 * Still "draining" this long after the deadline means sluiced is stuck:
 * give up rather than hang a pipeline. Above the longest sweep interval
 * (60 s), since the sweeper is what notices a deadline.
 */
#define SL_CLI_STUCK_GRACE_MS	120000ULL

/* Command options; each verb lists those it takes. */
#define SL_CLI_OPT_WEIGHT	(1U << 0)
#define SL_CLI_OPT_WAIT		(1U << 1)
#define SL_CLI_OPT_TIMEOUT	(1U << 2)
#define SL_CLI_OPT_INTERVAL	(1U << 3)
#define SL_CLI_OPT_COUNT	(1U << 4)
#define SL_CLI_OPT_LIMIT	(1U << 5)
#define SL_CLI_OPT_EXACT	(1U << 6)
#define SL_CLI_OPT_FORCE	(1U << 7)
#define SL_CLI_OPT_NAME		(1U << 8)

struct sl_cli_cmd;
struct sl_cli_io;

/* One row of the command table. */
struct sl_cli_verb {
	const char *object;		/* "backend" */
	const char *verb;		/* "drain"; NULL for a bare object ("status") */
	const char *cmd;		/* protocol command: "backend.drain" */
	int min_args, max_args;		/* positionals after the verb */
	const char *const *arg_names;	/* max_args of "VIP"/"ADDR"; optional ones lead */
	unsigned int opts;		/* SL_CLI_OPT_* accepted */
	/* Runs the parsed command; returns an exit code. */
	int (*run)(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io);
	/* Human output of a successful result; NULL prints nothing. */
	void (*print)(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
		      struct json_object *result);
	const char *what;		/* for errors: "drain backend {B} on {V}" */
	const char *what_all;		/* the same without a VIP, or NULL */
	const char *usage;		/* "backend drain [VIP] ADDR [--wait] ..." */
	const char *summary;		/* one line for --help */
};

extern const struct sl_cli_verb sl_cli_verbs[];
extern const size_t sl_cli_n_verbs;
/* With --cluster: the same verbs on the fleet's desired state (cli_fleet.c). */
extern const struct sl_cli_verb sl_cli_fleet_verbs[];
extern const size_t sl_cli_fleet_n_verbs;
int sl_cli_fleet_check_endpoints(const char *list, char *err, size_t errlen);

enum sl_cli_action {
	SL_CLI_RUN,
	SL_CLI_HELP,		/* --help: print usage (of verb, if set), exit 0 */
	SL_CLI_VERSION,
};

/* A parsed command line. */
struct sl_cli_cmd {
	enum sl_cli_action action;
	const struct sl_cli_verb *verb;	/* set as soon as it is known */
	const char *sock;		/* -s, else $SLUICE_SOCKET, else default */
	bool json;
	bool verbose;
	bool wait;
	bool has_weight;
	bool has_timeout;
	bool has_interval;
	bool has_count;
	bool force;			/* --force: may leave a VIP without active backends */
	__u32 weight;
	__u64 timeout_ms;
	__u64 interval_ms;		/* top --interval */
	__u32 count;			/* top --count: refreshes; 0 = until interrupted */
	bool has_limit;
	bool exact;			/* reload --exact */
	__u32 limit;			/* flows --limit */
	const char *file;		/* config diff FILE (argv's) */
	const char *help_object;	/* "vip" in "vip --help", "help vip" */
	char vip[SL_VIP_STR_MAX];	/* canonical; "" when not given */
	/* canonical address, or a backend's name (SL_BE_NAME_MAX); "": none */
	char backend[64];
	char name[64];			/* backend add --name */
	const char *cluster; /* --cluster ENDPOINTS: the fleet's etcd */
	const char *prefix; /* --prefix: its key prefix; NULL: "/sluice" */
	char box[64]; /* a fleet box's name (SL_DESIRED_BOX_MAX) */
	struct json_object *req;	/* the request; owned */
};

/*
 * Parse argv (argv[0] is the program name) into out, validating every
 * argument locally, and build out->req. Returns 0, or -EINVAL for a usage
 * error with a message in err naming the argument and what is allowed
 * (out->verb is set if the command was recognised, for its usage line).
 * Reads $SLUICE_SOCKET. Call sl_cli_cmd_free() in every case.
 */
int sl_cli_build_request(int argc, char **argv, struct sl_cli_cmd *out,
			 char *err, size_t errlen);
void sl_cli_cmd_free(struct sl_cli_cmd *cmd);

/* Full help (verb NULL) or one command's usage and options. */
void sl_cli_help(FILE *f, const struct sl_cli_verb *verb);
/* The commands of one object ("vip": vip list, vip add, vip del). */
void sl_cli_help_object(FILE *f, const char *object);
/* What --help or `help` asked for: a command, an object, or everything. */
void sl_cli_help_cmd(FILE *f, const struct sl_cli_cmd *cmd);
/* The short reminder after a usage error. */
void sl_cli_usage_hint(FILE *f, const struct sl_cli_verb *verb);

/* How long one request of @cmd may wait for its reply. */
int sl_cli_call_timeout_ms(const struct sl_cli_cmd *cmd);

/* "drain backend 198.18.1.10 on 198.18.0.100:80/tcp", for error lines. */
void sl_cli_describe(const struct sl_cli_cmd *cmd, char *buf, size_t len);

/* --- running a command ------------------------------------------------ */

/*
 * How commands reach sluiced and the outside world; main() fills it with
 * sl_ctl_call(), the wall clock and nanosleep(), tests with fakes.
 */
struct sl_cli_io {
	/* One request/reply; 0, or -errno as sl_ctl_call() returns it. */
	int (*call)(const struct sl_cli_io *io, struct json_object *req,
		    struct json_object **reply);
	/* Wall clock in Unix ms: drain deadlines come from sluiced as such. */
	__u64 (*now_ms)(const struct sl_cli_io *io);
	/* Boot-clock ms, for the CLI's own waits (a fleet drain's --timeout),
	 * which no wall-clock step may end early or stretch. */
	__u64 (*mono_ms)(const struct sl_cli_io *io);
	/* May return early on a signal. */
	void (*sleep_ms)(const struct sl_cli_io *io, unsigned int ms);
	void *ctx;
	FILE *out;
	FILE *err;
	bool err_tty;			/* rewrite one progress line with \r */
	const volatile sig_atomic_t *stop;	/* set on SIGINT; may be NULL */
};

/* Runs cmd->verb; returns the process exit code. */
int sl_cli_run(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io);
int sl_cli_run_simple(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io);
int sl_cli_run_drain(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io);

enum sl_cli_reply {
	SL_REPLY_OK,		/* *result may be NULL if sluiced sent none */
	SL_REPLY_ERROR,		/* sluiced said no: *error, *hint (may be NULL) */
	SL_REPLY_MALFORMED,	/* JSON, but not the protocol's shape */
};
enum sl_cli_reply sl_cli_check_reply(struct json_object *reply,
				     struct json_object **result,
				     const char **error, const char **hint);

/*
 * "sluicectl: cannot WHAT: MSG" then "hint: HINT" if hint is set, on
 * stderr; with -j also {"ok": false, "error": ..., "hint": ...} on stdout.
 */
void sl_cli_report(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
		   const char *msg, const char *hint);
/* The same for sluiced's error reply, whose "cannot ..." is not repeated. */
void sl_cli_report_reply(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			 const char *error, const char *hint);
/* The same for a failed call (-errno), with the CLI's own hint. */
void sl_cli_report_call_error(const struct sl_cli_io *io,
			      const struct sl_cli_cmd *cmd, int err);
/* Call, then split the reply; reports failures. 0 or an exit code. */
int sl_cli_call_result(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io,
		       struct json_object *req, struct json_object **reply,
		       struct json_object **result);

/* --- output ----------------------------------------------------------- */

enum sl_cli_col_kind {
	SL_COL_TEXT,		/* left-aligned */
	SL_COL_NUM,		/* right-aligned */
	SL_COL_DEADLINE,	/* Unix ms shown as "in 4m59s", "passed" */
};

struct sl_cli_col {
	const char *head;
	const char *key;
	enum sl_cli_col_kind kind;
};

/* Aligned table of an array of objects; a missing value prints "-". */
void sl_cli_print_table(FILE *f, const struct sl_cli_col *cols, size_t ncols,
			struct json_object *rows, __u64 now_ms);
/* Time left as "4m59s" (whole seconds, rounded up), "passed", or "-" for 0. */
void sl_cli_format_until(__u64 deadline_ms, __u64 now_ms, char *buf, size_t len);
/* Pretty JSON and a newline ("null" for NULL). */
void sl_cli_print_json(FILE *f, struct json_object *obj);
/* {"ok": false, "error": ERROR, "hint": HINT or null}, for -j. */
void sl_cli_print_error_json(FILE *f, const char *error, const char *hint);
/* Summary of a status result; all = also the zero reason counters. */
void sl_cli_print_status(FILE *f, struct json_object *st, bool all);

void sl_cli_print_status_result(const struct sl_cli_io *io,
				const struct sl_cli_cmd *cmd,
				struct json_object *result);
void sl_cli_print_vip_list(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			   struct json_object *result);
void sl_cli_print_backend_list(const struct sl_cli_io *io,
			       const struct sl_cli_cmd *cmd,
			       struct json_object *result);
void sl_cli_print_drain(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			struct json_object *result);
/* cli_box.c: box drain/undrain replies. */
void sl_cli_print_box(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
		      struct json_object *result);
void sl_cli_print_undrain(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			  struct json_object *result);

/* --- operator commands (cli_ops.c) -------------------------------------- */

/* reload: exit 0 applied, 1 rejected (the running state is unchanged). */
int sl_cli_run_reload(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io);
void sl_cli_print_reload(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			 struct json_object *result);
/* config dump: the YAML as is. */
void sl_cli_print_config_dump(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			      struct json_object *result);
/* config diff FILE: exit 0 same, 1 differs, 2 could not compare. */
int sl_cli_run_config_diff(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io);
/*
 * How the loaded config file @file differs from the running configuration
 * @running_yaml (a config.dump result) and @compared (its "compared":
 * which of the file's undumped settings differ; NULL from a sluiced that
 * does not compare them): a JSON object {same, changes [TEXT], restart
 * [{setting, running, file}], and without @compared not_compared [NAME]},
 * or NULL with @err when the running side does not load or either side's
 * VIPs do not form a state.
 */
struct json_object *sl_cli_config_diff(const char *running_yaml,
				       const struct sl_config *file,
				       struct json_object *compared, char *err,
				       size_t errlen);
/* Add to @req the config.dump argument asking sluiced to compare @file's undumped settings. */
void sl_cli_config_compare_arg(struct json_object *req,
			       const struct sl_config *file);
void sl_cli_print_backend_set(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			      struct json_object *result);
void sl_cli_print_backend_status(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
				 struct json_object *result);
void sl_cli_print_flows(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			struct json_object *result);
/* The fingerprint of each VIP's table, from a status result. */
void sl_cli_print_tables(FILE *f, struct json_object *status);
/* "1m5s" from milliseconds, whole seconds ("0s" under one). */
void sl_cli_format_idle(__u64 ms, char *buf, size_t len);

/* --- drain --wait ----------------------------------------------------- */

enum sl_drain_phase {
	SL_DRAIN_PENDING,	/* some entry still "draining" */
	SL_DRAIN_DONE,		/* all "drained", none timed out */
	SL_DRAIN_TIMED_OUT,	/* all "drained", some timed out with flows */
	SL_DRAIN_CANCELLED,	/* some entry "active" again (undrained) */
	SL_DRAIN_EMPTY,		/* no entries: the backend is gone */
	SL_DRAIN_MALFORMED,	/* not an array of entries with a known state */
};

/* What a backend.drain or backend.status result says, summed over VIPs. */
struct sl_drain_tally {
	size_t entries;
	size_t draining;
	size_t timed_out;
	long long flows;	/* live flows on entries still draining */
	long long handshakes;	/* handshakes in flight on those entries */
	__u64 deadline_ms;	/* latest deadline_unix_ms; 0 = none given */
	const char *vip;	/* first entry's VIP (borrowed from the result) */
};

enum sl_drain_phase sl_cli_drain_tally(struct json_object *result,
				       struct sl_drain_tally *t);
/* Exit code of a finished phase; -1 for SL_DRAIN_PENDING. */
int sl_cli_drain_exit(enum sl_drain_phase phase);
/* "draining B on V: 37 flows left, 41s to deadline" (no newline);
 * "37 flows and 2 handshakes left" while handshakes are in flight. */
void sl_cli_format_progress(char *buf, size_t len, const char *backend,
			    const struct sl_drain_tally *t, __u64 now_ms);
/* Re-drain notes on io->err: deadline moved (--timeout given) or kept. */
void sl_cli_drain_notes(const struct sl_cli_io *io, struct json_object *result);
/*
 * After backend.drain succeeded with drain_result: poll backend.status
 * until done; prints progress on io->err. Returns the exit code.
 */
int sl_cli_drain_wait(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io,
		      struct json_object *drain_result);

/* --- top ------------------------------------------------------------- */

#define SL_TOP_INTERVAL_MS	1000ULL		/* default refresh */
#define SL_TOP_INTERVAL_MIN_MS	100ULL
#define SL_TOP_INTERVAL_MAX_MS	(3600ULL * 1000)
#define SL_TOP_COUNT_MAX	1000000U
/* backend.status calls per refresh to learn drain deadlines (not in lists). */
#define SL_TOP_STATUS_MAX	64

/*
 * The per-second rate of a counter between two samples @dt_ms apart.
 * False when there is none: no interval, or the counter went back (the
 * maps were recreated, or the backend id was reused).
 */
bool sl_top_rate(__u64 prev, __u64 cur, __u64 dt_ms, double *rate);
/* "0", "0.5", "12", "34567": one decimal below 10, none above. */
void sl_top_format_rate(double rate, char *buf, size_t len);
/*
 * The drain column of a backend row (state, flows, and from backend.status
 * deadline_unix_ms and timed_out): "37 left, 41s to deadline", "37 left,
 * deadline passed", "done", "timed out, 2 left"; "" when not draining.
 */
void sl_top_format_drain(struct json_object *row, __u64 now_ms, char *buf,
			 size_t len);
/*
 * The rows of one refresh: copies of @cur's rows (a backend.list or
 * vip.list result) with "new_per_s" and "packets_per_s" computed against
 * the same row in @prev (NULL on the first refresh; null when no rate)
 * and, for backends, "drain". Rows are matched by "vip" (and "backend").
 * NULL when @cur is not an array or memory runs out.
 */
struct json_object *sl_top_rows(struct json_object *prev, struct json_object *cur,
				__u64 dt_ms, bool backends, __u64 now_ms);
/*
 * One refresh of the view. On a terminal: clear the screen and redraw.
 * Otherwise: a block of plain lines headed by "# <UTC time> ...".
 */
void sl_top_print(FILE *f, bool tty, __u64 now_ms, __u64 interval_ms,
		  struct json_object *vips, struct json_object *backends,
		  const char *note);
int sl_cli_run_top(const struct sl_cli_cmd *cmd, const struct sl_cli_io *io);

#endif /* SLUICE_CLI_H */
