// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* etcd v3 through its JSON gateway (etcd.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "etcd.h"
#include "json_get.h"

/* ---- base64 ------------------------------------------------------------ */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *sl_b64_encode(const void *src, size_t len)
{
	const unsigned char *s = src;
	char *out = malloc(4 * ((len + 2) / 3) + 1), *p = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		*p++ = b64[s[i] >> 2];
		*p++ = b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		*p++ = b64[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		*p++ = b64[s[i + 2] & 63];
	}
	if (i < len) {
		*p++ = b64[s[i] >> 2];
		if (i + 1 < len) {
			*p++ = b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
			*p++ = b64[(s[i + 1] & 15) << 2];
		} else {
			*p++ = b64[(s[i] & 3) << 4];
			*p++ = '=';
		}
		*p++ = '=';
	}
	*p = '\0';
	return out;
}

char *sl_b64_decode(const char *src, size_t *len)
{
	size_t n = strlen(src), i, o = 0;
	unsigned int acc = 0, bits = 0;
	char *out;

	if (n % 4)
		return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *c = src[i] ? strchr(b64, src[i]) : NULL;

		if (src[i] == '=' && i >= n - 2) {
			if (i == n - 2 && src[n - 1] != '=')
				goto bad;
			break;
		}
		if (!c)
			goto bad;
		acc = (acc << 6) | (unsigned int)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
bad:
	free(out);
	return NULL;
}

/* ---- endpoints and setup ------------------------------------------------ */

int sl_etcd_parse_endpoints(const char *list, struct sl_etcd_opts *o, char *err,
			    size_t errlen)
{
	const char *p = list, *end;
	size_t n;

	o->n_endpoints = 0;
	while (*p) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (o->n_endpoints == SL_ETCD_MAX_EP || n >= SL_ETCD_URL_MAX ||
		    !((n > 7 && !strncmp(p, "http://", 7)) ||
		      (n > 8 && !strncmp(p, "https://", 8)))) {
			snprintf(
				err, errlen,
				"etcd endpoint \"%.*s\": expected http://HOST:PORT "
				"or https://HOST:PORT, at most %d, comma-separated",
				(int)(n > 200 ? 200 : n), p, SL_ETCD_MAX_EP);
			return -EINVAL;
		}
		memcpy(o->endpoints[o->n_endpoints], p, n);
		o->endpoints[o->n_endpoints][n] = '\0';
		o->n_endpoints++;
		p += n + (end ? 1 : 0);
	}
	if (!o->n_endpoints) {
		snprintf(
			err, errlen,
			"no etcd endpoint given (e.g. http://198.18.0.1:2379)");
		return -EINVAL;
	}
	return 0;
}

int sl_etcd_init(struct sl_etcd *e, const struct sl_etcd_opts *o)
{
	memset(e, 0, sizeof(*e));
	e->o = *o;
	e->curl = curl_easy_init();
	return e->curl ? 0 : -ENOMEM;
}

void sl_etcd_free(struct sl_etcd *e)
{
	if (e->curl)
		curl_easy_cleanup(e->curl);
	e->curl = NULL;
}

/* ---- one request ---------------------------------------------------------- */

struct buf {
	char *p;
	size_t len;
};

static size_t on_body(char *data, size_t sz, size_t n, void *ctx)
{
	struct buf *b = ctx;
	char *np;

	if (b->len + sz * n > 4 * 1024 * 1024)
		return 0; /* no etcd reply we read is that large */
	np = realloc(b->p, b->len + sz * n + 1);
	if (!np)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, data, sz * n);
	b->len += sz * n;
	b->p[b->len] = '\0';
	return sz * n;
}

