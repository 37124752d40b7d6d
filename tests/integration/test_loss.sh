# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `lost` counts a loss: every other test shows it stays 0 when nothing is
# lost; this one breaks a draining flow on purpose and checks the count,
# the metric and the alert that pages on it.

LS_VIP="$LAB_VIP4:80/tcp"

# Up to LIMIT open draining flows (those the drain table, sl_pinned,
# protects), in sl_flows: "move" points each at another backend, as a
# table mix-up or an ECMP move would (its next packet goes to a backend
# that has no socket for it); "evict" deletes it, as LRU pressure would
# (its next packet is restored from the drain table: rescued). The drain
# table's copy is left alone: it is how sluice knows where the flow
# belonged. Only open flows: one whose client has closed (a stream that
# ended) loses nothing, and counts none. Prints how many were changed.
ls_kept_flows() {	# move|evict limit
	python3 - "/sys/fs/bpf/sluice-${LAB_P}" "$1" "$2" <<'EOF'
import json, subprocess, sys

pins, action, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])

def dump(name):
    out = subprocess.run(["bpftool", "-j", "map", "dump", "pinned",
                          pins + "/" + name], check=True,
                         capture_output=True, text=True).stdout
    return [(bytes(int(b, 16) for b in e["key"]),
             bytes(int(b, 16) for b in e["value"])) for e in json.loads(out)]

def hexa(b):
    return ["%02x" % x for x in b]

# struct sluice_flow: backend_id @0 (4 bytes), state @12 (0: open), epoch @13.
kept = dump("sl_pinned")
# Each sl_flows shard, and which shard holds each key (abi.h).
flows, shard_of = {}, {}
for i in range(4):
    for k, v in dump("sl_flows_%d" % i):
        flows[k] = v
        shard_of[k] = pins + "/sl_flows_%d" % i
if action == "move":
    draining = {v[0:4] for _, v in kept}
    other = next((v for v in flows.values() if v[0:4] not in draining), None)
    if other is None:
        sys.exit("no flow of a non-draining backend to borrow an id from")
done = 0
for key, pv in kept:
    cur = flows.get(key)
    if cur is None or cur[0:4] != pv[0:4] or done >= limit:
        continue
    if cur[12] != 0 or pv[12] != 0:
        continue
    if action == "move":
        new = other[0:4] + cur[4:13] + other[13:14] + cur[14:16]
        cmd = ["update", "pinned", shard_of[key], "key", "hex"] + hexa(key) + \
              ["value", "hex"] + hexa(new)
    else:
        cmd = ["delete", "pinned", shard_of[key], "key", "hex"] + hexa(key)
    subprocess.run(["bpftool", "map"] + cmd, check=True)
    done += 1
print(done)
EOF
}

ls_drain_table_count() {
	bpftool -j map dump pinned "/sys/fs/bpf/sluice-${LAB_P}/sl_pinned" |
		json - "len(j)"
}

ls_lost() {	# backend
	lab_ctl -j backend list |
		json - "sum(r['lost'] for r in j if r['vip']=='$LS_VIP' and r['backend']=='$1')"
}

# The alert rule, fed the values sluiced really exported: 0 before the
# loss, then the scraped count.
ls_alert_fires() {	# backend lost
	cat >"$LAB_DIR/lost_alert_test.yml" <<EOF
rule_files: [$LAB_SRC/scripts/monitoring/alerts.yml]
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'sluice_backend_flows_lost_total{job="sluice",instance="lb",vip="$LS_VIP",backend="$1"}'
        values: '0 0 0 $2 $2 $2'
    alert_rule_test:
      - eval_time: 1m
        alertname: SluiceFlowsLostWhileDraining
        exp_alerts:
          - exp_labels: {severity: critical, job: sluice, instance: lb, vip: "$LS_VIP", backend: $1}
            exp_annotations:
              summary: "$1 on $LS_VIP lost flows while draining"
              description: "$2 flows assigned to a draining backend were lost in the last 5 minutes: the drain was not graceful."
EOF
	promtool test rules "$LAB_DIR/lost_alert_test.yml"
}

# Drain be1 while streams run, then move two of its live flows to another
# backend behind sluice's back: `lost` in `backend list -j` counts them
# (at least one), the metric says so, and the alert rule fires on it.
t_lost_counts_a_moved_draining_flow() {
	local be1 moved lost metric
	be1=$(lab_be4 1)
	# Streams that outlast the waits below on a slow machine: a stream
	# that ended before the move has no open flow left to lose.
	it_streams_start s 30 6000000 25 || return 1
	it_wait_ge 10 3 it_flows "$LS_VIP" "$be1" || return 1
	assert_eq "lost before anything happened" 0 "$(ls_lost "$be1")" || return 1
	lab_ctl backend drain "$LS_VIP" "$be1" >/dev/null || return 1
	# Its flows enter the drain table at the next sweep (or when confirmed).
	it_wait_ge 10 2 ls_drain_table_count || return 1
	moved=$(ls_kept_flows move 2) || fail "could not move flows" || return 1
	echo "moved $moved of be1's kept flows to another backend"
	assert_ge "flows moved" "$moved" 1 || return 1
	it_wait_ge 15 1 ls_lost "$be1" || return 1
	lost=$(ls_lost "$be1")
	echo "be1 lost: $lost"
	metric=$(lab_ns lb curl -sf -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics" |
		awk -v s="sluice_backend_flows_lost_total{vip=\"$LS_VIP\",backend=\"$be1\"}" \
			'index($0, s " ") == 1 { print $NF }')
	assert_ge "sluice_backend_flows_lost_total for be1" "$metric" 1 || return 1
	# A warning, so journalctl -p warning shows it (README, "Logs").
	grep -q "^sluiced: warning: backend $be1 on $LS_VIP: [0-9]* flow(s) lost while draining" \
		"$LAB_DIR/sluiced.log" || fail "the loss was not logged as a warning" || return 1
	ls_alert_fires "$be1" "$metric" ||
		fail "SluiceFlowsLostWhileDraining did not fire on lost=$metric" || return 1
	it_streams_wait s >/dev/null
	echo "stream outcomes (the moved ones break): $(json "$LAB_DIR/s.json" "j['outcomes']")"
}
