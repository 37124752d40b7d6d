// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* rtnetlink route + neighbour lookups for backend next hops (nexthop.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "nexthop.h"

#define NL_BUF 8192

struct sl_nh_ctx {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	char buf[NL_BUF];
};

struct sl_nh_ctx *sl_nh_open(void)
{
	struct sl_nh_ctx *ctx = calloc(1, sizeof(*ctx));
	struct timeval tmo = { .tv_sec = 1 };

	if (!ctx)
		return NULL;
	ctx->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!ctx->nl || mnl_socket_bind(ctx->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		sl_nh_close(ctx);
		return NULL;
	}
	ctx->portid = mnl_socket_get_portid(ctx->nl);
	/* Never let a lost reply wedge the daemon's main loop. */
	setsockopt(mnl_socket_get_fd(ctx->nl), SOL_SOCKET, SO_RCVTIMEO, &tmo,
		   sizeof(tmo));
	ctx->seq = time(NULL);
	return ctx;
}

void sl_nh_close(struct sl_nh_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->nl)
		mnl_socket_close(ctx->nl);
	free(ctx);
}

static int kernel_family(__u8 family)
{
	return family == SLUICE_AF_INET ? AF_INET : AF_INET6;
}

static size_t addr_len(__u8 family)
{
	return family == SLUICE_AF_INET ? 4 : 16;
}

/* Send @nlh and feed every reply message to @cb until the ack or done. */
static int nl_talk(struct sl_nh_ctx *ctx, struct nlmsghdr *nlh,
		   mnl_cb_t cb, void *data)
{
	int rc;

	/* Ask for an ack even on GETs: it ends the reply (or carries the error). */
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++ctx->seq;
	if (mnl_socket_sendto(ctx->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		rc = mnl_socket_recvfrom(ctx->nl, ctx->buf, sizeof(ctx->buf));
		if (rc < 0)
			return -errno;
		rc = mnl_cb_run(ctx->buf, rc, ctx->seq, ctx->portid, cb, data);
	} while (rc > 0);
	return rc < 0 ? -errno : 0;
}

struct route_reply {
	__u32 oif;
	struct sluice_addr gw;
	int has_gw;
	__u8 family;
	__u32 mtu;		/* RTAX_MTU: the route's own MTU, or a learnt PMTU */
};

static int route_metric_cb(const struct nlattr *attr, void *data)
{
	struct route_reply *r = data;

	if (mnl_attr_get_type(attr) == RTAX_MTU &&
	    mnl_attr_get_payload_len(attr) == sizeof(__u32))
		r->mtu = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	struct route_reply *r = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_OIF:
		r->oif = mnl_attr_get_u32(attr);
		break;
	case RTA_METRICS:
		/* `ip route ... mtu N`, or a PMTU exception this host learnt
		 * from an ICMP error about its own tunnel packets. */
		mnl_attr_parse_nested(attr, route_metric_cb, r);
		break;
	case RTA_GATEWAY:
		if (mnl_attr_get_payload_len(attr) == addr_len(r->family)) {
			memcpy(&r->gw, mnl_attr_get_payload(attr), addr_len(r->family));
			r->has_gw = 1;
		}
		break;
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct rtmsg), route_attr_cb, data);
}

static int get_route(struct sl_nh_ctx *ctx, const struct sluice_addr *dst,
		     __u8 family, struct route_reply *r)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int rc;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = kernel_family(family);
	rtm->rtm_dst_len = addr_len(family) * 8;
	mnl_attr_put(nlh, RTA_DST, addr_len(family), dst);
	memset(r, 0, sizeof(*r));
	r->family = family;
	rc = nl_talk(ctx, nlh, route_cb, r);
	if (rc)
		return rc == -ENETUNREACH || rc == -EHOSTUNREACH ? -ENETUNREACH : rc;
	return r->oif ? 0 : -ENETUNREACH;
}

struct neigh_reply {
	__u8 mac[6];
	int has_mac;
	__u16 state;
};

static int neigh_attr_cb(const struct nlattr *attr, void *data)
{
	struct neigh_reply *n = data;

	if (mnl_attr_get_type(attr) == NDA_LLADDR &&
	    mnl_attr_get_payload_len(attr) == 6) {
		memcpy(n->mac, mnl_attr_get_payload(attr), 6);
		n->has_mac = 1;
	}
	return MNL_CB_OK;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct neigh_reply *n = data;

	n->state = ndm->ndm_state;
	return mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, data);
}

/* RTM_GETNEIGH for one address on one interface (or RTM_NEWNEIGH + NTF_USE
 * to make the kernel start resolving it). */
static int neigh_msg(struct sl_nh_ctx *ctx, int type, __u32 ifindex,
		     const struct sluice_addr *via, __u8 family,
		     struct neigh_reply *n)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = kernel_family(family);
	ndm->ndm_ifindex = ifindex;
	if (type == RTM_NEWNEIGH) {
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK;
		ndm->ndm_flags = NTF_USE;
		ndm->ndm_state = NUD_NONE;
	}
	mnl_attr_put(nlh, NDA_DST, addr_len(family), via);
	memset(n, 0, sizeof(*n));
	return nl_talk(ctx, nlh, neigh_cb, n);
}