static struct curl_slist *setup(struct sl_etcd *e, CURL *c, const char *path,
				const char *body, long timeout_ms)
{
	struct curl_slist *hdr =
		curl_slist_append(NULL, "Content-Type: application/json");
	char url[SL_ETCD_URL_MAX + 64], auth[600];

	snprintf(url, sizeof(url), "%s%s", e->o.endpoints[e->cur], path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (e->o.ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, e->o.ca_file);
	if (e->o.cert_file[0])
		curl_easy_setopt(c, CURLOPT_SSLCERT, e->o.cert_file);
	if (e->o.key_file[0])
		curl_easy_setopt(c, CURLOPT_SSLKEY, e->o.key_file);
	if (e->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: %s", e->token);
		hdr = curl_slist_append(hdr, auth);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	return hdr;
}

/* The gateway's error reply: {"error": ..., "code": N, "message": ...}. */
static int gw_error(struct sl_etcd *e, long status, json_object *r)
{
	json_object *m = NULL, *code = NULL;
	int c;

	json_object_object_get_ex(r, "message", &m);
	json_object_object_get_ex(r, "code", &code);
	c = code ? json_object_get_int(code) : 0;
	snprintf(e->err, sizeof(e->err), "etcd %s: HTTP %ld: %.300s",
		 e->o.endpoints[e->cur], status,
		 m ? json_object_get_string(m) : "(no message)");
	/* gRPC codes: 7 permission denied, 16 unauthenticated; a bad or
	 * missing password comes as 3 (invalid argument) with this text. */
	if (c == 7 || c == 16 || status == 401 || status == 403 ||
	    (m && (strstr(json_object_get_string(m), "authentication failed") ||
		   strstr(json_object_get_string(m), "user name is empty"))))
		return -EACCES;
	return -EPROTO;
}

/*
 * A failed transfer: -ENOKEY when TLS failed (a CA that does not sign the
 * server, a client certificate missing or refused: the server's alert
 * arrives on the first read under TLS 1.3), else -EIO (unreachable).
 */
static int transport_error(struct sl_etcd *e, CURLcode cc, const char *detail)
{
	bool https = !strncmp(e->o.endpoints[e->cur], "https://", 8);
	bool io = cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR;
	/* Dropped right after the handshake, and we showed no certificate. */
	bool no_cert = https && io && !e->o.cert_file[0];
	bool tls = cc == CURLE_SSL_CONNECT_ERROR ||
		   cc == CURLE_PEER_FAILED_VERIFICATION ||
		   cc == CURLE_SSL_CERTPROBLEM ||
		   cc == CURLE_SSL_CACERT_BADFILE ||
		   cc == CURLE_SSL_ISSUER_ERROR ||
		   (https && io && strstr(detail, "alert")) || no_cert;

	snprintf(e->err, sizeof(e->err), "etcd %s: %s%s%s%.200s",
		 e->o.endpoints[e->cur],
		 tls ? "TLS failed: " : curl_easy_strerror(cc),
		 no_cert ?
			 "etcd closed the connection and no client "
			 "certificate is configured (does it require one?): " :
			 "",
		 tls || !detail[0] ? "" : ": ",
		 detail[0] ? detail : (tls ? curl_easy_strerror(cc) : ""));
	return tls ? -ENOKEY : -EIO;
}

/* POST @body to @path on the current endpoint; *reply: the parsed JSON. */
static int post_one(struct sl_etcd *e, const char *path, const char *body,
		    json_object **reply)
{
	char detail[CURL_ERROR_SIZE] = "";
	struct buf b = { 0 };
	struct curl_slist *hdr;
	CURLcode cc;
	long status = 0;
	int rc = 0;

	curl_easy_reset(e->curl);
	hdr = setup(e, e->curl, path, body, SL_ETCD_CALL_MS);
	curl_easy_setopt(e->curl, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &b);
	cc = curl_easy_perform(e->curl);
	curl_slist_free_all(hdr);
	curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
	*reply = NULL;
	if (cc != CURLE_OK) {
		rc = transport_error(e, cc, detail);
	} else if (!(*reply = b.p ? json_tokener_parse(b.p) : NULL)) {
		snprintf(e->err, sizeof(e->err),
			 "etcd %s: HTTP %ld with a reply that is not "
			 "JSON (is this etcd's client port?)",
			 e->o.endpoints[e->cur], status);
		rc = -EPROTO;
	} else if (status != 200) {
		rc = gw_error(e, status, *reply);
		json_object_put(*reply);
		*reply = NULL;
	}
	free(b.p);
	return rc;
}

static int authenticate(struct sl_etcd *e)
{
	json_object *req = json_object_new_object(), *r = NULL, *t;
	int rc;

	e->token[0] = '\0';
	json_object_object_add(req, "name",
			       json_object_new_string(e->o.username));
	json_object_object_add(req, "password",
			       json_object_new_string(e->o.password));
	rc = post_one(e, "/v3/auth/authenticate",
		      json_object_to_json_string(req), &r);
	json_object_put(req);
	if (!rc && json_object_object_get_ex(r, "token", &t))
		snprintf(e->token, sizeof(e->token), "%s",
			 json_object_get_string(t));
	else if (!rc)
		rc = -EPROTO;
	json_object_put(r);
	return rc;
}

/*
 * One call with failover: each endpoint once, in turn from the one in use;
 * a refused token is renewed once.
 */
static int call(struct sl_etcd *e, const char *path, json_object *req,
		json_object **reply)
{
	const char *body =
		json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	size_t tries;
	int rc = -EIO;

	for (tries = 0; tries < e->o.n_endpoints; tries++) {
		if (e->o.username[0] && !e->token[0])
			rc = authenticate(e);
		else
			rc = 0;
		if (!rc)
			rc = post_one(e, path, body, reply);
		if (rc == -EACCES && e->o.username[0] && e->token[0]) {
			rc = authenticate(e);
			if (!rc)
				rc = post_one(e, path, body, reply);
		}
		if (rc != -EIO && rc != -ENOKEY) /* another endpoint may do */
			break;
		e->cur = (e->cur + 1) % e->o.n_endpoints;
		e->token[0] = '\0';
	}
	json_object_put(req);
	return rc;
}

/* ---- kv and leases ------------------------------------------------------ */

static int64_t header_rev(json_object *r)
{
	json_object *h;

	return json_object_object_get_ex(r, "header", &h) ?
		       sl_json_i64(h, "revision") :
		       0;
}

static void add_b64(json_object *o, const char *name, const void *p, size_t len)
{
	char *s = sl_b64_encode(p, len);

	json_object_object_add(o, name, json_object_new_string(s ? s : ""));
	free(s);
}

/* A kv's field decoded, or "" when absent. */
static char *kv_field(json_object *kv, const char *name, size_t *len)
{
	json_object *v;

	if (!json_object_object_get_ex(kv, name, &v)) {
		*len = 0;
		return strdup("");
	}
	return sl_b64_decode(json_object_get_string(v), len);
}

int sl_etcd_get(struct sl_etcd *e, const char *key, char **val, size_t *len,
		int64_t *mod_rev, int64_t *rev)
{
	json_object *req = json_object_new_object(), *r, *kvs, *kv;
	int rc;

	add_b64(req, "key", key, strlen(key));
	rc = call(e, "/v3/kv/range", req, &r);
	if (rc)
		return rc;
	*rev = header_rev(r);
	if (!json_object_object_get_ex(r, "kvs", &kvs) ||
	    !json_object_array_length(kvs)) {
		snprintf(e->err, sizeof(e->err), "etcd has no key %.300s", key);
		json_object_put(r);
		return -ENOENT;
	}
	kv = json_object_array_get_idx(kvs, 0);
	*mod_rev = sl_json_i64(kv, "mod_revision");
	*val = kv_field(kv, "value", len);
	json_object_put(r);
	if (!*val) {
		snprintf(e->err, sizeof(e->err),
			 "etcd returned bad base64 for %.300s", key);
		return -EPROTO;
	}
	return 0;
}

/* The end of the range of keys starting with @p: its last byte plus one. */
static void add_prefix_range(json_object *req, const char *p)
{
	size_t n = strlen(p);
	char *end = strdup(p);

	add_b64(req, "key", p, n);
	if (end && n) {
		end[n - 1]++;
		add_b64(req, "range_end", end, n);
	}
	free(end);
}

int sl_etcd_get_prefix(struct sl_etcd *e, const char *prefix, json_object **out,
		       int64_t *rev)
{
	json_object *req = json_object_new_object(), *r, *kvs;
	size_t i, len;
	int rc;

	add_prefix_range(req, prefix);
	rc = call(e, "/v3/kv/range", req, &r);
	if (rc)
		return rc;
	*rev = header_rev(r);
	*out = json_object_new_array();
	if (json_object_object_get_ex(r, "kvs", &kvs)) {
		for (i = 0; i < json_object_array_length(kvs); i++) {
			json_object *kv = json_object_array_get_idx(kvs, i);
			json_object *o = json_object_new_object();
			char *k = kv_field(kv, "key", &len),
			     *v = kv_field(kv, "value", &len);

			json_object_object_add(
				o, "key", json_object_new_string(k ? k : ""));
			json_object_object_add(
				o, "value", json_object_new_string(v ? v : ""));
			json_object_array_add(*out, o);
			free(k);
			free(v);
		}
	}
	json_object_put(r);
	return 0;
}

static json_object *put_req(const char *key, const char *val, int64_t lease)
{
	json_object *req = json_object_new_object();

	add_b64(req, "key", key, strlen(key));
	add_b64(req, "value", val, strlen(val));
	if (lease)
		json_object_object_add(req, "lease",
				       json_object_new_int64(lease));
	return req;
}

int sl_etcd_put(struct sl_etcd *e, const char *key, const char *val,
		int64_t lease, int64_t *rev)
{
	json_object *r;
	int rc = call(e, "/v3/kv/put", put_req(key, val, lease), &r);

	if (!rc && rev)
		*rev = header_rev(r);
	json_object_put(r);
	return rc;
}

/* A one-key compare (@target: "MOD" or "CREATE", against @rev) for a txn. */
static json_object *txn_req(const char *key, const char *target, int64_t rev,
			    json_object *success_op, json_object *failure_op)
{
	json_object *req = json_object_new_object(),
		    *cmp = json_object_new_object();
	json_object *cmps = json_object_new_array(),
		    *ops = json_object_new_array();
	char field[32];

	snprintf(field, sizeof(field), "%s_revision",
		 !strcmp(target, "MOD") ? "mod" : "create");
	add_b64(cmp, "key", key, strlen(key));
	json_object_object_add(cmp, "target", json_object_new_string(target));
	json_object_object_add(cmp, "result", json_object_new_string("EQUAL"));
	json_object_object_add(cmp, field, json_object_new_int64(rev));
	json_object_array_add(cmps, cmp);
	json_object_array_add(ops, success_op);
	json_object_object_add(req, "compare", cmps);
	json_object_object_add(req, "success", ops);
	if (failure_op) {
		ops = json_object_new_array();
		json_object_array_add(ops, failure_op);
		json_object_object_add(req, "failure", ops);
	}
	return req;
}

static json_object *op_of(const char *name, json_object *req)
{
	json_object *op = json_object_new_object();

	json_object_object_add(op, name, req);
	return op;
}

static bool txn_succeeded(json_object *r)
{
	json_object *ok;

	return json_object_object_get_ex(r, "succeeded", &ok) &&
	       json_object_get_boolean(ok);
}

int sl_etcd_put_if(struct sl_etcd *e, const char *key, const char *val,
		   int64_t lease, int64_t mod_rev, int64_t *rev)
{
	json_object *r;
	int rc;

	rc = call(e, "/v3/kv/txn",
		  txn_req(key, "MOD", mod_rev,
			  op_of("request_put", put_req(key, val, lease)), NULL),
		  &r);
	if (rc)
		return rc;
	if (!txn_succeeded(r)) {
		snprintf(e->err, sizeof(e->err), "%.300s changed meanwhile",
			 key);
		rc = -EAGAIN;
	} else if (rev) {
		*rev = header_rev(r);
	}
	json_object_put(r);
	return rc;
}

/* The failure branch's range reply: the key as it is. */
static void holder_of(json_object *r, struct sl_etcd_kv *cur)
{
	json_object *res, *rr, *kvs, *kv;
	size_t len;

	if (!json_object_object_get_ex(r, "responses", &res) ||
	    !json_object_object_get_ex(json_object_array_get_idx(res, 0),
				       "response_range", &rr) ||
	    !json_object_object_get_ex(rr, "kvs", &kvs) ||
	    !(kv = json_object_array_get_idx(kvs, 0)))
		return;
	cur->mod_rev = sl_json_i64(kv, "mod_revision");
	cur->lease = sl_json_i64(kv, "lease");
	cur->value = kv_field(kv, "value", &len);
}

int sl_etcd_put_new(struct sl_etcd *e, const char *key, const char *val,
		    int64_t lease, struct sl_etcd_kv *cur)
{
	json_object *range = json_object_new_object(), *r;
	int rc;

	memset(cur, 0, sizeof(*cur));
	add_b64(range, "key", key, strlen(key));
	rc = call(e, "/v3/kv/txn",
		  txn_req(key, "CREATE", 0,
			  op_of("request_put", put_req(key, val, lease)),
			  op_of("request_range", range)),
		  &r);
	if (rc)
		return rc;
	if (!txn_succeeded(r)) {
		holder_of(r, cur);
		snprintf(e->err, sizeof(e->err), "%.300s exists", key);
		rc = -EEXIST;
	}
	json_object_put(r);
	return rc;
}

int sl_etcd_del(struct sl_etcd *e, const char *key)
{
	json_object *req = json_object_new_object(), *r;
	int rc;

	add_b64(req, "key", key, strlen(key));
	rc = call(e, "/v3/kv/deleterange", req, &r);
	json_object_put(r);
	return rc;
}

int sl_etcd_lease_grant(struct sl_etcd *e, int64_t ttl_s, int64_t *id)
{
	json_object *req = json_object_new_object(), *r;
	int rc;

	json_object_object_add(req, "TTL", json_object_new_int64(ttl_s));
	rc = call(e, "/v3/lease/grant", req, &r);
	if (rc)
		return rc;
	*id = sl_json_i64(r, "ID");
	json_object_put(r);
	return *id ? 0 : -EPROTO;
}

int sl_etcd_lease_keepalive(struct sl_etcd *e, int64_t id, int64_t *ttl)
{
	json_object *req = json_object_new_object(), *r, *res;
	int rc;

	json_object_object_add(req, "ID", json_object_new_int64(id));
	rc = call(e, "/v3/lease/keepalive", req, &r);
	if (rc)
		return rc;
	/* One streamed message: {"result": {"ID": ..., "TTL": ...}}; no TTL = gone. */
	*ttl = json_object_object_get_ex(r, "result", &res) ?
		       sl_json_i64(res, "TTL") :
		       0;
	json_object_put(r);
	return 0;
}

int sl_etcd_lease_revoke(struct sl_etcd *e, int64_t id)
{
	json_object *req = json_object_new_object(), *r;
	int rc;

	json_object_object_add(req, "ID", json_object_new_int64(id));
	rc = call(e, "/v3/lease/revoke", req, &r);
	json_object_put(r);
	return rc;
}

/* ---- watch -------------------------------------------------------------- */

struct sl_etcd_watch {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *hdr;
	char *body;
	struct buf in; /* bytes not yet split into messages */
	bool ended;
};

struct sl_etcd_watch *sl_etcd_watch_start(struct sl_etcd *e, const char *key,
					  int64_t start_rev)
{
	struct sl_etcd_watch *w = calloc(1, sizeof(*w));
	json_object *req = json_object_new_object(),
		    *cr = json_object_new_object();

	add_b64(cr, "key", key, strlen(key));
	json_object_object_add(cr, "start_revision",
			       json_object_new_int64(start_rev));
	json_object_object_add(req, "create_request", cr);
	if (w)
		w->body = strdup(json_object_to_json_string_ext(
			req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	if (!w || !w->body ||
	    (e->o.username[0] && !e->token[0] && authenticate(e)))
		goto fail;
	w->multi = curl_multi_init();
	w->easy = curl_easy_init();
	if (!w->multi || !w->easy)
		goto fail;
	w->hdr = setup(e, w->easy, "/v3/watch", w->body, 0);
	curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, &w->in);
	/* A stalled stream shows as no bytes for this long (etcd sends progress). */
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_multi_add_handle(w->multi, w->easy);
	return w;
fail:
	sl_etcd_watch_stop(w);
	return NULL;
}

/* One streamed message: {"result": {"events": [...], "canceled": ...}}. */
static int watch_message(const char *line, sl_etcd_watch_fn fn, void *ctx)
{
	json_object *m = json_tokener_parse(line), *res, *evs, *x;
	size_t i, len;
	int rc = 0;

	if (!m || !json_object_object_get_ex(m, "result", &res)) {
		json_object_put(m);
		return -EIO; /* an error message: the stream is over */
	}
	if (json_object_object_get_ex(res, "canceled", &x) &&
	    json_object_get_boolean(x))
		rc = -EIO;
	if (json_object_object_get_ex(res, "events", &evs)) {
		for (i = 0; i < json_object_array_length(evs); i++) {
			json_object *ev = json_object_array_get_idx(evs, i),
				    *kv, *t;
			bool del = json_object_object_get_ex(ev, "type", &t) &&
				   !strcmp(json_object_get_string(t), "DELETE");
			char *v;

			if (!json_object_object_get_ex(ev, "kv", &kv))
				continue;
			v = kv_field(kv, "value", &len);
			if (v)
				fn(ctx, v, len, sl_json_i64(kv, "mod_revision"),
				   del);
			free(v);
		}
	}
	json_object_put(m);
	return rc;
}

int sl_etcd_watch_poll(struct sl_etcd_watch *w, int timeout_ms,
		       sl_etcd_watch_fn fn, void *ctx)
{
	int running = 0, left;
	CURLMsg *msg;
	char *nl;

	if (w->ended)
		return -EIO;
	curl_multi_poll(w->multi, NULL, 0, timeout_ms, NULL);
	curl_multi_perform(w->multi, &running);
	while ((msg = curl_multi_info_read(w->multi, &left)))
		if (msg->msg == CURLMSG_DONE)
			w->ended = true;
	/* The gateway ends each message with a newline. */
	while (w->in.p && (nl = memchr(w->in.p, '\n', w->in.len))) {
		size_t n = (size_t)(nl - w->in.p) + 1;

		*nl = '\0';
		if (watch_message(w->in.p, fn, ctx))
			w->ended = true;
		memmove(w->in.p, w->in.p + n, w->in.len - n + 1);
		w->in.len -= n;
	}
	if (!running)
		w->ended = true;
	return w->ended ? -EIO : 0;
}

void sl_etcd_watch_stop(struct sl_etcd_watch *w)
{
	if (!w)
		return;
	if (w->multi && w->easy)
		curl_multi_remove_handle(w->multi, w->easy);
	if (w->easy)
		curl_easy_cleanup(w->easy);
	if (w->multi)
		curl_multi_cleanup(w->multi);
	curl_slist_free_all(w->hdr);
	free(w->body);
	free(w->in.p);
	free(w);
}
