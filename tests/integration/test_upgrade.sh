# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Pinned maps left by another sluiced version: a restart adopts what it
# can and re-creates what it must, without resetting a connection.

# A sluiced with another set of drop reasons pinned sl_reasons with another
# size; libbpf cannot reuse it, so sluiced re-creates it (counters restart)
# and the established connections never notice.
t_restart_replaces_old_reasons_table() {
	local pin=/sys/fs/bpf/sluice-${LAB_P}/sl_reasons n entries out
	n=$(grep -cE '^[[:space:]]*X\(' "$LAB_SRC/include/sluice/reasons.h")
	it_streams_start s 20 2000000 6 || return 1
	sleep 1
	lab_sluiced_stop KILL
	rm -f "$pin"
	bpftool map create "$pin" type percpu_array key 4 value 8 \
		entries $((n - 1)) name sl_reasons ||
		fail "cannot pin an older sl_reasons" || return 1
	lab_sluiced_start || return 1
	grep "upgrade: $pin counted" "$LAB_DIR/sluiced.log" | tail -1
	grep -q "upgrade: $pin counted $((n - 1)) reasons, this sluiced $n: re-created" "$LAB_DIR/sluiced.log" ||
		fail "sluiced should say it re-created sl_reasons" || return 1
	entries=$(bpftool -j map show pinned "$pin" | json - "j['max_entries']")
	assert_eq "sl_reasons entries after the restart (reasons in reasons.h)" \
		"$n" "$entries" || return 1
	out=$(lab_client get --vip "$LAB_VIP4" --count 30)
	echo "new connections after the restart: $out"
	assert_eq "failed new connections" 0 "$(echo "$out" | json - "j['errors']")" || return 1
	it_streams_wait s
	it_streams_all_ok s 20
}

# The draining flows' table (sl_pinned) of a sluiced whose config still
# says flows.pinned_table_size: the old key loads with one warning, and a
# restart on the new key, drain_table_size, resumes the same map with the
# draining flows in it, without resetting a connection.
up_drain_table_key() {	# key
	lab_config <"$LAB_DIR/vips.yaml" |
		sed "s/^flows:/flows:\n  $1: 262144/" >"$LAB_DIR/sluiced.yaml"
}

up_map_field() {	# path field
	bpftool -j map show pinned "$1" | json - "j['$2']"
}

up_drain_table_entries() {
	bpftool -j map dump pinned "/sys/fs/bpf/sluice-${LAB_P}/sl_pinned" | json - "len(j)"
}

t_restart_renamed_drain_table_key() {
	local pin=/sys/fs/bpf/sluice-${LAB_P}/sl_pinned be1 id warn n after
	local old="flows.pinned_table_size: deprecated name: rename it to drain_table_size"
	be1=$(lab_be4 1)
	it_default_vips >"$LAB_DIR/vips.yaml"
	lab_sluiced_stop TERM
	up_drain_table_key pinned_table_size
	lab_sluiced_start || return 1
	warn=$(grep -c "$old" "$LAB_DIR/sluiced.log")
	assert_eq "deprecation warnings for the old key (one start)" 1 "$warn" || return 1
	# Streams that outlive the restart: their flows stay in the table.
	it_streams_start s 30 3000000 20 || return 1
	lab_ctl backend drain "$VIP" "$be1" >/dev/null || return 1
	it_wait_ge 10 2 up_drain_table_entries || return 1
	id=$(up_map_field "$pin" id)
	n=$(up_drain_table_entries)
	lab_sluiced_stop KILL
	up_drain_table_key drain_table_size
	lab_sluiced_start || return 1
	after=$(up_drain_table_entries)
	echo "sl_pinned: map id $id with $n entries before the restart, id" \
		"$(up_map_field "$pin" id) with $after after"
	assert_eq "sl_pinned map id after the restart (resumed, not re-created)" \
		"$id" "$(up_map_field "$pin" id)" || return 1
	assert_ge "sl_pinned entries after the restart" "$after" 2 || return 1
	assert_eq "deprecation warnings after the restart on the new key" 1 \
		"$(grep -c "$old" "$LAB_DIR/sluiced.log")" || return 1
	assert_eq "state after the restart" draining "$(it_state "$VIP" "$be1")" || return 1
	it_streams_wait s
	it_streams_all_ok s 30 || return 1
	it_wait_for 10 drained it_state "$VIP" "$be1"
}

# An older sluiced kept every flow in one LRU hash pinned as sl_flows;
# today's sl_flows is an array of four shards. A restart over the older
# pin carries each flow into its own shard with its backend and creation
# time, so long streams go on without a reset. (Lost flows would not reset
# these streams on an unchanged table: the datapath would re-pick the same
# backend. Only the shards' contents show that the flows were carried.)

