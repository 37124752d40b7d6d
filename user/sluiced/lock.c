// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One sluiced per instance: exclusive flock()s on the state directory's
 * lock file and on the pin directory itself, taken before anything of the
 * instance is read or written. A second sluiced (same config, or another
 * config sharing either directory) refuses at once and names the PID that
 * holds the instance, instead of loading the saved state, rewriting the
 * tables and swapping the XDP program under the running one.
 *
 * The locks belong to open file descriptions kept for the life of the
 * process: they go when it exits, however it exits (no stale lock after a
 * crash). The holder's PID comes from /proc/locks, so a lock on bpffs (where
 * no ordinary file can be written) names its holder too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lock.h"

/* The PID holding a flock on @fd's file, from /proc/locks; 0 if unknown. */
static pid_t lock_holder(int fd)
{
	char line[256], type[16], kind[16], mode[16];
	unsigned int maj, min;
	unsigned long ino;
	struct stat st;
	pid_t pid, found = 0;
	FILE *f;

	if (fstat(fd, &st))
		return 0;
	f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		/* "1: FLOCK  ADVISORY  WRITE 1234 00:19:4242 0 EOF" */
		if (sscanf(line, "%*d: %15s %15s %15s %d %x:%x:%lu", type, kind, mode,
			   &pid, &maj, &min, &ino) != 7)
			continue;
		if (!strcmp(type, "FLOCK") && ino == st.st_ino &&
		    maj == major(st.st_dev) && min == minor(st.st_dev) && pid != getpid())
			found = pid;
	}
	fclose(f);
	return found;
}

/* flock(@fd) or say who holds it. 0, -EBUSY (held) or -errno. */
static int take(int fd, const char *what, const char *path, const char *instance,
		char *err, size_t errlen)
{
	pid_t pid;

	if (!flock(fd, LOCK_EX | LOCK_NB))
		return 0;
	if (errno != EWOULDBLOCK) {
		snprintf(err, errlen, "cannot lock %s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	pid = lock_holder(fd);
	if (pid > 0)
		snprintf(err, errlen, "instance %s is in use: sluiced PID %d holds its %s %s; "
			 "refusing to start a second one (stop PID %d first, or give this one "
			 "its own instance, pin_dir and state_dir)", instance, (int)pid, what,
			 path, (int)pid);
	else
		snprintf(err, errlen, "instance %s is in use: another sluiced holds its %s %s; "
			 "refusing to start a second one", instance, what, path);
	return -EBUSY;
}

/* Record our PID in the lock file, for people reading it (not for locking). */
static void write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != n)
		return;	/* cosmetic: the flock is what counts */
}

int sl_lock_state_dir(struct sl_lock *l, const char *state_dir, const char *instance,
		      char *err, size_t errlen)
{
	char path[4200];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", state_dir, SL_LOCK_FILE);
	l->state_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->state_fd < 0) {
		snprintf(err, errlen, "cannot open lock file %s: %s", path, strerror(errno));
		return -errno;
	}
	rc = take(l->state_fd, "lock file", path, instance, err, errlen);
	if (!rc)
		write_pid(l->state_fd);
	return rc;
}

int sl_lock_pin_dir(struct sl_lock *l, const char *pin_dir, const char *instance,
		    char *err, size_t errlen)
{
	l->pin_fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->pin_fd < 0) {
		snprintf(err, errlen, "cannot open pin directory %s: %s", pin_dir,
			 strerror(errno));
		return -errno;
	}
	return take(l->pin_fd, "pin directory", pin_dir, instance, err, errlen);
}

void sl_lock_init(struct sl_lock *l)
{
	l->state_fd = -1;
	l->pin_fd = -1;
}
