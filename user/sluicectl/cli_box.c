// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* sluicectl box drain|undrain: what this box announces now. */
#include <stdio.h>
#include <json-c/json.h>

#include "cli.h"

void sl_cli_print_box(const struct sl_cli_io *io, const struct sl_cli_cmd *cmd,
		      struct json_object *result)
{
	json_object *o, *arr;
	size_t i, n;

	(void)cmd;
	if (!json_object_object_get_ex(result, "enabled", &o) || !json_object_get_boolean(o)) {
		fprintf(io->out, "box %s; announcements are off (no announce: section)\n",
			json_object_object_get_ex(result, "box_drained", &o) &&
			json_object_get_boolean(o) ? "drained" : "not drained");
		return;
	}
	json_object_object_get_ex(result, "box_drained", &o);
	fprintf(io->out, "box %s; announced:", json_object_get_boolean(o) ?
		"drained" : "active");
	json_object_object_get_ex(result, "announced", &arr);
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++)
		fprintf(io->out, " %s", json_object_get_string(json_object_array_get_idx(arr, i)));
	fprintf(io->out, "%s\n", n ? "" : " nothing");
}
