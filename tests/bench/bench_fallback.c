/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make bench, part 1b: the per-packet cost of the drain-aware fallback on
 * the box and of the second chance on the backend (issue 15), measured as
 * bench_xdp measures (tests/bench/xdp.h): one fresh frame per
 * BPF_PROG_TEST_RUN call, the kernel's time for it, the XDP_DROP
 * program's cost measured the same way in the same repetition, the cases
 * in turn, in reverse order every other repetition.
 *
 * Box (bpf/sluice.bpf.c), one TCP VIP with 3 backends on two balancers
 * sized as sluiced's defaults: one with backend 1 draining (its pre-drain
 * table published), one without a drain. TCP ACKs without state:
 *   fallback:  on the draining one, tuples whose pre-drain pick is the
 *              draining backend and whose live pick is another: sl_flows,
 *              sl_new and sl_pinned miss, the tail call into
 *              sluice_fallback, which parses again, picks from both
 *              tables and sends GUE naming the second hop. No state is
 *              written, so a tuple stays a fallback packet: 1 flow, or
 *              65,536 fresh tuples per repetition.
 *   new_plain: the same 65,536 tuples on the balancer without a drain:
 *              the ordinary new-flow path, plain IPIP, a slot in sl_new.
 *   new_drain: on the draining one, fresh tuples whose tables agree: the
 *              tail call, then the ordinary new-flow path.
 *   est:       an established flow on the draining one (1 and 65,536).
 *
 * Backend (bpf/decap.bpf.c), in this process's own network namespace
 * (tests/lib/backendns.c: a veth with a resolved second hop, the VIP on
 * loopback with a listener), arriving on the veth; the frames are the
 * balancer's own output, one flow each:
 *   decap_ipip:       plain IPIP, stripped (no socket lookup).
 *   decap_gue_socket: GUE for a tuple with a connected socket:
 *                     bpf_skc_lookup_tcp finds it, stripped, delivered.
 *   decap_gue_pass:   GUE for a tuple with no socket (the lookup finds
 *                     only the listener): FIB lookup, rewritten to IPIP
 *                     to the second hop, XDP_TX.
 *
 * Usage: bench_fallback [REPS] [CALLS]   (defaults 5 and 65536; root)
 */
#include "xdp.h"
#include "../lib/backendns.h"

#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/utsname.h>

#define VIP4		"198.18.0.100"
#define CLIENT4		"198.19.0.0"	/* bytes 2-3 and the port vary */
#define DRAINED		1		/* index of the draining backend */

/* Tuple sets (bx_tuple); fresh ones are taken from SET_FRESH upwards. */
enum { SET_EST = 1, SET_FRESH = 8, SET_LAST = 255 };

static const char *const be4[] = { "198.18.20.11", "198.18.20.12",
				   "198.18.20.13", NULL };
static const char *const bes_here[] = { BNS_HOST, BNS_HOP, BNS_HOP_UNRESOLVED,
					NULL };

enum {
	C_EST1,
	C_EST,
	C_NEW_PLAIN,
	C_NEW_DRAIN,
	C_FB1,
	C_FB,
	C_IPIP,
	C_GUE_SOCK,
	C_GUE_PASS,
	C_N
};

static const struct {
	const char *name;
	unsigned int flows;	/* 0: one fresh tuple per call */
} cases[C_N] = {
	[C_EST1] = { "est", 1 },
	[C_EST] = { "est", BX_CYCLE },
	[C_NEW_PLAIN] = { "new_plain", 0 },
	[C_NEW_DRAIN] = { "new_drain", 0 },
	[C_FB1] = { "fallback", 1 },
	[C_FB] = { "fallback", 0 },
	[C_IPIP] = { "decap_ipip", 1 },
	[C_GUE_SOCK] = { "decap_gue_socket", 1 },
	[C_GUE_PASS] = { "decap_gue_pass", 1 },
};

/* A frame as bytes, for the backend's cases (the balancer's output). */
struct frame {
	__u8 data[BT_OUT_MAX];
	__u32 len;
	int verdict;		/* what decap must answer */
};

