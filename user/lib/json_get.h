/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading one member of a JSON object that may lack it: sluiced's replies
 * to sluicectl, the boxes' reports and etcd's gateway answers all omit
 * members freely, and every reader wants the same default.
 */
#ifndef SLUICE_JSON_GET_H
#define SLUICE_JSON_GET_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

/* True only if @key of @o is the boolean true. */
bool sl_json_true(struct json_object *o, const char *key);

/* @key of @o if it is a string, else NULL. */
const char *sl_json_str(struct json_object *o, const char *key);

/* @key of @o as an integer, 0 if absent. A string of digits counts too:
 * etcd's gateway writes int64 members as strings. */
int64_t sl_json_i64(struct json_object *o, const char *key);

#endif
