/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A backend's network namespace (see backendns.h). */
#define _GNU_SOURCE
#include "backendns.h"

#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"

int bns_setup(void)
{
	int rc;

	if (unshare(CLONE_NEWNET)) {
		perror("unshare(CLONE_NEWNET)");
		return -1;
	}
	/* bpf_fib_lookup() answers only where forwarding is on: a backend
	 * that passes packets on needs it on its tunnel interface too. */
	rc = system("ip link set lo up && "
		    "ip link add " BNS_VETH " type veth peer name " BNS_VETH
		    "p && ip link set " BNS_VETH " up && "
		    "ip link set " BNS_VETH "p up && "
		    "ip addr add " BNS_HOST "/24 dev " BNS_VETH " && "
		    "sysctl -qw net.ipv4.conf." BNS_VETH ".forwarding=1 && "
		    "ip neigh add " BNS_HOP " lladdr " BNS_HOP_MAC
		    " dev " BNS_VETH " nud permanent");
	return rc ? -1 : 0;
}

int bns_listen(const char *addr, __u16 port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	CHECK(CHECK_HERE, fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, addr, &sa.sin_addr);
	CHECK_INT(CHECK_HERE, bind(fd, (void *)&sa, sizeof(sa)), 0);
	CHECK_INT(CHECK_HERE, listen(fd, 16), 0);
	return fd;
}

int bns_connect(__u16 sport)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(sport) };
	struct sockaddr_in da = { .sin_family = AF_INET,
				  .sin_port = htons(BNS_VPORT) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CHECK(CHECK_HERE, fd >= 0);
	inet_pton(AF_INET, BNS_CLIENT, &sa.sin_addr);
	inet_pton(AF_INET, BNS_VIP, &da.sin_addr);
	CHECK_INT(CHECK_HERE, bind(fd, (void *)&sa, sizeof(sa)), 0);
	CHECK_INT(CHECK_HERE, connect(fd, (void *)&da, sizeof(da)), 0);
	return fd;
}
