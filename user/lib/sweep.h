/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow sweeper (docs/design.md, "Counting live flows and deciding drains"): walks sl_new through a read-only
 * mapping, then sl_flows with batch lookups, then the drain table
 * (sl_pinned), in that order so a flow promoted between two walks is seen
 * at least once (twice is allowed: counts are upper bounds, never short).
 * It expires what ended, counts per backend the live confirmed flows and,
 * apart from them, the handshakes, and copies the confirmed flows of
 * draining backends into the drain table for the drain checker
 * (checker.h), whose job it is to expire and count those.
 *
 * Times are the kernel's CLOCK_MONOTONIC_COARSE in ms (abi.h), the clock
 * the datapath stamps flows with: it runs on while sluiced is stopped, so a
 * stall never ages a flow the datapath saw meanwhile.
 */
#ifndef SLUICE_SWEEP_H
#define SLUICE_SWEEP_H

#include <pthread.h>
#include <stdbool.h>
#include <linux/types.h>
#include "sluice/abi.h"
#include "drain.h"
#include "hold.h"
#include "maps.h"

struct sl_sweep_cfg {
	__u32 tcp_idle_ms;	/* confirmed TCP without client packets */
	__u32 udp_idle_ms;	/* confirmed UDP without client packets */
	__u32 close_grace_ms;	/* client silence after its FIN: closed */
	__u32 close_linger_ms;	/* ... and its entry is deleted */
	__u32 handshake_ms;	/* an sl_new slot counts as a handshake this long */
	__u32 unconfirmed_ms;	/* an unconfirmed sl_flows entry lives this long */
	/* While @hold is up (the drain walk runs), a sweep waits between
	 * batches: the walk is what the drain waits for, and on a small box
	 * both walking the table at once slows it. NULL: never held. */
	struct sl_hold *hold;
	/*
	 * The draining set as it is now (@draining_now, guarded by
	 * @drain_lock), where a sweep's own copy was taken when it began: a
	 * drain that came into force since then has copied its flows into
	 * the drain table (the drain walk), and the sweep must not drop them. NULL: no other
	 * thread changes the set during a sweep.
	 */
	pthread_mutex_t *drain_lock;
	const bool *draining_now;
};

/* What a flow is at a given time, as far as counting goes. */
enum sl_flow_verdict {
	SL_FLOW_LIVE = 0,	/* confirmed and not ended: counts in "flows" */
	SL_FLOW_HANDSHAKE,	/* not (yet) confirmed, young: "handshakes" */
	SL_FLOW_ENDED,		/* closed, reset, idle or never confirmed */
	SL_FLOW_CLOSED,		/* closed for counting, entry kept (close_linger) */
};

struct sl_sweep_result {
	struct sl_pass pass;				/* filled in by the caller */
	__u64 flows[SLUICE_MAX_BACKENDS];		/* live confirmed flows */
	__u64 handshakes[SLUICE_MAX_BACKENDS];		/* young unconfirmed ones */
	__u64 confirmed_start[SLUICE_MAX_BACKENDS];	/* sl_be_stats.confirmed */
	/* Draining backends only, this sweep: */
	__u64 evicted[SLUICE_MAX_BACKENDS]; /* pushed out of sl_flows, kept in the drain table */
	__u64 unprotected_be
		[SLUICE_MAX_BACKENDS]; /* live, the drain table had no room */
	__u64 entries;				/* sl_flows entries kept */
	__u64 new_entries;			/* sl_new slots in their handshake window */
	__u64 drain_table_entries; /* drain table (sl_pinned) entries kept */
	__u64 unprotected; /* draining flows the drain table had no room for */
	__u64 expired;				/* entries deleted this sweep */
	__u64 duration_us;
	__u64 cpu_us; /* the drain walk only: its thread's CPU time */
};

/*
 * Judge one flow at @now (pure; unit-tested). @in_new: an sl_new slot,
 * which is a handshake for cfg->handshake_ms after its packet. In
 * sl_flows: RESET has ended; an unconfirmed flow is a handshake until
 * cfg->unconfirmed_ms after it was created (or close_grace after a FIN);
 * a confirmed one is live until close_grace of client silence after its
 * FIN (then CLOSED: not counted, its entry kept so that a late client
 * packet still reaches the backend and revives it, until close_linger),
 * or its idle timeout.
 */
enum sl_flow_verdict sl_flow_judge(const struct sluice_flow_key *key,
				   const struct sluice_flow *f, bool in_new,
				   __u32 now, const struct sl_sweep_cfg *cfg);

/*
 * Is the end of this ended flow a loss (README "Losing nothing")? Only a
 * confirmed TCP flow still open: its client never closed it, so it may
 * come back to find no state. A CLOSING or RESET one was closed.
 */
bool sl_flow_is_loss(const struct sluice_flow_key *key,
		     const struct sluice_flow *f);

/* Delete @key from sl_flows (@fd) unless the datapath changed it since it
 * read as @seen: 1 deleted, 0 already gone, -EAGAIN changed. */
int sl_flow_expire(int fd, const struct sluice_flow_key *key,
		   const struct sluice_flow *seen);

/* sl_be_stats.confirmed summed over CPUs for every backend id (confirmed.c). */
int sl_be_confirmed_all(const struct sl_maps *m, __u64 *out);

/* @draining[id]: backend id is draining. Keeps res->pass, resets the rest. */
int sl_sweep(const struct sl_maps *m, const struct sl_sweep_cfg *cfg,
	     const bool *draining, struct sl_sweep_result *res);

/* Add the handshakes sl_new holds, per backend, to res->handshakes (and
 * res->new_entries): the sl_new part of a sweep, for the drain walk. */
int sl_sweep_new_handshakes(const struct sl_maps *m, const struct sl_sweep_cfg *cfg,
			    struct sl_sweep_result *res);

/*
 * Walk a flow-keyed hash (sl_flows, the drain table) in batches of at most
 * @batch (<= SL_FLOW_BATCH) entries, calling @fn on each entry read; @fn
 * may update or delete it. 0, or -errno if a batch read failed.
 */
#define SL_FLOW_BATCH 4096
struct sl_flow_batch {
	struct sluice_flow_key keys[SL_FLOW_BATCH];
	struct sluice_flow vals[SL_FLOW_BATCH];
};
typedef void (*sl_flow_visit_fn)(void *arg, const struct sluice_flow_key *k,
				 struct sluice_flow *f);
int sl_flow_walk(int fd, struct sl_flow_batch *b, __u32 batch,
		 sl_flow_visit_fn fn, void *arg);

/*
 * The same walk a batch at a time: @fn gets each batch read, its @n
 * entries in @b (the last may have none). A non-zero return from @fn
 * stops the walk and is returned.
 */
typedef int (*sl_flow_batch_fn)(void *arg, struct sl_flow_batch *b, __u32 n);
int sl_flow_walk_batches(int fd, struct sl_flow_batch *b, __u32 batch,
			 sl_flow_batch_fn fn, void *arg);

/* CLOCK_MONOTONIC in µs: how long a pass took. */
__u64 sl_mono_us(void);

#endif /* SLUICE_SWEEP_H */
