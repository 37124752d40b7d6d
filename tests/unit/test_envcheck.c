// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests for what a start would refuse (user/lib/envcheck.c,
 * pindir.c). The settings a reload cannot apply: test_config_dump.c.
 * Pin directory cases use the real bpffs at /sys/fs/bpf (make test mounts
 * it) under a directory of their own, removed at the end.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cmocka.h>
#include "../lib/check.h"

#include "envcheck.h"
#include "maps.h"
#include "pindir.h"

static char bpf_dir[64];	/* /sys/fs/bpf/sl-unit-PID */
static char tmp_dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(bpf_dir, sizeof(bpf_dir), "/sys/fs/bpf/sl-unit-%d", (int)getpid());
	strcpy(tmp_dir, "/tmp/sluice-test-env-XXXXXX");
	return mkdtemp(tmp_dir) ? 0 : -1;
}

static void rm_quiet(const char *fmt, const char *a, const char *b)
{
	char p[256];

	snprintf(p, sizeof(p), fmt, a, b);
	if (unlink(p))
		rmdir(p);
}

static int teardown(void **state)
{
	(void)state;
	rm_quiet("%s/%s", bpf_dir, "sl_flows");
	rm_quiet("%s/%s", bpf_dir, "dt/sl_pinned");
	rm_quiet("%s/%s", bpf_dir, "dt");
	rm_quiet("%s/%s", bpf_dir, "a/b/c");
	rm_quiet("%s/%s", bpf_dir, "a/b");
	rm_quiet("%s/%s", bpf_dir, "a");
	rmdir(bpf_dir);
	rm_quiet("%s/%s", tmp_dir, "file");
	return rmdir(tmp_dir);
}

static void test_ifaces(void **state)
{
	struct sl_config cfg;
	struct sl_problems p;

	(void)state;
	sl_config_defaults(&cfg);
	strcpy(cfg.ifaces[0].name, "lo");
	strcpy(cfg.ifaces[1].name, "slnosuch0");
	cfg.n_ifaces = 2;
	sl_problems_init(&p);
	sl_check_ifaces(&cfg, &p);
	CHECK_INT(CHECK_HERE, p.n, 1);
	CHECK_CONTAINS(CHECK_HERE, p.text, "interfaces[1].name: no interface slnosuch0 in this "
		       "network namespace");
	CHECK_CONTAINS(CHECK_HERE, p.text, "\nhint: check `ip link show`");
}

