// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Atomic JSON persistence of sluiced's state (see persist.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "persist.h"

#define STATE_VERSION 1

int sl_state_from_config(struct sl_state *st, const struct sl_config *cfg,
			 char *err, size_t errlen)
{
	size_t i, j;
	int rc;

	sl_state_init(st);
	for (i = 0; i < cfg->n_vips; i++) {
		const struct sl_cfg_vip *cv = &cfg->vips[i];

		rc = sl_state_vip_add(st, &cv->vip, err, errlen);
		if (!rc)
			sl_state_find_vip(st, &cv->vip)->hc = cv->hc;
		for (j = 0; !rc && j < cv->n_backends; j++) {
			rc = sl_state_be_add(st, &cv->vip,
					     &cv->backends[j].addr,
					     cv->backends[j].family,
					     cv->backends[j].weight, err, errlen);
			if (!rc) {
				struct sl_be *b = sl_vip_find_be(sl_state_find_vip(st, &cv->vip),
								 &cv->backends[j].addr,
								 cv->backends[j].family);

				b->hc = cv->backends[j].hc;
				memcpy(b->name, cv->backends[j].name, sizeof(b->name));
			}
		}
		if (rc) {
			sl_state_free(st);
			return rc;
		}
	}
	return 0;
}

static json_object *be_to_json(const struct sl_be *be)
{
	json_object *o = json_object_new_object();
	char addr[SL_ADDR_STR_MAX];

	sl_format_addr(&be->addr, be->family, addr, sizeof(addr));
	json_object_object_add(o, "address", json_object_new_string(addr));
	json_object_object_add(o, "weight", json_object_new_int64(be->weight));
	if (be->name[0])
		json_object_object_add(o, "name", json_object_new_string(be->name));
	json_object_object_add(o, "id", json_object_new_int64(be->id));
	json_object_object_add(o, "state",
			       json_object_new_string(sl_be_state_name(be->state)));
	json_object_object_add(o, "drain_started_unix_ms",
			       json_object_new_uint64(be->drain_started));
	json_object_object_add(o, "drain_deadline_unix_ms",
			       json_object_new_uint64(be->drain_deadline));
	json_object_object_add(o, "timed_out", json_object_new_boolean(be->timed_out));
	json_object_object_add(o, "flows_left", json_object_new_uint64(be->flows_left));
	json_object_object_add(o, "lost", json_object_new_uint64(be->lost));
	/* A blind drain stays blind across a restart (drain.h). */
	if (be->drain.blind)
		json_object_object_add(o, "unverifiable",
				       json_object_new_boolean(true));
	return o;
}

static json_object *state_to_json(const struct sl_state *st)
{
	json_object *vips = json_object_new_array();
	char buf[SL_VIP_STR_MAX];
	size_t i, j;

	for (i = 0; i < st->n_vips; i++) {
		const struct sl_vip *v = &st->vips[i];
		json_object *o = json_object_new_object();
		json_object *bes = json_object_new_array();

		sl_format_vip(&v->spec, buf, sizeof(buf));
		json_object_object_add(o, "vip", json_object_new_string(buf));
		json_object_object_add(o, "id", json_object_new_int64(v->id));
		for (j = 0; j < v->n_bes; j++)
			json_object_array_add(bes, be_to_json(&v->bes[j]));
		json_object_object_add(o, "backends", bes);
		json_object_array_add(vips, o);
	}
	return vips;
}

/* Write @text to @path through a temporary file and rename. */
static int write_atomic(const char *path, const char *text, char *err,
			size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	size_t len = strlen(text);
	int fd, dfd, e;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* A stale .tmp (crash) would keep its mode through O_TRUNC: replace it. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	n = write(fd, text, len);
	if (n != (ssize_t)len || fsync(fd)) {
		if (n >= 0 && n != (ssize_t)len)
			errno = ENOSPC;		/* short write sets no errno */
		e = errno;
		close(fd);
		errno = e;
		goto fail;
	}
	close(fd);
	if (rename(tmp, path))
		goto fail;
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	e = errno;
	snprintf(err, errlen, "cannot write state file %s: %s", path,
		 strerror(e));
	unlink(tmp);
	return -e;
}

static json_object *clock_to_json(const struct sl_clock_mark *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "boot_id",
			       json_object_new_string(m->boot_id));
	json_object_object_add(o, "offset_ms",
			       json_object_new_int64(m->offset_ms));
	return o;
}

