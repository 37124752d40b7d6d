/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests for user/lib/parse.c: addresses, VIPs, durations, and their round trips. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include "../lib/check.h"

#include "parse.h"

#include "array.h"

/*
 * Table tests name the failing case: cmocka's own asserts print actual and
 * expected but not which row of a table produced them.
 */
static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

/* --- addresses --- */

static const struct {
	const char *in;
	__u8 family;
	const char *canon;
} good_addrs[] = {
	{ "198.18.0.1", SLUICE_AF_INET, "198.18.0.1" },
	{ "0.0.0.0", SLUICE_AF_INET, "0.0.0.0" },
	{ "255.255.255.255", SLUICE_AF_INET, "255.255.255.255" },
	{ "fd00::1", SLUICE_AF_INET6, "fd00::1" },
	{ "FD00:0:0::1", SLUICE_AF_INET6, "fd00::1" },
	{ "fd00:db8:0:0:0:0:0:1", SLUICE_AF_INET6, "fd00:db8::1" },
	{ "::", SLUICE_AF_INET6, "::" },
	{ "::ffff:198.18.3.4", SLUICE_AF_INET6, "::ffff:198.18.3.4" },
};

static void test_addr_good(void **state)
{
	char buf[SL_ADDR_STR_MAX];
	struct sluice_addr a, want;
	size_t i;
	__u8 fam;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good_addrs); i++) {
		const char *tc = good_addrs[i].in;

		memset(&a, 0xaa, sizeof(a));
		CHECK_INT(tc, sl_parse_addr(tc, &a, &fam), 0);
		CHECK_INT(tc, fam, good_addrs[i].family);
		memset(&want, 0, sizeof(want));
		inet_pton(fam == SLUICE_AF_INET ? AF_INET : AF_INET6, tc, want.addr);
		CHECK_INT(tc, memcmp(&a, &want, sizeof(a)), 0);
		/* IPv4 keys must compare equal: addr[1..3] stay zero. */
		if (fam == SLUICE_AF_INET)
			CHECK_INT(tc, all_zero(&a.addr[1], 12), true);
		CHECK_INT(tc, sl_format_addr(&a, fam, buf, sizeof(buf)), 0);
		CHECK_STR(tc, buf, good_addrs[i].canon);
	}
}

static void test_addr_bad(void **state)
{
	static const char *const bad[] = {
		"", "1.2.3", "256.1.1.1", "198.18.3.4.5", "0198.18.3.4x", "[fd00::1]",
		"fd00::1/64", " 198.18.3.4", "198.18.3.4 ", "host", "fd00:::1",
		"198.18.3.4:80", "fd00::1%eth0",
	};
	struct sluice_addr a;
	size_t i;
	__u8 fam = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&a, 0xaa, sizeof(a));
		CHECK_INT(bad[i], sl_parse_addr(bad[i], &a, &fam), -EINVAL);
		CHECK_INT(bad[i], all_zero(&a, sizeof(a)), true);
	}
	CHECK_INT("NULL", sl_parse_addr(NULL, &a, &fam), -EINVAL);
}

static void test_addr_unicast(void **state)
{
	static const struct {
		const char *in;
		bool unicast;
	} t[] = {
		{ "198.18.0.1", true }, { "0.0.0.0", false }, { "224.0.0.1", false },
		{ "239.255.255.255", false }, { "255.255.255.255", false },
		{ "240.0.0.1", true }, { "fd00::1", true }, { "::", false },
		{ "ff02::1", false }, { "::1", true },
	};
	struct sluice_addr a;
	size_t i;
	__u8 fam;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		CHECK_INT(t[i].in, sl_parse_addr(t[i].in, &a, &fam), 0);
		CHECK_INT(t[i].in, sl_addr_is_unicast(&a, fam), t[i].unicast);
	}
	CHECK_INT("family 0", sl_addr_is_unicast(&a, 0), false);
}

