/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Guards against changes that silently take a VIP out of service: draining
 * or removing its last active backend leaves the VIP dropping every new
 * connection (drop_no_backend). Such a change needs --force ("force": true
 * in the control protocol). Pure functions over the desired state.
 */
#ifndef SLUICE_GUARD_H
#define SLUICE_GUARD_H

#include <stddef.h>
#include <linux/types.h>

#include "state.h"

/*
 * Backends of @v that take new flows by lifecycle: state active and a
 * weight above 0. Health is another axis (and sluice fails open when all
 * are down), so a down backend still counts here.
 */
size_t sl_vip_n_active(const struct sl_vip *v);

/*
 * Would draining or removing backend @addr leave @v with no active
 * backend? Then -EPERM with @err naming the VIP; else 0.
 */
int sl_guard_last_active(const struct sl_vip *v, const struct sluice_addr *addr,
			 __u8 family, char *err, size_t errlen);

#endif /* SLUICE_GUARD_H */
