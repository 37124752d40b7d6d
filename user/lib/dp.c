// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Mirror a desired state into the datapath maps (dp.h). A sync is
 * idempotent and ordered so the datapath never sees an inconsistent mix:
 * backend entries are written before any table names them, tables are
 * published whole (generation flip), and only then are entries of removed
 * backends and VIPs cleared.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
/* Inline: libxxhash is not linked (XXH64_* once resolved from libfyaml by accident). */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dp.h"
#include "maglev.h"

/* Which backend ids and VIP ids the state uses. */
struct usage {
	bool be[SLUICE_MAX_BACKENDS];
	bool vip[SLUICE_MAX_VIPS];
};

static void fill_nexthop(const struct sl_dp *dp, __u32 id,
			 struct sluice_backend *be)
{
	const struct sl_nh_cache *c = &dp->nh[id];

	if (!c->valid)
		return;
	be->flags |= SLUICE_BE_F_NH_VALID;
	be->ifindex = c->nh.ifindex;
	memcpy(be->dmac, c->nh.dmac, 6);
	memcpy(be->smac, c->nh.smac, 6);
	be->mtu = c->nh.mtu;
}

/*
 * DRAINING from the commit that takes the backend out of the table: the
 * datapath copies each flow of it that it confirms into the drain table. DRAINED once the drain
 * rule asks for it (drain.h) or the drain is over: the datapath gives the
 * backend no new state, so a reported "drained" is never contradicted.
 */
static __u8 drain_flags(const struct sl_be *b)
{
	__u8 f = 0;

	if (b->state == SL_BE_DRAINING)
		f |= SLUICE_BE_F_DRAINING;
	if (b->state == SL_BE_DRAINED ||
	    (b->state == SL_BE_DRAINING && sl_drain_wants_flag(&b->drain)))
		f |= SLUICE_BE_F_DRAINED;
	return f;
}

/*
 * Write one backend entry. The epoch changes whenever the id now names a
 * different (VIP, address) than what the map held, so flows assigned to the
 * old meaning of a reused id are re-balanced instead of misdelivered.
 */
static int write_backend(struct sl_dp *dp, const struct sl_vip *vip,
			 const struct sl_be *b)
{
	struct sluice_backend old, be;

	memset(&be, 0, sizeof(be));
	be.addr = b->addr;
	be.family = b->family;
	be.vip_id = vip->id;
	be.flags = SLUICE_BE_F_IN_USE;
	/* A down backend whose policy is "release": its flows re-balance. */
	if (b->health == SL_HEALTH_DOWN && b->hc.on_down == SL_HC_RELEASE)
		be.flags |= SLUICE_BE_F_RELEASE;
	be.flags |= drain_flags(b);
	fill_nexthop(dp, b->id, &be);
	if (sl_backend_get(dp->maps, b->id, &old))
		memset(&old, 0, sizeof(old));
	be.epoch = old.epoch;
	if (!(old.flags & SLUICE_BE_F_IN_USE) || old.vip_id != be.vip_id ||
	    old.family != be.family || memcmp(&old.addr, &be.addr, sizeof(be.addr)))
		be.epoch = old.epoch + 1;
	if (!memcmp(&old, &be, sizeof(be)))
		return 0;
	return sl_backend_set(dp->maps, b->id, &be);
}

/*
 * Is @b in its VIP's table? Normally when active, not down and weighted;
 * when every such backend is down, sluice fails open and keeps them all.
 */
static bool in_table(const struct sl_be *b, bool all_down)
{
	if (all_down)
		return b->state == SL_BE_ACTIVE && b->weight > 0;
	return sl_be_in_table(b);
}

/*
 * Is @b in its VIP's pre-drain table? Everything in the live table, plus
 * the backends still draining: the table they were taken out of, which a
 * packet that lost its state follows first (abi.h SLUICE_VIP_F_FALLBACK).
 */
static bool in_fb_table(const struct sl_be *b, bool all_down)
{
	if (in_table(b, all_down))
		return true;
	return b->state == SL_BE_DRAINING && b->weight > 0 &&
	       b->health != SL_HEALTH_DOWN;
}

/* Does the VIP need a pre-drain table (a drain is in progress)? */
static bool wants_fb_table(const struct sl_vip *v, bool all_down)
{
	size_t i;

	for (i = 0; i < v->n_bes; i++)
		if (!in_table(&v->bes[i], all_down) &&
		    in_fb_table(&v->bes[i], all_down))
			return true;
	return false;
}

