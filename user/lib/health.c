// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Health-check settings and the rise/fall decision (see health.h). */
#include <stdio.h>
#include <string.h>

#include "health.h"
#include "state.h"

void sl_health_cfg_defaults(struct sl_health_cfg *hc)
{
	memset(hc, 0, sizeof(*hc));
	hc->type = SL_HC_NONE;
	hc->on_down = SL_HC_KEEP;
	hc->expect_status = 200;
	strcpy(hc->path, "/");
	hc->interval_ms = SL_HC_DEF_INTERVAL_MS;
	hc->timeout_ms = SL_HC_DEF_TIMEOUT_MS;
	hc->rise = SL_HC_DEF_RISE;
	hc->fall = SL_HC_DEF_FALL;
	hc->tls_verify = true;
}

bool sl_health_result(struct sl_health_track *t, bool ok, __u32 rise,
		      __u32 fall)
{
	int before = t->health;

	if (ok) {
		t->fail_streak = 0;
		t->ok_streak++;
		if (t->health != SL_HEALTH_UP && t->ok_streak >= rise)
			t->health = SL_HEALTH_UP;
	} else {
		t->ok_streak = 0;
		t->fail_streak++;
		if (t->health != SL_HEALTH_DOWN && t->fail_streak >= fall)
			t->health = SL_HEALTH_DOWN;
	}
	return t->health != before;
}

const char *sl_health_type_name(int type)
{
	switch (type) {
	case SL_HC_TCP:
		return "tcp";
	case SL_HC_HTTP:
		return "http";
	case SL_HC_HTTPS:
		return "https";
	default:
		return "none";
	}
}

void sl_hc_reason_count(struct sl_hc_reasons *r, const char *reason)
{
	int i;

	if (!reason || !*reason)
		reason = "unknown";
	for (i = 0; i < SL_HC_REASONS - 1; i++) {
		if (!r->name[i][0])
			snprintf(r->name[i], SL_HC_REASON_MAX, "%s", reason);
		if (!strncmp(r->name[i], reason, SL_HC_REASON_MAX - 1)) {
			r->n[i]++;
			return;
		}
	}
	snprintf(r->name[i], SL_HC_REASON_MAX, "%s", SL_HC_REASON_OTHER);
	r->n[i]++;
}
