// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The drain checker: one pass over the drain table (see checker.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "checker.h"

#define CHECK_BATCH 1024

struct check {
	const struct sl_maps *m;
	const struct sl_sweep_cfg *cfg;
	const bool *draining;
	struct sl_check_result *res;
	__u32 now;
};

/* The flow left for another backend: lost if it was open. */
static void moved(struct check *c, const struct sluice_flow_key *k,
		  const struct sluice_flow *pf)
{
	/* Whoever deletes the drain table entry counts it: once. */
	if (!bpf_map_delete_elem(c->m->drain_table, k) &&
	    pf->state == SLUICE_FLOW_OPEN)
		c->res->lost[pf->backend_id]++;
}

/* The flow ended: take it out of both tables, counting a loss if due. */
static bool end_flow(struct check *c, const struct sluice_flow_key *k,
		     const struct sluice_flow *cur, bool in_flows)
{
	if (in_flows && sl_flow_expire(sl_flows_fd(c->m, k), k, cur) == -EAGAIN)
		return false;	/* refreshed since we read it: live */
	if (bpf_map_delete_elem(c->m->drain_table, k))
		return true;	/* someone else ended it */
	c->res->expired++;
	if (sl_flow_is_loss(k, cur))
		c->res->lost[cur->backend_id]++;
	return true;
}

static void visit(void *arg, const struct sluice_flow_key *k,
		  struct sluice_flow *pf)
{
	struct check *c = arg;
	struct sluice_flow cur;
	__u32 be = pf->backend_id;
	enum sl_flow_verdict v;
	bool in_flows;

	if (be >= SLUICE_MAX_BACKENDS || !c->draining[be])
		return; /* not draining (any more): the sweeper drops it */
	c->res->entries++;
	in_flows = !bpf_map_lookup_elem(sl_flows_fd(c->m, k), k, &cur);
	if (in_flows && (cur.backend_id != be || cur.epoch != pf->epoch)) {
		moved(c, k, pf);
		return;
	}
	if (!in_flows)
		cur = *pf; /* evicted: the drain table's copy is the flow */
	else if (memcmp(&cur, pf, sizeof(cur)))
		bpf_map_update_elem(c->m->drain_table, k, &cur, BPF_EXIST);
	v = sl_flow_judge(k, &cur, false, c->now, c->cfg);
	if (v == SL_FLOW_ENDED && end_flow(c, k, &cur, in_flows))
		return;
	if (v != SL_FLOW_CLOSED)	/* closed: kept, not counted */
		c->res->flows[be]++;
}

int sl_check_drain_table(const struct sl_maps *m,
			 const struct sl_sweep_cfg *cfg, const bool *draining,
			 struct sl_check_result *res)
{
	struct check c = { .m = m, .cfg = cfg, .draining = draining, .res = res };
	struct sl_pass pass = res->pass;
	struct sl_flow_batch *b = malloc(sizeof(*b));
	__u64 start = sl_mono_us();
	int rc;

	if (!b)
		return -ENOMEM;
	memset(res, 0, sizeof(*res));
	res->pass = pass;
	rc = sl_be_confirmed_all(m, res->confirmed_start);
	c.now = sl_clock_now();
	if (!rc)
		rc = sl_flow_walk(m->drain_table, b, CHECK_BATCH, visit, &c);
	if (!rc)
		rc = sl_be_confirmed_all(m, res->confirmed_end);
	free(b);
	res->duration_us = sl_mono_us() - start;
	return rc;
}
