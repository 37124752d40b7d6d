/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The drain walk (user/lib/drain_walk.c), the part of a drain's lag that
 * grows with the flow table: sl_flows sized as the lab's (16M slots), N
 * confirmed flows of an active backend, D of them of a draining one, then
 * REPS walks of each kind below, timed (wall and the walking threads' CPU
 * time), each after the drain table is emptied again, as at a drain's
 * start. The walk runs one thread per sl_flows shard, on any CPU.
 *
 *   alone                      nothing else running
 *   beside_busy_loop           a busy loop on CPU 0 at nice 0
 *   beside_busy_loop_same_nice ... at the walk's own nice: the walk
 *                              without its priority (as before it had one)
 *   sweep_held                 a full sweep back to back on CPU 1, held
 *                              while the walk runs, as sluiced holds it
 *   sweep_not_held             ... not held
 * (The alternatives measured before sl_flows had shards, a second walk
 * over the same table and batch reads from two threads, are in
 * docs/design.md.)
 *
 * Usage: bench_walk [REPS] [N] [D]   (default 5 10000000 1000)
 * Needs about 4 GB. Prints one JSON object.
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice.skel.h"
#include "drain_walk.h"
#include "maps.h"
#include "sweep.h"

#define BW_CHUNK 8192
#define BW_TABLE (1U << 24) /* LAB_FLOWS in scripts/bench.sh */
#define BW_ACTIVE 3
#define BW_DRAINING 1
#define BW_MAX_REPS 50
#define BW_BATCH 65536

static const struct sl_sweep_cfg bw_cfg = {
	.tcp_idle_ms = 15 * 60 * 1000,
	.udp_idle_ms = 30 * 1000,
	.close_grace_ms = 300,
	.close_linger_ms = 2000,
	.handshake_ms = 3000,
	.unconfirmed_ms = 10 * 1000,
};

/* Flow @i: a distinct IPv4 client; every @every-th one drains. */
static void flow_make(__u32 i, __u32 be, __u32 now, struct sluice_flow_key *k,
		      struct sluice_flow *f)
{
	memset(k, 0, sizeof(*k));
	k->family = SLUICE_AF_INET;
	k->proto = IPPROTO_TCP;
	k->src.addr[0] = htonl(0xc6120000 | (i & 0x1ffff));
	k->sport = htons(1024 + (i >> 17));
	k->dst.addr[0] = htonl(0xc6120064);
	k->dport = htons(80);
	memset(f, 0, sizeof(*f));
	f->backend_id = be;
	f->last_seen = now;
	f->created = now;
	f->state = SLUICE_FLOW_OPEN;
	f->flags = SLUICE_FLOW_F_CONFIRMED;
}

/* Flows [from, to), every @every-th of the draining backend. */
static void fill(const struct sl_maps *m, __u32 from, __u32 to, __u32 every,
		 __u32 now)
{
	static struct sluice_flow_key keys[BW_CHUNK];
	static struct sluice_flow vals[BW_CHUNK];
	__u32 i, n;
	int rc;

	while (from < to) {
		n = to - from < BW_CHUNK ? to - from : BW_CHUNK;
		for (i = 0; i < n; i++)
			flow_make(from + i,
				  every && (from + i) % every == 0 ?
					  BW_DRAINING :
					  BW_ACTIVE,
				  now, &keys[i], &vals[i]);
		rc = sl_flows_put_batch(m, keys, vals, n);
		if (rc)
			bench_die("cannot write flows: %s", strerror(-rc));
		from += n;
	}
}

/* sl_flows has a free list per CPU: fill each CPU's share from that CPU. */
static void fill_all(const struct sl_maps *m, __u32 n, __u32 every)
{
	int ncpu = libbpf_num_possible_cpus(), cpu, status, ok = 1;
	__u32 now = sl_clock_now(), from = 0, share;

	for (cpu = 0; cpu < ncpu; cpu++, from += share) {
		share = cpu == ncpu - 1 ? n - from : n / ncpu;
		if (fork() == 0) {
			bench_pin_cpu(cpu);
			fill(m, from, from + share, every, now);
			_exit(0);
		}
	}
	while (wait(&status) > 0)
		ok &= WIFEXITED(status) && !WEXITSTATUS(status);
	if (!ok)
		bench_die("a fill child failed");
}

/* Empty the drain table, as at a drain's start: read every key, then delete. */
static void clear_drain_table(int fd)
{
	static struct sluice_flow_key keys[SLUICE_DRAIN_TABLE_DEFAULT];
	__u32 n = 0, i;

	while (n < SLUICE_DRAIN_TABLE_DEFAULT &&
	       !bpf_map_get_next_key(fd, n ? &keys[n - 1] : NULL, &keys[n]))
		n++;
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &keys[i]);
}

struct sweeper {
	pthread_t tid;
	const struct sl_maps *m;
	struct sl_sweep_cfg cfg;
	atomic_bool stop;
	struct sl_hold walking;
	__u64 sweeps;
};

static void *sweeper_run(void *arg)
{
	static struct sl_sweep_result res;
	static bool none[SLUICE_MAX_BACKENDS];
	struct sweeper *s = arg;

	/* The other CPU than the walk's, as the scheduler would have it. */
	bench_pin_cpu(libbpf_num_possible_cpus() - 1);
	while (!atomic_load(&s->stop)) {
		if (sl_sweep(s->m, &s->cfg, none, &res))
			bench_die("sl_sweep failed");
		s->sweeps++;
	}
	return NULL;
}

