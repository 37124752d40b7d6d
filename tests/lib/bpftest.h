/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fixtures for the BPF tests: load the balancer (or decap) skeleton
 * unpinned, fill its maps through the daemon's own helpers (user/lib/maps.h),
 * run one packet at a time through BPF_PROG_TEST_RUN, and check the result.
 *
 * Every helper fails the running cmocka test itself (a load failure is a
 * failure, never a skip) and prints the context it was given, so a table
 * row that fails names itself.
 */
#ifndef SLUICE_TEST_BPFTEST_H
#define SLUICE_TEST_BPFTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/types.h>

#include "sluice/abi.h"
#include "maps.h"
#include "maglev.h"
#include "pkt.h"
#include "check.h"

#define BT_RING_SMALL		251	/* prime: fast tests */
#define BT_RING_MEDIUM		1021
#define BT_FLOWS		65536
#define BT_NEW_FLOWS		16384
#define BT_HASH_SEED		0x5eed1ce5U
#define BT_MAGLEV_SEED		0x5111ce5eedULL
#define BT_MAX_VIPS		12
#define BT_MAX_BE		16	/* backends per VIP */
#define BT_VIP_ID_BASE		10	/* ids unrelated to table positions */
#define BT_BE_ID_BASE		100
#define BT_MAX_BE_IDS		(BT_MAX_VIPS * BT_MAX_BE)
#define BT_OUT_MAX		(PKT_MAX + 256)

/* Outer source addresses written to sl_config. */
#define BT_SRC4			"198.18.0.1"
#define BT_SRC6			"fd00::1"
#define BT_TEST_IFINDEX		1	/* lo: test-run's ingress interface */

extern const __u8 bt_egress_mac[6];	/* smac of every backend's next hop */

/* One VIP, its backends and the Maglev table last published for it. */
struct bt_vip {
	struct sluice_vip_key key;
	__u32 vip_id;
	size_t nbe;
	__u32 be_id[BT_MAX_BE];
	struct maglev_backend mb[BT_MAX_BE];
	__u32 *table;			/* ring_size slots */
	__u32 *fb_table; /* pre-drain table, or NULL: no drain */
};

/* A loaded balancer and what the test put into it. */
struct bt {
	struct sluice_bpf *skel;
	struct sl_maps maps;
	int prog_fd;
	__u32 ring_size;
	__u32 next_be_id;
	__u64 runs;			/* packets run through the program */
	int nvips;
	struct bt_vip vips[BT_MAX_VIPS];
	struct sluice_backend be[BT_MAX_BE_IDS];	/* by id - BT_BE_ID_BASE */
};

/* One test run's outcome. */
struct bt_result {
	int verdict;			/* the program's return value */
	int reason;			/* the one SLUICE_R_* it counted */
	__u32 out_len;
	__u8 out[BT_OUT_MAX];
};

/* --- balancer fixture --------------------------------------------------- */

/* Open, size (ring, flow tables), set rodata, load, open maps, config. */
struct bt *bt_open(__u32 ring_size);
/* The same with flows.udp_fallback set as given. */
struct bt *bt_open_udp_fallback(__u32 ring_size, bool udp_fallback);
/* The same with flows.table_size @flows instead of BT_FLOWS. */
struct bt *bt_open_flows(__u32 ring_size, __u32 flows);
void bt_close(struct bt *t);

/*
 * Add a VIP (addr, port 0 = every port, IPPROTO_TCP/UDP) with the given
 * backend addresses (NULL-terminated, may be empty), weight 1 each; write
 * the backends and the VIP address entry, build and publish its table.
 */
struct bt_vip *bt_vip_add(struct bt *t, const char *addr, __u16 port,
			  __u8 proto, const char *const *backends);
/* Set a backend's weight (0 = out of the table, as a drain does) and
 * republish the VIP's table. The sl_backends entry is kept. */
void bt_vip_set_weight(struct bt *t, struct bt_vip *v, size_t idx,
		       __u32 weight);
/* Rebuild and publish the table from the current weights. */
void bt_vip_publish(struct bt *t, struct bt_vip *v);
/*
 * Drain backend @idx as sluiced does: keep the table from before the
 * first drain as the pre-drain table (SLUICE_VIP_F_FALLBACK), flag the
 * backend DRAINING, take it out of the live table.
 */
void bt_vip_drain(struct bt *t, struct bt_vip *v, size_t idx);
/* The drains are over: publish the live table alone. */
void bt_vip_drains_end(struct bt *t, struct bt_vip *v);
/* The backend the pre-drain table names (the live one when none). */
__u32 bt_fb_pick(const struct bt *t, const struct bt_vip *v,
		 const struct sluice_flow_key *key);

/*
 * Move @s to the first source port from @from whose pre-drain pick in @v
 * is @fb and whose live pick is another backend (@live, unless 0): the
 * fallback sends it to @fb in GUE naming the live pick. Returns the port;
 * fails the test when none of 8,000 ports does.
 */
__u16 bt_fallback_port(const struct bt *t, const struct bt_vip *v,
		       struct pkt_spec *s, __u16 from, __u32 fb, __u32 live);

/* The VIP a flow key belongs to (exact port, then port 0); fails if none. */
const struct bt_vip *bt_vip_find(const struct bt *t,
				 const struct sluice_flow_key *key);
/* The Maglev slot a new flow hashes to, as the datapath computes it. */
__u32 bt_slot(const struct bt *t, const struct sluice_flow_key *key);
/* The backend id the published table names for a new flow. */
__u32 bt_pick(const struct bt *t, const struct bt_vip *v,
	      const struct sluice_flow_key *key);
