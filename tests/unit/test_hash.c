/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Golden vectors for sluice_flow_hash (include/sluice/hash.h).
 *
 * Every box behind one ECMP group must send a new flow to the same
 * backend, including boxes running different sluice versions during a
 * rolling upgrade: the hash picks the Maglev slot, so it is part of the
 * wire contract. These values come from an independent implementation of
 * the published MurmurHash3_x86_32 (Python, itself checked against the
 * reference vectors) over the 40 bytes of a zeroed struct sluice_flow_key
 * in memory order (addresses and ports in network order). If this test
 * fails, the hash, the key layout or its padding changed and mixed
 * fleets would disagree: change the values only with a deliberate,
 * announced format change.
 *
 * The key is hashed as host-order 32-bit words; these values hold on
 * little-endian hosts (x86-64, arm64), the only ones sluice runs on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "../lib/check.h"

#include "sluice/hash.h"

#include "array.h"

struct hash_case {
	const char *src;
	const char *dst;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u32 seed;
	__u32 hash;
};

/* A table: one row per line, wider than 80 columns. */
/* clang-format off */
static const struct hash_case golden[] = {
	/* IPv4: one field at a time, then seeds. */
	{ "198.18.10.2", "198.18.0.100", 40000, 80, IPPROTO_TCP, 0x00000000U, 0x8da788b8U },
	{ "198.18.10.2", "198.18.0.100", 40001, 80, IPPROTO_TCP, 0x00000000U, 0x57dea813U },
	{ "198.18.10.2", "198.18.0.100", 40000, 80, IPPROTO_UDP, 0x00000000U, 0x275229d9U },
	{ "198.18.10.3", "198.18.0.100", 40000, 80, IPPROTO_TCP, 0x00000000U, 0xf85345a0U },
	{ "198.18.10.2", "198.18.0.100", 40000, 80, IPPROTO_TCP, 0x00000001U, 0xd2b2beb7U },
	{ "198.18.10.2", "198.18.0.100", 40000, 80, IPPROTO_TCP, 0xdeadbeefU, 0x67c3a000U },
	{ "198.18.255.254", "198.19.0.1", 65535, 443, IPPROTO_TCP, 0xffffffffU, 0x08b059d3U },
	{ "198.18.10.9", "198.18.0.100", 1, 53, IPPROTO_UDP, 0x00000007U, 0xe5be162aU },
	/* IPv6. */
	{ "fd00:10::2", "fd00:100::100", 40000, 80, IPPROTO_TCP, 0x00000000U, 0x4961b1fbU },
	{ "fd00:10::2", "fd00:100::100", 40000, 80, IPPROTO_UDP, 0x00000000U, 0x919dcd30U },
	{ "fd00:10::2", "fd00:100::100", 40000, 80, IPPROTO_TCP, 0x00005eedU, 0x4e3b3f29U },
	{ "fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fd00:100::1", 12345, 8443, IPPROTO_TCP, 0xffffffffU, 0x169ffa13U },
	{ "fd00:10::3", "fd00:100::100", 5353, 53, IPPROTO_UDP, 0x0000002aU, 0xc7331548U },
};
/* clang-format on */

/* A key as the datapath builds it: zeroed, IPv4 in addr[0], network order. */
static void mk_key(struct sluice_flow_key *k, const struct hash_case *c)
{
	int ok;

	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET, c->src, &k->src.addr[0]) == 1) {
		k->family = SLUICE_AF_INET;
		ok = inet_pton(AF_INET, c->dst, &k->dst.addr[0]);
	} else {
		k->family = SLUICE_AF_INET6;
		ok = inet_pton(AF_INET6, c->src, &k->src) == 1 &&
		     inet_pton(AF_INET6, c->dst, &k->dst) == 1;
	}
	CHECK_INT(CHECK_HERE, ok, 1);
	k->sport = htons(c->sport);
	k->dport = htons(c->dport);
	k->proto = c->proto;
}

static void test_golden(void **state)
{
	struct sluice_flow_key k;
	unsigned int i, bad = 0;
	__u32 h;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(golden); i++) {
		const struct hash_case *c = &golden[i];

		mk_key(&k, c);
		h = sluice_flow_hash(&k, c->seed);
		if (h != c->hash) {
			print_error("golden %u: %s:%u -> %s:%u/%u seed 0x%08x: "
				    "0x%08x, expected 0x%08x\n",
				    i, c->src, c->sport, c->dst, c->dport,
				    c->proto, c->seed, h, c->hash);
			bad++;
		}
	}
	if (bad)
		fail_msg("%u of %zu golden flow hashes changed", bad,
			 ARRAY_SIZE(golden));
}

