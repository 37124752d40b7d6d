// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Next hops follow the kernel's neighbour table. sluice forwards in XDP,
 * which never confirms a neighbour: without help the kernel would keep a
 * backend's old MAC (STALE) for good after the backend's NIC changed (a
 * replaced NIC, a moved VM, no gratuitous ARP) and sluice would black-hole
 * it. So the refresh asks the kernel to probe STALE entries (nexthop.c),
 * and this file listens to the kernel's neighbour changes (RTM_NEWNEIGH /
 * RTM_DELNEIGH) to take a new MAC, or drop a failed one, at once instead
 * of at the next sweep. It also counts packets forwarded while the kernel
 * did not vouch for the next hop (STALE, DELAY, PROBE): a steady rise means
 * backends are unreachable at the MAC sluice uses.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "daemon.h"
#include "neigh.h"

int sl_neigh_start(struct sl_daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->neigh_fd };

	d->neigh_fd = -1;
	d->neigh_mon = sl_nh_monitor_open();
	if (!d->neigh_mon) {
		sl_warn("cannot listen to neighbour changes: next hops follow "
			"them at each sweep only");
		return 0;
	}
	d->neigh_fd = sl_nh_monitor_fd(d->neigh_mon);
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->neigh_fd, &ev))
		return -errno;
	return 0;
}

struct match {
	struct sl_daemon *d;
	bool hit;
};

/* Is this neighbour the next hop (or the address) of one of our backends? */
static void on_change(__u32 ifindex, __u8 family, const struct sluice_addr *dst,
		      void *arg)
{
	struct match *m = arg;
	const struct sl_state *st = &m->d->st;
	size_t i, j;

	for (i = 0; i < st->n_vips && !m->hit; i++) {
		for (j = 0; j < st->vips[i].n_bes; j++) {
			const struct sl_be *b = &st->vips[i].bes[j];
			const struct sl_nh_cache *c = &m->d->dp.nh[b->id];

			if (b->family != family)
				continue;
			if (!memcmp(&b->addr, dst, sizeof(*dst)) ||
			    (c->nh.ifindex == ifindex && !memcmp(&c->nh.via, dst, sizeof(*dst)))) {
				m->hit = true;
				break;
			}
		}
	}
}

void sl_neigh_on_event(struct sl_daemon *d)
{
	struct match m = { .d = d };
	int n = sl_nh_monitor_read(d->neigh_mon, on_change, &m);

	/* Changes lost (ENOBUFS): re-resolve every next hop to be sure. */
	if (n < 0 && n != -ENOBUFS)
		sl_warn("neighbour changes: %s", strerror(-n));
	if (m.hit || n == -ENOBUFS)
		sl_dp_refresh_nexthops(d);
}

void sl_neigh_account(struct sl_daemon *d)
{
	static __u64 snap_copy[SLUICE_MAX_BACKENDS];
	const struct sl_state *st = &d->st;
	struct sluice_be_stats s;
	size_t i, j;

	for (i = 0; i < st->n_vips; i++) {
		for (j = 0; j < st->vips[i].n_bes; j++) {
			__u32 id = st->vips[i].bes[j].id;
			struct sl_nh_cache *c = &d->dp.nh[id];

			memset(&s, 0, sizeof(s));
			if (sl_be_stats_read(&d->maps, id, &s))
				continue;
			if (c->valid && !c->nh.confirmed && s.packets > c->last_packets &&
			    c->last_packets)
				c->unconfirmed_pkts += s.packets - c->last_packets;
			c->last_packets = s.packets;
		}
	}
	for (i = 0; i < SLUICE_MAX_BACKENDS; i++)
		snap_copy[i] = d->dp.nh[i].unconfirmed_pkts;
	pthread_mutex_lock(&d->snap_lock);
	memcpy(d->snap.nh_unconfirmed, snap_copy, sizeof(snap_copy));
	pthread_mutex_unlock(&d->snap_lock);
}

void sl_dp_refresh_nexthops(struct sl_daemon *d)
{
	char err[256];

	if (sl_dp_resolve_nexthops(&d->dp, &d->st) &&
	    sl_dp_sync(&d->dp, &d->st, err, sizeof(err)))
		sl_warn("next hop update failed: %s", err);
}
