/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sluicectl output: aligned tables, the status summary, JSON pass-through. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sluice/reasons.h"
#include "ctl.h"

#include "array.h"
#include "json_get.h"
#define COL_GAP		"  "
#define CELL_MAX	64

void sl_cli_print_json(FILE *f, struct json_object *obj)
{
	fprintf(f, "%s\n", json_object_to_json_string_ext(obj,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE));
}

/*
 * With -j a script reads stdout: an error is also a JSON object there,
 * shaped like sluiced's own error replies.
 */
void sl_cli_print_error_json(FILE *f, const char *error, const char *hint)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return;
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(error));
	json_object_object_add(o, "hint", hint ? json_object_new_string(hint) : NULL);
	sl_cli_print_json(f, o);
	fflush(f);
	json_object_put(o);
}

void sl_cli_format_until(__u64 deadline_ms, __u64 now_ms, char *buf, size_t len)
{
	__u64 left;

	if (!deadline_ms) {
		snprintf(buf, len, "-");
		return;
	}
	if (deadline_ms <= now_ms) {
		snprintf(buf, len, "passed");
		return;
	}
	/* Whole seconds, rounded up: "0s to deadline" would read as passed. */
	left = (deadline_ms - now_ms + 999) / 1000 * 1000;
	sl_format_duration(left, buf, len);
}

/* --- tables ------------------------------------------------------------- */

static char *clean_dup(const char *s)
{
	char *d = strdup(s), *p;

	for (p = d; p && *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
	return d;
}

static char *cell_text(struct json_object *row, const struct sl_cli_col *col,
		       __u64 now_ms)
{
	struct json_object *v = NULL;
	char buf[CELL_MAX], until[SL_DURATION_STR_MAX];
	__s64 ms;

	if (!json_object_object_get_ex(row, col->key, &v) || !v)
		return strdup("-");
	if (col->kind == SL_COL_DEADLINE && json_object_is_type(v, json_type_int)) {
		ms = json_object_get_int64(v);
		sl_cli_format_until(ms > 0 ? (__u64)ms : 0, now_ms, until, sizeof(until));
		if (ms > 0 && (__u64)ms > now_ms)
			snprintf(buf, sizeof(buf), "in %s", until);
		else
			snprintf(buf, sizeof(buf), "%s", until);
		return strdup(buf);
	}
	if (json_object_is_type(v, json_type_string))
		return clean_dup(json_object_get_string(v));
	if (json_object_is_type(v, json_type_boolean))
		return strdup(json_object_get_boolean(v) ? "yes" : "no");
	/* Numbers as sluiced wrote them: exact for the whole u64 range. */
	return clean_dup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

static void free_cells(char **cells, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
}

/* cells[r * ncols + c]; row 0 is the header. NULL when out of memory. */
static char **make_cells(const struct sl_cli_col *cols, size_t ncols,
			 struct json_object *rows, size_t nrows, __u64 now_ms)
{
	char **cells = calloc((nrows + 1) * ncols, sizeof(*cells));
	struct json_object *row;
	size_t r, c;

	if (!cells)
		return NULL;
	for (c = 0; c < ncols; c++)
		cells[c] = strdup(cols[c].head);
	for (r = 0; r < nrows; r++) {
		row = json_object_array_get_idx(rows, r);
		for (c = 0; c < ncols; c++) {
			if (json_object_is_type(row, json_type_object))
				cells[(r + 1) * ncols + c] = cell_text(row, &cols[c], now_ms);
			else
				cells[(r + 1) * ncols + c] = strdup("-");
		}
	}
	for (c = 0; c < (nrows + 1) * ncols; c++) {
		if (!cells[c]) {
			free_cells(cells, (nrows + 1) * ncols);
			return NULL;
		}
	}
	return cells;
}

static void print_row(FILE *f, const struct sl_cli_col *cols, size_t ncols,
		      char **cells, const size_t *width)
{
	size_t c;

	for (c = 0; c < ncols; c++) {
		/* An empty last cell would only leave trailing blanks. */
		if (c + 1 == ncols && cols[c].kind != SL_COL_NUM && !cells[c][0])
			break;
		if (c)
			fputs(COL_GAP, f);
		if (cols[c].kind == SL_COL_NUM)
			fprintf(f, "%*s", (int)width[c], cells[c]);
		else if (c + 1 == ncols)
			fputs(cells[c], f);	/* no trailing blanks */
		else
			fprintf(f, "%-*s", (int)width[c], cells[c]);
	}
	fputc('\n', f);
}

void sl_cli_print_table(FILE *f, const struct sl_cli_col *cols, size_t ncols,
			struct json_object *rows, __u64 now_ms)
{
	size_t r, c, nrows, width[16] = { 0 };
	char **cells;

	/* Not a table after all (a newer sluiced?): show it rather than nothing. */
	if (!json_object_is_type(rows, json_type_array) || ncols > ARRAY_SIZE(width)) {
		sl_cli_print_json(f, rows);
		return;
	}
	nrows = json_object_array_length(rows);
	cells = make_cells(cols, ncols, rows, nrows, now_ms);
	if (!cells) {
		sl_cli_print_json(f, rows);
		return;
	}
	for (r = 0; r <= nrows; r++)
		for (c = 0; c < ncols; c++)
			if (strlen(cells[r * ncols + c]) > width[c])
				width[c] = strlen(cells[r * ncols + c]);
	for (r = 0; r <= nrows; r++)
		print_row(f, cols, ncols, cells + r * ncols, width);
	free_cells(cells, (nrows + 1) * ncols);
}

/* --- status ------------------------------------------------------------- */

#define REASON_ROW(name, verdict, label, desc) { label, desc },
static const struct {
	const char *label;
	const char *desc;
} reason_info[] = {
	SLUICE_REASONS(REASON_ROW)
};
#undef REASON_ROW

static const char *reason_desc(const char *label)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(reason_info); i++)
		if (!strcmp(reason_info[i].label, label))
			return reason_info[i].desc;
	return "";
}

