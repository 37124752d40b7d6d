// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluiced: loads the balancer, owns its maps, keeps the desired state,
 * sweeps flows, decides drains, and serves the control socket.
 *
 *   sluiced [-c CONFIG] [-v]          run (foreground; logs to stderr)
 *   sluiced [-c CONFIG] --check       validate the config, and check it
 *                                     against this machine (interfaces,
 *                                     bpffs, pinned map sizes); report
 *                                     every problem and exit
 *   sluiced [-c CONFIG] --detach      remove sluice from its interfaces and
 *                                     delete its pinned maps (drops flows)
 *
 * Signals: SIGTERM/SIGINT stop the daemon and leave the datapath forwarding
 * with its current tables; SIGHUP reloads the config file (a bad file is
 * rejected whole and changes nothing).
 * Exit codes: 0 ok, 1 runtime failure (a start refused: the reason is
 * logged, with a hint), 2 usage, 3 invalid configuration (or, with
 * --check, one a start would refuse here).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>


#include "agent_poll.h"
#include "daemon.h"
#include "envcheck.h"
#include "log.h"
#include "migrate.h"
#include "link.h"
#include "notify.h"
#include "persist.h"
#include "pindir.h"
#include "xdp.h"
#include "sluice.skel.h"

#define DEFAULT_CONFIG "/etc/sluice/sluiced.yaml"

static void log_lines(const char *text)
{
	sl_log_lines(SL_LOG_INFO, "", text);
}

__u64 sl_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void pin_path(const struct sl_daemon *d, const char *name, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s/%s", d->cfg.pin_dir, name);
}

/*
 * sl_new holds only handshakes in flight, each of which falls back to the
 * live table's pick without it: a pinned sl_new of another size or layout
 * (an older sluiced's LRU hash) is simply re-created.
 */
static void replace_stale_new_table(struct sl_daemon *d)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char path[4200];
	int fd;

	pin_path(d, SLUICE_MAP_NEW, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    (info.type != BPF_MAP_TYPE_ARRAY ||
	     info.value_size != sizeof(struct sluice_new_slot) ||
	     info.max_entries != d->cfg.new_table_size)) {
		sl_log("re-creating %s (%u entries, config asks for %u slots): "
		       "only handshakes in flight use it", path, info.max_entries,
		       d->cfg.new_table_size);
		unlink(path);
	}
	close(fd);
}

/*
 * Pinned maps whose size the config changed: sl_flows and sl_pinned were
 * refused before (start_problems: re-creating them would drop every flow).
 * Maglev tables are rebuilt from the state anyway, so a ring-size change
 * simply re-creates sl_rings.
 */