/* REPS walks; with @s, a sweep runs meanwhile (held if s->cfg.hold). */
static void walks(struct sl_drain_walker *w, const struct sl_maps *m, int reps,
		  struct sweeper *s, const char *name)
{
	static struct sl_sweep_result res;
	static bool draining[SLUICE_MAX_BACKENDS];
	__u64 t0;
	int r;

	draining[BW_DRAINING] = true;
	printf(",\n  \"%s\": [", name);
	for (r = 0; r < reps; r++) {
		clear_drain_table(m->drain_table);
		if (s)
			usleep(300 * 1000); /* a sweep well under way */
		if (s)
			sl_hold_set(&s->walking, true);
		t0 = bench_now_ns();
		if (sl_drain_walk(w, &bw_cfg, draining, &res))
			bench_die("sl_drain_walk: %s", strerror(errno));
		t0 = bench_now_ns() - t0;
		if (s)
			sl_hold_set(&s->walking, false);
		printf("%s{\"wall_ms\": %.1f, \"cpu_ms\": %.1f, \"entries\": %llu, "
		       "\"kept\": %llu}",
		       r ? ", " : "", t0 / 1e6, res.cpu_us / 1e3,
		       (unsigned long long)res.entries,
		       (unsigned long long)res.drain_table_entries);
		fflush(stdout);
	}
	printf("]");
}

static void with_sweep(struct sl_drain_walker *w, const struct sl_maps *m,
		       int reps, bool held, const char *name)
{
	static struct sweeper s;

	memset(&s, 0, sizeof(s));
	s.m = m;
	s.cfg = bw_cfg;
	if (sl_hold_init(&s.walking))
		bench_die("sl_hold_init failed");
	s.cfg.hold = held ? &s.walking : NULL;
	if (pthread_create(&s.tid, NULL, sweeper_run, &s))
		bench_die("pthread_create failed");
	walks(w, m, reps, &s, name);
	atomic_store(&s.stop, true);
	pthread_join(s.tid, NULL);
	sl_hold_destroy(&s.walking);
}

/* A busy loop on @cpu at @nice until killed (bounded by BW_LOOP_S). */
#define BW_LOOP_S 120
static pid_t busy_loop(int cpu, int nice)
{
	pid_t pid = fork();
	__u64 end;

	if (pid)
		return pid;
	bench_pin_cpu(cpu);
	if (setpriority(PRIO_PROCESS, 0, nice))
		_exit(1);
	end = bench_now_ns() + BW_LOOP_S * 1000000000ULL;
	while (bench_now_ns() < end)
		;
	_exit(0);
}

static void beside_busy_loop(struct sl_drain_walker *w, const struct sl_maps *m,
			     int reps, int nice, const char *name)
{
	pid_t pid = busy_loop(0, nice);

	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	usleep(100 * 1000);
	if (waitpid(pid, NULL, WNOHANG) == pid)
		bench_die("the busy loop could not take nice %d (root needed)",
			  nice);
	walks(w, m, reps, NULL, name);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	__u32 n = argc > 2 ? strtoul(argv[2], NULL, 0) : 10000000;
	__u32 d = argc > 3 ? strtoul(argv[3], NULL, 0) : 1000;
	struct sl_drain_walker *w;
	struct sluice_bpf *skel;
	struct sl_maps maps;
	char err[256];
	__u64 t0;
	int rc;

	if (reps < 1 || reps > BW_MAX_REPS || n > BW_TABLE || d > n)
		bench_die("usage: bench_walk [REPS 1..%d] [N <= %u] [D <= N]",
			  BW_MAX_REPS, BW_TABLE);
	libbpf_set_print(NULL);
	skel = sluice_bpf__open();
	if (!skel)
		bench_die("sluice_bpf__open: %s", strerror(errno));
	rc = sl_maps_set_sizes(skel->obj, SLUICE_RING_SIZE_DEFAULT, BW_TABLE,
			       SLUICE_NEW_FLOWS_DEFAULT,
			       SLUICE_DRAIN_TABLE_DEFAULT);
	if (!rc)
		rc = sluice_bpf__load(skel);
	if (!rc)
		rc = sl_maps_open(skel->obj, SLUICE_RING_SIZE_DEFAULT, &maps);
	if (rc)
		bench_die("load: %s", strerror(-rc));
	if (sl_drain_walker_open(&maps, &w, err, sizeof(err)))
		bench_die("%s", err);
	t0 = bench_now_ns();
	fill_all(&maps, n, d ? n / d : 0);
	printf("{\"bench\": \"walk\", \"flows\": %u, \"draining\": %u, "
	       "\"table\": %u, \"fill_s\": %.1f",
	       n, d, BW_TABLE, (bench_now_ns() - t0) / 1e9);
	walks(w, &maps, reps, NULL, "alone");
	beside_busy_loop(w, &maps, reps, 0, "beside_busy_loop");
	beside_busy_loop(w, &maps, reps, SL_DRAIN_WALK_NICE,
			 "beside_busy_loop_same_nice");
	with_sweep(w, &maps, reps, true, "sweep_held");
	with_sweep(w, &maps, reps, false, "sweep_not_held");
	printf("\n}\n");
	sl_drain_walker_close(w);
	sluice_bpf__destroy(skel);
	return 0;
}
