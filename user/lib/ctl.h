/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control-socket protocol between sluicectl and sluiced, and the small
 * client both sluicectl and the tests use.
 *
 * Transport: a Unix stream socket (root-only by default). One JSON object
 * per line each way: a request {"cmd": NAME, ...arguments}, then exactly
 * one reply:
 *   {"ok": true, "result": VALUE}
 *   {"ok": false, "error": MESSAGE, "hint": HINT (optional), "errno": NAME}
 * A connection may carry several requests in turn. Requests longer than
 * SL_CTL_MAX_REQUEST bytes are refused and the connection closed; so is
 * a connection that has not sent a full request within SL_CTL_REQUEST_MS
 * of connecting or of its last reply. Past SL_CTL_MAX_CLIENTS connections
 * a new one gets {"ok": false, "error": "too many control connections",
 * "errno": "EBUSY"} and is closed: a transient refusal, worth a retry.
 *
 * Commands (arguments; result):
 *   status            -; object: instance, version, uptime_s, interfaces
 *                     [{name, mode, attached, prog_id}] (attached: the
 *                     kernel says the interface runs prog_id, asked now),
 *                     pins_ok, flows {entries, capacity, new_entries,
 *                     new_capacity}, vips, backends, draining,
 *                     last_sweep_ms, reasons {label: packets}
 *   vip.list          -; [{vip, backends, active, all_down, flows, new_flows,
 *                     packets, bytes}]
 *   vip.add           vip; {}
 *   vip.del           vip; {}
 *   backend.add       vip, backend, weight (optional, default 100); {}
 *   backend.del       vip, backend, force (optional bool); {}
 *   backend.drain     vip (optional: every VIP of backend), backend,
 *                     timeout_ms (optional: config default), force
 *                     (optional bool); [{vip, backend, state, flows,
 *                     deadline_unix_ms, deadline: "set" | "moved" | "kept"
 *                     | "none", previous_deadline_unix_ms (when moved)}].
 *                     Re-draining a draining backend moves its deadline to
 *                     now + timeout_ms if given, else keeps it. drain and
 *                     del refuse (errno EPERM) to leave a VIP without an
 *                     active backend unless force is true.
 *   backend.undrain   vip (optional), backend; [{vip, backend, state}]
 *   backend.list      vip (optional); [{vip, backend, state, health,
 *                     weight, flows, new_flows, packets, bytes, lost}]
 *   backend.status    vip (optional), backend; [{vip, backend, state, health,
 *                     health_reason, health_check, flows, timed_out, flows_left, lost, evicted,
 *                     drain_started_unix_ms, deadline_unix_ms}]
 *   backend.set       vip, backend, weight; [{vip, backend, weight, old_weight}]
 *   reload            exact (optional bool: undo runtime changes too);
 *                     {applied, changes [TEXT], rejected (TEXT, when not
 *                     applied), restart [{setting, running, file, note
 *                     (optional: what a restart does with it)}],
 *                     unix_ms}. A rejected reload is still an "ok" reply:
 *                     the reload ran and said no (applied false).
 *   config.dump       -; {yaml: TEXT}: the effective configuration
 *   flows.list        vip (optional), backend (optional), limit (optional,
 *                     1..SL_CTL_FLOWS_LIMIT_MAX, default SL_CTL_FLOWS_LIMIT_DEF);
 *                     {flows [{client, client_port, vip, backend, state,
 *                     idle_ms, age_ms}], scanned, matched, truncated
 *                     (more matched than limit), complete (false: the
 *                     scan stopped at its time budget before the end)}
 *
 * status also carries tables [{vip, fingerprint}] and vip.list a
 * "fingerprint" per VIP: a 64-bit hash (16 hex digits) of the live Maglev
 * table, slot by slot, as backend addresses (maglev_fingerprint()).
 *
 * VIPs are "ADDR:PORT/tcp|udp" ("[ADDR]:PORT/..." for IPv6), backends are
 * plain addresses. state is "active", "draining" or "drained"; health is
 * "up", "down" or "unknown".
 */
#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#define SL_CTL_MAX_REQUEST	65536
#define SL_CTL_MAX_CLIENTS	64
/*
 * A client must send each full request line within this long of
 * connecting (or of its previous reply), or it is disconnected: slots are
 * held by requests, not by clients trickling bytes.
 */
#define SL_CTL_REQUEST_MS	10000
/* Longest reply a client reads; commands bound their results below it. */
#define SL_CTL_MAX_REPLY	(SL_CTL_MAX_REQUEST * 16)

/*
 * Command names. New commands are named here once; both sluicectl's
 * table and sluiced's dispatch use these constants.
 */
