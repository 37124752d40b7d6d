// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Reloads (SIGHUP and sluicectl reload), read and checked off the main
 * loop, then applied by reload.c on the main thread. Whatever the config
 * path does (a FIFO nobody writes, a dead network mount that blocks every
 * open and read, a file that takes the YAML parser a while), it does to a
 * worker thread: the main loop goes on serving the control socket and
 * deciding drains, and applies the new config when the worker hands it
 * over through an eventfd. One reload at a time. A SIGHUP during one says
 * so and is not queued; a sluicectl reload during one waits for the next
 * one (which reads the file as it is now), started when this one ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "daemon.h"
#include "reload_worker.h"

struct sl_reload {
	pthread_t thr;
	bool running;
	bool exact;		/* of the reload running */
	__u64 gen;		/* number of the last reload started */
	bool next;		/* a control client waits for another one */
	bool next_exact;
	__u64 started_boot_ms;
	char path[4096];
	int rc;
	char err[1024];
	struct sl_config cfg;
};

static void *reload_main(void *arg)
{
	struct sl_daemon *d = arg;
	struct sl_reload *r = d->reload;
	__u64 one = 1;

	r->rc = sl_config_read(r->path, &r->cfg, r->err, sizeof(r->err));
	if (write(d->reload_fd, &one, sizeof(one)) < 0)
		sl_err("reload: cannot hand the result over: %s",
		       strerror(errno));
	return NULL;
}

int sl_reload_init(struct sl_daemon *d)
{
	d->reload = calloc(1, sizeof(*d->reload));
	d->reload_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!d->reload || d->reload_fd < 0)
		return -ENOMEM;
	return 0;
}

static int start(struct sl_daemon *d, bool exact)
{
	struct sl_reload *r = d->reload;
	int rc;

	snprintf(r->path, sizeof(r->path), "%s", d->cfg_path);
	sl_config_defaults(&r->cfg);
	r->rc = 0;
	r->err[0] = '\0';
	r->exact = exact;
	r->started_boot_ms = sl_boot_ms();
	rc = pthread_create(&r->thr, NULL, reload_main, d);
	if (rc)
		return -rc;
	r->running = true;
	r->gen++;
	sl_debug("reloading %s in the background", r->path);
	return 0;
}

void sl_reload_request(struct sl_daemon *d)
{
	struct sl_reload *r = d->reload;

	if (r->running) {
		sl_log("reload of %s still in progress (%llu s, reading or checking the file): "
		       "this SIGHUP is ignored; send another once it is over",
		       r->path,
		       (unsigned long long)((sl_boot_ms() - r->started_boot_ms) /
					    1000));
		return;
	}
	if (start(d, false))
		sl_err("reload rejected, running state unchanged: cannot start a reload thread");
}

int sl_reload_request_ctl(struct sl_daemon *d, bool exact, __u64 *gen)
{
	struct sl_reload *r = d->reload;
	int rc;

	if (!r->running) {
		rc = start(d, exact);
		*gen = r->gen;
		return rc;
	}
	/* The running one may have read the file before the operator's edit. */
	if (r->next && r->next_exact != exact)
		return -EBUSY;
	r->next = true;
	r->next_exact = exact;
	*gen = r->gen + 1;
	return 0;
}

void sl_reload_on_done(struct sl_daemon *d)
{
	struct sl_reload *r = d->reload;
	json_object *res;
	__u64 n;

	if (read(d->reload_fd, &n, sizeof(n)) < 0 || !r->running)
		return;
	pthread_join(r->thr, NULL);
	r->running = false;
	/* Logs and records the outcome, whatever it is; frees r->cfg. */
	res = sl_reload_finish(d, r->exact, r->rc, &r->cfg, r->err);
	sl_ctl_reload_done(d, r->gen, res);
	json_object_put(res);
	if (r->next) {
		r->next = false;
		if (start(d, r->next_exact)) {
			sl_err("reload rejected, running state unchanged: cannot start a reload thread");
			sl_ctl_reload_done(d, r->gen + 1, NULL);
		}
	}
}
