// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A directory of a test's own on bpffs (bpffs.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include <cmocka.h>
#include "bpffs.h"

int bpffs_test_dir(const char *name, char *dir, size_t len)
{
	struct statfs sfs;

	if (statfs(BPFFS, &sfs) || sfs.f_type != BPF_FS_MAGIC) {
		print_error("%s is not bpffs: mount -t bpf bpf %s\n", BPFFS,
			    BPFFS);
		return -1;
	}
	snprintf(dir, len, BPFFS "/sluice-test-%s-%d", name, getpid());
	if (mkdir(dir, 0700)) {
		print_error("cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}
