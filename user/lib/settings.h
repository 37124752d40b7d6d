/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The config file's scalar settings (everything but vips) as named text,
 * one table for three users: `sluicectl config dump` writes them,
 * `config diff` and `reload` compare them. A reload applies VIPs,
 * backends, weights and health checks live; every setting listed here is
 * read at start only, so a changed one waits for a restart.
 */
#ifndef SLUICE_SETTINGS_H
#define SLUICE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Longest text of one setting's value, NUL included. */
#define SL_SETTING_TEXT_MAX	(PATH_MAX + 8)

/*
 * How a secret (cluster.password) is shown, never its value: "" when not
 * set, SL_SETTING_SECRET_SET when set, and in a difference between two
 * values that are both set, SL_SETTING_SECRET_OTHER on the file's side.
 */
#define SL_SETTING_SECRET_SET "(set)"
#define SL_SETTING_SECRET_OTHER "(set, another)"

/*
 * Setting @i (0 .. sl_settings_count() - 1) of @cfg: its dotted name
 * ("flows.table_size") into *name and its value as the config file
 * writes it ("1048576", "15m", "198.18.0.1", "" when not set) into @buf;
 * a secret as SL_SETTING_SECRET_SET.
 */
size_t sl_settings_count(void);
void sl_setting_text(const struct sl_config *cfg, size_t i, const char **name,
		     char *buf, size_t len);

/*
 * What a restart does with a changed setting, when it is more than
 * "applied": NULL for most. flows.table_size: "a restart refuses it while
 * the pinned maps exist: sluiced --detach first (drops every flow)".
 */
const char *sl_setting_restart_note(const char *name);

/*
 * Whether `config dump` writes setting @name: all but the etcd username
 * and password, which `config diff` therefore compares through sluiced
 * (below).
 */
bool sl_setting_dumped(const char *name);

/*
 * How a secret that differs is shown: "(set)" or "" on each side, and the
 * file's "(set, another)" when both are set, so a changed password is
 * seen without either value.
 */
void sl_setting_secret_shown(bool running_set, bool file_set,
			     const char **running, const char **file);

/*
 * `config diff`'s way around the dump's gap: the CLI sends the file's
 * undumped settings to sluiced, which says which differ from its own and
 * echoes none. sl_settings_undumped() calls @fn(ctx, name, text) for each
 * undumped setting of @cfg with its real text (the secret itself: the
 * caller sends it to sluiced only). sl_setting_undumped_differs() gives 1
 * when @running's differs from @text, else 0, or -ENOENT when @name is
 * not an undumped setting; *running_set says whether @running sets it.
 */
typedef void (*sl_setting_text_fn)(void *ctx, const char *name,
				   const char *text);
void sl_settings_undumped(const struct sl_config *cfg, sl_setting_text_fn fn,
			  void *ctx);
int sl_setting_undumped_differs(const struct sl_config *running,
				const char *name, const char *text,
				bool *running_set);

/*
 * For each setting whose text differs between @running and @file, call
 * @fn(ctx, name, running text, file text), secrets shown as above.
 * Returns how many differ.
 */
typedef void (*sl_setting_diff_fn)(void *ctx, const char *name,
				   const char *running, const char *file);
size_t sl_settings_diff(const struct sl_config *running, const struct sl_config *file,
			sl_setting_diff_fn fn, void *ctx);

#endif /* SLUICE_SETTINGS_H */
