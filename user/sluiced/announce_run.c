// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluiced's side of announcements (user/lib/announce.h): keep the routes
 * in step with the state after every change, and the box drain, which
 * withdraws every VIP of this box while it keeps forwarding the flows it
 * has. The box drain is a file in the state directory, so it survives a
 * restart: a drained box never comes back announcing by surprise. The
 * file says who drained it ("fleet" for the desired state in etcd), so a
 * fleet undrain that came while sluiced was stopped applies at its start,
 * and a local drain still stands over a fleet that never asked for one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

#define BOX_DRAINED_FILE	"box-drained"
#define BY_FLEET "fleet\n"

static void marker_path(const struct sl_daemon *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", d->cfg.state_dir, BOX_DRAINED_FILE);
}

/* Does the marker at @path say the fleet drained the box? */
static bool marker_by_fleet(const char *path)
{
	char buf[sizeof(BY_FLEET)] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n == (ssize_t)strlen(BY_FLEET) && !strcmp(buf, BY_FLEET);
}

/* Was the box drained by the fleet (its marker says so) when sluiced started? */
bool sl_ann_drained_by_fleet(const struct sl_daemon *d)
{
	char path[sizeof(d->cfg.state_dir) + 32];

	marker_path(d, path, sizeof(path));
	return marker_by_fleet(path);
}

void sl_ann_start(struct sl_daemon *d)
{
	char path[sizeof(d->cfg.state_dir) + 32], err[512];

	marker_path(d, path, sizeof(path));
	d->box_drained = access(path, F_OK) == 0;
	if (!d->cfg.announce_enabled)
		return;
	d->ann = sl_announce_open(d->cfg.announce_device, d->cfg.announce_table,
				  err, sizeof(err));
	if (!d->ann) {
		sl_warn("announcements off: %s", err);
		return;
	}
	sl_log("announcing VIPs as routes via %s in table %u%s",
	       d->cfg.announce_device, d->cfg.announce_table,
	       d->box_drained ? " (box drained: none for now)" : "");
	sl_ann_update(d);
}

void sl_ann_update(struct sl_daemon *d)
{
	struct sl_ann_addr want[SL_ANNOUNCE_MAX];
	char err[512];
	size_t n;

	if (!d->ann)
		return;
	n = sl_announce_wanted(&d->st, d->box_drained || d->datapath_lost, want,
			       SL_ANNOUNCE_MAX);
	if (sl_announce_set(d->ann, want, n, err, sizeof(err)))
		sl_warn("%s", err);
}

void sl_ann_stop(struct sl_daemon *d)
{
	if (!d->ann)
		return;
	sl_announce_close(d->ann);
	d->ann = NULL;
	sl_log("announcements withdrawn");
}

int sl_ann_box_drain(struct sl_daemon *d, bool drain, bool by_fleet, char *err,
		     size_t errlen)
{
	const char *by = by_fleet ? BY_FLEET : "";
	char path[sizeof(d->cfg.state_dir) + 32];
	int fd;

	marker_path(d, path, sizeof(path));
	if (drain) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 ||
		    write(fd, by, strlen(by)) != (ssize_t)strlen(by) ||
		    fsync(fd)) {
			snprintf(err, errlen, "cannot record the box drain in %s: %s", path,
				 strerror(errno));
			if (fd >= 0)
				close(fd);
			return -EIO;
		}
		close(fd);
	} else if (unlink(path) && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
		return -EIO;
	}
	if (d->box_drained != drain)
		sl_log("box %s: %s", drain ? "drained" : "undrained",
		       drain ? "every VIP withdrawn, established flows keep flowing"
			     : "VIPs announced again");
	d->box_drained = drain;
	sl_ann_update(d);
	return 0;
}

void sl_ann_datapath(struct sl_daemon *d, bool lost)
{
	if (d->datapath_lost == lost)
		return;
	d->datapath_lost = lost;
	if (d->ann && lost)
		sl_alert(
			"ALERT: every VIP of this box withdrawn: an interface does "
			"not run sluice's XDP program, so the box cannot balance "
			"their traffic (established flows through other interfaces "
			"keep flowing)");
	else if (d->ann)
		sl_log("every interface runs sluice's XDP program again: VIPs "
		       "announced again%s",
		       d->box_drained ? " once the box is undrained" : "");
	sl_ann_update(d);
}

json_object *sl_ann_status(const struct sl_daemon *d)
{
	struct sl_ann_addr cur[SL_ANNOUNCE_MAX];
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	char buf[SL_ADDR_STR_MAX];
	size_t i, n = sl_announce_list(d->ann, cur, SL_ANNOUNCE_MAX);

	json_object_object_add(o, "enabled", json_object_new_boolean(d->ann != NULL));
	json_object_object_add(o, "box_drained", json_object_new_boolean(d->box_drained));
	json_object_object_add(o, "datapath_ok",
			       json_object_new_boolean(!d->datapath_lost));
	for (i = 0; i < n && i < SL_ANNOUNCE_MAX; i++) {
		sl_format_addr(&cur[i].addr, cur[i].family, buf, sizeof(buf));
		json_object_array_add(arr, json_object_new_string(buf));
	}
	json_object_object_add(o, "announced", arr);
	if (d->ann) {
		json_object_object_add(o, "table", json_object_new_uint64(d->cfg.announce_table));
		json_object_object_add(o, "device",
				       json_object_new_string(d->cfg.announce_device));
	}
	return o;
}