/*
 * The padding is hashed too: a key that is not zeroed before it is filled
 * hashes differently, and the flow lands on another backend.
 */
static void test_padding_is_hashed(void **state)
{
	struct sluice_flow_key k;
	__u32 h;

	(void)state;
	mk_key(&k, &golden[0]);
	k.pad[1] = 1;
	h = sluice_flow_hash(&k, golden[0].seed);
	if (h == golden[0].hash)
		fail_msg("a non-zero pad byte left the hash at 0x%08x", h);
}

/*
 * sl_new's buckets: the low bits of the hash, then of its re-mix
 * (fmix32(0x8da788b8 ^ 0x9e3779b9) = 0xdf7995ee, computed independently),
 * times the ways: fixed golden values for the first key. One bucket: both are 0.
 */
static void test_new_bucket(void **state)
{
	(void)state;
	CHECK_INT(CHECK_HERE, SLUICE_NEW_WAYS, 4);
	CHECK_INT(CHECK_HERE, sluice_new_bucket(golden[0].hash, 1024, 0),
		  (0x8da788b8U & 255) * 4);
	CHECK_INT(CHECK_HERE, sluice_new_bucket(golden[0].hash, 1024, 1),
		  (0xdf7995eeU & 255) * 4);
	CHECK_INT(CHECK_HERE, sluice_new_bucket(golden[0].hash, 4, 0), 0);
	CHECK_INT(CHECK_HERE, sluice_new_bucket(golden[0].hash, 4, 1), 0);
}

static struct sluice_flow_key shard_key(__u32 src, __u16 sport, __u16 dport)
{
	struct sluice_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = SLUICE_AF_INET;
	k.proto = IPPROTO_TCP;
	k.src.addr[0] = htonl(src);
	k.dst.addr[0] = htonl(0xc6120064); /* 198.18.0.100 */
	k.sport = htons(sport);
	k.dport = htons(dport);
	return k;
}

/* @n keys from @next spread over the shards within 10% of even. */
static void check_spread(const char *what, __u32 n,
			 struct sluice_flow_key (*next)(__u32 i))
{
	__u32 count[SLUICE_FLOW_SHARDS] = { 0 }, i, s;

	for (i = 0; i < n; i++) {
		struct sluice_flow_key k = next(i);

		s = sluice_flow_shard(&k);
		CHECK_TRUE(what, "a shard that exists", s < SLUICE_FLOW_SHARDS);
		if (s < SLUICE_FLOW_SHARDS)
			count[s]++;
	}
	for (s = 0; s < SLUICE_FLOW_SHARDS; s++)
		CHECK_TRUE(what, "shard within 10% of even",
			   count[s] * 10 >= n / SLUICE_FLOW_SHARDS * 9 &&
				   count[s] * 10 <=
					   n / SLUICE_FLOW_SHARDS * 11);
}

static struct sluice_flow_key by_address(__u32 i)
{
	return shard_key(0xc6130000 + i, 40000, 443); /* 198.19.x.x */
}

static struct sluice_flow_key by_port(__u32 i)
{
	return shard_key(0xc6120001, 1024 + i, 443);
}

/*
 * The sl_flows shard (hash.h): a golden value (computed independently,
 * from the key's bytes), an even spread over addresses and over ports
 * alone, and nothing but the client address and the ports counts.
 */
static void test_flow_shard(void **state)
{
	struct sluice_flow_key a = shard_key(0xc6120001, 1234, 80), b;

	(void)state;
	CHECK_INT(CHECK_HERE, SLUICE_FLOW_SHARDS, 4);
	/* (0x010012c6 ^ 0xd2045000) * 0x9e3779b1 >> 30 */
	CHECK_INT(CHECK_HERE, sluice_flow_shard(&a), 1);
	check_spread("shards by client address", 60000, by_address);
	check_spread("shards by client port", 60000, by_port);
	b = a;
	b.dst.addr[0] = htonl(0xc6120099);
	b.proto = IPPROTO_UDP;
	CHECK_INT(CHECK_HERE, sluice_flow_shard(&b), sluice_flow_shard(&a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_padding_is_hashed),
		cmocka_unit_test(test_new_bucket),
		cmocka_unit_test(test_flow_shard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
