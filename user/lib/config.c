/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Loads sluiced's YAML config with libfyaml and validates it, with FILE:LINE:COL errors. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libfyaml.h>

#include "announce.h"
#include "config.h"
#include "desired.h"
#include "log.h"
#include "state.h"

#define FIELD_MAX	96	/* "vips[255].backends[4095].address" and some */
#define QUOTE_MAX	64	/* how much of a bad value a message repeats */
#define NUM_MAX		32	/* longest integer or duration text we look at */

/* A sun_path holds the socket path and its NUL. */
#define SOCKET_PATH_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

#include "array.h"

struct ctx {
	const char *file;
	char *err;
	size_t errlen;
	struct sl_config *cfg;
	size_t total_backends;	/* (VIP, backend) pairs so far */
	unsigned int n_errors;	/* lines in err: every problem is reported */
};

/* A YAML value with where it came from, for errors. */
struct yval {
	bool set;		/* the key was given (its value may still be null) */
	struct fy_node *node;	/* value; NULL or a null scalar: empty */
	struct fy_node *key;	/* what to point at when node has no position */
	char path[FIELD_MAX];	/* field path: "vips[1].backends[0].weight" */
};

/* --- positions and messages --- */

/*
 * First source position inside a node. libfyaml 0.7 has no public
 * fy_node_get_start_mark(), but scalars carry their token, and a
 * collection starts where its first scalar does.
 */
static bool node_mark(struct fy_node *n, int depth, int *line, int *col)
{
	const struct fy_mark *m;
	struct fy_node_pair *p;
	struct fy_token *t;
	void *it = NULL;

	if (!n || depth > 16)
		return false;
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR:
		t = fy_node_get_scalar_token(n);
		m = t ? fy_token_start_mark(t) : NULL;
		if (!m)
			return false;
		*line = m->line + 1;
		*col = m->column + 1;
		/* Quoted scalars' marks start after the quote: point at the quote. */
		if ((fy_node_get_style(n) == FYNS_SINGLE_QUOTED ||
		     fy_node_get_style(n) == FYNS_DOUBLE_QUOTED) && *col > 1)
			(*col)--;
		return true;
	case FYNT_MAPPING:
		p = fy_node_mapping_iterate(n, &it);
		return p && (node_mark(fy_node_pair_key(p), depth + 1, line, col) ||
			     node_mark(fy_node_pair_value(p), depth + 1, line, col));
	case FYNT_SEQUENCE:
		return node_mark(fy_node_sequence_iterate(n, &it), depth + 1, line, col);
	}
	return false;
}

