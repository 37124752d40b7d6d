// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * SIGHUP reloads, read and checked off the main loop. Whatever the config
 * path does (a FIFO nobody writes, a dead network mount that blocks every
 * open and read, a file that takes the YAML parser a while), it does to a
 * worker thread: the main loop goes on serving the control socket and
 * deciding drains, and applies the new config when the worker hands it
 * over through an eventfd. One reload at a time; a SIGHUP during one says
 * so and is not queued.
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
#include "reload.h"

struct sl_reload {
	pthread_t thr;
	bool running;
	__u64 started_ms;
	char path[4096];
	int rc;
	char err[1024];
	struct sl_config cfg;
};

/*
 * The file is read twice (once by the sandboxed precheck, once for real),
 * which only a regular file supports: a FIFO would hand its content to
 * the first reader and block the second.
 */
static int check_regular(const char *path, char *err, size_t errlen)
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

static void *reload_main(void *arg)
{
	struct sl_daemon *d = arg;
	struct sl_reload *r = d->reload;
	__u64 one = 1;

	r->rc = check_regular(r->path, r->err, sizeof(r->err));
	if (!r->rc)
		r->rc = sl_config_precheck(r->path, r->err, sizeof(r->err));
	if (!r->rc)
		r->rc = sl_config_load(r->path, &r->cfg, r->err, sizeof(r->err));
	if (write(d->reload_fd, &one, sizeof(one)) < 0)
		sl_log("reload: cannot hand the result over: %s", strerror(errno));
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

void sl_reload_request(struct sl_daemon *d)
{
	struct sl_reload *r = d->reload;

	if (r->running) {
		sl_log("reload of %s still in progress (%llu s, reading or checking the file): "
		       "this SIGHUP is ignored; send another once it is over", r->path,
		       (unsigned long long)((sl_unix_ms() - r->started_ms) / 1000));
		return;
	}
	snprintf(r->path, sizeof(r->path), "%s", d->cfg_path);
	r->rc = 0;
	r->err[0] = '\0';
	r->started_ms = sl_unix_ms();
	if (pthread_create(&r->thr, NULL, reload_main, d)) {
		sl_log("reload rejected, running state unchanged: cannot start a reload thread");
		return;
	}
	r->running = true;
	sl_debug(d, "reloading %s in the background", r->path);
}

void sl_reload_on_done(struct sl_daemon *d)
{
	struct sl_reload *r = d->reload;
	__u64 n;

	if (read(d->reload_fd, &n, sizeof(n)) < 0 || !r->running)
		return;
	pthread_join(r->thr, NULL);
	r->running = false;
	if (r->rc) {
		sl_log("reload rejected, running state unchanged: %s", r->err);
		return;
	}
	sl_reload_apply(d, &r->cfg);	/* frees r->cfg */
}
