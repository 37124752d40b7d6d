/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The desired state sluiced keeps: VIPs, their backends, weights, and the
 * backend lifecycle (README, "Draining"). Pure logic, no maps: every
 * operation validates first and changes nothing when it fails, and the
 * caller then mirrors the new state into the datapath.
 *
 *             add             drain            flows == 0 or deadline
 *   (none) -------> active ----------> draining ------------------> drained
 *                     ^                   |                          |
 *                     +---- undrain ------+-------- undrain ---------+
 *                               remove (any state) ---> gone
 */
#ifndef SLUICE_STATE_H
#define SLUICE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "sluice/abi.h"
#include "drain.h"
#include "health.h"
#include "histogram.h"
#include "parse.h"
#include "wallclock.h"

enum sl_be_state {
	SL_BE_ACTIVE = 0,
	SL_BE_DRAINING,
	SL_BE_DRAINED,
};

enum sl_health {
	SL_HEALTH_UNKNOWN = 0,
	SL_HEALTH_UP,
	SL_HEALTH_DOWN,
};

#define SL_BE_NAME_MAX	64	/* with the NUL */

struct sl_be {
	struct sluice_addr addr;
	__u8 family;
	__u32 weight;
	char name[SL_BE_NAME_MAX];	/* operator's name; "": none */
	__u32 id;			/* sl_backends index */
	int state;			/* enum sl_be_state */
	__u64 drain_started;		/* unix ms */
	__u64 drain_deadline;		/* unix ms */
	bool timed_out;			/* drained by deadline, not by count */
	__u64 flows_left;		/* live flows when the deadline passed */
	__u64 lost;			/* flows lost while draining (sweep.h) */
	/* Runtime only (not persisted). */
	int health;			/* enum sl_health */
	/*
	 * Live confirmed flows: @flows_base counted by the latest pass that
	 * saw them all, which began when sl_be_stats.confirmed read
	 * @confirmed_base; shown as sl_be_flows_shown(). @flows: that bound
	 * when the main thread last looked (for logs and tests).
	 */
	__u64 flows;
	__u64 flows_base, confirmed_base;
	__u64 base_tick;		/* start tick of the pass behind flows_base */
	__u64 handshakes;		/* unconfirmed flows at the last sweep */
	struct sl_drain_track drain;	/* the completion rule (drain.h) */
	char health_reason[48];		/* last failed check: "refused", "HTTP 503" */
	__u64 health_latency_us;	/* duration of the last check */
	__u64 checks_ok, checks_failed;	/* since the daemon started */
	__u32 ok_streak, fail_streak;	/* rise/fall progress */
	__u64 evicted; /* draining flows evicted, kept in the drain table */
	struct sl_health_cfg hc;	/* effective check (from config) */
	struct sl_hist hc_latency;	/* every check's duration */
	struct sl_hc_reasons hc_fails;	/* failed checks by reason */
};

/*
 * Only its deadline can end @b's drain: its counts are blind (drain.h)
 * and no agent (agent_port) counts for it on the backend.
 */
static inline bool sl_be_unverifiable(const struct sl_be *b)
{
	return b->drain.blind && !b->hc.agent_port;
}

struct sl_vip {
	struct sl_vip_spec spec;
	struct sl_health_cfg hc;	/* the VIP's check; backends inherit it */
	__u32 id;			/* sl_vip_stats index, ring pair */
	struct sl_be *bes;
	size_t n_bes;
};

struct sl_state {
	struct sl_vip *vips;
	size_t n_vips;
	__u32 next_be_id;		/* round-robin: reuse ids as late as possible */
	/* Under cluster: the etcd revision of the desired state this state
	 * applies, so a restart resumes it under its revision; 0: none. */
	__s64 cluster_rev;
	/* The wall clock its drain times are in (wallclock.h), for a restart. */
	struct sl_clock_mark clock;
};

const char *sl_be_state_name(int state);
int sl_be_state_parse(const char *s);
const char *sl_health_name(int health);

void sl_state_init(struct sl_state *st);
void sl_state_free(struct sl_state *st);
/* Deep copy: operations on a copy leave the original untouched. */
int sl_state_copy(struct sl_state *dst, const struct sl_state *src);

struct sl_vip *sl_state_find_vip(const struct sl_state *st,
				 const struct sl_vip_spec *spec);
/* Whether any VIP (any port or protocol) has address @addr. */
bool sl_state_has_vip_addr(const struct sl_state *st,
			   const struct sluice_addr *addr, __u8 family);
struct sl_be *sl_vip_find_be(const struct sl_vip *vip,
			     const struct sluice_addr *addr, __u8 family);
size_t sl_state_n_backends(const struct sl_state *st);

/*
 * A backend name: 1-63 of [A-Za-z0-9._-], starting with a letter or digit,
 * and not an IP address (the CLI takes either in the same place). 0, or
 * -EINVAL with the reason in @err.
 */
int sl_be_name_check(const char *name, char *err, size_t errlen);
/* The backend with sl_backends id @id and, in *@vip, its VIP; or NULL. */
struct sl_be *sl_state_find_be_by_id(const struct sl_state *st, __u32 id,
				     struct sl_vip **vip);
