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
