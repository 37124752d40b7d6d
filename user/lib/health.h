/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Active health checks: the settings of one check, and the rise/fall
 * logic that turns check results into up/down (pure, unit-tested). The
 * checks themselves run in sluiced's health thread (user/sluiced/health_thread.c).
 *
 * A backend starts "unknown" (it takes new flows), becomes "up" after
 * `rise` consecutive successes and "down" after `fall` consecutive
 * failures; "down" takes it out of its VIP's table like a drain does.
 */
#ifndef SLUICE_HEALTH_H
#define SLUICE_HEALTH_H

#include <stdbool.h>
#include <linux/types.h>

#define SL_HC_NONE		0	/* no checks: health stays unknown */
#define SL_HC_TCP		1	/* TCP connect */
#define SL_HC_HTTP		2	/* HTTP GET path, expect a status */
#define SL_HC_HTTPS		3	/* the same over TLS */

#define SL_HC_KEEP 0 /* flows assigned to a down backend stay */
#define SL_HC_RELEASE		1	/* ... or are re-balanced on their next packet */

#define SL_HC_DEF_INTERVAL_MS	2000
#define SL_HC_DEF_TIMEOUT_MS	1000
#define SL_HC_DEF_RISE		2
#define SL_HC_DEF_FALL		3
#define SL_HC_PATH_MAX		128
#define SL_HC_CA_MAX		256

struct sl_health_cfg {
	__u8 type;		/* SL_HC_* */
	__u8 on_down;		/* SL_HC_KEEP or SL_HC_RELEASE */
	__u16 port;		/* host order; 0: the VIP's port */
	__u16 expect_status;	/* HTTP */
	char path[SL_HC_PATH_MAX];	/* HTTP */
	__u64 interval_ms;
	__u64 timeout_ms;
	__u32 rise;
	__u32 fall;
	bool tls_verify;	/* HTTPS: check the certificate (default) */
	/*
	 * agent_port: not a health check, but set and inherited the same way
	 * (per VIP, overridable per backend): the port of the backend's
	 * sluice-decap agent, whose socket count a drain waits for too; 0: none.
	 */
	__u16 agent_port;
	char ca_file[SL_HC_CA_MAX];	/* HTTPS: trust these CAs; "": the system's */
};

/* HTTP or HTTPS: a GET with a path and an expected status. */
static inline bool sl_hc_is_http(int type)
{
	return type == SL_HC_HTTP || type == SL_HC_HTTPS;
}

/* Counters the rise/fall logic keeps per backend. */
struct sl_health_track {
	int health;		/* enum sl_health (state.h) */
	__u32 ok_streak;
	__u32 fail_streak;
};

/*
 * Failed checks by reason ("timeout", "refused", "HTTP 503", ...), for the
 * reason label of sluice_backend_health_check_failures_total. The first
 * SL_HC_REASONS - 1 distinct reasons get a slot each, later ones count as
 * "other": a backend answering with ever-new errors cannot grow a scrape
 * without bound.
 */
#define SL_HC_REASONS		8
#define SL_HC_REASON_MAX	48
#define SL_HC_REASON_OTHER	"other"

struct sl_hc_reasons {
	char name[SL_HC_REASONS][SL_HC_REASON_MAX];
	__u64 n[SL_HC_REASONS];
};

void sl_hc_reason_count(struct sl_hc_reasons *r, const char *reason);

void sl_health_cfg_defaults(struct sl_health_cfg *hc);

/*
 * Feed one check result. Returns true when the health changed (unknown ->
 * up, up -> down, down -> up, unknown -> down).
 */
bool sl_health_result(struct sl_health_track *t, bool ok, __u32 rise,
		      __u32 fall);

const char *sl_health_type_name(int type);

#endif /* SLUICE_HEALTH_H */
