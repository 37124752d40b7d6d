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
 *
 * VIPs are "ADDR:PORT/tcp|udp" ("[ADDR]:PORT/..." for IPv6), backends are
 * plain addresses. state is "active", "draining" or "drained"; health is
 * "up", "down" or "unknown".
 */
#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H

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

/*
 * Send one request and read one reply. Returns 0 with *reply owned by the
 * caller, -errno if the socket cannot be reached or the reply is not JSON.
 */
int sl_ctl_call(const char *sock_path, struct json_object *req,
		struct json_object **reply, int timeout_ms);

#endif /* SLUICE_CTL_H */