static void test_format_addr_errors(void **state)
{
	struct sluice_addr a;
	char buf[SL_ADDR_STR_MAX];
	__u8 fam;

	(void)state;
	CHECK_INT(CHECK_HERE, sl_parse_addr("198.18.0.1", &a, &fam), 0);
	CHECK_INT(CHECK_HERE, sl_format_addr(&a, 0, buf, sizeof(buf)), -EINVAL);
	CHECK_INT(CHECK_HERE, sl_format_addr(&a, 5, buf, sizeof(buf)), -EINVAL);
	/* "198.18.0.1" is 10 bytes: 11 fit with the NUL, 10 do not. */
	CHECK_INT(CHECK_HERE, sl_format_addr(&a, fam, buf, 11), 0);
	CHECK_STR(CHECK_HERE, buf, "198.18.0.1");
	CHECK_INT(CHECK_HERE, sl_format_addr(&a, fam, buf, 10), -ENOSPC);
}

/* --- VIPs --- */

static const struct {
	const char *in;
	__u8 family;
	__u16 port;
	__u8 proto;
	const char *addr;
	const char *canon;
} good_vips[] = {
	{ "198.18.0.100:80/tcp", SLUICE_AF_INET, 80, IPPROTO_TCP, "198.18.0.100",
	  "198.18.0.100:80/tcp" },
	{ "[fd00::100]:443/udp", SLUICE_AF_INET6, 443, IPPROTO_UDP, "fd00::100",
	  "[fd00::100]:443/udp" },
	{ "[FD00:0::100]:443/udp", SLUICE_AF_INET6, 443, IPPROTO_UDP, "fd00::100",
	  "[fd00::100]:443/udp" },
	{ "198.18.0.1:0/udp", SLUICE_AF_INET, 0, IPPROTO_UDP, "198.18.0.1", "198.18.0.1:0/udp" },
	{ "198.18.0.1:65535/tcp", SLUICE_AF_INET, 65535, IPPROTO_TCP, "198.18.0.1",
	  "198.18.0.1:65535/tcp" },
	{ "198.18.0.1:080/tcp", SLUICE_AF_INET, 80, IPPROTO_TCP, "198.18.0.1",
	  "198.18.0.1:80/tcp" },
	{ "[fd00:db8::1]:53/udp", SLUICE_AF_INET6, 53, IPPROTO_UDP, "fd00:db8::1",
	  "[fd00:db8::1]:53/udp" },
};

static void test_vip_good(void **state)
{
	char buf[SL_VIP_STR_MAX], err[256];
	struct sluice_addr want;
	struct sl_vip_spec v;
	size_t i;
	__u8 fam;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good_vips); i++) {
		const char *tc = good_vips[i].in;

		err[0] = '\0';
		CHECK_INT(tc, sl_parse_vip(tc, &v, err, sizeof(err)), 0);
		CHECK_STR(tc, err, "");
		CHECK_INT(tc, v.family, good_vips[i].family);
		CHECK_INT(tc, ntohs(v.port), good_vips[i].port);
		CHECK_INT(tc, v.proto, good_vips[i].proto);
		CHECK_INT(tc, sl_parse_addr(good_vips[i].addr, &want, &fam), 0);
		CHECK_INT(tc, memcmp(&v.addr, &want, sizeof(want)), 0);
		CHECK_INT(tc, sl_format_vip(&v, buf, sizeof(buf)), 0);
		CHECK_STR(tc, buf, good_vips[i].canon);
	}
}

#define VIP_HINT "(expected ADDR:PORT/tcp or ADDR:PORT/udp, IPv6 as [ADDR]:PORT/tcp)"

