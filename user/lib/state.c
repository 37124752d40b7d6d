// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* sluiced's desired state and the backend lifecycle (see state.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

const char *sl_be_state_name(int state)
{
	switch (state) {
	case SL_BE_ACTIVE:
		return "active";
	case SL_BE_DRAINING:
		return "draining";
	case SL_BE_DRAINED:
		return "drained";
	default:
		return "unknown";
	}
}

int sl_be_state_parse(const char *s)
{
	if (!strcmp(s, "active"))
		return SL_BE_ACTIVE;
	if (!strcmp(s, "draining"))
		return SL_BE_DRAINING;
	if (!strcmp(s, "drained"))
		return SL_BE_DRAINED;
	return -EINVAL;
}

const char *sl_health_name(int health)
{
	switch (health) {
	case SL_HEALTH_UP:
		return "up";
	case SL_HEALTH_DOWN:
		return "down";
	default:
		return "unknown";
	}
}

void sl_state_init(struct sl_state *st)
{
	memset(st, 0, sizeof(*st));
}

void sl_state_free(struct sl_state *st)
{
	size_t i;

	for (i = 0; i < st->n_vips; i++)
		free(st->vips[i].bes);
	free(st->vips);
	sl_state_init(st);
}

int sl_state_copy(struct sl_state *dst, const struct sl_state *src)
{
	size_t i;

	sl_state_init(dst);
	dst->next_be_id = src->next_be_id;
	dst->cluster_rev = src->cluster_rev;
	dst->clock = src->clock;
	if (!src->n_vips)
		return 0;
	dst->vips = calloc(src->n_vips, sizeof(*dst->vips));
	if (!dst->vips)
		return -ENOMEM;
	for (i = 0; i < src->n_vips; i++) {
		const struct sl_vip *sv = &src->vips[i];
		struct sl_vip *dv = &dst->vips[i];

		*dv = *sv;
		dv->bes = NULL;
		dst->n_vips = i + 1;
		if (!sv->n_bes)
			continue;
		dv->bes = malloc(sv->n_bes * sizeof(*dv->bes));
		if (!dv->bes) {
			dv->n_bes = 0;
			sl_state_free(dst);
			return -ENOMEM;
		}
		memcpy(dv->bes, sv->bes, sv->n_bes * sizeof(*dv->bes));
	}
	return 0;
}

