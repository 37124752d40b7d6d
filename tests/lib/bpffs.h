/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A directory of a test's own on bpffs, for the unit tests that pin maps. */
#ifndef SLUICE_TEST_BPFFS_H
#define SLUICE_TEST_BPFFS_H

#include <stddef.h>

#define BPFFS "/sys/fs/bpf"

/*
 * Create BPFFS/sluice-test-@name-PID and write its path into @dir. 0, or
 * -1 with the reason printed: without bpffs a test fails, never skips.
 */
int bpffs_test_dir(const char *name, char *dir, size_t len);

#endif /* SLUICE_TEST_BPFFS_H */
