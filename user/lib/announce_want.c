// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Which VIP addresses a box should announce (announce.h): an address is
 * announced while the box is not drained, runs its program on every
 * interface, and at least one VIP on it has a backend in its live table
 * (active, not down, weight > 0). A box that cannot balance a VIP's
 * traffic stops attracting it, so the routers send it to boxes that can.
 */
#include <string.h>

#include "announce.h"
#include "state.h"

static bool vip_usable(const struct sl_vip *vip)
{
	size_t i;

	for (i = 0; i < vip->n_bes; i++)
		if (sl_be_in_table(&vip->bes[i]))
			return true;
	return false;
}

size_t sl_announce_wanted(const struct sl_state *st, bool withdraw_all,
			  struct sl_ann_addr *out, size_t max)
{
	size_t i, j, n = 0;

	if (withdraw_all)
		return 0;
	for (i = 0; i < st->n_vips && n < max; i++) {
		const struct sl_vip *v = &st->vips[i];
		bool dup = false;

		if (!vip_usable(v))
			continue;
		for (j = 0; j < n; j++)
			dup |= out[j].family == v->spec.family &&
			       !memcmp(&out[j].addr, &v->spec.addr, sizeof(v->spec.addr));
		if (dup)
			continue;
		out[n].addr = v->spec.addr;
		out[n].family = v->spec.family;
		n++;
	}
	return n;
}
