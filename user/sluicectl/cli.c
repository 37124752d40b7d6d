/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sluicectl's command table and command line parsing into a control request. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "desired.h"
#include "state.h"

#include "array.h"
#define QUOTE_MAX	64
#define CLI_MAX_ARGS	2

static const char *const args_vip[] = { "VIP" };
static const char *const args_vip_addr[] = { "VIP", "ADDR" };
static const char *const args_file[] = { "FILE" };

/*
 * The CLI contract, one row per command. Positionals are validated by name
 * ("VIP", "ADDR"); with fewer than max_args given, the leading (optional)
 * names are the ones left out: "[VIP] ADDR" with one argument is ADDR.
 */
const struct sl_cli_verb sl_cli_verbs[] = {
	{
		.object = "status", .cmd = SL_CTL_CMD_STATUS,
		.run = sl_cli_run_simple, .print = sl_cli_print_status_result,
		.what = "get the status of sluiced",
		.usage = "status",
		.summary = "show a summary and the non-zero packet counters (-v: all)",
	}, {
		.object = "vip", .verb = "list", .cmd = SL_CTL_CMD_VIP_LIST,
		.run = sl_cli_run_simple, .print = sl_cli_print_vip_list,
		.what = "list VIPs",
		.usage = "vip list",
		.summary = "list VIPs with their backends and traffic",
	}, {
		.object = "vip", .verb = "add", .cmd = SL_CTL_CMD_VIP_ADD,
		.min_args = 1, .max_args = 1, .arg_names = args_vip,
		.run = sl_cli_run_simple,
		.what = "add VIP {V}",
		.usage = "vip add VIP",
		.summary = "add a VIP",
	}, {
		.object = "vip", .verb = "del", .cmd = SL_CTL_CMD_VIP_DEL,
		.min_args = 1, .max_args = 1, .arg_names = args_vip,
		.run = sl_cli_run_simple,
		.what = "delete VIP {V}",
		.usage = "vip del VIP",
		.summary = "delete a VIP",
	}, {
		.object = "backend", .verb = "add", .cmd = SL_CTL_CMD_BACKEND_ADD,
		.min_args = 2, .max_args = 2, .arg_names = args_vip_addr,
		.opts = SL_CLI_OPT_WEIGHT | SL_CLI_OPT_NAME,
		.run = sl_cli_run_simple,
		.what = "add backend {B} to {V}",
		.usage = "backend add VIP ADDR [--weight N] [--name NAME]",
		.summary = "add a backend to a VIP",
	}, {
		.object = "backend", .verb = "del", .cmd = SL_CTL_CMD_BACKEND_DEL,
		.min_args = 2, .max_args = 2, .arg_names = args_vip_addr,
		.opts = SL_CLI_OPT_FORCE,
		.run = sl_cli_run_simple,
		.what = "delete backend {B} from {V}",
		.usage = "backend del VIP ADDR [--force]",
		.summary = "remove a backend from a VIP",
	}, {
		.object = "backend", .verb = "drain", .cmd = SL_CTL_CMD_BACKEND_DRAIN,
		.min_args = 1, .max_args = 2, .arg_names = args_vip_addr,
		.opts = SL_CLI_OPT_WAIT | SL_CLI_OPT_TIMEOUT | SL_CLI_OPT_FORCE,
		.run = sl_cli_run_drain, .print = sl_cli_print_drain,
		.what = "drain backend {B} on {V}",
		.what_all = "drain backend {B}",
		.usage = "backend drain [VIP] ADDR [--wait] [--timeout DURATION] [--force]",
		.summary = "send no new flows to a backend (without VIP: on every VIP)",
	}, {
		.object = "backend", .verb = "undrain", .cmd = SL_CTL_CMD_BACKEND_UNDRAIN,
		.min_args = 1, .max_args = 2, .arg_names = args_vip_addr,
		.run = sl_cli_run_simple, .print = sl_cli_print_undrain,
		.what = "undrain backend {B} on {V}",
		.what_all = "undrain backend {B}",
		.usage = "backend undrain [VIP] ADDR",
		.summary = "send new flows to a drained or draining backend again",
	}, {
		.object = "backend", .verb = "list", .cmd = SL_CTL_CMD_BACKEND_LIST,
		.min_args = 0, .max_args = 1, .arg_names = args_vip,
		.run = sl_cli_run_simple, .print = sl_cli_print_backend_list,
		.what = "list the backends of {V}",
		.what_all = "list backends",
		.usage = "backend list [VIP]",
		.summary = "list backends with state, health, weight and traffic",
	}, {
		.object = "backend", .verb = "set", .cmd = SL_CTL_CMD_BACKEND_SET,
		.min_args = 2, .max_args = 2, .arg_names = args_vip_addr,
		.opts = SL_CLI_OPT_WEIGHT | SL_CLI_OPT_FORCE,
		.run = sl_cli_run_simple, .print = sl_cli_print_backend_set,
		.what = "set backend {B} on {V}",
		.usage = "backend set VIP ADDR --weight N [--force]",
		.summary = "change a backend's weight at runtime (kept across restarts)",
	}, {
		.object = "backend", .verb = "status", .cmd = SL_CTL_CMD_BACKEND_STATUS,
		.min_args = 1, .max_args = 2, .arg_names = args_vip_addr,
		.run = sl_cli_run_simple, .print = sl_cli_print_backend_status,
		.what = "show backend {B} on {V}",
		.what_all = "show backend {B}",
		.usage = "backend status [VIP] ADDR",
		.summary = "health and its last failure, drain progress, flows lost, evicted, rescued",
	}, {
		.object = "flows", .cmd = SL_CTL_CMD_FLOWS,
		.min_args = 0, .max_args = 2, .arg_names = args_vip_addr,
		.opts = SL_CLI_OPT_LIMIT,
		.run = sl_cli_run_simple, .print = sl_cli_print_flows,
		.what = "list the flows of {V}",
		.what_all = "list flows",
		.usage = "flows [VIP] [ADDR] [--limit N]",
		.summary = "tracked connections: client, VIP, backend, state, idle time",
	}, {
		.object = "reload", .cmd = SL_CTL_CMD_RELOAD,
		.opts = SL_CLI_OPT_EXACT,
		.run = sl_cli_run_reload, .print = sl_cli_print_reload,
		.what = "reload the configuration",
		.usage = "reload [--exact]",
		.summary = "reload sluiced's config file now; says what changed or why not",
	}, {
		.object = "config", .verb = "dump", .cmd = SL_CTL_CMD_CONFIG_DUMP,
		.run = sl_cli_run_simple, .print = sl_cli_print_config_dump,
		.what = "dump the configuration",
		.usage = "config dump",
		.summary = "print the effective configuration (runtime changes included) as YAML",
	}, {
		.object = "config", .verb = "diff", .cmd = SL_CTL_CMD_CONFIG_DUMP,
		.min_args = 1, .max_args = 1, .arg_names = args_file,
		.run = sl_cli_run_config_diff,
		.what = "compare the configuration",
		.usage = "config diff FILE",
		.summary = "show how FILE differs from the running configuration",
	}, {
		.object = "box", .verb = "drain", .cmd = SL_CTL_CMD_BOX_DRAIN,
		.run = sl_cli_run_simple, .print = sl_cli_print_box,
		.what = "drain this box",
		.usage = "box drain",
		.summary = "withdraw every VIP of this box from the routers (flows it has keep flowing)",
	}, {
		.object = "box", .verb = "undrain", .cmd = SL_CTL_CMD_BOX_UNDRAIN,
		.run = sl_cli_run_simple, .print = sl_cli_print_box,
		.what = "undrain this box",
		.usage = "box undrain",
		.summary = "announce this box's VIPs to the routers again",
	}, {
		/* Polls vip.list, backend.list and backend.status itself. */
		.object = "top", .cmd = SL_CTL_CMD_BACKEND_LIST,
		.min_args = 0, .max_args = 1, .arg_names = args_vip,
		.opts = SL_CLI_OPT_INTERVAL | SL_CLI_OPT_COUNT,
		.run = sl_cli_run_top,
		.what = "show the live view of {V}",
		.what_all = "show the live view",
		.usage = "top [VIP] [--interval DURATION] [--count N]",
		.summary = "live view of VIPs and backends: flows, rates per second, drains",
	},
};
const size_t sl_cli_n_verbs = ARRAY_SIZE(sl_cli_verbs);