static int check_pinned_sizes(struct sl_daemon *d)
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
		    !strcmp(bpf_map__name(map), SLUICE_MAP_TX_PORTS))
			continue;	/* private to this program: see maps.h */
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
	rc = sl_maps_set_sizes(d->skel->obj, d->cfg.maglev_table_size,
			       d->cfg.flow_table_size, d->cfg.new_table_size,
			       d->cfg.pinned_table_size);
	if (!rc)
		rc = set_pins(d);
	if (!rc) {
		/* Which pins exist before: a failed first start removes only its own. */
		sl_pins_note_maps(&d->pins, d->skel->obj);
		rc = sluice_bpf__load(d->skel);
	}
	if (rc) {
		sl_err("cannot load the XDP program and its maps: %s", strerror(-rc));
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

static int attach_all(struct sl_daemon *d)
{
	int prog_fd = bpf_program__fd(d->skel->progs.sluice_xdp);
	char path[4200], link[64], err[512];
	bool created;
	size_t i;
	int rc, fd;

	/* Redirect targets first: the program may use them once attached. */
	for (i = 0; i < d->cfg.n_ifaces; i++) {
		rc = sl_tx_port_add(&d->maps, if_nametoindex(d->cfg.ifaces[i].name));
		if (rc)
			sl_warn("%s cannot be a redirect target: %s",
			       d->cfg.ifaces[i].name, strerror(-rc));
	}
	for (i = 0; i < d->cfg.n_ifaces; i++) {
		const struct sl_cfg_iface *ifc = &d->cfg.ifaces[i];

		snprintf(link, sizeof(link), "link_%s", ifc->name);
		pin_path(d, link, path, sizeof(path));
		rc = sl_link_attach(prog_fd, ifc->name, ifc->mode == SL_XDP_MODE_SKB,
				    path, &fd, &created, err, sizeof(err));
		if (rc) {
			sl_err("%s", err);
			return rc;
		}
		/* Our own reference: the program stays even if the pin is lost. */
		sl_pins_add_link(&d->pins, link, fd, created);
		sl_log("attached to %s (%s mode)", ifc->name,
		       ifc->mode == SL_XDP_MODE_SKB ? "skb" : "native");
	}
	return 0;
}

/* Restart: pick up the persisted state and apply config edits made since. */
static int load_state(struct sl_daemon *d)
{
	struct sl_state from_file, saved_cfg;
	char err[512];
	int rc;

	rc = sl_state_from_config(&from_file, &d->cfg, err, sizeof(err));
	if (rc) {
		sl_log("%s: %s", d->cfg_path, err);
		return rc;
	}
	rc = sl_state_load(d->state_path, &d->st, &saved_cfg, err, sizeof(err));
	if (rc == -ENOENT) {
		d->st = from_file;
		rc = sl_state_copy(&d->cfg_applied, &from_file);
		sl_log("no saved state: starting from %s", d->cfg_path);
		return rc;
	}
	if (rc) {
		sl_err("%s", err);
		sl_state_free(&from_file);
		return rc;
	}
	rc = sl_state_apply_config(&d->st, &saved_cfg, &from_file, err, sizeof(err));
	sl_state_free(&saved_cfg);
	if (rc) {
		sl_err("cannot apply %s to the saved state: %s", d->cfg_path, err);
		sl_state_free(&from_file);
		return rc;
	}
	d->cfg_applied = from_file;
	sl_log("resumed saved state from %s", d->state_path);
	return 0;
}

static int start_threads(struct sl_daemon *d)
{
	int rc = sl_counting_start(d);

	if (!rc)
		rc = sl_health_start(d);
	return rc ? rc : sl_agent_poll_start(d);
}

static void stop_threads(struct sl_daemon *d)
{
	d->stop = true;
	sl_agent_poll_stop(d);
	sl_health_stop(d);
	sl_counting_stop(d);
}

/*
 * What would make this start fail half-way, checked before anything is
 * created or changed, all reported at once: interfaces, the pin directory
 * (created here), pinned maps of another size.
 */
static int start_problems(struct sl_daemon *d)
{
	struct sl_problems p;
	char err[1024];

	sl_problems_init(&p);
	sl_check_ifaces(&d->cfg, &p);
	if (sl_pindir_prepare(d->cfg.pin_dir, false, err, sizeof(err)))
		sl_problem_add(&p, "%s", err);
	else
		sl_check_pinned_sizes(&d->cfg, &p);
	/* Create the pin directory only for a start that will go on. */
	if (!p.n && sl_pindir_prepare(d->cfg.pin_dir, true, err, sizeof(err)))
		sl_problem_add(&p, "%s", err);
	if (!p.n)
		return 0;
	log_lines(p.text);
	sl_log("not started: %u problem%s (sluiced -c %s --check lists them without starting)",
	       p.n, p.n == 1 ? "" : "s", d->cfg_path);
	return -EINVAL;
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
		sl_log("cannot carry the maps pinned in %s over to this version: %s",
		       d->cfg.pin_dir, strerror(-rc));
		sl_log("hint: sluiced --detach starts afresh (established flows are lost)");
	}
	return rc;
}

/*
 * Take the instance before anything of it is read or written: a second
 * sluiced for the same state directory stops here, naming the PID that
 * holds it. The pin directory is locked once start_problems() made it.
 */
static int lock_state_dir(struct sl_daemon *d)
{
	char err[1024];

	if (sl_mkdir_p(d->cfg.state_dir, 0700)) {
		sl_log("cannot create state directory %s: %s", d->cfg.state_dir,
		       strerror(errno));
		sl_log("hint: create it, or set paths.state_dir to a writable directory");
		return -1;
	}
	if (sl_lock_state_dir(&d->inst_lock, d->cfg.state_dir, d->cfg.instance,
			      err, sizeof(err))) {
		sl_log("%s", err);
		return -1;
	}
	return 0;
}

