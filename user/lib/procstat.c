// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The calling process's resource use from /proc/self (see procstat.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "procstat.h"

/* Seconds since the epoch at boot: /proc/stat's btime. */
static int boot_time_s(__u64 *btime)
{
	unsigned long long v;
	char line[256];
	FILE *f = fopen("/proc/stat", "re");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &v) == 1) {
			*btime = v;
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

/* /proc/self/stat: fields after "(comm)", which may hold spaces and ')'. */
static int read_stat(struct sl_proc *p, __u64 *start_ticks)
{
	unsigned long long utime, stime, start, vsize, rss;
	char buf[1024], *s;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	s = strrchr(buf, ')');
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice threads itreal
	 * starttime vsize rss */
	if (!s || sscanf(s + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %llu",
			 &utime, &stime, &start, &vsize, &rss) != 5)
		return -EINVAL;
	p->cpu_us = (utime + stime) * 1000000ULL / sysconf(_SC_CLK_TCK);
	p->vsize_bytes = vsize;
	p->rss_bytes = rss * (__u64)sysconf(_SC_PAGESIZE);
	*start_ticks = start;
	return 0;
}

static int count_fds(__u64 *n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return -errno;
	*n = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			(*n)++;
	/* Not the one opendir() holds. */
	if (*n)
		(*n)--;
	closedir(d);
	return 0;
}

int sl_proc_read(struct sl_proc *p)
{
	struct rlimit rl;
	__u64 ticks = 0, btime = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = read_stat(p, &ticks);
	if (!rc)
		rc = boot_time_s(&btime);
	if (!rc)
		rc = count_fds(&p->open_fds);
	if (rc)
		return rc;
	p->start_unix_ms = btime * 1000 + ticks * 1000 / sysconf(_SC_CLK_TCK);
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		p->max_fds = rl.rlim_cur;
	return 0;
}