/* The backend of @vip called @name, or NULL. */
struct sl_be *sl_vip_find_be_by_name(const struct sl_vip *vip, const char *name);
/*
 * Name backend @addr of @spec (@name "" clears it); refused if another
 * backend of the VIP has the name.
 */
int sl_state_be_set_name(struct sl_state *st, const struct sl_vip_spec *spec,
			 const struct sluice_addr *addr, __u8 family, const char *name,
			 char *err, size_t errlen);

/* Does @be take new flows (is it in its VIP's Maglev table)? */
bool sl_be_in_table(const struct sl_be *be);
/*
 * Every backend that would take new flows (active, weight > 0) is down.
 * sluice then fails open: the table holds all of them regardless of health
 * (better a chance than certain failure), and says so in metrics and logs.
 */
bool sl_vip_all_down(const struct sl_vip *vip);

/*
 * Changes. Each returns 0 or -errno and, on error, leaves @st unchanged and
 * writes a reason for operators into @err (without the object's name: the
 * caller says "cannot drain backend X on Y: <err>").
 */
int sl_state_vip_add(struct sl_state *st, const struct sl_vip_spec *spec,
		     char *err, size_t errlen);
int sl_state_vip_del(struct sl_state *st, const struct sl_vip_spec *spec,
		     char *err, size_t errlen);
int sl_state_be_add(struct sl_state *st, const struct sl_vip_spec *spec,
		    const struct sluice_addr *addr, __u8 family, __u32 weight,
		    char *err, size_t errlen);
int sl_state_be_del(struct sl_state *st, const struct sl_vip_spec *spec,
		    const struct sluice_addr *addr, __u8 family,
		    char *err, size_t errlen);
/*
 * Change a backend's weight (0..SL_CFG_WEIGHT_MAX; 0 = no new flows), in any
 * lifecycle state: a draining backend keeps it for when it is undrained.
 * *old_weight gets the weight it had.
 */
int sl_state_be_set_weight(struct sl_state *st, const struct sl_vip_spec *spec,
			   const struct sluice_addr *addr, __u8 family, __u32 weight,
			   __u32 *old_weight, char *err, size_t errlen);
/* Start (or re-time) a drain. A drained backend stays drained. */
int sl_state_be_drain(struct sl_state *st, const struct sl_vip_spec *spec,
		      const struct sluice_addr *addr, __u8 family,
		      __u64 now_ms, __u64 timeout_ms, char *err, size_t errlen);
int sl_state_be_undrain(struct sl_state *st, const struct sl_vip_spec *spec,
			const struct sluice_addr *addr, __u8 family,
			char *err, size_t errlen);

/*
 * The live flows to show for @be, given its sl_be_stats.confirmed now:
 * never fewer than it has (drain.h, sl_flows_upper_bound()).
 */
__u64 sl_be_flows_shown(const struct sl_be *be, __u64 confirmed_now);

/*
 * A draining backend past its deadline at @now_ms becomes drained, timed
 * out, with @flows_now left. Returns 1 if it changed. A drain completes
 * by count only through sl_be_drain_complete(), which the completion rule
 * (drain.h) decides: a count of zero alone proves nothing.
 */
int sl_be_drain_deadline(struct sl_be *be, __u64 flows_now, __u64 now_ms);
/* The completion rule held: drained, nothing left. 1 if it changed. */
int sl_be_drain_complete(struct sl_be *be);

/*
 * The wall clock stepped by @step_ms (wallclock.h): move every running
 * drain's start and deadline with it, so each keeps the time it had left.
 * Returns how many drains moved.
 */
size_t sl_state_shift_drains(struct sl_state *st, __s64 step_ms);

/*
 * Apply what changed between two versions of the config file's VIP section
 * (@old_cfg -> @new_cfg, both as states of active backends) to @st, which
 * also holds changes made at runtime. VIPs and backends the file added are
 * added, those it removed are removed, changed weights are set; runtime
 * additions and drains are kept. All or nothing: on error @st is unchanged.
 */
int sl_state_apply_config(struct sl_state *st, const struct sl_state *old_cfg,
			  const struct sl_state *new_cfg, char *err,
			  size_t errlen);

/*
 * Does each VIP's backend list fit a Maglev table of @table_size slots
 * (maglev.table_size)? Past one backend per slot, maglev_build() gives
 * the extra backends no slot at all: they would silently get no new
 * flows. The config loader refuses such a file; this check holds every
 * other way a backend comes in (the control socket, etcd's desired
 * state, runtime additions merged by a reload or a restart), since no
 * state reaches the maps without it (sl_daemon_commit(), sl_dp_sync()).
 * Every backend counts, whatever its state: an undrain must not be the
 * change that no longer fits. 0, or -ENOSPC with @err.
 */
int sl_state_check_table_size(const struct sl_state *st, __u32 table_size,
			      char *err, size_t errlen);

#endif /* SLUICE_STATE_H */
