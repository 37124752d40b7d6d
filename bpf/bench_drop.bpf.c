/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make bench: the two trivial programs of the benchmark.
 *
 * bench_drop: the cheapest XDP program there is. Its BPF_PROG_TEST_RUN
 * time is the fixed cost of a test-run call (timer, bh toggling), which
 * the bench subtracts from every program measured the same way; in the lab
 * it is the sink that receives what the edge box sends out, and the
 * "program" that gives the generator's own ceiling.
 *
 * bench_gen: the lab's packet source, run by BPF_PROG_TEST_RUN in live-
 * frames mode (BPF_F_TEST_XDP_LIVE_FRAMES), as xdp-trafficgen does; the
 * xdp-trafficgen of xdp-tools 1.3 no longer loads on recent kernels (its
 * probe program wants a tracepoint that is gone). Live frames are recycled
 * through a page pool without being re-initialised, and the balancer under
 * test rewrites their first bytes (encapsulation), so every frame gets its
 * headers back from gen_hdr before it is sent with XDP_TX (out of the
 * ingress interface named in the test-run context).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define GEN_HDR_LEN	64	/* Ethernet + IPv6 + UDP + 2 payload bytes */

/* The frame's first GEN_HDR_LEN bytes; written by the bench before load. */
__u8 gen_hdr[GEN_HDR_LEN] = {};

SEC("xdp")
int bench_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + GEN_HDR_LEN > data_end)
		return XDP_DROP;
	__builtin_memcpy(data, gen_hdr, GEN_HDR_LEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
