// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The drain pin walk: load and run the in-kernel sl_flows walk (pin_walk.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pin_walk.h"
#include "pin_walk.skel.h"

struct sl_pin_walker {
	struct pin_walk_bpf *skel;
	const struct sl_maps *m;
};

void sl_pin_walker_close(struct sl_pin_walker *w)
{
	if (!w)
		return;
	pin_walk_bpf__destroy(w->skel);
	free(w);
}

int sl_pin_walker_open(const struct sl_maps *m, struct sl_pin_walker **out,
		       char *err, size_t errlen)
{
	struct sl_pin_walker *w = calloc(1, sizeof(*w));
	int rc = -ENOMEM;

	*out = NULL;
	if (w) {
		w->m = m;
		w->skel = pin_walk_bpf__open();
		rc = w->skel ? 0 : -errno;
	}
	if (!rc)
		rc = bpf_map__reuse_fd(w->skel->maps.sl_flows, m->flows);
	if (!rc)
		rc = bpf_map__reuse_fd(w->skel->maps.sl_pinned, m->drain_table);
	if (!rc)
		rc = pin_walk_bpf__load(w->skel);
	if (!rc) {
		*out = w;
		return 0;
	}
	snprintf(err, errlen, "cannot load the drain pin walk (a syscall program): %s; "
		 "drains wait for a full sweep instead", strerror(-rc));
	sl_pin_walker_close(w);
	return rc;
}

static int run(struct sl_pin_walker *w)
{
	__u64 ctx = 0;
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx));

	return bpf_prog_test_run_opts(bpf_program__fd(w->skel->progs.sl_pin_walk),
				      &opts) ? -errno : 0;
}

int sl_pin_walk(struct sl_pin_walker *w, const struct sl_sweep_cfg *cfg,
		const bool *draining, struct sl_sweep_result *res)
{
	struct pin_walk_bpf__bss *bss = w->skel->bss;
	struct sl_pass pass = res->pass;
	__u64 start = sl_mono_us();
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	res->pass = pass;
	memset(bss, 0, sizeof(*bss));
	for (i = 0; i < SLUICE_MAX_BACKENDS; i++)
		bss->draining[i] = draining[i];
	bss->unconfirmed_ms = cfg->unconfirmed_ms;
	bss->close_grace_ms = cfg->close_grace_ms;
	bss->now_ms = sl_clock_now();
	/* sl_new before sl_flows: a promotion in between is seen in sl_flows. */
	rc = sl_sweep_new_handshakes(w->m, cfg, res);
	if (!rc)
		rc = run(w);
	for (i = 0; !rc && i < SLUICE_MAX_BACKENDS; i++) {
		if (!draining[i])
			continue;
		res->handshakes[i] += bss->handshakes[i];
		res->unprotected_be[i] = bss->unprotected[i];
		res->unprotected += bss->unprotected[i];
	}
	res->entries = bss->walked;
	res->drain_table_entries = bss->pinned;
	res->duration_us = sl_mono_us() - start;
	return rc;
}
