/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Unit tests for the map sync (user/lib/dp.c) against real BPF maps made
 * here (root): add, weight change, drain, delete, then what the maps hold.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>

#include "../lib/check.h"
#include "dp.h"
#include "sluice/hash.h"

#define RING	1021		/* a prime, small enough to count quickly */
#define VIP	"198.18.0.100:80/tcp"
#define BE_A	"198.18.1.10"
#define BE_B	"198.18.1.11"

struct fixture {
	struct sl_maps maps;
	struct sl_config cfg;
	struct sl_dp dp;
	struct sl_state st;
	struct sl_vip_spec vip;
	unsigned int fp_calls;
};

static void fp_changed(void *arg, __u32 vip_id, __u64 fp)
{
	struct fixture *f = arg;

	(void)vip_id;
	(void)fp;
	f->fp_calls++;
}

static int mk_map(enum bpf_map_type type, const char *name, __u32 ksz,
		  __u32 vsz, __u32 n, const struct bpf_map_create_opts *o)
{
	int fd = bpf_map_create(type, name, ksz, vsz, n, o);

	CHECK_RC(name, fd);
	return fd;
}

/* The maps the sync writes, shaped as bpf/lib/maps.h declares them. */
static void mk_maps(struct sl_maps *m)
{
	LIBBPF_OPTS(bpf_map_create_opts, hash, .map_flags = BPF_F_NO_PREALLOC);
	LIBBPF_OPTS(bpf_map_create_opts, outer);
	int inner;

	memset(m, 0, sizeof(*m));
	m->ring_size = RING;
	m->hash_seed = 7;
	m->vips = mk_map(BPF_MAP_TYPE_HASH, "sl_vips", sizeof(struct sluice_vip_key),
			 sizeof(struct sluice_vip), SLUICE_VIP_MAP_SIZE, &hash);
	m->vip_addrs = mk_map(BPF_MAP_TYPE_ARRAY, "sl_vip_addrs", sizeof(__u32),
			      sizeof(struct sluice_vip_filter), 1, NULL);
	m->backends = mk_map(BPF_MAP_TYPE_ARRAY, "sl_backends", sizeof(__u32),
			     sizeof(struct sluice_backend), SLUICE_MAX_BACKENDS, NULL);
	m->config = mk_map(BPF_MAP_TYPE_ARRAY, "sl_config", sizeof(__u32),
			   sizeof(struct sluice_config), 1, NULL);
	inner = mk_map(BPF_MAP_TYPE_ARRAY, "sl_ring", sizeof(__u32), sizeof(__u32),
		       RING, NULL);
	outer.inner_map_fd = inner;
	m->rings = mk_map(BPF_MAP_TYPE_ARRAY_OF_MAPS, "sl_rings", sizeof(__u32),
			  sizeof(__u32), SLUICE_MAX_VIPS * 2, &outer);
	m->fb_rings = mk_map(BPF_MAP_TYPE_ARRAY_OF_MAPS, "sl_fb_rings",
			     sizeof(__u32), sizeof(__u32), SLUICE_MAX_VIPS * 2,
			     &outer);
	close(inner);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[128];
	__u8 fam;

	CHECK_NONNULL(CHECK_HERE, f);
	mk_maps(&f->maps);
	f->cfg.maglev_seed = 42;
	CHECK_INT(CHECK_HERE,
		  sl_parse_addr("198.18.0.1", &f->cfg.source_v4, &fam), 0);
	f->dp.maps = &f->maps;
	f->dp.cfg = &f->cfg;
	f->dp.fp_changed = fp_changed;
	f->dp.arg = f;
	sl_state_init(&f->st);
	CHECK_INT(CHECK_HERE, sl_parse_vip(VIP, &f->vip, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	const struct sl_maps *m = &f->maps;

	sl_state_free(&f->st);
	close(m->vips);
	close(m->vip_addrs);
	close(m->backends);
	close(m->config);
	close(m->rings);
	close(m->fb_rings);
	free(f);
	return 0;
}

static void sync_ok(struct fixture *f)
{
	char err[256] = "";
	int rc = sl_dp_sync(&f->dp, &f->st, err, sizeof(err));

	if (rc)
		fail_msg("sl_dp_sync: %d %s", rc, err);
}

static void be_add(struct fixture *f, const char *addr, __u32 weight)
{
	struct sluice_addr a;
	__u8 fam;
	char err[128];

	CHECK_INT(CHECK_HERE, sl_parse_addr(addr, &a, &fam), 0);
	CHECK_INT(CHECK_HERE,
		  sl_state_be_add(&f->st, &f->vip, &a, fam, weight, err,
				  sizeof(err)),
		  0);
}

static struct sl_be *be_of(struct fixture *f, const char *addr)
{
	struct sl_vip *v = sl_state_find_vip(&f->st, &f->vip);
	struct sluice_addr a;
	__u8 fam;

	CHECK_NONNULL(CHECK_HERE, v);
	CHECK_INT(CHECK_HERE, sl_parse_addr(addr, &a, &fam), 0);
	return sl_vip_find_be(v, &a, fam);
}

static void be_entry(struct fixture *f, __u32 id, struct sluice_backend *be)
{
	CHECK_INT(CHECK_HERE, sl_backend_get(&f->maps, id, be), 0);
}

/*
 * The live generation of the VIP's table in outer map @outer (sl_rings or
 * sl_fb_rings), and how often it names each id. -ENOENT: no such table.
 */
static int table_of(struct fixture *f, int outer, __u32 *gen,
		    __u32 count[SLUICE_MAX_BACKENDS])
{
	struct sluice_vip_key key;
	struct sluice_vip vip;
	__u32 idx, inner_id, slot, id;
	int fd;

	sl_vip_key_from_spec(&f->vip, &key);
	if (sl_vip_get(&f->maps, &key, &vip))
		return -ENOENT;
	*gen = vip.gen;
	idx = SLUICE_RING_INDEX(vip.vip_id, vip.gen);
	if (bpf_map_lookup_elem(outer, &idx, &inner_id))
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(inner_id);
	CHECK_RC(CHECK_HERE, fd);
	memset(count, 0, sizeof(__u32) * SLUICE_MAX_BACKENDS);
	for (slot = 0; slot < RING; slot++) {
		CHECK_INT(CHECK_HERE, bpf_map_lookup_elem(fd, &slot, &id), 0);
		CHECK(CHECK_HERE, id < SLUICE_MAX_BACKENDS);
		count[id]++;
	}
	close(fd);
	return 0;
}

static int live_table(struct fixture *f, __u32 *gen,
		      __u32 count[SLUICE_MAX_BACKENDS])
{
	return table_of(f, f->maps.rings, gen, count);
}

/* The VIP entry's flags (SLUICE_VIP_F_*). */
static __u32 vip_flags(struct fixture *f)
{
	struct sluice_vip_key key;
	struct sluice_vip vip;

	sl_vip_key_from_spec(&f->vip, &key);
	CHECK_INT(CHECK_HERE, sl_vip_get(&f->maps, &key, &vip), 0);
	return vip.flags;
}

static void vip_filter_has(struct fixture *f, const char *addr, bool want)
{
	struct sluice_vip_filter vf;
	struct sluice_addr a;
	__u32 zero = 0, bit;
	__u8 fam;

	CHECK_INT(CHECK_HERE, sl_parse_addr(addr, &a, &fam), 0);
	CHECK_INT(CHECK_HERE,
		  bpf_map_lookup_elem(f->maps.vip_addrs, &zero, &vf), 0);
	CHECK_INT(CHECK_HERE, vf.ready, 1);
	bit = sluice_vip_filter_bit(&a, fam);
	CHECK_INT(CHECK_HERE, !!(vf.bits[bit / 64] & (1ULL << (bit % 64))),
		  want);
}

/* Add a VIP with two backends: entries, table, config, filter. */
static void test_add(void **state)
{
	static __u32 count[SLUICE_MAX_BACKENDS];
	struct fixture *f = *state;
	struct sluice_backend be;
	struct sluice_config c;
	__u32 zero = 0, gen, a, b;
	char err[128];

	CHECK_INT(CHECK_HERE,
		  sl_state_vip_add(&f->st, &f->vip, err, sizeof(err)), 0);
	be_add(f, BE_A, 100);
	be_add(f, BE_B, 100);
	sync_ok(f);
	a = be_of(f, BE_A)->id;
	b = be_of(f, BE_B)->id;

	be_entry(f, a, &be);
	CHECK_INT(CHECK_HERE, be.flags, SLUICE_BE_F_IN_USE);
	CHECK_INT(CHECK_HERE, be.epoch, 1);
	CHECK_INT(CHECK_HERE, be.vip_id,
		  sl_state_find_vip(&f->st, &f->vip)->id);
	CHECK_MEM(CHECK_HERE, &be.addr, &be_of(f, BE_A)->addr, sizeof(be.addr));
	be_entry(f, b, &be);
	CHECK_INT(CHECK_HERE, be.flags, SLUICE_BE_F_IN_USE);

	CHECK_INT(CHECK_HERE, live_table(f, &gen, count), 0);
	CHECK_INT(CHECK_HERE, count[a] + count[b], RING);
	CHECK(CHECK_HERE, count[a] > RING / 3 && count[b] > RING / 3);
	CHECK_INT_NE(CHECK_HERE, f->dp.table_fp[be.vip_id], 0);
	CHECK_INT(CHECK_HERE, f->fp_calls, 1);

	CHECK_INT(CHECK_HERE, bpf_map_lookup_elem(f->maps.config, &zero, &c),
		  0);
	CHECK_INT(CHECK_HERE, c.src4, f->cfg.source_v4.addr[0]);
	CHECK_INT(CHECK_HERE, c.ring_size, RING);
	CHECK_INT(CHECK_HERE, c.hash_seed, 7);
	vip_filter_has(f, "198.18.0.100", true);

	/* Nothing changed: the table is not republished. */
	sync_ok(f);
	CHECK_INT(CHECK_HERE, live_table(f, &a, count), 0);
	CHECK_INT(CHECK_HERE, a, gen);
}

/* A weight change republishes the table under the other generation. */
static void test_weight(void **state)
{
	static __u32 count[SLUICE_MAX_BACKENDS];
	struct fixture *f = *state;
	__u32 gen0, gen1, old, a, b;
	char err[128];

	test_add(state);
	CHECK_INT(CHECK_HERE, live_table(f, &gen0, count), 0);
	a = be_of(f, BE_A)->id;
	b = be_of(f, BE_B)->id;
	CHECK_INT(CHECK_HERE,
		  sl_state_be_set_weight(&f->st, &f->vip, &be_of(f, BE_B)->addr,
					 SLUICE_AF_INET, 300, &old, err,
					 sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, old, 100);
	sync_ok(f);
	CHECK_INT(CHECK_HERE, live_table(f, &gen1, count), 0);
	CHECK_INT_NE(CHECK_HERE, gen0, gen1);
	CHECK_INT(CHECK_HERE, count[a] + count[b], RING);
	CHECK(CHECK_HERE, count[b] > 2 * count[a]);

	/* Weight 0: out of the table, its entry stays in use. */
	CHECK_INT(CHECK_HERE,
		  sl_state_be_set_weight(&f->st, &f->vip, &be_of(f, BE_B)->addr,
					 SLUICE_AF_INET, 0, &old, err,
					 sizeof(err)),
		  0);
	sync_ok(f);
	CHECK_INT(CHECK_HERE, live_table(f, &gen0, count), 0);
	CHECK_INT(CHECK_HERE, count[a], RING);
}

/* A draining backend leaves the table, keeps its entry, flagged. */
static void test_drain(void **state)
{
	static __u32 count[SLUICE_MAX_BACKENDS];
	struct fixture *f = *state;
	struct sluice_backend be;
	__u32 gen, a, b;
	char err[128];

	test_add(state);
	a = be_of(f, BE_A)->id;
	b = be_of(f, BE_B)->id;
	CHECK_INT(CHECK_HERE,
		  sl_state_be_drain(&f->st, &f->vip, &be_of(f, BE_B)->addr,
				    SLUICE_AF_INET, 1000, 60000, err,
				    sizeof(err)),
		  0);
	sync_ok(f);
	be_entry(f, b, &be);
	CHECK(CHECK_HERE, be.flags & SLUICE_BE_F_IN_USE);
	CHECK(CHECK_HERE, be.flags & SLUICE_BE_F_DRAINING);
	CHECK_INT(CHECK_HERE, be.epoch, 1);
	CHECK_INT(CHECK_HERE, live_table(f, &gen, count), 0);
	CHECK_INT(CHECK_HERE, count[a], RING);
	CHECK_INT(CHECK_HERE, count[b], 0);
	/* The pre-drain table, switched on by the same flip: both again. */
	CHECK(CHECK_HERE, vip_flags(f) & SLUICE_VIP_F_FALLBACK);
	CHECK_INT(CHECK_HERE, table_of(f, f->maps.fb_rings, &gen, count), 0);
	CHECK_INT(CHECK_HERE, count[a] + count[b], RING);
	CHECK(CHECK_HERE, count[a] > RING / 3 && count[b] > RING / 3);

	CHECK_INT(CHECK_HERE,
		  sl_state_be_undrain(&f->st, &f->vip, &be_of(f, BE_B)->addr,
				      SLUICE_AF_INET, err, sizeof(err)),
		  0);
	sync_ok(f);
	be_entry(f, b, &be);
	CHECK_INT(CHECK_HERE, be.flags, SLUICE_BE_F_IN_USE);
	CHECK_INT(CHECK_HERE, live_table(f, &gen, count), 0);
	CHECK(CHECK_HERE, count[b] > 0);
	/* No drain left: the flag and the pre-drain table are gone. */
	CHECK_INT(CHECK_HERE, vip_flags(f) & SLUICE_VIP_F_FALLBACK, 0);
	CHECK_INT(CHECK_HERE, table_of(f, f->maps.fb_rings, &gen, count),
		  -ENOENT);
}

/* Deletes: the backend's id is freed (epoch kept), then the whole VIP. */
static void test_delete(void **state)
{
	static __u32 count[SLUICE_MAX_BACKENDS];
	struct fixture *f = *state;
	struct sluice_backend be;
	struct sluice_addr addr_b;
	__u32 gen, a, b, vip_id, idx;
	char err[128];

	test_add(state);
	a = be_of(f, BE_A)->id;
	b = be_of(f, BE_B)->id;
	addr_b = be_of(f, BE_B)->addr;
	vip_id = sl_state_find_vip(&f->st, &f->vip)->id;
	CHECK_INT(CHECK_HERE,
		  sl_state_be_del(&f->st, &f->vip, &addr_b, SLUICE_AF_INET, err,
				  sizeof(err)),
		  0);
	sync_ok(f);
	be_entry(f, b, &be);
	CHECK_INT(CHECK_HERE, be.flags, 0);
	CHECK_INT(CHECK_HERE, be.epoch, 1);
	CHECK_INT(CHECK_HERE, live_table(f, &gen, count), 0);
	CHECK_INT(CHECK_HERE, count[a], RING);

	CHECK_INT(CHECK_HERE,
		  sl_state_vip_del(&f->st, &f->vip, err, sizeof(err)), 0);
	sync_ok(f);
	CHECK_INT(CHECK_HERE, live_table(f, &gen, count), -ENOENT);
	be_entry(f, a, &be);
	CHECK_INT(CHECK_HERE, be.flags, 0);
	for (gen = 0; gen < 2; gen++) {
		idx = SLUICE_RING_INDEX(vip_id, gen);
		CHECK_INT_NE(CHECK_HERE,
			     bpf_map_lookup_elem(f->maps.rings, &idx, &b), 0);
	}
	CHECK_INT(CHECK_HERE, f->dp.table_sig[vip_id], 0);
	CHECK_INT(CHECK_HERE, f->dp.table_fp[vip_id], 0);
	vip_filter_has(f, "198.18.0.100", false);
}

/*
 * README "Limits": at most maglev.table_size backends per VIP. A table
 * full of backends gives each a slot; one more would get none, so the
 * sync refuses that state before writing anything (the VIP's table and
 * backend entries stay as they were).
 */
static void test_table_full(void **state)
{
	static __u32 count[SLUICE_MAX_BACKENDS];
	struct fixture *f = *state;
	struct sluice_backend be;
	__u32 gen, gen_after, i, id;
	char addr[32], err[256] = "";
	int rc;

	test_add(state);
	for (i = 2; i < RING; i++) {
		snprintf(addr, sizeof(addr), "198.19.%u.%u", i / 250,
			 i % 250 + 1);
		be_add(f, addr, 100);
	}
	sync_ok(f);
	CHECK_INT(CHECK_HERE, live_table(f, &gen, count), 0);
	for (i = 0; i < f->st.vips[0].n_bes; i++)
		CHECK_INT(CHECK_HERE, count[f->st.vips[0].bes[i].id], 1);

	be_add(f, "198.19.200.1", 100);
	id = be_of(f, "198.19.200.1")->id;
	rc = sl_dp_sync(&f->dp, &f->st, err, sizeof(err));
	CHECK_INT(CHECK_HERE, rc, -ENOSPC);
	CHECK_STR(
		CHECK_HERE, err,
		"VIP 198.18.0.100:80/tcp: 1022 backends do not fit a Maglev table of 1021 slots "
		"(at most one backend per slot; raise maglev.table_size, then restart sluiced)");
	be_entry(f, id, &be);
	CHECK_INT(CHECK_HERE, be.flags, 0);
	CHECK_INT(CHECK_HERE, live_table(f, &gen_after, count), 0);
	CHECK_INT(CHECK_HERE, gen_after, gen);
	CHECK_INT(CHECK_HERE, count[id], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