static bool get_int(struct json_object *o, const char *key, long long *v)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x) ||
	    !(json_object_is_type(x, json_type_int) ||
	      json_object_is_type(x, json_type_double)))
		return false;
	*v = json_object_get_int64(x);
	return true;
}

const char *sl_cli_json_str(struct json_object *o, const char *key)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x) ||
	    !json_object_is_type(x, json_type_string))
		return NULL;
	return json_object_get_string(x);
}

static void print_label(FILE *f, const char *label)
{
	fprintf(f, "%-12s", label);
}

static void print_interfaces(FILE *f, struct json_object *st)
{
	struct json_object *ifs, *it;
	const char *name, *mode;
	size_t i, n;

	if (!json_object_object_get_ex(st, "interfaces", &ifs) ||
	    !json_object_is_type(ifs, json_type_array))
		return;
	print_label(f, "interfaces");
	n = json_object_array_length(ifs);
	if (!n)
		fputs("none", f);
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(ifs, i);
		name = sl_cli_json_str(it, "name");
		mode = sl_cli_json_str(it, "mode");
		fprintf(f, "%s%s", i ? ", " : "", name ? name : "?");
		if (mode)
			fprintf(f, " (%s)", mode);
	}
	fputc('\n', f);
}

/*
 * Under cluster: whether etcd is reached, the revision in force, and what
 * holds the box back (no desired state, a refused revision, its name).
 */
static void print_cluster(FILE *f, struct json_object *st)
{
	struct json_object *c;
	const char *s;
	long long rev = 0, rej = 0;

	if (!json_object_object_get_ex(st, "cluster", &c) ||
	    !sl_json_true(c, "enabled"))
		return;
	print_label(f, "cluster");
	if (sl_json_true(c, "connected"))
		fputs("connected", f);
	else
		fprintf(f, "not connected (%s)",
			(s = sl_cli_json_str(c, "last_error")) ? s : "?");
	get_int(c, "applied_revision", &rev);
	get_int(c, "rejected_revision", &rej);
	if (rev)
		fprintf(f, ", revision %lld in force", rev);
	else
		fputs(", no revision applied yet", f);
	if (sl_json_true(c, "desired_absent"))
		fputs(", the desired state is absent from etcd", f);
	if (rej > rev)
		fprintf(f, ", revision %lld refused: %s", rej,
			(s = sl_cli_json_str(c, "rejected")) ? s : "?");
	if (sl_json_true(c, "box_name_conflict"))
		fprintf(f, ", box name held by %s",
			(s = sl_cli_json_str(c, "box_name_holder")) ? s : "?");
	fputc('\n', f);
}