struct fb {
	struct bt *drain, *plain;	/* balancers: a drain, none */
	struct bt_vip *v_drain, *v_plain;
	struct bt *lb;			/* the backend's balancer (loopback VIP) */
	struct bt_decap *decap;
	struct bench_drop_bpf *drop;
	int drop_fd;
	int lfd, cfd;			/* listener, connected socket */
	struct frame ipip, gue_sock, gue_pass;
	unsigned int calls;
	unsigned int next_set;
	__u32 *disagree, *agree;	/* fresh tuples: set << 16 | i */
	__u32 *s;			/* per-call samples */
};

static struct pkt ack4, syn4;
static struct bench_summary res[C_N][BX_MAX_REPS];
static struct bench_summary drop[2][BX_MAX_REPS];

/* --- the box ------------------------------------------------------------ */

/*
 * The next @n tuples never used before whose pre-drain and live picks
 * differ (into fb->disagree) and as many whose picks agree (fb->agree).
 */
static void fresh_tuples(struct fb *fb, unsigned int n)
{
	struct sluice_flow_key key;
	unsigned int nd = 0, na = 0, i;
	__u32 live, pre;

	while (nd < n || na < n) {
		if (fb->next_set > SET_LAST)
			bench_die("out of fresh tuples: fewer calls or reps");
		for (i = 0; i < BX_CYCLE; i++) {
			bx_tuple(&ack4, fb->next_set, i);
			bx_key(&ack4, &key);
			live = bt_pick(fb->drain, fb->v_drain, &key);
			pre = bt_fb_pick(fb->drain, fb->v_drain, &key);
			if (pre != live && nd < n)
				fb->disagree[nd++] = fb->next_set << 16 | i;
			else if (pre == live && na < n)
				fb->agree[na++] = fb->next_set << 16 | i;
		}
		fb->next_set++;
	}
}

/* @calls ACKs through @fd: @tuples[0] every call (@one), or each once. */
static struct bench_summary series_of(struct fb *fb, int fd, const char *what,
				      const __u32 *tuples, int one)
{
	unsigned int c;
	__u32 t;
	int verdict;

	for (c = 0; c < fb->calls; c++) {
		t = tuples[one ? 0 : c];
		bx_tuple(&ack4, t >> 16, t & 0xffff);
		fb->s[c] = bx_run1(fd, &ack4, &verdict);
		bx_expect(what, c, verdict, XDP_TX);
	}
	return bench_summarize(fb->s, fb->calls);
}

/* The first fallback packet, checked as the BPF tests check it. */
static void check_fallback(struct fb *fb)
{
	static struct bt_result r;
	struct sluice_flow_key key;
	struct sluice_vip_stats before, after;
	struct sluice_flow f;

	bx_tuple(&ack4, fb->disagree[0] >> 16, fb->disagree[0] & 0xffff);
	bx_key(&ack4, &key);
	bt_vip_stats(fb->drain, fb->v_drain, &before);
	if (bt_prog_run(fb->drain->prog_fd, ack4.data, ack4.len, &r))
		bench_die("check run of the fallback failed");
	bt_vip_stats(fb->drain, fb->v_drain, &after);
	if (after.fallback != before.fallback + 1)
		bench_die("the fallback case did not take the fallback");
	if (!bt_flow_get(fb->drain, &key, &f) ||
	    !bt_new_get(fb->drain, &key, &f))
		bench_die("a fallback packet left state");
	if (r.out_len != ack4.len + PKT_IP4_LEN + SLUICE_GUE_OVERHEAD)
		bench_die("fallback output: %u bytes, not GUE", r.out_len);
}

static void box_setup(struct fb *fb)
{
	unsigned int i;

	fb->drain = bx_open_sluice();
	fb->v_drain = bt_vip_add(fb->drain, VIP4, 80, IPPROTO_TCP, be4);
	fb->plain = bx_open_sluice();
	fb->v_plain = bt_vip_add(fb->plain, VIP4, 80, IPPROTO_TCP, be4);
	bx_build(&syn4, CLIENT4, VIP4, IPPROTO_TCP, 80, PKT_TCP_SYN, 0);
	bx_build(&ack4, CLIENT4, VIP4, IPPROTO_TCP, 80,
		 PKT_TCP_ACK | PKT_TCP_PSH, BX_PAYLOAD);
	/* Established before the drain, as a running service's are; the
	 * same flows on both, so that their tables hold alike. */
	for (i = 0; i < BX_CYCLE; i++) {
		bx_establish_one(fb->drain->prog_fd, &syn4, &ack4, SET_EST, i);
		bx_establish_one(fb->plain->prog_fd, &syn4, &ack4, SET_EST, i);
	}
	bt_vip_drain(fb->drain, fb->v_drain, DRAINED);
	fb->next_set = SET_FRESH;
}

