// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* VIP announcements as host routes through sluiced's own TUN device (announce.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "announce.h"

struct sl_announce {
	int tun_fd;
	int ifindex;
	__u32 table;
	char dev[IFNAMSIZ];
	struct mnl_socket *nl;
	unsigned int seq;
	struct sl_ann_addr cur[SL_ANNOUNCE_MAX];
	size_t n_cur;
};

bool sl_announce_table_ok(__u32 table)
{
	return table != RT_TABLE_UNSPEC && table != RT_TABLE_DEFAULT &&
	       table != RT_TABLE_MAIN && table != RT_TABLE_LOCAL;
}

static bool same(const struct sl_ann_addr *a, const struct sl_ann_addr *b)
{
	return a->family == b->family && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

static bool contains(const struct sl_ann_addr *set, size_t n,
		     const struct sl_ann_addr *x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same(&set[i], x))
			return true;
	return false;
}

/* A non-persistent TUN device: it lives exactly as long as our fd. */
static int tun_create(struct sl_announce *a, char *err, size_t errlen)
{
	struct ifreq ifr = {};
	int ctl, rc;

	if (if_nametoindex(a->dev)) {
		snprintf(err, errlen, "announce.device %s exists already: another process "
			 "announces through it (hint: choose another announce.device)", a->dev);
		return -EEXIST;
	}
	a->tun_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (a->tun_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open /dev/net/tun: %s (hint: the tun driver "
			 "and CAP_NET_ADMIN are needed for announce:)", strerror(errno));
		return rc;
	}
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", a->dev);
	if (ioctl(a->tun_fd, TUNSETIFF, &ifr)) {
		rc = -errno;
		snprintf(err, errlen, "cannot create TUN device %s: %s", a->dev, strerror(errno));
		return rc;
	}
	ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	rc = ctl < 0 || ioctl(ctl, SIOCGIFFLAGS, &ifr) ? -errno : 0;
	ifr.ifr_flags |= IFF_UP;
	if (!rc && ioctl(ctl, SIOCSIFFLAGS, &ifr))
		rc = -errno;
	if (ctl >= 0)
		close(ctl);
	if (rc) {
		snprintf(err, errlen, "cannot bring %s up: %s", a->dev, strerror(-rc));
		return rc;
	}
	a->ifindex = if_nametoindex(a->dev);
	return a->ifindex ? 0 : -ENODEV;
}

struct sl_announce *sl_announce_open(const char *dev, __u32 table, char *err,
				     size_t errlen)
{
	struct sl_announce *a = calloc(1, sizeof(*a));

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->tun_fd = -1;
	a->table = table;
	a->seq = (unsigned int)time(NULL);
	snprintf(a->dev, sizeof(a->dev), "%s", dev);
	if (tun_create(a, err, errlen))
		goto fail;
	a->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!a->nl || mnl_socket_bind(a->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "cannot open rtnetlink: %s", strerror(errno));
		goto fail;
	}
	return a;
fail:
	sl_announce_close(a);
	return NULL;
}

/* Add (@add) or delete the host route for @x in our table, via our device. */
static int route(struct sl_announce *a, const struct sl_ann_addr *x, bool add)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	bool v4 = x->family == SLUICE_AF_INET;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int rc;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			   (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	nlh->nlmsg_seq = ++a->seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = v4 ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = v4 ? 32 : 128;
	rtm->rtm_table = a->table < 256 ? a->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;	/* BIRD's "learn" takes static routes */
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, a->table);
	mnl_attr_put(nlh, RTA_DST, v4 ? 4 : 16, &x->addr);
	mnl_attr_put_u32(nlh, RTA_OIF, a->ifindex);
	if (mnl_socket_sendto(a->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	rc = mnl_socket_recvfrom(a->nl, buf, sizeof(buf));
	if (rc < 0)
		return -errno;
	rc = mnl_cb_run(buf, rc, a->seq, mnl_socket_get_portid(a->nl), NULL, NULL);
	if (rc < 0 && !add && errno == ESRCH)
		return 0;	/* already gone */
	return rc < 0 ? -errno : 0;
}

static int route_err(int rc, bool add, const struct sl_ann_addr *x,
		     const struct sl_announce *a, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot %s the route for a VIP address (family %u) in "
		 "table %u via %s: %s", add ? "add" : "remove", x->family, a->table,
		 a->dev, strerror(-rc));
	return rc;
}

int sl_announce_set(struct sl_announce *a, const struct sl_ann_addr *addrs,
		    size_t n, char *err, size_t errlen)
{
	struct sl_ann_addr next[SL_ANNOUNCE_MAX];
	size_t i, n_next = 0;
	int rc;

	for (i = 0; i < n && n_next < SL_ANNOUNCE_MAX; i++)
		if (!contains(next, n_next, &addrs[i]))
			next[n_next++] = addrs[i];
	for (i = 0; i < n_next; i++) {
		if (contains(a->cur, a->n_cur, &next[i]))
			continue;
		rc = route(a, &next[i], true);
		if (rc)
			return route_err(rc, true, &next[i], a, err, errlen);
		a->cur[a->n_cur++] = next[i];
	}
	for (i = 0; i < a->n_cur;) {
		if (contains(next, n_next, &a->cur[i])) {
			i++;
			continue;
		}
		rc = route(a, &a->cur[i], false);
		if (rc)
			return route_err(rc, false, &a->cur[i], a, err, errlen);
		a->cur[i] = a->cur[--a->n_cur];
	}
	return 0;
}

size_t sl_announce_list(const struct sl_announce *a, struct sl_ann_addr *out,
			size_t max)
{
	size_t n = a && a->n_cur < max ? a->n_cur : max;

	if (!a)
		return 0;
	memcpy(out, a->cur, n * sizeof(*out));
	return a->n_cur;
}

void sl_announce_close(struct sl_announce *a)
{
	size_t i;

	if (!a)
		return;
	/*
	 * A clean stop deletes each route first: the kernel then tells BIRD
	 * at once (RTM_DELROUTE). Closing the device also removes them (what
	 * a crash relies on), but without a notification per route: BIRD
	 * sees that only at its next scan of the table.
	 */
	for (i = 0; a->nl && i < a->n_cur; i++)
		route(a, &a->cur[i], false);
	if (a->nl)
		mnl_socket_close(a->nl);
	if (a->tun_fd >= 0)
		close(a->tun_fd);
	free(a);
}