/* Copy text for a message: truncated, control bytes replaced. */
static void quote(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, max = outlen - 1;
	bool cut = n > max;

	if (cut)
		n = max - 3;
	for (i = 0; i < n; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	strcpy(out + n, cut ? "..." : "");
}

/* Write "FILE:LINE:COL: PATH: ", where @v is, into @out; snprintf's count. */
static int place(const struct ctx *c, const struct yval *v, char *out,
		 size_t len)
{
	int line = 1, col = 1;

	if (!node_mark(v->node, 0, &line, &col))
		node_mark(v->key, 0, &line, &col);
	return snprintf(out, len, "%s:%d:%d: %s%s", c->file, line, col, v->path,
			v->path[0] ? ": " : "");
}

/*
 * Add a "FILE:LINE:COL: PATH: message" line to err (one line per problem,
 * so an operator fixes them all in one round); always returns -EINVAL.
 */
static int __attribute__((format(printf, 3, 4)))
cfg_err(struct ctx *c, const struct yval *v, const char *fmt, ...)
{
	int n;
	size_t used;
	char *out;
	va_list ap;

	c->n_errors++;
	if (!c->err || !c->errlen)
		return -EINVAL;
	used = strlen(c->err);
	/* Room for a newline and the terminator, or it is full: the first
	 * errors are kept, and the text stays terminated. */
	if (used + 2 >= c->errlen)
		return -EINVAL;
	if (used)
		c->err[used++] = '\n';
	out = c->err + used;
	n = place(c, v, out, c->errlen - used);
	if (n >= 0 && (size_t)n < c->errlen - used) {
		va_start(ap, fmt);
		vsnprintf(out + n, c->errlen - used - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A problem that does not fail the load: logged as a warning, with its place. */
static void __attribute__((format(printf, 3, 4)))
cfg_warn(const struct ctx *c, const struct yval *v, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	n = place(c, v, msg, sizeof(msg));
	if (n >= 0 && (size_t)n < sizeof(msg)) {
		va_start(ap, fmt);
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
		va_end(ap);
	}
	sl_warn("%s", msg);
}

/* Keep the first error of several checks that all ran. */
static int first_err(int ret, int next)
{
	return ret ? ret : next;
}

/* Plain "", "~" and "null" are YAML's nulls: "flows:" with nothing under it. */
static bool is_null(struct fy_node *n)
{
	const char *s;
	size_t len;

	if (!n)
		return true;
	if (!fy_node_is_scalar(n) || fy_node_get_style(n) != FYNS_PLAIN)
		return false;
	s = fy_node_get_scalar(n, &len);
	if (!s || !len)
		return true;
	return (len == 1 && s[0] == '~') ||
	       (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) ||
			     !memcmp(s, "NULL", 4)));
}

static const char *node_kind(struct fy_node *n)
{
	if (is_null(n))
		return "an empty value";
	switch (fy_node_get_type(n)) {
	case FYNT_MAPPING:
		return "a mapping";
	case FYNT_SEQUENCE:
		return "a list";
	default:
		return "a scalar";
	}
}

/* Append src to a FIELD_MAX path; a cut-off path still tells where. */
static void path_append(char *dst, const char *src)
{
	size_t n = strlen(dst);
	size_t m = strnlen(src, FIELD_MAX - 1 - n);

	memcpy(dst + n, src, m);
	dst[n + m] = '\0';
}

static void child_path(char *dst, const char *parent, const char *name, size_t len)
{
	char q[33];

	quote(name, len, q, sizeof(q));
	dst[0] = '\0';
	path_append(dst, parent);
	if (parent[0])
		path_append(dst, ".");
	path_append(dst, q);
}

static void item_path(char *dst, const char *parent, size_t idx)
{
	char i[24];

	snprintf(i, sizeof(i), "[%zu]", idx);
	dst[0] = '\0';
	path_append(dst, parent);
	path_append(dst, i);
}

/* --- generic node access --- */

/*
 * Sort the keys of a mapping into out[] (same order as names[]), rejecting
 * unknown keys. A null value counts as an empty mapping, so a section
 * whose keys are all commented out is just defaults.
 */
static int collect(struct ctx *c, const struct yval *map, const char *const *names,
		   size_t n, struct yval *out)
{
	struct fy_node_pair *p;
	struct fy_node *k;
	const char *s;
	char allowed[256];
	void *it = NULL;
	size_t i, len, off = 0;

	for (i = 0, allowed[0] = '\0'; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].key = map->node ? map->node : map->key;
		child_path(out[i].path, map->path, names[i], strlen(names[i]));
		off += snprintf(allowed + off, sizeof(allowed) - off, "%s%s",
				i ? ", " : "", names[i]);
	}
	if (is_null(map->node))
		return 0;
	if (!fy_node_is_mapping(map->node))
		return cfg_err(c, map, "expected a mapping (keys: %s), got %s", allowed,
			       node_kind(map->node));

	while ((p = fy_node_mapping_iterate(map->node, &it))) {
		struct yval kv = { .node = fy_node_pair_key(p), .key = map->node };

		k = kv.node;
		strcpy(kv.path, map->path);
		if (!k || !fy_node_is_scalar(k) || is_null(k)) {
			cfg_err(c, &kv, "keys must be plain names, got %s", node_kind(k));
			continue;
		}
		s = fy_node_get_scalar(k, &len);
		for (i = 0; i < n; i++)
			if (strlen(names[i]) == len && !memcmp(names[i], s, len))
				break;
		if (i < n) {
			out[i].set = true;
			out[i].node = fy_node_pair_value(p);
			out[i].key = k;
			continue;
		}
		child_path(kv.path, map->path, s, len);
		cfg_err(c, &kv, "unknown key (allowed: %s)", allowed);
	}
	/* Reported (c->n_errors fails the load); the known keys are still checked. */
	return 0;
}

static bool present(const struct yval *v)
{
	return v->set;
}

/* The error for a required field that is absent from its mapping. */
static int missing(struct ctx *c, const struct yval *map, const struct yval *field,
		   const char *example)
{
	struct yval v = { .node = map->node, .key = map->key };

	strcpy(v.path, field->path);
	return cfg_err(c, &v, "required field is missing (e.g. %s)", example);
}

/* The scalar text of v in buf; expect says what would have been right. */
static int get_text(struct ctx *c, const struct yval *v, const char *expect,
		    char *buf, size_t size)
{
	const char *s;
	size_t len;

	if (is_null(v->node))
		return cfg_err(c, v, "missing value (expected %s)", expect);
	if (!fy_node_is_scalar(v->node))
		return cfg_err(c, v, "expected %s, got %s", expect, node_kind(v->node));
	s = fy_node_get_scalar(v->node, &len);
	if (memchr(s, '\0', len))
		return cfg_err(c, v, "contains a NUL byte (expected %s)", expect);
	if (len >= size)
		return cfg_err(c, v, "value is too long: %zu bytes (expected %s, at most %zu bytes)",
			       len, expect, size - 1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

static int get_uint(struct ctx *c, const struct yval *v, __u64 min, __u64 max,
		    __u64 *out)
{
	char expect[64], buf[NUM_MAX], q[QUOTE_MAX + 1];
	const char *p;
	__u64 val = 0;
	bool over = false;
	int ret;

	snprintf(expect, sizeof(expect), "an integer %llu..%llu",
		 (unsigned long long)min, (unsigned long long)max);
	ret = get_text(c, v, expect, buf, sizeof(buf));
	if (ret)
		return ret;
	quote(buf, strlen(buf), q, sizeof(q));
	p = buf[0] == '-' ? buf + 1 : buf;
	if (!*p || strspn(p, "0123456789") != strlen(p))
		return cfg_err(c, v, "\"%s\" is not a number (expected %s)", q, expect);
	for (; *p; p++)
		over |= __builtin_mul_overflow(val, 10, &val) ||
			__builtin_add_overflow(val, (__u64)(*p - '0'), &val);
	if (buf[0] == '-' || over || val < min || val > max)
		return cfg_err(c, v, "%s is out of range (expected %s)", q, expect);
	*out = val;
	return 0;
}

static int get_u32(struct ctx *c, const struct yval *v, __u32 min, __u32 max, __u32 *out)
{
	__u64 val = 0;
	int ret;

	ret = get_uint(c, v, min, max, &val);
	if (!ret)
		*out = (__u32)val;
	return ret;
}

/* true or false, nothing else (YAML's yes/on are not booleans here). */
static int get_bool(struct ctx *c, const struct yval *v, bool *out)
{
	char buf[16];
	int ret = get_text(c, v, "true or false", buf, sizeof(buf));

	if (ret)
		return ret;
	if (!strcmp(buf, "true"))
		*out = true;
	else if (!strcmp(buf, "false"))
		*out = false;
	else
		return cfg_err(c, v,
			       "\"%s\" is not allowed (expected true or false)",
			       buf);
	return 0;
}

/* sl_new buckets are picked by the low bits of a flow hash: a power of two. */
static int get_new_table_size(struct ctx *c, const struct yval *v, __u32 *out)
{
	__u32 n, up;
	int ret;

	ret = get_u32(c, v, SL_CFG_FLOWS_MIN, SLUICE_NEW_FLOWS_MAX, &n);
	if (ret)
		return ret;
	if (n & (n - 1)) {
		for (up = SL_CFG_FLOWS_MIN; up < n; up <<= 1)
			;
		return cfg_err(c, v, "%u is not a power of two (sl_new is indexed "
			       "by the flow hash's low bits); use %u or %u",
			       n, up >> 1, up);
	}
	*out = n;
	return 0;
}

/* Duration within [min, max] ms; max UINT64_MAX means "no upper bound". */
static int get_duration(struct ctx *c, const struct yval *v, __u64 min, __u64 max,
			__u64 *out)
{
	char buf[NUM_MAX], perr[256], lo[SL_DURATION_STR_MAX], hi[SL_DURATION_STR_MAX];
	__u64 ms;
	int ret;

	ret = get_text(c, v, "a duration such as 90s, 5m or 1h30m", buf, sizeof(buf));
	if (ret)
		return ret;
	if (sl_parse_duration_ms(buf, &ms, perr, sizeof(perr)))
		return cfg_err(c, v, "%s", perr);
	if (ms >= min && ms <= max) {
		*out = ms;
		return 0;
	}
	sl_format_duration(min, lo, sizeof(lo));
	sl_format_duration(max, hi, sizeof(hi));
	if (max == UINT64_MAX)
		return cfg_err(c, v, "%s is too short (expected at least %s)", buf, lo);
	if (ms == 0)
		return cfg_err(c, v, "must be greater than zero (expected a duration from %s to %s)",
			       lo, hi);
	return cfg_err(c, v, "%s is out of range (expected a duration from %s to %s)",
		       buf, lo, hi);
}

/* A unicast address; family 0 takes either. */
static int get_addr(struct ctx *c, const struct yval *v, __u8 want,
		    struct sluice_addr *addr, __u8 *family)
{
	const char *expect = want == SLUICE_AF_INET ? "an IPv4 address such as 198.18.0.1" :
			     want == SLUICE_AF_INET6 ? "an IPv6 address such as fd00::1" :
			     "an IPv4 or IPv6 address such as 198.18.1.10 or fd00::10";
	char buf[SL_ADDR_STR_MAX + 16], q[QUOTE_MAX + 1];
	int ret;

	ret = get_text(c, v, expect, buf, sizeof(buf));
	if (ret)
		return ret;
	quote(buf, strlen(buf), q, sizeof(q));
	if (sl_parse_addr(buf, addr, family))
		return cfg_err(c, v, "\"%s\" is not an IP address (expected %s)", q, expect);
	if (want && *family != want)
		return cfg_err(c, v, "\"%s\" is an IPv%u address (expected %s)", q,
			       *family, expect);
	if (!sl_addr_is_unicast(addr, *family))
		return cfg_err(c, v, "\"%s\" is not a unicast address (expected %s)", q, expect);
	return 0;
}

/* An absolute path of at most max bytes into buf (PATH_MAX bytes). */
static int get_path(struct ctx *c, const struct yval *v, size_t max, char *buf)
{
	char q[QUOTE_MAX + 1];
	int ret;

	ret = get_text(c, v, "an absolute path", buf, PATH_MAX);
	if (ret)
		return ret;
	quote(buf, strlen(buf), q, sizeof(q));
	if (buf[0] != '/')
		return cfg_err(c, v, "\"%s\" is not an absolute path (expected a path starting with /)",
			       q);
	if (strlen(buf) > max)
		return cfg_err(c, v, "\"%s\" is %zu bytes long (a Unix socket path must be at most %zu)",
			       q, strlen(buf), max);
	return 0;
}

/* --- sections --- */

static void derive_paths(struct sl_config *cfg)
{
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), SL_CFG_SOCKET_FMT,
		 cfg->instance);
	snprintf(cfg->pin_dir, sizeof(cfg->pin_dir), SL_CFG_PIN_DIR_FMT, cfg->instance);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), SL_CFG_STATE_DIR_FMT, cfg->instance);
}

