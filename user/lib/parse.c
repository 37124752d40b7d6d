/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Parsers and formatters for addresses, VIPs and durations as operators write them. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

#define VIP_HINT	"(expected ADDR:PORT/tcp or ADDR:PORT/udp, IPv6 as [ADDR]:PORT/tcp)"
#define LISTEN_HINT	"(expected ADDR:PORT, IPv6 as [ADDR]:PORT)"
#define DURATION_HINT	"(expected a number with a unit ms, s, m or h, e.g. 90s, 5m, 1h30m)"

/* Longest host:port part we look at; longer input cannot be valid. */
#define HOSTPORT_MAX	64
/* How much of a bad input an error message quotes. */
#define QUOTE_MAX	64

/*
 * Copy input for quoting in a message: truncated, and with control bytes
 * replaced, so a hostile or binary argument cannot garble a terminal/log.
 */
static void quote_input(const char *s, char *out, size_t outlen)
{
	size_t i, n = strlen(s);
	size_t max = outlen - 1;

	if (n > max) {
		n = max - 3;
		memcpy(out + n, "...", 4);
	} else {
		out[n] = '\0';
	}
	for (i = 0; i < n; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
}

/* Write "PREFIX "INPUT": reason" into err; always returns -EINVAL. */
static int __attribute__((format(printf, 5, 6)))
fail(char *err, size_t errlen, const char *what, const char *input,
     const char *fmt, ...)
{
	char q[QUOTE_MAX + 1];
	va_list ap;
	int n;

	if (!err || !errlen)
		return -EINVAL;
	quote_input(input, q, sizeof(q));
	n = snprintf(err, errlen, "invalid %s \"%s\": ", what, q);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int sl_parse_addr(const char *s, struct sluice_addr *addr, __u8 *family)
{
	memset(addr, 0, sizeof(*addr));
	if (!s)
		return -EINVAL;
	/* inet_pton(AF_INET) takes only dotted quads: no "10.1" shorthands. */
	if (inet_pton(AF_INET, s, &addr->addr[0]) == 1) {
		*family = SLUICE_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr->addr) == 1) {
		*family = SLUICE_AF_INET6;
		return 0;
	}
	memset(addr, 0, sizeof(*addr));
	return -EINVAL;
}

int sl_format_addr(const struct sluice_addr *addr, __u8 family, char *buf, size_t len)
{
	char tmp[SL_ADDR_STR_MAX];
	int af;

	if (family == SLUICE_AF_INET)
		af = AF_INET;
	else if (family == SLUICE_AF_INET6)
		af = AF_INET6;
	else
		return -EINVAL;
	if (!inet_ntop(af, addr->addr, tmp, sizeof(tmp)))
		return -EINVAL;
	if (strlen(tmp) >= len)
		return -ENOSPC;
	strcpy(buf, tmp);
	return 0;
}

bool sl_addr_is_loopback(const struct sluice_addr *a, __u8 family)
{
	static const __u8 v6_lo[16] = { [15] = 1 }; /* ::1, network order */

	if (family == SLUICE_AF_INET)
		return (ntohl(a->addr[0]) >> 24) == 127;
	return !memcmp(a, v6_lo, sizeof(v6_lo));
}

bool sl_addr_is_unicast(const struct sluice_addr *addr, __u8 family)
{
	const __u8 *b = (const __u8 *)addr->addr;
	static const struct sluice_addr zero;

	if (family == SLUICE_AF_INET)
		return addr->addr[0] != 0 && (b[0] & 0xf0) != 0xe0 &&
		       addr->addr[0] != 0xffffffffU;
	if (family == SLUICE_AF_INET6)
		return memcmp(addr, &zero, sizeof(zero)) != 0 && b[0] != 0xff;
	return false;
}

/* Port text: decimal digits only, 0..65535. */
static int parse_port(const char *p, const char *what, const char *input,
		      const char *hint, __be16 *port, char *err, size_t errlen)
{
	unsigned long v = 0;
	const char *c;

	if (!*p)
		return fail(err, errlen, what, input, "missing port after \":\" %s", hint);
	for (c = p; *c; c++) {
		if (!isdigit((unsigned char)*c))
			return fail(err, errlen, what, input,
				    "port \"%s\" is not a number (expected 0..65535)", p);
		/* Stop accumulating early so long digit runs cannot overflow. */
		if (v <= 65535)
			v = v * 10 + (*c - '0');
	}
	if (v > 65535)
		return fail(err, errlen, what, input,
			    "port %s is out of range (expected 0..65535)", p);
	*port = htons((__u16)v);
	return 0;
}

/*
 * Parse the first n bytes of input as "ADDR:PORT" or "[ADDR]:PORT". what
 * and hint phrase the errors for the caller ("VIP" or "address").
 */
static int parse_hostport(const char *input, size_t n, const char *what,
			  const char *hint, struct sluice_addr *addr, __u8 *family,
			  __be16 *port, char *err, size_t errlen)
{
	char hp[HOSTPORT_MAX + 1];
	char *host, *colon, *close;

	if (n == 0)
		return fail(err, errlen, what, input, "missing address %s", hint);
	if (n > HOSTPORT_MAX)
		return fail(err, errlen, what, input, "too long %s", hint);
	memcpy(hp, input, n);
	hp[n] = '\0';

	if (hp[0] == '[') {
		close = strchr(hp, ']');
		if (!close)
			return fail(err, errlen, what, input,
				    "missing \"]\" after the IPv6 address %s", hint);
		*close = '\0';
		host = hp + 1;
		if (close[1] != ':')
			return fail(err, errlen, what, input,
				    "missing \":PORT\" after \"]\" %s", hint);
		if (sl_parse_addr(host, addr, family))
			return fail(err, errlen, what, input,
				    "\"%s\" is not a valid IPv6 address", host);
		if (*family != SLUICE_AF_INET6)
			return fail(err, errlen, what, input,
				    "brackets are for IPv6 addresses only (write IPv4 as %s:PORT)",
				    host);
		return parse_port(close + 2, what, input, hint, port, err, errlen);
	}

	colon = strrchr(hp, ':');
	if (!colon)
		return fail(err, errlen, what, input, "missing port %s", hint);
	if (memchr(hp, ':', colon - hp))
		return fail(err, errlen, what, input,
			    "IPv6 addresses need brackets %s", hint);
	*colon = '\0';
	host = hp;
	if (!*host)
		return fail(err, errlen, what, input, "missing address %s", hint);
	if (sl_parse_addr(host, addr, family))
		return fail(err, errlen, what, input,
			    "\"%s\" is not a valid IPv4 address (IPv6 goes in brackets: [ADDR]:PORT)",
			    host);
	return parse_port(colon + 1, what, input, hint, port, err, errlen);
}

int sl_parse_addr_port(const char *s, struct sluice_addr *addr, __u8 *family,
		       __be16 *port, char *err, size_t errlen)
{
	int ret;

	memset(addr, 0, sizeof(*addr));
	*family = 0;
	*port = 0;
	if (!s)
		s = "";
	ret = parse_hostport(s, strlen(s), "address", LISTEN_HINT, addr, family,
			     port, err, errlen);
	if (ret) {
		memset(addr, 0, sizeof(*addr));
		*family = 0;
		*port = 0;
	}
	return ret;
}

static int parse_proto(const char *p, const char *input, __u8 *proto,
		       char *err, size_t errlen)
{
	if (!strcmp(p, "tcp")) {
		*proto = IPPROTO_TCP;
		return 0;
	}
	if (!strcmp(p, "udp")) {
		*proto = IPPROTO_UDP;
		return 0;
	}
	if (!*p)
		return fail(err, errlen, "VIP", input, "missing protocol after \"/\" %s",
			    VIP_HINT);
	return fail(err, errlen, "VIP", input,
		    "unknown protocol \"%s\" (expected tcp or udp, lowercase)", p);
}

static int parse_vip(const char *s, struct sl_vip_spec *vip, char *err, size_t errlen)
{
	char abuf[SL_ADDR_STR_MAX];
	const char *slash;
	int ret;

	if (!*s)
		return fail(err, errlen, "VIP", s, "empty %s", VIP_HINT);
	slash = strrchr(s, '/');
	if (!slash)
		return fail(err, errlen, "VIP", s, "missing protocol %s", VIP_HINT);
	ret = parse_hostport(s, slash - s, "VIP", VIP_HINT, &vip->addr, &vip->family,
			     &vip->port, err, errlen);
	if (ret)
		return ret;
	ret = parse_proto(slash + 1, s, &vip->proto, err, errlen);
	if (ret)
		return ret;
	if (!sl_addr_is_unicast(&vip->addr, vip->family)) {
		sl_format_addr(&vip->addr, vip->family, abuf, sizeof(abuf));
		return fail(err, errlen, "VIP", s,
			    "%s is not a unicast address (unspecified, multicast and broadcast addresses cannot be VIPs)",
			    abuf);
	}
	return 0;
}

int sl_parse_vip(const char *s, struct sl_vip_spec *vip, char *err, size_t errlen)
{
	int ret;

	memset(vip, 0, sizeof(*vip));
	ret = parse_vip(s ? s : "", vip, err, errlen);
	if (ret)
		memset(vip, 0, sizeof(*vip));
	return ret;
}

int sl_format_addr_port(const struct sluice_addr *addr, __u8 family, __be16 port,
			char *buf, size_t len)
{
	char a[SL_ADDR_STR_MAX];
	int ret, n;

	ret = sl_format_addr(addr, family, a, sizeof(a));
	if (ret)
		return ret;
	if (family == SLUICE_AF_INET6)
		n = snprintf(buf, len, "[%s]:%u", a, ntohs(port));
	else
		n = snprintf(buf, len, "%s:%u", a, ntohs(port));
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int sl_format_vip(const struct sl_vip_spec *vip, char *buf, size_t len)
{
	const char *proto;
	size_t n;
	int ret;

	if (vip->proto == IPPROTO_TCP)
		proto = "/tcp";
	else if (vip->proto == IPPROTO_UDP)
		proto = "/udp";
	else
		return -EINVAL;
	ret = sl_format_addr_port(&vip->addr, vip->family, vip->port, buf, len);
	if (ret)
		return ret;
	n = strlen(buf);
	if (n + strlen(proto) >= len)
		return -ENOSPC;
	strcpy(buf + n, proto);
	return 0;
}

void sl_vip_key_from_spec(const struct sl_vip_spec *vip, struct sluice_vip_key *key)
{
	memset(key, 0, sizeof(*key));
	key->addr = vip->addr;
	key->port = vip->port;
	key->proto = vip->proto;
	key->family = vip->family;
}

/* Largest unit first: the order durations must be written in. */
static const struct {
	const char *name;
	__u64 ms;
} dur_units[] = {
	{ "h", 3600000ULL },
	{ "m", 60000ULL },
	{ "s", 1000ULL },
	{ "ms", 1ULL },
};
#define N_DUR_UNITS (sizeof(dur_units) / sizeof(dur_units[0]))

static int dur_unit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < N_DUR_UNITS; i++)
		if (strlen(dur_units[i].name) == n && !memcmp(dur_units[i].name, p, n))
			return (int)i;
	return -1;
}

