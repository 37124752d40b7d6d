// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Counting a backend's sockets per VIP through sock_diag (see sockdiag.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <libmnl/libmnl.h>

#include "sockdiag.h"

bool sl_tcp_state_live(int state)
{
	switch (state) {
	case TCP_LISTEN:
	case TCP_CLOSE:
	case TCP_TIME_WAIT:
		return false;
	default:
		return state >= TCP_ESTABLISHED && state <= TCP_CLOSING;
	}
}

bool sl_tcp_orphaned(int state, __u32 inode)
{
	switch (state) {
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		/* Our side sent its FIN: only a closed file leaves no inode. */
		return !inode;
	default:
		return false;
	}
}

bool sl_sock_matches_vip(const struct sl_vip_spec *vip, __u8 family,
			 const struct sluice_addr *addr, __be16 port, __u8 proto)
{
	return vip->family == family && vip->proto == proto &&
	       (!vip->port || vip->port == port) &&
	       !memcmp(&vip->addr, addr, sizeof(*addr));
}

void sl_sock_count_add(struct sl_sock_count *c, __u8 proto, int state)
{
	if (proto == IPPROTO_UDP) {
		/* Only a connected UDP socket names its peer: ESTABLISHED. */
		if (state == TCP_ESTABLISHED) {
			c->udp++;
			c->live++;
		}
		return;
	}
	switch (state) {
	case TCP_ESTABLISHED:
		c->established++;
		break;
	case TCP_SYN_RECV:
		c->handshakes++;
		break;
	case TCP_TIME_WAIT:
		c->time_wait++;
		break;
	default:
		if (sl_tcp_state_live(state))
			c->half_closed++;
		break;
	}
	if (sl_tcp_state_live(state))
		c->live++;
}

/* What one dump needs: the VIPs, their counts, and the protocol dumped. */
struct dump {
	const struct sl_vip_spec *vips;
	size_t n;
	struct sl_sock_count *out;
	__u8 proto;
};

/* The local address of a socket, an IPv4-mapped IPv6 one as IPv4. */
static void local_addr(const struct inet_diag_msg *m, struct sluice_addr *a,
		       __u8 *family)
{
	memset(a, 0, sizeof(*a));
	if (m->idiag_family == AF_INET) {
		a->addr[0] = m->id.idiag_src[0];
		*family = SLUICE_AF_INET;
	} else if (!m->id.idiag_src[0] && !m->id.idiag_src[1] &&
		   m->id.idiag_src[2] == htonl(0xffff)) {
		a->addr[0] = m->id.idiag_src[3];
		*family = SLUICE_AF_INET;
	} else {
		memcpy(a->addr, m->id.idiag_src, sizeof(a->addr));
		*family = SLUICE_AF_INET6;
	}
}

static int on_sock(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct dump *dp = data;
	struct sluice_addr a;
	__u8 family;
	size_t i;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return MNL_CB_ERROR;
	local_addr(m, &a, &family);
	for (i = 0; i < dp->n; i++) {
		if (!sl_sock_matches_vip(&dp->vips[i], family, &a, m->id.idiag_sport,
					 dp->proto))
			continue;
		if (dp->proto == IPPROTO_TCP && sl_tcp_orphaned(m->idiag_state, m->idiag_inode))
			dp->out[i].orphaned++;
		else
			sl_sock_count_add(&dp->out[i], dp->proto, m->idiag_state);
	}
	return MNL_CB_OK;
}

/* One inet_diag dump of @family/@proto sockets in every state. */
static int dump_one(struct mnl_socket *nl, __u8 family, struct dump *dp,
		    char *buf, size_t buflen)
{
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	unsigned int seq = (unsigned int)time(NULL), portid;
	ssize_t len;
	int rc;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = dp->proto;
	req->idiag_states = ~0U;	/* request sockets and TIME_WAIT too */
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	portid = mnl_socket_get_portid(nl);
	for (;;) {
		len = mnl_socket_recvfrom(nl, buf, buflen);
		if (len < 0)
			return -errno;
		rc = mnl_cb_run(buf, len, seq, portid, on_sock, dp);
		if (rc < 0)
			return errno ? -errno : -EIO;
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

int sl_sockdiag_count(const struct sl_vip_spec *vips, size_t n,
		      struct sl_sock_count *out, char *err, size_t errlen)
{
	static const __u8 families[] = { AF_INET, AF_INET6 };
	static const __u8 protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	size_t buflen = MNL_SOCKET_BUFFER_SIZE * 4;
	char *buf;
	struct dump dp = { .vips = vips, .n = n, .out = out };
	struct mnl_socket *nl;
	size_t f, p;
	int rc = 0;

	memset(out, 0, n * sizeof(*out));
	buf = malloc(buflen);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open a sock_diag netlink socket: %s",
			 strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		free(buf);
		return rc;
	}
	for (p = 0; !rc && p < sizeof(protos); p++) {
		dp.proto = protos[p];
		for (f = 0; !rc && f < sizeof(families); f++)
			rc = dump_one(nl, families[f], &dp, buf, buflen);
	}
	if (rc)
		snprintf(err, errlen, "sock_diag dump failed: %s", strerror(-rc));
	mnl_socket_close(nl);
	free(buf);
	return rc;
}
