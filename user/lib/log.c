// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Levelled log lines on stderr, with journald priorities under systemd. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

static const char *log_prog = "sluice";
static bool log_verbose;
static bool log_journal;

/*
 * JOURNAL_STREAM is inherited by children whose stderr may have been
 * redirected elsewhere: trust it only if it names our stderr.
 */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(2, &st))
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

static bool log_buffered;

void sl_log_init(const char *prog, bool verbose)
{
	log_prog = prog;
	log_verbose = verbose;
	log_journal = stderr_is_journal();
	/*
	 * One write per line, so threads never interleave within a line.
	 * setvbuf() is only valid before the first output: once.
	 */
	if (!log_buffered) {
		setvbuf(stderr, NULL, _IOLBF, 0);
		log_buffered = true;
	}
}

static const char *level_word(enum sl_log_level level)
{
	switch (level) {
	case SL_LOG_ERR:
		return "error: ";
	case SL_LOG_WARNING:
		return "warning: ";
	case SL_LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

void sl_logv(enum sl_log_level level, const char *fmt, va_list ap)
{
	char msg[2048];

	if (level == SL_LOG_DEBUG && !log_verbose)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* journald keeps the priority apart: the word would say it twice. A
	 * hint continues the line above it, and an ALERT says so itself. */
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", level, msg);
	else
		fprintf(stderr, "%s: %s%s\n", log_prog,
			strncmp(msg, "hint: ", 6) ? level_word(level) : "",
			msg);
}

#define SL_LOG_FN(name, level)					\
void name(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	sl_logv(level, fmt, ap);				\
	va_end(ap);						\
}
SL_LOG_FN(sl_alert, SL_LOG_ALERT)
SL_LOG_FN(sl_err, SL_LOG_ERR)
SL_LOG_FN(sl_warn, SL_LOG_WARNING)
SL_LOG_FN(sl_info, SL_LOG_INFO)
SL_LOG_FN(sl_debug, SL_LOG_DEBUG)
SL_LOG_FN(sl_log, SL_LOG_INFO)
#undef SL_LOG_FN

static void __attribute__((format(printf, 2, 3)))
log_at(enum sl_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sl_logv(level, fmt, ap);
	va_end(ap);
}

void sl_log_lines(enum sl_log_level level, const char *prefix, const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchrnul(p, '\n');
		log_at(level, "%s%.*s", prefix, (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}
