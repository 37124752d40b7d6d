// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Control commands about the configuration: reload (the same worker as
 * SIGHUP; the reply waits for its outcome) and config.dump (the effective configuration
 * as a file sluiced accepts, and for `config diff` which of the settings it
 * leaves out differ from a file's).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_dump.h"
#include "ctl.h"
#include "ctl_ops.h"
#include "reload_worker.h"
#include "settings.h"

int sl_ctl_cmd_reload(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	json_object *v;
	bool exact = false;
	int rc;

	if (json_object_object_get_ex(req, SL_CTL_KEY_EXACT, &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return sl_ctl_fail(r, "EINVAL", NULL, "argument \"%s\" must be true or false",
					   SL_CTL_KEY_EXACT);
		exact = json_object_get_boolean(v);
	}
	/*
	 * Read off the main loop: the reply comes when the reload is done. A
	 * rejected reload is a result too: the reload ran and said no.
	 */
	rc = sl_reload_request_ctl(d, exact, &r->reload_gen);
	if (rc == -EBUSY)
		return sl_ctl_fail(r, "EBUSY", "run it again once the queued reload is over",
				   "a reload %s --exact is already queued behind the one running",
				   exact ? "without" : "with");
	if (rc)
		return sl_ctl_fail(r, "EAGAIN", NULL, "cannot start a reload thread: %s",
				   strerror(-rc));
	r->deferred = true;
	return 0;
}

/* One "compare" member: 1 differs, 0 same, -ENOENT or -EINVAL refused. */
static int compare_one(const struct sl_daemon *d, const char *name,
		       json_object *val, bool *running_set)
{
	if (!json_object_is_type(val, json_type_string))
		return -EINVAL;
	return sl_setting_undumped_differs(
		&d->cfg, name, json_object_get_string(val), running_set);
}

/*
 * Argument "compare" (setting name -> the file's text, the etcd credentials
 * the dump leaves out) into *@out: for each, whether the running one
 * differs and whether one is set. Nothing of either side is echoed, and
 * config.dump is never audited, so no log line carries the texts.
 */
static int compare_undumped(const struct sl_daemon *d, json_object *req,
			    json_object **out, struct sl_ctl_reply *r)
{
	json_object *cmp, *o;
	bool set = false;
	int rc;

	*out = NULL;
	if (!json_object_object_get_ex(req, SL_CTL_KEY_COMPARE, &cmp))
		return 0;
	if (!json_object_is_type(cmp, json_type_object))
		return sl_ctl_fail(
			r, "EINVAL", NULL,
			"argument \"%s\" must be an object of setting names and texts",
			SL_CTL_KEY_COMPARE);
	*out = json_object_new_object();
	json_object_object_foreach(cmp, name, val) {
		rc = compare_one(d, name, val, &set);
		if (rc < 0) {
			json_object_put(*out);
			*out = NULL;
			return sl_ctl_fail(
				r, "EINVAL",
				"only cluster.username and cluster.password are compared",
				"argument \"%s\": \"%.64s\" %s",
				SL_CTL_KEY_COMPARE, name,
				rc == -ENOENT ?
					"is not a setting config dump leaves out" :
					"must be a string");
		}
		o = json_object_new_object();
		json_object_object_add(o, SL_CTL_KEY_DIFFERS,
				       json_object_new_boolean(rc));
		json_object_object_add(o, SL_CTL_KEY_RUNNING_SET,
				       json_object_new_boolean(set));
		json_object_object_add(*out, name, o);
	}
	return 0;
}

int sl_ctl_cmd_config_dump(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	json_object *compared;
	char *text = NULL;
	int rc;

	if (compare_undumped(d, req, &compared, r))
		return -1;
	rc = sl_config_dump_str(&d->cfg, &d->st, &text);
	if (rc) {
		json_object_put(compared);
		return sl_ctl_fail(r, rc == -ENOMEM ? "ENOMEM" : "EIO", NULL,
				   "cannot dump the configuration: %s", strerror(-rc));
	}
	r->result = json_object_new_object();
	json_object_object_add(r->result, SL_CTL_KEY_YAML, json_object_new_string(text));
	if (compared)
		json_object_object_add(r->result, SL_CTL_KEY_COMPARED,
				       compared);
	free(text);
	return 0;
}
