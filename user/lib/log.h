/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Log lines on stderr with a level, for every sluice binary.
 *
 * Under systemd, stderr is a journald stream and the unit says so in
 * JOURNAL_STREAM (device:inode of that stream). Only then does a line
 * start with the syslog priority "<N>", which journald strips and stores,
 * so `journalctl -p warning` shows exactly the warnings and errors.
 * Elsewhere (a terminal, a test's log file) lines read
 * "sluiced: warning: ...", with no "<N>" noise.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* syslog(3) priorities, the numbers journald expects in "<N>". */
enum sl_log_level {
	SL_LOG_ALERT = 1,
	SL_LOG_ERR = 3,
	SL_LOG_WARNING = 4,
	SL_LOG_INFO = 6,
	SL_LOG_DEBUG = 7,
};

/*
 * Name the program (prefix of every line), say whether debug lines are
 * shown, and look at stderr once to decide on "<N>" prefixes. Safe to
 * call again (e.g. after parsing -v).
 */
void sl_log_init(const char *prog, bool verbose);

void sl_logv(enum sl_log_level level, const char *fmt, va_list ap);
/*
 * The box cannot do its job until someone acts (not attached, pins lost,
 * VIPs withdrawn): syslog priority alert, so `journalctl -p alert` shows
 * exactly these and `-p warning` includes them. The first line of one
 * says "ALERT: " itself (it reads the same on and off the journal); a
 * hint may follow at the same priority.
 */
void sl_alert(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sl_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Shown only when sl_log_init() was told verbose. */
void sl_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The historical name: an info line. */
void sl_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Multi-line text (problems and their hints): one line each at @level,
 * each with @prefix, so every line says what it is about on its own (journald
 * and grep see lines, not messages).
 */
void sl_log_lines(enum sl_log_level level, const char *prefix, const char *text);

#endif /* SLUICE_LOG_H */