int sl_state_save(const char *path, const struct sl_state *st,
		  const struct sl_state *cfg_applied, char *err, size_t errlen)
{
	json_object *root = json_object_new_object();
	int rc;

	json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
	json_object_object_add(root, "next_backend_id",
			       json_object_new_int64(st->next_be_id));
	if (st->cluster_rev)
		json_object_object_add(root, "cluster_revision",
				       json_object_new_int64(st->cluster_rev));
	if (st->clock.boot_id[0])
		json_object_object_add(root, "wall_clock",
				       clock_to_json(&st->clock));
	json_object_object_add(root, "vips", state_to_json(st));
	json_object_object_add(root, "config_vips", state_to_json(cfg_applied));
	rc = write_atomic(path, json_object_to_json_string_ext(root,
				JSON_C_TO_STRING_PRETTY), err, errlen);
	json_object_put(root);
	return rc;
}

/* Typed member access that reports which field of which file is wrong. */
struct loader {
	const char *path;
	char *err;
	size_t errlen;
};

static json_object *member(struct loader *l, json_object *o, const char *key,
			   json_type type)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type)) {
		snprintf(l->err, l->errlen, "%s: field \"%s\" missing or not a %s",
			 l->path, key, json_type_to_name(type));
		return NULL;
	}
	return v;
}

static int load_be(struct loader *l, json_object *o, struct sl_be *be)
{
	json_object *addr = member(l, o, "address", json_type_string);
	json_object *state = member(l, o, "state", json_type_string);
	json_object *v;
	int64_t id;

	if (!addr || !state)
		return -EINVAL;
	memset(be, 0, sizeof(*be));
	if (sl_parse_addr(json_object_get_string(addr), &be->addr, &be->family) ||
	    (be->state = sl_be_state_parse(json_object_get_string(state))) < 0) {
		snprintf(l->err, l->errlen, "%s: bad backend address or state", l->path);
		return -EINVAL;
	}
	if (!(v = member(l, o, "weight", json_type_int)))
		return -EINVAL;
	if (json_object_get_int64(v) < 0 || json_object_get_int64(v) > SL_CFG_WEIGHT_MAX) {
		snprintf(l->err, l->errlen, "%s: backend weight %lld out of range 0..%u",
			 l->path, (long long)json_object_get_int64(v), SL_CFG_WEIGHT_MAX);
		return -EINVAL;
	}
	be->weight = json_object_get_int64(v);
	if (!(v = member(l, o, "id", json_type_int)))
		return -EINVAL;
	id = json_object_get_int64(v);
	if (id < 0 || id >= SLUICE_MAX_BACKENDS) {
		snprintf(l->err, l->errlen, "%s: backend id %lld out of range",
			 l->path, (long long)id);
		return -EINVAL;
	}
	be->id = id;
	/* Optional (added in 0.3): a state file without names loads as before. */
	if (json_object_object_get_ex(o, "name", &v)) {
		char why[256];

		if (!json_object_is_type(v, json_type_string) ||
		    sl_be_name_check(json_object_get_string(v), why, sizeof(why))) {
			snprintf(l->err, l->errlen, "%s: bad backend name", l->path);
			return -EINVAL;
		}
		snprintf(be->name, sizeof(be->name), "%s", json_object_get_string(v));
	}
	if (json_object_object_get_ex(o, "drain_started_unix_ms", &v))
		be->drain_started = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "drain_deadline_unix_ms", &v))
		be->drain_deadline = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "timed_out", &v))
		be->timed_out = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "flows_left", &v))
		be->flows_left = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "lost", &v))
		be->lost = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "unverifiable", &v))
		be->drain.blind = json_object_get_boolean(v);
	return 0;
}