/* Read one "NUMBER" at *pp; explains what is wrong at a non-digit. */
static int dur_number(const char *s, const char **pp, __u64 *val, bool first,
		      char *err, size_t errlen)
{
	const char *p = *pp;
	__u64 v = 0;

	if (*p == '-')
		return fail(err, errlen, "duration", s, "negative durations are not allowed");
	if (isspace((unsigned char)*p))
		return fail(err, errlen, "duration", s, "spaces are not allowed %s",
			    DURATION_HINT);
	if (!isdigit((unsigned char)*p))
		return fail(err, errlen, "duration", s, "%s %s",
			    first ? "not a duration" : "expected a number after the unit",
			    DURATION_HINT);
	for (; isdigit((unsigned char)*p); p++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (__u64)(*p - '0'), &v))
			return fail(err, errlen, "duration", s, "too large");
	}
	*val = v;
	*pp = p;
	return 0;
}

/* Read the unit after a number; prev is the index of the previous unit. */
static int dur_suffix(const char *s, const char **pp, const char *num, int prev,
		      int *unit, char *err, size_t errlen)
{
	const char *p = *pp, *u = p;

	if (!*p) {
		if (prev < 0)
			return fail(err, errlen, "duration", s,
				    "missing unit (add one of ms, s, m, h, e.g. \"%.20ss\")",
				    num);
		return fail(err, errlen, "duration", s,
			    "missing unit after \"%.20s\" (units: ms, s, m, h)", num);
	}
	if (*p == '.' || *p == ',')
		return fail(err, errlen, "duration", s,
			    "fractions are not supported (write 1m30s, not 1.5m)");
	if (isspace((unsigned char)*p))
		return fail(err, errlen, "duration", s, "spaces are not allowed %s",
			    DURATION_HINT);
	while (isalpha((unsigned char)*p))
		p++;
	*unit = dur_unit(u, p - u);
	if (*unit < 0)
		return fail(err, errlen, "duration", s,
			    "unknown unit \"%.*s\" (expected ms, s, m or h)",
			    (int)(p - u > 8 ? 8 : p - u), u);
	if (*unit <= prev)
		return fail(err, errlen, "duration", s,
			    "units must go from largest to smallest, each once (e.g. 1h30m, 1m30s)");
	*pp = p;
	return 0;
}