# Every entry of sl_flows_0..3: "SHARD<TAB>KEY BYTES<TAB>VALUE BYTES".
up_shard_entries() {
	local pin=/sys/fs/bpf/sluice-${LAB_P} i
	for i in 0 1 2 3; do
		bpftool -j map dump pinned "$pin/sl_flows_$i" | python3 -c '
import json, sys
h = lambda v: " ".join(x[2:] if x.startswith("0x") else x for x in v)
for e in json.load(sys.stdin):
    print("%s\t%s\t%s" % (sys.argv[1], h(e["key"]), h(e["value"])))
' "$i" || return 1
	done
}

# Compare the shards now (file 2) with before the restart (file 1): the
# flows found in the shard sluice_flow_shard() (hash.h) names, with their
# backend, creation time and epoch; prints "carried missing duplicated
# misplaced_before" (misplaced_before checks this shard function against
# where the datapath put the flows).
up_compare_flows() {	# before after
	python3 - "$1" "$2" <<'PY'
import struct, sys

def shard(k):
    a = struct.unpack_from("<4I", k, 0)
    sport, dport = struct.unpack_from("<2H", k, 32)
    x = a[0] ^ a[1] ^ a[2] ^ a[3] ^ (sport << 16 | dport)
    return ((x * 0x9e3779b1) & 0xffffffff) >> 30

def read(path):
    out = []
    for line in open(path):
        s, k, v = line.rstrip("\n").split("\t")
        out.append((int(s), bytes.fromhex(k), bytes.fromhex(v)))
    return out

before, after = read(sys.argv[1]), read(sys.argv[2])
seen = {}
for s, k, v in after:
    seen.setdefault(k, []).append((s, v))
carried = missing = dup = misplaced = 0
for s, k, v in before:
    misplaced += s != shard(k)
    got = seen.get(k, [])
    dup += len(got) > 1
    # backend_id (bytes 0-3), created (8-11), epoch (13): last_seen moves
    if any(gs == shard(k) and gv[0:4] == v[0:4] and gv[8:12] == v[8:12]
           and gv[13] == v[13] for gs, gv in got):
        carried += 1
    else:
        missing += 1
print(carried, missing, dup, misplaced)
PY
}

# Start sluiced over a state file listing a VIP twice, which it refuses
# after loading the program; the state file is put back after.
up_fail_start_after_load() {
	local state=$LAB_DIR/state/state.json out=$LAB_DIR/up-fail.out rc
	cp "$state" "$LAB_DIR/state.json.good" || return 1
	it_state_duplicate_vip "$state" || return 1
	ft_run_lb "$out" "$LAB_BUILD/sluiced" -c "$LAB_DIR/sluiced.yaml"
	rc=$?
	cp "$LAB_DIR/state.json.good" "$state" || return 1
	cat "$out"
	assert_eq "the refused start's exit code" 1 "$rc" || return 1
	grep -q "start failed: the older flow table is pinned back at /sys/fs/bpf/sluice-${LAB_P}/sl_flows" "$out" ||
		fail "the failed start did not say it put the older table back" || return 1
}