/* The table in use: the box's, or with --cluster the fleet's (cli_fleet.c). */
static const struct sl_cli_verb *tbl = sl_cli_verbs;
static size_t n_tbl = ARRAY_SIZE(sl_cli_verbs);

/* --- messages --------------------------------------------------------- */

static int __attribute__((format(printf, 3, 4)))
usage_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Operator input in a message: bounded, control bytes replaced. */
static const char *quote(const char *s, char *buf, size_t len)
{
	size_t i, n = strlen(s);

	if (n >= len) {
		n = len - 4;
		memcpy(buf + n, "...", 4);
	} else {
		buf[n] = '\0';
	}
	for (i = 0; i < n; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	return buf;
}

/* "backend drain", or "status" for a bare object. */
static const char *verb_name(const struct sl_cli_verb *v, char *buf, size_t len)
{
	if (v->verb)
		snprintf(buf, len, "%s %s", v->object, v->verb);
	else
		snprintf(buf, len, "%s", v->object);
	return buf;
}

/* "--wait, --timeout DURATION": the options a verb takes, for messages. */
static const char *opts_list(unsigned int opts, char *buf, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *text;
	} all[] = {
		{ SL_CLI_OPT_WEIGHT, "--weight N" },
		{ SL_CLI_OPT_WAIT, "--wait" },
		{ SL_CLI_OPT_TIMEOUT, "--timeout DURATION" },
		{ SL_CLI_OPT_INTERVAL, "--interval DURATION" },
		{ SL_CLI_OPT_COUNT, "--count N" },
		{ SL_CLI_OPT_FORCE, "--force" },
		{ SL_CLI_OPT_LIMIT, "--limit N" },
		{ SL_CLI_OPT_EXACT, "--exact" },
		{ SL_CLI_OPT_NAME, "--name NAME" },
	};
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(all) && off < len; i++) {
		if (!(opts & all[i].bit))
			continue;
		off += snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
				all[i].text);
	}
	return buf;
}

/* The objects, or one object's verbs, joined for "expected ..." messages. */
static const char *names_list(const char *object, char *buf, size_t len)
{
	size_t i, off = 0;
	const char *name;

	buf[0] = '\0';
	for (i = 0; i < n_tbl && off < len; i++) {
		const struct sl_cli_verb *v = &tbl[i];

		if (object && strcmp(v->object, object))
			continue;
		name = object ? v->verb : v->object;
		/* Objects repeat once per verb: list each once. */
		if (!object && i && !strcmp(tbl[i - 1].object, name))
			continue;
		off += snprintf(buf + off, len - off, "%s%s", off ? ", " : "", name);
	}
	return buf;
}

/* --- global options (before the object) --------------------------------- */

