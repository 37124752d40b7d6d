/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The backends' own socket counts (agent_poll.c): sluiced reads each
 * backend's sluice-decap agent (agent_port in the config) and a drain of
 * that backend completes only once the agent, read after the drain began,
 * counts no live socket for the VIP.
 */
#ifndef SLUICED_AGENT_POLL_H
#define SLUICED_AGENT_POLL_H

#include <stdbool.h>
#include <linux/types.h>

struct sl_daemon;
struct sl_be;

#define SL_AGENT_POLL_MS	250	/* how often each agent is read */
#define SL_AGENT_TIMEOUT_MS	1000	/* one read, connect included */
#define SL_AGENT_ERR_MAX	96

/* The last read of one backend's agent. */
struct sl_agent_read {
	__u64 started_boot_ms;	/* sl_boot_ms() the request was sent; 0: never read */
	bool ok;
	__u64 live;		/* live sockets of the VIP on the backend */
	char err[SL_AGENT_ERR_MAX];	/* why the read failed */
};

int sl_agent_poll_start(struct sl_daemon *d);
void sl_agent_poll_stop(struct sl_daemon *d);

/* The last read of backend @id's agent (zeroed if none). */
void sl_agent_last(struct sl_daemon *d, __u32 id, struct sl_agent_read *out);

/* Fill @out[id] with each agent's live count, -1 where none or failed. */
void sl_agent_counts(struct sl_daemon *d, int *out, size_t n);

/*
 * Does @b's backend hold no socket of the drain, as its kernel knows? True
 * only with an agent whose read, begun after the drain started, counted
 * no live socket. Without an agent, nothing is known.
 */
bool sl_agent_counted_none(struct sl_daemon *d, const struct sl_be *b);

#endif /* SLUICED_AGENT_POLL_H */