static bool vip_spec_eq(const struct sl_vip_spec *a, const struct sl_vip_spec *b)
{
	return a->family == b->family && a->proto == b->proto &&
	       a->port == b->port && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

struct sl_vip *sl_state_find_vip(const struct sl_state *st,
				 const struct sl_vip_spec *spec)
{
	size_t i;

	for (i = 0; i < st->n_vips; i++)
		if (vip_spec_eq(&st->vips[i].spec, spec))
			return &st->vips[i];
	return NULL;
}

bool sl_state_has_vip_addr(const struct sl_state *st,
			   const struct sluice_addr *addr, __u8 family)
{
	size_t i;

	for (i = 0; i < st->n_vips; i++)
		if (st->vips[i].spec.family == family &&
		    !memcmp(&st->vips[i].spec.addr, addr, sizeof(*addr)))
			return true;
	return false;
}

struct sl_be *sl_vip_find_be(const struct sl_vip *vip,
			     const struct sluice_addr *addr, __u8 family)
{
	size_t i;

	for (i = 0; i < vip->n_bes; i++)
		if (vip->bes[i].family == family &&
		    !memcmp(&vip->bes[i].addr, addr, sizeof(*addr)))
			return &vip->bes[i];
	return NULL;
}

size_t sl_state_n_backends(const struct sl_state *st)
{
	size_t i, n = 0;

	for (i = 0; i < st->n_vips; i++)
		n += st->vips[i].n_bes;
	return n;
}

bool sl_be_in_table(const struct sl_be *be)
{
	return be->state == SL_BE_ACTIVE && be->health != SL_HEALTH_DOWN &&
	       be->weight > 0;
}

bool sl_vip_all_down(const struct sl_vip *vip)
{
	size_t i, candidates = 0;

	for (i = 0; i < vip->n_bes; i++) {
		const struct sl_be *be = &vip->bes[i];

		if (be->state != SL_BE_ACTIVE || !be->weight)
			continue;
		if (be->health != SL_HEALTH_DOWN)
			return false;
		candidates++;
	}
	return candidates > 0;
}

static bool vip_id_used(const struct sl_state *st, __u32 id)
{
	size_t i;

	for (i = 0; i < st->n_vips; i++)
		if (st->vips[i].id == id)
			return true;
	return false;
}

static bool be_id_used(const struct sl_state *st, __u32 id)
{
	size_t i, j;

	for (i = 0; i < st->n_vips; i++)
		for (j = 0; j < st->vips[i].n_bes; j++)
			if (st->vips[i].bes[j].id == id)
				return true;
	return false;
}

static int alloc_vip_id(const struct sl_state *st, __u32 *id)
{
	__u32 i;

	for (i = 0; i < SLUICE_MAX_VIPS; i++) {
		if (!vip_id_used(st, i)) {
			*id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Round-robin from the last id handed out, so a freed id is reused late. */
static int alloc_be_id(struct sl_state *st, __u32 *id)
{
	__u32 i, cand;

	for (i = 0; i < SLUICE_MAX_BACKENDS; i++) {
		cand = (st->next_be_id + i) % SLUICE_MAX_BACKENDS;
		if (!be_id_used(st, cand)) {
			*id = cand;
			st->next_be_id = (cand + 1) % SLUICE_MAX_BACKENDS;
			return 0;
		}
	}
	return -ENOSPC;
}

int sl_state_vip_add(struct sl_state *st, const struct sl_vip_spec *spec,
		     char *err, size_t errlen)
{
	struct sl_vip *vips;
	__u32 id;

	if (sl_state_find_vip(st, spec)) {
		snprintf(err, errlen, "VIP already exists");
		return -EEXIST;
	}
	if (alloc_vip_id(st, &id)) {
		snprintf(err, errlen, "limit of %d VIPs reached (SLUICE_MAX_VIPS in include/sluice/limits.h)",
			 SLUICE_MAX_VIPS);
		return -ENOSPC;
	}
	vips = realloc(st->vips, (st->n_vips + 1) * sizeof(*vips));
	if (!vips) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	st->vips = vips;
	memset(&vips[st->n_vips], 0, sizeof(vips[0]));
	vips[st->n_vips].spec = *spec;
	sl_health_cfg_defaults(&vips[st->n_vips].hc);
	vips[st->n_vips].id = id;
	st->n_vips++;
	return 0;
}

int sl_state_vip_del(struct sl_state *st, const struct sl_vip_spec *spec,
		     char *err, size_t errlen)
{
	struct sl_vip *vip = sl_state_find_vip(st, spec);
	size_t idx;

	if (!vip) {
		snprintf(err, errlen, "no such VIP");
		return -ENOENT;
	}
	idx = vip - st->vips;
	free(vip->bes);
	memmove(vip, vip + 1, (st->n_vips - idx - 1) * sizeof(*vip));
	st->n_vips--;
	return 0;
}

static struct sl_vip *need_vip(const struct sl_state *st,
			       const struct sl_vip_spec *spec,
			       char *err, size_t errlen)
{
	struct sl_vip *vip = sl_state_find_vip(st, spec);

	if (!vip)
		snprintf(err, errlen, "no such VIP");
	return vip;
}

static struct sl_be *need_be(const struct sl_state *st,
			     const struct sl_vip_spec *spec,
			     const struct sluice_addr *addr, __u8 family,
			     char *err, size_t errlen)
{
	struct sl_vip *vip = need_vip(st, spec, err, errlen);
	struct sl_be *be;

	if (!vip)
		return NULL;
	be = sl_vip_find_be(vip, addr, family);
	if (!be)
		snprintf(err, errlen, "no such backend");
	return be;
}

int sl_state_be_add(struct sl_state *st, const struct sl_vip_spec *spec,
		    const struct sluice_addr *addr, __u8 family, __u32 weight,
		    char *err, size_t errlen)
{
	struct sl_vip *vip = need_vip(st, spec, err, errlen);
	struct sl_be *bes, *be;
	__u32 id, saved_next = st->next_be_id;

	if (!vip)
		return -ENOENT;
	if (sl_vip_find_be(vip, addr, family)) {
		snprintf(err, errlen, "backend already exists");
		return -EEXIST;
	}
	if (alloc_be_id(st, &id)) {
		snprintf(err, errlen, "limit of %d backends reached (SLUICE_MAX_BACKENDS in include/sluice/limits.h)",
			 SLUICE_MAX_BACKENDS);
		return -ENOSPC;
	}
	bes = realloc(vip->bes, (vip->n_bes + 1) * sizeof(*bes));
	if (!bes) {
		st->next_be_id = saved_next;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	vip->bes = bes;
	be = &bes[vip->n_bes++];
	memset(be, 0, sizeof(*be));
	be->addr = *addr;
	be->family = family;
	be->weight = weight;
	be->id = id;
	be->state = SL_BE_ACTIVE;
	be->hc = vip->hc;
	return 0;
}

int sl_be_name_check(const char *name, char *err, size_t errlen)
{
	struct sluice_addr addr;
	size_t i, len = strlen(name);
	__u8 family;

	if (!len || len >= SL_BE_NAME_MAX || !isalnum((unsigned char)name[0])) {
		snprintf(err, errlen, "\"%.80s\" is not a backend name (1-%d characters, "
			 "starting with a letter or digit)", name, SL_BE_NAME_MAX - 1);
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i])) {
			snprintf(err, errlen, "\"%.80s\" is not a backend name (letters, digits, "
				 "'.', '_' and '-' only)", name);
			return -EINVAL;
		}
	}
	if (!sl_parse_addr(name, &addr, &family)) {
		snprintf(err, errlen, "\"%s\" is an address, not a name (a name must not "
			 "read as one: the CLI takes either)", name);
		return -EINVAL;
	}
	return 0;
}

struct sl_be *sl_state_find_be_by_id(const struct sl_state *st, __u32 id,
				     struct sl_vip **vip)
{
	size_t i, j;

	for (i = 0; i < st->n_vips; i++)
		for (j = 0; j < st->vips[i].n_bes; j++)
			if (st->vips[i].bes[j].id == id) {
				*vip = &st->vips[i];
				return &st->vips[i].bes[j];
			}
	return NULL;
}

struct sl_be *sl_vip_find_be_by_name(const struct sl_vip *vip, const char *name)
{
	size_t i;

	if (!name[0])
		return NULL;
	for (i = 0; i < vip->n_bes; i++)
		if (!strcmp(vip->bes[i].name, name))
			return &vip->bes[i];
	return NULL;
}

int sl_state_be_set_name(struct sl_state *st, const struct sl_vip_spec *spec,
			 const struct sluice_addr *addr, __u8 family, const char *name,
			 char *err, size_t errlen)
{
	struct sl_be *be = need_be(st, spec, addr, family, err, errlen);
	struct sl_be *other;
	char abuf[SL_ADDR_STR_MAX];

	if (!be)
		return -ENOENT;
	if (name[0] && sl_be_name_check(name, err, errlen))
		return -EINVAL;
	other = sl_vip_find_be_by_name(sl_state_find_vip(st, spec), name);
	if (other && other != be) {
		sl_format_addr(&other->addr, other->family, abuf, sizeof(abuf));
		snprintf(err, errlen, "backend %s of this VIP is already called \"%s\"",
			 abuf, name);
		return -EEXIST;
	}
	snprintf(be->name, sizeof(be->name), "%s", name);
	return 0;
}

int sl_state_be_del(struct sl_state *st, const struct sl_vip_spec *spec,
		    const struct sluice_addr *addr, __u8 family,
		    char *err, size_t errlen)
{
	struct sl_be *be = need_be(st, spec, addr, family, err, errlen);
	struct sl_vip *vip;
	size_t idx;

	if (!be)
		return -ENOENT;
	vip = sl_state_find_vip(st, spec);
	idx = be - vip->bes;
	memmove(be, be + 1, (vip->n_bes - idx - 1) * sizeof(*be));
	vip->n_bes--;
	return 0;
}

int sl_state_be_drain(struct sl_state *st, const struct sl_vip_spec *spec,
		      const struct sluice_addr *addr, __u8 family,
		      __u64 now_ms, __u64 timeout_ms, char *err, size_t errlen)
{
	struct sl_be *be = need_be(st, spec, addr, family, err, errlen);

	if (!be)
		return -ENOENT;
	switch (be->state) {
	case SL_BE_ACTIVE:
		be->state = SL_BE_DRAINING;
		be->drain_started = now_ms;
		be->timed_out = false;
		be->flows_left = 0;
		/* sluiced numbers the commit that puts it in force. */
		memset(&be->drain, 0, sizeof(be->drain));
		/* fall through */
	case SL_BE_DRAINING:
		/* Draining again re-times the drain from now. */
		be->drain_deadline = now_ms + timeout_ms;
		return 0;
	default:
		return 0;	/* drained stays drained */
	}
}

int sl_state_be_undrain(struct sl_state *st, const struct sl_vip_spec *spec,
			const struct sluice_addr *addr, __u8 family,
			char *err, size_t errlen)
{
	struct sl_be *be = need_be(st, spec, addr, family, err, errlen);

	if (!be)
		return -ENOENT;
	be->state = SL_BE_ACTIVE;
	be->drain_started = 0;
	be->drain_deadline = 0;
	be->timed_out = false;
	be->flows_left = 0;
	memset(&be->drain, 0, sizeof(be->drain));
	return 0;
}

__u64 sl_be_flows_shown(const struct sl_be *be, __u64 confirmed_now)
{
	return sl_flows_upper_bound(be->flows_base, be->confirmed_base,
				    confirmed_now);
}

int sl_be_drain_deadline(struct sl_be *be, __u64 flows_now, __u64 now_ms)
{
	if (be->state != SL_BE_DRAINING || now_ms < be->drain_deadline)
		return 0;
	be->state = SL_BE_DRAINED;
	be->timed_out = true;
	be->flows_left = flows_now;
	return 1;
}

/* @t moved by @step, never to 0 (which means "none"). */
static __u64 shifted(__u64 t, __s64 step)
{
	__s64 v = (__s64)t + step;

	return v > 0 ? (__u64)v : 1;
}

size_t sl_state_shift_drains(struct sl_state *st, __s64 step_ms)
{
	size_t i, j, n = 0;

	for (i = 0; i < st->n_vips; i++) {
		for (j = 0; j < st->vips[i].n_bes; j++) {
			struct sl_be *be = &st->vips[i].bes[j];

			if (be->state != SL_BE_DRAINING)
				continue;
			be->drain_started = shifted(be->drain_started, step_ms);
			be->drain_deadline =
				shifted(be->drain_deadline, step_ms);
			n++;
		}
	}
	return n;
}

int sl_be_drain_complete(struct sl_be *be)
{
	if (be->state != SL_BE_DRAINING)
		return 0;
	be->state = SL_BE_DRAINED;
	be->timed_out = false;
	be->flows_left = 0;
	return 1;
}

static int add_missing(struct sl_state *st, const struct sl_state *old_cfg,
		       const struct sl_state *new_cfg, char *err, size_t errlen)
{
	size_t i, j;
	int rc;

	for (i = 0; i < new_cfg->n_vips; i++) {
		const struct sl_vip *nv = &new_cfg->vips[i];
		const struct sl_vip *ov = sl_state_find_vip(old_cfg, &nv->spec);
		struct sl_vip *cv = sl_state_find_vip(st, &nv->spec);

		if (!cv) {
			/* In the file before and now: removed at runtime, kept so. */
			if (ov)
				continue;
			rc = sl_state_vip_add(st, &nv->spec, err, errlen);
			if (rc)
				return rc;
			cv = sl_state_find_vip(st, &nv->spec);
		}
		for (j = 0; j < nv->n_bes; j++) {
			const struct sl_be *nb = &nv->bes[j];
			const struct sl_be *ob = ov ? sl_vip_find_be(ov, &nb->addr, nb->family) : NULL;
			struct sl_be *cb = sl_vip_find_be(cv, &nb->addr, nb->family);

			if (!cb) {
				if (ob)
					continue;	/* removed at runtime */
				rc = sl_state_be_add(st, &nv->spec, &nb->addr,
						     nb->family, nb->weight, err,
						     errlen);
				if (rc)
					return rc;
				cv = sl_state_find_vip(st, &nv->spec);
			} else if (!ob || ob->weight != nb->weight) {
				cb->weight = nb->weight;
			}
		}
	}
	return 0;
}

static void remove_dropped(struct sl_state *st, const struct sl_state *old_cfg,
			   const struct sl_state *new_cfg)
{
	char err[16];
	size_t i, j;

	for (i = 0; i < old_cfg->n_vips; i++) {
		const struct sl_vip *ov = &old_cfg->vips[i];
		const struct sl_vip *nv = sl_state_find_vip(new_cfg, &ov->spec);

		if (!nv) {
			sl_state_vip_del(st, &ov->spec, err, sizeof(err));
			continue;
		}
		for (j = 0; j < ov->n_bes; j++) {
			const struct sl_be *ob = &ov->bes[j];

			if (!sl_vip_find_be(nv, &ob->addr, ob->family))
				sl_state_be_del(st, &ov->spec, &ob->addr,
						ob->family, err, sizeof(err));
		}
	}
}

/*
 * Health-check settings are not persisted: they always come from the file.
 * A backend the file lists takes its own settings, one added at runtime
 * the VIP's. A changed check starts over from unknown. Names the file
 * gives win over runtime ones.
 */
/*
 * A runtime name that the file now gives another backend of the VIP is
 * dropped: names stay unique, and the file's win.
 */
static void drop_clashing_names(struct sl_vip *v, const struct sl_vip *cv)
{
	size_t i;

	for (i = 0; i < v->n_bes; i++) {
		struct sl_be *b = &v->bes[i];
		const struct sl_be *f = sl_vip_find_be_by_name(cv, b->name);

		if (f && (f->family != b->family || memcmp(&f->addr, &b->addr, sizeof(b->addr))))
			b->name[0] = '\0';
	}
}

static void apply_health_cfg(struct sl_state *st, const struct sl_state *cfg)
{
	size_t i, j;

	for (i = 0; i < st->n_vips; i++) {
		struct sl_vip *v = &st->vips[i];
		const struct sl_vip *cv = sl_state_find_vip(cfg, &v->spec);

		if (cv)
			v->hc = cv->hc;
		for (j = 0; j < v->n_bes; j++) {
			struct sl_be *b = &v->bes[j];
			const struct sl_be *cb = cv ? sl_vip_find_be(cv, &b->addr, b->family) : NULL;
			const struct sl_health_cfg *want = cb ? &cb->hc : &v->hc;

			/* The file names the backends it lists; others keep theirs. */
			if (cb)
				memcpy(b->name, cb->name, sizeof(b->name));

			if (memcmp(&b->hc, want, sizeof(*want))) {
				b->hc = *want;
				b->health = SL_HEALTH_UNKNOWN;
				b->ok_streak = b->fail_streak = 0;
			}
		}
		if (cv)
			drop_clashing_names(v, cv);
	}
}

int sl_state_apply_config(struct sl_state *st, const struct sl_state *old_cfg,
			  const struct sl_state *new_cfg, char *err,
			  size_t errlen)
{
	struct sl_state work;
	int rc;

	rc = sl_state_copy(&work, st);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	remove_dropped(&work, old_cfg, new_cfg);
	rc = add_missing(&work, old_cfg, new_cfg, err, errlen);
	if (rc) {
		sl_state_free(&work);
		return rc;
	}
	apply_health_cfg(&work, new_cfg);
	sl_state_free(st);
	*st = work;
	return 0;
}

int sl_state_check_table_size(const struct sl_state *st, __u32 table_size,
			      char *err, size_t errlen)
{
	char vs[SL_VIP_STR_MAX];
	size_t i;

	for (i = 0; i < st->n_vips; i++) {
		const struct sl_vip *v = &st->vips[i];

		if (v->n_bes <= table_size)
			continue;
		sl_format_vip(&v->spec, vs, sizeof(vs));
		snprintf(
			err, errlen,
			"VIP %s: %zu backends do not fit a Maglev table of %u slots "
			"(at most one backend per slot; raise maglev.table_size, "
			"then restart sluiced)",
			vs, v->n_bes, table_size);
		return -ENOSPC;
	}
	return 0;
}
