// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The instance's pins (pins.h). Pins are how the datapath outlives the
 * daemon, but while sluiced runs its own fds are what count: the skeleton
 * holds every map and sluiced keeps every link fd open, so an unmounted
 * bpffs (or a removed pin directory) takes nothing from the datapath.
 * What it does take is the next restart's state and the program's
 * survival of a sluiced exit: so sluiced notices, says so loudly, and pins
 * everything again as soon as it can.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <net/if.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "lock.h"
#include "pins.h"
#include "loader.h"

void sl_pins_init(struct sl_pins *p, const char *dir, bool dir_created)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	p->dir_created = dir_created;
}

static void pin_path(const struct sl_pins *p, const struct sl_pin *pin, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s/%s", p->dir, pin->name);
}

static struct sl_pin *add(struct sl_pins *p, const char *name)
{
	struct sl_pin *pin;

	if (p->n >= SL_PINS_MAX)
		return NULL;
	pin = &p->pin[p->n++];
	memset(pin, 0, sizeof(*pin));
	snprintf(pin->name, sizeof(pin->name), "%s", name);
	pin->fd = -1;
	return pin;
}

void sl_pins_note_maps(struct sl_pins *p, struct bpf_object *obj)
{
	struct bpf_map *map;
	struct sl_pin *pin;

	bpf_object__for_each_map(map, obj) {
		const char *path = bpf_map__pin_path(map);

		if (!path)
			continue;	/* private to the program */
		pin = add(p, bpf_map__name(map));
		if (pin)
			pin->existed = access(path, F_OK) == 0;
	}
}

static __u32 obj_id(int fd, bool link)
{
	struct bpf_link_info li;
	struct bpf_map_info mi;
	__u32 len;

	if (link) {
		memset(&li, 0, sizeof(li));
		len = sizeof(li);
		return bpf_obj_get_info_by_fd(fd, &li, &len) ? 0 : li.id;
	}
	memset(&mi, 0, sizeof(mi));
	len = sizeof(mi);
	return bpf_obj_get_info_by_fd(fd, &mi, &len) ? 0 : mi.id;
}

void sl_pins_take_maps(struct sl_pins *p, struct bpf_object *obj)
{
	unsigned int i;

	for (i = 0; i < p->n; i++) {
		struct bpf_map *map;

		if (p->pin[i].link)
			continue;
		map = bpf_object__find_map_by_name(obj, p->pin[i].name);
		if (!map)
			continue;
		p->pin[i].fd = bpf_map__fd(map);
		p->pin[i].id = p->pin[i].fd >= 0 ? obj_id(p->pin[i].fd, false) : 0;
	}
}

/* The pin named @name, or NULL. */
static struct sl_pin *find(struct sl_pins *p, const char *name)
{
	unsigned int i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->pin[i].name, name))
			return &p->pin[i];
	return NULL;
}

void sl_pins_add_link(struct sl_pins *p, const char *name, int fd, bool created)
{
	struct sl_pin *pin = find(p, name);

	/* Attached again (its interface re-created): the old link is dead. */
	if (pin && pin->link && pin->fd >= 0 && pin->fd != fd)
		close(pin->fd);
	if (!pin)
		pin = add(p, name);

	if (!pin) {
		sl_warn("too many pins to watch; %s is not watched", name);
		return;
	}
	pin->link = true;
	pin->fd = fd;
	pin->existed = !created;
	pin->id = obj_id(fd, true);
}

void sl_pins_undo(struct sl_pins *p)
{
	char path[PATH_MAX + 80];
	unsigned int i, n = 0;

	for (i = 0; i < p->n; i++) {
		struct sl_pin *pin = &p->pin[i];

		if (pin->existed)
			continue;
		pin_path(p, pin, path, sizeof(path));
		if (!unlink(path))
			n++;
		/* A link this start made is ours alone: take it off the interface. */
		if (pin->link && pin->fd >= 0) {
			bpf_link_detach(pin->fd);
			close(pin->fd);
			pin->fd = -1;
		}
	}
	if (p->dir_created && !rmdir(p->dir))
		sl_log("start failed: removed the %u pin(s) and the pin directory %s it created",
		       n, p->dir);
	else if (n)
		sl_log("start failed: removed the %u pin(s) it created in %s (pins of a "
		       "previous run kept)", n, p->dir);
}

static bool on_bpffs(const char *path)
{
	struct statfs sfs;

	return !statfs(path, &sfs) && sfs.f_type == BPF_FS_MAGIC;
}

/* The pin directory is gone: make it again if bpffs is there to hold it. */
static int restore_dir(struct sl_pins *p, struct sl_lock *lock, const char *instance)
{
	char parent[PATH_MAX], err[512];

	snprintf(parent, sizeof(parent), "%s", p->dir);
	if (!on_bpffs(dirname(parent)))
		return -ENOENT;
	if (mkdir(p->dir, 0700) && errno != EEXIST)
		return -errno;
	/* The lock was on the old directory: hold the new one too. */
	if (lock->pin_fd >= 0)
		close(lock->pin_fd);
	lock->pin_fd = -1;
	if (sl_lock_pin_dir(lock, p->dir, instance, err, sizeof(err))) {
		sl_warn("%s", err);
		return -EBUSY;
	}
	return 0;
}

