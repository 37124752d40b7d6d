/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make bench, part 3: the sweeper (user/lib/sweep.c) over a full flow
 * table, and the kernel memory each tracked flow costs.
 *
 * For each size N the balancer is loaded unpinned with sl_flows sized N,
 * filled with N synthetic established flows through
 * bpf_map_update_batch(), then swept REPS times with sl_sweep(), the
 * daemon's own code, with timeouts nothing reaches: a steady-state sweep
 * that reads every entry and deletes none. Per sweep: wall time and the
 * CPU time of the sweeping thread (what sluiced spends per sweep_interval).
 *
 * sl_flows is an LRU hash with per-CPU lists (BPF_F_NO_COMMON_LRU): each
 * possible CPU owns max_entries / ncpus preallocated entries, and an
 * insert on a CPU whose list is empty evicts from that list. The fill is
 * therefore spread over every CPU, as RSS spreads real flows.
 *
 * Memory: the kernel's own account of each map (memlock in fdinfo), and
 * /proc/meminfo before and after the load. LRU maps are preallocated, so
 * the memory is taken at load, not at fill. Other jobs on the machine
 * move MemAvailable; memlock is the exact figure.
 *
 * Usage: bench_sweep [REPS] N...   (default 3 100000 1000000 10000000)
 */
#include "bench.h"

#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice.skel.h"
#include "maps.h"
#include "sweep.h"

#define BS_CHUNK	8192
#define BS_MAX_REPS	20

struct meminfo {
	long long avail_kb;
	long long free_kb;
	long long percpu_kb;
	long long vmalloc_kb;
};

static long long meminfo_field(const char *name)
{
	char line[256];
	long long v = -1;
	size_t len = strlen(name);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':') {
			v = atoll(line + len + 1);
			break;
		}
	fclose(f);
	return v;
}

static void meminfo_read(struct meminfo *m)
{
	m->avail_kb = meminfo_field("MemAvailable");
	m->free_kb = meminfo_field("MemFree");
	m->percpu_kb = meminfo_field("Percpu");
	m->vmalloc_kb = meminfo_field("VmallocUsed");
}

/* The kernel's memory account of a map (fdinfo "memlock:"), in bytes. */
static long long map_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "memlock:", 8))
			v = atoll(line + 8);
	fclose(f);
	return v;
}

/* Synthetic flow @i: a distinct IPv4 client of one TCP VIP. */
static void flow_make(__u32 i, __u32 now, struct sluice_flow_key *k,
		      struct sluice_flow *f)
{
	memset(k, 0, sizeof(*k));
	k->family = SLUICE_AF_INET;
	k->proto = IPPROTO_TCP;
	/* 198.18.0.0/15 holds 2^17 addresses; 2^7 ports each > 10M flows. */
	k->src.addr[0] = htonl(0xc6120000 | (i & 0x1ffff));
	k->sport = htons(1024 + (i >> 17));
	k->dst.addr[0] = htonl(0xc6120064);	/* 198.18.0.100 */
	k->dport = htons(80);
	memset(f, 0, sizeof(*f));
	f->backend_id = 1 + i % 3;
	f->last_seen = now;
	f->created = now;
	f->state = SLUICE_FLOW_OPEN;
}

/* Insert flows [from, to) from the current CPU in batches. */
static void fill(const struct sl_maps *m, __u32 from, __u32 to, __u32 now)
{
	static struct sluice_flow_key keys[BS_CHUNK];
	static struct sluice_flow vals[BS_CHUNK];
	__u32 i, n;
	int rc;

	while (from < to) {
		n = to - from < BS_CHUNK ? to - from : BS_CHUNK;
		for (i = 0; i < n; i++)
			flow_make(from + i, now, &keys[i], &vals[i]);
		rc = sl_flows_put_batch(m, keys, vals, n);
		if (rc)
			bench_die("cannot write flows: %s", strerror(-rc));
		from += n;
	}
}

