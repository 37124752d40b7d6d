// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Refuse to take a VIP's last active backend away without --force (guard.h). */
#include <errno.h>
#include <stdio.h>

#include "guard.h"
#include "parse.h"

static bool active(const struct sl_be *b)
{
	return b->state == SL_BE_ACTIVE && b->weight > 0;
}

size_t sl_vip_n_active(const struct sl_vip *v)
{
	size_t i, n = 0;

	for (i = 0; i < v->n_bes; i++)
		n += active(&v->bes[i]);
	return n;
}

int sl_guard_last_active(const struct sl_vip *v, const struct sluice_addr *addr,
			 __u8 family, char *err, size_t errlen)
{
	const struct sl_be *b = sl_vip_find_be(v, addr, family);
	char vs[SL_VIP_STR_MAX];

	if (!b || !active(b) || sl_vip_n_active(v) > 1)
		return 0;
	sl_format_vip(&v->spec, vs, sizeof(vs));
	snprintf(err, errlen, "it is the last active backend of VIP %s, which would then "
		 "drop every new connection", vs);
	return -EPERM;
}
