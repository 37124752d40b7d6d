// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Userspace writers and readers of the balancer's maps (see maps.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps.h"
#include "sluice/hash.h"

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	int fd;

	if (!map)
		return -ENOENT;
	fd = bpf_map__fd(map);
	return fd < 0 ? -EBADF : fd;
}

/*
 * Give the outer map @name the inner-map template @tmpl (an fd, closed on
 * failure). libbpf 1.1 crashes resizing a BTF-defined inner map (it has
 * no object), and would otherwise build the template at the declared
 * size; it only needs it until the outer map is created.
 */
static int set_template(struct bpf_object *obj, const char *name, int tmpl)
{
	struct bpf_map *outer = bpf_object__find_map_by_name(obj, name);
	int err;

	if (tmpl < 0)
		return -errno;
	err = outer ? bpf_map__set_inner_map_fd(outer, tmpl) : -ENOENT;
	if (err)
		close(tmpl);
	return err;
}

/* The rings' template: its size is the one the program checks against. */
static int set_ring_template(struct bpf_object *obj, const char *name,
			     __u32 ring_size)
{
	return set_template(obj, name,
			    bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_ring_tmpl",
					   sizeof(__u32), sizeof(__u32),
					   ring_size, NULL));
}

/*
 * The shards' template: the program never depends on a hash's size, so
 * the smallest one will do. At the declared size it would cost about
 * 30 MB and the time to fill its free lists, at every load.
 */
static int set_shard_template(struct bpf_object *obj)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts,
		    .map_flags = BPF_F_NO_COMMON_LRU);

	return set_template(
		obj, SLUICE_MAP_FLOWS,
		bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "sl_flows_tmpl",
			       sizeof(struct sluice_flow_key),
			       sizeof(struct sluice_flow), 1, &opts));
}

__u32 sl_lru_entries(__u32 n, int cpus)
{
	if (cpus > 1 && n % cpus)
		n += cpus - n % cpus;
	return n;
}

__u32 sl_flow_shard_entries(__u32 table_size, int cpus)
{
	return sl_lru_entries(SLUICE_FLOW_SHARD_SIZE(table_size), cpus);
}

/* The skeleton map of sl_flows shard @i. */
static struct bpf_map *shard_map(struct bpf_object *obj, unsigned int i)
{
	char name[32];

	snprintf(name, sizeof(name), SLUICE_MAP_FLOW_SHARD "%u", i);
	return bpf_object__find_map_by_name(obj, name);
}

static int set_shard_sizes(struct bpf_object *obj, __u32 flows)
{
	int cpus = libbpf_num_possible_cpus();
	struct bpf_map *map;
	unsigned int i;
	int err;

	if (cpus < 0)
		return cpus;
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++) {
		map = shard_map(obj, i);
		if (!map)
			return -ENOENT;
		err = bpf_map__set_max_entries(
			map, sl_flow_shard_entries(flows, cpus));
		if (err)
			return err;
	}
	return 0;
}

int sl_maps_set_sizes(struct bpf_object *obj, __u32 ring_size, __u32 flows,
		      __u32 new_flows, __u32 drain_table)
{
	struct bpf_map *map;
	int err;

	err = set_ring_template(obj, SLUICE_MAP_RINGS, ring_size);
	if (!err)
		err = set_ring_template(obj, SLUICE_MAP_FB_RINGS, ring_size);
	if (err)
		return err;
	err = set_shard_template(obj);
	if (!err)
		err = set_shard_sizes(obj, flows);
	if (err)
		return err;
	map = bpf_object__find_map_by_name(obj, SLUICE_MAP_NEW);
	if (!map)
		return -ENOENT;
	err = bpf_map__set_max_entries(map, new_flows);
	if (err)
		return err;
	map = bpf_object__find_map_by_name(obj, SLUICE_MAP_NEW_TAGS);
	if (!map)
		return -ENOENT;
	err = bpf_map__set_max_entries(map, new_flows / SLUICE_NEW_WAYS);
	if (err)
		return err;
	map = bpf_object__find_map_by_name(obj, SLUICE_MAP_DRAIN_TABLE);
	if (!map)
		return -ENOENT;
	return bpf_map__set_max_entries(map, drain_table);
}

static int ret_errno(int rc)
{
	return rc < 0 ? -errno : 0;
}

/* Point @tail[@key] at this object's program @name (bpf/lib/maps.h). */
static int tail_set_one(struct bpf_object *obj, const char *tail, __u32 key,
			const char *name)
{
	struct bpf_program *prog;
	int map, fd;

	prog = bpf_object__find_program_by_name(obj, name);
	map = map_fd(obj, tail);
	if (!prog || map < 0)
		return -ENOENT;
	fd = bpf_program__fd(prog);
	if (fd < 0)
		return -EBADF;
	return ret_errno(bpf_map_update_elem(map, &key, &fd, BPF_ANY));
}

