// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Control commands about the configuration: reload (the same worker as
 * SIGHUP; the reply waits for its outcome) and config.dump (the effective configuration
 * as a file sluiced accepts).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_dump.h"
#include "ctl.h"
#include "ctl_ops.h"
#include "reload_worker.h"

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

int sl_ctl_cmd_config_dump(struct sl_daemon *d, json_object *req, struct sl_ctl_reply *r)
{
	char *text = NULL;
	int rc;

	(void)req;
	rc = sl_config_dump_str(&d->cfg, &d->st, &text);
	if (rc)
		return sl_ctl_fail(r, rc == -ENOMEM ? "ENOMEM" : "EIO", NULL,
				   "cannot dump the configuration: %s", strerror(-rc));
	r->result = json_object_new_object();
	json_object_object_add(r->result, SL_CTL_KEY_YAML, json_object_new_string(text));
	free(text);
	return 0;
}