/* Rewrite backend @id (through sl_backend_set) and the test's copy. */
void bt_backend_update(struct bt *t, __u32 id, const struct sluice_backend *be);
/* An existing interface other than loopback (for redirect cases). */
int bt_other_ifindex(void);
/* The sluice_backend the test wrote for @id. */
const struct sluice_backend *bt_backend(const struct bt *t, __u32 id);
/* Index of backend @id in @v, or -1. */
int bt_vip_be_index(const struct bt_vip *v, __u32 id);

/*
 * Run @in through the balancer once. Asserts that the run succeeded, that
 * exactly one reason was counted for it and that the verdict is that
 * reason's sluice_reason_verdict().
 */
void bt_run(struct bt *t, const char *ctx, const struct pkt *in,
	    struct bt_result *r);
/* Build @s and run it; fails the test if the spec does not build. */
void bt_run_spec(struct bt *t, const char *ctx, const struct pkt_spec *s,
		 struct pkt *in, struct bt_result *r);

__u64 bt_reason_count(const struct bt *t, int reason);
/* Every reason summed over CPUs must add up to the packets run. */
void bt_assert_reasons_total(const struct bt *t);
/*
 * sl_new_tags as the datapath must keep it (abi.h): each tag the
 * sluice_new_tag() of its slot's flow, 0 for an empty slot. Fails the
 * test at the first that is not; returns the slots in use.
 */
__u64 bt_assert_new_tags(const struct bt *t, const char *ctx);

void bt_vip_stats(const struct bt *t, const struct bt_vip *v,
		  struct sluice_vip_stats *out);
void bt_be_stats(const struct bt *t, __u32 be_id, struct sluice_be_stats *out);

/* Flow table lookups: 0 and @f filled, or -ENOENT. */
int bt_flow_get(const struct bt *t, const struct sluice_flow_key *key,
		struct sluice_flow *f);
int bt_new_get(const struct bt *t, const struct sluice_flow_key *key,
	       struct sluice_flow *f);
int bt_drain_table_get(const struct bt *t, const struct sluice_flow_key *key,
		       struct sluice_flow *f);
/*
 * Write a flow as if the datapath had: into sl_flows, the drain table
 * (sl_pinned), or the sl_new slot its hash maps to. Tests of time-dependent rules build flows
 * with created/last_seen in the past of bt_now(), since the datapath reads
 * the kernel's clock and no test can set it.
 */
void bt_flow_put(const struct bt *t, const struct sluice_flow_key *key,
		 const struct sluice_flow *f);
void bt_drain_table_put(const struct bt *t, const struct sluice_flow_key *key,
			const struct sluice_flow *f);
void bt_new_put(const struct bt *t, const struct sluice_flow_key *key,
		const struct sluice_flow *f);
/* Write slot @idx of sl_new as @s and its tag to match, as the datapath
 * would (abi.h, sl_new_tags). */
void bt_new_slot_put(const struct bt *t, __u32 idx,
		     const struct sluice_new_slot *s);
/* The datapath's "now": CLOCK_MONOTONIC_COARSE in ms, truncated (abi.h). */
__u32 bt_now(void);

/* --- checks ------------------------------------------------------------- */

/* Verdict and reason, with names on failure. */
void bt_check_verdict(const char *ctx, const struct bt_result *r,
		      int verdict, int reason);
/* XDP_PASS and the frame came out byte-identical. */
void bt_check_unchanged(const char *ctx, const struct bt_result *r,
			const struct pkt *in);
/*
 * @r is @in encapsulated to @be: Ethernet from the backend's cached MACs,
 * outer IPv4 (IPIP/6in4) or IPv6 (IPv6-in-IPv6/4in6) header from the
 * configured source with correct lengths, TTL, protocol and checksum, and
 * the input's IP packet byte-for-byte with valid checksums after it.
 */
void bt_check_encap(const char *ctx, const struct bt_result *r,
		    const struct pkt *in, const struct sluice_backend *be);
/* As bt_check_encap, in GUE naming second hop @hop2 when not NULL. */
void bt_check_encap_hop(const char *ctx, const struct bt_result *r,
			const struct pkt *in, const struct sluice_backend *be,
			const struct sluice_backend *hop2);
/* Memory equal, else both dumps and the first differing offset. */
void bt_check_mem(const char *ctx, const char *what, const void *got,
		  const void *want, size_t len);

/* --- decap fixture ------------------------------------------------------ */

struct bt_decap {
	struct decap_bpf *skel;
	int prog_fd;
	int addrs_fd;
	int stats_fd;
	__u32 ifindex; /* ingress interface of the runs; 0: lo */
	__u64 runs;
};

struct bt_decap *bt_decap_open(void);
void bt_decap_close(struct bt_decap *d);
/* Make @addr one of this host's tunnel endpoints (sl_decap_addrs). */
void bt_decap_add_addr(struct bt_decap *d, const char *addr);
/* Run @in through decap; asserts the run succeeded. */
void bt_decap_run(struct bt_decap *d, const char *ctx, const void *in,
		  __u32 len, struct bt_result *r);
__u64 bt_decap_stat(const struct bt_decap *d, __u32 reason);

/* --- generic ------------------------------------------------------------ */

/* One BPF_PROG_TEST_RUN of @prog_fd; 0 or -errno. */
int bt_prog_run(int prog_fd, const void *in, __u32 len, struct bt_result *r);
/* The same, arriving on @ifindex (0: lo, the default). */
int bt_prog_run_on(int prog_fd, __u32 ifindex, const void *in, __u32 len,
		   struct bt_result *r);
/* A per-CPU map value of @n u64 counters summed over CPUs. */
void bt_percpu_sum(int fd, __u32 key, size_t n, __u64 *out);

#endif /* SLUICE_TEST_BPFTEST_H */
