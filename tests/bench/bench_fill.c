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
 * Usage: bench_fill PIN_DIR N BACKEND_ID
 * Prints {"filled": N, "seconds": S}.
 */
#include "bench.h"

#include <netinet/in.h>
#include <arpa/inet.h>
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

int main(int argc, char **argv)
{
	static struct sluice_flow_key keys[BF_CHUNK];
	static struct sluice_flow vals[BF_CHUNK];
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct sluice_backend b;
	char path[4200];
	__u32 n, be, from, i, chunk, count, now;
	int flows, backends;
	__u64 t0;

	if (argc != 4)
		bench_die("usage: bench_fill PIN_DIR N BACKEND_ID");
	n = strtoul(argv[2], NULL, 0);
	be = strtoul(argv[3], NULL, 0);
	snprintf(path, sizeof(path), "%s/%s", argv[1], SLUICE_MAP_FLOWS);
	flows = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/%s", argv[1], SLUICE_MAP_BACKENDS);
	backends = bpf_obj_get(path);
	if (flows < 0 || backends < 0)
		bench_die("cannot open the pinned maps in %s: %s", argv[1], strerror(errno));
	if (bpf_map_lookup_elem(backends, &be, &b))
		bench_die("backend id %u: %s", be, strerror(errno));
	if (!(b.flags & SLUICE_BE_F_IN_USE))
		bench_die("backend id %u is not in use", be);
	now = sl_clock_now();
	t0 = bench_now_ns();
	for (from = 0; from < n; from += chunk) {
		chunk = n - from < BF_CHUNK ? n - from : BF_CHUNK;
		for (i = 0; i < chunk; i++)
			flow_make(from + i, be, b.epoch, now, &keys[i], &vals[i]);
		count = chunk;
		if (bpf_map_update_batch(flows, keys, vals, &count, &opts) || count != chunk)
			bench_die("bpf_map_update_batch: %s (%u of %u)", strerror(errno),
				  count, chunk);
	}
	printf("{\"filled\": %u, \"seconds\": %.2f}\n", n, (bench_now_ns() - t0) / 1e9);
	return 0;
}