#define SL_CTL_CMD_STATUS		"status"
#define SL_CTL_CMD_BACKEND_STATUS	"backend.status"
#define SL_CTL_CMD_BACKEND_SET		"backend.set"
#define SL_CTL_CMD_RELOAD		"reload"
#define SL_CTL_CMD_CONFIG_DUMP		"config.dump"
#define SL_CTL_CMD_FLOWS		"flows.list"
#define SL_CTL_CMD_VIP_LIST		"vip.list"
#define SL_CTL_CMD_VIP_ADD		"vip.add"
#define SL_CTL_CMD_VIP_DEL		"vip.del"
#define SL_CTL_CMD_BACKEND_ADD		"backend.add"
#define SL_CTL_CMD_BACKEND_DEL		"backend.del"
#define SL_CTL_CMD_BACKEND_DRAIN	"backend.drain"
#define SL_CTL_CMD_BACKEND_UNDRAIN	"backend.undrain"
#define SL_CTL_CMD_BACKEND_LIST		"backend.list"
#define SL_CTL_CMD_BOX_DRAIN		"box.drain"
#define SL_CTL_CMD_BOX_UNDRAIN		"box.undrain"

/* Request argument keys. */
#define SL_CTL_KEY_CMD			"cmd"
#define SL_CTL_KEY_VIP			"vip"
#define SL_CTL_KEY_BACKEND		"backend"
#define SL_CTL_KEY_WEIGHT		"weight"
#define SL_CTL_KEY_LIMIT		"limit"
#define SL_CTL_KEY_EXACT		"exact"
#define SL_CTL_KEY_NAME			"name"
#define SL_CTL_KEY_TIMEOUT_MS		"timeout_ms"
#define SL_CTL_KEY_FORCE		"force"
#define SL_CTL_KEY_DEADLINE		"deadline_unix_ms"

/* Result keys of the commands above. */
#define SL_CTL_KEY_OLD_WEIGHT		"old_weight"
#define SL_CTL_KEY_APPLIED		"applied"
#define SL_CTL_KEY_CHANGES		"changes"
#define SL_CTL_KEY_REJECTED		"rejected"
#define SL_CTL_KEY_RESTART		"restart"
#define SL_CTL_KEY_SETTING		"setting"
#define SL_CTL_KEY_RUNNING		"running"
#define SL_CTL_KEY_FILE			"file"
#define SL_CTL_KEY_NOTE			"note"
#define SL_CTL_KEY_UNIX_MS		"unix_ms"
#define SL_CTL_KEY_YAML			"yaml"
/* config.dump's optional check of the settings it leaves out (settings.h) */
#define SL_CTL_KEY_COMPARE "compare"
#define SL_CTL_KEY_COMPARED "compared"
#define SL_CTL_KEY_DIFFERS "differs"
#define SL_CTL_KEY_RUNNING_SET "running_set"
#define SL_CTL_KEY_NOT_COMPARED "not_compared"
#define SL_CTL_KEY_FLOWS		"flows"
#define SL_CTL_KEY_CLIENT		"client"
#define SL_CTL_KEY_CLIENT_PORT		"client_port"
#define SL_CTL_KEY_STATE		"state"
#define SL_CTL_KEY_IDLE_MS		"idle_ms"
#define SL_CTL_KEY_AGE_MS		"age_ms"
#define SL_CTL_KEY_SCANNED		"scanned"
#define SL_CTL_KEY_MATCHED		"matched"
#define SL_CTL_KEY_TRUNCATED		"truncated"
#define SL_CTL_KEY_COMPLETE		"complete"
#define SL_CTL_KEY_TABLES		"tables"
#define SL_CTL_KEY_FINGERPRINT		"fingerprint"

/*
 * Limits both sides check, as the config file does: weights
 * SL_CFG_WEIGHT_MAX and drain timeouts SL_CFG_DRAIN_MIN_MS ..
 * SL_CFG_DRAIN_MAX_MS (config.h).
 */
#define SL_CTL_FLOWS_LIMIT_DEF		100U
/* A flow row is under 200 bytes of JSON: the most fit SL_CTL_MAX_REPLY. */
#define SL_CTL_FLOWS_LIMIT_MAX		4096U
/* A fingerprint as text: 16 lowercase hex digits. */
#define SL_CTL_FINGERPRINT_LEN		16

/*
 * An sl_settings_diff() callback (settings.h): append {setting, running,
 * file, note} to the JSON array @arr, as reload and config diff report a
 * setting that needs a restart.
 */
void sl_ctl_setting_add(void *arr, const char *name, const char *running,
			const char *file);

/*
 * A reload's result (the "result" of its reply) for sluiced's audit line:
 * true when the file was applied; false when it was rejected (a failed
 * action, though the reply is "ok"), with the first line of why in @why,
 * control characters blanked: an audit entry is one line.
 */
bool sl_ctl_reload_applied(json_object *result, char *why, size_t len);

/*
 * Send one request and read one reply. Returns 0 with *reply owned by the
 * caller, -errno if the socket cannot be reached or the reply is not JSON.
 */
int sl_ctl_call(const char *sock_path, struct json_object *req,
		struct json_object **reply, int timeout_ms);

#endif /* SLUICE_CTL_H */
