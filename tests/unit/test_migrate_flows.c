/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Unit tests for user/lib/migrate_flows.c: an older sluiced's single
 * sl_flows (one LRU hash) is unpinned before the load and its flows are
 * carried, each into its own shard, so that established flows keep their
 * backends across the upgrade; a pin of today's layout is left alone.
 * Real maps, pinned in a directory of this test's own on bpffs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cmocka.h>
#include "../lib/bpffs.h"
#include "../lib/check.h"

#include "sluice/abi.h"
#include "sluice/hash.h"
#include "maps.h"
#include "migrate_flows.h"

#define N_FLOWS 1000

static char dir[128], path[192];
static int ncpu;

/*
 * flows.table_size for these tests. The maps split max_entries between
 * the possible CPUs (BPF_F_NO_COMMON_LRU) and the test writes from one:
 * sized so that one CPU's share of a shard holds twice an even split.
 */
static __u32 table_size(void)
{
	return N_FLOWS * 2 * (__u32)ncpu;
}

/* An LRU hash as sl_flows' shards and the older single table are made. */
static int flow_lru(__u32 value_size, __u32 entries)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts,
		    .map_flags = BPF_F_NO_COMMON_LRU);
	int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, NULL,
				sizeof(struct sluice_flow_key), value_size,
				entries, &opts);

	CHECK_RC(CHECK_HERE, fd);
	return fd;
}

/* Flow @i: distinct clients and ports, as the datapath stores them. */
static void flow(__u32 i, struct sluice_flow_key *k, struct sluice_flow *f)
{
	memset(k, 0, sizeof(*k));
	k->src.addr[0] = htonl(0xc6120000 + i * 37); /* 198.18.x.y */
	k->dst.addr[0] = htonl(0xc6130001); /* 198.19.0.1 */
	k->sport = htons((__u16)(10000 + i * 13));
	k->dport = htons(443);
	k->proto = IPPROTO_TCP;
	k->family = SLUICE_AF_INET;
	memset(f, 0, sizeof(*f));
	f->backend_id = 1 + i % 16;
	f->last_seen = 5000 + i;
	f->created = 1000 + i;
	f->state = SLUICE_FLOW_OPEN;
	f->epoch = (__u8)(i * 3);
	f->flags = SLUICE_FLOW_F_CONFIRMED;
}

/* The older sluiced's sl_flows, holding flows 0 to @n - 1, pinned. */
static int pinned_old_table(__u32 n)
{
	struct sluice_flow_key k;
	struct sluice_flow f;
	int fd = flow_lru(sizeof(f), table_size());
	__u32 i;

	for (i = 0; i < n; i++) {
		flow(i, &k, &f);
		CHECK_INT(CHECK_HERE,
			  bpf_map_update_elem(fd, &k, &f, BPF_NOEXIST), 0);
	}
	CHECK_INT(CHECK_HERE, bpf_obj_pin(fd, path), 0);
	return fd;
}

/* What the new program's load creates: the shards alone matter here. */
static void new_shards(struct sl_maps *m)
{
	unsigned int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++)
		m->flow_shard[i] =
			flow_lru(sizeof(struct sluice_flow),
				 SLUICE_FLOW_SHARD_SIZE(table_size()));
}

/* sl_migrate_flows_prepare() over an older table: its fd. */
static int prepared(char *note, size_t len)
{
	int fd = -1;

	CHECK_INT(CHECK_HERE, sl_migrate_flows_prepare(path, &fd, note, len),
		  0);
	CHECK(CHECK_HERE, fd >= 0);
	return fd;
}

/* An older table of N_FLOWS flows, prepared: the fd to copy from. */
static int old_table_prepared(void)
{
	char note[512];
	int old = pinned_old_table(N_FLOWS), fd = prepared(note, sizeof(note));

	close(old);
	return fd;
}

static void close_shards(struct sl_maps *m)
{
	unsigned int i;

	for (i = 0; i < SLUICE_FLOW_SHARDS; i++)
		close(m->flow_shard[i]);
}

static __u32 entries(int fd)
{
	struct sluice_flow_key k, next;
	__u32 n = 0;

	if (bpf_map_get_next_key(fd, NULL, &next))
		return 0;
	do {
		n++;
		k = next;
	} while (!bpf_map_get_next_key(fd, &k, &next));
	return n;
}

/* Flow @i is in its own shard, with @want, and in no other. */
static void check_in_shard(const struct sl_maps *m, __u32 i,
			   const struct sluice_flow *want)
{
	struct sluice_flow_key k;
	struct sluice_flow f, got;
	unsigned int s, home;
	char tc[64];

	flow(i, &k, &f);
	home = sluice_flow_shard(&k);
	snprintf(tc, sizeof(tc), "flow %u (shard %u)", i, home);
	for (s = 0; s < SLUICE_FLOW_SHARDS; s++) {
		int rc = bpf_map_lookup_elem(m->flow_shard[s], &k, &got);

		if (s != home) {
			CHECK_INT(tc, rc, -ENOENT);
			continue;
		}
		CHECK_INT(tc, rc, 0);
		CHECK_MEM(tc, &got, want, sizeof(got));
	}
}