/* "1234 of 1048576 (0.1%)" for a used/capacity pair. */
static void print_usage(FILE *f, const char *label, struct json_object *o,
			const char *used_key, const char *cap_key)
{
	long long used, cap;

	if (!get_int(o, used_key, &used))
		return;
	print_label(f, label);
	if (get_int(o, cap_key, &cap) && cap > 0)
		fprintf(f, "%lld of %lld (%.1f%%)\n", used, cap, used * 100.0 / cap);
	else
		fprintf(f, "%lld\n", used);
}

static void print_summary(FILE *f, struct json_object *st)
{
	struct json_object *flows;
	char dur[SL_DURATION_STR_MAX];
	const char *s;
	long long v, d;

	if ((s = sl_cli_json_str(st, "instance")))
		fprintf(f, "%-12s%s\n", "instance", s);
	if ((s = sl_cli_json_str(st, "version")))
		fprintf(f, "%-12s%s\n", "version", s);
	if (get_int(st, "uptime_s", &v) && v >= 0 &&
	    !sl_format_duration((__u64)v * 1000, dur, sizeof(dur)))
		fprintf(f, "%-12s%s\n", "uptime", dur);
	print_interfaces(f, st);
	print_cluster(f, st);
	if (json_object_object_get_ex(st, "flows", &flows)) {
		print_usage(f, "flows", flows, "entries", "capacity");
		print_usage(f, "new flows", flows, "new_entries", "new_capacity");
	}
	if (get_int(st, "vips", &v)) {
		fprintf(f, "%-12s%lld", "vips", v);
		if (get_int(st, "maglev_table_size", &d))
			fprintf(f, " (Maglev tables of %lld slots)", d);
		fputc('\n', f);
	}
	if (get_int(st, "backends", &v)) {
		fprintf(f, "%-12s%lld", "backends", v);
		if (get_int(st, "draining", &d))
			fprintf(f, " (%lld draining)", d);
		fputc('\n', f);
	}
	if (get_int(st, "last_sweep_ms", &v))
		fprintf(f, "%-12s%lld ms\n", "last sweep", v);
}

/* The reason counters as table rows; zero ones only when all is set. */
static struct json_object *reason_rows(struct json_object *reasons, bool all)
{
	struct json_object *rows = json_object_new_array(), *row;
	long long n;

	if (!rows)
		return NULL;
	json_object_object_foreach(reasons, label, val) {
		n = json_object_get_int64(val);
		if (!n && !all)
			continue;
		row = json_object_new_object();
		if (!row)
			break;
		json_object_object_add(row, "reason", json_object_new_string(label));
		json_object_object_add(row, "packets", json_object_get(val));
		json_object_object_add(row, "desc",
				       json_object_new_string(reason_desc(label)));
		json_object_array_add(rows, row);
	}
	return rows;
}

void sl_cli_print_status(FILE *f, struct json_object *st, bool all)
{
	static const struct sl_cli_col cols[] = {
		{ "REASON", "reason", SL_COL_TEXT },
		{ "PACKETS", "packets", SL_COL_NUM },
		{ "DESCRIPTION", "desc", SL_COL_TEXT },
	};
	struct json_object *reasons, *rows;

	if (!json_object_is_type(st, json_type_object)) {
		sl_cli_print_json(f, st);
		return;
	}
	print_summary(f, st);
	sl_cli_print_tables(f, st);
	if (!json_object_object_get_ex(st, "reasons", &reasons) ||
	    !json_object_is_type(reasons, json_type_object))
		return;
	rows = reason_rows(reasons, all);
	if (!rows)
		return;
	if (json_object_array_length(rows)) {
		fputc('\n', f);
		sl_cli_print_table(f, cols, ARRAY_SIZE(cols), rows, 0);
	} else {
		fprintf(f, "%-12s%s\n", "packets", "none counted yet");
	}
	json_object_put(rows);
}

