/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The element count of an array (not a pointer), as the kernel spells it. */
#ifndef SLUICE_ARRAY_H
#define SLUICE_ARRAY_H

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#endif /* SLUICE_ARRAY_H */