static int setup(void **state)
{
	(void)state;
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0 || bpffs_test_dir("migrate-flows", dir, sizeof(dir)))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, SLUICE_MAP_FLOWS);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void test_unsharded_table_carried(void **state)
{
	__u32 i, n, total = 0;
	struct sluice_flow_key k;
	struct sluice_flow f;
	struct sl_maps m;
	__u64 copied = 0;
	int old, fd;
	char note[512];
	unsigned int s;

	(void)state;
	old = pinned_old_table(N_FLOWS);
	fd = prepared(note, sizeof(note));
	/* Unpinned: the load creates today's sl_flows there. */
	CHECK_INT(CHECK_HERE, access(path, F_OK), -1);
	CHECK_CONTAINS(CHECK_HERE, note, path);
	CHECK_CONTAINS(CHECK_HERE, note, "older sluiced");
	CHECK_CONTAINS(CHECK_HERE, note, "4 shards");
	close(old); /* from here on the prepared fd alone holds it */

	new_shards(&m);
	CHECK_INT(CHECK_HERE, sl_migrate_flows_copy(fd, &m, false, &copied), 0);
	CHECK_EQ(CHECK_HERE, "flows copied", copied, N_FLOWS);
	for (i = 0; i < N_FLOWS; i++) {
		flow(i, &k, &f);
		check_in_shard(&m, i, &f);
	}
	for (s = 0; s < SLUICE_FLOW_SHARDS; s++) {
		n = entries(m.flow_shard[s]);
		/* An even split, give or take half: no shard is left out. */
		CHECK_TRUE(CHECK_HERE, "shard balance",
			   n >= N_FLOWS / SLUICE_FLOW_SHARDS / 2);
		total += n;
	}
	CHECK_INT(CHECK_HERE, total, N_FLOWS);
	close_shards(&m);
	close(fd);
}

/* What the new program made of flow @f meanwhile. */
static struct sluice_flow newer_of(const struct sluice_flow *f)
{
	struct sluice_flow n = *f;

	n.backend_id = 99;
	n.last_seen = f->last_seen + 1000;
	n.state = SLUICE_FLOW_CLOSING;
	return n;
}

/* The second copy, after the attach: what the new program wrote stays. */
static void test_keep_newer(void **state)
{
	struct sluice_flow_key k;
	struct sluice_flow f, newer;
	struct sl_maps m;
	__u64 copied = 0;
	__u32 i, kept = 0;
	int fd;

	(void)state;
	fd = old_table_prepared();
	new_shards(&m);
	for (i = 0; i < N_FLOWS; i += 10, kept++) {
		flow(i, &k, &f);
		newer = newer_of(&f);
		CHECK_INT(CHECK_HERE,
			  bpf_map_update_elem(sl_flows_fd(&m, &k), &k, &newer,
					      BPF_NOEXIST),
			  0);
	}

	CHECK_INT(CHECK_HERE, sl_migrate_flows_copy(fd, &m, true, &copied), 0);
	CHECK_EQ(CHECK_HERE, "flows copied", copied, N_FLOWS - kept);
	for (i = 0; i < N_FLOWS; i++) {
		flow(i, &k, &f);
		newer = newer_of(&f);
		check_in_shard(&m, i, i % 10 ? &f : &newer);
	}
	/* Without keep_newer (the copy after the load), the old table wins. */
	CHECK_INT(CHECK_HERE, sl_migrate_flows_copy(fd, &m, false, &copied), 0);
	CHECK_EQ(CHECK_HERE, "flows copied", copied, N_FLOWS);
	flow(0, &k, &f);
	check_in_shard(&m, 0, &f);
	close_shards(&m);
	close(fd);
}

/*
 * Shards three quarters full once every flow is in: a copy written from
 * one CPU would fill only that CPU's share of each shard (the free lists
 * are per CPU) and evict the rest, on any box with more than one CPU.
 */
static void test_fills_every_cpu_share(void **state)
{
	struct sluice_flow_key k;
	struct sluice_flow f;
	struct sl_maps m;
	__u64 copied = 0, held = 0;
	__u32 i;
	int fd;

	(void)state;
	fd = old_table_prepared();
	memset(&m, 0, sizeof(m));
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++)
		m.flow_shard[i] =
			flow_lru(sizeof(struct sluice_flow),
				 SLUICE_FLOW_SHARD_SIZE(N_FLOWS * 4 / 3));
	CHECK_INT(CHECK_HERE, sl_migrate_flows_copy(fd, &m, false, &copied), 0);
	CHECK_EQ(CHECK_HERE, "flows copied", copied, N_FLOWS);
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++)
		held += entries(m.flow_shard[i]);
	CHECK_EQ(CHECK_HERE, "flows the shards hold", held, N_FLOWS);
	for (i = 0; i < N_FLOWS; i++) {
		flow(i, &k, &f);
		check_in_shard(&m, i, &f);
	}
	close_shards(&m);
	close(fd);
}