/* Interface @ifindex's SIOCGIF* @req into @ifr: 0 or -errno. */
static int iface_ioctl(__u32 ifindex, unsigned long req, struct ifreq *ifr)
{
	int fd, rc = 0;

	memset(ifr, 0, sizeof(*ifr));
	if (!if_indextoname(ifindex, ifr->ifr_name))
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, req, ifr) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int iface_mac(__u32 ifindex, __u8 mac[6])
{
	struct ifreq ifr;
	int rc = iface_ioctl(ifindex, SIOCGIFHWADDR, &ifr);

	if (rc)
		return rc;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EOPNOTSUPP;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static int iface_mtu(__u32 ifindex, __u32 *mtu)
{
	struct ifreq ifr;
	int rc = iface_ioctl(ifindex, SIOCGIFMTU, &ifr);

	if (!rc)
		*mtu = ifr.ifr_mtu;
	return rc;
}

/* The smaller of the route's MTU (when it has one) and the interface's:
 * what an encapsulated packet must fit in on its way to the backend. */
static int path_mtu(const struct route_reply *r, __u32 *mtu)
{
	int rc = iface_mtu(r->oif, mtu);

	if (rc)
		return rc;
	if (r->mtu && r->mtu < *mtu)
		*mtu = r->mtu;
	return 0;
}

#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | \
		    NUD_PERMANENT | NUD_NOARP)
/* The kernel vouches for the MAC now (not just remembers it). */
#define NUD_CONFIRMED (NUD_REACHABLE | NUD_PERMANENT | NUD_NOARP)

int sl_nh_resolve(struct sl_nh_ctx *ctx, const struct sluice_addr *dst,
		  __u8 family, struct sl_nh *nh)
{
	struct route_reply r;
	struct neigh_reply n;
	int rc;

	memset(nh, 0, sizeof(*nh));
	rc = get_route(ctx, dst, family, &r);
	if (rc)
		return rc;
	nh->ifindex = r.oif;
	nh->via = r.has_gw ? r.gw : *dst;
	rc = iface_mac(r.oif, nh->smac);
	if (!rc)
		rc = path_mtu(&r, &nh->mtu);
	if (rc)
		return rc;
	rc = neigh_msg(ctx, RTM_GETNEIGH, r.oif, &nh->via, family, &n);
	nh->state = n.state;
	if (!rc && n.has_mac && (n.state & NUD_USABLE)) {
		memcpy(nh->dmac, n.mac, 6);
		nh->confirmed = !!(n.state & NUD_CONFIRMED);
		/*
		 * XDP traffic never confirms a neighbour, so an entry sluice
		 * forwards through goes STALE and would stay so for good, MAC
		 * changed or not: make the kernel probe it (STALE -> DELAY ->
		 * PROBE -> REACHABLE, or FAILED when the MAC is gone).
		 */
		if (n.state & NUD_STALE)
			neigh_msg(ctx, RTM_NEWNEIGH, r.oif, &nh->via, family, &n);
		return 0;
	}
	/* Not resolved (or failed): ask the kernel to resolve it now. */
	neigh_msg(ctx, RTM_NEWNEIGH, r.oif, &nh->via, family, &n);
	return nh->state & NUD_FAILED ? -EHOSTUNREACH : -EAGAIN;
}

/* --- neighbour changes --------------------------------------------------- */

struct sl_nh_mon {
	struct mnl_socket *nl;
	char buf[NL_BUF];
};

struct sl_nh_mon *sl_nh_monitor_open(void)
{
	struct sl_nh_mon *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!m->nl || mnl_socket_bind(m->nl, 1U << (RTNLGRP_NEIGH - 1),
				      MNL_SOCKET_AUTOPID) < 0) {
		sl_nh_monitor_close(m);
		return NULL;
	}
	return m;
}

void sl_nh_monitor_close(struct sl_nh_mon *m)
{
	if (!m)
		return;
	if (m->nl)
		mnl_socket_close(m->nl);
	free(m);
}

int sl_nh_monitor_fd(const struct sl_nh_mon *m)
{
	return mnl_socket_get_fd(m->nl);
}

struct mon_cb {
	sl_nh_event_cb cb;
	void *arg;
};

static int neigh_dst_cb(const struct nlattr *attr, void *data)
{
	struct sluice_addr *a = data;
	size_t len = mnl_attr_get_payload_len(attr);

	if (mnl_attr_get_type(attr) == NDA_DST && (len == 4 || len == 16))
		memcpy(a, mnl_attr_get_payload(attr), len);
	return MNL_CB_OK;
}

static int mon_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct mon_cb *m = data;
	struct sluice_addr dst;

	if (nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH)
		return MNL_CB_OK;
	if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
		return MNL_CB_OK;
	memset(&dst, 0, sizeof(dst));
	mnl_attr_parse(nlh, sizeof(*ndm), neigh_dst_cb, &dst);
	m->cb(ndm->ndm_ifindex, ndm->ndm_family == AF_INET ? SLUICE_AF_INET : SLUICE_AF_INET6,
	      &dst, m->arg);
	return MNL_CB_OK;
}

int sl_nh_monitor_read(struct sl_nh_mon *m, sl_nh_event_cb cb, void *arg)
{
	struct mon_cb c = { cb, arg };
	int n, events = 0;

	for (;;) {
		n = mnl_socket_recvfrom(m->nl, m->buf, sizeof(m->buf));
		if (n < 0)
			/* ENOBUFS: changes were lost; the caller re-resolves all. */
			return errno == EAGAIN ? events : -errno;
		mnl_cb_run(m->buf, n, 0, 0, mon_msg_cb, &c);
		events++;
	}
}