/* Two daemons sharing a pin directory with different state: refuse too. */
static int lock_pin_dir(struct sl_daemon *d, bool created)
{
	char err[1024];

	sl_pins_init(&d->pins, d->cfg.pin_dir, created);
	if (sl_lock_pin_dir(&d->inst_lock, d->cfg.pin_dir, d->cfg.instance,
			    err, sizeof(err))) {
		sl_log("%s", err);
		return -1;
	}
	return 0;
}

/* A start failed after it began to pin: undo what it created, nothing else. */
static int start_failed(struct sl_daemon *d, bool fresh_state)
{
	sl_pins_undo(&d->pins);
	if (fresh_state)
		unlink(d->state_path);
	return SL_EXIT_FAIL;
}

/* Load the program over the pinned maps, carrying older layouts over. */
static int load_datapath(struct sl_daemon *d)
{
	struct sl_migration mig;
	int rc, mrc;

	if (migrate_prepare(d, &mig))
		return -1;
	rc = load_bpf(d);
	mrc = sl_migrate_finish(&mig, rc ? -1 : d->maps.backends);
	if (mrc) {
		sl_log("cannot write the carried-over backend entries: %s",
		       strerror(-mrc));
		rc = mrc;
	}
	return rc;
}

static int run(struct sl_daemon *d)
{
	char err[512];
	bool fresh_state, created;
	int rc;

	if (lock_state_dir(d))
		return SL_EXIT_FAIL;
	created = access(d->cfg.pin_dir, F_OK) != 0;
	if (start_problems(d) || lock_pin_dir(d, created) || check_pinned_sizes(d))
		return SL_EXIT_FAIL;
	snprintf(d->state_path, sizeof(d->state_path), "%s/%s", d->cfg.state_dir,
		 SL_STATE_FILE);
	fresh_state = access(d->state_path, F_OK) != 0;
	if (load_datapath(d) || load_state(d))
		return start_failed(d, fresh_state);
	d->nh_ctx = sl_nh_open();
	if (!d->nh_ctx)
		sl_warn("no rtnetlink: next hops resolved per packet");
	sl_dp_refresh_nexthops(d);
	/* Tables first, then attach: a new program never sees empty tables. */
	/* Drains resumed from the saved state start over (drain.h). */
	sl_drains_arm(d, &d->st);
	if (sl_dp_sync(d, &d->st, err, sizeof(err))) {
		sl_log("%s", err);
		return start_failed(d, fresh_state);
	}
	sl_drains_publish(d, true);
	if (sl_state_save(d->state_path, &d->st, &d->cfg_applied, err, sizeof(err)))
		sl_log("warning: %s", err);
	if (attach_all(d) || sl_loop_setup(d))
		return start_failed(d, fresh_state);	/* they said why */
	rc = start_threads(d);
	if (rc) {
		sl_log("cannot start the sweeper, drain checker or health threads: %s",
		       strerror(-rc));
		sl_log("hint: check memory and thread limits (ulimit -u, systemd TasksMax)");
		return start_failed(d, fresh_state);
	}
	sl_ann_start(d);
	d->started_ms = sl_unix_ms();
	sl_snapshot_publish(d);
	sl_watch_datapath(d, true);
	if (sl_metrics_start(d, err, sizeof(err))) {
		sl_log("%s", err);
		stop_threads(d);
		return start_failed(d, fresh_state);
	}
	sl_log("ready: %zu VIPs, %zu backends, control socket %s", d->st.n_vips,
	       sl_state_n_backends(&d->st), d->cfg.control_socket);
	sl_notify_init();
	sl_notify_serving(d);
	rc = sl_loop_run(d);
	sl_notify_stopping();
	sl_ann_stop(d);
	if (rc)
		sl_log("main loop failed: %s; stopping (the datapath keeps forwarding)",
		       strerror(-rc));
	if (d->pins.lost)
		sl_log("ALERT: exiting with pins lost: the XDP program leaves its interfaces "
		       "and the flows are gone (mount bpffs and restart sluiced)");
	sl_metrics_stop(d);
	stop_threads(d);
	sl_ctl_close_all(d);
	unlink(d->cfg.control_socket);
	return rc ? SL_EXIT_FAIL : SL_EXIT_OK;
}

