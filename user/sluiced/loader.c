// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The datapath's lifecycle for sluiced, as libbpf-bootstrap shapes it:
 * open the skeleton over the maps pinned in paths.pin_dir (carrying an
 * older layout over), load, attach to every configured interface through
 * pinned links, and, for --detach, take it all down again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "link.h"
#include "loader.h"
#include "log.h"
#include "migrate.h"
#include "migrate_flows.h"
#include "new_tags.h"
#include "persist.h"
#include "pindir.h"
#include "sluice.skel.h"

static void pin_path(const struct sl_daemon *d, const char *name, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s/%s", d->cfg.pin_dir, name);
}

/* Is a map pinned at @path, and not an mmapable ARRAY of @n @size-byte
 * values (libbpf would refuse to reuse it)? Its info in @info. */
static bool pin_differs(const char *path, __u32 size, __u32 n,
			struct bpf_map_info *info)
{
	if (sl_pinned_map_info(path, info, NULL))
		return false; /* none: the load creates it */
	return info->type != BPF_MAP_TYPE_ARRAY || info->value_size != size ||
	       info->max_entries != n || info->map_flags != BPF_F_MMAPABLE;
}

/*
 * sl_new holds only handshakes in flight, each of which falls back to the
 * live table's pick without it: a pinned sl_new of another size or layout
 * (an older sluiced's LRU hash) is simply re-created, and its tags with
 * it. Tags of another size go too; either way they are rebuilt from the
 * slots after the attach (sl_new_tags_rebuild()).
 */
static void replace_stale_new_table(struct sl_daemon *d)
{
	__u32 slots = d->cfg.new_table_size;
	char path[4200], tags[4200];
	struct bpf_map_info info;
	bool stale;

	pin_path(d, SLUICE_MAP_NEW, path, sizeof(path));
	pin_path(d, SLUICE_MAP_NEW_TAGS, tags, sizeof(tags));
	stale = pin_differs(path, sizeof(struct sluice_new_slot), slots, &info);
	if (stale) {
		sl_log("re-creating %s (%u entries, config asks for %u slots): "
		       "only handshakes in flight use it",
		       path, info.max_entries, slots);
		unlink(path);
	}
	if (stale || pin_differs(tags, sizeof(struct sluice_new_tags),
				 slots / SLUICE_NEW_WAYS, &info))
		unlink(tags);
}

/* Every tag as its slot says (new_tags.h): slots an older sluiced wrote
 * without tags are found again, and tags over empty slots cleared. */
static void new_tags_rebuild(struct sl_daemon *d)
{
	struct sl_new_tags_fix fix;
	int rc;

	rc = sl_new_tags_rebuild(d->maps.new_map, d->maps.new_tags,
				 d->maps.new_slots, d->maps.hash_seed, &fix);
	if (rc)
		sl_warn("cannot rebuild %s from %s: %s (handshakes in flight "
			"may lose their slot)",
			SLUICE_MAP_NEW_TAGS, SLUICE_MAP_NEW, strerror(-rc));
	else if (fix.set || fix.cleared)
		sl_log("%s rebuilt from %s: %llu slots tagged, %llu cleared",
		       SLUICE_MAP_NEW_TAGS, SLUICE_MAP_NEW,
		       (unsigned long long)fix.set,
		       (unsigned long long)fix.cleared);
}

/*
 * Pinned maps whose size the config changed: sl_flows and the drain table (sl_pinned) were
 * refused before (start_problems: re-creating them would drop every flow).
 * Maglev tables are rebuilt from the state anyway, so a ring-size change
 * simply re-creates sl_rings.
 */
