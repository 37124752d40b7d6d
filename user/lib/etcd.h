/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small etcd v3 client over etcd's JSON gateway (POST /v3/kv/range,
 * /v3/kv/put, /v3/kv/txn, /v3/lease/..., /v3/watch; keys and values
 * base64), with libcurl and json-c. Blocking calls, each bounded in time;
 * one struct sl_etcd per thread. Endpoints are tried in turn: a call that
 * cannot reach one moves to the next. With a username, a token is fetched
 * (/v3/auth/authenticate) and renewed when etcd refuses it.
 */
#ifndef SLUICE_ETCD_H
#define SLUICE_ETCD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define SL_ETCD_MAX_EP 8
#define SL_ETCD_URL_MAX 256
#define SL_ETCD_USER_MAX 64
#define SL_ETCD_PASS_MAX 128
#define SL_ETCD_CALL_MS 3000 /* one request; a dead endpoint costs this */

struct sl_etcd_opts {
	char endpoints[SL_ETCD_MAX_EP][SL_ETCD_URL_MAX]; /* http(s)://HOST:PORT */
	size_t n_endpoints;
	char ca_file[PATH_MAX], cert_file[PATH_MAX],
		key_file[PATH_MAX]; /* "": none */
	char username[SL_ETCD_USER_MAX],
		password[SL_ETCD_PASS_MAX]; /* "": no auth */
};

struct sl_etcd {
	struct sl_etcd_opts o;
	size_t cur; /* the endpoint in use */
	char token[512]; /* "": none yet */
	void *curl;
	char err[512]; /* why the last call failed */
};

/*
 * "http://198.18.0.1:2379,https://[fd00::1]:2379" into @o. 0, or -EINVAL
 * with @err naming the bad part.
 */
int sl_etcd_parse_endpoints(const char *list, struct sl_etcd_opts *o, char *err,
			    size_t errlen);

int sl_etcd_init(struct sl_etcd *e, const struct sl_etcd_opts *o);
void sl_etcd_free(struct sl_etcd *e);

/*
 * Every call returns 0 or -errno, with e->err saying why: -EIO when no
 * endpoint answered, -EPROTO for a reply it cannot read, -EACCES when
 * etcd refused the credentials or the permission, -ENOKEY when TLS failed
 * (wrong CA, client certificate missing or refused).
 */
/* @key's value (malloc'd, NUL-terminated) and its mod revision; -ENOENT when absent. */
int sl_etcd_get(struct sl_etcd *e, const char *key, char **val, size_t *len,
		int64_t *mod_rev, int64_t *rev);
/* Every key under @prefix: *kvs = [{"key": ..., "value": ...}] (decoded). */
int sl_etcd_get_prefix(struct sl_etcd *e, const char *prefix, json_object **kvs,
		       int64_t *rev);
/* Put @val under @lease (0: none); *rev gets the revision it made (may be NULL). */
int sl_etcd_put(struct sl_etcd *e, const char *key, const char *val,
		int64_t lease, int64_t *rev);
/*
 * Put (under @lease, 0: none) only if @key's mod revision is still
 * @mod_rev (0: absent); -EAGAIN otherwise.
 */
int sl_etcd_put_if(struct sl_etcd *e, const char *key, const char *val,
		   int64_t lease, int64_t mod_rev, int64_t *rev);

/* A key as it is: its value (malloc'd; NULL if none), mod revision, lease. */
struct sl_etcd_kv {
	char *value;
	int64_t mod_rev, lease;
};
/*
 * Put @key under @lease only if it does not exist; -EEXIST otherwise, with
 * *cur the key as it is (the caller frees cur->value).
 */
int sl_etcd_put_new(struct sl_etcd *e, const char *key, const char *val,
		    int64_t lease, struct sl_etcd_kv *cur);
int sl_etcd_del(struct sl_etcd *e, const char *key);
int sl_etcd_lease_grant(struct sl_etcd *e, int64_t ttl_s, int64_t *id);
/* *ttl 0: the lease is gone (expired or revoked). */
int sl_etcd_lease_keepalive(struct sl_etcd *e, int64_t id, int64_t *ttl);
int sl_etcd_lease_revoke(struct sl_etcd *e, int64_t id);

/* A watch on one key: a streaming POST /v3/watch driven by curl's multi API. */
struct sl_etcd_watch;
typedef void (*sl_etcd_watch_fn)(void *ctx, const char *val, size_t len,
				 int64_t mod_rev, bool deleted);
struct sl_etcd_watch *sl_etcd_watch_start(struct sl_etcd *e, const char *key,
					  int64_t start_rev);
/*
 * Wait up to @timeout_ms for events and hand each to @fn. 0 while the
 * watch lives, -EIO once it ended (etcd gone, compacted, canceled).
 */
int sl_etcd_watch_poll(struct sl_etcd_watch *w, int timeout_ms,
		       sl_etcd_watch_fn fn, void *ctx);
void sl_etcd_watch_stop(struct sl_etcd_watch *w);

/* base64 (RFC 4648) as etcd's gateway writes bytes; exposed for tests. */
char *sl_b64_encode(const void *src, size_t len);
/* NUL-terminated result; NULL on bad input. */
char *sl_b64_decode(const char *src, size_t *len);

#endif /* SLUICE_ETCD_H */
