/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make bench, part 3: from `sluicectl backend drain` to the first new flow
 * that avoids the drained backend, on a running lab.
 *
 * A prober thread runs TCP SYNs of fresh flows through the live program
 * (the one the pinned link runs, with the live maps) with
 * BPF_PROG_TEST_RUN, reads the backend each was given from sl_new and
 * deletes the entry again, so the next probe of that tuple is a new flow
 * once more. Only tuples that the current table sends to the backend
 * about to be drained are used. Meanwhile the main thread runs
 * `sluicectl backend drain VIP BACKEND` and notes when it returns. Per
 * repetition:
 *   cmd_ms           how long sluicectl took;
 *   flip_us          when the first probe avoided the backend, relative
 *                    to sluicectl returning (negative: before it returned);
 *   stale_after      probes that still went to the backend after
 *                    sluicectl returned (a drain that is not in effect
 *                    when the command says so would show here).
 * Then `backend undrain`, and a wait until the tuples come back.
 *
 * Usage: bench_drain LINK_PIN PIN_DIR VIP PORT BACKEND SLUICECTL SOCKET REPS
 */
#include "bench.h"
#include "../lib/pkt.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice/abi.h"
#include "sluice/hash.h"
#include "maps.h"

#define BD_PROBES	64	/* tuples that go to the drained backend */
#define BD_SCAN		4096	/* candidate tuples tried to find them */
#define BD_WAIT_NS	(3ULL * 1000000000ULL)

struct bd {
	int prog_fd, new_fd, vips_fd, backends_fd;
	__u32 new_slots, seed;		/* how sl_new is indexed */
	__u32 be_id;
	struct pkt probes[BD_PROBES];
	struct sluice_flow_key keys[BD_PROBES];
	int nprobes;
	/* prober <-> main */
	volatile int stop;
	volatile __u64 t_return;	/* 0 until sluicectl returned */
	volatile __u64 t_flip;		/* first probe that avoided, 0: none */
	volatile __u64 stale_after;
	volatile __u64 probes_run;
};

static int pin_get(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		bench_die("cannot open %s: %s", path, strerror(errno));
	return fd;
}

static int live_prog(const char *link_pin)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(link_pin);

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		bench_die("link %s: %s", link_pin, strerror(errno));
	close(fd);
	fd = bpf_prog_get_fd_by_id(info.prog_id);
	if (fd < 0)
		bench_die("program of %s: %s", link_pin, strerror(errno));
	return fd;
}

/* Run one SYN; return the backend the datapath gave it (and forget it). */
static __u32 probe(struct bd *d, const struct pkt *p,
		   const struct sluice_flow_key *key)
{
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = p->data,
		.data_size_in = p->len,
		.repeat = 1,
	);
	struct sluice_new_slot empty = { 0 };
	struct sluice_flow f;
	__u32 idx;

	if (bpf_prog_test_run_opts(d->prog_fd, &o))
		bench_die("BPF_PROG_TEST_RUN: %s", strerror(errno));
	if (sl_new_slot_get(d->new_fd, d->new_slots, d->seed, key, &f, &idx))
		return SLUICE_NO_BACKEND;
	bpf_map_update_elem(d->new_fd, &idx, &empty, BPF_ANY);
	return f.backend_id;
}

static void build_syn(const char *vip, int port, unsigned int i,
		      struct pkt *p, struct sluice_flow_key *key)
{
	char src[32];
	struct pkt_spec s = {
		.src = src, .dst = vip, .proto = IPPROTO_TCP,
		.sport = 20000 + (i & 0xff), .dport = port,
		.tcp_flags = PKT_TCP_SYN, .seq = 1,
	};

	snprintf(src, sizeof(src), "198.19.250.%u", i >> 8);
	if (pkt_build(&s, p))
		bench_die("cannot build a SYN to %s", vip);
	pkt_flow_key(&s, key);
}

static void find_backend(struct bd *d, const char *vip, int port,
			 const char *backend)
{
	struct sluice_vip_key vk;
	struct sluice_vip v;
	struct sluice_backend be;
	struct sluice_addr addr;
	__u8 family;
	__u32 id;

	memset(&vk, 0, sizeof(vk));
	if (pkt_addr(vip, &vk.addr, &vk.family) ||
	    pkt_addr(backend, &addr, &family))
		bench_die("bad address %s or %s", vip, backend);
	vk.port = htons(port);
	vk.proto = IPPROTO_TCP;
	if (bpf_map_lookup_elem(d->vips_fd, &vk, &v))
		bench_die("no VIP %s:%d/tcp in sl_vips", vip, port);
	for (id = 0; id < SLUICE_MAX_BACKENDS; id++)
		if (!bpf_map_lookup_elem(d->backends_fd, &id, &be) &&
		    (be.flags & SLUICE_BE_F_IN_USE) && be.vip_id == v.vip_id &&
		    be.family == family && !memcmp(&be.addr, &addr, sizeof(addr))) {
			d->be_id = id;
			return;
		}
	bench_die("backend %s of %s:%d/tcp not found", backend, vip, port);
}