/* --detach: take sluice off its interfaces and remove its pins. */
static int detach(struct sl_daemon *d)
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
		sl_log("cannot detach: %s", err);
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

/* --check: a valid config, then every problem a start would meet here. */
static int check_here(struct sl_daemon *d)
{
	struct sl_problems p;

	sl_problems_init(&p);
	if (!sl_check_env(&d->cfg, &p)) {
		printf("%s: ok\n", d->cfg_path);
		return SL_EXIT_OK;
	}
	log_lines(p.text);
	printf("%s: %u problem%s a start would refuse\n", d->cfg_path, p.n,
	       p.n == 1 ? "" : "s");
	return SL_EXIT_CONFIG;
}

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: sluiced [-c CONFIG] [-v] [--check | --detach]\n"
		"  -c, --config FILE  configuration (default %s)\n"
		"  -v, --verbose      debug logs, libbpf and verifier output\n"
		"      --check        validate the configuration and check it against\n"
		"                     this machine; report every problem and exit\n"
		"      --detach       remove sluice from its interfaces and delete\n"
		"                     its pinned maps and saved state (drops flows)\n"
		"exit codes: 0 ok, 1 failure (logged with its cause), 2 usage,\n"
		"  3 invalid configuration (--check: or one a start would refuse here)\n",
		DEFAULT_CONFIG);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check", no_argument, NULL, 'C' },
		{ "detach", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	static struct sl_daemon d;
	bool check = false, do_detach = false;
	char err[4096];
	int opt, rc;

	sl_log_init("sluiced", false);
	snprintf(d.cfg_path, sizeof(d.cfg_path), "%s", DEFAULT_CONFIG);
	while ((opt = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			snprintf(d.cfg_path, sizeof(d.cfg_path), "%s", optarg);
			break;
		case 'v':
			d.verbose = true;
			break;
		case 'C':
			check = true;
			break;
		case 'D':
			do_detach = true;
			break;
		case 'V':
			printf("sluiced %s\n", SL_VERSION);
			return SL_EXIT_OK;
		case 'h':
			return usage(SL_EXIT_OK);
		default:
			return usage(SL_EXIT_USAGE);
		}
	}
	if (optind != argc) {
		sl_log("unexpected argument '%s' (the config file goes after -c)", argv[optind]);
		return usage(SL_EXIT_USAGE);
	}
	if (check && do_detach) {
		sl_log("--check and --detach cannot be used together: --check only reads, "
		       "--detach removes sluice and its pinned maps");
		return usage(SL_EXIT_USAGE);
	}
	sl_lib_verbose(d.verbose);
	sl_log_init("sluiced", d.verbose);
	if (sl_config_precheck(d.cfg_path, err, sizeof(err)) ||
	    sl_config_load(d.cfg_path, &d.cfg, err, sizeof(err))) {
		log_lines(err);
		if (check)
			printf("%s: invalid\n", d.cfg_path);
		return SL_EXIT_CONFIG;
	}
	if (check) {
		rc = check_here(&d);
	} else if (do_detach) {
		rc = detach(&d);
	} else {
		pthread_mutex_init(&d.snap_lock, NULL);
		pthread_mutex_init(&d.lock, NULL);
		sl_lock_init(&d.inst_lock);
		d.sweep_out = calloc(1, sizeof(*d.sweep_out));
		d.sweep_last = calloc(1, sizeof(*d.sweep_last));
		d.check_out = calloc(1, sizeof(*d.check_out));
		d.check_last = calloc(1, sizeof(*d.check_last));
		rc = d.sweep_out && d.sweep_last && d.check_out && d.check_last ?
		     run(&d) : SL_EXIT_FAIL;
		if (!d.sweep_out || !d.sweep_last || !d.check_out || !d.check_last)
			sl_log("out of memory before starting");
	}
	sl_config_free(&d.cfg);
	return rc;
}