static bool is_command_option(const char *name)
{
	return !strcmp(name, "weight") || !strcmp(name, "wait") || !strcmp(name, "force") ||
	       !strcmp(name, "timeout") || !strcmp(name, "interval") ||
	       !strcmp(name, "count") || !strcmp(name, "limit") ||
	       !strcmp(name, "exact");
}

/* The value of an option: after '=' if given so, else the next argument. */
static int option_value(int argc, char **argv, int *ip, const char *eq,
			const char *opt, const char *what, const char **val,
			char *err, size_t errlen)
{
	if (eq) {
		*val = eq + 1;
	} else {
		if (*ip + 1 >= argc)
			return usage_err(err, errlen, "%s: missing %s", opt, what);
		*val = argv[++*ip];
	}
	return 0;
}

static int set_socket(struct sl_cli_cmd *c, const char *path, const char *src,
		      char *err, size_t errlen)
{
	if (!*path)
		return usage_err(err, errlen, "%s: empty socket path", src);
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return usage_err(err, errlen, "%s: socket path too long (at most %zu bytes)",
				 src, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	c->sock = path;
	return 0;
}

static int global_long(int argc, char **argv, int *ip, struct sl_cli_cmd *c,
		       char *err, size_t errlen)
{
	const char *arg = argv[*ip], *eq = strchr(arg, '='), *val = NULL;
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	char name[32], q[QUOTE_MAX];
	int ret;

	snprintf(name, sizeof(name), "%.*s", (int)(n - 2 < 31 ? n - 2 : 31), arg + 2);
	if (!strcmp(name, "socket")) {
		ret = option_value(argc, argv, ip, eq, "--socket", "PATH", &val,
				   err, errlen);
		return ret ? ret : set_socket(c, val, "--socket", err, errlen);
	}
	if (!strcmp(name, "cluster")) {
		ret = option_value(argc, argv, ip, eq, "--cluster", "ENDPOINTS",
				   &c->cluster, err, errlen);
		return ret ? ret :
			     sl_cli_fleet_check_endpoints(c->cluster, err,
							  errlen);
	}
	if (!strcmp(name, "prefix")) {
		ret = option_value(argc, argv, ip, eq, "--prefix", "PREFIX",
				   &c->prefix, err, errlen);
		return ret ? ret :
			     sl_desired_prefix_check(c->prefix, err, errlen);
	}
	if (eq && (!strcmp(name, "json") || !strcmp(name, "verbose") ||
		   !strcmp(name, "help") || !strcmp(name, "version")))
		return usage_err(err, errlen, "--%s takes no value", name);
	if (!strcmp(name, "json"))
		c->json = true;
	else if (!strcmp(name, "verbose"))
		c->verbose = true;
	else if (!strcmp(name, "help"))
		c->action = SL_CLI_HELP;
	else if (!strcmp(name, "version"))
		c->action = SL_CLI_VERSION;
	else if (is_command_option(name))
		return usage_err(err, errlen,
				 "option --%s goes after the command (e.g. sluicectl backend drain ADDR --wait)",
				 name);
	else
		return usage_err(err, errlen, "unknown option \"%s\"",
				 quote(arg, q, sizeof(q)));
	return 0;
}

/* Bundled short options: "-jv", "-s PATH", "-sPATH", "-js PATH". */
static int global_short(int argc, char **argv, int *ip, struct sl_cli_cmd *c,
			char *err, size_t errlen)
{
	const char *p = argv[*ip] + 1;

	for (; *p; p++) {
		switch (*p) {
		case 'j':
			c->json = true;
			break;
		case 'v':
			c->verbose = true;
			break;
		case 'h':
			c->action = SL_CLI_HELP;
			break;
		case 's':
			if (p[1])
				return set_socket(c, p + 1, "-s", err, errlen);
			if (*ip + 1 >= argc)
				return usage_err(err, errlen, "-s: missing PATH");
			return set_socket(c, argv[++*ip], "-s", err, errlen);
		default:
			return usage_err(err, errlen, "unknown option \"-%c\"",
					 isprint((unsigned char)*p) ? *p : '?');
		}
	}
	return 0;
}

/* Advances *ip to the object; stops early on --help or --version. */
static int parse_globals(int argc, char **argv, int *ip, struct sl_cli_cmd *c,
			 char *err, size_t errlen)
{
	const char *arg;
	int ret;

	for (*ip = 1; *ip < argc && c->action == SL_CLI_RUN; ++*ip) {
		arg = argv[*ip];
		if (!strcmp(arg, "--")) {
			++*ip;
			break;
		}
		if (arg[0] != '-' || !arg[1])
			break;
		if (arg[1] == '-')
			ret = global_long(argc, argv, ip, c, err, errlen);
		else
			ret = global_short(argc, argv, ip, c, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* --- object and verb ---------------------------------------------------- */

static const struct sl_cli_verb *lookup(const char *object, const char *verb)
{
	size_t i;

	for (i = 0; i < n_tbl; i++) {
		const struct sl_cli_verb *v = &tbl[i];

		if (strcmp(v->object, object))
			continue;
		if (!v->verb || (verb && !strcmp(v->verb, verb)))
			return v;
	}
	return NULL;
}

static bool object_known(const char *object)
{
	size_t i;

	for (i = 0; i < n_tbl; i++)
		if (!strcmp(tbl[i].object, object))
			return true;
	return false;
}

/* Sets c->verb from argv[*ip] (and the verb after it); advances *ip past them. */
static int find_verb(int argc, char **argv, int *ip, struct sl_cli_cmd *c,
		     char *err, size_t errlen)
{
	const char *object = argv[*ip], *verb;
	char q[QUOTE_MAX], q2[QUOTE_MAX], list[128];

	if (!strcmp(object, "help")) {
		/* "help", "help vip", "help backend drain" */
		c->action = SL_CLI_HELP;
		if (*ip + 1 < argc && object_known(argv[*ip + 1])) {
			c->help_object = argv[*ip + 1];
			c->verb = lookup(argv[*ip + 1],
					 *ip + 2 < argc ? argv[*ip + 2] : NULL);
			if (c->verb && c->verb->verb &&
			    (*ip + 2 >= argc || strcmp(c->verb->verb, argv[*ip + 2])))
				c->verb = NULL;
		} else if (*ip + 1 < argc) {
			return usage_err(err, errlen, "help: unknown command \"%s\" (expected %s)",
					 quote(argv[*ip + 1], q, sizeof(q)),
					 names_list(NULL, list, sizeof(list)));
		}
		return 0;
	}
	if (!object_known(object))
		return usage_err(err, errlen, "unknown command \"%s\" (expected %s)",
				 quote(object, q, sizeof(q)), names_list(NULL, list, sizeof(list)));
	c->verb = lookup(object, NULL);
	if (c->verb) {
		++*ip;
		return 0;
	}
	verb = *ip + 1 < argc ? argv[*ip + 1] : NULL;
	if (verb && (!strcmp(verb, "-h") || !strcmp(verb, "--help"))) {
		c->action = SL_CLI_HELP;
		c->help_object = object;
		return 0;
	}
	if (!verb || verb[0] == '-')
		return usage_err(err, errlen, "%s: missing verb (expected %s)", object,
				 names_list(object, list, sizeof(list)));
	c->verb = lookup(object, verb);
	if (!c->verb)
		return usage_err(err, errlen, "unknown command \"%s %s\" (%s takes %s)",
				 object, quote(verb, q2, sizeof(q2)), object,
				 names_list(object, list, sizeof(list)));
	*ip += 2;
	return 0;
}

/* --- command options and arguments -------------------------------------- */

/* Decimal 0..SL_CFG_WEIGHT_MAX; no sign, no spaces, no hex. */
static int parse_weight(const char *s, __u32 *w, char *err, size_t errlen)
{
	char q[QUOTE_MAX];
	unsigned long v = 0;
	const char *p;

	for (p = s; *p && p - s < 6; p++) {
		if (!isdigit((unsigned char)*p))
			break;
		v = v * 10 + (*p - '0');
	}
	if (!*s || *p || v > SL_CFG_WEIGHT_MAX)
		return usage_err(err, errlen,
				 "--weight: invalid weight \"%s\" (expected an integer from 0 to %u)",
				 quote(s, q, sizeof(q)), SL_CFG_WEIGHT_MAX);
	*w = v;
	return 0;
}

/*
 * A drain timeout: the bounds drain.default_timeout and sluiced apply.
 * 0 is refused here too: it would time the drain out at once.
 */
static int parse_timeout(const char *s, __u64 *ms, char *err, size_t errlen)
{
	char perr[256], q[QUOTE_MAX], min[SL_DURATION_STR_MAX],
		max[SL_DURATION_STR_MAX];

	if (sl_parse_duration_ms(s, ms, perr, sizeof(perr)))
		return usage_err(err, errlen, "--timeout: %s", perr);
	if (*ms < SL_CFG_DRAIN_MIN_MS || *ms > SL_CFG_DRAIN_MAX_MS) {
		sl_format_duration(SL_CFG_DRAIN_MIN_MS, min, sizeof(min));
		sl_format_duration(SL_CFG_DRAIN_MAX_MS, max, sizeof(max));
		return usage_err(
			err, errlen,
			"--timeout: invalid duration \"%s\" (expected %s to %s)",
			quote(s, q, sizeof(q)), min, max);
	}
	return 0;
}

/* top --interval: SL_TOP_INTERVAL_MIN_MS..SL_TOP_INTERVAL_MAX_MS. */
static int parse_interval(const char *s, __u64 *ms, char *err, size_t errlen)
{
	char perr[256], q[QUOTE_MAX];

	if (sl_parse_duration_ms(s, ms, perr, sizeof(perr)))
		return usage_err(err, errlen, "--interval: %s", perr);
	if (*ms < SL_TOP_INTERVAL_MIN_MS || *ms > SL_TOP_INTERVAL_MAX_MS)
		return usage_err(err, errlen,
				 "--interval: invalid duration \"%s\" (expected 100ms to 1h)",
				 quote(s, q, sizeof(q)));
	return 0;
}

/* --count (top) and --limit (flows): a decimal integer 1..@max. */
static int parse_bounded(const char *opt, const char *s, __u32 max, __u32 *out,
			 char *err, size_t errlen)
{
	char q[QUOTE_MAX];
	unsigned long v = 0;
	const char *p;

	for (p = s; *p && p - s < 8; p++) {
		if (!isdigit((unsigned char)*p))
			break;
		v = v * 10 + (*p - '0');
	}
	if (!*s || *p || v < 1 || v > max)
		return usage_err(err, errlen,
				 "%s: invalid count \"%s\" (expected an integer from 1 to %u)",
				 opt, quote(s, q, sizeof(q)), max);
	*out = v;
	return 0;
}

static int parse_count(const char *s, __u32 *count, char *err, size_t errlen)
{
	return parse_bounded("--count", s, SL_TOP_COUNT_MAX, count, err, errlen);
}

static int parse_limit(const char *s, __u32 *limit, char *err, size_t errlen)
{
	return parse_bounded("--limit", s, SL_CTL_FLOWS_LIMIT_MAX, limit, err, errlen);
}

static bool is_global_option(const char *arg)
{
	static const char *const longs[] = {
		"--json",    "--verbose", "--socket",
		"--version", "--cluster", "--prefix",
	};
	size_t i, n;

	if (arg[1] != '-')
		return strchr("jvs", arg[1]) != NULL;
	for (i = 0; i < ARRAY_SIZE(longs); i++) {
		n = strlen(longs[i]);
		if (!strncmp(arg, longs[i], n) && (!arg[n] || arg[n] == '='))
			return true;
	}
	return false;
}

/* Which SL_CLI_OPT_* a long option name is; 0 if none. */
static unsigned int option_bit(const char *name, size_t n)
{
	if (n == 6 && !strncmp(name, "weight", n))
		return SL_CLI_OPT_WEIGHT;
	if (n == 4 && !strncmp(name, "wait", n))
		return SL_CLI_OPT_WAIT;
	if (n == 7 && !strncmp(name, "timeout", n))
		return SL_CLI_OPT_TIMEOUT;
	if (n == 8 && !strncmp(name, "interval", n))
		return SL_CLI_OPT_INTERVAL;
	if (n == 5 && !strncmp(name, "count", n))
		return SL_CLI_OPT_COUNT;
	if (n == 5 && !strncmp(name, "force", n))
		return SL_CLI_OPT_FORCE;
	if (n == 5 && !strncmp(name, "limit", n))
		return SL_CLI_OPT_LIMIT;
	if (n == 5 && !strncmp(name, "exact", n))
		return SL_CLI_OPT_EXACT;
	if (n == 4 && !strncmp(name, "name", n))
		return SL_CLI_OPT_NAME;
	return 0;
}

static int unknown_option(const struct sl_cli_cmd *c, const char *arg,
			  char *err, size_t errlen)
{
	char vname[32], q[QUOTE_MAX], opts[96];

	verb_name(c->verb, vname, sizeof(vname));
	quote(arg, q, sizeof(q));
	if (is_global_option(arg))
		return usage_err(err, errlen,
				 "%s is a global option: put it before the command (e.g. sluicectl %s %s)",
				 q, q, vname);
	if (!c->verb->opts)
		return usage_err(err, errlen, "unknown option \"%s\" (%s takes no options)",
				 q, vname);
	return usage_err(err, errlen, "unknown option \"%s\" for %s (it takes %s)", q,
			 vname, opts_list(c->verb->opts, opts, sizeof(opts)));
}

static int not_applicable(const struct sl_cli_cmd *c, const char *opt,
			  char *err, size_t errlen)
{
	char vname[32], opts[96];

	verb_name(c->verb, vname, sizeof(vname));
	if (!c->verb->opts)
		return usage_err(err, errlen, "option %s does not apply to %s (it takes no options)",
				 opt, vname);
	return usage_err(err, errlen, "option %s does not apply to %s (it takes %s)", opt,
			 vname, opts_list(c->verb->opts, opts, sizeof(opts)));
}

static int command_option(int argc, char **argv, int *ip, struct sl_cli_cmd *c,
			  char *err, size_t errlen)
{
	const char *arg = argv[*ip], *eq, *val = NULL;
	char opt[16];
	unsigned int bit;
	size_t n;

	if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
		c->action = SL_CLI_HELP;
		return 0;
	}
	if (arg[1] != '-')
		return unknown_option(c, arg, err, errlen);
	eq = strchr(arg, '=');
	n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
	bit = option_bit(arg + 2, n);
	if (!bit)
		return unknown_option(c, arg, err, errlen);
	snprintf(opt, sizeof(opt), "--%.*s", (int)n, arg + 2);
	if (!(c->verb->opts & bit))
		return not_applicable(c, opt, err, errlen);
	if (bit == SL_CLI_OPT_WAIT || bit == SL_CLI_OPT_FORCE || bit == SL_CLI_OPT_EXACT) {
		if (eq)
			return usage_err(err, errlen, "%s takes no value", opt);
		if (bit == SL_CLI_OPT_WAIT)
			c->wait = true;
		else if (bit == SL_CLI_OPT_FORCE)
			c->force = true;
		else
			c->exact = true;
		return 0;
	}
	if (option_value(argc, argv, ip, eq, opt,
			 bit == SL_CLI_OPT_NAME ? "NAME" :
			 bit == SL_CLI_OPT_WEIGHT || bit == SL_CLI_OPT_COUNT ||
			 bit == SL_CLI_OPT_LIMIT ? "N" : "DURATION",
			 &val, err, errlen))
		return -EINVAL;
	switch (bit) {
	case SL_CLI_OPT_NAME:
		if (sl_be_name_check(val, err, errlen))
			return -EINVAL;
		snprintf(c->name, sizeof(c->name), "%s", val);
		return 0;
	case SL_CLI_OPT_WEIGHT:
		c->has_weight = true;
		return parse_weight(val, &c->weight, err, errlen);
	case SL_CLI_OPT_INTERVAL:
		c->has_interval = true;
		return parse_interval(val, &c->interval_ms, err, errlen);
	case SL_CLI_OPT_COUNT:
		c->has_count = true;
		return parse_count(val, &c->count, err, errlen);
	case SL_CLI_OPT_LIMIT:
		c->has_limit = true;
		return parse_limit(val, &c->limit, err, errlen);
	default:
		c->has_timeout = true;
		return parse_timeout(val, &c->timeout_ms, err, errlen);
	}
}

static int take_vip(const char *s, struct sl_cli_cmd *c, char *err, size_t errlen)
{
	struct sl_vip_spec vip;
	int ret;

	ret = sl_parse_vip(s, &vip, err, errlen);
	if (ret)
		return ret;
	return sl_format_vip(&vip, c->vip, sizeof(c->vip));
}

static int take_addr(const char *s, struct sl_cli_cmd *c, char *err, size_t errlen)
{
	struct sluice_addr addr;
	char q[QUOTE_MAX];
	__u8 family;

	if (sl_parse_addr(s, &addr, &family)) {
		/* Any command but backend add takes a backend's name too. */
		if (c->verb->opts & SL_CLI_OPT_NAME ||
		    sl_be_name_check(s, c->backend, sizeof(c->backend))) {
			c->backend[0] = '\0';
			return usage_err(err, errlen,
					 "invalid backend address \"%s\" (expected an IPv4 or IPv6 address without port or brackets, e.g. 198.18.1.10 or fd00::10%s)",
					 quote(s, q, sizeof(q)),
					 c->verb->opts & SL_CLI_OPT_NAME ? "" : ", or a backend's name");
		}
		snprintf(c->backend, sizeof(c->backend), "%s", s);
		return 0;
	}
	if (!sl_addr_is_unicast(&addr, family))
		return usage_err(err, errlen,
				 "invalid backend address \"%s\": not a unicast address (unspecified, multicast and broadcast addresses cannot be backends)",
				 quote(s, q, sizeof(q)));
	return sl_format_addr(&addr, family, c->backend, sizeof(c->backend));
}

static int take_file(const char *s, struct sl_cli_cmd *c, char *err, size_t errlen)
{
	if (!*s)
		return usage_err(err, errlen, "FILE: empty path (expected a config file, e.g. /etc/sluice/sluiced.yaml)");
	c->file = s;
	return 0;
}

static int take_box(const char *s, struct sl_cli_cmd *c, char *err,
		    size_t errlen)
{
	if (sl_desired_box_check(s, err, errlen))
		return -EINVAL;
	snprintf(c->box, sizeof(c->box), "%s", s);
	return 0;
}

/* Map n positionals onto the verb's names, the optional leading ones dropped. */
static int take_positionals(const char **pos, int n, struct sl_cli_cmd *c,
			    char *err, size_t errlen)
{
	const struct sl_cli_verb *v = c->verb;
	char vname[32], missing[32] = "";
	int k, skip = v->max_args - n, ret;

	if (n < v->min_args) {
		/* The required names not given: the last min_args - n ones. */
		for (k = v->max_args - (v->min_args - n); k < v->max_args; k++) {
			strncat(missing, k == v->max_args - (v->min_args - n) ? "" : " ",
				sizeof(missing) - strlen(missing) - 1);
			strncat(missing, v->arg_names[k], sizeof(missing) - strlen(missing) - 1);
		}
		return usage_err(err, errlen, "%s: missing %s",
				 verb_name(v, vname, sizeof(vname)), missing);
	}
	/*
	 * Both optional ("flows [VIP] [ADDR]"): a lone argument is a VIP when
	 * it looks like one (a VIP always has "/tcp" or "/udp").
	 */
	if (!v->min_args && n == 1 && v->max_args == 2 && strchr(pos[0], '/'))
		skip = 0;
	for (k = 0; k < n; k++) {
		if (!strcmp(v->arg_names[skip + k], "VIP"))
			ret = take_vip(pos[k], c, err, errlen);
		else if (!strcmp(v->arg_names[skip + k], "FILE"))
			ret = take_file(pos[k], c, err, errlen);
		else if (!strcmp(v->arg_names[skip + k], "BOX"))
			ret = take_box(pos[k], c, err, errlen);
		else
			ret = take_addr(pos[k], c, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* Everything after the verb: options anywhere, "--" ends them. */
static int parse_command(int argc, char **argv, int i, struct sl_cli_cmd *c,
			 char *err, size_t errlen)
{
	const char *pos[CLI_MAX_ARGS];
	char vname[32], q[QUOTE_MAX];
	bool opts_done = false;
	int n = 0, ret;

	for (; i < argc; i++) {
		const char *arg = argv[i];

		if (!opts_done && !strcmp(arg, "--")) {
			opts_done = true;
			continue;
		}
		if (!opts_done && arg[0] == '-' && arg[1]) {
			ret = command_option(argc, argv, &i, c, err, errlen);
			if (ret || c->action != SL_CLI_RUN)
				return ret;
			continue;
		}
		if (n >= c->verb->max_args || n >= CLI_MAX_ARGS)
			return usage_err(err, errlen, "%s: unexpected argument \"%s\"",
					 verb_name(c->verb, vname, sizeof(vname)),
					 quote(arg, q, sizeof(q)));
		pos[n++] = arg;
	}
	return take_positionals(pos, n, c, err, errlen);
}

/* --- the request -------------------------------------------------------- */

static int add_field(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v || json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int build_json(struct sl_cli_cmd *c)
{
	struct json_object *req = json_object_new_object();
	int ret;

	if (!req)
		return -ENOMEM;
	c->req = req;
	ret = add_field(req, "cmd", json_object_new_string(c->verb->cmd));
	if (!ret && c->vip[0])
		ret = add_field(req, "vip", json_object_new_string(c->vip));
	if (!ret && c->backend[0])
		ret = add_field(req, "backend", json_object_new_string(c->backend));
	if (!ret && c->has_weight)
		ret = add_field(req, "weight", json_object_new_int64(c->weight));
	if (!ret && c->name[0])
		ret = add_field(req, SL_CTL_KEY_NAME, json_object_new_string(c->name));
	if (!ret && c->has_timeout)
		ret = add_field(req, SL_CTL_KEY_TIMEOUT_MS, json_object_new_int64(c->timeout_ms));
	if (!ret && c->force)
		ret = add_field(req, SL_CTL_KEY_FORCE, json_object_new_boolean(1));
	if (!ret && c->has_limit)
		ret = add_field(req, SL_CTL_KEY_LIMIT, json_object_new_int64(c->limit));
	if (!ret && c->exact)
		ret = add_field(req, SL_CTL_KEY_EXACT, json_object_new_boolean(1));
	return ret;
}

static int default_socket(struct sl_cli_cmd *c, char *err, size_t errlen)
{
	const char *env = getenv(SL_CLI_SOCKET_ENV);

	c->sock = SL_CLI_DEFAULT_SOCKET;
	if (env && *env)
		return set_socket(c, env, "$" SL_CLI_SOCKET_ENV, err, errlen);
	return 0;
}

int sl_cli_build_request(int argc, char **argv, struct sl_cli_cmd *out,
			 char *err, size_t errlen)
{
	int i, ret;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	ret = default_socket(out, err, errlen);
	if (!ret)
		ret = parse_globals(argc, argv, &i, out, err, errlen);
	if (!ret && out->prefix && !out->cluster)
		ret = usage_err(err, errlen,
				"--prefix goes with --cluster ENDPOINTS");
	tbl = out->cluster ? sl_cli_fleet_verbs : sl_cli_verbs;
	n_tbl = out->cluster ? sl_cli_fleet_n_verbs : sl_cli_n_verbs;
	if (ret || out->action != SL_CLI_RUN)
		return ret;
	if (i >= argc)
		return usage_err(err, errlen, "missing command");
	ret = find_verb(argc, argv, &i, out, err, errlen);
	if (!ret && out->action == SL_CLI_RUN)
		ret = parse_command(argc, argv, i, out, err, errlen);
	if (ret || out->action != SL_CLI_RUN)
		return ret;
	if (!strcmp(out->verb->cmd, SL_CTL_CMD_BACKEND_SET) && !out->has_weight)
		return usage_err(err, errlen,
				 "backend set: missing --weight N (the only setting it changes; 0..%u)",
				 SL_CFG_WEIGHT_MAX);
	return build_json(out);
}

void sl_cli_cmd_free(struct sl_cli_cmd *cmd)
{
	json_object_put(cmd->req);
	cmd->req = NULL;
}

/* --- descriptions and help ---------------------------------------------- */

void sl_cli_describe(const struct sl_cli_cmd *cmd, char *buf, size_t len)
{
	const char *t, *sub;
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (!cmd->verb)
		return;
	t = cmd->vip[0] || !cmd->verb->what_all ? cmd->verb->what : cmd->verb->what_all;
	while (*t && off + 1 < len) {
		sub = NULL;
		if (!strncmp(t, "{V}", 3))
			sub = cmd->vip;
		else if (!strncmp(t, "{B}", 3))
			sub = cmd->backend;
		else if (!strncmp(t, "{X}", 3))
			sub = cmd->box;
		if (sub) {
			off += snprintf(buf + off, len - off, "%s", sub);
			t += 3;
		} else {
			buf[off++] = *t++;
			buf[off] = '\0';
		}
	}
	if (off >= len)
		buf[len - 1] = '\0';
}

static const char help_options[] =
	"Options (before the command):\n"
	"  -s, --socket PATH  control socket (default: $" SL_CLI_SOCKET_ENV ", else\n"
	"                     " SL_CLI_DEFAULT_SOCKET ")\n"
	"  -j, --json         print sluiced's result as JSON (an error too, on\n"
	"                     stdout, as well as its text on stderr)\n"
	"  -v, --verbose      status: show zero counters too; trace requests and\n"
	"                     replies on stderr\n"
	"  -h, --help         show this help (after a command: that command's)\n"
	"      --version      show the version\n";

static const struct {
	unsigned int bit;
	const char *text;
} help_opts[] = {
	{ SL_CLI_OPT_WEIGHT,
	  "  --weight N          share of new flows, 0..10000 (default 100; 0 = none)\n" },
	{ SL_CLI_OPT_WAIT,
	  "  --wait              drain: wait until no flows are left or the drain\n"
	  "                      times out, showing progress on stderr\n" },
	{ SL_CLI_OPT_TIMEOUT,
	  "  --timeout DURATION  drain: how long flows may take to end before the\n"
	  "                      drain is over anyway (default: sluiced's setting)\n" },
	{ SL_CLI_OPT_FORCE,
	  "  --force             drain, del: even if it leaves the VIP without an\n"
	  "                      active backend (it then drops every new connection)\n" },
	{ SL_CLI_OPT_INTERVAL,
	  "  --interval DURATION top: time between refreshes, 100ms to 1h (default 1s)\n" },
	{ SL_CLI_OPT_COUNT,
	  "  --count N           top: stop after N refreshes (default: until Ctrl-C)\n" },
	{ SL_CLI_OPT_LIMIT,
	  "  --limit N           flows: list at most N, 1..4096 (default 100)\n" },
	{ SL_CLI_OPT_EXACT,
	  "  --exact             reload: make VIPs, backends and weights equal to the\n"
	  "                      file, undoing runtime changes (drains are kept)\n" },
};

static const char help_vip[] =
	"  VIP       ADDR:PORT/tcp|udp or [ADDR]:PORT/tcp|udp,\n"
	"            e.g. 198.18.0.100:80/tcp, [fd00::100]:443/udp\n";
static const char help_addr[] =
	"  ADDR      a backend address, e.g. 198.18.1.10 or fd00::10, or its name\n"
	"            (name: in the config, backend add --name); drain and\n"
	"            undrain without VIP act on every VIP of that backend\n";
static const char help_file[] =
	"  FILE      a sluiced config file, e.g. /etc/sluice/sluiced.yaml\n";
static const char help_duration[] =
	"  DURATION  e.g. 90s, 5m, 1h, 1m30s\n";

static const char help_exit[] =
	"Exit status:\n"
	"  0    success\n"
	"  1    the operation failed: sluiced refused it or could not be reached\n"
	"  2    usage error\n"
	"  3    backend drain --wait: the drain timed out with flows left\n"
	"  130  backend drain --wait interrupted (the drain goes on in sluiced)\n"
	"reload: 0 applied, 1 rejected (nothing changed) or sluiced unreachable.\n"
	"config diff: 0 same, 1 differs, 2 could not compare (bad file, sluiced\n"
	"unreachable, usage).\n";

static void help_all(FILE *f)
{
	size_t i;

	fprintf(f, "usage: sluicectl [-s SOCKET] [-j] [-v] COMMAND [ARGS] [COMMAND OPTIONS]\n\n"
		   "Control a running sluiced through its control socket.\n\n"
		   "Commands:\n");
	fprintf(f, "  %-28s  %s\n", "help [COMMAND]", "this help, or one command's (also: COMMAND --help)");
	for (i = 0; i < n_tbl; i++) {
		const struct sl_cli_verb *v = &tbl[i];

		if (strlen(v->usage) > 28)
			fprintf(f, "  %s\n  %-28s  %s\n", v->usage, "", v->summary);
		else
			fprintf(f, "  %-28s  %s\n", v->usage, v->summary);
	}
	fprintf(f, "\n%s\nCommand options (anywhere after the command):\n", help_options);
	for (i = 0; i < ARRAY_SIZE(help_opts); i++)
		fputs(help_opts[i].text, f);
	fprintf(f, "\nArguments:\n%s%s%s%s\n%s", help_vip, help_addr, help_duration,
		help_file, help_exit);
}

/* The argument and option lines that concern one command. */
static void help_verb_details(FILE *f, const struct sl_cli_verb *verb)
{
	bool vip = false, addr = false, file = false;
	size_t i;
	int k;

	for (k = 0; k < verb->max_args; k++) {
		vip |= !strcmp(verb->arg_names[k], "VIP");
		addr |= !strcmp(verb->arg_names[k], "ADDR");
		file |= !strcmp(verb->arg_names[k], "FILE");
	}
	if (vip || addr || file || (verb->opts & (SL_CLI_OPT_TIMEOUT | SL_CLI_OPT_INTERVAL)))
		fprintf(f, "\nArguments:\n%s%s%s%s", vip ? help_vip : "",
			addr ? help_addr : "",
			verb->opts & (SL_CLI_OPT_TIMEOUT | SL_CLI_OPT_INTERVAL) ?
			help_duration : "", file ? help_file : "");
	if (verb->opts)
		fprintf(f, "\nOptions:\n");
	for (i = 0; i < ARRAY_SIZE(help_opts); i++)
		if (verb->opts & help_opts[i].bit)
			fputs(help_opts[i].text, f);
}

void sl_cli_help(FILE *f, const struct sl_cli_verb *verb)
{
	if (!verb) {
		help_all(f);
		return;
	}
	fprintf(f, "usage: sluicectl [-s SOCKET] [-j] [-v] %s\n\n%c%s.\n", verb->usage,
		toupper((unsigned char)verb->summary[0]), verb->summary + 1);
	help_verb_details(f, verb);
	if (verb->opts & SL_CLI_OPT_WAIT || verb->run == sl_cli_run_reload ||
	    verb->run == sl_cli_run_config_diff)
		fprintf(f, "\n%s", help_exit);
}

void sl_cli_help_object(FILE *f, const char *object)
{
	size_t i;

	fprintf(f, "usage: sluicectl [-s SOCKET] [-j] [-v] %s%s ...\n\nCommands:\n",
		object, lookup(object, NULL) ? "" : " VERB");
	for (i = 0; i < n_tbl; i++) {
		const struct sl_cli_verb *v = &tbl[i];

		if (strcmp(v->object, object))
			continue;
		if (strlen(v->usage) > 28)
			fprintf(f, "  %s\n  %-28s  %s\n", v->usage, "", v->summary);
		else
			fprintf(f, "  %-28s  %s\n", v->usage, v->summary);
	}
	fprintf(f, "\nMore on one: sluicectl %s%s --help\n", object,
		lookup(object, NULL) ? "" : " VERB");
}

void sl_cli_help_cmd(FILE *f, const struct sl_cli_cmd *cmd)
{
	if (cmd->verb)
		sl_cli_help(f, cmd->verb);
	else if (cmd->help_object)
		sl_cli_help_object(f, cmd->help_object);
	else
		sl_cli_help(f, NULL);
}

void sl_cli_usage_hint(FILE *f, const struct sl_cli_verb *verb)
{
	if (verb)
		fprintf(f, "usage: sluicectl [-s SOCKET] [-j] [-v] %s\n", verb->usage);
	else
		fprintf(f, "usage: sluicectl [-s SOCKET] [-j] [-v] COMMAND [ARGS]; see sluicectl --help\n");
}
