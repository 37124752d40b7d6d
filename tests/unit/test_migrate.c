/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Unit tests for user/lib/migrate.c: pinned maps of an older layout are
 * carried over an upgrade (sl_backends entries keep their epochs, so
 * flows keep their assigned backends; sl_reasons of another size is
 * re-created), and pins of today's layout are left alone. Real maps,
 * pinned in a directory of this test's own on bpffs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include <cmocka.h>
#include "../lib/bpffs.h"
#include "../lib/check.h"

#include "sluice/abi.h"
#include "migrate.h"

#define N_IDS		16
#define OLD_BE_SIZE	40	/* sluice_backend before the next-hop MTU */

static char dir[128], be_path[192], r_path[192];

/* A map of @value_size x @n entries, pinned at @path; its fd. */
static int pinned_array(const char *path, __u32 value_size, __u32 n)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, value_size, n, NULL);

	CHECK_RC(CHECK_HERE, fd);
	CHECK_INT(CHECK_HERE, bpf_obj_pin(fd, path), 0);
	return fd;
}

static int setup(void **state)
{
	(void)state;
	if (bpffs_test_dir("migrate", dir, sizeof(dir)))
		return -1;
	snprintf(be_path, sizeof(be_path), "%s/%s", dir, SLUICE_MAP_BACKENDS);
	snprintf(r_path, sizeof(r_path), "%s/%s", dir, SLUICE_MAP_REASONS);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(be_path);
	unlink(r_path);
	rmdir(dir);
	return 0;
}

/* An old-layout entry: today's struct cut to its first 40 bytes. */
static void old_entry(int fd, __u32 id, __u8 epoch)
{
	struct sluice_backend be;

	memset(&be, 0, sizeof(be));
	be.addr.addr[0] = htonl(0xc6120100 + id);	/* 198.18.1.x */
	be.family = SLUICE_AF_INET;
	be.flags = SLUICE_BE_F_IN_USE | SLUICE_BE_F_NH_VALID;
	be.epoch = epoch;
	be.vip_id = 3;
	be.ifindex = 7;
	be.dmac[5] = (__u8)id;
	CHECK_INT(CHECK_HERE, bpf_map_update_elem(fd, &id, &be, BPF_ANY), 0);
}

static void test_old_layout_carried_over(void **state)
{
	struct sl_migration m;
	struct sluice_backend be;
	char note[1024];
	int old, reasons, fd;
	__u32 id;

	(void)state;
	old = pinned_array(be_path, OLD_BE_SIZE, N_IDS);
	old_entry(old, 3, 5);
	old_entry(old, 9, 2);
	reasons = pinned_array(r_path, sizeof(__u64), SLUICE_R_MAX - 2);

	CHECK_INT(CHECK_HERE, sl_migrate_prepare(be_path, r_path, &m, note,
						 sizeof(note)), 0);
	CHECK_CONTAINS(CHECK_HERE, note, "40-byte backend entries");
	CHECK_CONTAINS(CHECK_HERE, note, "counters restart");
	CHECK_INT(CHECK_HERE, access(be_path, F_OK), -1);
	CHECK_INT(CHECK_HERE, access(r_path, F_OK), -1);

	/* What the new program's load creates, filled before the sync. */
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, sizeof(be), N_IDS, NULL);
	CHECK_RC(CHECK_HERE, fd);
	CHECK_INT(CHECK_HERE, sl_migrate_finish(&m, fd), 0);
	CHECK_INT(CHECK_HERE, m.backends == NULL, 1);

	id = 3;
	CHECK_INT(CHECK_HERE, bpf_map_lookup_elem(fd, &id, &be), 0);
	CHECK_INT("id 3", be.epoch, 5);
	CHECK_INT("id 3", be.flags, SLUICE_BE_F_IN_USE | SLUICE_BE_F_NH_VALID);
	CHECK_INT("id 3", be.vip_id, 3);
	CHECK_INT("id 3", be.ifindex, 7);
	CHECK_INT("id 3", be.dmac[5], 3);
	CHECK_INT("id 3", ntohl(be.addr.addr[0]), 0xc6120103);
	CHECK_INT("id 3: MTU unknown until the sync", be.mtu, 0);
	id = 9;
	CHECK_INT(CHECK_HERE, bpf_map_lookup_elem(fd, &id, &be), 0);
	CHECK_INT("id 9", be.epoch, 2);
	id = 4;
	CHECK_INT(CHECK_HERE, bpf_map_lookup_elem(fd, &id, &be), 0);
	CHECK_INT("id 4 (never used)", be.flags, 0);
	close(fd);
	close(old);
	close(reasons);
}

static void test_current_layout_untouched(void **state)
{
	struct sl_migration m;
	char note[1024];
	int be, reasons;

	(void)state;
	be = pinned_array(be_path, sizeof(struct sluice_backend), N_IDS);
	reasons = pinned_array(r_path, sizeof(__u64), SLUICE_R_MAX);
	CHECK_INT(CHECK_HERE, sl_migrate_prepare(be_path, r_path, &m, note,
						 sizeof(note)), 0);
	CHECK_STR(CHECK_HERE, note, "");
	CHECK_INT(CHECK_HERE, m.backends == NULL, 1);
	CHECK_INT(CHECK_HERE, access(be_path, F_OK), 0);
	CHECK_INT(CHECK_HERE, access(r_path, F_OK), 0);
	CHECK_INT(CHECK_HERE, sl_migrate_finish(&m, -1), 0);
	close(be);
	close(reasons);
}

static void test_first_start_nothing_pinned(void **state)
{
	struct sl_migration m;
	char note[1024];

	(void)state;
	CHECK_INT(CHECK_HERE, sl_migrate_prepare(be_path, r_path, &m, note,
						 sizeof(note)), 0);
	CHECK_STR(CHECK_HERE, note, "");
	CHECK_INT(CHECK_HERE, sl_migrate_finish(&m, -1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_old_layout_carried_over,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_current_layout_untouched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_start_nothing_pinned,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
