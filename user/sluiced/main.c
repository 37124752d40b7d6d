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
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config_diff.h"
#include "daemon.h"
#include "envcheck.h"
#include "link.h"
#include "persist.h"
#include "pindir.h"
#include "xdp.h"
#include "sluice.skel.h"

#define DEFAULT_CONFIG "/etc/sluice/sluiced.yaml"
#define SYN_IDLE_MS 30000

void sl_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("sluiced: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/*
 * Multi-line text (problems and their hints): one log line each, each
 * with @prefix, so every line says what it is about on its own (journald
 * and grep see lines, not messages).
 */
static void log_lines_prefixed(const char *prefix, const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchrnul(p, '\n');
		sl_log("%s%.*s", prefix, (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

static void log_lines(const char *text)
{
	log_lines_prefixed("", text);
}

void sl_debug(struct sl_daemon *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->verbose)
		return;
	va_start(ap, fmt);
	fputs("sluiced: debug: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
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

static int load_bpf(struct sl_daemon *d)
{
	int rc;

	d->skel = sluice_bpf__open();
	if (!d->skel) {
		sl_log("cannot open the XDP program: %s", strerror(errno));
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
	if (!rc)
		rc = sluice_bpf__load(d->skel);
	if (rc) {
		sl_log("cannot load the XDP program and its maps: %s", strerror(-rc));
		sl_log("hint: run with -v for the verifier and libbpf log");
		return rc;
	}
	rc = sl_maps_open(d->skel->obj, d->cfg.maglev_table_size, &d->maps);
	if (rc)
		sl_log("cannot open maps: %s", strerror(-rc));
	d->maps.hash_seed = d->cfg.maglev_seed;
	return rc;
}

static int attach_all(struct sl_daemon *d)
{
	int prog_fd = bpf_program__fd(d->skel->progs.sluice_xdp);
	char path[4200], link[64], err[512];
	size_t i;
	int rc;

	/* Redirect targets first: the program may use them once attached. */
	for (i = 0; i < d->cfg.n_ifaces; i++) {
		rc = sl_tx_port_add(&d->maps, if_nametoindex(d->cfg.ifaces[i].name));
		if (rc)
			sl_log("warning: %s cannot be a redirect target: %s",
			       d->cfg.ifaces[i].name, strerror(-rc));
	}
	for (i = 0; i < d->cfg.n_ifaces; i++) {
		const struct sl_cfg_iface *ifc = &d->cfg.ifaces[i];

		snprintf(link, sizeof(link), "link_%s", ifc->name);
		pin_path(d, link, path, sizeof(path));
		rc = sl_link_attach(prog_fd, ifc->name, ifc->mode == SL_XDP_MODE_SKB,
				    path, err, sizeof(err));
		if (rc) {
			sl_log("%s", err);
			return rc;
		}
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
		sl_log("%s", err);
		sl_state_free(&from_file);
		return rc;
	}
	rc = sl_state_apply_config(&d->st, &saved_cfg, &from_file, err, sizeof(err));
	sl_state_free(&saved_cfg);
	if (rc) {
		sl_log("cannot apply %s to the saved state: %s", d->cfg_path, err);
		sl_state_free(&from_file);
		return rc;
	}
	d->cfg_applied = from_file;
	sl_log("resumed saved state from %s", d->state_path);
	return 0;
}

/* Tell the sweeper which backend ids are draining (their flows get pinned). */
static void publish_draining(struct sl_daemon *d)
{
	static bool next[SLUICE_MAX_BACKENDS];
	size_t i, j;

	memset(next, 0, sizeof(next));
	for (i = 0; i < d->st.n_vips; i++)
		for (j = 0; j < d->st.vips[i].n_bes; j++)
			if (d->st.vips[i].bes[j].state == SL_BE_DRAINING)
				next[d->st.vips[i].bes[j].id] = true;
	pthread_mutex_lock(&d->lock);
	memcpy(d->draining, next, sizeof(next));
	pthread_mutex_unlock(&d->lock);
}

void sl_snapshot_publish(struct sl_daemon *d)
{
	struct sl_state copy;

	publish_draining(d);
	if (sl_state_copy(&copy, &d->st))
		return;		/* keep the previous snapshot */
	pthread_mutex_lock(&d->snap_lock);
	sl_state_free(&d->snap.st);
	d->snap.st = copy;
	d->snap.flow_entries = d->sweep_last->entries;
	d->snap.new_entries = d->sweep_last->new_entries;
	d->snap.flow_capacity = d->cfg.flow_table_size;
	d->snap.new_capacity = d->cfg.new_table_size;
	d->snap.sweep_duration_us = d->sweep_last->duration_us;
	d->snap.sweeps = d->sweeps;
	d->snap.expired_total = d->expired_total;
	d->snap.started_unix_ms = d->started_ms;
	memset(d->snap.all_down, 0, sizeof(d->snap.all_down));
	for (size_t i = 0; i < d->st.n_vips; i++)
		d->snap.all_down[d->st.vips[i].id] = sl_vip_all_down(&d->st.vips[i]);
	pthread_mutex_unlock(&d->snap_lock);
}

int sl_daemon_commit(struct sl_daemon *d, struct sl_state *next, char *err,
		     size_t errlen)
{
	char ignore[256];
	int rc;

	rc = sl_dp_sync(d, next, err, errlen);
	if (!rc)
		rc = sl_state_save(d->state_path, next, &d->cfg_applied, err, errlen);
	if (rc) {
		/* Put the datapath back to the state still in force. */
		memset(d->table_sig, 0, sizeof(d->table_sig));
		sl_dp_sync(d, &d->st, ignore, sizeof(ignore));
		return rc;
	}
	sl_state_free(&d->st);
	d->st = *next;
	sl_state_init(next);
	sl_snapshot_publish(d);
	return 0;
}

/* ---- threads ------------------------------------------------------------ */

static void *clock_main(void *arg)
{
	struct sl_daemon *d = arg;
	struct timespec tick = { 0, SLUICE_CLOCK_TICK_MS * 1000000L };

	while (!d->stop) {
		sl_clock_set(&d->maps, sl_clock_now());
		nanosleep(&tick, NULL);
	}
	return NULL;
}

static void sleep_ms(struct sl_daemon *d, __u64 ms)
{
	struct timespec step = { 0, 50 * 1000000L };
	__u64 slept = 0;

	while (!d->stop && slept < ms) {
		nanosleep(&step, NULL);
		slept += 50;
	}
}

static void *sweep_main(void *arg)
{
	struct sl_daemon *d = arg;
	struct sl_sweep_result *res = malloc(sizeof(*res));
	static bool draining[SLUICE_MAX_BACKENDS];
	__u64 one = 1;
	int rc;

	while (res && !d->stop) {
		pthread_mutex_lock(&d->lock);
		memcpy(draining, d->draining, sizeof(draining));
		pthread_mutex_unlock(&d->lock);
		rc = sl_sweep(&d->maps, &d->sweep_cfg, &d->resume, draining, res);
		pthread_mutex_lock(&d->lock);
		d->sweep_err = rc;
		if (!rc)
			memcpy(d->sweep_out, res, sizeof(*res));
		pthread_mutex_unlock(&d->lock);
		if (write(d->sweep_fd, &one, sizeof(one)) < 0)
			sl_log("sweeper: cannot notify: %s", strerror(errno));
		sleep_ms(d, d->cfg.sweep_interval_ms);
	}
	free(res);
	return NULL;
}

/* Add this sweep's evictions and losses to each backend; true on a loss. */
static bool account_losses(struct sl_daemon *d)
{
	const struct sl_sweep_result *r = d->sweep_last;
	bool lost = false;
	size_t i, j;

	for (i = 0; i < d->st.n_vips; i++) {
		for (j = 0; j < d->st.vips[i].n_bes; j++) {
			struct sl_be *b = &d->st.vips[i].bes[j];
			char vs[SL_VIP_STR_MAX], bs[SL_ADDR_STR_MAX];

			b->evicted += r->evicted[b->id];
			if (!r->lost[b->id])
				continue;
			b->lost += r->lost[b->id];
			lost = true;
			sl_format_vip(&d->st.vips[i].spec, vs, sizeof(vs));
			sl_format_addr(&b->addr, b->family, bs, sizeof(bs));
			sl_log("backend %s on %s: %llu flow(s) lost while draining (%llu in all)",
			       bs, vs, (unsigned long long)r->lost[b->id],
			       (unsigned long long)b->lost);
		}
	}
	if (r->unprotected)
		sl_log("sl_pinned is full: %llu draining flows unprotected from eviction "
		       "(raise flows.pinned_table_size)", (unsigned long long)r->unprotected);
	return lost;
}

/* Say which drains just finished, and how: the sweep that ends a drain
 * is the only one that sees its backend drained with this sweep's count. */
static void log_drained(struct sl_daemon *d)
{
	char vs[SL_VIP_STR_MAX], bs[SL_ADDR_STR_MAX];
	size_t i, j;

	for (i = 0; i < d->st.n_vips; i++) {
		for (j = 0; j < d->st.vips[i].n_bes; j++) {
			const struct sl_be *b = &d->st.vips[i].bes[j];

			if (b->state != SL_BE_DRAINED || !d->draining[b->id])
				continue;
			sl_format_vip(&d->st.vips[i].spec, vs, sizeof(vs));
			sl_format_addr(&b->addr, b->family, bs, sizeof(bs));
			if (b->timed_out)
				sl_log("backend %s on %s: drain deadline passed with %llu flows left",
				       bs, vs, (unsigned long long)b->flows_left);
			else
				sl_log("backend %s on %s: drained, no flows left", bs, vs);
		}
	}
}

/* A sweep finished: take its counts, decide drains, refresh next hops. */
static void on_sweep(struct sl_daemon *d)
{
	bool changed_losses = false;
	char err[512];
	__u64 n;
	int changed, rc;

	if (read(d->sweep_fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	rc = d->sweep_err;
	if (!rc)
		memcpy(d->sweep_last, d->sweep_out, sizeof(*d->sweep_last));
	pthread_mutex_unlock(&d->lock);
	if (rc) {
		sl_log("sweep failed: %s", strerror(-rc));
		return;
	}
	d->sweeps++;
	d->expired_total += d->sweep_last->expired;
	if (account_losses(d))
		changed_losses = true;
	changed = sl_state_update_flows(&d->st, d->sweep_last->flows,
					SLUICE_MAX_BACKENDS, sl_unix_ms());
	if (changed)
		log_drained(d);
	if ((changed || changed_losses) &&
	    sl_state_save(d->state_path, &d->st, &d->cfg_applied, err, sizeof(err)))
		sl_log("%s", err);
	sl_dp_refresh_nexthops(d);
	sl_ctl_reap_idle(d);
	sl_snapshot_publish(d);
}

/* ---- signals and reload ------------------------------------------------- */

#define PRECHECK_MEM	(512UL << 20)

/* ASan's shadow memory counts against RLIMIT_DATA: no memory cap under it
 * (the loader's own node budget still bounds alias expansion). */
#if defined(__SANITIZE_ADDRESS__)
#define PRECHECK_LIMIT_MEM 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRECHECK_LIMIT_MEM 0
#endif
#endif
#ifndef PRECHECK_LIMIT_MEM
#define PRECHECK_LIMIT_MEM 1
#endif
#define PRECHECK_CPU_S	5
#define PRECHECK_WAIT_MS 15000

/*
 * Parse @path in a child with memory and CPU limits before the daemon
 * parses it: whatever a hostile or broken file does to the YAML library
 * (loop, crash, blow up memory), it does to the child. 0 when the child
 * parsed it (the daemon then parses it itself), else -errno with @err.
 */
static int config_precheck(const char *path, char *err, size_t errlen)
{
	struct pollfd pfd;
	int pipefd[2], status;
	ssize_t n = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return 0;	/* cannot isolate: parse in place as before */
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return 0;
	}
	if (pid == 0) {
		struct rlimit mem = { PRECHECK_MEM, PRECHECK_MEM };
		struct rlimit cpu = { PRECHECK_CPU_S, PRECHECK_CPU_S };
		struct sl_config cfg;
		char msg[4096];	/* every problem, one per line */

		close(pipefd[0]);
		if (PRECHECK_LIMIT_MEM)
			setrlimit(RLIMIT_DATA, &mem);
		setrlimit(RLIMIT_CPU, &cpu);
		if (sl_config_load(path, &cfg, msg, sizeof(msg))) {
			if (write(pipefd[1], msg, strlen(msg)) < 0)
				_exit(2);
			_exit(1);
		}
		_exit(0);
	}
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	/* The pipe becomes readable when the child reports or exits. */
	if (poll(&pfd, 1, PRECHECK_WAIT_MS) != 1) {
		close(pipefd[0]);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(err, errlen, "%s: parsing did not finish within %d s: refused",
			 path, PRECHECK_WAIT_MS / 1000);
		return -ETIMEDOUT;
	}
	n = read(pipefd[0], err, errlen - 1);
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status)) {
		snprintf(err, errlen, "%s: the YAML parser died on it (signal %d) or hit its "
			 "limits (%lu MiB, %d s CPU): refused", path, WTERMSIG(status),
			 PRECHECK_MEM >> 20, PRECHECK_CPU_S);
		return -EINVAL;
	}
	if (WEXITSTATUS(status)) {
		err[n > 0 ? n : 0] = '\0';
		return -EINVAL;
	}
	return 0;
}

/* Edits a reload cannot apply: name them, or the operator thinks they are in force. */
static void log_restart_only(struct sl_daemon *d, const struct sl_config *next)
{
	char buf[2048];
	size_t n;

	n = sl_config_restart_changes(&d->cfg, next, buf, sizeof(buf));
	if (n)
		sl_log("reload: %zu setting%s changed in %s but not applied, the running "
		       "value%s stay%s in force until a restart: %s", n, n == 1 ? "" : "s",
		       d->cfg_path, n == 1 ? "" : "s", n == 1 ? "s" : "", buf);
}

static void reload(struct sl_daemon *d)
{
	struct sl_config ncfg;
	struct sl_state nfile, next;
	char err[4096];
	int rc;

	rc = config_precheck(d->cfg_path, err, sizeof(err));
	if (!rc)
		rc = sl_config_load(d->cfg_path, &ncfg, err, sizeof(err));
	if (rc) {
		log_lines_prefixed("reload rejected, running state unchanged: ", err);
		return;
	}
	rc = sl_state_from_config(&nfile, &ncfg, err, sizeof(err));
	if (rc) {
		sl_log("reload rejected, running state unchanged: %s", err);
		sl_config_free(&ncfg);
		return;
	}
	if (sl_state_copy(&next, &d->st) ||
	    sl_state_apply_config(&next, &d->cfg_applied, &nfile, err, sizeof(err))) {
		sl_log("reload rejected, running state unchanged: %s", err);
		goto out;
	}
	if (sl_daemon_commit(d, &next, err, sizeof(err))) {
		sl_log("reload rejected, running state unchanged: %s", err);
		goto out;
	}
	sl_state_free(&d->cfg_applied);
	d->cfg_applied = nfile;
	sl_state_init(&nfile);
	sl_state_save(d->state_path, &d->st, &d->cfg_applied, err, sizeof(err));
	sl_log("reloaded %s (VIPs, backends, weights and health checks)", d->cfg_path);
	log_restart_only(d, &ncfg);
out:
	sl_state_free(&next);
	sl_state_free(&nfile);
	sl_config_free(&ncfg);
}

static int on_signal(struct sl_daemon *d)
{
	struct signalfd_siginfo si;

	if (read(d->sig_fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGHUP) {
		reload(d);
		return 0;
	}
	sl_log("signal %d: stopping; the datapath keeps forwarding", si.ssi_signo);
	return 1;
}

/* ---- main loop ---------------------------------------------------------- */

static int ep_add(int epfd, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup_loop(struct sl_daemon *d)
{
	sigset_t mask;
	char err[512];

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	d->sweep_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->health_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sig_fd < 0 || d->sweep_fd < 0 || d->health_fd < 0 || d->epfd < 0) {
		sl_log("cannot create the main loop's descriptors: %s", strerror(errno));
		return -errno;
	}
	if (sl_ctl_listen(d, err, sizeof(err))) {
		log_lines(err);
		return -EINVAL;
	}
	if (ep_add(d->epfd, d->sig_fd, &d->sig_fd) ||
	    ep_add(d->epfd, d->sweep_fd, &d->sweep_fd) ||
	    ep_add(d->epfd, d->health_fd, &d->health_fd) ||
	    ep_add(d->epfd, d->listen_fd, &d->listen_fd)) {
		sl_log("cannot watch the main loop's descriptors: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int run_loop(struct sl_daemon *d)
{
	struct epoll_event evs[32];
	int n, i;

	for (;;) {
		n = epoll_wait(d->epfd, evs, 32, 1000);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &d->sig_fd) {
				if (on_signal(d))
					return 0;
			} else if (p == &d->sweep_fd) {
				on_sweep(d);
			} else if (p == &d->health_fd) {
				sl_health_on_results(d);
			} else if (p == &d->listen_fd) {
				sl_ctl_accept(d);
			} else {
				sl_ctl_event(d, p, evs[i].events);
			}
		}
	}
}

static void start_clock(struct sl_daemon *d)
{
	__u32 frozen = sl_clock_get(&d->maps);
	__u32 now = sl_clock_now();

	/* A previous run left its clock behind: age its flows from now. */
	d->resume.active = frozen != 0;
	d->resume.frozen = frozen;
	d->resume.resumed_at = now;
	sl_clock_set(&d->maps, now);
}

static int start_threads(struct sl_daemon *d)
{
	d->sweep_cfg.tcp_idle_ms = d->cfg.tcp_idle_timeout_ms;
	d->sweep_cfg.udp_idle_ms = d->cfg.udp_idle_timeout_ms;
	d->sweep_cfg.close_grace_ms = d->cfg.close_grace_ms;
	d->sweep_cfg.syn_idle_ms = d->cfg.tcp_idle_timeout_ms < SYN_IDLE_MS ?
				   d->cfg.tcp_idle_timeout_ms : SYN_IDLE_MS;
	pthread_mutex_init(&d->lock, NULL);
	if (pthread_create(&d->clock_thr, NULL, clock_main, d))
		return -EAGAIN;
	if (pthread_create(&d->sweep_thr, NULL, sweep_main, d))
		return -EAGAIN;
	return sl_health_start(d);
}

static void stop_threads(struct sl_daemon *d)
{
	d->stop = true;
	sl_health_stop(d);
	pthread_join(d->sweep_thr, NULL);
	pthread_join(d->clock_thr, NULL);
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

static int run(struct sl_daemon *d)
{
	char err[512];
	int rc;

	if (start_problems(d) || check_pinned_sizes(d))
		return SL_EXIT_FAIL;
	if (sl_mkdir_p(d->cfg.state_dir, 0700)) {
		sl_log("cannot create state directory %s: %s", d->cfg.state_dir,
		       strerror(errno));
		return SL_EXIT_FAIL;
	}
	snprintf(d->state_path, sizeof(d->state_path), "%s/%s", d->cfg.state_dir,
		 SL_STATE_FILE);
	if (load_bpf(d) || load_state(d))
		return SL_EXIT_FAIL;
	start_clock(d);
	d->nh_ctx = sl_nh_open();
	if (!d->nh_ctx)
		sl_log("warning: no rtnetlink: next hops resolved per packet");
	sl_dp_refresh_nexthops(d);
	/* Tables first, then attach: a new program never sees empty tables. */
	if (sl_dp_sync(d, &d->st, err, sizeof(err))) {
		sl_log("%s", err);
		return SL_EXIT_FAIL;
	}
	if (sl_state_save(d->state_path, &d->st, &d->cfg_applied, err, sizeof(err)))
		sl_log("warning: %s", err);
	if (attach_all(d))
		return SL_EXIT_FAIL;
	if (setup_loop(d))
		return SL_EXIT_FAIL;	/* it said why */
	rc = start_threads(d);
	if (rc) {
		sl_log("cannot start the clock, sweeper or health threads: %s", strerror(-rc));
		sl_log("hint: check memory and thread limits (ulimit -u, systemd TasksMax)");
		return SL_EXIT_FAIL;
	}
	d->started_ms = sl_unix_ms();
	sl_snapshot_publish(d);
	if (sl_metrics_start(d, err, sizeof(err))) {
		sl_log("%s", err);
		return SL_EXIT_FAIL;
	}
	sl_log("ready: %zu VIPs, %zu backends, control socket %s", d->st.n_vips,
	       sl_state_n_backends(&d->st), d->cfg.control_socket);
	rc = run_loop(d);
	if (rc)
		sl_log("main loop failed: %s; stopping (the datapath keeps forwarding)",
		       strerror(-rc));
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

	for (i = 0; i < d->cfg.n_ifaces; i++) {
		snprintf(link, sizeof(link), "link_%s", d->cfg.ifaces[i].name);
		pin_path(d, link, path, sizeof(path));
		if (sl_link_detach(path, err, sizeof(err))) {
			sl_log("%s", err);
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
	setvbuf(stderr, NULL, _IOLBF, 0);
	if (config_precheck(d.cfg_path, err, sizeof(err)) ||
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
		d.sweep_out = calloc(1, sizeof(*d.sweep_out));
		d.sweep_last = calloc(1, sizeof(*d.sweep_last));
		rc = d.sweep_out && d.sweep_last ? run(&d) : SL_EXIT_FAIL;
		if (!d.sweep_out || !d.sweep_last)
			sl_log("out of memory before starting");
	}
	sl_config_free(&d.cfg);
	return rc;
}