static const struct {
	const char *in;
	const char *want;	/* substring of the error message */
} bad_vips[] = {
	{ "198.18.3.4:80", "invalid VIP \"198.18.3.4:80\": missing protocol " VIP_HINT },
	{ "", "invalid VIP \"\": empty " VIP_HINT },
	{ "198.18.3.4/tcp", "invalid VIP \"198.18.3.4/tcp\": missing port " VIP_HINT },
	{ "198.18.3.4:80/TCP", "unknown protocol \"TCP\" (expected tcp or udp, lowercase)" },
	{ "198.18.3.4:80/sctp", "unknown protocol \"sctp\" (expected tcp or udp, lowercase)" },
	{ "198.18.3.4:80/", "missing protocol after \"/\"" },
	{ "198.18.3.4:65536/tcp", "port 65536 is out of range (expected 0..65535)" },
	{ "198.18.3.4:99999999999999999999/tcp", "port 99999999999999999999 is out of range" },
	{ "198.18.3.4:http/tcp", "port \"http\" is not a number (expected 0..65535)" },
	{ "198.18.3.4:-1/tcp", "port \"-1\" is not a number" },
	{ "198.18.3.4:/tcp", "missing port after \":\"" },
	{ ":80/tcp", "missing address " VIP_HINT },
	{ "/tcp", "missing address " VIP_HINT },
	{ "fd00::1:80/tcp", "IPv6 addresses need brackets " VIP_HINT },
	{ "[fd00::1:80/tcp", "missing \"]\" after the IPv6 address" },
	{ "[fd00::1]80/tcp", "missing \":PORT\" after \"]\"" },
	{ "[198.18.3.4]:80/tcp", "brackets are for IPv6 addresses only (write IPv4 as 198.18.3.4:PORT)" },
	{ "[fd00::zz]:80/tcp", "\"fd00::zz\" is not a valid IPv6 address" },
	{ "300.1.1.1:80/tcp", "\"300.1.1.1\" is not a valid IPv4 address" },
	{ "example.com:80/tcp", "\"example.com\" is not a valid IPv4 address" },
	{ "0.0.0.0:80/tcp", "0.0.0.0 is not a unicast address" },
	{ "[::]:80/tcp", ":: is not a unicast address" },
	{ "224.0.0.1:80/udp", "224.0.0.1 is not a unicast address" },
	{ "[ff02::1]:80/udp", "ff02::1 is not a unicast address" },
	{ "255.255.255.255:80/udp", "255.255.255.255 is not a unicast address" },
	{ "198.18.3.4\n:80/tcp", "invalid VIP \"198.18.3.4?:80/tcp\"" },
	{ "198.18.3.4:80/tcp ", "unknown protocol \"tcp \"" },
	{ "[fd00::1111:2222:3333:4444:5555:6666]:80000000000000000000000000000000000000/tcp",
	  "too long " VIP_HINT },
};

static void test_vip_bad(void **state)
{
	struct sl_vip_spec v;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_vips); i++) {
		const char *tc = bad_vips[i].in;

		memset(&v, 0xaa, sizeof(v));
		err[0] = '\0';
		CHECK_INT(tc, sl_parse_vip(tc, &v, err, sizeof(err)), -EINVAL);
		CHECK_CONTAINS(tc, err, bad_vips[i].want);
		CHECK_INT(tc, all_zero(&v, sizeof(v)), true);
	}
}

static void test_vip_exact_message(void **state)
{
	struct sl_vip_spec v;
	char err[256];

	(void)state;
	CHECK_INT(CHECK_HERE,
		  sl_parse_vip("198.18.3.4:80", &v, err, sizeof(err)), -EINVAL);
	CHECK_STR(
		CHECK_HERE, err,
		"invalid VIP \"198.18.3.4:80\": missing protocol "
		"(expected ADDR:PORT/tcp or ADDR:PORT/udp, IPv6 as [ADDR]:PORT/tcp)");
}

/* Errors never overrun err, and no err buffer at all is fine. */
static void test_vip_err_buffer(void **state)
{
	struct sl_vip_spec v;
	char err[12];

	(void)state;
	memset(err, 'x', sizeof(err));
	CHECK_INT(CHECK_HERE, sl_parse_vip("198.18.3.4:80", &v, err, 8),
		  -EINVAL);
	CHECK_STR(CHECK_HERE, err, "invalid");
	CHECK_INT(CHECK_HERE, err[8], 'x');
	CHECK_INT(CHECK_HERE, sl_parse_vip("198.18.3.4:80", &v, NULL, 0),
		  -EINVAL);
	CHECK_INT(CHECK_HERE, sl_parse_vip(NULL, &v, NULL, 0), -EINVAL);
}