t_restart_carries_unsharded_flows() {
	local dir=/sys/fs/bpf/sluice-${LAB_P} ksize vsize tsize n i line
	local carried missing dup misplaced log=$LAB_DIR/sluiced.log
	# Streams that outlast two starts, one of them failing.
	it_streams_start s 20 3000000 40 || return 1
	sleep 2	# every stream's flow established in its shard
	# The layout of this build and the configured table, as the older
	# sluiced would have had them.
	ksize=$(bpftool -j map show pinned "$dir/sl_flows_0" | json - "j['bytes_key']")
	vsize=$(bpftool -j map show pinned "$dir/sl_flows_0" | json - "j['bytes_value']")
	tsize=$(lab_ctl config dump | awk '/^flows:/ { f = 1 } f && $1 == "table_size:" { print $2; exit }')
	it_is_int "$ksize" && it_is_int "$vsize" && it_is_int "$tsize" ||
		fail "flow key/value size or table size unknown: '$ksize' '$vsize' '$tsize'" ||
		return 1
	lab_sluiced_stop KILL
	up_shard_entries >"$LAB_DIR/flows.before" || fail "cannot dump the shards" || return 1
	n=$(wc -l <"$LAB_DIR/flows.before")
	assert_ge "flows in the shards before the restart" "$n" 20 || return 1

	# The older sluiced's pin: one LRU hash (flags 2: BPF_F_NO_COMMON_LRU)
	# holding every flow, where the shards' array was.
	bpftool map create "$dir/sl_flows_old" type lru_hash key "$ksize" \
		value "$vsize" entries "$tsize" name sl_flows flags 2 ||
		fail "cannot create an older sl_flows" || return 1
	awk -F'\t' -v m="$dir/sl_flows_old" \
		'{ print "map update pinned " m " key hex " $2 " value hex " $3 }' \
		"$LAB_DIR/flows.before" >"$LAB_DIR/flows.batch"
	bpftool batch file "$LAB_DIR/flows.batch" >/dev/null ||
		fail "cannot fill the older sl_flows" || return 1
	rm -f "$dir/sl_flows" "$dir"/sl_flows_[0-3]
	mv "$dir/sl_flows_old" "$dir/sl_flows" || fail "cannot pin it as sl_flows" || return 1
	assert_eq "older sl_flows entries" "$n" \
		"$(bpftool -j map dump pinned "$dir/sl_flows" | json - "len(j)")" || return 1

	# A start that fails after the load (here: a state file it refuses)
	# undoes its own pins and puts the older table back, every flow in it.
	up_fail_start_after_load || return 1
	assert_eq "sl_flows after the failed start" lru_hash \
		"$(bpftool -j map show pinned "$dir/sl_flows" | json - "j['type']")" || return 1
	assert_eq "older sl_flows entries after the failed start" "$n" \
		"$(bpftool -j map dump pinned "$dir/sl_flows" | json - "len(j)")" || return 1

	lab_sluiced_start || return 1
	grep "upgrade: " "$log"
	grep -q "upgrade: $dir/sl_flows is one flow table from an older sluiced: its flows are carried into 4 shards" "$log" ||
		fail "sluiced should say it carries an older sl_flows into the shards" || return 1
	line=$(grep -oE "upgrade: [0-9]+ flows carried into the shards$" "$log" | tail -1)
	assert_eq "flows carried after the load" "$n" "$(echo "$line" | awk '{ print $2 }')" || return 1
	# Nothing writes the older table once sluiced stopped: nothing new.
	line=$(grep -oE "upgrade: [0-9]+ flows carried into the shards \(since the load\)" "$log" | tail -1)
	assert_eq "flows carried after the attach" 0 "$(echo "$line" | awk '{ print $2 }')" || return 1
	assert_eq "sl_flows after the restart" array_of_maps \
		"$(bpftool -j map show pinned "$dir/sl_flows" | json - "j['type']")" || return 1
	for i in 0 1 2 3; do
		assert_eq "sl_flows_$i after the restart" lru_hash \
			"$(bpftool -j map show pinned "$dir/sl_flows_$i" | json - "j['type']")" || return 1
	done
	sleep 1	# a flow the shards lacked would be re-created by now
	up_shard_entries >"$LAB_DIR/flows.after" || fail "cannot dump the shards" || return 1
	read -r carried missing dup misplaced < <(up_compare_flows "$LAB_DIR/flows.before" "$LAB_DIR/flows.after")
	echo "flows: $n before, $(wc -l <"$LAB_DIR/flows.after") after; carried $carried," \
		"missing $missing, in two shards $dup, misplaced before $misplaced"
	assert_eq "flows placed by the datapath where hash.h says" 0 "$misplaced" || return 1
	assert_eq "flows carried with their backend and creation time" "$n" "$carried" || return 1
	assert_eq "flows in more than one shard" 0 "$dup" || return 1
	it_streams_wait s
	it_streams_all_ok s 20
}