static int load_vip(struct loader *l, json_object *o, struct sl_vip *vip)
{
	json_object *spec = member(l, o, "vip", json_type_string);
	json_object *id = member(l, o, "id", json_type_int);
	json_object *bes = member(l, o, "backends", json_type_array);
	char why[256];
	int64_t vid;
	size_t i;
	int rc;

	if (!spec || !id || !bes)
		return -EINVAL;
	if (sl_parse_vip(json_object_get_string(spec), &vip->spec, why, sizeof(why))) {
		snprintf(l->err, l->errlen, "%s: %s", l->path, why);
		return -EINVAL;
	}
	vid = json_object_get_int64(id);
	if (vid < 0 || vid >= SLUICE_MAX_VIPS) {
		snprintf(l->err, l->errlen, "%s: VIP id %lld out of range",
			 l->path, (long long)vid);
		return -EINVAL;
	}
	vip->id = vid;
	vip->n_bes = json_object_array_length(bes);
	vip->bes = calloc(vip->n_bes ? vip->n_bes : 1, sizeof(*vip->bes));
	if (!vip->bes)
		return -ENOMEM;
	for (i = 0; i < vip->n_bes; i++) {
		rc = load_be(l, json_object_array_get_idx(bes, i), &vip->bes[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int load_vips(struct loader *l, json_object *arr, struct sl_state *st)
{
	size_t i, n = json_object_array_length(arr);
	int rc;

	sl_state_init(st);
	if (!n)
		return 0;
	st->vips = calloc(n, sizeof(*st->vips));
	if (!st->vips)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		st->n_vips = i + 1;
		rc = load_vip(l, json_object_array_get_idx(arr, i), &st->vips[i]);
		if (rc) {
			sl_state_free(st);
			return rc;
		}
	}
	return 0;
}

/*
 * Ids index maps: two objects with one id would corrupt the datapath.
 * Refused naming both entries, as check_unique() does.
 */
static int check_ids(struct loader *l, const struct sl_state *st)
{
	/* Where an id was first seen: entry + 1, 0 = not yet. */
	static size_t vip_at[SLUICE_MAX_VIPS], be_vip[SLUICE_MAX_BACKENDS],
		be_at[SLUICE_MAX_BACKENDS];
	char v1[SL_VIP_STR_MAX], v2[SL_VIP_STR_MAX];
	char b1[SL_ADDR_STR_MAX], b2[SL_ADDR_STR_MAX];
	const struct sl_vip *v, *fv;
	const struct sl_be *b, *fb;
	size_t i, j;

	memset(vip_at, 0, sizeof(vip_at));
	memset(be_at, 0, sizeof(be_at));
	for (i = 0; i < st->n_vips; i++) {
		v = &st->vips[i];
		sl_format_vip(&v->spec, v2, sizeof(v2));
		if (vip_at[v->id]) {
			sl_format_vip(&st->vips[vip_at[v->id] - 1].spec, v1,
				      sizeof(v1));
			snprintf(
				l->err, l->errlen,
				"%s: VIP id %u used twice in \"vips\", by %s "
				"(entry %zu) and %s (entry %zu); the file was damaged or edited "
				"by hand: move it aside to start from the config file",
				l->path, v->id, v1, vip_at[v->id] - 1, v2, i);
			return -EINVAL;
		}
		vip_at[v->id] = i + 1;
		for (j = 0; j < v->n_bes; j++) {
			b = &v->bes[j];
			if (!be_at[b->id]) {
				be_vip[b->id] = i;
				be_at[b->id] = j + 1;
				continue;
			}
			fv = &st->vips[be_vip[b->id]];
			fb = &fv->bes[be_at[b->id] - 1];
			sl_format_vip(&fv->spec, v1, sizeof(v1));
			sl_format_addr(&fb->addr, fb->family, b1, sizeof(b1));
			sl_format_addr(&b->addr, b->family, b2, sizeof(b2));
			snprintf(
				l->err, l->errlen,
				"%s: backend id %u used twice in \"vips\", by "
				"backend %s of VIP %s and backend %s of VIP %s; the file was "
				"damaged or edited by hand: move it aside to start from the "
				"config file",
				l->path, b->id, b1, v1, b2, v2);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Two entries for one VIP (or one backend twice in a VIP) cannot come from
 * sluiced: the file was damaged or edited by hand. Loading it would give
 * one VIP two tables and two sets of drains, so refuse it, naming both.
 */
static int check_unique(struct loader *l, const struct sl_state *st, const char *list)
{
	char vs[SL_VIP_STR_MAX], bs[SL_ADDR_STR_MAX];
	const struct sl_vip *v;
	size_t i, j, k;

	for (i = 0; i < st->n_vips; i++) {
		v = &st->vips[i];
		sl_format_vip(&v->spec, vs, sizeof(vs));
		for (k = 0; k < i; k++) {
			if (memcmp(&st->vips[k].spec, &v->spec, sizeof(v->spec)))
				continue;
			snprintf(l->err, l->errlen, "%s: VIP %s is listed twice in \"%s\" "
				 "(entries %zu and %zu); the file was damaged or edited by hand: "
				 "remove one entry, or move the file aside to start from the "
				 "config file", l->path, vs, list, k, i);
			return -EINVAL;
		}
		for (j = 0; j < v->n_bes; j++) {
			for (k = 0; k < j; k++) {
				if (v->bes[k].family != v->bes[j].family ||
				    memcmp(&v->bes[k].addr, &v->bes[j].addr, sizeof(v->bes[j].addr)))
					continue;
				sl_format_addr(&v->bes[j].addr, v->bes[j].family, bs, sizeof(bs));
				snprintf(l->err, l->errlen, "%s: backend %s is listed twice for VIP %s "
					 "in \"%s\"; the file was damaged or edited by hand: remove "
					 "one entry, or move the file aside to start from the config "
					 "file", l->path, bs, vs, list);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* cluster_revision: optional (files from before it, boxes not in a cluster). */
static int load_cluster_rev(struct loader *l, json_object *root,
			    struct sl_state *st)
{
	json_object *v;

	if (!json_object_object_get_ex(root, "cluster_revision", &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0) {
		snprintf(
			l->err, l->errlen,
			"%s: cluster_revision must be a revision number (a "
			"non-negative integer); the file was damaged or edited "
			"by hand: remove the key, or move the file aside to "
			"start from the config file",
			l->path);
		return -EINVAL;
	}
	st->cluster_rev = json_object_get_int64(v);
	return 0;
}

/*
 * wall_clock: optional (files from before it, or saved where the boot id
 * could not be read). Without it a restart cannot see a step made while
 * sluiced was stopped, so a damaged one is refused rather than dropped.
 */
static int load_clock(struct loader *l, json_object *root, struct sl_state *st)
{
	json_object *o, *id, *off;

	if (!json_object_object_get_ex(root, "wall_clock", &o))
		return 0;
	if (json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "boot_id", &id) &&
	    json_object_is_type(id, json_type_string) &&
	    sl_boot_id_valid(json_object_get_string(id)) &&
	    json_object_object_get_ex(o, "offset_ms", &off) &&
	    json_object_is_type(off, json_type_int)) {
		st->clock.offset_ms = json_object_get_int64(off);
		memcpy(st->clock.boot_id, json_object_get_string(id),
		       SL_BOOT_ID_LEN + 1);
		return 0;
	}
	snprintf(l->err, l->errlen,
		 "%s: wall_clock must be {\"boot_id\": a boot id such as "
		 "/proc/sys/kernel/random/boot_id holds, \"offset_ms\": an "
		 "integer}; the file was damaged or edited by hand: remove the "
		 "key (a wall-clock step made while sluiced was stopped then "
		 "goes unseen), or move the file aside to start from the "
		 "config file",
		 l->path);
	return -EINVAL;
}

int sl_state_load(const char *path, struct sl_state *st,
		  struct sl_state *cfg_applied, char *err, size_t errlen)
{
	struct loader l = { .path = path, .err = err, .errlen = errlen };
	json_object *root, *vips, *cvips, *next;
	int rc = -EINVAL;

	sl_state_init(st);
	sl_state_init(cfg_applied);
	if (access(path, F_OK))
		return -ENOENT;
	root = json_object_from_file(path);
	if (!root) {
		snprintf(err, errlen, "%s: not valid JSON (%s); move it aside to start from the config file",
			 path, json_util_get_last_err());
		return -EINVAL;
	}
	vips = member(&l, root, "vips", json_type_array);
	cvips = member(&l, root, "config_vips", json_type_array);
	next = member(&l, root, "next_backend_id", json_type_int);
	if (vips && cvips && next) {
		rc = load_vips(&l, vips, st);
		if (!rc)
			rc = check_ids(&l, st);
		if (!rc)
			rc = check_unique(&l, st, "vips");
		if (!rc)
			rc = load_vips(&l, cvips, cfg_applied);
		if (!rc)
			rc = check_unique(&l, cfg_applied, "config_vips");
		if (!rc && json_object_get_int64(next) < 0) {
			snprintf(err, errlen, "%s: next_backend_id is negative", path);
			rc = -EINVAL;
		}
		if (!rc)
			rc = load_cluster_rev(&l, root, st);
		if (!rc)
			rc = load_clock(&l, root, st);
		if (!rc) {
			st->next_be_id = json_object_get_int64(next) % SLUICE_MAX_BACKENDS;
		} else {
			sl_state_free(st);
			sl_state_free(cfg_applied);
		}
	}
	json_object_put(root);
	return rc;
}