/* A digest of what a VIP's table depends on: skip unchanged republishes. */
static __u64 table_signature(const struct sl_dp *dp, const struct sl_vip *v)
{
	XXH64_state_t *s = XXH64_createState();
	bool all_down = sl_vip_all_down(v);
	__u64 sig;
	size_t i;

	XXH64_reset(s, dp->cfg->maglev_seed);
	XXH64_update(s, &dp->maps->ring_size, sizeof(dp->maps->ring_size));
	XXH64_update(s, &v->spec, sizeof(v->spec));
	for (i = 0; i < v->n_bes; i++) {
		const struct sl_be *b = &v->bes[i];
		bool fb_only;

		if (!in_fb_table(b, all_down))
			continue;
		fb_only = !in_table(b, all_down); /* pre-drain table only */
		XXH64_update(s, &fb_only, sizeof(fb_only));
		XXH64_update(s, &b->id, sizeof(b->id));
		XXH64_update(s, &b->addr, sizeof(b->addr));
		XXH64_update(s, &b->weight, sizeof(b->weight));
	}
	sig = XXH64_digest(s) | 1;	/* never 0: 0 means "not published" */
	XXH64_freeState(s);
	return sig;
}

/* The owner may keep a copy for other threads: fp_changed tells it. */
static void set_fp(struct sl_dp *dp, __u32 vip_id, __u64 fp)
{
	dp->table_fp[vip_id] = fp;
	if (dp->fp_changed)
		dp->fp_changed(dp->arg, vip_id, fp);
}

/*
 * What status shows to compare boxes; 0 (shown as unknown) if it cannot
 * be computed, which never stops a table from going live.
 */
static void table_fingerprint(struct sl_dp *dp, const struct sl_vip *v,
			      const __u32 *table, const struct maglev_backend *mb,
			      size_t n)
{
	__u64 fp = 0;

	if (maglev_fingerprint(table, dp->maps->ring_size, mb, n, &fp))
		fp = 0;
	set_fp(dp, v->id, fp);
}

/* The Maglev members of @v that @member selects, into @mb; their count. */
static size_t table_members(const struct sl_vip *v, struct maglev_backend *mb,
			    bool (*member)(const struct sl_be *, bool))
{
	bool all_down = sl_vip_all_down(v);
	size_t i, n = 0;

	for (i = 0; i < v->n_bes; i++) {
		if (!member(&v->bes[i], all_down))
			continue;
		mb[n].id = v->bes[i].id;
		mb[n].addr = v->bes[i].addr;
		mb[n].family = v->bes[i].family;
		mb[n].weight = v->bes[i].weight;
		n++;
	}
	return n;
}

/*
 * Build the live table into @table and, while a drain is in progress, the
 * pre-drain table into @fb (*use_fb set). 0 or -errno.
 */
static int build_tables(struct sl_dp *dp, const struct sl_vip *v, __u32 *table,
			__u32 *fb, struct maglev_backend *mb, bool *use_fb)
{
	size_t n;
	int rc;

	*use_fb = wants_fb_table(v, sl_vip_all_down(v));
	if (*use_fb) {
		n = table_members(v, mb, in_fb_table);
		rc = maglev_build(mb, n, dp->maps->ring_size,
				  dp->cfg->maglev_seed, fb);
		if (rc)
			return rc;
	}
	n = table_members(v, mb, in_table);
	rc = maglev_build(mb, n, dp->maps->ring_size, dp->cfg->maglev_seed,
			  table);
	if (!rc)
		table_fingerprint(dp, v, table, mb, n);
	return rc;
}

static int publish_table(struct sl_dp *dp, const struct sl_vip *v, __u32 *table,
			 __u32 *fb, struct maglev_backend *mb, char *err,
			 size_t errlen)
{
	struct sluice_vip_key key;
	__u64 sig = table_signature(dp, v);
	bool use_fb;
	int rc;

	if (dp->table_sig[v->id] == sig)
		return 0;
	rc = build_tables(dp, v, table, fb, mb, &use_fb);
	if (!rc) {
		sl_vip_key_from_spec(&v->spec, &key);
		rc = sl_ring_publish(dp->maps, &key, v->id, 0, table,
				     use_fb ? fb : NULL);
	}
	if (rc) {
		char vs[SL_VIP_STR_MAX];

		sl_format_vip(&v->spec, vs, sizeof(vs));
		snprintf(err, errlen, "cannot publish the Maglev table of %s: %s",
			 vs, strerror(-rc));
		return rc;
	}
	dp->table_sig[v->id] = sig;
	return 0;
}

