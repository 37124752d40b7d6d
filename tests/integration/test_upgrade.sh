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
