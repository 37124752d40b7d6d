// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Runtime weight changes (`sluicectl backend set --weight`): validated
 * here, applied by the caller's commit like every other state change.
 */
#include <errno.h>
#include <stdio.h>

#include "config.h"
#include "state.h"

int sl_state_be_set_weight(struct sl_state *st, const struct sl_vip_spec *spec,
			   const struct sluice_addr *addr, __u8 family, __u32 weight,
			   __u32 *old_weight, char *err, size_t errlen)
{
	struct sl_vip *v = sl_state_find_vip(st, spec);
	struct sl_be *b;

	if (weight > SL_CFG_WEIGHT_MAX) {
		snprintf(err, errlen, "weight %u is out of range (0..%u)", weight,
			 SL_CFG_WEIGHT_MAX);
		return -EINVAL;
	}
	if (!v) {
		snprintf(err, errlen, "no such VIP");
		return -ENOENT;
	}
	b = sl_vip_find_be(v, addr, family);
	if (!b) {
		snprintf(err, errlen, "no such backend on this VIP");
		return -ENOENT;
	}
	if (old_weight)
		*old_weight = b->weight;
	b->weight = weight;
	return 0;
}