# A flows.table_size whose shards the kernel would round: a per-CPU LRU
# hash holds a multiple of the possible CPUs, so a shard asked for 25,001
# entries on 2 CPUs gets 25,002, and the next start could not reuse it
# (libbpf compares the pinned size with the asked one). sluiced asks for
# the rounded size itself: the restart keeps every flow, --check finds
# nothing wrong, and status and the metric report what the shards hold.
t_restart_odd_flow_table_size() {
	local dir=/sys/fs/bpf/sluice-${LAB_P} cpus shard cap metric out
	lab_sluiced_stop TERM
	lab_ns lb "$LAB_BUILD/sluiced" -c "$LAB_DIR/sluiced.yaml" --detach || return 1
	it_default_vips | lab_config |
		sed "s/^flows:/flows:\n  table_size: 100001/" >"$LAB_DIR/sluiced.yaml"
	lab_sluiced_start || return 1
	it_streams_start s 10 3000000 20 || return 1
	sleep 2
	lab_sluiced_stop TERM
	lab_sluiced_start || fail "the restart over the pinned shards failed" || return 1

	cpus=$(python3 -c 'n = 0
for r in open("/sys/devices/system/cpu/possible").read().strip().split(","):
    a, _, b = r.partition("-")
    n += int(b or a) - int(a) + 1
print(n)')
	shard=$(bpftool -j map show pinned "$dir/sl_flows_0" | json - "j['max_entries']")
	echo "possible CPUs: $cpus; shard entries: $shard"
	it_is_int "$shard" || fail "shard size unknown: '$shard'" || return 1
	assert_ge "entries of one shard" "$((shard * 4))" 100001 || return 1
	assert_eq "a shard's size, a multiple of the possible CPUs" 0 \
		"$((shard % cpus))" || return 1
	out=$(lab_ns lb "$LAB_BUILD/sluiced" -c "$LAB_DIR/sluiced.yaml" --check 2>&1) ||
		fail "--check found a problem with the running table: $out" || return 1
	cap=$(lab_ctl status | awk '$1 == "flows" { print $4 }')
	assert_eq "status: flow capacity" "$((shard * 4))" "$cap" || return 1
	metric=$(lab_ns lb curl -sf -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics" |
		awk '/^sluice_flow_table_capacity\{.*table="established"/ { print $2 }')
	assert_eq "metric: flow capacity" "$((shard * 4))" "$metric" || return 1
	it_streams_wait s
	it_streams_all_ok s 10
}

# The same upgrade with the new sluiced under sluiced.service's sandbox
# (it_unit_sandbox): its flow copy pins a thread to each CPU, which the
# unit's filter once refused (sched_setaffinity is in @resources); the
# copy then warns, and that counts as a refusal here.
t_restart_carries_unsharded_flows_sandboxed() {
	export LAB_SLUICED=$LAB_DIR/sluiced-sandboxed
	it_sandboxed_sluiced "$LAB_SLUICED" || { unset LAB_SLUICED; return 1; }
	t_restart_carries_unsharded_flows
	local rc=$?
	unset LAB_SLUICED
	[[ $rc -eq 0 ]] || return 1
	grep -q "upgrade: .* flows carried into the shards" "$LAB_DIR/sluiced.log" ||
		{ fail "the sandboxed sluiced carried no flows"; return 1; }
	it_sandbox_refusals "$LAB_DIR/sluiced.log"
}

# Handshakes in flight across an upgrade from a sluiced without
# sl_new_tags (abi.h): the slots it wrote carry no tags, and a search
# reads only the slots whose tag matches. sluiced tags every slot at
# start, so each flow's second packet finds its slot and is promoted,
# on the backend its first packet got.
t_restart_tags_handshakes_in_flight() {
	local udp=$LAB_VIP4:53/udp pin=/sys/fs/bpf/sluice-${LAB_P}/sl_new_tags
	local log=$LAB_DIR/sluiced.log out n i
	lab_ctl vip add "$udp" || return 1
	for i in 1 2 3; do lab_ctl backend add "$udp" "$(lab_be4 "$i")" || return 1; done
	# One datagram per flow: each sits in sl_new, a handshake in flight.
	out=$(lab_client udp --vip "$LAB_VIP4" --flows 30 --packets 1 --interval 0 --sport-base 41000)
	echo "first datagrams: $out"
	assert_eq "first datagrams unanswered" 0 "$(echo "$out" | json - "j['lost']")" || return 1
	assert_eq "connections before the restart" 0 \
		"$(lab_ctl -j flows "$udp" | json - "len(j['flows'])")" || return 1
	lab_sluiced_stop KILL
	rm -f "$pin"	# what an older sluiced leaves: slots, no tags
	lab_sluiced_start || return 1
	grep "sl_new_tags rebuilt" "$log" | tail -1
	n=$(grep -oE "sl_new_tags rebuilt from sl_new: [0-9]+ slots tagged" "$log" | tail -1 | awk '{ print $5 }')
	it_is_int "$n" || fail "sluiced should say it tagged the slots it found" || return 1
	assert_ge "slots tagged at the start" "$n" 30 || return 1
	# The second datagram of each flow, from the same source port.
	out=$(lab_client udp --vip "$LAB_VIP4" --flows 30 --packets 1 --interval 0 --sport-base 41000)
	echo "second datagrams: $out"
	assert_eq "second datagrams unanswered" 0 "$(echo "$out" | json - "j['lost']")" || return 1
	assert_eq "flows promoted to connections" 30 \
		"$(lab_ctl -j flows "$udp" | json - "len(j['flows'])")" || return 1
}