bool sl_map_private(const char *name)
{
	return !strcmp(name, SLUICE_MAP_TX_PORTS) ||
	       !strcmp(name, SLUICE_MAP_TAIL_SLOW) ||
	       !strcmp(name, SLUICE_MAP_HANDOFF);
}

static int tail_set(struct bpf_object *obj)
{
	int err = tail_set_one(obj, SLUICE_MAP_TAIL_SLOW, 0, SLUICE_PROG_SLOW);

	return err ? err :
		     tail_set_one(obj, SLUICE_MAP_TAIL, SLUICE_TAIL_FALLBACK,
				  SLUICE_PROG_FALLBACK);
}

/*
 * Find the sl_flows shards and put each in its slot of sl_flows, which
 * the program reads (a slot already holding it, as after a restart over
 * pinned maps, is simply written again).
 */
static int shards_set(struct bpf_object *obj, struct sl_maps *m)
{
	int outer = map_fd(obj, SLUICE_MAP_FLOWS), rc;
	struct bpf_map *map;
	__u32 i;

	if (outer < 0)
		return outer;
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++) {
		map = shard_map(obj, i);
		m->flow_shard[i] = map ? bpf_map__fd(map) : -ENOENT;
		if (m->flow_shard[i] < 0)
			return map ? -EBADF : -ENOENT;
		rc = ret_errno(bpf_map_update_elem(outer, &i, &m->flow_shard[i],
						   BPF_ANY));
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * The kernel's size, not the one asked for: it rounds a per-CPU LRU's
 * (BPF_F_NO_COMMON_LRU) up to a multiple of the possible CPUs.
 */
static __u64 shards_capacity(const struct sl_maps *m)
{
	struct bpf_map_info info;
	__u64 sum = 0;
	unsigned int i;
	__u32 len;

	for (i = 0; i < SLUICE_FLOW_SHARDS; i++) {
		len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(m->flow_shard[i], &info, &len))
			sum += info.max_entries;
	}
	return sum;
}

/* Flows of shard @shard among @n: gathered into @k and @v, batch-written. */
static int put_shard(const struct sl_maps *m, unsigned int shard,
		     const struct sluice_flow_key *keys,
		     const struct sluice_flow *vals, __u32 n,
		     struct sluice_flow_key *k, struct sluice_flow *v)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 i, count = 0, want;

	for (i = 0; i < n; i++) {
		if (sluice_flow_shard(&keys[i]) != shard)
			continue;
		k[count] = keys[i];
		v[count++] = vals[i];
	}
	if (!count)
		return 0;
	want = count;
	if (bpf_map_update_batch(m->flow_shard[shard], k, v, &count, &opts))
		return -errno;
	return count == want ? 0 : -EIO;
}

int sl_flows_put_batch(const struct sl_maps *m,
		       const struct sluice_flow_key *keys,
		       const struct sluice_flow *vals, __u32 n)
{
	struct sluice_flow_key *k = malloc(n * sizeof(*k) + 1);
	struct sluice_flow *v = malloc(n * sizeof(*v) + 1);
	unsigned int i;
	int rc = k && v ? 0 : -ENOMEM;

	for (i = 0; !rc && i < SLUICE_FLOW_SHARDS; i++)
		rc = put_shard(m, i, keys, vals, n, k, v);
	free(k);
	free(v);
	return rc;
}

int sl_maps_open(struct bpf_object *obj, __u32 ring_size, struct sl_maps *m)
{
	struct {
		int *fd;
		const char *name;
	} tab[] = {
		{ &m->vips, SLUICE_MAP_VIPS },
		{ &m->vip_addrs, SLUICE_MAP_VIP_ADDRS },
		{ &m->backends, SLUICE_MAP_BACKENDS },
		{ &m->rings, SLUICE_MAP_RINGS },
		{ &m->fb_rings, SLUICE_MAP_FB_RINGS },
		{ &m->new_map, SLUICE_MAP_NEW },
		{ &m->new_tags, SLUICE_MAP_NEW_TAGS },
		{ &m->drain_table, SLUICE_MAP_DRAIN_TABLE },
		{ &m->config, SLUICE_MAP_CONFIG },
		{ &m->vip_stats, SLUICE_MAP_VIP_STATS },
		{ &m->be_stats, SLUICE_MAP_BE_STATS },
		{ &m->reasons, SLUICE_MAP_REASONS },
		{ &m->tx_ports, SLUICE_MAP_TX_PORTS },
	};
	size_t i;
	int rc;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		*tab[i].fd = map_fd(obj, tab[i].name);
		if (*tab[i].fd < 0)
			return *tab[i].fd;
	}
	rc = tail_set(obj);
	if (!rc)
		rc = shards_set(obj, m);
	if (rc)
		return rc;
	m->ring_size = ring_size;
	m->flow_capacity = shards_capacity(m);
	m->new_slots = bpf_map__max_entries(
		bpf_object__find_map_by_name(obj, SLUICE_MAP_NEW));
	return 0;
}