static void *prober(void *arg)
{
	struct bd *d = arg;
	int i = 0;

	while (!d->stop) {
		__u32 be = probe(d, &d->probes[i], &d->keys[i]);
		__u64 now = bench_now_ns();
		__u64 ret = d->t_return;

		d->probes_run++;
		if (be != d->be_id && !d->t_flip)
			d->t_flip = now;
		if (be == d->be_id && ret && now > ret)
			d->stale_after++;
		i = (i + 1) % d->nprobes;
	}
	return NULL;
}

static int run_ctl(const char *ctl, const char *sock, const char *verb,
		   const char *vip, const char *backend)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execl(ctl, ctl, "-s", sock, "backend", verb, vip, backend,
		      (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		bench_die("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Until at least one probe tuple goes to the backend again (undrain). */
static int wait_back(struct bd *d)
{
	__u64 t0 = bench_now_ns();
	int i;

	while (bench_now_ns() - t0 < BD_WAIT_NS) {
		for (i = 0; i < d->nprobes; i++)
			if (probe(d, &d->probes[i], &d->keys[i]) == d->be_id)
				return 0;
		usleep(1000);
	}
	return -1;
}

/* sl_new's size, and the hash seed sluiced recorded in sl_config. */
static void new_table_layout(struct bd *d, const char *pin_dir)
{
	struct bpf_map_info info;
	struct sluice_config cfg;
	__u32 len = sizeof(info), zero = 0;
	int fd = pin_get(pin_dir, SLUICE_MAP_CONFIG);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(d->new_fd, &info, &len) ||
	    bpf_map_lookup_elem(fd, &zero, &cfg))
		bench_die("sl_new / sl_config: %s", strerror(errno));
	d->new_slots = info.max_entries;
	d->seed = cfg.hash_seed;
	close(fd);
}

int main(int argc, char **argv)
{
	static struct bd d;
	char vipspec[128], flip[32];
	pthread_t th;
	int port, reps, r, i;
	unsigned int c;

	if (argc != 9)
		bench_die("usage: bench_drain LINK_PIN PIN_DIR VIP PORT BACKEND SLUICECTL SOCKET REPS");
	port = atoi(argv[4]);
	reps = atoi(argv[8]);
	snprintf(vipspec, sizeof(vipspec), "%s:%d/tcp", argv[3], port);
	libbpf_set_print(NULL);
	d.prog_fd = live_prog(argv[1]);
	d.new_fd = pin_get(argv[2], SLUICE_MAP_NEW);
	new_table_layout(&d, argv[2]);
	d.vips_fd = pin_get(argv[2], SLUICE_MAP_VIPS);
	d.backends_fd = pin_get(argv[2], SLUICE_MAP_BACKENDS);
	find_backend(&d, argv[3], port, argv[5]);

	for (c = 0; c < BD_SCAN && d.nprobes < BD_PROBES; c++) {
		struct pkt *p = &d.probes[d.nprobes];
		struct sluice_flow_key *k = &d.keys[d.nprobes];

		build_syn(argv[3], port, c, p, k);
		if (probe(&d, p, k) == d.be_id)
			d.nprobes++;
	}
	if (d.nprobes < 8)
		bench_die("only %d of %u tuples go to backend %s", d.nprobes, c,
			  argv[5]);

	printf("{\"bench\": \"drain\", \"vip\": \"%s\", \"backend\": \"%s\", "
	       "\"probe_tuples\": %d, \"reps\": [", vipspec, argv[5], d.nprobes);
	for (r = 0; r < reps; r++) {
		__u64 t0, t1, wait0;
		int rc;

		d.stop = 0;
		d.t_return = 0;
		d.t_flip = 0;
		d.stale_after = 0;
		d.probes_run = 0;
		if (pthread_create(&th, NULL, prober, &d))
			bench_die("pthread_create failed");
		usleep(20 * 1000);	/* the prober is in its loop */
		t0 = bench_now_ns();
		rc = run_ctl(argv[6], argv[7], "drain", vipspec, argv[5]);
		t1 = bench_now_ns();
		d.t_return = t1;
		wait0 = bench_now_ns();
		while (!d.t_flip && bench_now_ns() - wait0 < BD_WAIT_NS)
			usleep(100);
		usleep(20 * 1000);	/* more probes after the return */
		d.stop = 1;
		pthread_join(th, NULL);
		if (d.t_flip)
			snprintf(flip, sizeof(flip), "%.1f",
				 ((double)d.t_flip - (double)t1) / 1e3);
		else
			snprintf(flip, sizeof(flip), "null");
		printf("%s{\"rc\": %d, \"cmd_ms\": %.3f, \"flip_us\": %s, "
		       "\"stale_after\": %llu, \"probes\": %llu}",
		       r ? ", " : "", rc, (t1 - t0) / 1e6, flip,
		       (unsigned long long)d.stale_after,
		       (unsigned long long)d.probes_run);
		fflush(stdout);
		if (run_ctl(argv[6], argv[7], "undrain", vipspec, argv[5]) ||
		    wait_back(&d))
			bench_die("backend %s did not come back after undrain",
				  argv[5]);
		for (i = 0; i < 1000; i++)	/* let the daemon settle */
			usleep(100);
	}
	printf("]}\n");
	return 0;
}