static void box_round(struct fb *fb, int r, int c)
{
	int fd_d = fb->drain->prog_fd, fd_p = fb->plain->prog_fd;

	switch (c) {
	case C_EST1:
	case C_EST:
		res[c][r] = bx_series(fd_d, "established", &ack4, SET_EST,
				      cases[c].flows, XDP_TX, fb->s, fb->calls);
		break;
	case C_NEW_PLAIN:
		res[c][r] =
			series_of(fb, fd_p, "new, no drain", fb->disagree, 0);
		break;
	case C_NEW_DRAIN:
		res[c][r] =
			series_of(fb, fd_d, "new, tables agree", fb->agree, 0);
		break;
	case C_FB1:
		res[c][r] = series_of(fb, fd_d, "fallback, 1 flow",
				      fb->disagree, 1);
		break;
	case C_FB:
		res[c][r] = series_of(fb, fd_d, "fallback", fb->disagree, 0);
		break;
	}
}

/* --- the backend -------------------------------------------------------- */

/* Run @f through decap once, expecting @verdict and one count of @reason. */
static void check_decap(struct fb *fb, const char *what, struct frame *f,
			int verdict, __u32 reason, struct bt_result *out)
{
	__u64 before = bt_decap_stat(fb->decap, reason);

	bt_decap_run(fb->decap, what, f->data, f->len, out);
	if (out->verdict != verdict ||
	    bt_decap_stat(fb->decap, reason) != before + 1)
		bench_die("%s: decap verdict %d, reason %u not counted", what,
			  out->verdict, reason);
	f->verdict = verdict;
}

/* The balancer's GUE frame for a tuple that falls back to this host. */
static void gue_frame(struct fb *fb, __u16 from, __u32 live, struct frame *f,
		      struct pkt_spec *s)
{
	static struct bt_result r;
	const struct bt_vip *v = &fb->lb->vips[0];
	struct pkt in;

	bt_fallback_port(fb->lb, v, s, from, v->be_id[0], live);
	bt_run_spec(fb->lb, "GUE frame", s, &in, &r);
	if (r.verdict != XDP_TX)
		bench_die("the balancer did not send the GUE frame");
	memcpy(f->data, r.out, r.out_len);
	f->len = r.out_len;
}

static void backend_setup(struct fb *fb)
{
	struct pkt_spec s = {
		.src = BNS_CLIENT,
		.dst = BNS_VIP,
		.proto = IPPROTO_TCP,
		.dport = BNS_VPORT,
		.df = 1,
		.tcp_flags = PKT_TCP_ACK | PKT_TCP_PSH,
		.payload_len = BX_PAYLOAD,
	};
	static struct bt_result out;

	fb->lb = bt_open(BT_RING_MEDIUM);
	bt_vip_add(fb->lb, BNS_VIP, BNS_VPORT, IPPROTO_TCP, bes_here);
	bt_vip_drain(fb->lb, &fb->lb->vips[0], 0);	/* this host */
	fb->decap = bt_decap_open();
	fb->decap->ifindex = if_nametoindex(BNS_VETH);
	if (!fb->decap->ifindex)
		bench_die("no %s in the bench's namespace", BNS_VETH);
	bt_decap_add_addr(fb->decap, BNS_HOST);
	bt_decap_add_addr(fb->decap, BNS_HOP);	/* to decap the IPIP frame */
	fb->lfd = bns_listen(BNS_VIP, BNS_VPORT);

	gue_frame(fb, 20000, 0, &fb->gue_sock, &s);
	fb->cfd = bns_connect(s.sport);
	check_decap(fb, "GUE, a socket", &fb->gue_sock, XDP_PASS, SLUICE_DR_GUE,
		    &out);
	/* No socket, second hop BNS_HOP (resolved): passed on in IPIP. */
	gue_frame(fb, 30000, fb->lb->vips[0].be_id[1], &fb->gue_pass, &s);
	check_decap(fb, "GUE, no socket", &fb->gue_pass, XDP_TX,
		    SLUICE_DR_PASS_ON, &out);
	/* That output is plain IPIP to BNS_HOP, also local here. */
	memcpy(fb->ipip.data, out.out, out.out_len);
	fb->ipip.len = out.out_len;
	check_decap(fb, "IPIP", &fb->ipip, XDP_PASS, SLUICE_DR_DECAP, &out);
}