/* Delete VIP entries (and address markers) the state no longer has. */
static void prune_vips(struct sl_dp *dp, const struct sl_state *st,
		       const struct usage *u)
{
	struct sluice_vip_key key, next, *prev = NULL;
	struct sluice_vip val;
	struct sluice_vip_key dead[SLUICE_VIP_MAP_SIZE];
	size_t n = 0, i;

	while (!bpf_map_get_next_key(dp->maps->vips, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(dp->maps->vips, &key, &val))
			continue;
		if (val.flags & SLUICE_VIP_F_ADDR_ONLY) {
			if (!sl_state_has_vip_addr(st, &key.addr, key.family) &&
			    n < SLUICE_VIP_MAP_SIZE)
				dead[n++] = key;
			continue;
		}
		{
			struct sl_vip_spec spec = {
				.addr = key.addr, .port = key.port,
				.proto = key.proto, .family = key.family,
			};
			struct sl_vip *v = sl_state_find_vip(st, &spec);

			if ((!v || v->id != val.vip_id) && n < SLUICE_VIP_MAP_SIZE)
				dead[n++] = key;
			/* Its id lives on under another key: republish that
			 * next time. An id gone from the state keeps its
			 * signature, so prune_ids() still frees its tables. */
			if ((!v || v->id != val.vip_id) && u->vip[val.vip_id])
				dp->table_sig[val.vip_id] = 0;
		}
	}
	for (i = 0; i < n; i++)
		sl_vip_del(dp->maps, &dead[i]);
	if (n) /* clear the bits of addresses that are gone */
		sl_vip_filter_sync(dp->maps);
}

static void prune_ids(struct sl_dp *dp, const struct usage *u)
{
	struct sluice_backend be;
	__u32 id;

	for (id = 0; id < SLUICE_MAX_BACKENDS; id++) {
		if (u->be[id] || sl_backend_get(dp->maps, id, &be) ||
		    !(be.flags & SLUICE_BE_F_IN_USE))
			continue;
		/* Keep the epoch: the next user of this id bumps it. */
		be.flags = 0;
		sl_backend_set(dp->maps, id, &be);
		dp->nh[id].valid = false;
		dp->nh[id].waited = false;
	}
	for (id = 0; id < SLUICE_MAX_VIPS; id++) {
		if (!u->vip[id] && dp->table_sig[id] != 0) {
			sl_ring_clear(dp->maps, id);
			dp->table_sig[id] = 0;
			set_fp(dp, id, 0);
		}
	}
}

static void config_map(struct sl_dp *dp)
{
	struct sluice_config c;

	memset(&c, 0, sizeof(c));
	c.src4 = dp->cfg->source_v4.addr[0];
	c.src6 = dp->cfg->source_v6;
	c.ring_size = dp->maps->ring_size;
	c.hash_seed = dp->maps->hash_seed;
	sl_config_set(dp->maps, &c);
}

#define NH_WAIT_STEP_MS	10
#define NH_WAIT_STEPS	30

static int resolve_into(struct sl_dp *dp, const struct sl_be *b)
{
	struct sl_nh nh;
	int rc = sl_nh_resolve(dp->nh_ctx, &b->addr, b->family, &nh);

	if (!rc) {
		dp->nh[b->id].valid = true;
		dp->nh[b->id].nh = nh;
	}
	return rc;
}

/*
 * A backend about to enter a table gets its next hop first, waiting up to
 * NH_WAIT_STEPS * NH_WAIT_STEP_MS for ARP/ND: otherwise its first packets
 * would meet an unresolved neighbour and be dropped. Past the wait it goes
 * live anyway (the datapath falls back to the FIB; refresh fills it in).
 * Each backend is waited for once, when it joins: an unreachable one must
 * not slow every later change down.
 */
