// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What a start would refuse, checked against this machine without starting. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>

#include "sluice/abi.h"
#include "envcheck.h"
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

/* Entries of the map pinned at DIR/NAME, or 0 when there is none. */
static __u32 pinned_entries(const char *dir, const char *name)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX + 32];
	__u32 n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		n = info.max_entries;
	close(fd);
	return n;
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
		{ "flows.table_size", SLUICE_MAP_FLOWS, cfg->flow_table_size },
		{ "flows.drain_table_size", SLUICE_MAP_DRAIN_TABLE,
		  cfg->drain_table_size },
	};
	size_t i;
	__u32 have;

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
