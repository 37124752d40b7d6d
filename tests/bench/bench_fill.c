/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make bench, drain lag at size: put N background flows into a running
 * instance's sl_flows, so the drain-signal lag can be measured with a big
 * flow table (scripts/bench.sh, part drainlag). The flows are confirmed,
 * open and fresh, belong to one backend id that is not drained, and use
 * client addresses in 198.19.0.0/16 to a VIP address no client uses
 * (198.18.0.250): they are counted and swept like real flows but never
 * see a packet. Inserted in batches; the sweeper expires them after
 * tcp_idle_timeout.
 *
 * Spread over every CPU (sl_flows has a free list per CPU), and checked:
 * it fails when the table kept fewer than N of them.
 *
 * Usage: bench_fill PIN_DIR N BACKEND_ID
 * Prints {"filled": N, "present": P, "cpus": C, "seconds": S}.
 */
#include "bench.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice/abi.h"
#include "maps.h"

#define BF_CHUNK 8192

static void flow_make(__u32 i, __u32 be, __u8 epoch, __u32 now,
		      struct sluice_flow_key *k, struct sluice_flow *f)
{
	memset(k, 0, sizeof(*k));
	k->family = SLUICE_AF_INET;
	k->proto = IPPROTO_TCP;
	/* 2^16 addresses in 198.19.0.0/16, then the source port: 4M flows. */
	k->src.addr[0] = htonl(0xc6130000 | (i & 0xffff));
	k->sport = htons(1024 + (i >> 16));
	k->dst.addr[0] = htonl(0xc61200fa);	/* 198.18.0.250 */
	k->dport = htons(80);
	memset(f, 0, sizeof(*f));
	f->backend_id = be;
	f->epoch = epoch;
	f->last_seen = now;
	f->created = now;
	f->state = SLUICE_FLOW_OPEN;
	f->flags = SLUICE_FLOW_F_CONFIRMED;
}

/*
 * Fill flows [from, from + n) into sl_flows, then count how many of them
 * are there. sl_flows keeps a free list per CPU (no common LRU), so the
 * caller spreads the fill over every CPU; counting afterwards tells
 * whether the table evicted any of them.
 */
static __u32 fill_range(const struct sl_maps *flows, __u32 from, __u32 n,
			__u32 be, __u8 epoch, __u32 now)
{
	static struct sluice_flow_key keys[BF_CHUNK];
	static struct sluice_flow vals[BF_CHUNK];
	__u32 i, at, chunk, present = 0;
	struct sluice_flow f;
	int rc;

	for (at = from; at < from + n; at += chunk) {
		chunk = from + n - at < BF_CHUNK ? from + n - at : BF_CHUNK;
		for (i = 0; i < chunk; i++)
			flow_make(at + i, be, epoch, now, &keys[i], &vals[i]);
		rc = sl_flows_put_batch(flows, keys, vals, chunk);
		if (rc)
			bench_die("cannot write flows: %s", strerror(-rc));
	}
	for (at = from; at < from + n; at++) {
		flow_make(at, be, epoch, now, &keys[0], &vals[0]);
		present += !bpf_map_lookup_elem(sl_flows_fd(flows, &keys[0]),
						&keys[0], &f);
	}
	return present;
}

/* One child per CPU, bound to it (CPU affinity), each filling its share;
 * their counts come back through @fd. */
static void fill_on_cpu(int cpu, int fd, const struct sl_maps *flows,
			__u32 from, __u32 n, __u32 be, __u8 epoch, __u32 now)
{
	cpu_set_t set;
	__u32 present;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		bench_die("sched_setaffinity(%d): %s", cpu, strerror(errno));
	present = fill_range(flows, from, n, be, epoch, now);
	if (write(fd, &present, sizeof(present)) != sizeof(present))
		_exit(1);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct sluice_backend b;
	char path[4200];
	__u32 n, be, now, share, from = 0, present = 0, got;
	int backends, cpus, cpu, fds[2], status, ok = 1;
	struct sl_maps flows;
	unsigned int i;
	__u64 t0;

	if (argc != 4)
		bench_die("usage: bench_fill PIN_DIR N BACKEND_ID");
	n = strtoul(argv[2], NULL, 0);
	be = strtoul(argv[3], NULL, 0);
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++) {
		snprintf(path, sizeof(path), "%s/%s%u", argv[1],
			 SLUICE_MAP_FLOW_SHARD, i);
		flows.flow_shard[i] = bpf_obj_get(path);
		if (flows.flow_shard[i] < 0)
			bench_die("cannot open %s: %s", path, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/%s", argv[1], SLUICE_MAP_BACKENDS);
	backends = bpf_obj_get(path);
	if (backends < 0)
		bench_die("cannot open the pinned maps in %s: %s", argv[1], strerror(errno));
	if (bpf_map_lookup_elem(backends, &be, &b))
		bench_die("backend id %u: %s", be, strerror(errno));
	if (!(b.flags & SLUICE_BE_F_IN_USE))
		bench_die("backend id %u is not in use", be);
	cpus = libbpf_num_possible_cpus();
	if (cpus < 1 || pipe(fds))
		bench_die("cannot count CPUs or make a pipe");
	now = sl_clock_now();
	t0 = bench_now_ns();
	for (cpu = 0; cpu < cpus; cpu++, from += share) {
		share = cpu == cpus - 1 ? n - from : n / cpus;
		if (fork() == 0)
			fill_on_cpu(cpu, fds[1], &flows, from, share, be,
				    b.epoch, now);
	}
	close(fds[1]);
	while (read(fds[0], &got, sizeof(got)) == sizeof(got))
		present += got;
	while (wait(&status) > 0)
		ok &= WIFEXITED(status) && !WEXITSTATUS(status);
	if (!ok)
		bench_die("a fill child failed");
	printf("{\"filled\": %u, \"present\": %u, \"cpus\": %d, \"seconds\": %.2f}\n",
	       n, present, cpus, (bench_now_ns() - t0) / 1e9);
	return present == n ? 0 : 1;
}