static void test_vip_roundtrip(void **state)
{
	char a[SL_VIP_STR_MAX], b[SL_VIP_STR_MAX];
	struct sl_vip_spec v1, v2;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good_vips); i++) {
		const char *tc = good_vips[i].in;

		CHECK_INT(tc, sl_parse_vip(tc, &v1, NULL, 0), 0);
		CHECK_INT(tc, sl_format_vip(&v1, a, sizeof(a)), 0);
		CHECK_INT(tc, sl_parse_vip(a, &v2, NULL, 0), 0);
		CHECK_INT(tc, memcmp(&v1, &v2, sizeof(v1)), 0);
		CHECK_INT(tc, sl_format_vip(&v2, b, sizeof(b)), 0);
		CHECK_STR(tc, b, a);
	}
}

static void test_format_vip_errors(void **state)
{
	char buf[SL_VIP_STR_MAX];
	struct sl_vip_spec v;

	(void)state;
	CHECK_INT(CHECK_HERE, sl_parse_vip("[fd00::100]:443/udp", &v, NULL, 0),
		  0);
	/* "[fd00::100]:443/udp" is 19 bytes. */
	CHECK_INT(CHECK_HERE, sl_format_vip(&v, buf, 20), 0);
	CHECK_STR(CHECK_HERE, buf, "[fd00::100]:443/udp");
	CHECK_INT(CHECK_HERE, sl_format_vip(&v, buf, 19), -ENOSPC);
	CHECK_INT(CHECK_HERE, sl_format_vip(&v, buf, 12), -ENOSPC);
	v.proto = IPPROTO_ICMP;
	CHECK_INT(CHECK_HERE, sl_format_vip(&v, buf, sizeof(buf)), -EINVAL);
	v.proto = IPPROTO_TCP;
	v.family = 0;
	CHECK_INT(CHECK_HERE, sl_format_vip(&v, buf, sizeof(buf)), -EINVAL);
}

static void test_vip_key(void **state)
{
	struct sluice_vip_key key, want;
	struct sl_vip_spec v;

	(void)state;
	CHECK_INT(CHECK_HERE, sl_parse_vip("[fd00::100]:443/udp", &v, NULL, 0),
		  0);
	memset(&key, 0xff, sizeof(key));
	sl_vip_key_from_spec(&v, &key);
	memset(&want, 0, sizeof(want));
	inet_pton(AF_INET6, "fd00::100", want.addr.addr);
	want.port = htons(443);
	want.proto = IPPROTO_UDP;
	want.family = SLUICE_AF_INET6;
	CHECK_MEM(CHECK_HERE, &key, &want, sizeof(key));

	CHECK_INT(CHECK_HERE, sl_parse_vip("198.18.0.100:80/tcp", &v, NULL, 0),
		  0);
	memset(&key, 0xff, sizeof(key));
	sl_vip_key_from_spec(&v, &key);
	memset(&want, 0, sizeof(want));
	inet_pton(AF_INET, "198.18.0.100", want.addr.addr);
	want.port = htons(80);
	want.proto = IPPROTO_TCP;
	want.family = SLUICE_AF_INET;
	CHECK_MEM(CHECK_HERE, &key, &want, sizeof(key));
}

/* --- listen addresses --- */

