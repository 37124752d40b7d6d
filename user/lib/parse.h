/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* String parsers and formatters shared by sluicectl, the config loader and the control socket. */
#ifndef SLUICE_PARSE_H
#define SLUICE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "sluice/abi.h"

/*
 * Every parser returns 0 or a negative errno (-EINVAL for bad input,
 * -ENOSPC for a too small output buffer) and, where err is given, writes
 * a message for operators that quotes the input and says what is allowed.
 */

/* A VIP as written by operators: address, port (0 = every port), proto. */
struct sl_vip_spec {
	struct sluice_addr addr;
	__be16 port;
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* SLUICE_AF_* */
};

/* Longest text sl_format_vip() produces, NUL included. */
#define SL_VIP_STR_MAX		64
/* Longest text sl_format_addr() produces, NUL included (INET6_ADDRSTRLEN). */
#define SL_ADDR_STR_MAX		46
/* Longest text sl_format_duration() produces, NUL included. */
#define SL_DURATION_STR_MAX	48

/* "198.18.0.1" or "fd00::1" (no brackets). */
int sl_parse_addr(const char *s, struct sluice_addr *addr, __u8 *family);
int sl_format_addr(const struct sluice_addr *addr, __u8 family, char *buf, size_t len);
/* False for the unspecified, multicast and IPv4 broadcast addresses. */
bool sl_addr_is_unicast(const struct sluice_addr *addr, __u8 family);
/* 127.0.0.0/8 or ::1: a backend there never leaves the box. */
bool sl_addr_is_loopback(const struct sluice_addr *addr, __u8 family);

/*
 * "ADDR:PORT" or "[ADDR]:PORT" for listen addresses (metrics); the
 * unspecified address is allowed here. Port in network order.
 */
int sl_parse_addr_port(const char *s, struct sluice_addr *addr, __u8 *family,
		       __be16 *port, char *err, size_t errlen);
int sl_format_addr_port(const struct sluice_addr *addr, __u8 family, __be16 port,
			char *buf, size_t len);

/*
 * "198.18.0.100:80/tcp", "[fd00::100]:443/udp". Port 0..65535 (0 = every
 * port); proto tcp or udp, lowercase. Unspecified and multicast addresses
 * are rejected: neither can be a service address.
 */
int sl_parse_vip(const char *s, struct sl_vip_spec *vip, char *err, size_t errlen);
/* Inverse of sl_parse_vip(), canonical text (compressed lowercase IPv6). */
int sl_format_vip(const struct sl_vip_spec *vip, char *buf, size_t len);

/*
 * "90s", "5m", "1h", "250ms", "1m30s", "2h15m": integer groups with units
 * h, m, s, ms, largest first, each unit at most once. Bare numbers,
 * negatives, fractions and overflow are errors.
 */
int sl_parse_duration_ms(const char *s, __u64 *ms, char *err, size_t errlen);
/* Canonical text: 5400000 -> "1h30m", 90000 -> "1m30s", 0 -> "0s". */
int sl_format_duration(__u64 ms, char *buf, size_t len);

/* Map key for a VIP; zeroes the key first so padding never differs. */
void sl_vip_key_from_spec(const struct sl_vip_spec *vip, struct sluice_vip_key *key);

#endif /* SLUICE_PARSE_H */
