/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make bench, parts 2 and 4: the lab-side helper of scripts/bench-lab.sh.
 * Small verbs, each one step the script needs on a running lab:
 *
 *   pin-link-prog LINK_PIN OUT_PIN    pin the program a pinned link runs
 *                                     (sluiced's), so it can be swapped back
 *   load-floor OUT_PIN SLUICE_PIN_DIR SRC DST SPORT DPORT udp|tcp
 *                                     load bench_floor with sluice's outer
 *                                     source, backends and this flow's
 *                                     backend (read from sl_flows: send
 *                                     the flow through sluice first)
 *   load reflect|drop OUT_PIN         load and pin a trivial program
 *   swap LINK_PIN PROG_PIN            bpf_link_update: the interface now
 *                                     runs PROG (atomic, sluiced unaware)
 *   attach IFACE PROG_PIN | detach IFACE    native XDP, netlink
 *   gen IFACE DST_MAC SRC DST SPORT DPORT SECONDS MAX_PACKETS
 *                                     send UDP frames out of IFACE with
 *                                     bench_gen in live-frames test-run
 *                                     mode; stops at either bound
 *   prog-stats link|prog PIN          run_time_ns and run_cnt (while
 *                                     run-time stats are enabled)
 *   with-stats COMMAND...             run COMMAND with BPF run-time stats
 *                                     enabled (BPF_ENABLE_STATS: they go
 *                                     off when this tool exits, even if it
 *                                     is killed; no sysctl left behind)
 *
 * Interface names resolve in the network namespace the tool runs in
 * (the script uses nsenter); pins are shared across namespaces.
 */
#include "bench.h"
#include "../lib/pkt.h"

#include <fcntl.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice/abi.h"
#include "sluice/hash.h"
#include "bench_floor.skel.h"
#include "bench_drop.skel.h"
#include "bench_reflect.skel.h"

#define GEN_LEN		64	/* frame = bench_gen's GEN_HDR_LEN */
#define GEN_CHUNK	(1U << 16)	/* frames per test-run call */

static int usage(void)
{
	fprintf(stderr,
		"usage: bench_lab pin-link-prog LINK_PIN OUT_PIN\n"
		"       bench_lab load-floor OUT_PIN SLUICE_PIN_DIR SRC DST SPORT DPORT udp|tcp\n"
		"       bench_lab load reflect|drop OUT_PIN\n"
		"       bench_lab swap LINK_PIN PROG_PIN\n"
		"       bench_lab attach IFACE PROG_PIN | detach IFACE\n"
		"       bench_lab gen IFACE DST_MAC SRC DST SPORT DPORT SECONDS MAX_PACKETS\n"
		"       bench_lab prog-stats link|prog PIN\n"
		"       bench_lab with-stats COMMAND...\n");
	return 2;
}

static int obj_get(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd < 0)
		bench_die("cannot open pin %s: %s", path, strerror(errno));
	return fd;
}

static __u32 link_prog_id(int link_fd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		bench_die("link info: %s", strerror(errno));
	return info.prog_id;
}

static int cmd_pin_link_prog(const char *link_pin, const char *out)
{
	int fd = bpf_prog_get_fd_by_id(link_prog_id(obj_get(link_pin)));

	if (fd < 0)
		bench_die("program of link %s: %s", link_pin, strerror(errno));
	if (bpf_obj_pin(fd, out))
		bench_die("pin %s: %s", out, strerror(errno));
	return 0;
}

static void pin_prog(struct bpf_program *prog, const char *out)
{
	if (bpf_obj_pin(bpf_program__fd(prog), out))
		bench_die("pin %s: %s", out, strerror(errno));
}

/* Build a flow key the way the datapath does (abi.h). */
static void flow_key(const char *src, const char *dst, const char *sport,
		     const char *dport, const char *proto,
		     struct sluice_flow_key *k)
{
	__u8 family;

	memset(k, 0, sizeof(*k));
	if (pkt_addr(src, &k->src, &family) ||
	    pkt_addr(dst, &k->dst, &k->family) || family != k->family)
		bench_die("bad flow addresses %s -> %s", src, dst);
	k->sport = htons(atoi(sport));
	k->dport = htons(atoi(dport));
	k->proto = !strcmp(proto, "tcp") ? IPPROTO_TCP : IPPROTO_UDP;
}

