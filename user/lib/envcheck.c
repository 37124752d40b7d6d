// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What a start would refuse, checked against this machine without starting. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice/abi.h"
#include "envcheck.h"
#include "maps.h"
#include "pindir.h"

void sl_problems_init(struct sl_problems *p)
{
	p->text[0] = '\0';
	p->n = 0;
}

void sl_problem_add(struct sl_problems *p, const char *fmt, ...)
{
	size_t used = strlen(p->text);
	va_list ap;

	p->n++;
	if (used && used + 1 < sizeof(p->text))
		p->text[used++] = '\n';
	if (used + 1 >= sizeof(p->text))
		return;		/* full: the first problems are kept */
	va_start(ap, fmt);
	vsnprintf(p->text + used, sizeof(p->text) - used, fmt, ap);
	va_end(ap);
}

void sl_check_ifaces(const struct sl_config *cfg, struct sl_problems *p)
{
	size_t i;

	for (i = 0; i < cfg->n_ifaces; i++) {
		if (if_nametoindex(cfg->ifaces[i].name))
			continue;
		sl_problem_add(p, "interfaces[%zu].name: no interface %s in this network "
			       "namespace: sluiced cannot attach to it\n"
			       "hint: check `ip link show`; run sluiced in the namespace that "
			       "holds the interface (nsenter --net=/run/netns/NAME)",
			       i, cfg->ifaces[i].name);
	}
}

/* The map pinned at DIR/NAME: 0 with its info, or -errno (none, unreadable). */
static int pinned_info(const char *dir, const char *name,
		       struct bpf_map_info *info)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return sl_pinned_map_info(path, info, NULL);
}

/* Entries of the map pinned at DIR/NAME, or 0 when there is none. */
static __u32 pinned_entries(const char *dir, const char *name)
{
	struct bpf_map_info info;

	return pinned_info(dir, name, &info) ? 0 : info.max_entries;
}

/*
 * Entries the pinned flow table holds: the shards' sum, or an older
 * sluiced's single table (carried into shards at start if the size
 * agrees); 0 when nothing is pinned. @shard: the size of one shard, or 0
 * for a single table.
 */
static __u64 pinned_flow_entries(const char *dir, __u32 *shard)
{
	struct bpf_map_info info;
	char name[32];
	__u64 sum = 0;
	unsigned int i;

	*shard = 0;
	if (!pinned_info(dir, SLUICE_MAP_FLOWS, &info) &&
	    info.type == BPF_MAP_TYPE_LRU_HASH)
		return info.max_entries;
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++) {
		snprintf(name, sizeof(name), SLUICE_MAP_FLOW_SHARD "%u", i);
		if (!pinned_info(dir, name, &info)) {
			sum += info.max_entries;
			*shard = info.max_entries;
		}
	}
	return sum;
}

static void check_pinned_flows(const struct sl_config *cfg,
			       struct sl_problems *p)
{
	__u32 shard, want = cfg->flow_table_size;
	__u64 have = pinned_flow_entries(cfg->pin_dir, &shard);
	int cpus = libbpf_num_possible_cpus();

	/* Sizes as the kernel rounds them; an older single table, carried
	 * into the shards at start, must have the size it would have had. */
	if (!have || (shard ? shard == sl_flow_shard_entries(want, cpus) :
			      have == sl_lru_entries(want, cpus)))
		return;
	sl_problem_add(
		p,
		"flows.table_size: the pinned map %s/%s has %llu entries%s "
		"but the config asks for %u: a start would refuse it\n"
		"hint: set flows.table_size back to %llu, or run sluiced "
		"--detach to start afresh (established flows are lost)",
		cfg->pin_dir, SLUICE_MAP_FLOWS, (unsigned long long)have,
		shard ? " (in its shards)" : "", want,
		(unsigned long long)have);
}

/*
 * A pinned map whose size differs from the config cannot be reused, and
 * re-creating it would drop every flow: a start refuses it.
 */
void sl_check_pinned_sizes(const struct sl_config *cfg, struct sl_problems *p)
{
	const struct {
		const char *field, *map;
		__u32 want;
	} tab[] = {
		{ "flows.drain_table_size", SLUICE_MAP_DRAIN_TABLE,
		  cfg->drain_table_size },
	};
	size_t i;
	__u32 have;

	check_pinned_flows(cfg, p);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		have = pinned_entries(cfg->pin_dir, tab[i].map);
		if (!have || have == tab[i].want)
			continue;
		sl_problem_add(p, "%s: the pinned map %s/%s has %u entries but the config "
			       "asks for %u: a start would refuse it\n"
			       "hint: set %s back to %u, or run sluiced --detach to start "
			       "afresh (established flows are lost)", tab[i].field,
			       cfg->pin_dir, tab[i].map, have, tab[i].want, tab[i].field, have);
	}
}

void sl_check_pindir(const struct sl_config *cfg, struct sl_problems *p)
{
	char err[1024];

	if (sl_pindir_prepare(cfg->pin_dir, false, err, sizeof(err)))
		sl_problem_add(p, "paths.pin_dir: %s", err);
}

unsigned int sl_check_env(const struct sl_config *cfg, struct sl_problems *p)
{
	unsigned int before = p->n;

	sl_check_ifaces(cfg, p);
	sl_check_pindir(cfg, p);
	sl_check_pinned_sizes(cfg, p);
	return p->n - before;
}