int sl_loader_prepare_pins(struct sl_daemon *d)
{
	struct sluice_config pc;
	char path[4200];
	__u32 zero = 0;
	int fd;

	replace_stale_new_table(d);
	pin_path(d, SLUICE_MAP_CONFIG, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (!bpf_map_lookup_elem(fd, &zero, &pc) && pc.ring_size &&
		    pc.ring_size != d->cfg.maglev_table_size) {
			sl_log("maglev.table_size changed (%u -> %u): rebuilding tables",
			       pc.ring_size, d->cfg.maglev_table_size);
			pin_path(d, SLUICE_MAP_RINGS, path, sizeof(path));
			unlink(path);
			pin_path(d, SLUICE_MAP_FB_RINGS, path, sizeof(path));
			unlink(path);
		}
		close(fd);
	}
	return 0;
}

static int set_pins(struct sl_daemon *d)
{
	struct bpf_map *map;
	char path[4200];
	int rc;

	bpf_object__for_each_map(map, d->skel->obj) {
		if (strncmp(bpf_map__name(map), "sl_", 3) ||
		    sl_map_private(bpf_map__name(map)))
			continue; /* private to this program: see maps.h */
		pin_path(d, bpf_map__name(map), path, sizeof(path));
		rc = bpf_map__set_pin_path(map, path);
		if (rc)
			return rc;
	}
	return 0;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static int load_bpf(struct sl_daemon *d)
{
	int rc;

	d->skel = sluice_bpf__open();
	if (!d->skel) {
		sl_err("cannot open the XDP program: %s", strerror(errno));
		return -errno;
	}
	d->skel->rodata->cfg_ring_size = d->cfg.maglev_table_size;
	d->skel->rodata->cfg_hash_seed = d->cfg.maglev_seed;
	d->skel->rodata->cfg_new_slots = d->cfg.new_table_size;
	d->skel->rodata->cfg_udp_fallback = d->cfg.udp_fallback;
	rc = sl_maps_set_sizes(d->skel->obj, d->cfg.maglev_table_size,
			       d->cfg.flow_table_size, d->cfg.new_table_size,
			       d->cfg.drain_table_size);
	if (!rc)
		rc = set_pins(d);
	if (!rc) {
		/* Which pins exist before: a failed first start removes only its own. */
		sl_pins_note_maps(&d->pins, d->skel->obj);
		rc = sluice_bpf__load(d->skel);
	}
	if (rc) {
		sl_err("cannot load the XDP program and its maps: %s",
		       strerror(-rc));
		sl_err("hint: run with -v for the verifier and libbpf log");
		return rc;
	}
	sl_pins_take_maps(&d->pins, d->skel->obj);
	d->prog_id = prog_id(bpf_program__fd(d->skel->progs.sluice_xdp));
	rc = sl_maps_open(d->skel->obj, d->cfg.maglev_table_size, &d->maps);
	if (rc)
		sl_err("cannot open maps: %s", strerror(-rc));
	d->maps.hash_seed = d->cfg.maglev_seed;
	return rc;
}

/*
 * Copy the old table's flows into the shards; @last: the copy after the
 * attach. The old table is kept until the start has succeeded
 * (sl_loader_flows_done()).
 */
static void flows_carry(struct sl_daemon *d, bool last)
{
	__u64 n = 0;
	int rc;

	if (d->old_flows_fd < 0)
		return;
	rc = sl_migrate_flows_copy(d->old_flows_fd, &d->maps, last, &n);
	if (rc)
		sl_warn("upgrade: carrying flows into the shards stopped: %s "
			"(%llu carried; the rest are balanced afresh)",
			strerror(-rc), (unsigned long long)n);
	else
		sl_log("upgrade: %llu flows carried into the shards%s",
		       (unsigned long long)n, last ? " (since the load)" : "");
}

void sl_loader_flows_done(struct sl_daemon *d, bool started)
{
	char path[4200];
	int rc;

	if (d->old_flows_fd < 0)
		return;
	if (started) {
		close(d->old_flows_fd);
	} else {
		pin_path(d, SLUICE_MAP_FLOWS, path, sizeof(path));
		rc = sl_migrate_flows_restore(d->old_flows_fd, path);
		if (rc)
			sl_err("cannot pin the older flow table back at %s: %s "
			       "(its flows are lost to the next start)",
			       path, strerror(-rc));
		else
			sl_log("start failed: the older flow table is pinned "
			       "back at %s",
			       path);
	}
	d->old_flows_fd = -1;
}

/* Attach to ifaces[@i] through its pinned link, remembering its ifindex.
 * 0 or -errno, with @err filled. */
static int attach_one(struct sl_daemon *d, size_t i, char *err, size_t errlen)
{
	const struct sl_cfg_iface *ifc = &d->cfg.ifaces[i];
	int prog_fd = bpf_program__fd(d->skel->progs.sluice_xdp);
	char path[4200], link[64];
	unsigned int ifindex = if_nametoindex(ifc->name);
	bool created;
	int rc, fd;

	snprintf(link, sizeof(link), "link_%s", ifc->name);
	pin_path(d, link, path, sizeof(path));
	rc = sl_link_attach(prog_fd, ifc->name, ifc->mode == SL_XDP_MODE_SKB,
			    path, &fd, &created, err, errlen);
	if (rc)
		return rc;
	/* Our own reference: the program stays even if the pin is lost. */
	sl_pins_add_link(&d->pins, link, fd, created);
	d->ifindex[i] = ifindex;
	return 0;
}

/* ifaces[@i] as a redirect target (the program may use it once attached). */
static void tx_port_add(struct sl_daemon *d, size_t i)
{
	int rc =
		sl_tx_port_add(&d->maps, if_nametoindex(d->cfg.ifaces[i].name));

	if (rc)
		sl_warn("%s cannot be a redirect target: %s",
			d->cfg.ifaces[i].name, strerror(-rc));
}

int sl_loader_attach(struct sl_daemon *d)
{
	char err[512];
	size_t i;
	int rc;

	/* Redirect targets first: the program may use them once attached. */
	for (i = 0; i < d->cfg.n_ifaces; i++)
		tx_port_add(d, i);
	for (i = 0; i < d->cfg.n_ifaces; i++) {
		const struct sl_cfg_iface *ifc = &d->cfg.ifaces[i];

		rc = attach_one(d, i, err, sizeof(err));
		if (rc) {
			sl_err("%s", err);
			return rc;
		}
		sl_log("attached to %s (%s mode)", ifc->name,
		       ifc->mode == SL_XDP_MODE_SKB ? "skb" : "native");
	}
	/* The older program no longer runs: what it added since the load. */
	flows_carry(d, true);
	new_tags_rebuild(d);
	return 0;
}

bool sl_loader_reattach(struct sl_daemon *d, size_t i, unsigned int ifindex,
			enum sl_xdp_state st)
{
	const char *name = d->cfg.ifaces[i].name;
	unsigned int was = d->ifindex[i];
	char err[512];

	/* Only a new device: never the one someone detached us from. */
	if (st == SL_XDP_GONE || !was || ifindex == was)
		return false;
	if (st == SL_XDP_OTHER) {
		if (d->reattach_other[i] != ifindex)
			sl_alert(
				"ALERT: %s was re-created (ifindex %u, was %u) with another "
				"XDP program on it: left alone; sluiced attaches once that "
				"program is detached",
				name, ifindex, was);
		d->reattach_other[i] = ifindex;
		return false;
	}
	tx_port_add(d, i);
	if (attach_one(d, i, err, sizeof(err))) {
		if (d->reattach_failed[i] != ifindex)
			sl_alert(
				"ALERT: %s was re-created (ifindex %u, was %u) and "
				"sluice's XDP program cannot be attached to it: %s",
				name, ifindex, was, err);
		d->reattach_failed[i] = ifindex;
		return false;
	}
	d->reattach_failed[i] = 0;
	d->reattaches++;
	sl_log("%s was re-created (ifindex %u, was %u): sluice's XDP program "
	       "attached to it again (%s mode)",
	       name, ifindex, was,
	       d->cfg.ifaces[i].mode == SL_XDP_MODE_SKB ? "skb" : "native");
	/* Next hops through the old device named its ifindex. */
	sl_dp_refresh_nexthops(d);
	return true;
}

/* Pins an older sluiced left in another layout: see migrate.h. */
static int migrate_prepare(struct sl_daemon *d, struct sl_migration *m)
{
	char be_path[4200], r_path[4200], note[9000];
	int rc;

	pin_path(d, SLUICE_MAP_BACKENDS, be_path, sizeof(be_path));
	pin_path(d, SLUICE_MAP_REASONS, r_path, sizeof(r_path));
	rc = sl_migrate_prepare(be_path, r_path, m, note, sizeof(note));
	if (note[0])
		sl_log("upgrade: %s", note);
	if (rc) {
		sl_err("cannot carry the maps pinned in %s over to this version: %s",
		       d->cfg.pin_dir, strerror(-rc));
		sl_err("hint: sluiced --detach starts afresh (established flows are lost)");
	}
	return rc;
}

/*
 * An unsharded sl_flows (migrate_flows.h): unpinned before the load, all
 * of it copied after, re-pinned if the load fails.
 */
static int flows_prepare(struct sl_daemon *d)
{
	char path[4200], note[4400];
	int rc;

	pin_path(d, SLUICE_MAP_FLOWS, path, sizeof(path));
	rc = sl_migrate_flows_prepare(path, &d->old_flows_fd, note,
				      sizeof(note));
	if (note[0])
		sl_log("upgrade: %s", note);
	if (rc)
		sl_err("cannot read the flow table pinned at %s: %s", path,
		       strerror(-rc));
	return rc;
}

/* Load the program over the pinned maps, carrying older layouts over. */
int sl_loader_load(struct sl_daemon *d)
{
	struct sl_migration mig;
	int rc, mrc;

	if (migrate_prepare(d, &mig))
		return -1;
	if (flows_prepare(d)) {
		sl_migrate_finish(&mig, -1);
		return -1;
	}
	rc = load_bpf(d);
	if (!rc)
		flows_carry(d, false);
	mrc = sl_migrate_finish(&mig, rc ? -1 : d->maps.backends);
	if (mrc) {
		sl_err("cannot write the carried-over backend entries: %s",
		       strerror(-mrc));
		rc = mrc;
	}
	return rc;
}

/* --detach: take sluice off its interfaces and remove its pins. */
int sl_loader_detach(struct sl_daemon *d)
{
	char path[4200], link[64], err[512];
	struct bpf_map *map;
	int rc = SL_EXIT_OK;
	size_t i;

	/* Never pull the datapath from under a running sluiced. */
	sl_lock_init(&d->inst_lock);
	if ((!access(d->cfg.state_dir, F_OK) &&
	     sl_lock_state_dir(&d->inst_lock, d->cfg.state_dir, d->cfg.instance,
			       err, sizeof(err))) ||
	    (!access(d->cfg.pin_dir, F_OK) &&
	     sl_lock_pin_dir(&d->inst_lock, d->cfg.pin_dir, d->cfg.instance,
			     err, sizeof(err)))) {
		sl_err("cannot detach: %s", err);
		return SL_EXIT_FAIL;
	}
	for (i = 0; i < d->cfg.n_ifaces; i++) {
		snprintf(link, sizeof(link), "link_%s", d->cfg.ifaces[i].name);
		pin_path(d, link, path, sizeof(path));
		if (sl_link_detach(path, err, sizeof(err))) {
			sl_err("%s", err);
			rc = SL_EXIT_FAIL;
		}
	}
	d->skel = sluice_bpf__open();
	if (d->skel) {
		bpf_object__for_each_map(map, d->skel->obj) {
			pin_path(d, bpf_map__name(map), path, sizeof(path));
			unlink(path);
		}
		sluice_bpf__destroy(d->skel);
		d->skel = NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", d->cfg.state_dir, SL_STATE_FILE);
	unlink(path);
	rmdir(d->cfg.pin_dir);
	sl_log("detached; pinned maps and saved state removed");
	return rc;
}