int sl_vip_get(const struct sl_maps *m, const struct sluice_vip_key *key,
	       struct sluice_vip *vip)
{
	return ret_errno(bpf_map_lookup_elem(m->vips, key, vip));
}

int sl_vip_del(const struct sl_maps *m, const struct sluice_vip_key *key)
{
	return ret_errno(bpf_map_delete_elem(m->vips, key));
}

/*
 * The filter is computed from sl_vips itself, not from the caller's view,
 * so it can never miss an address entry that is there: a set bit too many
 * only sends a packet down the normal path, a missing one would pass VIP
 * traffic. One array update replaces the whole value.
 */
int sl_vip_filter_sync(const struct sl_maps *m)
{
	struct sluice_vip_filter vf;
	struct sluice_vip_key key, next, *prev = NULL;
	struct sluice_vip val;
	__u32 zero = 0, bit;

	memset(&vf, 0, sizeof(vf));
	while (!bpf_map_get_next_key(m->vips, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->vips, &key, &val) ||
		    !(val.flags & SLUICE_VIP_F_ADDR_ONLY))
			continue;
		bit = sluice_vip_filter_bit(&key.addr, key.family);
		vf.bits[bit / 64] |= 1ULL << (bit % 64);
	}
	vf.ready = 1;
	return ret_errno(
		bpf_map_update_elem(m->vip_addrs, &zero, &vf, BPF_ANY));
}

int sl_vip_addr_set(const struct sl_maps *m, const struct sluice_addr *addr,
		    __u8 family, int present)
{
	struct sluice_vip_key key;
	struct sluice_vip val;
	int rc;

	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.addr = *addr;
	key.family = family;
	val.flags = SLUICE_VIP_F_ADDR_ONLY;
	if (present)
		return ret_errno(bpf_map_update_elem(m->vips, &key, &val, BPF_ANY));
	rc = ret_errno(bpf_map_delete_elem(m->vips, &key));
	return rc == -ENOENT ? 0 : rc;
}

/* A fresh ARRAY matching the ring template exactly, filled from @table. */
static int ring_create(const struct sl_maps *m, const __u32 *table)
{
	__u32 *keys, count = m->ring_size, i;
	int fd, rc;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_ring", sizeof(__u32),
			    sizeof(__u32), m->ring_size, NULL);
	if (fd < 0)
		return -errno;
	keys = malloc(sizeof(*keys) * m->ring_size);
	if (!keys) {
		close(fd);
		return -ENOMEM;
	}
	for (i = 0; i < m->ring_size; i++)
		keys[i] = i;
	rc = ret_errno(bpf_map_update_batch(fd, keys, table, &count, NULL));
	free(keys);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Put a fresh ring filled from @table at @idx of outer map @outer. */
static int ring_put(const struct sl_maps *m, int outer, __u32 idx,
		    const __u32 *table)
{
	int fd = ring_create(m, table), rc;

	if (fd < 0)
		return fd;
	rc = ret_errno(bpf_map_update_elem(outer, &idx, &fd, BPF_ANY));
	close(fd); /* the outer map holds the reference now */
	return rc;
}

int sl_ring_publish(const struct sl_maps *m, const struct sluice_vip_key *key,
		    __u32 vip_id, __u16 vip_flags, const __u32 *table,
		    const __u32 *fb_table)
{
	struct sluice_vip vip;
	__u32 idx;
	int rc;

	if (vip_id >= SLUICE_MAX_VIPS)
		return -E2BIG;
	if (sl_vip_get(m, key, &vip) == 0 && vip.vip_id == vip_id)
		vip.gen = !vip.gen;
	else
		memset(&vip, 0, sizeof(vip));
	vip.vip_id = vip_id;
	vip.flags = vip_flags & ~SLUICE_VIP_F_FALLBACK;

	idx = SLUICE_RING_INDEX(vip_id, vip.gen);
	rc = ring_put(m, m->rings, idx, table);
	if (!rc && fb_table) {
		rc = ring_put(m, m->fb_rings, idx, fb_table);
		vip.flags |= SLUICE_VIP_F_FALLBACK;
	} else if (!rc) {
		/* Not read without the flag: dropped only to free it. */
		bpf_map_delete_elem(m->fb_rings, &idx);
	}
	if (rc)
		return rc;
	return ret_errno(bpf_map_update_elem(m->vips, key, &vip, BPF_ANY));
}

