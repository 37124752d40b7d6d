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

#include "agent_poll.h"
#include "daemon.h"
#include "loader.h"
#include "envcheck.h"
#include "log.h"
#include "notify.h"
#include "persist.h"
#include "pindir.h"
#include "xdp.h"

#define DEFAULT_CONFIG "/etc/sluice/sluiced.yaml"

/* Problems that stop a start (or --check), one line each. */
static void log_lines(const char *text)
{
	sl_log_lines(SL_LOG_ERR, "", text);
}

/* Restart: pick up the persisted state and apply config edits made since. */
static int load_state(struct sl_daemon *d)
{
	struct sl_state from_file, saved_cfg;
	char err[512];
	int rc;

	rc = sl_state_from_config(&from_file, &d->cfg, err, sizeof(err));
	if (rc) {
		sl_err("%s: %s", d->cfg_path, err);
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
	sl_err("not started: %u problem%s (sluiced -c %s --check lists them without starting)",
	       p.n, p.n == 1 ? "" : "s", d->cfg_path);
	return -EINVAL;
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
		sl_err("cannot create state directory %s: %s", d->cfg.state_dir,
		       strerror(errno));
		sl_err("hint: create it, or set paths.state_dir to a writable directory");
		return -1;
	}
	if (sl_lock_state_dir(&d->inst_lock, d->cfg.state_dir, d->cfg.instance,
			      err, sizeof(err))) {
		sl_err("%s", err);
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
		sl_err("%s", err);
		return -1;
	}
	return 0;
}

/* A start failed after it began to pin: undo what it created, nothing else. */
static int start_failed(struct sl_daemon *d, bool fresh_state)
{
	sl_pins_undo(&d->pins);
	sl_loader_flows_done(d, false);
	if (fresh_state)
		unlink(d->state_path);
	return SL_EXIT_FAIL;
}

static int run(struct sl_daemon *d)
{
	char err[512];
	bool fresh_state, created;
	int rc;

	d->old_flows_fd = -1;
	if (lock_state_dir(d))
		return SL_EXIT_FAIL;
	created = access(d->cfg.pin_dir, F_OK) != 0;
	if (start_problems(d) || lock_pin_dir(d, created) ||
	    sl_loader_prepare_pins(d))
		return SL_EXIT_FAIL;
	snprintf(d->state_path, sizeof(d->state_path), "%s/%s", d->cfg.state_dir,
		 SL_STATE_FILE);
	fresh_state = access(d->state_path, F_OK) != 0;
	if (sl_loader_load(d) || load_state(d))
		return start_failed(d, fresh_state);
	sl_clock_resume(d);
	d->dp.nh_ctx = sl_nh_open();
	if (!d->dp.nh_ctx)
		sl_warn("no rtnetlink: next hops resolved per packet");
	sl_dp_refresh_nexthops(d);
	/* Tables first, then attach: a new program never sees empty tables. */
	/* Drains resumed from the saved state start over (drain.h). */
	sl_drains_arm(d, &d->st);
	if (sl_dp_sync(&d->dp, &d->st, err, sizeof(err))) {
		sl_err("%s", err);
		return start_failed(d, fresh_state);
	}
	sl_drains_publish(d, true);
	if (sl_state_save(d->state_path, &d->st, &d->cfg_applied, err, sizeof(err)))
		sl_warn("%s", err);
	if (sl_loader_attach(d) || sl_loop_setup(d))
		return start_failed(d, fresh_state);	/* they said why */
	rc = start_threads(d);
	if (rc) {
		sl_err("cannot start the sweeper, drain checker or health threads: %s",
		       strerror(-rc));
		sl_err("hint: check memory and thread limits (ulimit -u, systemd TasksMax)");
		return start_failed(d, fresh_state);
	}
	sl_ann_start(d);
	d->started_ms = sl_unix_ms();
	d->started_boot_ms = sl_boot_ms();
	sl_snapshot_publish(d);
	sl_watch_datapath(d, true);
	if (sl_metrics_start(d, err, sizeof(err))) {
		sl_err("%s", err);
		stop_threads(d);
		return start_failed(d, fresh_state);
	}
	sl_loader_flows_done(d, true);
	sl_log("ready: %zu VIPs, %zu backends, control socket %s", d->st.n_vips,
	       sl_state_n_backends(&d->st), d->cfg.control_socket);
	if (sl_cluster_start(d))
		sl_warn("cluster: cannot start the etcd thread: out of memory or threads; "
			"forwarding with the state file's revision");
	sl_notify_init();
	sl_notify_serving(d);
	rc = sl_loop_run(d);
	sl_notify_stopping();
	sl_cluster_stop(d);
	sl_ann_stop(d);
	if (rc)
		sl_err("main loop failed: %s; stopping (the datapath keeps forwarding)",
		       strerror(-rc));
	if (d->pins.lost)
		sl_alert(
			"ALERT: exiting with pins lost: the XDP program leaves its interfaces "
			"and the flows are gone (mount bpffs and restart sluiced)");
	sl_metrics_stop(d);
	stop_threads(d);
	sl_ctl_close_all(d);
	unlink(d->cfg.control_socket);
	return rc ? SL_EXIT_FAIL : SL_EXIT_OK;
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
		sl_err("unexpected argument '%s' (the config file goes after -c)",
		       argv[optind]);
		return usage(SL_EXIT_USAGE);
	}
	if (check && do_detach) {
		sl_err("--check and --detach cannot be used together: --check only reads, "
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
	sl_daemon_dp_init(&d);
	if (check) {
		rc = check_here(&d);
	} else if (do_detach) {
		rc = sl_loader_detach(&d);
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
			sl_err("out of memory before starting");
	}
	sl_config_free(&d.cfg);
	return rc;
}
