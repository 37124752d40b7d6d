// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Config reload, one code path for SIGHUP and `sluicectl reload`: parse
 * and check the file (in a limited child first), merge its VIPs, backends,
 * weights and health checks into the running state, commit the result
 * whole or not at all, and report what changed, what was rejected and
 * why, and which settings wait for a restart. Every outcome is logged and
 * kept for the sluice_reload_* metrics.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "ctl.h"
#include "daemon.h"
#include "persist.h"
#include "settings.h"
#include "state_diff.h"

static void add_change(void *ctx, const char *line)
{
	json_object_array_add(ctx, json_object_new_string(line));
}

/* Record the outcome for metrics: d->snap is what the scrape reads. */
static void record(struct sl_daemon *d, bool ok, __u64 now, size_t restart)
{
	pthread_mutex_lock(&d->snap_lock);
	d->snap.reload.unix_ms = now;
	d->snap.reload.success = ok;
	if (ok) {
		d->snap.reload.applied_total++;
		d->snap.reload.restart_pending = restart;
	} else {
		d->snap.reload.rejected_total++;
	}
	pthread_mutex_unlock(&d->snap_lock);
}

static void log_outcome(struct sl_daemon *d, json_object *res, bool ok,
			const char *why)
{
	json_object *changes = json_object_object_get(res, SL_CTL_KEY_CHANGES);
	json_object *restart = json_object_object_get(res, SL_CTL_KEY_RESTART);
	size_t i, n;

	if (!ok) {
		sl_log_lines(SL_LOG_ERR, "reload rejected, running state unchanged: ", why);
		return;
	}
	n = json_object_array_length(changes);
	sl_log("reloaded %s: %zu change%s", d->cfg_path, n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		sl_log("reload: %s", json_object_get_string(
			json_object_array_get_idx(changes, i)));
	for (i = 0; i < json_object_array_length(restart); i++) {
		json_object *o = json_object_array_get_idx(restart, i);

		json_object *note = json_object_object_get(o, SL_CTL_KEY_NOTE);

		sl_log("reload: %s is \"%s\" in %s but \"%s\" is running: applies on restart%s%s",
		       json_object_get_string(json_object_object_get(o, SL_CTL_KEY_SETTING)),
		       json_object_get_string(json_object_object_get(o, SL_CTL_KEY_FILE)),
		       d->cfg_path,
		       json_object_get_string(json_object_object_get(o, SL_CTL_KEY_RUNNING)),
		       note ? "; " : "", note ? json_object_get_string(note) : "");
	}
}

/*
 * Build the next state from @ncfg; on success *next holds it and *nfile
 * the file's VIP section as a state. 0, or -errno with @err.
 */
static int merge(struct sl_daemon *d, const struct sl_config *ncfg, bool exact,
		 struct sl_state *next, struct sl_state *nfile, char *err, size_t errlen)
{
	int rc;

	sl_state_init(next);
	rc = sl_state_from_config(nfile, ncfg, err, errlen);
	if (rc)
		return rc;
	rc = sl_state_copy(next, &d->st);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	/*
	 * The merge base: the file as last applied (runtime changes to what
	 * the file did not touch survive), or, exact, the running state
	 * itself (whatever differs from the file is undone).
	 */
	return sl_state_apply_config(next, exact ? &d->st : &d->cfg_applied, nfile,
				     err, errlen);
}

/* Merge the loaded @ncfg, commit; fills @res's changes. 0, or -errno with @err. */
static int apply(struct sl_daemon *d, bool exact, json_object *res,
		 struct sl_config *ncfg, char *err, size_t errlen)
{
	struct sl_state next, nfile;
	int rc;

	sl_state_init(&nfile);
	rc = merge(d, ncfg, exact, &next, &nfile, err, errlen);
	if (!rc)
		sl_state_diff(&d->st, &next, add_change,
			      json_object_object_get(res, SL_CTL_KEY_CHANGES));
	if (!rc)
		rc = sl_daemon_commit(d, &next, err, errlen);
	if (!rc) {
		sl_state_free(&d->cfg_applied);
		d->cfg_applied = nfile;
		sl_state_init(&nfile);
		/* The state file carries cfg_applied: the merge base of the next reload. */
		if (sl_state_save(d->state_path, &d->st, &d->cfg_applied, err, errlen))
			sl_warn("%s", err);
	}
	sl_state_free(&next);
	sl_state_free(&nfile);
	return rc;
}

/*
 * The file is read twice (once by the sandboxed precheck, once for real),
 * which only a regular file supports: a FIFO would hand its content to the
 * first reader and block the second. Opened non-blocking: a FIFO nobody
 * writes cannot hold this up.
 */
int sl_config_check_regular(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%.600s: cannot open: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%.600s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return -errno;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%.600s is not a regular file (%s): sluiced reads its "
			 "config twice (checked, then loaded); write it to a file",
			 path, S_ISFIFO(st.st_mode) ? "a FIFO" : "a device or socket");
		return -EINVAL;
	}
	return 0;
}

int sl_config_read(const char *path, struct sl_config *cfg, char *err, size_t errlen)
{
	int rc = sl_config_check_regular(path, err, errlen);

	if (!rc)
		rc = sl_config_precheck(path, err, errlen);
	if (!rc)
		rc = sl_config_load(path, cfg, err, errlen);
	return rc;
}

json_object *sl_reload_finish(struct sl_daemon *d, bool exact, int load_rc,
			      struct sl_config *ncfg, const char *load_err)
{
	json_object *res = json_object_new_object();
	json_object *restart = json_object_new_array();
	char err[1024] = "";
	__u64 now;
	int rc = load_rc;

	if (!res || !restart) {
		json_object_put(res);
		json_object_put(restart);
		sl_config_free(ncfg);
		return NULL;
	}
	json_object_object_add(res, SL_CTL_KEY_CHANGES, json_object_new_array());
	if (rc)
		snprintf(err, sizeof(err), "%s", load_err);
	else
		rc = apply(d, exact, res, ncfg, err, sizeof(err));
	if (!rc)
		sl_settings_diff(&d->cfg, ncfg, sl_ctl_setting_add, restart);
	sl_config_free(ncfg);
	now = sl_unix_ms();
	json_object_object_add(res, SL_CTL_KEY_APPLIED, json_object_new_boolean(!rc));
	if (rc) {
		/* Nothing changed: the changes computed before a failed commit go. */
		json_object_object_add(res, SL_CTL_KEY_CHANGES, json_object_new_array());
		json_object_object_add(res, SL_CTL_KEY_REJECTED, json_object_new_string(err));
	}
	json_object_object_add(res, SL_CTL_KEY_RESTART, restart);
	json_object_object_add(res, SL_CTL_KEY_FILE, json_object_new_string(d->cfg_path));
	json_object_object_add(res, SL_CTL_KEY_UNIX_MS, json_object_new_uint64(now));
	record(d, !rc, now, json_object_array_length(restart));
	log_outcome(d, res, !rc, err);
	return res;
}
