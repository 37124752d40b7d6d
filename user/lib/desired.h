/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The fleet's desired state as etcd holds it (README, "Running a fleet"):
 * one JSON document under PREFIX/desired, so one etcd revision is one
 * whole state, and one report per box under PREFIX/boxes/NAME, held by
 * the box's lease. Pure: parse, validate, format and the key layout; no
 * I/O. sluiced applies a parsed document through its commit path, the
 * fleet CLI edits one.
 *
 *   {"vips": [{"vip": "198.18.0.100:80/tcp",
 *              "backends": [{"address": "198.18.1.10", "weight": 100,
 *                            "state": "active", "name": "web1"}]}]}
 *
 * "state" is "active" (default) or "draining": a drain is requested once
 * and each box completes it by its own flow count. An optional
 * "boxes_drained": ["edge2"] lists boxes that withdraw every VIP from
 * their routers (sluicectl --cluster ... box drain edge2).
 */
#ifndef SLUICE_DESIRED_H
#define SLUICE_DESIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "state.h"

#define SL_DESIRED_KEY "desired" /* PREFIX/desired */
#define SL_DESIRED_BOXES "boxes/" /* PREFIX/boxes/NAME */
/* PREFIX/conflicts/NAME/LEASE: a sluiced refused NAME, held by another. */
#define SL_DESIRED_CONFLICTS "conflicts/"
#define SL_DESIRED_PREFIX_MAX 128
#define SL_DESIRED_BOX_MAX 64 /* with the NUL */
#define SL_DESIRED_KEY_MAX (SL_DESIRED_PREFIX_MAX + SL_DESIRED_BOX_MAX + 40)
/* A desired document larger than this is refused (etcd's own limit is 1.5 MB). */
#define SL_DESIRED_DOC_MAX (1024 * 1024)

#define SL_DESIRED_MAX_BOXES 64 /* in boxes_drained */

/* A parsed document: the state, and the boxes asked to withdraw their VIPs. */
struct sl_desired {
	struct sl_state st;
	char drained[SL_DESIRED_MAX_BOXES][SL_DESIRED_BOX_MAX];
	size_t n_drained;
};

/* What a box can tunnel: an IPv4/IPv6 backend needs that encap source. */
struct sl_desired_caps {
	bool v4, v6;
};

/*
 * Parse and validate @text into @st (VIPs, backends, weights, names; each
 * backend's state is SL_BE_ACTIVE or SL_BE_DRAINING as asked). All or
 * nothing: 0, or -EINVAL with the first problem in @err, naming the field
 * ("vips[1].backends[0].weight: ...") and @out left empty. @caps NULL:
 * no encap check (the CLI, which does not know the boxes' config).
 */
int sl_desired_parse(const char *text, size_t len,
		     const struct sl_desired_caps *caps, struct sl_desired *out,
		     char *err, size_t errlen);
/* The document for @d (backend states as above); NULL when out of memory. */
json_object *sl_desired_format(const struct sl_desired *d);
/* Is @box in boxes_drained? */
bool sl_desired_box_drained(const struct sl_desired *d, const char *box);
/* Add or remove @box from boxes_drained; -ENOSPC when the list is full. */
int sl_desired_set_box_drained(struct sl_desired *d, const char *box,
			       bool drained);

/*
 * The key layout. @prefix: 1..127 of [A-Za-z0-9/_.-], no "//", not ending
 * in '/' (the checks say how to fix it); @box: a backend-style name
 * (1..63 of [A-Za-z0-9._-]). 0 or -EINVAL with @err.
 */
int sl_desired_prefix_check(const char *prefix, char *err, size_t errlen);
int sl_desired_box_check(const char *box, char *err, size_t errlen);
/* PREFIX/desired, PREFIX/boxes/ and PREFIX/boxes/NAME into @buf. */
void sl_desired_key(const char *prefix, char *buf, size_t len);
void sl_desired_boxes_key(const char *prefix, char *buf, size_t len);
void sl_desired_box_key(const char *prefix, const char *box, char *buf,
			size_t len);
/* PREFIX/conflicts/ and PREFIX/conflicts/NAME/LEASE (hex) into @buf. */
void sl_desired_conflicts_key(const char *prefix, char *buf, size_t len);
void sl_desired_conflict_key(const char *prefix, const char *box,
			     long long lease, char *buf, size_t len);

#endif /* SLUICE_DESIRED_H */