static void backend_round(struct fb *fb, int r, int c)
{
	struct frame *f = &fb->gue_pass;
	unsigned int i;
	int verdict;

	if (c == C_IPIP)
		f = &fb->ipip;
	else if (c == C_GUE_SOCK)
		f = &fb->gue_sock;
	for (i = 0; i < fb->calls; i++) {
		fb->s[i] = bx_run_on(fb->decap->prog_fd, fb->decap->ifindex,
				     f->data, f->len, &verdict);
		bx_expect(cases[c].name, i, verdict, f->verdict);
	}
	res[c][r] = bench_summarize(fb->s, fb->calls);
}

/* --- main --------------------------------------------------------------- */

/* Every case once into repetition @r, in reverse order when @reverse. */
static void round_all(struct fb *fb, int r, int reverse)
{
	int k, c;

	for (k = 0; k < C_N; k++) {
		c = reverse ? C_N - 1 - k : k;
		if (c >= C_IPIP)
			backend_round(fb, r, c);
		else
			box_round(fb, r, c);
	}
}

static void print_json(const struct fb *fb, int reps, int cpu)
{
	struct utsname un;
	int c;

	uname(&un);
	printf("{\"bench\": \"fallback\", \"kernel\": \"%s\", \"cpu\": %d, "
	       "\"reps\": %d, \"calls\": %u, \"ring_size\": %u, "
	       "\"backends\": %zu, \"drained\": %d,\n",
	       un.release, cpu, reps, fb->calls, BX_RING, fb->v_drain->nbe,
	       DRAINED);
	printf(" \"drop_before\": ");
	bx_print_reps(drop[0], reps);
	printf(",\n \"drop_after\": ");
	bx_print_reps(drop[1], reps);
	printf(",\n \"cases\": [\n");
	for (c = 0; c < C_N; c++) {
		printf("  {\"name\": \"%s\", \"flows\": %u, \"ns\": ",
		       cases[c].name,
		       cases[c].flows ? cases[c].flows : fb->calls);
		bx_print_reps(res[c], reps);
		printf("}%s\n", c + 1 < C_N ? "," : "");
	}
	printf(" ]}\n");
}

int main(int argc, char **argv)
{
	struct fb fb = { 0 };
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	int cpu, r;

	fb.calls = argc > 2 ? (unsigned int)atoi(argv[2]) : BX_CYCLE;
	if (reps < 1 || reps > BX_MAX_REPS || fb.calls < 1000 ||
	    fb.calls > BX_CYCLE)
		bench_die("usage: bench_fallback [REPS 1..%d] [CALLS 1000..%d]",
			  BX_MAX_REPS, BX_CYCLE);
	if (bns_setup())
		bench_die("cannot set up the bench's network namespace");
	libbpf_set_print(NULL);
	cpu = sched_getcpu();
	bench_pin_cpu(cpu < 0 ? 0 : cpu);
	fb.s = calloc(fb.calls, sizeof(__u32));
	fb.disagree = calloc(fb.calls, sizeof(__u32));
	fb.agree = calloc(fb.calls, sizeof(__u32));
	if (!fb.s || !fb.disagree || !fb.agree)
		bench_die("out of memory");
	box_setup(&fb);
	backend_setup(&fb);
	fb.drop_fd = bx_open_drop(&fb.drop);

	/* Untimed: a first round after set-up runs slower (bench_xdp). */
	fresh_tuples(&fb, fb.calls);
	check_fallback(&fb);
	round_all(&fb, 0, 0);
	for (r = 0; r < reps; r++) {
		fresh_tuples(&fb, fb.calls);
		drop[0][r] = bx_series(fb.drop_fd, "drop", &ack4, SET_EST, 1,
				       -1, fb.s, fb.calls);
		round_all(&fb, r, r & 1);
		drop[1][r] = bx_series(fb.drop_fd, "drop", &ack4, SET_EST, 1,
				       -1, fb.s, fb.calls);
	}
	print_json(&fb, reps, cpu < 0 ? 0 : cpu);
	close(fb.cfd);
	close(fb.lfd);
	return 0;
}