int sl_ring_clear(const struct sl_maps *m, __u32 vip_id)
{
	__u32 gen, idx;
	int rc;

	for (gen = 0; gen < 2; gen++) {
		idx = SLUICE_RING_INDEX(vip_id, gen);
		bpf_map_delete_elem(m->fb_rings, &idx);
		rc = ret_errno(bpf_map_delete_elem(m->rings, &idx));
		if (rc && rc != -ENOENT)
			return rc;
	}
	return 0;
}

int sl_backend_set(const struct sl_maps *m, __u32 id,
		   const struct sluice_backend *be)
{
	return ret_errno(bpf_map_update_elem(m->backends, &id, be, BPF_ANY));
}

int sl_backend_get(const struct sl_maps *m, __u32 id, struct sluice_backend *be)
{
	return ret_errno(bpf_map_lookup_elem(m->backends, &id, be));
}

/* Both buckets of the flow, every way, as the datapath searches them. */
int sl_new_slot_get(int fd, __u32 slots, __u32 seed,
		    const struct sluice_flow_key *key, struct sluice_flow *f,
		    __u32 *idx)
{
	__u32 h = sluice_flow_hash(key, seed), i, w, c;
	struct sluice_new_slot s;

	for (c = 0; c < 2; c++) {
		for (w = 0; w < SLUICE_NEW_WAYS; w++) {
			i = sluice_new_bucket(h, slots, c) + w;
			if (bpf_map_lookup_elem(fd, &i, &s))
				return -errno;
			if (memcmp(&s.key, key, sizeof(*key)))
				continue;
			*f = s.flow;
			if (idx)
				*idx = i;
			return 0;
		}
	}
	return -ENOENT;
}

int sl_new_get(const struct sl_maps *m, const struct sluice_flow_key *key,
	       struct sluice_flow *f)
{
	return sl_new_slot_get(m->new_map, m->new_slots, m->hash_seed, key, f,
			       NULL);
}

int sl_config_set(const struct sl_maps *m, const struct sluice_config *cfg)
{
	__u32 zero = 0;

	return ret_errno(bpf_map_update_elem(m->config, &zero, cfg, BPF_ANY));
}

__u32 sl_clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u32)(ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000);
}

int sl_tx_port_add(const struct sl_maps *m, __u32 ifindex)
{
	return ret_errno(bpf_map_update_elem(m->tx_ports, &ifindex, &ifindex,
					     BPF_ANY));
}

int sl_percpu_sum(int fd, __u32 key, size_t n, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	int cpu, rc;
	size_t i;

	if (ncpu < 0)
		return ncpu;
	vals = calloc((size_t)ncpu * n, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	rc = ret_errno(bpf_map_lookup_elem(fd, &key, vals));
	memset(out, 0, n * sizeof(*out));
	for (cpu = 0; !rc && cpu < ncpu; cpu++)
		for (i = 0; i < n; i++)
			out[i] += vals[cpu * n + i];
	free(vals);
	return rc;
}

int sl_vip_stats_read(const struct sl_maps *m, __u32 vip_id,
		      struct sluice_vip_stats *out)
{
	return sl_percpu_sum(m->vip_stats, vip_id, sizeof(*out) / 8, (__u64 *)out);
}

int sl_be_stats_read(const struct sl_maps *m, __u32 be_id,
		     struct sluice_be_stats *out)
{
	return sl_percpu_sum(m->be_stats, be_id, sizeof(*out) / 8, (__u64 *)out);
}

int sl_reasons_read(const struct sl_maps *m, __u64 out[SLUICE_R_MAX])
{
	__u32 r;
	int rc;

	for (r = 0; r < SLUICE_R_MAX; r++) {
		rc = sl_percpu_sum(m->reasons, r, 1, &out[r]);
		if (rc)
			return rc;
	}
	return 0;
}

#define SL_LABEL(name, verdict, label, desc) label,
static const char *const reason_labels[] = { SLUICE_REASONS(SL_LABEL) };

const char *sl_reason_label(int reason)
{
	if (reason < 0 || reason >= SLUICE_R_MAX)
		return "unknown";
	return reason_labels[reason];
}

const char *sl_verdict_name(int verdict)
{
	switch (verdict) {
	case SLUICE_V_DROP:
		return "drop";
	case SLUICE_V_PASS:
		return "pass";
	case SLUICE_V_TX:
		return "tx";
	case SLUICE_V_REDIRECT:
		return "redirect";
	default:
		return "aborted";
	}
}
