// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests for user/lib/sockdiag.c: which sockets count as live, which
 * belong to a VIP, and a real sock_diag dump of sockets this test opens in
 * its own network namespace (loopback only).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>

#include <cmocka.h>
#include "../lib/check.h"

#include "sockdiag.h"

#include "array.h"

static void test_tcp_states(void **state)
{
	static const struct { int st; bool live; const char *name; } cases[] = {
		{ TCP_ESTABLISHED, true, "established" },
		{ TCP_SYN_SENT, true, "syn_sent" },
		{ TCP_SYN_RECV, true, "syn_recv" },
		{ TCP_FIN_WAIT1, true, "fin_wait1" },
		{ TCP_FIN_WAIT2, true, "fin_wait2: the client may still send" },
		{ TCP_TIME_WAIT, false, "time_wait" },
		{ TCP_CLOSE, false, "close" },
		{ TCP_CLOSE_WAIT, true, "close_wait: half-closed by the client" },
		{ TCP_LAST_ACK, true, "last_ack" },
		{ TCP_LISTEN, false, "listen" },
		{ TCP_CLOSING, true, "closing" },
		{ 0, false, "zero" },
		{ 99, false, "unknown" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK_INT(cases[i].name, sl_tcp_state_live(cases[i].st), cases[i].live);
}

static struct sl_vip_spec vip(const char *s)
{
	struct sl_vip_spec v;
	char err[128];

	CHECK_INT(CHECK_HERE, sl_parse_vip(s, &v, err, sizeof(err)), 0);
	return v;
}

static void test_matches_vip(void **state)
{
	struct sl_vip_spec v80 = vip("198.18.0.100:80/tcp");
	struct sl_vip_spec any = vip("198.18.0.100:0/udp");
	struct sl_vip_spec v6 = vip("[fd00:100::100]:443/tcp");
	struct sluice_addr a4 = {}, other = {}, a6 = {};

	(void)state;
	a4.addr[0] = inet_addr("198.18.0.100");
	other.addr[0] = inet_addr("198.18.0.101");
	inet_pton(AF_INET6, "fd00:100::100", &a6);
	CHECK_INT("exact", sl_sock_matches_vip(&v80, SLUICE_AF_INET, &a4, htons(80), IPPROTO_TCP), 1);
	CHECK_INT("other port", sl_sock_matches_vip(&v80, SLUICE_AF_INET, &a4, htons(81), IPPROTO_TCP), 0);
	CHECK_INT("other proto", sl_sock_matches_vip(&v80, SLUICE_AF_INET, &a4, htons(80), IPPROTO_UDP), 0);
	CHECK_INT("other addr", sl_sock_matches_vip(&v80, SLUICE_AF_INET, &other, htons(80), IPPROTO_TCP), 0);
	CHECK_INT("port 0: any port", sl_sock_matches_vip(&any, SLUICE_AF_INET, &a4, htons(5353), IPPROTO_UDP), 1);
	CHECK_INT("v6", sl_sock_matches_vip(&v6, SLUICE_AF_INET6, &a6, htons(443), IPPROTO_TCP), 1);
	CHECK_INT("v6 vs v4 family", sl_sock_matches_vip(&v6, SLUICE_AF_INET, &a6, htons(443), IPPROTO_TCP), 0);
}

static void test_count_add(void **state)
{
	struct sl_sock_count c = {};

	(void)state;
	sl_sock_count_add(&c, IPPROTO_TCP, TCP_ESTABLISHED);
	sl_sock_count_add(&c, IPPROTO_TCP, TCP_CLOSE_WAIT);
	sl_sock_count_add(&c, IPPROTO_TCP, TCP_SYN_RECV);
	sl_sock_count_add(&c, IPPROTO_TCP, TCP_TIME_WAIT);
	sl_sock_count_add(&c, IPPROTO_TCP, TCP_LISTEN);
	sl_sock_count_add(&c, IPPROTO_UDP, TCP_ESTABLISHED);
	sl_sock_count_add(&c, IPPROTO_UDP, TCP_CLOSE);	/* unconnected */
	CHECK_U64(CHECK_HERE, c.established, 1);
	CHECK_U64(CHECK_HERE, c.half_closed, 1);
	CHECK_U64(CHECK_HERE, c.handshakes, 1);
	CHECK_U64(CHECK_HERE, c.time_wait, 1);
	CHECK_U64(CHECK_HERE, c.udp, 1);
	CHECK_U64(CHECK_HERE, c.live, 4);
}

/* A listener on @addr:@port and @n accepted connections to it. */
static int open_conns(const char *addr, int port, int n, int *cli, int *srv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int l, i, one = 1;

	sa.sin_addr.s_addr = inet_addr(addr);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, n))
		return -1;
	for (i = 0; i < n; i++) {
		cli[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(cli[i], (struct sockaddr *)&sa, sizeof(sa)))
			return -1;
		srv[i] = accept(l, NULL, NULL);
	}
	return l;
}

