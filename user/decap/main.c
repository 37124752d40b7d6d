// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluice-decap: attach sluice's decapsulation program to a backend's
 * interface, for hosts without the ipip/ip6_tunnel modules.
 *
 *   sluice-decap [-v] attach IFACE [ADDR...] [--skb]
 *
 * With no ADDR the program strips nothing and passes every frame: what a
 * veth peer needs so frames XDP_TX'd into it are delivered.
 *   sluice-decap [-v] detach IFACE
 *   sluice-decap [-v] stats IFACE
 *   sluice-decap agent [--listen ADDR:PORT] --vip VIP...   (agent.c)
 *
 * Exit codes: 0 ok, 1 failed, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice/abi.h"
#include "sluice/version.h"
#include "agent.h"
#include "counters.h"
#include "decap.skel.h"
#include "log.h"
#include "xdp.h"

#define PROG_NAME SL_DECAP_PROG_NAME

static int usage(void)
{
	fprintf(stderr,
		"usage: sluice-decap [-v] attach IFACE [ADDR...] [--skb]\n"
		"       sluice-decap [-v] detach IFACE\n"
		"       sluice-decap [-v] stats IFACE\n"
		"       sluice-decap agent [--listen ADDR:PORT] --vip VIP [--vip VIP...]\n");
	return 2;
}

static int parse_key(const char *s, struct sluice_decap_key *k)
{
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET, s, &k->addr.addr[0]) == 1) {
		k->family = SLUICE_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &k->addr) == 1) {
		k->family = SLUICE_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static int add_addrs(int map_fd, char **addrs, int n)
{
	struct sluice_decap_key k;
	__u32 one = 1;
	int i;

	for (i = 0; i < n; i++) {
		if (parse_key(addrs[i], &k)) {
			sl_err("invalid address \"%s\"", addrs[i]);
			sl_err("hint: give IPv4 or IPv6 addresses, no prefix length");
			return 2;
		}
		if (bpf_map_update_elem(map_fd, &k, &one, BPF_ANY)) {
			sl_err("cannot add %s: %s", addrs[i], strerror(errno));
			return 1;
		}
	}
	return 0;
}

static int cmd_attach(const char *ifname, char **addrs, int n,
		      enum xdp_attach_mode mode)
{
	struct decap_bpf *skel;
	char err[256];
	int rc;

	skel = decap_bpf__open_and_load();
	if (!skel) {
		sl_err("cannot load decap program: %s", strerror(errno));
		return 1;
	}
	rc = add_addrs(bpf_map__fd(skel->maps.sl_decap_addrs), addrs, n);
	if (!rc && sl_xdp_attach(skel->obj, PROG_NAME, ifname, mode, err,
				 sizeof(err))) {
		sl_err("%s", err);
		rc = 1;
	}
	decap_bpf__destroy(skel);
	return rc;
}

static int cmd_detach(const char *ifname)
{
	char err[256];

	if (sl_xdp_detach(ifname, PROG_NAME, err, sizeof(err))) {
		sl_err("%s", err);
		return 1;
	}
	return 0;
}

static int cmd_stats(const char *ifname)
{
	__u64 c[SLUICE_DR_MAX];
	int rc = sl_decap_counters(ifname, c);
	__u32 r;

	if (rc) {
		sl_err("cannot read counters on %s: %s", ifname, strerror(-rc));
		return 1;
	}
	for (r = 0; r < SLUICE_DR_MAX; r++)
		printf("%-14s %llu\n", sl_dr_names[r],
		       (unsigned long long)c[r]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "skb", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	enum xdp_attach_mode mode = XDP_MODE_NATIVE;
	int opt, verbose = 0;

	/* The agent has options of its own and needs no BPF. */
	if (argc > 1 && !strcmp(argv[1], "agent"))
		return sl_agent_main(argc - 1, argv + 1);
	while ((opt = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		if (opt == 'v')
			verbose = 1;
		else if (opt == 's')
			mode = XDP_MODE_SKB;
		else if (opt == 'V')
			return printf("sluice-decap %s\n", SL_VERSION) < 0;
		else
			return usage();
	}
	sl_lib_verbose(verbose);
	/* Also the decap unit's ExecStart and ExecStop: priorities in the journal. */
	sl_log_init("sluice-decap", verbose);
	argc -= optind;
	argv += optind;
	/* Options may also follow the command's arguments. */
	while (argc > 0 && !strcmp(argv[argc - 1], "--skb")) {
		mode = XDP_MODE_SKB;
		argc--;
	}
	if (argc < 2)
		return usage();
	if (!strcmp(argv[0], "attach"))
		return cmd_attach(argv[1], argv + 2, argc - 2, mode);
	if (!strcmp(argv[0], "detach") && argc == 2)
		return cmd_detach(argv[1]);
	if (!strcmp(argv[0], "stats") && argc == 2)
		return cmd_stats(argv[1]);
	return usage();
}
