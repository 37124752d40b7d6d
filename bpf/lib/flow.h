/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A flow's state and flags as a box that sees only client-to-server
 * packets can tell them (include/sluice/abi.h): OPEN; CLOSING after a
 * client FIN, live while the client keeps sending; RESET after a client
 * RST, ended. CONFIRMED once the flow shows signs of a real connection:
 * only confirmed flows count toward a drain and enter the drain table, so a
 * spoofer's SYN+ACK pair never holds a drain or crowds real flows out.
 */
#ifndef SLUICE_BPF_FLOW_H
#define SLUICE_BPF_FLOW_H

#include "sluice/abi.h"
#include "sluice/limits.h"
#include "maps.h"
#include "parse.h"
#include "stats.h"

/* The state @pkt leaves a flow in: RST ends it, FIN starts its close. */
static __always_inline __u8 sl_state_after(const struct sl_pkt *pkt,
					   __u8 state)
{
	if (sl_is_tcp_rst(pkt))
		return SLUICE_FLOW_RESET;
	if (state == SLUICE_FLOW_OPEN && sl_is_tcp_close(pkt))
		return SLUICE_FLOW_CLOSING;
	return state;
}

/*
 * Refresh a flow found in sl_flows. An open flow's last_seen is rewritten
 * at most once per SLUICE_TOUCH_MS, so the common path leaves the entry's
 * cache line clean. A closing flow's is rewritten on every packet whose
 * millisecond differs: close_grace counts from the client's last packet
 * and may be shorter than TOUCH_MS, and a half-closed client that keeps
 * ACKing the server's data keeps its flow live however long that lasts.
 */
static __always_inline void sl_flow_touch(struct sluice_flow *f, __u32 now,
					  const struct sl_pkt *pkt)
{
	__u8 state = sl_state_after(pkt, f->state);

	if (state != f->state) {
		f->state = state;
		f->last_seen = now;
	} else if (state == SLUICE_FLOW_CLOSING) {
		if (f->last_seen != now)
			f->last_seen = now;
	} else if ((__s32)(now - f->last_seen) >= SLUICE_TOUCH_MS) {
		f->last_seen = now;
	}
}

/*
 * Does @pkt, on the not yet confirmed flow @f, show a real connection?
 * A UDP datagram after the first; a TCP segment with payload (a spoofer's
 * bare ACK has none); or any packet SLUICE_CONFIRM_MS or more after the
 * flow's first (a spoofer sends its pair back to back).
 */
static __always_inline int sl_confirms(const struct sl_pkt *pkt,
				       const struct sluice_flow *f, __u32 now)
{
	return pkt->l4proto == IPPROTO_UDP || pkt->payload_len ||
	       (__s32)(now - f->created) >= SLUICE_CONFIRM_MS;
}

/*
 * @f (backend @be_id, @be) has just been written to sl_flows with
 * SLUICE_FLOW_F_CONFIRMED set. A draining backend's flow is copied into
 * the drain table, so the drain checker sees it without a full sweep. The
 * counter is bumped last: a sweep that reads it after the bump finds the
 * flow in the tables, one that read it before counts the bump as a flow
 * on top of what it found, so the daemon's count never falls short.
 */
static __always_inline void sl_confirmed(const struct sluice_flow_key *key,
					 const struct sluice_flow *f,
					 const struct sluice_backend *be,
					 __u32 be_id)
{
	struct sluice_be_stats *bs;

	if (be->flags & SLUICE_BE_F_DRAINING)
		bpf_map_update_elem(&sl_pinned, key, f, BPF_ANY);
	bs = sl_be_stat(be_id);
	if (bs)
		bs->confirmed++;
}

#endif /* SLUICE_BPF_FLOW_H */