/* A new network namespace starts with lo down. */
static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	rc = fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) ? -1 : 0;
	ifr.ifr_flags |= IFF_UP;
	if (!rc)
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return rc;
}

/* A real dump: the kernel's view of sockets we hold, in a private netns. */
static void test_real_dump(void **state)
{
	struct sl_vip_spec vips[2] = { vip("127.0.0.1:8080/tcp"), vip("127.0.0.1:8081/tcp") };
	struct sl_sock_count c[2];
	int cli[3], srv[3], l, i;
	char err[256];

	(void)state;
	if (unshare(CLONE_NEWNET)) {
		print_error("unshare(CLONE_NEWNET): %s (run as root)\n", strerror(errno));
		fail();
	}
	CHECK_INT(CHECK_HERE, lo_up(), 0);
	l = open_conns("127.0.0.1", 8080, 3, cli, srv);
	CHECK(CHECK_HERE, l >= 0);
	shutdown(cli[0], SHUT_WR);	/* half-closed by the client */
	usleep(100 * 1000);
	CHECK_INT(CHECK_HERE, sl_sockdiag_count(vips, 2, c, err, sizeof(err)),
		  0);
	CHECK_U64("8080 established", c[0].established, 2);
	CHECK_U64("8080 half closed", c[0].half_closed, 1);
	CHECK_U64("8080 live", c[0].live, 3);
	CHECK_U64("8081 live", c[1].live, 0);
	for (i = 0; i < 3; i++) {
		close(srv[i]);	/* the server closes first: TIME_WAIT on its side */
		close(cli[i]);
	}
	close(l);
	usleep(100 * 1000);
	CHECK_INT(CHECK_HERE, sl_sockdiag_count(vips, 2, c, err, sizeof(err)),
		  0);
	CHECK_U64("8080 live after close", c[0].live, 0);
}

/* Closed by the application (no inode) after our FIN: not live. */
static void test_orphaned(void **state)
{
	(void)state;
	CHECK_INT("fin_wait2 orphan", sl_tcp_orphaned(TCP_FIN_WAIT2, 0), true);
	CHECK_INT("last_ack orphan", sl_tcp_orphaned(TCP_LAST_ACK, 0), true);
	CHECK_INT("fin_wait1 orphan", sl_tcp_orphaned(TCP_FIN_WAIT1, 0), true);
	CHECK_INT("fin_wait2 with a file", sl_tcp_orphaned(TCP_FIN_WAIT2, 1234), false);
	CHECK_INT("close_wait: the peer closed", sl_tcp_orphaned(TCP_CLOSE_WAIT, 0), false);
	CHECK_INT("syn_recv: a request socket", sl_tcp_orphaned(TCP_SYN_RECV, 0), false);
	CHECK_INT("established", sl_tcp_orphaned(TCP_ESTABLISHED, 0), false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orphaned),
		cmocka_unit_test(test_tcp_states),
		cmocka_unit_test(test_matches_vip),
		cmocka_unit_test(test_count_add),
		cmocka_unit_test(test_real_dump),
	};

	return cmocka_run_group_tests_name("sockdiag", tests, NULL, NULL);
}