static void test_pindir_on_bpffs(void **state)
{
	char dir[128], err[1024];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/a/b/c", bpf_dir);
	/* Not created on a check, created on a start, idempotent. */
	CHECK_INT(CHECK_HERE, sl_pindir_prepare(dir, false, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, stat(dir, &st), -1);
	CHECK_INT(CHECK_HERE, sl_pindir_prepare(dir, true, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, stat(dir, &st), 0);
	CHECK_INT(CHECK_HERE, S_ISDIR(st.st_mode), 1);
	CHECK_INT(CHECK_HERE, sl_pindir_prepare(dir, true, err, sizeof(err)), 0);
}

static void test_pindir_not_bpffs(void **state)
{
	char dir[128], err[1024];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/pins", tmp_dir);
	CHECK_INT(CHECK_HERE, sl_pindir_prepare(dir, true, err, sizeof(err)), -ENOTSUP);
	CHECK_CONTAINS(CHECK_HERE, err, "is not on bpffs");
	CHECK_CONTAINS(CHECK_HERE, err, "\nhint: set paths.pin_dir to a directory under /sys/fs/bpf");
	CHECK_INT(CHECK_HERE, access(dir, F_OK), -1);	/* nothing created off bpffs */
	CHECK_INT(CHECK_HERE, sl_pindir_prepare("relative/pins", true, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(CHECK_HERE, err, "is not an absolute path");
}

/* Pin a map @name of @entries in @dir (created); its path in @path. */
static void pin_map(const char *dir, enum bpf_map_type type, const char *name,
		    __u32 entries, char *path, size_t len)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	char err[1024];
	int fd;

	CHECK_INT(CHECK_HERE, sl_pindir_prepare(dir, true, err, sizeof(err)),
		  0);
	fd = bpf_map_create(type, name, 8, 8, entries, &opts);
	CHECK_RC(CHECK_HERE, fd);
	snprintf(path, len, "%s/%s", dir, name);
	CHECK_INT(CHECK_HERE, bpf_obj_pin(fd, path), 0);
	close(fd);
}

/* Pinned sl_flows of another size: refused, naming the field and both sizes. */
static void test_pinned_sizes(void **state)
{
	LIBBPF_OPTS(bpf_map_create_opts, lru, .map_flags = BPF_F_NO_COMMON_LRU);
	char path[128], err[1024];
	struct sl_config cfg;
	struct sl_problems p;
	int fd;

	(void)state;
	pin_map(bpf_dir, BPF_MAP_TYPE_LRU_HASH, "sl_flows", 2048, path,
		sizeof(path));

	sl_config_defaults(&cfg);
	strcpy(cfg.pin_dir, bpf_dir);
	cfg.flow_table_size = 4096;
	sl_problems_init(&p);
	sl_check_pinned_sizes(&cfg, &p);
	CHECK_INT(CHECK_HERE, p.n, 1);
	CHECK_CONTAINS(CHECK_HERE, p.text, "flows.table_size: the pinned map ");
	CHECK_CONTAINS(CHECK_HERE, p.text, "/sl_flows has 2048 entries but the config asks for 4096");
	CHECK_CONTAINS(CHECK_HERE, p.text, "\nhint: set flows.table_size back to 2048");

	cfg.flow_table_size = 2048;
	sl_problems_init(&p);
	CHECK_INT(CHECK_HERE, sl_check_env(&cfg, &p), 0);	/* no ifaces, bpffs, same size */
	CHECK_STR(CHECK_HERE, p.text, "");

	/* The kernel rounds a per-CPU LRU hash to a multiple of the possible
	 * CPUs: an older single table asked for 2049 entries holds more on a
	 * box of 2 or more, and is the size a config of 2049 made. */
	snprintf(path, sizeof(path), "%s/sl_flows", bpf_dir);
	unlink(path);
	fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "sl_flows", 8, 8, 2049,
			    &lru);
	CHECK_RC(CHECK_HERE, fd);
	CHECK_INT(CHECK_HERE, bpf_obj_pin(fd, path), 0);
	close(fd);
	cfg.flow_table_size = 2049;
	sl_problems_init(&p);
	sl_check_pinned_sizes(&cfg, &p);
	CHECK_STR(CHECK_HERE, p.text, "");
	cfg.flow_table_size = 2048;
	sl_problems_init(&p);
	sl_check_pinned_sizes(&cfg, &p);
	CHECK_INT(CHECK_HERE, p.n, libbpf_num_possible_cpus() > 1 ? 1 : 0);

	/* A pinned object where the directory should be. */
	snprintf(path, sizeof(path), "%s/sl_flows/sub", bpf_dir);
	CHECK_INT(CHECK_HERE, sl_pindir_prepare(path, true, err, sizeof(err)), -ENOTDIR);
	CHECK_CONTAINS(CHECK_HERE, err, "cannot create pin directory");
	CHECK_CONTAINS(CHECK_HERE, err, "is a pinned object, not a directory");
}

/*
 * Pinned sl_pinned (the drain table) of another size: refused too, naming
 * flows.drain_table_size (README: --check and a start refuse it). In a
 * directory of its own, so the sl_flows pinned above do not count.
 */
static void test_pinned_drain_table_size(void **state)
{
	char dir[128], path[160];
	struct sl_config cfg;
	struct sl_problems p;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/dt", bpf_dir);
	pin_map(dir, BPF_MAP_TYPE_HASH, "sl_pinned", 1024, path, sizeof(path));

	sl_config_defaults(&cfg);
	strcpy(cfg.pin_dir, dir);
	cfg.drain_table_size = 4096;
	sl_problems_init(&p);
	sl_check_pinned_sizes(&cfg, &p);
	CHECK_INT(CHECK_HERE, p.n, 1);
	CHECK_CONTAINS(CHECK_HERE, p.text,
		       "flows.drain_table_size: the pinned map ");
	CHECK_CONTAINS(
		CHECK_HERE, p.text,
		"/sl_pinned has 1024 entries but the config asks for 4096");
	CHECK_CONTAINS(CHECK_HERE, p.text,
		       "\nhint: set flows.drain_table_size back to 1024");

	/* The same size: nothing to refuse. */
	cfg.drain_table_size = 1024;
	sl_problems_init(&p);
	sl_check_pinned_sizes(&cfg, &p);
	CHECK_INT(CHECK_HERE, p.n, 0);
	CHECK_STR(CHECK_HERE, p.text, "");

	CHECK_INT(CHECK_HERE, unlink(path), 0);
	CHECK_INT(CHECK_HERE, rmdir(dir), 0);
}

/*
 * A shard's size is rounded up to a multiple of the possible CPUs, as the
 * kernel rounds a per-CPU LRU hash: else the pinned shard's size differs
 * from the asked one and the next start cannot reuse it (the default
 * table on 6 or 48 CPUs, any odd share on 2).
 */
static void test_shard_entries(void **state)
{
	(void)state;
	CHECK_INT(CHECK_HERE, sl_flow_shard_entries(1U << 20, 1), 262144);
	CHECK_INT(CHECK_HERE, sl_flow_shard_entries(1U << 20, 2), 262144);
	CHECK_INT(CHECK_HERE, sl_flow_shard_entries(1U << 20, 6), 262146);
	CHECK_INT(CHECK_HERE, sl_flow_shard_entries(1U << 20, 48), 262176);
	CHECK_INT(CHECK_HERE, sl_flow_shard_entries(100001, 2), 25002);
	CHECK_INT(CHECK_HERE, sl_flow_shard_entries(100001, 1), 25001);
	CHECK_INT(CHECK_HERE, sl_flow_shard_entries(16U << 20, 256), 4194304);
	CHECK_INT(CHECK_HERE, sl_flow_shard_entries(16U << 20, 384),
		  4194304 + 128);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ifaces),
		cmocka_unit_test(test_pindir_on_bpffs),
		cmocka_unit_test(test_pindir_not_bpffs),
		cmocka_unit_test(test_pinned_sizes),
		cmocka_unit_test(test_pinned_drain_table_size),
		cmocka_unit_test(test_shard_entries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