int sl_parse_duration_ms(const char *s, __u64 *ms, char *err, size_t errlen)
{
	const char *p, *num;
	__u64 total = 0, v = 0, part;
	int prev = -1, unit = 0, ret;
	char digits[24];	/* the number just read, for the "add a unit" hint */

	*ms = 0;
	if (!s || !*s)
		return fail(err, errlen, "duration", s ? s : "", "empty %s", DURATION_HINT);
	for (p = s; *p; prev = unit) {
		num = p;
		ret = dur_number(s, &p, &v, prev < 0, err, errlen);
		if (ret)
			return ret;
		snprintf(digits, sizeof(digits), "%.*s", (int)(p - num), num);
		ret = dur_suffix(s, &p, digits, prev, &unit, err, errlen);
		if (ret)
			return ret;
		if (__builtin_mul_overflow(v, dur_units[unit].ms, &part) ||
		    __builtin_add_overflow(total, part, &total))
			return fail(err, errlen, "duration", s, "too large");
	}
	*ms = total;
	return 0;
}

int sl_format_duration(__u64 ms, char *buf, size_t len)
{
	size_t i, off = 0;
	__u64 q;
	int n;

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	if (ms == 0)
		return len > 2 ? (strcpy(buf, "0s"), 0) : -ENOSPC;
	for (i = 0; i < N_DUR_UNITS; i++) {
		q = ms / dur_units[i].ms;
		ms %= dur_units[i].ms;
		if (!q)
			continue;
		n = snprintf(buf + off, len - off, "%llu%s", (unsigned long long)q,
			     dur_units[i].name);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += n;
	}
	return 0;
}