/*
 * The older program changed flows after the first copy (a FIN, later
 * last_seen): the copy after the attach carries that, as the shard's
 * entry is not newer.
 */
static void test_later_change_carried(void **state)
{
	struct sluice_flow_key k;
	struct sluice_flow f, later;
	struct sl_maps m;
	__u64 copied = 0;
	char note[512];
	int old, fd;

	(void)state;
	old = pinned_old_table(N_FLOWS);
	fd = prepared(note, sizeof(note));
	new_shards(&m);
	CHECK_INT(CHECK_HERE, sl_migrate_flows_copy(fd, &m, false, &copied), 0);
	flow(7, &k, &f);
	later = newer_of(&f);
	CHECK_INT(CHECK_HERE, bpf_map_update_elem(old, &k, &later, BPF_EXIST),
		  0);
	CHECK_INT(CHECK_HERE, sl_migrate_flows_copy(fd, &m, true, &copied), 0);
	check_in_shard(&m, 7, &later);
	close_shards(&m);
	close(old);
	close(fd);
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	CHECK_INT(CHECK_HERE, bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info.id;
}

/* The map pinned at path is @fd's: a new fd of it (the caller closes). */
static int check_pinned_is(int fd)
{
	int again = bpf_obj_get(path);

	CHECK_RC(CHECK_HERE, again);
	CHECK_INT(CHECK_HERE, map_id(again), map_id(fd));
	return again;
}

static void check_left_alone(int pinned)
{
	char note[512] = "unset";
	int fd = 7;

	CHECK_INT(CHECK_HERE,
		  sl_migrate_flows_prepare(path, &fd, note, sizeof(note)), 0);
	CHECK_INT(CHECK_HERE, fd, -1);
	CHECK_STR(CHECK_HERE, note, "");
	close(check_pinned_is(pinned));
}

static void test_sharded_table_untouched(void **state)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int inner, outer;

	(void)state;
	inner = flow_lru(sizeof(struct sluice_flow), 64);
	opts.inner_map_fd = inner;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, NULL, 4, 4,
			       SLUICE_FLOW_SHARDS, &opts);
	CHECK_RC(CHECK_HERE, outer);
	CHECK_INT(CHECK_HERE, bpf_obj_pin(outer, path), 0);
	check_left_alone(outer);
	close(outer);
	close(inner);
}

/* Not sluice_flow values: not ours to convert (the load then says why). */
static void test_other_value_size_untouched(void **state)
{
	int fd;

	(void)state;
	fd = flow_lru(sizeof(struct sluice_flow) + 8, 64);
	CHECK_INT(CHECK_HERE, bpf_obj_pin(fd, path), 0);
	check_left_alone(fd);
	close(fd);
}

/* Flow keys and values, but a plain hash: not an sl_flows either. */
static void test_other_type_untouched(void **state)
{
	int fd;

	(void)state;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, NULL,
			    sizeof(struct sluice_flow_key),
			    sizeof(struct sluice_flow), 64, NULL);
	CHECK_RC(CHECK_HERE, fd);
	CHECK_INT(CHECK_HERE, bpf_obj_pin(fd, path), 0);
	check_left_alone(fd);
	close(fd);
}

static void test_nothing_pinned(void **state)
{
	char note[512] = "unset";
	int fd = 7;

	(void)state;
	CHECK_INT(CHECK_HERE,
		  sl_migrate_flows_prepare(path, &fd, note, sizeof(note)), 0);
	CHECK_INT(CHECK_HERE, fd, -1);
	CHECK_STR(CHECK_HERE, note, "");
	CHECK_INT(CHECK_HERE, access(path, F_OK), -1);
	/* Nothing prepared: nothing to put back. */
	sl_migrate_flows_restore(-1, path);
	CHECK_INT(CHECK_HERE, access(path, F_OK), -1);
}

/* The load failed: the older sluiced's table, with its flows, is back. */
static void test_restore(void **state)
{
	char note[512];
	int old, fd, again;

	(void)state;
	old = pinned_old_table(N_FLOWS);
	fd = prepared(note, sizeof(note));
	CHECK_INT(CHECK_HERE, access(path, F_OK), -1);
	sl_migrate_flows_restore(fd, path);
	again = check_pinned_is(old);
	CHECK_INT(CHECK_HERE, entries(again), N_FLOWS);
	close(again);
	close(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unsharded_table_carried,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fills_every_cpu_share,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_later_change_carried,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_newer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sharded_table_untouched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_value_size_untouched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_type_untouched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_pinned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