static int cmd_load_floor(char **argv)
{
	char path[512];
	struct sluice_flow_key key;
	struct sluice_backend be;
	struct sluice_config cfg;
	struct sluice_flow f;
	struct bench_floor_bpf *skel;
	int fd, bfd, zero = 0, n = 0;
	__u32 id;

	flow_key(argv[2], argv[3], argv[4], argv[5], argv[6], &key);
	snprintf(path, sizeof(path), "%s/%s", argv[1], SLUICE_MAP_CONFIG);
	fd = obj_get(path);
	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		bench_die("sl_config: %s", strerror(errno));
	close(fd);
	snprintf(path, sizeof(path), "%s/%s%u", argv[1], SLUICE_MAP_FLOW_SHARD,
		 sluice_flow_shard(&key));
	fd = obj_get(path);
	if (bpf_map_lookup_elem(fd, &key, &f))
		bench_die("the flow is not in sluice's sl_flows: send it through sluice first");
	close(fd);

	skel = bench_floor_bpf__open();
	if (!skel)
		bench_die("bench_floor open: %s", strerror(errno));
	skel->bss->fl_cfg = cfg;
	if (bench_floor_bpf__load(skel))
		bench_die("bench_floor load: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", argv[1], SLUICE_MAP_BACKENDS);
	fd = obj_get(path);
	bfd = bpf_map__fd(skel->maps.fl_backends);
	for (id = 0; id < SLUICE_MAX_BACKENDS; id++) {
		if (bpf_map_lookup_elem(fd, &id, &be) ||
		    !(be.flags & SLUICE_BE_F_IN_USE))
			continue;
		if (bpf_map_update_elem(bfd, &id, &be, BPF_ANY))
			bench_die("fl_backends: %s", strerror(errno));
		n++;
	}
	close(fd);
	id = f.backend_id;
	if (bpf_map_lookup_elem(bfd, &id, &be) ||
	    !(be.flags & SLUICE_BE_F_NH_VALID))
		bench_die("backend %u of the flow has no resolved next hop", id);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.fl_flows), &key,
				&f.backend_id, BPF_ANY))
		bench_die("fl_flows: %s", strerror(errno));
	pin_prog(skel->progs.bench_floor, argv[0]);
	fprintf(stderr, "bench_lab: floor pinned at %s: %d backends, flow -> backend %u\n",
		argv[0], n, f.backend_id);
	bench_floor_bpf__destroy(skel);
	return 0;
}

static int cmd_load(const char *what, const char *out)
{
	if (!strcmp(what, "reflect")) {
		struct bench_reflect_bpf *s = bench_reflect_bpf__open_and_load();

		if (!s)
			bench_die("bench_reflect load: %s", strerror(errno));
		pin_prog(s->progs.bench_reflect, out);
		bench_reflect_bpf__destroy(s);
	} else if (!strcmp(what, "drop")) {
		struct bench_drop_bpf *s = bench_drop_bpf__open_and_load();

		if (!s)
			bench_die("bench_drop load: %s", strerror(errno));
		pin_prog(s->progs.bench_drop, out);
		bench_drop_bpf__destroy(s);
	} else {
		return usage();
	}
	return 0;
}

static int cmd_swap(const char *link_pin, const char *prog_pin)
{
	if (bpf_link_update(obj_get(link_pin), obj_get(prog_pin), NULL))
		bench_die("bpf_link_update %s: %s", link_pin, strerror(errno));
	return 0;
}

static int ifindex_of(const char *ifname)
{
	int idx = if_nametoindex(ifname);

	if (!idx)
		bench_die("no interface %s in this namespace", ifname);
	return idx;
}

static int cmd_attach(const char *ifname, const char *prog_pin)
{
	if (bpf_xdp_attach(ifindex_of(ifname), obj_get(prog_pin),
			   XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
			   NULL))
		bench_die("attach to %s: %s", ifname, strerror(errno));
	return 0;
}

static int cmd_detach(const char *ifname)
{
	if (bpf_xdp_detach(ifindex_of(ifname), XDP_FLAGS_DRV_MODE, NULL))
		bench_die("detach from %s: %s", ifname, strerror(errno));
	return 0;
}

static void if_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr))
		bench_die("MAC of %s: %s", ifname, strerror(errno));
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
}

