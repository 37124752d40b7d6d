// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The main loop (daemon.h): one epoll over signals, the counting and
 * health threads' eventfds, the reload worker, neighbour changes and the
 * control socket. Only this thread changes the state; it pets systemd's
 * watchdog, so a stuck loop shows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include "daemon.h"
#include "log.h"
#include "neigh.h"
#include "notify.h"
#include "reload_worker.h"

/* What systemctl status shows next to "active (running)". */
void sl_notify_serving(const struct sl_daemon *d)
{
	char status[128];

	snprintf(status, sizeof(status), "serving %zu VIPs, %zu backends",
		 d->st.n_vips, sl_state_n_backends(&d->st));
	sl_notify_ready(status);
}

/*
 * SIGHUP: the file is read and checked by a worker (reload_worker.c), so a
 * hung path cannot stall the main loop; the worker's result is applied by
 * reload.c, exactly as `sluicectl reload` is. systemd hears RELOADING=1
 * now and READY=1 once it is over, whatever the outcome.
 */
static void reload(struct sl_daemon *d)
{
	sl_notify_reloading();
	sl_reload_request(d);
}

static void reload_done(struct sl_daemon *d)
{
	sl_reload_on_done(d);
	sl_notify_serving(d);
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

int sl_loop_setup(struct sl_daemon *d)
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
	d->check_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->health_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->cluster_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sig_fd < 0 || d->sweep_fd < 0 || d->check_fd < 0 ||
	    d->health_fd < 0 || d->cluster_fd < 0 || d->epfd < 0) {
		sl_err("cannot create the main loop's descriptors: %s",
		       strerror(errno));
		return -errno;
	}
	if (sl_reload_init(d)) {
		sl_err("cannot set up the reload worker: out of memory");
		return -ENOMEM;
	}
	if (sl_neigh_start(d))
		return -errno;
	if (sl_ctl_listen(d, err, sizeof(err))) {
		sl_log_lines(SL_LOG_ERR, "", err);
		return -EINVAL;
	}
	if (ep_add(d->epfd, d->sig_fd, &d->sig_fd) ||
	    ep_add(d->epfd, d->sweep_fd, &d->sweep_fd) ||
	    ep_add(d->epfd, d->check_fd, &d->check_fd) ||
	    ep_add(d->epfd, d->health_fd, &d->health_fd) ||
	    ep_add(d->epfd, d->cluster_fd, &d->cluster_fd) ||
	    ep_add(d->epfd, d->reload_fd, &d->reload_fd) ||
	    ep_add(d->epfd, d->listen_fd, &d->listen_fd)) {
		sl_err("cannot watch the main loop's descriptors: %s",
		       strerror(errno));
		return -errno;
	}
	return 0;
}

int sl_loop_run(struct sl_daemon *d)
{
	struct epoll_event evs[32];
	int n, i;
	__u64 wd_ms = sl_notify_watchdog_ms();
	int timeout = wd_ms && wd_ms < 1000 ? (int)wd_ms : 1000;

	for (;;) {
		/* From this loop, not a thread: a stuck main loop must show. */
		sl_notify_watchdog();
		n = epoll_wait(d->epfd, evs, 32, timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		sl_watch_datapath(d, false);
		sl_ctl_reap_idle(d);
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &d->sig_fd) {
				if (on_signal(d))
					return 0;
			} else if (p == &d->sweep_fd) {
				sl_counting_on_sweep(d);
			} else if (p == &d->check_fd) {
				sl_counting_on_check(d);
			} else if (p == &d->health_fd) {
				sl_health_on_results(d);
			} else if (p == &d->cluster_fd) {
				sl_cluster_on_desired(d);
			} else if (p == &d->reload_fd) {
				reload_done(d);
			} else if (p == &d->neigh_fd) {
				sl_neigh_on_event(d);
			} else if (p == &d->listen_fd) {
				sl_ctl_accept(d);
			} else {
				sl_ctl_event(d, p, evs[i].events);
			}
		}
	}
}