static void test_addr_port(void **state)
{
	char buf[SL_VIP_STR_MAX], err[256];
	struct sluice_addr a;
	__be16 port;
	__u8 fam;

	(void)state;
	CHECK_INT(CHECK_HERE,
		  sl_parse_addr_port("0.0.0.0:9469", &a, &fam, &port, err,
				     sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, fam, SLUICE_AF_INET);
	CHECK_INT(CHECK_HERE, ntohs(port), 9469);
	CHECK_INT(CHECK_HERE,
		  sl_format_addr_port(&a, fam, port, buf, sizeof(buf)), 0);
	CHECK_STR(CHECK_HERE, buf, "0.0.0.0:9469");

	CHECK_INT(CHECK_HERE,
		  sl_parse_addr_port("[::]:9100", &a, &fam, &port, err,
				     sizeof(err)),
		  0);
	CHECK_INT(CHECK_HERE, fam, SLUICE_AF_INET6);
	CHECK_INT(CHECK_HERE,
		  sl_format_addr_port(&a, fam, port, buf, sizeof(buf)), 0);
	CHECK_STR(CHECK_HERE, buf, "[::]:9100");

	CHECK_INT(CHECK_HERE,
		  sl_parse_addr_port("127.0.0.1", &a, &fam, &port, err,
				     sizeof(err)),
		  -EINVAL);
	CHECK_STR(CHECK_HERE, err,
		  "invalid address \"127.0.0.1\": missing port "
		  "(expected ADDR:PORT, IPv6 as [ADDR]:PORT)");
	CHECK_INT(CHECK_HERE,
		  sl_parse_addr_port("::1:80", &a, &fam, &port, err,
				     sizeof(err)),
		  -EINVAL);
	CHECK_STR(CHECK_HERE, err,
		  "invalid address \"::1:80\": IPv6 addresses need brackets "
		  "(expected ADDR:PORT, IPv6 as [ADDR]:PORT)");
}

/* --- durations --- */

static const struct {
	const char *in;
	__u64 ms;
	const char *canon;
} good_durs[] = {
	{ "90s", 90000, "1m30s" },
	{ "5m", 300000, "5m" },
	{ "1h", 3600000, "1h" },
	{ "250ms", 250, "250ms" },
	{ "1m30s", 90000, "1m30s" },
	{ "2h15m", 8100000, "2h15m" },
	{ "90m", 5400000, "1h30m" },
	{ "1500ms", 1500, "1s500ms" },
	{ "1h1m1s1ms", 3661001, "1h1m1s1ms" },
	{ "1h0m", 3600000, "1h" },
	{ "0s", 0, "0s" },
	{ "0ms", 0, "0s" },
	{ "100h", 360000000, "100h" },
	{ "007s", 7000, "7s" },
	{ "18446744073709551615ms", UINT64_MAX, "5124095576030h25m51s615ms" },
};

static void test_duration_good(void **state)
{
	char buf[SL_DURATION_STR_MAX], err[256];
	size_t i;
	__u64 ms;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good_durs); i++) {
		const char *tc = good_durs[i].in;

		err[0] = '\0';
		CHECK_INT(tc, sl_parse_duration_ms(tc, &ms, err, sizeof(err)), 0);
		CHECK_STR(tc, err, "");
		if (ms != good_durs[i].ms) {
			print_error("case \"%s\": ms = %llu, expected %llu\n", tc,
				    (unsigned long long)ms,
				    (unsigned long long)good_durs[i].ms);
			fail();
		}
		CHECK_INT(tc, sl_format_duration(ms, buf, sizeof(buf)), 0);
		CHECK_STR(tc, buf, good_durs[i].canon);
	}
}

static const struct {
	const char *in;
	const char *want;
} bad_durs[] = {
	{ "90", "invalid duration \"90\": missing unit (add one of ms, s, m, h, e.g. \"90s\")" },
	{ "", "invalid duration \"\": empty" },
	{ "-5s", "negative durations are not allowed" },
	{ "5d", "unknown unit \"d\" (expected ms, s, m or h)" },
	{ "5S", "unknown unit \"S\"" },
	{ "5mss", "unknown unit \"mss\"" },
	{ "5sec", "unknown unit \"sec\"" },
	{ "1.5h", "fractions are not supported (write 1m30s, not 1.5m)" },
	{ "5 s", "spaces are not allowed" },
	{ " 5s", "spaces are not allowed" },
	{ "30s1m", "units must go from largest to smallest, each once" },
	{ "1m1m", "units must go from largest to smallest, each once" },
	{ "1m30", "missing unit after \"30\" (units: ms, s, m, h)" },
	{ "s", "invalid duration \"s\": not a duration" },
	{ "+5s", "invalid duration \"+5s\": not a duration" },
	{ "1h-5m", "negative durations are not allowed" },
	{ "5m s", "spaces are not allowed" },
	{ "18446744073709551616ms", "too large" },
	{ "5124095576031h", "too large" },
	{ "5124095576030h26m", "too large" },
};