static int cmd_gen(char **argv)
{
	static struct pkt frame;
	struct bench_drop_bpf *skel;
	struct xdp_md ctx;
	__u8 dmac[6], smac[6];
	struct pkt_spec s = {
		.dmac = dmac, .smac = smac, .src = argv[2], .dst = argv[3],
		.proto = IPPROTO_UDP, .sport = atoi(argv[4]),
		.dport = atoi(argv[5]), .payload_len = 2,
	};
	double secs = atof(argv[6]);
	__u64 max = strtoull(argv[7], NULL, 10), sent = 0, t0, elapsed;
	int fd, err;

	if (sscanf(argv[1], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dmac[0],
		   &dmac[1], &dmac[2], &dmac[3], &dmac[4], &dmac[5]) != 6)
		bench_die("bad MAC %s", argv[1]);
	if_mac(argv[0], smac);
	if (pkt_build(&s, &frame) || frame.len != GEN_LEN)
		bench_die("cannot build a %d-byte UDP frame %s -> %s", GEN_LEN,
			  argv[2], argv[3]);
	skel = bench_drop_bpf__open();
	if (!skel)
		bench_die("bench_drop open: %s", strerror(errno));
	memcpy(skel->bss->gen_hdr, frame.data, GEN_LEN);
	if (bench_drop_bpf__load(skel))
		bench_die("bench_drop load: %s", strerror(errno));
	fd = bpf_program__fd(skel->progs.bench_gen);
	memset(&ctx, 0, sizeof(ctx));
	ctx.data_end = frame.len;	/* the kernel wants the frame length here */
	ctx.ingress_ifindex = ifindex_of(argv[0]);

	t0 = bench_now_ns();
	do {
		__u64 left = max - sent;
		LIBBPF_OPTS(bpf_test_run_opts, o,
			.data_in = frame.data,
			.data_size_in = frame.len,
			.ctx_in = &ctx,
			.ctx_size_in = sizeof(ctx),
			.repeat = left < GEN_CHUNK ? left : GEN_CHUNK,
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		);

		err = bpf_prog_test_run_opts(fd, &o);
		if (err)
			bench_die("live-frames test run: %s", strerror(errno));
		sent += o.repeat;
		elapsed = bench_now_ns() - t0;
	} while (sent < max && elapsed < secs * 1e9);
	printf("{\"sent\": %llu, \"seconds\": %.3f, \"mpps\": %.3f}\n",
	       (unsigned long long)sent, elapsed / 1e9, sent / (elapsed / 1e3));
	bench_drop_bpf__destroy(skel);
	return 0;
}

static int cmd_prog_stats(const char *kind, const char *pin)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = obj_get(pin);

	if (!strcmp(kind, "link")) {
		fd = bpf_prog_get_fd_by_id(link_prog_id(fd));
		if (fd < 0)
			bench_die("program of link %s: %s", pin, strerror(errno));
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		bench_die("program info: %s", strerror(errno));
	printf("{\"run_time_ns\": %llu, \"run_cnt\": %llu}\n",
	       (unsigned long long)info.run_time_ns,
	       (unsigned long long)info.run_cnt);
	return 0;
}

static int cmd_with_stats(char **argv)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME), status;
	pid_t pid;

	if (fd < 0)
		bench_die("BPF_ENABLE_STATS: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (!pid) {
		close(fd);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		bench_die("waitpid: %s", strerror(errno));
	close(fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	libbpf_set_print(NULL);
	if (!strcmp(cmd, "pin-link-prog") && argc == 4)
		return cmd_pin_link_prog(argv[2], argv[3]);
	if (!strcmp(cmd, "load-floor") && argc == 9)
		return cmd_load_floor(argv + 2);
	if (!strcmp(cmd, "load") && argc == 4)
		return cmd_load(argv[2], argv[3]);
	if (!strcmp(cmd, "swap") && argc == 4)
		return cmd_swap(argv[2], argv[3]);
	if (!strcmp(cmd, "attach") && argc == 4)
		return cmd_attach(argv[2], argv[3]);
	if (!strcmp(cmd, "detach") && argc == 3)
		return cmd_detach(argv[2]);
	if (!strcmp(cmd, "gen") && argc == 10)
		return cmd_gen(argv + 2);
	if (!strcmp(cmd, "prog-stats") && argc == 4)
		return cmd_prog_stats(argv[2], argv[3]);
	if (!strcmp(cmd, "with-stats") && argc >= 3)
		return cmd_with_stats(argv + 2);
	return usage();
}