static int parse_instance(struct ctx *c, const struct yval *v)
{
	static const char *expect = "1..32 characters from a-z, 0-9, _ and -";
	char buf[SL_CFG_INSTANCE_MAX + 1], q[QUOTE_MAX + 1];
	int ret;

	if (!present(v))
		return 0;
	ret = get_text(c, v, expect, buf, sizeof(buf));
	if (ret)
		return ret;
	if (!buf[0] || strspn(buf, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(buf)) {
		quote(buf, strlen(buf), q, sizeof(q));
		return cfg_err(c, v, "\"%s\" is not a valid instance name (expected %s)", q, expect);
	}
	strcpy(c->cfg->instance, buf);
	/* Paths follow the instance unless the control/paths sections say otherwise. */
	derive_paths(c->cfg);
	return 0;
}

/* What the kernel's dev_valid_name() accepts. */
static bool valid_ifname(const char *s)
{
	return s[0] && strcmp(s, ".") && strcmp(s, "..") && !strpbrk(s, "/: \t\n\r\v\f");
}

static int parse_iface(struct ctx *c, const struct yval *item, size_t idx)
{
	static const char *const keys[] = { "name", "mode" };
	static const char *expect = "an interface name of 1..15 characters without \"/\", \":\" or spaces";
	struct sl_cfg_iface *ifc = &c->cfg->ifaces[idx];
	struct yval f[ARRAY_SIZE(keys)];
	char buf[IFNAMSIZ], mode[16], q[QUOTE_MAX + 1];
	size_t i;
	int ret;

	ret = collect(c, item, keys, ARRAY_SIZE(keys), f);
	if (ret)
		return ret;
	if (!present(&f[0]))
		return missing(c, item, &f[0], "name: eth0");
	ret = get_text(c, &f[0], expect, buf, sizeof(buf));
	if (ret)
		return ret;
	quote(buf, strlen(buf), q, sizeof(q));
	if (!valid_ifname(buf))
		return cfg_err(c, &f[0], "\"%s\" is not a valid interface name (expected %s)",
			       q, expect);
	for (i = 0; i < idx; i++)
		if (!strcmp(c->cfg->ifaces[i].name, buf))
			return cfg_err(c, &f[0], "interface \"%s\" is listed twice (also interfaces[%zu])",
				       q, i);
	strcpy(ifc->name, buf);
	ifc->mode = SL_XDP_MODE_NATIVE;
	if (!present(&f[1]))
		return 0;
	ret = get_text(c, &f[1], "native or skb", mode, sizeof(mode));
	if (ret)
		return ret;
	if (!strcmp(mode, "skb"))
		ifc->mode = SL_XDP_MODE_SKB;
	else if (strcmp(mode, "native"))
		return cfg_err(c, &f[1], "\"%s\" is not a valid mode (expected native or skb)", mode);
	return 0;
}

static int parse_interfaces(struct ctx *c, const struct yval *v)
{
	struct yval item = { .key = v->key };
	size_t n = 0;
	void *it = NULL;
	int ret;

	if (is_null(v->node))
		return cfg_err(c, v, "at least one interface is required (e.g. interfaces: [{name: eth0}])");
	if (!fy_node_is_sequence(v->node))
		return cfg_err(c, v, "expected a list of interfaces, got %s", node_kind(v->node));
	while ((item.node = fy_node_sequence_iterate(v->node, &it))) {
		item_path(item.path, v->path, n);
		if (n == SL_CFG_MAX_IFACES)
			return cfg_err(c, &item, "too many interfaces (at most %d)",
				       SL_CFG_MAX_IFACES);
		ret = parse_iface(c, &item, n);
		if (ret)
			return ret;
		c->cfg->n_ifaces = ++n;
	}
	if (!n)
		return cfg_err(c, v, "at least one interface is required (e.g. interfaces: [{name: eth0}])");
	return 0;
}

static int parse_encap(struct ctx *c, const struct yval *v)
{
	static const char *const keys[] = { "source_v4", "source_v6" };
	struct sl_config *cfg = c->cfg;
	struct yval f[ARRAY_SIZE(keys)];
	__u8 fam;
	int ret;

	ret = collect(c, v, keys, ARRAY_SIZE(keys), f);
	if (!ret && present(&f[0])) {
		ret = get_addr(c, &f[0], SLUICE_AF_INET, &cfg->source_v4, &fam);
		cfg->has_source_v4 = !ret;
	}
	if (!ret && present(&f[1])) {
		ret = get_addr(c, &f[1], SLUICE_AF_INET6, &cfg->source_v6, &fam);
		cfg->has_source_v6 = !ret;
	}
	return ret;
}

/*
 * How long a flow without signs of a real connection counts: an sl_new
 * slot (handshake_timeout), an unconfirmed sl_flows entry
 * (unconfirmed_timeout). The latter must outlast SLUICE_CONFIRM_MS, or a
 * quiet real connection would expire before time could confirm it.
 */
static int parse_handshakes(struct ctx *c, const struct yval *hs,
			    const struct yval *unc)
{
	struct sl_config *cfg = c->cfg;
	int ret = 0;

	if (present(hs))
		ret = get_duration(c, hs, SL_CFG_HANDSHAKE_MIN_MS, SL_CFG_HANDSHAKE_MAX_MS,
				   &cfg->handshake_timeout_ms);
	if (!ret && present(unc))
		ret = get_duration(c, unc, SL_CFG_HANDSHAKE_MIN_MS, SL_CFG_HANDSHAKE_MAX_MS,
				   &cfg->unconfirmed_timeout_ms);
	if (ret || cfg->unconfirmed_timeout_ms > SLUICE_CONFIRM_MS)
		return ret;
	return cfg_err(c, present(unc) ? unc : hs,
		       "unconfirmed_timeout (%llu ms) must be longer than %u ms, the time "
		       "after which any packet confirms a TCP flow",
		       (unsigned long long)cfg->unconfirmed_timeout_ms, SLUICE_CONFIRM_MS);
}

/*
 * close_linger keeps a closed flow's entry after close_grace ended it for
 * counting, so a late client packet still reaches its backend: it cannot
 * be shorter than the grace, nor outlive an idle connection.
 */
static int check_linger(struct ctx *c, const struct yval *grace,
			const struct yval *linger, const struct yval *tcp)
{
	const struct sl_config *cfg = c->cfg;
	char g[SL_DURATION_STR_MAX], l[SL_DURATION_STR_MAX];
	char t[SL_DURATION_STR_MAX];

	if (cfg->close_linger_ms >= cfg->close_grace_ms &&
	    cfg->close_linger_ms <= cfg->tcp_idle_timeout_ms)
		return 0;
	sl_format_duration(cfg->close_grace_ms, g, sizeof(g));
	sl_format_duration(cfg->close_linger_ms, l, sizeof(l));
	if (cfg->close_linger_ms < cfg->close_grace_ms)
		return cfg_err(c, present(linger) ? linger : grace,
			       "close_linger (%s) must not be shorter than close_grace (%s): "
			       "raise close_linger or lower close_grace", l, g);
	sl_format_duration(cfg->tcp_idle_timeout_ms, t, sizeof(t));
	return cfg_err(c, present(linger) ? linger : tcp, "close_linger (%s) must not "
		       "be longer than tcp_idle_timeout (%s)", l, t);
}

/*
 * flows.drain_table_size, or its deprecated old name pinned_table_size
 * (still accepted, with a warning, so configs written for older releases
 * keep working); both at once is ambiguous.
 */
static int get_drain_table_size(struct ctx *c, const struct yval *v,
				const struct yval *old)
{
	struct yval name = *old;

	name.node = old->key; /* the problem is the key, not its value */
	if (present(v) && present(old))
		return cfg_err(c, &name,
			       "give only drain_table_size: "
			       "pinned_table_size is its deprecated old name");
	if (present(old))
		cfg_warn(c, &name,
			 "deprecated name: rename it to "
			 "drain_table_size (same meaning)");
	if (!present(v) && !present(old))
		return 0;
	return get_u32(c, present(v) ? v : old, SL_CFG_FLOWS_MIN,
		       SLUICE_FLOWS_MAX, &c->cfg->drain_table_size);
}

static int parse_flows(struct ctx *c, const struct yval *v)
{
	/* The last key is drain_table_size's deprecated old name. */
	static const char *const keys[] = {
		"table_size",	    "tcp_idle_timeout",	 "udp_idle_timeout",
		"close_grace",	    "sweep_interval",	 "new_table_size",
		"drain_table_size", "handshake_timeout", "unconfirmed_timeout",
		"close_linger",	    "udp_fallback",	 "pinned_table_size",
	};
	enum {
		F_SIZE,
		F_TCP,
		F_UDP,
		F_GRACE,
		F_SWEEP,
		F_NEW,
		F_DRAIN,
		F_HS,
		F_UNC,
		F_LINGER,
		F_UDP_FB,
		F_DRAIN_OLD
	};
	struct sl_config *cfg = c->cfg;
	struct yval f[ARRAY_SIZE(keys)];
	char g[SL_DURATION_STR_MAX], u[SL_DURATION_STR_MAX];
	int ret;

	ret = collect(c, v, keys, ARRAY_SIZE(keys), f);
	if (!ret && present(&f[F_SIZE]))
		ret = get_u32(c, &f[F_SIZE], SL_CFG_FLOWS_MIN, SLUICE_FLOWS_MAX,
			      &cfg->flow_table_size);
	if (!ret && present(&f[F_NEW]))
		ret = get_new_table_size(c, &f[F_NEW], &cfg->new_table_size);
	if (!ret)
		ret = get_drain_table_size(c, &f[F_DRAIN], &f[F_DRAIN_OLD]);
	if (!ret && present(&f[F_TCP]))
		ret = get_duration(c, &f[F_TCP], 1, SL_CFG_TIMEOUT_MAX_MS,
				   &cfg->tcp_idle_timeout_ms);
	if (!ret && present(&f[F_UDP]))
		ret = get_duration(c, &f[F_UDP], 1, SL_CFG_TIMEOUT_MAX_MS,
				   &cfg->udp_idle_timeout_ms);
	if (!ret && present(&f[F_GRACE]))
		ret = get_duration(c, &f[F_GRACE], 1, SL_CFG_TIMEOUT_MAX_MS,
				   &cfg->close_grace_ms);
	if (!ret && present(&f[F_LINGER]))
		ret = get_duration(c, &f[F_LINGER], 1, SL_CFG_TIMEOUT_MAX_MS,
				   &cfg->close_linger_ms);
	if (!ret && present(&f[F_SWEEP]))
		ret = get_duration(c, &f[F_SWEEP], SL_CFG_SWEEP_MIN_MS, SL_CFG_SWEEP_MAX_MS,
				   &cfg->sweep_interval_ms);
	if (!ret && present(&f[F_UDP_FB]))
		ret = get_bool(c, &f[F_UDP_FB], &cfg->udp_fallback);
	if (!ret)
		ret = parse_handshakes(c, &f[F_HS], &f[F_UNC]);
	if (ret)
		return ret;
	if (cfg->close_grace_ms >= cfg->udp_idle_timeout_ms) {
		sl_format_duration(cfg->close_grace_ms, g, sizeof(g));
		sl_format_duration(cfg->udp_idle_timeout_ms, u, sizeof(u));
		ret = cfg_err(c, present(&f[F_GRACE]) ? &f[F_GRACE] : &f[F_UDP],
			      "close_grace (%s) must be shorter than udp_idle_timeout (%s)",
			      g, u);
	}
	return first_err(ret, check_linger(c, &f[F_GRACE], &f[F_LINGER], &f[F_TCP]));
}

static bool is_prime(__u32 n)
{
	__u32 d;

	if (n < 2)
		return false;
	for (d = 2; (__u64)d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

static int parse_maglev(struct ctx *c, const struct yval *v)
{
	static const char *const keys[] = { "table_size", "seed" };
	struct sl_config *cfg = c->cfg;
	struct yval f[ARRAY_SIZE(keys)];
	__u32 lo, hi;
	int ret;

	ret = collect(c, v, keys, ARRAY_SIZE(keys), f);
	if (!ret && present(&f[1]))
		ret = get_u32(c, &f[1], 0, UINT32_MAX, &cfg->maglev_seed);
	if (ret || !present(&f[0]))
		return ret;
	ret = get_u32(c, &f[0], SL_CFG_RING_MIN, SLUICE_RING_SIZE_MAX, &cfg->maglev_table_size);
	if (ret || is_prime(cfg->maglev_table_size))
		return ret;
	/* Both ends of the range are primes, so a neighbour always exists. */
	for (lo = cfg->maglev_table_size; !is_prime(lo); lo--)
		;
	for (hi = cfg->maglev_table_size; !is_prime(hi); hi++)
		;
	return cfg_err(c, &f[0], "%u is not a prime (Maglev needs a prime table size; nearest primes: %u and %u)",
		       cfg->maglev_table_size, lo, hi);
}

static int parse_drain(struct ctx *c, const struct yval *v)
{
	static const char *const keys[] = { "default_timeout", "check_interval" };
	struct yval f[ARRAY_SIZE(keys)];
	int ret;

	ret = collect(c, v, keys, ARRAY_SIZE(keys), f);
	if (!ret && present(&f[0]))
		ret = get_duration(c, &f[0], SL_CFG_DRAIN_MIN_MS,
				   SL_CFG_DRAIN_MAX_MS,
				   &c->cfg->drain_timeout_ms);
	if (!ret && present(&f[1]))
		ret = get_duration(c, &f[1], SL_CFG_CHECK_MIN_MS, SL_CFG_CHECK_MAX_MS,
				   &c->cfg->drain_check_interval_ms);
	return ret;
}

static int parse_control(struct ctx *c, const struct yval *v)
{
	static const char *const keys[] = { "socket" };
	struct yval f[ARRAY_SIZE(keys)];
	int ret;

	ret = collect(c, v, keys, ARRAY_SIZE(keys), f);
	if (!ret && present(&f[0]))
		ret = get_path(c, &f[0], SOCKET_PATH_MAX, c->cfg->control_socket);
	return ret;
}

static int parse_metrics(struct ctx *c, const struct yval *v)
{
	static const char *const keys[] = { "listen" };
	struct sl_config *cfg = c->cfg;
	struct yval f[ARRAY_SIZE(keys)];
	char buf[SL_VIP_STR_MAX + 16], perr[256];
	int ret;

	ret = collect(c, v, keys, ARRAY_SIZE(keys), f);
	if (ret || !present(&f[0]))
		return ret;
	ret = get_text(c, &f[0], "ADDR:PORT, [ADDR]:PORT or off", buf, sizeof(buf));
	if (ret)
		return ret;
	if (!strcmp(buf, "off")) {
		cfg->metrics_enabled = false;
		return 0;
	}
	if (sl_parse_addr_port(buf, &cfg->metrics_addr, &cfg->metrics_family,
			       &cfg->metrics_port, perr, sizeof(perr)))
		return cfg_err(c, &f[0], "%s; \"off\" disables metrics", perr);
	if (!cfg->metrics_port)
		return cfg_err(c, &f[0], "port 0 is not allowed (expected a fixed port such as 9469)");
	cfg->metrics_enabled = true;
	return 0;
}

/* announce: {table: N, device: NAME}: the section's presence enables it. */
static int parse_announce(struct ctx *c, const struct yval *v)
{
	static const char *const keys[] = { "table", "device" };
	struct sl_config *cfg = c->cfg;
	struct yval f[ARRAY_SIZE(keys)];
	int ret;

	if (!present(v))
		return 0;
	ret = collect(c, v, keys, ARRAY_SIZE(keys), f);
	if (ret)
		return ret;
	if (!present(&f[0]))
		return missing(c, v, &f[0], "table: 100");
	ret = get_u32(c, &f[0], 1, 0xffffffffU, &cfg->announce_table);
	if (ret)
		return ret;
	if (!sl_announce_table_ok(cfg->announce_table))
		return cfg_err(c, &f[0], "table %u is one of the kernel's own (main, local, "
			       "default): use a dedicated table such as 100",
			       cfg->announce_table);
	if (present(&f[1])) {
		ret = get_text(c, &f[1], "an interface name of 1 to 15 characters",
			       cfg->announce_device, sizeof(cfg->announce_device));
		if (ret)
			return ret;
		if (!cfg->announce_device[0] || strchr(cfg->announce_device, '/') ||
		    strchr(cfg->announce_device, ' '))
			return cfg_err(c, &f[1], "\"%s\" is not an interface name (1 to 15 "
				       "characters, no '/' or space)", cfg->announce_device);
	} else {
		snprintf(cfg->announce_device, sizeof(cfg->announce_device), "sl-%.12s",
			 cfg->instance);
	}
	cfg->announce_enabled = true;
	return 0;
}

/* A file that must be readable now: a typo shows at load, not at connect. */
static int get_readable(struct ctx *c, const struct yval *v, char *buf)
{
	int ret = get_path(c, v, PATH_MAX - 1, buf);

	if (!ret && access(buf, R_OK))
		return cfg_err(c, v, "cannot read %s: %s", buf,
			       strerror(errno));
	return ret;
}

static int parse_cluster_auth(struct ctx *c, const struct yval *f)
{
	struct sl_etcd_opts *o = &c->cfg->cluster_etcd;
	int ret = 0;

	if (present(&f[0]))
		ret = first_err(ret, get_readable(c, &f[0], o->ca_file));
	if (present(&f[1]))
		ret = first_err(ret, get_readable(c, &f[1], o->cert_file));
	if (present(&f[2]))
		ret = first_err(ret, get_readable(c, &f[2], o->key_file));
	if (present(&f[1]) != present(&f[2]))
		ret = first_err(
			ret,
			cfg_err(c, present(&f[1]) ? &f[1] : &f[2],
				"cert_file and key_file go together (a client certificate and its key)"));
	if (present(&f[3]))
		ret = first_err(ret,
				get_text(c, &f[3], "an etcd user name",
					 o->username, sizeof(o->username)));
	if (present(&f[4]))
		ret = first_err(ret,
				get_text(c, &f[4], "the etcd user's password",
					 o->password, sizeof(o->password)));
	if (!ret && !!o->username[0] != !!o->password[0])
		ret = cfg_err(
			c, present(&f[3]) ? &f[3] : &f[4],
			"username and password go together (etcd authentication)");
	return ret;
}

static int parse_cluster(struct ctx *c, const struct yval *v)
{
	static const char *const keys[] = {
		"endpoints", "prefix",	 "box",	     "lease_ttl", "ca_file",
		"cert_file", "key_file", "username", "password"
	};
	struct sl_config *cfg = c->cfg;
	struct yval f[ARRAY_SIZE(keys)];
	char buf[SL_ETCD_MAX_EP * SL_ETCD_URL_MAX], e[512];
	int ret;

	if (!present(v))
		return 0;
	ret = collect(c, v, keys, ARRAY_SIZE(keys), f);
	if (ret)
		return ret;
	if (!present(&f[0]))
		return missing(c, v, &f[0],
			       "endpoints: http://198.18.0.1:2379");
	if (!present(&f[2]))
		return missing(c, v, &f[2], "box: edge1");
	ret = get_text(c, &f[0], "http(s)://HOST:PORT[,...]", buf, sizeof(buf));
	if (!ret &&
	    sl_etcd_parse_endpoints(buf, &cfg->cluster_etcd, e, sizeof(e)))
		ret = cfg_err(c, &f[0], "%s", e);
	if (present(&f[1])) {
		ret = first_err(ret, get_text(c, &f[1], "an etcd key prefix",
					      cfg->cluster_prefix,
					      sizeof(cfg->cluster_prefix)));
		if (!ret &&
		    sl_desired_prefix_check(cfg->cluster_prefix, e, sizeof(e)))
			ret = cfg_err(c, &f[1], "%s", e);
	}
	ret = first_err(ret, get_text(c, &f[2], "a box name", cfg->cluster_box,
				      sizeof(cfg->cluster_box)));
	if (!ret && sl_desired_box_check(cfg->cluster_box, e, sizeof(e)))
		ret = cfg_err(c, &f[2], "%s", e);
	if (present(&f[3]))
		ret = first_err(ret,
				get_duration(c, &f[3], 2000, 3600 * 1000ULL,
					     &cfg->cluster_lease_ms));
	ret = first_err(ret, parse_cluster_auth(c, &f[4]));
	cfg->cluster_enabled = !ret;
	return ret;
}

static int parse_paths(struct ctx *c, const struct yval *v)
{
	static const char *const keys[] = { "pin_dir", "state_dir" };
	struct yval f[ARRAY_SIZE(keys)];
	int ret;

	ret = collect(c, v, keys, ARRAY_SIZE(keys), f);
	if (!ret && present(&f[0]))
		ret = get_path(c, &f[0], PATH_MAX - 1, c->cfg->pin_dir);
	if (!ret && present(&f[1]))
		ret = get_path(c, &f[1], PATH_MAX - 1, c->cfg->state_dir);
	return ret;
}

/* --- vips --- */

/* The VIP whose address @a is, or -1. */
static long vip_with_addr(const struct sl_config *cfg, const struct sluice_addr *a,
			  __u8 family)
{
	size_t i;

	if (!family)
		return -1;	/* a backend whose address did not parse */
	for (i = 0; i < cfg->n_vips; i++)
		if (cfg->vips[i].vip.family == family &&
		    !memcmp(&cfg->vips[i].vip.addr, a, sizeof(*a)))
			return (long)i;
	return -1;
}

/*
 * A backend at a VIP's address (any VIP, listed before or after it) would
 * send every encapsulated packet back into sluice: refuse it. Runs once
 * all VIPs are parsed; the YAML is walked again for the positions.
 */
static int check_backends_not_vips(struct ctx *c, const struct yval *vips)
{
	struct fy_node *vnode, *bes, *bnode;
	void *vit = NULL, *bit;
	char a[SL_ADDR_STR_MAX], vs[SL_VIP_STR_MAX], p1[FIELD_MAX], p2[FIELD_MAX];
	size_t i, j;
	long k;
	int ret = 0;

	for (i = 0; (vnode = fy_node_sequence_iterate(vips->node, &vit)); i++) {
		const struct sl_cfg_vip *vip = &c->cfg->vips[i];

		bes = fy_node_mapping_lookup_by_string(vnode, "backends", FY_NT);
		bit = NULL;
		for (j = 0; j < vip->n_backends; j++) {
			const struct sl_cfg_backend *be = &vip->backends[j];
			struct yval v = { .key = vnode };

			bnode = bes ? fy_node_sequence_iterate(bes, &bit) : NULL;
			k = vip_with_addr(c->cfg, &be->addr, be->family);
			if (k < 0)
				continue;
			v.node = bnode ? fy_node_mapping_lookup_by_string(bnode, "address", FY_NT) : NULL;
			item_path(p1, vips->path, i);
			child_path(p2, p1, "backends", 8);
			item_path(p1, p2, j);
			child_path(v.path, p1, "address", 7);
			sl_format_addr(&be->addr, be->family, a, sizeof(a));
			sl_format_vip(&c->cfg->vips[k].vip, vs, sizeof(vs));
			ret = cfg_err(c, &v, "backend %s is the address of VIP %s (vips[%ld]): "
				      "packets to it would loop back into sluice (use the "
				      "backend's own address)", a, vs, k);
		}
	}
	return ret;
}

static int check_backend_addr(struct ctx *c, const struct yval *v,
			      const struct sl_cfg_vip *vip, size_t idx, const char *vpath)
{
	const struct sl_cfg_backend *be = &vip->backends[idx];
	char a[SL_ADDR_STR_MAX];
	size_t i;

	if (be->family == SLUICE_AF_INET && !c->cfg->has_source_v4)
		return cfg_err(c, v, "IPv4 backend needs encap.source_v4 (the outer IPv4 source address of tunnelled packets)");
	if (be->family == SLUICE_AF_INET6 && !c->cfg->has_source_v6)
		return cfg_err(c, v, "IPv6 backend needs encap.source_v6 (the outer IPv6 source address of tunnelled packets)");
	if (sl_addr_is_loopback(&be->addr, be->family)) {
		sl_format_addr(&be->addr, be->family, a, sizeof(a));
		return cfg_err(c, v, "backend %s is a loopback address: encapsulated packets "
			       "to it never leave this box (use the backend's own address)", a);
	}
	for (i = 0; i < idx; i++) {
		if (vip->backends[i].family != be->family ||
		    memcmp(&vip->backends[i].addr, &be->addr, sizeof(be->addr)))
			continue;
		sl_format_addr(&be->addr, be->family, a, sizeof(a));
		return cfg_err(c, v, "duplicate backend %s (already listed as %s.backends[%zu])",
			       a, vpath, i);
	}
	return 0;
}

/* tls_verify and ca_file: HTTPS checks only; a CA file must be readable now. */
static int parse_health_tls(struct ctx *c, const struct yval *verify,
			    const struct yval *ca, struct sl_health_cfg *hc)
{
	char buf[SL_HC_CA_MAX];
	int ret;

	if ((present(verify) || present(ca)) && hc->type != SL_HC_HTTPS)
		return cfg_err(c, present(verify) ? verify : ca,
			       "applies to type: https checks only");
	if (present(verify)) {
		ret = get_bool(c, verify, &hc->tls_verify);
		if (ret)
			return ret;
	}
	if (!present(ca))
		return 0;
	ret = get_text(c, ca, "the absolute path of a PEM file of CA certificates", buf,
		       sizeof(buf));
	if (ret)
		return ret;
	if (buf[0] != '/')
		return cfg_err(c, ca, "\"%s\" is not an absolute path", buf);
	if (access(buf, R_OK))
		return cfg_err(c, ca, "cannot read %s: %s", buf, strerror(errno));
	if (!hc->tls_verify)
		return cfg_err(c, ca, "has no effect with tls_verify: false (remove one of them)");
	strcpy(hc->ca_file, buf);
	return 0;
}

/* @f (path, expect_status) given for a tcp check, which sends no request. */
static int http_only(struct ctx *c, const struct yval *f)
{
	if (!present(f))
		return 0;
	return cfg_err(
		c, f,
		"applies to type: http and https checks only (a tcp check "
		"only connects): remove it, or set type: http");
}

/*
 * health_check: at VIP level the defaults fill what is not set; at backend
 * level the VIP's settings do. @vport is the VIP's port (0: every port, so
 * the check needs its own).
 */
static int parse_health(struct ctx *c, const struct yval *v, struct sl_health_cfg *hc,
			__u16 vport)
{
	static const char *const keys[] = {
		"type", "port", "path", "expect_status", "interval", "timeout",
		"rise", "fall", "on_down", "tls_verify", "ca_file",
	};
	enum { H_TYPE, H_PORT, H_PATH, H_EXPECT, H_INTERVAL, H_TIMEOUT, H_RISE,
	       H_FALL, H_ON_DOWN, H_TLS_VERIFY, H_CA_FILE };
	struct yval f[ARRAY_SIZE(keys)];
	char buf[SL_HC_PATH_MAX + 1];
	__u32 n;
	int ret;

	ret = collect(c, v, keys, ARRAY_SIZE(keys), f);
	if (!ret && present(&f[H_TYPE])) {
		ret = get_text(c, &f[H_TYPE], "tcp, http or https", buf, sizeof(buf));
		if (!ret && !strcmp(buf, "tcp"))
			hc->type = SL_HC_TCP;
		else if (!ret && !strcmp(buf, "http"))
			hc->type = SL_HC_HTTP;
		else if (!ret && !strcmp(buf, "https"))
			hc->type = SL_HC_HTTPS;
		else if (!ret)
			ret = cfg_err(c, &f[H_TYPE], "\"%s\" is not a check type (expected tcp, http or https)", buf);
	}
	if (!ret)
		ret = parse_health_tls(c, &f[H_TLS_VERIFY], &f[H_CA_FILE], hc);
	/* A key without a check to apply it to would be silently ignored. */
	if (!ret && hc->type == SL_HC_NONE &&
	    present(&f[H_PORT]) + present(&f[H_PATH]) + present(&f[H_EXPECT]) +
			    present(&f[H_INTERVAL]) + present(&f[H_TIMEOUT]) +
			    present(&f[H_RISE]) + present(&f[H_FALL]) +
			    present(&f[H_ON_DOWN]) >
		    0)
		ret = missing(c, v, &f[H_TYPE], "type: http");
	if (!ret && hc->type == SL_HC_TCP)
		ret = http_only(c, &f[H_PATH]) ?: http_only(c, &f[H_EXPECT]);
	if (!ret && present(&f[H_PORT])) {
		ret = get_u32(c, &f[H_PORT], 1, 65535, &n);
		hc->port = n;
	}
	if (!ret && present(&f[H_PATH])) {
		ret = get_text(c, &f[H_PATH], "an absolute path such as /health", buf, sizeof(buf));
		if (!ret && (buf[0] != '/' || strlen(buf) >= SL_HC_PATH_MAX || strpbrk(buf, " \r\n")))
			ret = cfg_err(c, &f[H_PATH], "\"%s\" is not a usable path (expected /something, no spaces, under %d characters)",
				      buf, SL_HC_PATH_MAX);
		if (!ret)
			strcpy(hc->path, buf);
	}
	if (!ret && present(&f[H_EXPECT])) {
		ret = get_u32(c, &f[H_EXPECT], 100, 599, &n);
		hc->expect_status = n;
	}
	if (!ret && present(&f[H_INTERVAL]))
		ret = get_duration(c, &f[H_INTERVAL], 100, 3600 * 1000ULL, &hc->interval_ms);
	if (!ret && present(&f[H_TIMEOUT]))
		ret = get_duration(c, &f[H_TIMEOUT], 10, 600 * 1000ULL, &hc->timeout_ms);
	if (!ret && present(&f[H_RISE]))
		ret = get_u32(c, &f[H_RISE], 1, 100, &hc->rise);
	if (!ret && present(&f[H_FALL]))
		ret = get_u32(c, &f[H_FALL], 1, 100, &hc->fall);
	if (!ret && present(&f[H_ON_DOWN])) {
		ret = get_text(c, &f[H_ON_DOWN], "keep or release", buf, sizeof(buf));
		if (!ret && !strcmp(buf, "keep"))
			hc->on_down = SL_HC_KEEP;
		else if (!ret && !strcmp(buf, "release"))
			hc->on_down = SL_HC_RELEASE;
		else if (!ret)
			ret = cfg_err(c, &f[H_ON_DOWN], "\"%s\" is not allowed (expected keep or release)", buf);
	}
	if (ret || hc->type == SL_HC_NONE)
		return ret;
	if (hc->timeout_ms > hc->interval_ms)
		return cfg_err(c, present(&f[H_TIMEOUT]) ? &f[H_TIMEOUT] : v,
			       "timeout must not exceed interval (a check finishes before the next starts)");
	if (!hc->port && !vport)
		return missing(c, v, &f[H_PORT], "port: 80 (the VIP takes every port, so the check needs one)");
	return 0;
}

/* agent_port: the backend's sluice-decap agent; 0 turns an inherited one off. */
static int parse_agent_port(struct ctx *c, const struct yval *v, struct sl_health_cfg *hc)
{
	__u32 n;
	int ret = get_u32(c, v, 0, 65535, &n);

	if (!ret)
		hc->agent_port = n;
	return ret;
}

/* name: valid (state.c says what a name is) and unique within the VIP. */
static int parse_backend_name(struct ctx *c, const struct yval *v, struct sl_cfg_vip *vip,
			      size_t idx)
{
	char *name = vip->backends[idx].name;
	char why[256];
	size_t i;
	int ret;

	ret = get_text(c, v, "a name such as web-1", name, sizeof(vip->backends[idx].name));
	if (ret)
		return ret;
	if (sl_be_name_check(name, why, sizeof(why)))
		return cfg_err(c, v, "%s", why);
	for (i = 0; i < idx; i++)
		if (!strcmp(vip->backends[i].name, name))
			return cfg_err(c, v, "\"%s\" already names backends[%zu] of this VIP "
				       "(names are unique per VIP)", name, i);
	return 0;
}

static int parse_backend(struct ctx *c, const struct yval *item, struct sl_cfg_vip *vip,
			 size_t idx, const char *vpath)
{
	static const char *const keys[] = { "address", "weight", "health_check", "name",
					    "agent_port" };
	struct sl_cfg_backend *be = &vip->backends[idx];
	struct yval f[ARRAY_SIZE(keys)];
	int ret;

	ret = collect(c, item, keys, ARRAY_SIZE(keys), f);
	if (ret)
		return ret;
	if (!present(&f[0]))
		return missing(c, item, &f[0], "address: 198.18.1.10");
	ret = get_addr(c, &f[0], 0, &be->addr, &be->family);
	if (!ret)
		ret = check_backend_addr(c, &f[0], vip, idx, vpath);
	be->weight = SL_CFG_DEF_WEIGHT;
	if (!ret && present(&f[1]))
		ret = get_u32(c, &f[1], 0, SL_CFG_WEIGHT_MAX, &be->weight);
	be->hc = vip->hc;
	if (!ret && present(&f[2]))
		ret = parse_health(c, &f[2], &be->hc, ntohs(vip->vip.port));
	if (!ret && present(&f[3]))
		ret = parse_backend_name(c, &f[3], vip, idx);
	if (!ret && present(&f[4]))
		ret = parse_agent_port(c, &f[4], &be->hc);
	return ret;
}

/* Limits checked before allocating: per VIP, across VIPs, and against the ring. */
static int check_backend_count(struct ctx *c, const struct yval *v, size_t n)
{
	struct yval item = { .key = v->key };
	void *it = NULL;
	size_t i, over;

	if (n > SLUICE_MAX_BACKENDS)
		return cfg_err(c, v, "%zu backends, at most %d per VIP", n, SLUICE_MAX_BACKENDS);
	if (c->total_backends + n > SLUICE_MAX_BACKENDS) {
		/* Point at the first backend past the limit. */
		over = SLUICE_MAX_BACKENDS - c->total_backends;
		for (i = 0; i <= over; i++)
			item.node = fy_node_sequence_iterate(v->node, &it);
		item_path(item.path, v->path, over);
		return cfg_err(c, &item, "too many backends in total (at most %d (VIP, backend) pairs across all VIPs)",
			       SLUICE_MAX_BACKENDS);
	}
	if (n > c->cfg->maglev_table_size)
		return cfg_err(c, v, "%zu backends do not fit a Maglev table of %u slots (raise maglev.table_size)",
			       n, c->cfg->maglev_table_size);
	return 0;
}

static int parse_backends(struct ctx *c, const struct yval *v, struct sl_cfg_vip *vip,
			  const char *vpath)
{
	struct yval item = { .key = v->key };
	void *it = NULL;
	size_t n;
	int ret;

	if (is_null(v->node))
		return 0;	/* a VIP may start empty; backends come via sluicectl */
	if (!fy_node_is_sequence(v->node))
		return cfg_err(c, v, "expected a list of backends, got %s", node_kind(v->node));
	n = fy_node_sequence_item_count(v->node);
	ret = check_backend_count(c, v, n);
	if (ret || !n)
		return ret;
	vip->backends = calloc(n, sizeof(*vip->backends));
	if (!vip->backends)
		return -ENOMEM;
	vip->n_backends = n;
	c->total_backends += n;
	for (n = 0; (item.node = fy_node_sequence_iterate(v->node, &it)); n++) {
		item_path(item.path, v->path, n);
		ret = first_err(ret, parse_backend(c, &item, vip, n, vpath));
		if (ret == -ENOMEM)
			return ret;
	}
	return ret;
}

static int parse_vip(struct ctx *c, const struct yval *item, size_t idx)
{
	static const char *const keys[] = { "vip", "backends", "health_check", "agent_port" };
	struct sl_cfg_vip *vip = &c->cfg->vips[idx];
	struct yval f[ARRAY_SIZE(keys)];
	char buf[SL_VIP_STR_MAX + 16], perr[256];
	size_t i;
	int ret;

	ret = collect(c, item, keys, ARRAY_SIZE(keys), f);
	if (ret)
		return ret;
	if (!present(&f[0]))
		return missing(c, item, &f[0], "vip: 198.18.0.100:80/tcp");
	ret = get_text(c, &f[0], "ADDR:PORT/tcp or ADDR:PORT/udp", buf, sizeof(buf));
	if (ret)
		return ret;
	if (sl_parse_vip(buf, &vip->vip, perr, sizeof(perr)))
		return cfg_err(c, &f[0], "%s", perr);
	for (i = 0; i < idx; i++) {
		if (memcmp(&c->cfg->vips[i].vip, &vip->vip, sizeof(vip->vip)))
			continue;
		sl_format_vip(&vip->vip, buf, sizeof(buf));
		return cfg_err(c, &f[0], "duplicate VIP %s (already defined as vips[%zu])", buf, i);
	}
	sl_health_cfg_defaults(&vip->hc);
	if (present(&f[2])) {
		ret = parse_health(c, &f[2], &vip->hc, ntohs(vip->vip.port));
		if (ret)
			return ret;
	}
	if (present(&f[3])) {
		ret = parse_agent_port(c, &f[3], &vip->hc);
		if (ret)
			return ret;
	}
	return parse_backends(c, &f[1], vip, item->path);
}

static int parse_vips(struct ctx *c, const struct yval *v)
{
	struct yval item = { .key = v->key };
	void *it = NULL;
	size_t n;
	int ret;

	if (is_null(v->node))
		return 0;
	if (!fy_node_is_sequence(v->node))
		return cfg_err(c, v, "expected a list of VIPs, got %s", node_kind(v->node));
	n = fy_node_sequence_item_count(v->node);
	if (n > SLUICE_MAX_VIPS) {
		for (n = 0; n <= SLUICE_MAX_VIPS; n++)
			item.node = fy_node_sequence_iterate(v->node, &it);
		item_path(item.path, v->path, SLUICE_MAX_VIPS);
		return cfg_err(c, &item, "too many VIPs (at most %d)", SLUICE_MAX_VIPS);
	}
	if (!n)
		return 0;
	/* sl_vip_spec has no padding, so zeroed entries compare with memcmp. */
	c->cfg->vips = calloc(n, sizeof(*c->cfg->vips));
	if (!c->cfg->vips)
		return -ENOMEM;
	c->cfg->n_vips = n;
	for (n = 0, ret = 0; (item.node = fy_node_sequence_iterate(v->node, &it)); n++) {
		item_path(item.path, v->path, n);
		ret = first_err(ret, parse_vip(c, &item, n));
		if (ret == -ENOMEM)
			return ret;
	}
	return first_err(ret, check_backends_not_vips(c, v));
}

/* --- top level --- */

static int parse_root(struct ctx *c, struct fy_node *root)
{
	static const char *const keys[] = {
		"instance", "interfaces", "encap",    "flows",
		"maglev",   "drain",	  "control",  "metrics",
		"paths",    "vips",	  "announce", "cluster",
	};
	enum {
		K_INST,
		K_IFACES,
		K_ENCAP,
		K_FLOWS,
		K_MAGLEV,
		K_DRAIN,
		K_CONTROL,
		K_METRICS,
		K_PATHS,
		K_VIPS,
		K_ANNOUNCE,
		K_CLUSTER
	};
	struct yval top = { .node = root };
	struct yval f[ARRAY_SIZE(keys)];
	int ret, deps;

	if (!fy_node_is_mapping(root))
		return cfg_err(c, &top, "the configuration must be a mapping of sections, got %s",
			       node_kind(root));
	ret = collect(c, &top, keys, ARRAY_SIZE(keys), f);

	/*
	 * Every section is checked, so one run reports every problem. Fixed
	 * order: paths derive from instance; vips need encap and maglev, and
	 * are skipped when encap failed (their errors would only echo it).
	 */
	ret = first_err(ret, parse_instance(c, &f[K_INST]));
	ret = first_err(ret, present(&f[K_IFACES]) ? parse_interfaces(c, &f[K_IFACES]) :
			missing(c, &top, &f[K_IFACES], "interfaces: [{name: eth0}]"));
	deps = parse_encap(c, &f[K_ENCAP]);
	ret = first_err(ret, deps);
	ret = first_err(ret, parse_flows(c, &f[K_FLOWS]));
	ret = first_err(ret, parse_maglev(c, &f[K_MAGLEV]));
	ret = first_err(ret, parse_drain(c, &f[K_DRAIN]));
	ret = first_err(ret, parse_control(c, &f[K_CONTROL]));
	ret = first_err(ret, parse_metrics(c, &f[K_METRICS]));
	ret = first_err(ret, parse_paths(c, &f[K_PATHS]));
	ret = first_err(ret, parse_announce(c, &f[K_ANNOUNCE]));
	ret = first_err(ret, parse_cluster(c, &f[K_CLUSTER]));
	if (present(&f[K_CLUSTER]) && present(&f[K_VIPS]) &&
	    !is_null(f[K_VIPS].node))
		return first_err(
			ret,
			cfg_err(c, &f[K_VIPS],
				"with cluster:, VIPs and backends "
				"come from etcd (%s/desired): remove vips: from this file",
				c->cfg->cluster_prefix));
	if (deps || ret == -ENOMEM)
		return ret;
	return first_err(ret, parse_vips(c, &f[K_VIPS]));
}

void sl_config_defaults(struct sl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->instance, SL_CFG_DEF_INSTANCE);
	cfg->flow_table_size = SLUICE_FLOWS_DEFAULT;
	cfg->new_table_size = SLUICE_NEW_FLOWS_DEFAULT;
	cfg->drain_table_size = SLUICE_DRAIN_TABLE_DEFAULT;
	cfg->tcp_idle_timeout_ms = SL_CFG_DEF_TCP_IDLE_MS;
	cfg->udp_idle_timeout_ms = SL_CFG_DEF_UDP_IDLE_MS;
	cfg->close_grace_ms = SL_CFG_DEF_CLOSE_GRACE_MS;
	cfg->close_linger_ms = SL_CFG_DEF_CLOSE_LINGER_MS;
	cfg->sweep_interval_ms = SL_CFG_DEF_SWEEP_MS;
	cfg->cluster_lease_ms = SL_CFG_DEF_LEASE_MS;
	strcpy(cfg->cluster_prefix, "/sluice");
	cfg->handshake_timeout_ms = SL_CFG_DEF_HANDSHAKE_MS;
	cfg->unconfirmed_timeout_ms = SL_CFG_DEF_UNCONFIRMED_MS;
	cfg->drain_check_interval_ms = SL_CFG_DEF_CHECK_MS;
	cfg->maglev_table_size = SLUICE_RING_SIZE_DEFAULT;
	cfg->maglev_seed = 0;
	cfg->drain_timeout_ms = SL_CFG_DEF_DRAIN_MS;
	cfg->metrics_enabled = true;
	cfg->metrics_family = SLUICE_AF_INET;
	cfg->metrics_addr.addr[0] = htonl(0x7f000001);	/* 127.0.0.1 */
	cfg->metrics_port = htons(SL_CFG_DEF_METRICS_PORT);
	derive_paths(cfg);
}

void sl_config_free(struct sl_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_vips; i++)
		free(cfg->vips[i].backends);
	free(cfg->vips);
	cfg->vips = NULL;
	cfg->n_vips = 0;
}

/* libfyaml prints diagnostics unless given somewhere else to put them. */
static void diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

/*
 * "vip: [fd00::1]:80/tcp" unquoted is a YAML flow list followed by junk,
 * and libfyaml's message for it does not say so: recognise the line.
 */
static const char *syntax_hint(FILE *fp, int line)
{
	const char *hint = "";
	char *text = NULL, *open;
	size_t cap = 0;
	int n;

	rewind(fp);
	for (n = 1; getline(&text, &cap, fp) >= 0; n++) {
		if (n != line)
			continue;
		open = strchr(text, '[');
		if (open && strstr(open, "]:"))
			hint = " (quote values that start with \"[\", e.g. vip: \"[fd00::100]:443/tcp\")";
		break;
	}
	free(text);
	return hint;
}

/* Why libfyaml gave no document: a collected syntax error, or nothing there. */
static int yaml_error(struct ctx *c, struct fy_diag *diag, FILE *fp)
{
	struct fy_diag_error *e;
	void *it = NULL;

	while ((e = fy_diag_errors_iterate(diag, &it))) {
		if (e->type < FYET_ERROR)
			continue;
		snprintf(c->err, c->errlen, "%s:%d:%d: invalid YAML: %s%s", c->file,
			 e->line, e->column, e->msg, syntax_hint(fp, e->line));
		return -EINVAL;
	}
	rewind(fp);
	if (fgetc(fp) == EOF)
		snprintf(c->err, c->errlen,
			 "%s: no configuration found (the file is empty; at least \"interfaces\" is required)",
			 c->file);
	else
		snprintf(c->err, c->errlen,
			 "%s: no YAML document found (expected a mapping with at least \"interfaces\")",
			 c->file);
	return -EINVAL;
}

#define CONFIG_MAX_BYTES	(4 << 20)

/* Length of the UTF-8 sequence starting at @p (of @n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (p[0] < 0x80)
		return p[0] ? 1 : 0;	/* NUL has no place in a config */
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * "? key" (an explicit key) first on its line, or after "{" / ",": never
 * needed in a sluiced config, and one form crashes libfyaml 0.7's error
 * path ("? A:\t:", found by the fuzzer).
 */
static bool explicit_key_at(const unsigned char *buf, size_t n, size_t off)
{
	size_t i = off;

	if (off + 1 < n && buf[off + 1] != ' ' && buf[off + 1] != '\t' &&
	    buf[off + 1] != '\n' && buf[off + 1] != '\r')
		return false;
	while (i > 0 && (buf[i - 1] == ' ' || buf[i - 1] == '\t'))
		i--;
	return i == 0 || buf[i - 1] == '\n' || buf[i - 1] == '\r' ||
	       buf[i - 1] == '{' || buf[i - 1] == ',' || buf[i - 1] == '-';
}

/*
 * Refuse what YAML forbids before the YAML library sees it: some invalid
 * byte sequences make libfyaml 0.7 loop forever or crash (found by
 * tests/fuzz/fuzz_config.c), and a config has no business being huge.
 */
static int check_bytes(struct ctx *c, FILE *fp)
{
	unsigned char *buf = malloc(CONFIG_MAX_BYTES + 1);
	size_t n, off, len;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	n = fread(buf, 1, CONFIG_MAX_BYTES + 1, fp);
	if (n > CONFIG_MAX_BYTES) {
		snprintf(c->err, c->errlen, "%s: larger than %d bytes: not a sluiced config",
			 c->file, CONFIG_MAX_BYTES);
		ret = -EFBIG;
	}
	for (off = 0; !ret && off < n; off += len) {
		if (buf[off] == '?' && explicit_key_at(buf, n, off)) {
			snprintf(c->err, c->errlen,
				 "%s: byte %zu: explicit keys (\"? \") are not supported in a sluiced config",
				 c->file, off);
			ret = -EINVAL;
			break;
		}
		len = utf8_len(buf + off, n - off);
		if (!len) {
			snprintf(c->err, c->errlen,
				 "%s: byte %zu: invalid UTF-8 or NUL (a YAML config must be UTF-8 text)",
				 c->file, off);
			ret = -EINVAL;
		}
	}
	free(buf);
	rewind(fp);
	return ret;
}

/* Open the file ourselves so a missing file gets its own errno and message. */
static FILE *open_config(struct ctx *c, int *ret)
{
	struct stat st;
	FILE *fp;

	fp = fopen(c->file, "r");
	if (!fp) {
		*ret = -errno;
		snprintf(c->err, c->errlen, "%s: cannot open: %s", c->file, strerror(-*ret));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(fp);
		*ret = -EISDIR;
		snprintf(c->err, c->errlen, "%s: cannot open: %s", c->file, strerror(EISDIR));
		return NULL;
	}
	return fp;
}

#define CONFIG_MAX_DEPTH	32
#define CONFIG_MAX_NODES	200000

/*
 * Count the nodes the document has once its aliases are expanded, against
 * a budget, before expanding them: a few hundred bytes of nested aliases
 * can otherwise expand to gigabytes (an "alias bomb", found by the
 * fuzzer). Nesting is bounded too. Returns false when over either limit.
 */
static bool within_budget(struct fy_node *n, int depth, size_t *nodes)
{
	struct fy_node_pair *p;
	void *it = NULL;

	if (!n)
		return true;
	if (++*nodes > CONFIG_MAX_NODES || depth > CONFIG_MAX_DEPTH)
		return false;
	if (fy_node_is_alias(n))
		return within_budget(fy_node_resolve_alias(n), depth + 1, nodes);
	if (fy_node_is_mapping(n)) {
		while ((p = fy_node_mapping_iterate(n, &it)))
			if (!within_budget(fy_node_pair_key(p), depth + 1, nodes) ||
			    !within_budget(fy_node_pair_value(p), depth + 1, nodes))
				return false;
	} else if (fy_node_is_sequence(n)) {
		struct fy_node *item;

		while ((item = fy_node_sequence_iterate(n, &it)))
			if (!within_budget(item, depth + 1, nodes))
				return false;
	}
	return true;
}

/* Check the unresolved tree, then expand aliases (anchors stay usable). */
static int resolve_bounded(struct ctx *c, struct fy_document *doc)
{
	size_t nodes = 0;

	if (!within_budget(fy_document_root(doc), 0, &nodes)) {
		snprintf(c->err, c->errlen,
			 "%s: too large once its aliases are expanded (over %d nodes or %d levels deep)",
			 c->file, CONFIG_MAX_NODES, CONFIG_MAX_DEPTH);
		return -EINVAL;
	}
	if (fy_document_resolve(doc)) {
		snprintf(c->err, c->errlen, "%s: cannot resolve its aliases (an alias to an undefined anchor?)",
			 c->file);
		return -EINVAL;
	}
	return 0;
}

/*
 * sluiced reads the first YAML document of a file; a second one (after a
 * `---`) would be silently ignored, so an operator's edits there would
 * never apply: refuse it, pointing at where it starts.
 */
static int check_one_document(struct ctx *c, struct fy_parser *fyp)
{
	struct fy_document *next = fy_parse_load_document(fyp);
	struct yval v = { 0 };
	int ret = 0;

	if (!next)
		return 0;
	v.node = fy_document_root(next);
	if (v.node)
		ret = cfg_err(c, &v, "a second YAML document starts here: sluiced reads one "
			      "document per file (remove the `---` line and what follows, "
			      "or merge it into the first document)");
	fy_parse_document_destroy(fyp, next);
	return ret;
}

static int load_document(struct ctx *c, FILE *fp)
{
	struct fy_parse_cfg pcfg = { .flags = FYPCF_QUIET };
	struct fy_diag_cfg dcfg;
	struct fy_document *doc;
	struct fy_parser *fyp;
	struct fy_diag *diag;
	int ret;

	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = diag_discard;
	diag = fy_diag_create(&dcfg);
	if (!diag)
		return -ENOMEM;
	/* Keep errors with their positions for our own message. */
	fy_diag_set_collect_errors(diag, true);
	pcfg.diag = diag;

	ret = check_bytes(c, fp);
	if (ret) {
		fy_diag_destroy(diag);
		return ret;
	}
	fyp = fy_parser_create(&pcfg);
	if (!fyp || fy_parser_set_input_fp(fyp, c->file, fp)) {
		if (fyp)
			fy_parser_destroy(fyp);
		fy_diag_destroy(diag);
		return -ENOMEM;
	}
	doc = fy_parse_load_document(fyp);
	if (!doc || !fy_document_root(doc))
		ret = yaml_error(c, diag, fp);
	else
		ret = resolve_bounded(c, doc) ?: parse_root(c, fy_document_root(doc));
	if (doc && ret != -ENOMEM)
		ret = first_err(ret, check_one_document(c, fyp));
	/* Problems reported without stopping (unknown keys) fail the load too. */
	if (!ret && c->n_errors)
		ret = -EINVAL;
	if (doc)
		fy_parse_document_destroy(fyp, doc);
	fy_parser_destroy(fyp);
	fy_diag_destroy(diag);
	return ret;
}

int sl_config_load(const char *path, struct sl_config *cfg, char *err, size_t errlen)
{
	char dummy[1];
	struct ctx c = {
		.file = path,
		.err = err && errlen ? err : dummy,
		.errlen = err && errlen ? errlen : sizeof(dummy),
		.cfg = cfg,
	};
	FILE *fp;
	int ret;

	sl_config_defaults(cfg);
	c.err[0] = '\0';
	fp = open_config(&c, &ret);
	if (!fp)
		return ret;
	ret = load_document(&c, fp);
	fclose(fp);
	if (ret == -ENOMEM)
		snprintf(c.err, c.errlen, "%s: out of memory", path);
	if (ret) {
		sl_config_free(cfg);
		sl_config_defaults(cfg);
	}
	return ret;
}
