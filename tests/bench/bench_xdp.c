/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make bench, part 1: per-packet cost of the XDP program under
 * BPF_PROG_TEST_RUN, next to the floor (bpf/bench_floor.bpf.c: parse, one
 * hash lookup, one backend lookup, the same encapsulation, XDP_TX) and an
 * XDP_DROP program, all in one process on one CPU.
 *
 * Method. An encapsulating program changes the buffer it runs on, and with
 * repeat > 1 the kernel re-runs it on its own output, so every packet is
 * one call: repeat 1, a fresh copy of the frame each call, the kernel's own
 * timing of that one run (opts.duration). That timing includes a fixed
 * cost (timer reads, bh toggling) which the XDP_DROP program measures the
 * same way in the same repetition; scripts/bench-report.py subtracts it.
 *
 * Flows: "1 flow" sends the same tuple every call; "65,536" cycles through
 * that many distinct established tuples, so lookups miss the CPU caches as
 * they do with many clients. New TCP flows use a tuple never seen before on
 * every call: the SYN (sluice: VIP lookup, Maglev pick, insert into sl_new)
 * and then the first non-SYN packet of the same tuple (promotion into
 * sl_flows), measured two ways: each SYN directly followed by its ACK (one
 * handshake in flight, hot caches), and 65,536 SYNs followed by their 65,536
 * ACKs (many in flight). No table fills up here: LRU eviction is not in
 * these figures.
 *
 * A whole new connection: the SYN plus its first ACK (the sum of both
 * packets' ns) against the floor's "insert a new flow and forward"
 * program (bench_floor_insert: a bare LRU-hash insert plus the same
 * encapsulation), which meets the same fresh tuples in the same order, one
 * insert per handshake, into a table of its own that starts empty.
 *
 * Lost slots: with many handshakes in flight, the share of second packets
 * that no longer found their flow in sl_new (another flow took its slot):
 * 1 - promoted / handshakes, from sluice's own per-VIP counters, with
 * sl_new emptied before each such round. Counted for the 65,536 case of
 * every repetition and once with 262,144 (the default slot count).
 *
 * The tuples differ in source address and port only; no checksum is
 * updated, since neither program reads one (they only write the outer
 * IPv4 header's). One setup run of each program is checked byte for byte
 * with the BPF tests' bt_check_encap().
 *
 * The frames, the one-call test run, the balancer instance and the
 * XDP_DROP baseline are in xdp.h, shared with bench_fallback (the
 * drain-aware fallback and the backends' second chance, part 1b).
 *
 * Usage: bench_xdp [REPS] [CALLS]   (defaults 5 and 65536)
 */
#include "xdp.h"

#include <unistd.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <sys/utsname.h>

#include "bench_floor.skel.h"

#define BX_HOT		16384	/* SYN+ACK pairs in the hot handshake case */
#define BX_FULL SLUICE_NEW_FLOWS_DEFAULT /* handshakes, "full" count */

#define VIP4		"198.18.0.100"
#define VIP6		"fd00:100::100"
#define NOT_VIP4	"198.18.1.1"
#define CLIENT4		"198.19.0.0"	/* bytes 2-3 and the port vary */
#define CLIENT6		"fd00:10::1"	/* the last 4 bytes and the port vary */

/* Tuple sets: the third byte of the IPv4 client, bytes 12-13 for IPv6. */
enum { SET_EST4 = 1, SET_UDP4, SET_EST6, SET_PASS, SET_WARM, SET_NEW = 16 };

enum { P_DROP, P_FLOOR, P_SLUICE, P_N };
static const char *const prog_name[P_N] = { "drop", "floor", "sluice" };

static const char *const be4[] = { "198.18.20.11", "198.18.20.12",
				   "198.18.20.13", NULL };
static const char *const be6[] = { "fd00:20::11", "fd00:20::12",
				   "fd00:20::13", NULL };

/*
 * Two instances of each forwarding program, so that each measured table
 * holds only what that measurement forwards: t/floor for the established
 * and not-for-a-VIP cases, tn/floor_new for the handshakes. A hash bucket
 * inserts at its head, so entries of the other cases would sit in front
 * of the timed ones and bill their chain walk to the wrong program.
 */
struct bx {
	struct bt *t, *tn;
	struct bench_floor_bpf *floor, *floor_new;
	struct bench_drop_bpf *drop;
	int fd[P_N]; /* established cases */
	int fd_new[P_N]; /* handshakes: fd_new[P_DROP] unused */
	int fd_insert; /* the floor's new connection: bench_floor_insert */
	int floor_flows, floor_new_flows;
	struct bt_vip *v_tcp4, *v_udp4, *v_tcp6, *v_new4;
	__u32 *s1, *s2, *s3, *s4; /* per-call samples */
	unsigned int calls;
};

/* The frames, built once; bx_tuple() rewrites the client part. */
static struct pkt syn4, ack4, data4, udp4, syn6, ack6, data6, pass4;

/* --- set-up --------------------------------------------------------------- */

/* A floor instance with the backends of @t; returns its program fd. */
static struct bench_floor_bpf *bx_open_floor(const struct bt *t, int *prog_fd,
					     int *flows_fd)
{
	struct bench_floor_bpf *fl;
	struct sluice_addr a;
	__u32 id;
	__u8 family;
	int err, fd;

	fl = bench_floor_bpf__open();
	if (!fl)
		bench_die("bench_floor_bpf__open: %s", strerror(errno));
	pkt_addr(BT_SRC4, &a, &family);
	fl->bss->fl_cfg.src4 = a.addr[0];
	pkt_addr(BT_SRC6, &a, &family);
	fl->bss->fl_cfg.src6 = a;
	fl->bss->fl_new_be = BT_BE_ID_BASE;
	/* As many entries, so as many hash buckets, as sluice's sl_flows. */
	err = bpf_map__set_max_entries(fl->maps.fl_flows, BX_FLOWS);
	if (!err)
		err = bpf_map__set_max_entries(fl->maps.fl_new_flows, BX_FLOWS);
	if (!err)
		err = bench_floor_bpf__load(fl);
	if (err)
		bench_die("bench_floor load: %s", strerror(-err));
	*prog_fd = bpf_program__fd(fl->progs.bench_floor);
	*flows_fd = bpf_map__fd(fl->maps.fl_flows);
	fd = bpf_map__fd(fl->maps.fl_backends);
	for (id = BT_BE_ID_BASE; id < t->next_be_id; id++)
		if (bpf_map_update_elem(fd, &id, bt_backend(t, id), BPF_ANY))
			bench_die("fl_backends update: %s", strerror(errno));
	return fl;
}

/*
 * Establish @n flows of set @set in sluice (first packet into sl_new, the
 * second promotes it) and give the floor the same 5-tuple -> backend.
 */
static void bx_establish(struct bx *b, struct pkt *first, struct pkt *second,
			 unsigned int set, unsigned int n,
			 const struct bt_vip *v)
{
	struct sluice_flow_key key;
	struct sluice_flow f;
	unsigned int i;
	__u32 be_id;

	for (i = 0; i < n; i++) {
		bx_establish_one(b->fd[P_SLUICE], first, second, set, i);
		bx_key(second, &key);
		be_id = bt_pick(b->t, v, &key);
		if ((i == 0 || i == n - 1) &&
		    (bt_flow_get(b->t, &key, &f) || f.backend_id != be_id))
			bench_die("flow %u of set %u is not established", i, set);
		if (bpf_map_update_elem(b->floor_flows, &key, &be_id, BPF_ANY))
			bench_die("fl_flows update: %s", strerror(errno));
	}
}

/*
 * The floor's entries for the never-used tuples of the new-flow cases, so
 * that it can meet them as sluice does: for the first time since set-up,
 * their buckets and entries long out of the caches. They go into the
 * handshake floor only (floor_new), never in front of established tuples.
 */
static void bx_floor_prefill(struct bx *b, unsigned int set, unsigned int n)
{
	struct sluice_flow_key key;
	unsigned int i;
	__u32 be_id;

	for (i = 0; i < n; i++) {
		bx_tuple(&syn4, set, i);
		bx_key(&syn4, &key);
		be_id = bt_pick(b->tn, b->v_new4, &key);
		if (bpf_map_update_elem(b->floor_new_flows, &key, &be_id,
					BPF_ANY))
			bench_die("fl_flows update: %s", strerror(errno));
	}
}

/*
 * One run of each forwarding program, checked as the BPF tests check: the
 * first flow of a set, built afresh so that its checksums are right.
 */
static void bx_check_output(struct bx *b, const char *client, const char *vip,
			    const struct bt_vip *v)
{
	static struct bt_result r;
	static struct pkt p;
	struct sluice_flow_key key;
	int prog;

	bx_build(&p, client, vip, IPPROTO_TCP, 80, PKT_TCP_ACK | PKT_TCP_PSH,
		 BX_PAYLOAD);
	bx_key(&p, &key);
	for (prog = P_FLOOR; prog <= P_SLUICE; prog++) {
		if (bt_prog_run(b->fd[prog], p.data, p.len, &r))
			bench_die("check run of %s failed", prog_name[prog]);
		bt_check_encap(prog_name[prog], &r, &p,
			       bt_backend(b->t, bt_pick(b->t, v, &key)));
	}
}

static void bx_setup(struct bx *b, int reps)
{
	int r;

	b->t = bx_open_sluice();
	b->fd[P_SLUICE] = b->t->prog_fd;
	b->v_tcp4 = bt_vip_add(b->t, VIP4, 80, IPPROTO_TCP, be4);
	b->v_udp4 = bt_vip_add(b->t, VIP4, 53, IPPROTO_UDP, be4);
	b->v_tcp6 = bt_vip_add(b->t, VIP6, 80, IPPROTO_TCP, be6);
	b->floor = bx_open_floor(b->t, &b->fd[P_FLOOR], &b->floor_flows);
	b->tn = bx_open_sluice();
	b->fd_new[P_SLUICE] = b->tn->prog_fd;
	b->v_new4 = bt_vip_add(b->tn, VIP4, 80, IPPROTO_TCP, be4);
	b->floor_new =
		bx_open_floor(b->tn, &b->fd_new[P_FLOOR], &b->floor_new_flows);
	b->fd_insert = bpf_program__fd(b->floor_new->progs.bench_floor_insert);
	b->fd[P_DROP] = bx_open_drop(&b->drop);

	bx_build(&syn4, CLIENT4, VIP4, IPPROTO_TCP, 80, PKT_TCP_SYN, 0);
	bx_build(&ack4, CLIENT4, VIP4, IPPROTO_TCP, 80, PKT_TCP_ACK, 0);
	bx_build(&data4, CLIENT4, VIP4, IPPROTO_TCP, 80,
		 PKT_TCP_ACK | PKT_TCP_PSH, BX_PAYLOAD);
	bx_build(&udp4, CLIENT4, VIP4, IPPROTO_UDP, 53, 0, BX_PAYLOAD);
	bx_build(&syn6, CLIENT6, VIP6, IPPROTO_TCP, 80, PKT_TCP_SYN, 0);
	bx_build(&ack6, CLIENT6, VIP6, IPPROTO_TCP, 80, PKT_TCP_ACK, 0);
	bx_build(&data6, CLIENT6, VIP6, IPPROTO_TCP, 80,
		 PKT_TCP_ACK | PKT_TCP_PSH, BX_PAYLOAD);
	bx_build(&pass4, CLIENT4, NOT_VIP4, IPPROTO_TCP, 80,
		 PKT_TCP_ACK | PKT_TCP_PSH, BX_PAYLOAD);

	bx_establish(b, &syn4, &ack4, SET_EST4, BX_CYCLE, b->v_tcp4);
	bx_establish(b, &udp4, &udp4, SET_UDP4, BX_CYCLE, b->v_udp4);
	bx_establish(b, &syn6, &ack6, SET_EST6, BX_CYCLE, b->v_tcp6);
	bx_floor_prefill(b, SET_WARM, BX_HOT);
	for (r = 0; r < reps; r++) {
		bx_floor_prefill(b, SET_NEW + 2 * r, BX_HOT);
		bx_floor_prefill(b, SET_NEW + 2 * r + 1, BX_CYCLE);
	}
	/* Tuple 0 of SET_EST4 and SET_EST6 (see bx_tuple). */
	bx_check_output(b, "198.19.1.0", VIP4, b->v_tcp4);
	bx_check_output(b, "fd00:10::3:0", VIP6, b->v_tcp6);

	b->s1 = calloc(b->calls > BX_CYCLE ? b->calls : BX_CYCLE, sizeof(__u32));
	b->s2 = calloc(b->calls > BX_CYCLE ? b->calls : BX_CYCLE, sizeof(__u32));
	b->s3 = calloc(BX_CYCLE, sizeof(__u32));
	b->s4 = calloc(BX_CYCLE, sizeof(__u32));
	if (!b->s1 || !b->s2 || !b->s3 || !b->s4)
		bench_die("out of memory");
}

/* --- measurements ------------------------------------------------------- */

/* @calls packets of @nflows cycled tuples of @set through program @prog. */
static struct bench_summary bx_measure(struct bx *b, int prog, struct pkt *p,
				       unsigned int set, unsigned int nflows,
				       int want)
{
	return bx_series(b->fd[prog], prog_name[prog], p, set, nflows,
			 prog == P_DROP ? -1 : want, b->s1, b->calls);
}

/* Zero the first @len bytes of the mmapable array @fd. */
static void bx_zero(int fd, size_t len, const char *what)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		bench_die("mmap %s: %s", what, strerror(errno));
	memset(p, 0, len);
	munmap(p, len);
}

/* Empty every sl_new slot of the handshake instance, and its tags. */
static void bx_new_clear(struct bx *b)
{
	bx_zero(b->tn->maps.new_map,
		(size_t)BX_NEW * sizeof(struct sluice_new_slot), "sl_new");
	bx_zero(b->tn->maps.new_tags,
		(size_t)BX_NEW / SLUICE_NEW_WAYS *
			sizeof(struct sluice_new_tags),
		"sl_new_tags");
}

static __u64 bx_promoted(struct bx *b)
{
	struct sluice_vip_stats vs;

	bt_vip_stats(b->tn, b->v_new4, &vs);
	return vs.promoted;
}

/*
 * @n handshakes in flight on an empty sl_new: all SYNs, then all ACKs;
 * tuples of sets @set, @set + 1, ... (65,536 per set). Returns the share
 * of ACKs that found their slot taken (not promoted).
 */
static double bx_lost_share(struct bx *b, unsigned int set, unsigned int n)
{
	__u64 before;
	unsigned int i;
	int v;

	bx_new_clear(b);
	before = bx_promoted(b);
	for (i = 0; i < n; i++) {
		bx_tuple(&syn4, set + i / BX_CYCLE, i % BX_CYCLE);
		bx_run1(b->fd_new[P_SLUICE], &syn4, &v);
		bx_expect("SYN (lost share)", i, v, XDP_TX);
	}
	for (i = 0; i < n; i++) {
		bx_tuple(&ack4, set + i / BX_CYCLE, i % BX_CYCLE);
		bx_run1(b->fd_new[P_SLUICE], &ack4, &v);
		bx_expect("ACK (lost share)", i, v, XDP_TX);
	}
	return 1.0 - (double)(bx_promoted(b) - before) / n;
}

/* The floor records tuple @i of @set as a new flow and forwards it. */
static __u32 bx_floor_insert(struct bx *b, unsigned int set, unsigned int i)
{
	int v;
	__u32 ns;

	bx_tuple(&syn4, set, i);
	ns = bx_run1(b->fd_insert, &syn4, &v);
	bx_expect("floor, insert and forward", i, v, XDP_TX);
	return ns;
}

/*
 * New flows of a never-used set: each SYN followed at once by its ACK
 * (@hot), or all SYNs, then all ACKs. The floor meets each tuple first,
 * for the first time too (bx_floor_prefill): its cost on a cold tuple;
 * and its insert program records each tuple as a new flow (@insert).
 */
static void bx_handshakes(struct bx *b, unsigned int set, unsigned int n,
			  int hot, struct bench_summary *syn,
			  struct bench_summary *promote,
			  struct bench_summary *floor,
			  struct bench_summary *insert)
{
	unsigned int i;
	int v;

	if (hot) {
		/* One program at a time, as in the other cases: each call
		 * follows the same program's, never another's. */
		for (i = 0; i < n; i++)
			b->s4[i] = bx_floor_insert(b, set, i);
		for (i = 0; i < n; i++) {
			bx_tuple(&syn4, set, i);
			b->s3[i] = bx_run1(b->fd_new[P_FLOOR], &syn4, &v);
			bx_expect("floor, new tuple (hot)", i, v, XDP_TX);
		}
		for (i = 0; i < n; i++) {
			bx_tuple(&syn4, set, i);
			b->s1[i] = bx_run1(b->fd_new[P_SLUICE], &syn4, &v);
			bx_expect("SYN (hot)", i, v, XDP_TX);
			bx_tuple(&ack4, set, i);
			b->s2[i] = bx_run1(b->fd_new[P_SLUICE], &ack4, &v);
			bx_expect("promoting ACK (hot)", i, v, XDP_TX);
		}
	} else {
		bx_new_clear(b); /* earlier rounds' lost flows sit there */
		for (i = 0; i < n; i++)
			b->s4[i] = bx_floor_insert(b, set, i);
		for (i = 0; i < n; i++) {
			bx_tuple(&syn4, set, i);
			b->s3[i] = bx_run1(b->fd_new[P_FLOOR], &syn4, &v);
			bx_expect("floor, new tuple", i, v, XDP_TX);
		}
		for (i = 0; i < n; i++) {
			bx_tuple(&syn4, set, i);
			b->s1[i] = bx_run1(b->fd_new[P_SLUICE], &syn4, &v);
			bx_expect("SYN", i, v, XDP_TX);
		}
		for (i = 0; i < n; i++) {
			bx_tuple(&ack4, set, i);
			b->s2[i] = bx_run1(b->fd_new[P_SLUICE], &ack4, &v);
			bx_expect("promoting ACK", i, v, XDP_TX);
		}
	}
	*syn = bench_summarize(b->s1, n);
	*promote = bench_summarize(b->s2, n);
	*floor = bench_summarize(b->s3, n);
	*insert = bench_summarize(b->s4, n);
}

struct bx_case {
	const char *name;
	struct pkt *pkt;
	unsigned int set;
	unsigned int nflows;
	int want;		/* verdict of both programs */
};

static const struct bx_case cases[] = {
	{ "est_tcp4", &data4, SET_EST4, 1, XDP_TX },
	{ "est_tcp4", &data4, SET_EST4, BX_CYCLE, XDP_TX },
	{ "udp4", &udp4, SET_UDP4, 1, XDP_TX },
	{ "udp4", &udp4, SET_UDP4, BX_CYCLE, XDP_TX },
	{ "est_tcp6", &data6, SET_EST6, 1, XDP_TX },
	{ "est_tcp6", &data6, SET_EST6, BX_CYCLE, XDP_TX },
	{ "pass_not_vip4", &pass4, SET_PASS, 1, XDP_PASS },
	{ "pass_not_vip4", &pass4, SET_PASS, BX_CYCLE, XDP_PASS },
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* Dynamic cases: sluice only, compared with the floor's est_tcp4. */
enum { D_SYN_HOT, D_PROMOTE_HOT, D_SYN, D_PROMOTE, D_N };
static const char *const dyn_name[D_N] = { "syn_new", "promote", "syn_new",
					   "promote" };
static const unsigned int dyn_flows[D_N] = { 1, 1, BX_CYCLE, BX_CYCLE };

static struct bench_summary res[N_CASES][P_N][BX_MAX_REPS];
static struct bench_summary dyn[D_N][BX_MAX_REPS];
static struct bench_summary dyn_floor[D_N][BX_MAX_REPS];
/* bench_floor_insert, 1 and 65,536 handshakes in flight */
static struct bench_summary floor_insert[2][BX_MAX_REPS];
static struct bench_summary drop[2][BX_MAX_REPS];
static double lost_cycle[BX_MAX_REPS]; /* share, 65,536 in flight */

int main(int argc, char **argv)
{
	struct bx b = { 0 };
	struct utsname un;
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	int cpu = sched_getcpu(), r, prog, first;
	double lost_full;
	__u64 promoted;
	size_t c, d;

	b.calls = argc > 2 ? (unsigned int)atoi(argv[2]) : BX_CYCLE;
	if (reps < 1 || reps > BX_MAX_REPS || b.calls < 1000)
		bench_die("usage: bench_xdp [REPS 1..%d] [CALLS >= 1000]",
			  BX_MAX_REPS);
	libbpf_set_print(NULL);
	bench_pin_cpu(cpu < 0 ? 0 : cpu);
	bx_setup(&b, reps);
	/* Untimed: the first round of handshakes after set-up ran 2-3x
	 * slower than the next ones (a heavy tail) in every run. */
	bx_handshakes(&b, SET_WARM, BX_HOT, 1, &drop[0][0], &drop[0][0],
		      &drop[0][0], &drop[0][0]);

	for (r = 0; r < reps; r++) {
		drop[0][r] = bx_measure(&b, P_DROP, &data4, SET_EST4, 1, 0);
		for (c = 0; c < N_CASES; c++) {
			/* Alternate which program goes first. */
			for (first = 0; first < 2; first++) {
				prog = (first ^ (r & 1)) ? P_SLUICE : P_FLOOR;
				res[c][prog][r] = bx_measure(&b, prog,
					cases[c].pkt, cases[c].set,
					cases[c].nflows, cases[c].want);
			}
		}
		bx_handshakes(&b, SET_NEW + 2 * r, BX_HOT, 1,
			      &dyn[D_SYN_HOT][r], &dyn[D_PROMOTE_HOT][r],
			      &dyn_floor[D_SYN_HOT][r], &floor_insert[0][r]);
		promoted = bx_promoted(&b);
		bx_handshakes(&b, SET_NEW + 2 * r + 1, BX_CYCLE, 0,
			      &dyn[D_SYN][r], &dyn[D_PROMOTE][r],
			      &dyn_floor[D_SYN][r], &floor_insert[1][r]);
		lost_cycle[r] =
			1.0 - (double)(bx_promoted(&b) - promoted) / BX_CYCLE;
		/* Both packets of a handshake are set against the floor's
		 * first meeting with the tuple. */
		dyn_floor[D_PROMOTE_HOT][r] = dyn_floor[D_SYN_HOT][r];
		dyn_floor[D_PROMOTE][r] = dyn_floor[D_SYN][r];
		drop[1][r] = bx_measure(&b, P_DROP, &data4, SET_EST4, 1, 0);
	}

	/* Fresh sets after the repetitions' (SET_NEW + 2 * reps - 1). */
	lost_full = bx_lost_share(&b, SET_NEW + 2 * reps, BX_FULL);

	uname(&un);
	printf("{\"bench\": \"xdp\", \"kernel\": \"%s\", \"cpu\": %d, "
	       "\"reps\": %d, \"calls\": %u, \"ring_size\": %u, "
	       "\"flows_map\": %u, \"cycled_flows\": %u, \"hot_handshakes\": %u,\n",
	       un.release, cpu, reps, b.calls, BX_RING, BX_FLOWS, BX_CYCLE,
	       BX_HOT);
	printf(" \"drop_before\": ");
	bx_print_reps(drop[0], reps);
	printf(",\n \"drop_after\": ");
	bx_print_reps(drop[1], reps);
	printf(",\n \"new_slots\": %u, \"new_lost\": {\"%u\": [", BX_NEW,
	       BX_CYCLE);
	for (r = 0; r < reps; r++)
		printf("%s%.5f", r ? ", " : "", lost_cycle[r]);
	printf("], \"%u\": [%.5f]}", BX_FULL, lost_full);
	printf(",\n \"floor_insert\": {\"1\": ");
	bx_print_reps(floor_insert[0], reps);
	printf(", \"%u\": ", BX_CYCLE);
	bx_print_reps(floor_insert[1], reps);
	printf("}");
	printf(",\n \"cases\": [\n");
	for (c = 0; c < N_CASES; c++) {
		printf("  {\"name\": \"%s\", \"flows\": %u", cases[c].name,
		       cases[c].nflows);
		for (prog = P_FLOOR; prog <= P_SLUICE; prog++) {
			printf(", \"%s\": ", prog_name[prog]);
			bx_print_reps(res[c][prog], reps);
		}
		printf("},\n");
	}
	for (d = 0; d < D_N; d++) {
		printf("  {\"name\": \"%s\", \"flows\": %u, \"floor_case\": "
		       "\"est_tcp4\", \"floor_new_tuple\": ", dyn_name[d],
		       dyn_flows[d]);
		bx_print_reps(dyn_floor[d], reps);
		printf(", \"sluice\": ");
		bx_print_reps(dyn[d], reps);
		printf("}%s\n", d + 1 < D_N ? "," : "");
	}
	printf(" ]}\n");
	return 0;
}
