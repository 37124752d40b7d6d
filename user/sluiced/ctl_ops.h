/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The operator commands of the control socket that live outside
 * control.c (reload, config.dump, backend.set, flows.list), and the
 * table fingerprints status and vip.list show. control.c's dispatch
 * falls through to sl_ctl_ops_find() for any command it does not serve.
 */
#ifndef SLUICED_CTL_OPS_H
#define SLUICED_CTL_OPS_H

#include <json-c/json.h>
#include <linux/types.h>

#include "daemon.h"

/* One reply: a result, or an error with an optional hint. */
struct sl_ctl_reply {
	json_object *result;
	char error[512];
	char hint[256];
	const char *errname;	/* set on error: "EINVAL", "ENOENT", ... */
	/* No reply yet: it comes once reload number @reload_gen is done. */
	bool deferred;
	__u64 reload_gen;
};

int sl_ctl_fail(struct sl_ctl_reply *r, const char *errname, const char *hint,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

typedef int (*sl_ctl_fn)(struct sl_daemon *d, json_object *req,
			 struct sl_ctl_reply *r);
/* The handler of @name, or NULL if it is not one of these commands. */
sl_ctl_fn sl_ctl_ops_find(const char *name);

/* Request arguments, validated, with an error reply on failure (-1). */
int sl_ctl_arg_vip(json_object *req, struct sl_vip_spec *vip, struct sl_ctl_reply *r);
/*
 * "backend": an address, or with @d a backend's name, looked up on @vip
 * (NULL: on every VIP). Without @d (adding a backend) only an address.
 */
int sl_ctl_arg_backend(const struct sl_daemon *d, json_object *req,
		       const struct sl_vip_spec *vip, struct sluice_addr *addr,
		       __u8 *family, struct sl_ctl_reply *r);
int sl_ctl_arg_u64(json_object *req, const char *key, __u64 min, __u64 max,
		   __u64 *out, struct sl_ctl_reply *r);
const char *sl_ctl_arg_str(json_object *req, const char *key);

/* A VIP id's live table fingerprint as 16 hex digits; null if unknown. */
json_object *sl_ctl_fingerprint(const struct sl_daemon *d, __u32 vip_id);
/* [{vip, fingerprint}] for status. */
json_object *sl_ctl_tables(const struct sl_daemon *d);

/* Optional arguments: 0 when absent or valid, -1 with an error reply. */
bool sl_ctl_has_arg(json_object *req, const char *key);
int sl_ctl_opt_bool(json_object *req, const char *key, bool *out, struct sl_ctl_reply *r);
/* "ENOENT" for ENOENT, ...: the reply's errno name for an -errno. */
const char *sl_ctl_errno_name(int err);

/* ctl_read.c: a VIP and a backend as text, one backend's status row. */
void sl_ctl_fmt_vip(const struct sl_vip *v, char *buf);
void sl_ctl_fmt_be(const struct sl_be *b, char *buf);
json_object *sl_ctl_be_status_row(struct sl_daemon *d, const struct sl_vip *v,
				  const struct sl_be *b);

/* The commands (names in the table of ctl_ops.c). */
int sl_ctl_cmd_status(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_vip_list(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_backend_list(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_vip_add(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_vip_del(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_be_add(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_be_del(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_drain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_undrain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_be_status(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_box_drain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_box_undrain(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_reload(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_config_dump(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);
int sl_ctl_cmd_flows(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r);

#endif /* SLUICED_CTL_OPS_H */