static void resolve_missing(struct sl_dp *dp, const struct sl_state *st)
{
	struct timespec step = { 0, NH_WAIT_STEP_MS * 1000000L };
	bool pending = true;
	size_t i, j;
	int round;

	if (!dp->nh_ctx)
		return;
	for (round = 0; pending && round <= NH_WAIT_STEPS; round++) {
		if (round)
			nanosleep(&step, NULL);
		pending = false;
		for (i = 0; i < st->n_vips; i++) {
			for (j = 0; j < st->vips[i].n_bes; j++) {
				const struct sl_be *b = &st->vips[i].bes[j];

				if (dp->nh[b->id].valid || dp->nh[b->id].waited)
					continue;
				if (resolve_into(dp, b) == -EAGAIN)
					pending = true;
			}
		}
	}
	for (i = 0; i < st->n_vips; i++)
		for (j = 0; j < st->vips[i].n_bes; j++)
			dp->nh[st->vips[i].bes[j].id].waited = true;
}

int sl_dp_sync(struct sl_dp *dp, const struct sl_state *st, char *err,
	       size_t errlen)
{
	struct maglev_backend *mb = NULL;
	__u32 *table = NULL, *fb = NULL;
	struct usage *u = calloc(1, sizeof(*u));
	size_t i, j, max_bes = 1;
	int rc;

	/* A backend past one per slot would get none: refuse, writing nothing. */
	rc = sl_state_check_table_size(st, dp->maps->ring_size, err, errlen);
	if (rc)
		goto out;
	rc = -ENOMEM;
	for (i = 0; i < st->n_vips; i++)
		if (st->vips[i].n_bes > max_bes)
			max_bes = st->vips[i].n_bes;
	table = malloc(sizeof(*table) * dp->maps->ring_size);
	fb = malloc(sizeof(*fb) * dp->maps->ring_size);
	mb = calloc(max_bes, sizeof(*mb));
	if (!u || !table || !fb || !mb) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	config_map(dp);
	resolve_missing(dp, st);
	/* 1. Backend entries first: a table may name them from now on. */
	for (i = 0; i < st->n_vips; i++) {
		const struct sl_vip *v = &st->vips[i];

		u->vip[v->id] = true;
		rc = sl_vip_addr_set(dp->maps, &v->spec.addr, v->spec.family, 1);
		for (j = 0; !rc && j < v->n_bes; j++) {
			u->be[v->bes[j].id] = true;
			rc = write_backend(dp, v, &v->bes[j]);
		}
		if (rc) {
			snprintf(err, errlen, "cannot write backends: %s", strerror(-rc));
			goto out;
		}
	}
	/* The address filter before any table: a VIP is never published
	 * while its address would still be passed as not ours. */
	rc = sl_vip_filter_sync(dp->maps);
	if (rc) {
		snprintf(err, errlen, "cannot write %s: %s",
			 SLUICE_MAP_VIP_ADDRS, strerror(-rc));
		goto out;
	}
	/* 2. Tables, each published whole. */
	for (i = 0; i < st->n_vips; i++) {
		rc = publish_table(dp, &st->vips[i], table, fb, mb, err,
				   errlen);
		if (rc)
			goto out;
	}
	/* 3. Only now forget what the state dropped. */
	prune_vips(dp, st, u);
	prune_ids(dp, u);
	rc = 0;
out:
	free(u);
	free(table);
	free(fb);
	free(mb);
	return rc;
}

static bool nh_equal(const struct sl_nh_cache *c, const struct sl_nh *nh)
{
	return c->valid && c->nh.ifindex == nh->ifindex &&
	       c->nh.mtu == nh->mtu &&
	       !memcmp(c->nh.dmac, nh->dmac, 6) && !memcmp(c->nh.smac, nh->smac, 6);
}

bool sl_dp_resolve_nexthops(struct sl_dp *dp, const struct sl_state *st)
{
	bool changed = false;
	struct sl_nh nh;
	size_t i, j;
	int rc;

	if (!dp->nh_ctx)
		return false;
	for (i = 0; i < st->n_vips; i++) {
		for (j = 0; j < st->vips[i].n_bes; j++) {
			const struct sl_be *b = &st->vips[i].bes[j];
			struct sl_nh_cache *c = &dp->nh[b->id];

			rc = sl_nh_resolve(dp->nh_ctx, &b->addr, b->family, &nh);
			if (!rc && !nh_equal(c, &nh)) {
				c->valid = true;
				c->nh = nh;
				changed = true;
			} else if (!rc) {
				c->nh.state = nh.state;
				c->nh.confirmed = nh.confirmed;
			} else if (rc && c->valid && rc != -EAGAIN) {
				/* Route gone, or the kernel's probes failed (the
				 * MAC is gone): fall back to the FIB path. */
				c->valid = false;
				changed = true;
			}
		}
	}
	return changed;
}