static void test_duration_bad(void **state)
{
	char err[256];
	size_t i;
	__u64 ms;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_durs); i++) {
		const char *tc = bad_durs[i].in;

		ms = 42;
		err[0] = '\0';
		CHECK_INT(tc, sl_parse_duration_ms(tc, &ms, err, sizeof(err)), -EINVAL);
		CHECK_CONTAINS(tc, err, bad_durs[i].want);
		CHECK_INT(tc, ms, 0);
	}
	CHECK_INT(CHECK_HERE, sl_parse_duration_ms(NULL, &ms, NULL, 0),
		  -EINVAL);
}

static void check_duration_roundtrip(__u64 ms)
{
	char buf[SL_DURATION_STR_MAX], err[256], tc[32];
	__u64 back;

	snprintf(tc, sizeof(tc), "%llu", (unsigned long long)ms);
	CHECK_INT(tc, sl_format_duration(ms, buf, sizeof(buf)), 0);
	err[0] = '\0';
	CHECK_INT(tc, sl_parse_duration_ms(buf, &back, err, sizeof(err)), 0);
	if (back != ms) {
		print_error("case %s: \"%s\" parsed back as %llu (%s)\n", tc, buf,
			    (unsigned long long)back, err);
		fail();
	}
}

static void test_duration_roundtrip(void **state)
{
	static const __u64 edges[] = {
		0, 1, 999, 1000, 1001, 59999, 60000, 60001, 3599999, 3600000,
		5400000, 86400000, 123456789, UINT32_MAX, UINT64_MAX - 1, UINT64_MAX,
	};
	__u64 x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(edges); i++)
		check_duration_roundtrip(edges[i]);
	/* A fixed pseudo-random walk over all magnitudes, reproducible. */
	for (i = 0; i < 20000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		check_duration_roundtrip(x >> (i % 64));
	}
}

static void test_format_duration_buffer(void **state)
{
	char buf[SL_DURATION_STR_MAX];

	(void)state;
	/* "1h30m" is 5 bytes. */
	CHECK_INT(CHECK_HERE, sl_format_duration(5400000, buf, 6), 0);
	CHECK_STR(CHECK_HERE, buf, "1h30m");
	CHECK_INT(CHECK_HERE, sl_format_duration(5400000, buf, 5), -ENOSPC);
	CHECK_INT(CHECK_HERE, sl_format_duration(5400000, buf, 0), -ENOSPC);
	CHECK_INT(CHECK_HERE, sl_format_duration(0, buf, 3), 0);
	CHECK_STR(CHECK_HERE, buf, "0s");
	CHECK_INT(CHECK_HERE, sl_format_duration(0, buf, 2), -ENOSPC);
	CHECK_INT(CHECK_HERE, sl_format_duration(UINT64_MAX, buf, sizeof(buf)),
		  0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_good),
		cmocka_unit_test(test_addr_bad),
		cmocka_unit_test(test_addr_unicast),
		cmocka_unit_test(test_format_addr_errors),
		cmocka_unit_test(test_vip_good),
		cmocka_unit_test(test_vip_bad),
		cmocka_unit_test(test_vip_exact_message),
		cmocka_unit_test(test_vip_err_buffer),
		cmocka_unit_test(test_vip_roundtrip),
		cmocka_unit_test(test_format_vip_errors),
		cmocka_unit_test(test_vip_key),
		cmocka_unit_test(test_addr_port),
		cmocka_unit_test(test_duration_good),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_duration_roundtrip),
		cmocka_unit_test(test_format_duration_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
