# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Restarts with a changed setting that a restart applies by itself, with
# no --detach (README "Restarts and upgrades").

RS_VIP="$LAB_VIP4:80/tcp"

rs_fp() {	# the VIP's table fingerprint, as status -j shows it
	lab_ctl -j status | json - "[t['fingerprint'] for t in j['tables'] if t['vip']=='$RS_VIP'][0]"
}

# The Maglev size sluiced built the tables with: ring_size in the pinned
# sl_config (the one a restart compares the file's with).
rs_ring_size() {
	bpftool -j map lookup pinned "/sys/fs/bpf/sluice-${LAB_P}/sl_config" key 0 0 0 0 |
		json - "j['formatted']['value']['ring_size']"
}

# A changed maglev.table_size "just rebuilds the tables": the restart
# succeeds, connections open across it complete intact (their flow state
# names the backend, not a slot), new connections reach every backend
# through the new table, and the datapath, config dump, status and
# fingerprint all show the new size.
t_restart_maglev_table_size() {
	local fp fp2 out be
	assert_eq "ring_size in the pinned sl_config before" 65537 "$(rs_ring_size)" || return 1
	fp=$(rs_fp)
	# Long enough to outlast the restart on a loaded 2-core machine.
	it_streams_start mg 20 3000000 20 || return 1
	lab_sluiced_stop TERM
	it_default_vips | LAB_MAGLEV=1021 lab_config >"$LAB_DIR/sluiced.yaml"
	lab_sluiced_start ||
		fail "sluiced did not start with maglev.table_size 65537 -> 1021" || return 1
	grep -q "maglev.table_size changed (65537 -> 1021): rebuilding tables" "$LAB_DIR/sluiced.log" ||
		fail "sluiced should log that it rebuilds the tables" || return 1
	assert_eq "ring_size in the pinned sl_config after the restart" 1021 "$(rs_ring_size)" || return 1
	lab_ctl config dump | grep -A1 "^maglev:" | grep -q "^  table_size: 1021$" ||
		fail "config dump should show maglev.table_size 1021" || return 1
	assert_eq "status -j maglev_table_size" 1021 \
		"$(lab_ctl -j status | json - 'j["maglev_table_size"]')" || return 1
	lab_ctl status | grep -q "^vips .*(Maglev tables of 1021 slots)$" ||
		fail "status should show the Maglev table size" || return 1
	fp2=$(rs_fp)
	echo "fingerprint: $fp with 65537 slots, $fp2 with 1021"
	[[ $fp2 =~ ^[0-9a-f]{16}$ && $fp2 != "$fp" ]] ||
		fail "the fingerprint should change with the table size: '$fp' -> '$fp2'" || return 1
	out=$(lab_client get --vip "$LAB_VIP4" --count 60)
	echo "new connections after the restart: $out"
	assert_eq "failed new connections" 0 "$(echo "$out" | json - "j['errors']")" || return 1
	for be in be1 be2 be3; do
		assert_ge "new connections to $be" "$(echo "$out" | json - "j['backends'].get('$be', 0)")" 1 ||
			return 1
	done
	it_streams_wait mg >/dev/null
	it_streams_all_ok mg 20
}