/* One pin: 0 in place (or restored), -EEXIST another object, else -errno. */
static int check_one(struct sl_pins *p, struct sl_pin *pin)
{
	char path[PATH_MAX + 80];
	__u32 id;
	int fd;

	if (pin->fd < 0)
		return 0;
	pin_path(p, pin, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		id = obj_id(fd, pin->link);
		close(fd);
		return id == pin->id ? 0 : -EEXIST;
	}
	if (errno != ENOENT)
		return -errno;
	if (bpf_obj_pin(pin->fd, path))
		return -errno;
	p->repins++;
	sl_log("re-pinned %s", path);
	return 0;
}

bool sl_pins_check(struct sl_pins *p, struct sl_lock *lock, const char *instance,
		   __u64 now_ms)
{
	unsigned int i, bad = 0;
	bool was_lost = p->lost;
	int rc;

	if (now_ms < p->next_check_ms)
		return !p->lost;
	p->next_check_ms = now_ms + SL_PINS_CHECK_MS;
	if (!on_bpffs(p->dir) && restore_dir(p, lock, instance)) {
		if (!was_lost) {
			sl_alert(
				"ALERT: the pin directory %s is gone (bpffs unmounted?): sluice keeps "
				"forwarding on sluiced's own references, but a sluiced exit now "
				"detaches it and a restart loses every flow",
				p->dir);
			sl_alert(
				"hint: mount bpffs again (mount -t bpf bpf /sys/fs/bpf): sluiced "
				"re-pins everything within a second");
		}
		p->lost = true;
		return false;
	}
	for (i = 0; i < p->n; i++) {
		rc = check_one(p, &p->pin[i]);
		if (!rc)
			continue;
		bad++;
		if (!was_lost)
			sl_alert("ALERT: cannot keep %s/%s pinned: %s", p->dir,
				 p->pin[i].name,
				 rc == -EEXIST ?
					 "another object is pinned there" :
					 strerror(-rc));
	}
	p->lost = bad > 0;
	if (was_lost && !p->lost)
		sl_log("pins restored in %s: a restart keeps its flows again", p->dir);
	return !p->lost;
}

enum sl_xdp_state sl_xdp_state(unsigned int ifindex, __u32 prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 ids[4];
	bool any = false;
	size_t k;

	if (!ifindex || bpf_xdp_query(ifindex, 0, &q))
		return SL_XDP_GONE;
	ids[0] = q.prog_id;
	ids[1] = q.drv_prog_id;
	ids[2] = q.skb_prog_id;
	ids[3] = q.hw_prog_id;
	for (k = 0; k < 4; k++) {
		if (prog_id && ids[k] == prog_id)
			return SL_XDP_OURS;
		any |= ids[k] != 0;
	}
	return any ? SL_XDP_OTHER : SL_XDP_NONE;
}

/* Publish what the last check saw for status and metrics. */
static void publish(struct sl_daemon *d)
{
	unsigned int i;

	pthread_mutex_lock(&d->snap_lock);
	d->snap.n_ifaces = d->cfg.n_ifaces;
	for (i = 0; i < d->cfg.n_ifaces; i++) {
		snprintf(d->snap.ifname[i], sizeof(d->snap.ifname[i]), "%s",
			 d->cfg.ifaces[i].name);
		d->snap.attached[i] = d->attached[i];
	}
	d->snap.pins_ok = !d->pins.lost;
	d->snap.repins = d->pins.repins;
	d->snap.reattaches = d->reattaches;
	pthread_mutex_unlock(&d->snap_lock);
}

void sl_watch_datapath(struct sl_daemon *d, bool force)
{
	__u64 now = sl_boot_ms();
	bool att, lost = false;
	unsigned int i;

	if (!force && now < d->pins.next_check_ms)
		return;
	if (force)
		d->pins.next_check_ms = 0;
	sl_pins_check(&d->pins, &d->inst_lock, d->cfg.instance, now);
	for (i = 0; i < d->cfg.n_ifaces; i++) {
		const char *name = d->cfg.ifaces[i].name;
		unsigned int ifindex = if_nametoindex(name);
		enum sl_xdp_state st = sl_xdp_state(ifindex, d->prog_id);

		if (st != SL_XDP_OURS && !force &&
		    sl_loader_reattach(d, i, ifindex, st))
			st = sl_xdp_state(ifindex, d->prog_id);
		att = st == SL_XDP_OURS;
		if (!att && (d->attached[i] || force))
			sl_alert(
				"ALERT: %s does not run sluice's XDP program (id %u): its VIPs "
				"are not balanced",
				name, d->prog_id);
		else if (att && !d->attached[i] && !force)
			sl_log("%s runs sluice's XDP program again", name);
		d->attached[i] = att;
		lost |= !att;
	}
	sl_ann_datapath(d, lost);
	publish(d);
}
