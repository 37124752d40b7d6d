/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The backend's own word on a drain: count the sockets this host's kernel
 * holds for each VIP it serves, through sock_diag (NETLINK_SOCK_DIAG,
 * inet_diag dumps). A box that sees one direction of a connection can only
 * infer that it ended; the backend's kernel knows.
 */
#ifndef SLUICE_SOCKDIAG_H
#define SLUICE_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "parse.h"

/*
 * Per VIP: TCP sockets by state, and connected UDP sockets. A socket
 * belongs to a VIP when its local address and port are the VIP's (any
 * port for a port-0 VIP) and its protocol matches.
 */
struct sl_sock_count {
	__u64 live;		/* sockets that still carry a connection */
	__u64 established;	/* TCP ESTABLISHED */
	__u64 half_closed;	/* TCP CLOSE_WAIT, FIN_WAIT1/2, CLOSING, LAST_ACK */
	__u64 handshakes;	/* TCP SYN_RECV (request sockets) */
	__u64 time_wait;	/* TCP TIME_WAIT: not live, shown for completeness */
	__u64 udp;		/* connected UDP sockets (live) */
	/*
	 * TCP sockets the application already closed (FIN_WAIT1/2, CLOSING,
	 * LAST_ACK with no file behind them): the kernel finishes them with
	 * or without the server process, so they are not live.
	 */
	__u64 orphaned;
};

/*
 * Is a TCP socket in @state (TCP_* from netinet/tcp.h) still a connection
 * that stopping the server would break? Everything but LISTEN, CLOSE and
 * TIME_WAIT: a half-closed connection (either side) can still carry data.
 */
bool sl_tcp_state_live(int state);

/* Does a socket's local side (@family SLUICE_AF_*, @addr, @port network
 * order, @proto IPPROTO_*) belong to @vip? */
bool sl_sock_matches_vip(const struct sl_vip_spec *vip, __u8 family,
			 const struct sluice_addr *addr, __be16 port, __u8 proto);

/* Add one socket to @c by its TCP @state (or as UDP when @proto is UDP). */
void sl_sock_count_add(struct sl_sock_count *c, __u8 proto, int state);

/* Is a TCP socket in @state with inode @inode closed by its application? */
bool sl_tcp_orphaned(int state, __u32 inode);

/*
 * Dump this network namespace's TCP and UDP sockets (IPv4 and IPv6) and
 * count those of each of the @n VIPs into @out[0..n-1] (zeroed first).
 * 0, or -errno with a message in @err.
 */
int sl_sockdiag_count(const struct sl_vip_spec *vips, size_t n,
		      struct sl_sock_count *out, char *err, size_t errlen);

#endif /* SLUICE_SOCKDIAG_H */