static void one_size(__u32 n, int reps, int first)
{
	static struct sl_sweep_result res;
	static bool draining[SLUICE_MAX_BACKENDS];
	struct sl_sweep_cfg cfg = {
		.tcp_idle_ms = 15 * 60 * 1000, .udp_idle_ms = 30 * 1000,
		.close_grace_ms = 300, .close_linger_ms = 2000, .handshake_ms = 3000,
		.unconfirmed_ms = 10 * 1000,
	};
	struct meminfo m0, m1, m2;
	struct sluice_bpf *skel;
	struct sl_maps maps;
	struct bpf_map *map;
	int ncpu = libbpf_num_possible_cpus(), cpu, r, err;
	long long total_memlock = 0;
	__u64 t0, fill_ns, c0;
	__u32 now, from, to;

	meminfo_read(&m0);
	skel = sluice_bpf__open();
	if (!skel)
		bench_die("sluice_bpf__open: %s", strerror(errno));
	err = sl_maps_set_sizes(skel->obj, SLUICE_RING_SIZE_DEFAULT, n,
				SLUICE_NEW_FLOWS_DEFAULT,
				SLUICE_DRAIN_TABLE_DEFAULT);
	if (!err)
		err = sluice_bpf__load(skel);
	if (err) {
		/* Say so rather than fail the whole bench: 10M may not fit. */
		printf("%s  {\"flows\": %u, \"error\": \"load: %s\", "
		       "\"mem_available_kb\": %lld}", first ? "" : ",\n", n,
		       strerror(-err), m0.avail_kb);
		sluice_bpf__destroy(skel);
		return;
	}
	meminfo_read(&m1);
	err = sl_maps_open(skel->obj, SLUICE_RING_SIZE_DEFAULT, &maps);
	if (err)
		bench_die("sl_maps_open: %s", strerror(-err));
	now = sl_clock_now();

	t0 = bench_now_ns();
	for (cpu = 0, from = 0; cpu < ncpu; cpu++, from = to) {
		to = cpu == ncpu - 1 ? n : from + n / ncpu;
		bench_pin_cpu(cpu);
		fill(&maps, from, to, now);
	}
	fill_ns = bench_now_ns() - t0;
	meminfo_read(&m2);

	printf("%s  {\"flows\": %u, \"ncpus\": %d, \"fill_s\": %.3f, ",
	       first ? "" : ",\n", n, ncpu, fill_ns / 1e9);
	printf("\"meminfo_kb\": {\"before\": {\"avail\": %lld, \"free\": %lld, "
	       "\"percpu\": %lld, \"vmalloc\": %lld}, \"loaded\": {\"avail\": "
	       "%lld, \"free\": %lld, \"percpu\": %lld, \"vmalloc\": %lld}, "
	       "\"filled\": {\"avail\": %lld, \"free\": %lld, \"percpu\": %lld, "
	       "\"vmalloc\": %lld}}, ",
	       m0.avail_kb, m0.free_kb, m0.percpu_kb, m0.vmalloc_kb,
	       m1.avail_kb, m1.free_kb, m1.percpu_kb, m1.vmalloc_kb,
	       m2.avail_kb, m2.free_kb, m2.percpu_kb, m2.vmalloc_kb);
	printf("\"memlock\": {");
	bpf_object__for_each_map(map, skel->obj) {
		long long ml = map_memlock(bpf_map__fd(map));

		if (ml < 0)
			continue;
		total_memlock += ml;
		printf("\"%s\": %lld, ", bpf_map__name(map), ml);
	}
	printf("\"total\": %lld}, \"sweeps\": [", total_memlock);

	bench_pin_cpu(0);
	for (r = 0; r < reps; r++) {
		c0 = bench_thread_cpu_ns();
		t0 = bench_now_ns();
		err = sl_sweep(&maps, &cfg, draining, &res);
		if (err)
			bench_die("sl_sweep: %s", strerror(-err));
		printf("%s{\"wall_ms\": %.2f, \"cpu_ms\": %.2f, "
		       "\"entries\": %llu, \"expired\": %llu}", r ? ", " : "",
		       (bench_now_ns() - t0) / 1e6,
		       (bench_thread_cpu_ns() - c0) / 1e6,
		       (unsigned long long)res.entries,
		       (unsigned long long)res.expired);
		fflush(stdout);
	}
	printf("]}");
	sluice_bpf__destroy(skel);
}

int main(int argc, char **argv)
{
	static const __u32 def[] = { 100000, 1000000, 10000000 };
	int reps = argc > 1 ? atoi(argv[1]) : 3, i, n;

	if (reps < 1 || reps > BS_MAX_REPS)
		bench_die("usage: bench_sweep [REPS 1..%d] N...", BS_MAX_REPS);
	libbpf_set_print(NULL);
	printf("{\"bench\": \"sweep\", \"reps\": %d, \"sizes\": [\n", reps);
	n = argc > 2 ? argc - 2 : 3;
	for (i = 0; i < n; i++) {
		__u32 size = argc > 2 ? (__u32)atol(argv[i + 2]) : def[i];

		one_size(size, reps, i == 0);
		fflush(stdout);
		/* Let RCU free the last table before the next is measured. */
		usleep(300 * 1000);
	}
	printf("\n]}\n");
	return 0;
}