/* --- per-command output ------------------------------------------------- */

void sl_cli_print_status_result(const struct sl_cli_io *io,
				const struct sl_cli_cmd *cmd,
				struct json_object *result)
{
	sl_cli_print_status(io->out, result, cmd->verbose);
}

void sl_cli_print_vip_list(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			   struct json_object *result)
{
	static const struct sl_cli_col cols[] = {
		{ "VIP", "vip", SL_COL_TEXT },
		{ "BACKENDS", "backends", SL_COL_NUM },
		{ "ACTIVE", "active", SL_COL_NUM },
		{ "FLOWS", "flows", SL_COL_NUM },
		{ "NEW_FLOWS", "new_flows", SL_COL_NUM },
		{ "PACKETS", "packets", SL_COL_NUM },
		{ "BYTES", "bytes", SL_COL_NUM },
		{ "TABLE_FINGERPRINT", "fingerprint", SL_COL_TEXT },
	};

	(void)cmd;
	sl_cli_print_table(io->out, cols, ARRAY_SIZE(cols), result, 0);
}

/* Does any row have a non-empty @key? (a column nobody uses is not shown) */
static bool any_text(struct json_object *rows, const char *key)
{
	struct json_object *v;
	size_t i;

	if (!json_object_is_type(rows, json_type_array))
		return false;
	for (i = 0; i < json_object_array_length(rows); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(rows, i), key, &v) &&
		    json_object_is_type(v, json_type_string) && json_object_get_string_len(v))
			return true;
	return false;
}

void sl_cli_print_backend_list(const struct sl_cli_io *io,
			       const struct sl_cli_cmd *cmd,
			       struct json_object *result)
{
	static const struct sl_cli_col cols[] = {
		{ "VIP", "vip", SL_COL_TEXT },
		{ "BACKEND", "backend", SL_COL_TEXT },
		{ "NAME", "name", SL_COL_TEXT },
		{ "STATE", "state", SL_COL_TEXT },
		{ "HEALTH", "health", SL_COL_TEXT },
		{ "WEIGHT", "weight", SL_COL_NUM },
		{ "FLOWS", "flows", SL_COL_NUM },
		{ "HANDSHAKES", "handshakes", SL_COL_NUM },
		{ "NEW_FLOWS", "new_flows", SL_COL_NUM },
		{ "PACKETS", "packets", SL_COL_NUM },
		{ "BYTES", "bytes", SL_COL_NUM },
		{ "LOST", "lost", SL_COL_NUM },
	};
	struct sl_cli_col shown[ARRAY_SIZE(cols)];
	size_t i, n = 0;
	bool names = any_text(result, "name");

	(void)cmd;
	for (i = 0; i < ARRAY_SIZE(cols); i++)
		if (names || strcmp(cols[i].key, "name"))
			shown[n++] = cols[i];
	sl_cli_print_table(io->out, shown, n, result, 0);
}

void sl_cli_print_drain(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			struct json_object *result)
{
	static const struct sl_cli_col cols[] = {
		{ "VIP", "vip", SL_COL_TEXT },
		{ "BACKEND", "backend", SL_COL_TEXT },
		{ "STATE", "state", SL_COL_TEXT },
		{ "FLOWS", "flows", SL_COL_NUM },
		{ "HANDSHAKES", "handshakes", SL_COL_NUM },
		{ "DEADLINE", SL_CTL_KEY_DEADLINE, SL_COL_DEADLINE },
	};

	(void)cmd;
	sl_cli_print_table(io->out, cols, ARRAY_SIZE(cols), result, io->now_ms(io));
}

void sl_cli_print_undrain(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
			  struct json_object *result)
{
	static const struct sl_cli_col cols[] = {
		{ "VIP", "vip", SL_COL_TEXT },
		{ "BACKEND", "backend", SL_COL_TEXT },
		{ "STATE", "state", SL_COL_TEXT },
	};

	(void)cmd;
	sl_cli_print_table(io->out, cols, ARRAY_SIZE(cols), result, 0);
}
