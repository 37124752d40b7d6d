/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A backend's network namespace for the second-chance test and bench: the
 * process's own (unshare), loopback up for real TCP connections to the VIP
 * (bpf_skc_lookup_tcp finds them), and a veth on the backends' subnet with
 * forwarding on and a permanent neighbour for one second hop, so that
 * decap's bpf_fib_lookup() resolves a pass-on there.
 */
#ifndef SLUICE_TEST_BACKENDNS_H
#define SLUICE_TEST_BACKENDNS_H

#include <linux/types.h>

#define BNS_VIP		"127.0.0.1"	/* loopback: real sockets, no addresses */
#define BNS_CLIENT	"127.0.0.2"
#define BNS_VPORT	18080
#define BNS_HOST	"198.18.1.10"	/* this backend, on BNS_VETH */
#define BNS_HOP		"198.18.1.11"	/* a second hop with a neighbour entry */
#define BNS_HOP_UNRESOLVED "198.18.1.12" /* one without */
#define BNS_HOP_MAC	"02:00:5e:00:01:aa"
#define BNS_VETH	"slsc0"

/* Enter a new network namespace and set it up; 0, or -1 (printed why). */
int bns_setup(void);
/* A TCP listener on @addr:@port; fails the test when it cannot. */
int bns_listen(const char *addr, __u16 port);
/* A connection from BNS_CLIENT:@sport to BNS_VIP:BNS_VPORT (handshake
 * done on loopback); fails the test when it cannot. */
int bns_connect(__u16 sport);

#endif /* SLUICE_TEST_BACKENDNS_H */
