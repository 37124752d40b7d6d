# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# What the box runs is what the operator thinks it runs (issue 13 section 4)
# and the runtime CLI operators expect (issue 17): synchronous reload with
# its metrics, config dump/diff, table fingerprints, backend set/status,
# flows, help.

OPS_VIP="$LAB_VIP4:80/tcp"

ops_scrape() {
	lab_ns lb curl -sf -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics"
}

# The value of one sample: ops_metric 'name{labels}' (or 'name').
ops_metric() {
	ops_scrape | awk -v s="$1" 'index($0, s " ") == 1 { print $NF; found = 1; exit }
		END { if (!found) print "missing" }'
}

ops_fp() {	# vip: the fingerprint status -j shows
	lab_ctl -j status | json - "[t['fingerprint'] for t in j['tables'] if t['vip']=='$1'][0]"
}

# (vip, backend, weight) of every backend, sorted: what a config reproduces.
ops_backends() {
	lab_ctl -j backend list | json - "sorted((r['vip'], r['backend'], r['weight']) for r in j)"
}

# reload says what changed and what waits for a restart; a bad file is
# rejected with exit 1, the field named, nothing changed; SIGHUP takes the
# same path; the metrics follow every outcome.
t_ops_reload_reports() {
	local cfg=$LAB_DIR/sluiced.yaml out rc before ts
	assert_eq "reload metric before any reload" 0.000 \
		"$(ops_metric sluice_reload_last_timestamp_seconds)" || return 1
	cp "$cfg" "$LAB_DIR/good.yaml"
	sed -i "s/- address: $(lab_be4 3)/- address: $(lab_be4 3)\n        weight: 7/" "$cfg"
	sed -i 's/^flows:/flows:\n  table_size: 4096/' "$cfg"
	out=$(lab_ctl reload)
	rc=$?
	echo "$out"
	assert_eq "reload exit code" 0 "$rc" || return 1
	echo "$out" | grep -q "weight of backend $(lab_be4 3) on $OPS_VIP: 100 -> 7" ||
		fail "reload should list the weight change" || return 1
	echo "$out" | grep -q 'flows.table_size: running "1048576", file "4096"' ||
		fail "reload should say flows.table_size waits for a restart" || return 1
	echo "$out" | grep -q "note: a restart refuses it while the pinned maps exist: sluiced --detach first" ||
		fail "reload should say a restart refuses the new flows.table_size" || return 1
	assert_eq "weight after reload" 7 "$(it_weight "$OPS_VIP" "$(lab_be4 3)")" || return 1
	assert_eq "sluice_reload_last_success after a good reload" 1 \
		"$(ops_metric sluice_reload_last_success)" || return 1
	ts=$(ops_metric sluice_reload_last_timestamp_seconds)
	python3 -c "import sys,time; sys.exit(0 if abs(time.time() - float('$ts')) < 120 else 1)" ||
		fail "sluice_reload_last_timestamp_seconds $ts is not now" || return 1

	# A bad file: rejected whole, exit 1, the field named on stderr.
	before=$(ops_backends)
	sed -i "s/weight: 7/weight: lots/" "$cfg"
	out=$(lab_ctl reload 2>&1)
	rc=$?
	echo "$out"
	assert_eq "rejected reload exit code" 1 "$rc" || return 1
	echo "$out" | grep -q "cannot reload the configuration: .*weight" ||
		fail "the rejection should name the field" || return 1
	assert_eq "backends after a rejected reload" "$before" "$(ops_backends)" || return 1
	assert_eq "applied false in -j" False \
		"$(lab_ctl -j reload 2>/dev/null | json - "j['applied']")" || return 1
	assert_eq "sluice_reload_last_success after a rejected reload" 0 \
		"$(ops_metric sluice_reload_last_success)" || return 1
	assert_eq "rejected reloads counted" 2 \
		"$(ops_metric 'sluice_reloads_total{result="rejected"}')" || return 1

	# SIGHUP: the same code path, so the same metrics.
	sed -i "s/weight: lots/weight: 9/" "$cfg"
	kill -HUP "$LAB_SLUICED_PID"
	it_wait_for 5 9 it_weight "$OPS_VIP" "$(lab_be4 3)" || return 1
	it_wait_for 5 1 ops_metric sluice_reload_last_success || return 1
	assert_eq "applied reloads counted (CLI and SIGHUP)" 2 \
		"$(ops_metric 'sluice_reloads_total{result="applied"}')" || return 1
	grep -q "reload: weight of backend $(lab_be4 3) on $OPS_VIP: 7 -> 9" "$LAB_DIR/sluiced.log" ||
		fail "SIGHUP's reload should log what changed" || return 1
}

# config diff that could not compare: exit 2, as diff(1) says trouble (1
# would say "differs"), the cause on stderr, nothing on stdout.
ops_diff_trouble() {	# what stderr-regex file
	local out err rc
	out=$(lab_ctl config diff "$3" 2>"$LAB_DIR/diff.err")
	rc=$?
	err=$(cat "$LAB_DIR/diff.err")
	echo "config diff, $1: exit $rc: $err"
	assert_eq "config diff exit code, $1" 2 "$rc" || return 1
	echo "$err" | grep -Eq "$2" || fail "config diff, $1: stderr should match '$2'" || return 1
	assert_eq "config diff stdout, $1" "" "$out"
}

# config dump after runtime changes: sluiced --check accepts it, config
# diff says it matches, and a daemon started from it alone (no saved state)
# rebuilds the same backends, weights and tables. config diff exits 2 when
# it could not compare: a file missing or invalid, sluiced not running.
t_ops_config_dump_roundtrip() {
	local dump=$LAB_DIR/dump.yaml out rc before fp_before
	lab_ctl backend del "$OPS_VIP" "$(lab_be4 3)" || return 1
	lab_ctl backend set "$OPS_VIP" "$(lab_be4 2)" --weight 50 >/dev/null || return 1
	lab_ctl vip add "$LAB_VIP4:443/tcp" || return 1
	lab_ctl backend add "$LAB_VIP4:443/tcp" "$(lab_be4 1)" --weight 3 || return 1
	lab_ctl config dump >"$dump" || return 1
	cat "$dump"
	lab_ns lb "$LAB_BUILD/sluiced" --check -c "$dump" || fail "sluiced --check rejects the dump" || return 1
	out=$(lab_ctl config diff "$dump")
	rc=$?
	echo "$out"
	assert_eq "config diff against the dump" 0 "$rc" || return 1

	# The original file is now stale: diff says how, exit 1.
	out=$(lab_ctl config diff "$LAB_DIR/sluiced.yaml")
	rc=$?
	echo "$out"
	assert_eq "config diff against the original file" 1 "$rc" || return 1
	echo "$out" | grep -q "added backend $(lab_be4 3) to $OPS_VIP" ||
		fail "diff should show the file still lists be3" || return 1
	echo "$out" | grep -q "weight of backend $(lab_be4 2) on $OPS_VIP: 50 -> 100" ||
		fail "diff should show the weight drift" || return 1
	echo "$out" | grep -q "removed VIP $LAB_VIP4:443/tcp" ||
		fail "diff should show the runtime VIP" || return 1

	# Files it cannot compare (README: exit 2, "could not compare").
	ops_diff_trouble "a missing file" \
		"^sluicectl: cannot compare the configuration: $LAB_DIR/nosuch.yaml: cannot open: No such file or directory\$" \
		"$LAB_DIR/nosuch.yaml" || return 1
	sed "s/weight: 3\$/weight: lots/" "$dump" >"$LAB_DIR/bad.yaml"
	grep -q "weight: lots" "$LAB_DIR/bad.yaml" || fail "bad.yaml has no bad weight" || return 1
	ops_diff_trouble "an invalid file" \
		"^sluicectl: cannot compare the configuration: $LAB_DIR/bad.yaml.*weight" \
		"$LAB_DIR/bad.yaml" || return 1
	out=$(lab_ctl -j config diff "$LAB_DIR/bad.yaml" 2>/dev/null)
	assert_eq "config diff -j exit code, an invalid file" 2 "$?" || return 1
	echo "$out" | json - "j['error']" | grep -q "^cannot compare the configuration: .*weight" ||
		fail "config diff -j should say why in error: $out" || return 1

	# Reproduce: a daemon started from the dump alone builds the same.
	before=$(ops_backends)
	fp_before=$(ops_fp "$OPS_VIP")
	lab_sluiced_stop TERM
	ops_diff_trouble "sluiced not running" \
		"^sluicectl: cannot compare the configuration: cannot connect to $LAB_DIR/sluiced.sock: " \
		"$dump" || return 1
	grep -q "^hint: is sluiced running?" "$LAB_DIR/diff.err" ||
		fail "config diff without sluiced should ask whether it runs" || return 1
	rm -f "$LAB_DIR/state/state.json"
	cp "$dump" "$LAB_DIR/sluiced.yaml"
	lab_sluiced_start || return 1
	assert_eq "backends from the dump" "$before" "$(ops_backends)" || return 1
	assert_eq "table fingerprint from the dump" "$fp_before" "$(ops_fp "$OPS_VIP")" || return 1
}

# Fingerprints: in status, vip list and /metrics alike; they change with the
# table and come back with it, whatever backend ids the box uses.
t_ops_table_fingerprint() {
	local fp fp2 be3=$(lab_be4 3)
	fp=$(ops_fp "$OPS_VIP")
	echo "fingerprint $fp"
	[[ $fp =~ ^[0-9a-f]{16}$ ]] || fail "fingerprint '$fp' is not 16 hex digits" || return 1
	assert_eq "vip list fingerprint" "$fp" \
		"$(lab_ctl -j vip list | json - "[v['fingerprint'] for v in j if v['vip']=='$OPS_VIP'][0]")" || return 1
	assert_eq "metric fingerprint" 1 \
		"$(ops_metric "sluice_vip_table_info{vip=\"$OPS_VIP\",fingerprint=\"$fp\"}")" || return 1
	lab_ctl status | grep -q "$fp" || fail "status should show the fingerprint" || return 1
	# Remove be3 and add it back: it gets another id, the table is the same.
	lab_ctl backend del "$OPS_VIP" "$be3" || return 1
	fp2=$(ops_fp "$OPS_VIP")
	[[ $fp2 != "$fp" ]] || fail "fingerprint unchanged after removing a backend" || return 1
	lab_ctl backend add "$OPS_VIP" "$be3" || return 1
	assert_eq "fingerprint after re-adding be3" "$fp" "$(ops_fp "$OPS_VIP")" || return 1
	# A restart rebuilds the same table.
	lab_sluiced_stop TERM
	lab_sluiced_start || return 1
	assert_eq "fingerprint after a restart" "$fp" "$(ops_fp "$OPS_VIP")"
}

# The TABLE_FINGERPRINT column of `sluicectl vip list` for @2, on the
# box whose sluicectl is the command @1 (lab_ctl, or "fleet_ctl 2").
ops_fp_column() {	# ctl vip
	$1 vip list | python3 -c '
import sys
lines = [l.split() for l in sys.stdin.read().splitlines() if l.strip()]
col = lines[0].index("TABLE_FINGERPRINT")
print([r[col] for r in lines[1:] if r[0] == sys.argv[1]][0])' "$2"
}

# The id state dir @1's saved state gives backend @2 (of the one VIP).
ops_saved_id() {	# state_dir backend
	json "$1/state.json" "[b['id'] for b in j['vips'][0]['backends'] if b['address'] == '$2'][0]"
}

# Box 2's config (fleet.sh's, a sluiced in namespace lb2 of the lab):
# Maglev table size 1021 and seed @1; the VIP with be3 (weight 50), be2
# and be1, in another order than box 1's file.
ops_box2_config() {	# seed
	printf 'vips:\n  - vip: %s\n    backends:\n      - {address: %s, weight: 50}\n      - address: %s\n      - address: %s\n' \
		"$OPS_VIP" "$(lab_be4 3)" "$(lab_be4 2)" "$(lab_be4 1)" |
		LAB_MAGLEV=1021 LAB_MAGLEV_SEED=$1 fleet_config 2
}

# README ("Are two boxes balancing identically?"): two boxes with the same
# VIPs, backends, weights, maglev.table_size and maglev.seed show the same
# fingerprint whatever their history, and it is the TABLE_FINGERPRINT
# column of `vip list` as well as status -j, vip list -j and the metric's
# label. Box 1 (the lab's sluiced) gets there through backends added,
# removed, re-added and re-weighted at runtime; box 2, a second sluiced in
# a namespace of its own, starts from a file that lists the same backends
# in another order. A different seed gives a different fingerprint.
t_ops_fingerprint_two_boxes_teardown() {
	fleet_sluiced_stop 2
	it_teardown
}
t_ops_fingerprint_two_boxes() {
	local seed=4242 be1 be3 be4=198.18.20.14 fp1 fp2 fp3 id1 id2
	be1=$(lab_be4 1) be3=$(lab_be4 3)
	lab_sluiced_stop TERM
	it_default_vips | LAB_MAGLEV=1021 LAB_MAGLEV_SEED=$seed lab_config >"$LAB_DIR/sluiced.yaml"
	grep -q "^  seed: $seed\$" "$LAB_DIR/sluiced.yaml" || fail "no seed in box 1's config" || return 1
	lab_sluiced_start || return 1
	lab_ctl backend add "$OPS_VIP" "$be4" --weight 30 || return 1
	lab_ctl backend set "$OPS_VIP" "$be3" --weight 50 || return 1
	lab_ctl backend del "$OPS_VIP" "$be1" || return 1
	lab_ctl backend add "$OPS_VIP" "$be1" || return 1
	lab_ctl backend del "$OPS_VIP" "$be4" || return 1
	lab_ctl vip list
	fp1=$(ops_fp "$OPS_VIP")
	[[ $fp1 =~ ^[0-9a-f]{16}$ ]] || fail "box 1's fingerprint '$fp1' is not 16 hex digits" || return 1
	assert_eq "box 1: vip list's TABLE_FINGERPRINT column" "$fp1" "$(ops_fp_column lab_ctl "$OPS_VIP")" || return 1
	assert_eq "box 1: vip list -j fingerprint" "$fp1" \
		"$(lab_ctl -j vip list | json - "[v['fingerprint'] for v in j if v['vip']=='$OPS_VIP'][0]")" || return 1
	assert_eq "box 1: sluice_vip_table_info with its fingerprint" 1 \
		"$(ops_metric "sluice_vip_table_info{vip=\"$OPS_VIP\",fingerprint=\"$fp1\"}")" || return 1

	_fleet_box 2 || return 1
	ops_box2_config "$seed" >"$LAB_DIR/sluiced2.yaml"
	fleet_sluiced_start 2 || return 1
	fleet_ctl 2 vip list
	# Not the same history: be1 has another id on each box.
	id1=$(ops_saved_id "$LAB_DIR/state" "$be1") id2=$(ops_saved_id "$LAB_DIR/state2" "$be1")
	echo "be1's id: $id1 on box 1, $id2 on box 2"
	[[ -n $id1 && -n $id2 && $id1 != "$id2" ]] ||
		fail "be1 should have different ids on the two boxes, got '$id1' and '$id2'" || return 1
	fp2=$(fleet_ctl 2 -j status | json - "[t['fingerprint'] for t in j['tables'] if t['vip']=='$OPS_VIP'][0]")
	assert_eq "box 2's fingerprint (same VIP, backends, weights, size and seed)" "$fp1" "$fp2" || return 1
	assert_eq "box 2: vip list's TABLE_FINGERPRINT column" "$fp2" \
		"$(ops_fp_column "fleet_ctl 2" "$OPS_VIP")" || return 1

	fleet_sluiced_stop 2
	ops_box2_config $((seed + 1)) >"$LAB_DIR/sluiced2.yaml"
	fleet_sluiced_start 2 || return 1
	fp3=$(ops_fp_column "fleet_ctl 2" "$OPS_VIP")
	echo "fingerprints: $fp1 (box 1, seed $seed), $fp2 (box 2, seed $seed), $fp3 (box 2, seed $((seed + 1)))"
	[[ $fp3 =~ ^[0-9a-f]{16}$ && $fp3 != "$fp1" ]] ||
		fail "box 2 with seed $((seed + 1)): fingerprint '$fp3' should differ from seed $seed's $fp1"
}

# backend set: validated, applied (weight 0 takes no new flows), kept
# across a restart; bad input gets a clear error and changes nothing.
t_ops_backend_set_weight() {
	local be1=$(lab_be4 1) out rc
	out=$(lab_ctl backend set "$OPS_VIP" "$be1" --weight 0)
	echo "$out"
	echo "$out" | grep -q "weight 100 -> 0" || fail "set should say old -> new" || return 1
	out=$(lab_client get --vip "$LAB_VIP4" --count 30)
	assert_eq "requests to be1 at weight 0" 0 "$(echo "$out" | json - "j['backends'].get('be1', 0)")" || return 1
	out=$(lab_ctl backend set "$OPS_VIP" "$be1" --weight 10001 2>&1)
	rc=$?
	echo "$out"
	assert_eq "exit code of weight 10001" 2 "$rc" || return 1
	out=$(lab_ctl backend set "$OPS_VIP" "$be1" 2>&1)
	assert_eq "exit code without --weight" 2 "$?" || return 1
	out=$(it_ctl_raw '{"cmd":"backend.set","vip":"'"$OPS_VIP"'","backend":"'"$be1"'","weight":10001}')
	echo "$out"
	echo "$out" | grep -q '"ok":false' || fail "sluiced should refuse weight 10001" || return 1
	out=$(lab_ctl backend set "$OPS_VIP" 198.18.20.99 --weight 5 2>&1)
	rc=$?
	echo "$out"
	assert_eq "exit code for an unknown backend" 1 "$rc" || return 1
	echo "$out" | grep -q "no such backend" || fail "should say no such backend" || return 1
	assert_eq "weight unchanged by refused sets" 0 "$(it_weight "$OPS_VIP" "$be1")" || return 1
	lab_sluiced_stop TERM
	lab_sluiced_start || return 1
	assert_eq "weight after a restart" 0 "$(it_weight "$OPS_VIP" "$be1")" || return 1
	lab_ctl backend set "$OPS_VIP" "$be1" --weight 100 >/dev/null || return 1
	out=$(lab_client get --vip "$LAB_VIP4" --count 60)
	assert_ge "requests to be1 back at weight 100" "$(echo "$out" | json - "j['backends'].get('be1', 0)")" 5
}

# flows lists live connections with their backends, filtered and bounded;
# backend status shows the drain and health details.
t_ops_flows_and_backend_status() {
	local be1=$(lab_be4 1) out n listed
	# Long enough to outlast the checks on a loaded machine.
	it_streams_start s 12 2000000 25 || return 1
	out=$(lab_ctl flows)
	echo "$out"
	echo "$out" | head -1 | grep -q "CLIENT.*VIP.*BACKEND.*STATE.*IDLE" ||
		fail "flows should print a header" || return 1
	n=$(lab_ctl -j flows | json - "len(j['flows'])")
	assert_eq "flows listed" 12 "$n" || return 1
	assert_eq "a small table is scanned whole" True "$(lab_ctl -j flows | json - "j['complete']")" || return 1
	assert_eq "client address of the first flow" "$LAB_CLIENT4" \
		"$(lab_ctl -j flows | json - "j['flows'][0]['client']")" || return 1
	assert_eq "flows --limit 5" "5 True" \
		"$(lab_ctl -j flows "$OPS_VIP" --limit 5 | json - "len(j['flows']), j['truncated']")" || return 1
	listed=$(lab_ctl -j flows "$OPS_VIP" "$be1" | json - "len(j['flows'])")
	assert_eq "flows on be1 match backend list" "$(it_flows "$OPS_VIP" "$be1")" "$listed" || return 1
	assert_eq "every listed flow is on be1" "$listed" \
		"$(lab_ctl -j flows "$be1" | json - "sum(f['backend']=='$be1' for f in j['flows'])")" || return 1
	lab_ctl flows "$OPS_VIP" --limit 0 >/dev/null 2>&1
	assert_eq "exit code of --limit 0" 2 "$?" || return 1
	lab_ctl flows "$LAB_VIP4:8080/tcp" >/dev/null 2>&1
	assert_eq "exit code for an unknown VIP" 1 "$?" || return 1

	lab_ctl backend drain "$OPS_VIP" "$be1" --timeout 5m >/dev/null || return 1
	out=$(lab_ctl backend status "$OPS_VIP" "$be1")
	echo "$out"
	echo "$out" | grep -q "state          draining" || fail "status should say draining" || return 1
	echo "$out" | grep -Eq "deadline       in [0-9]+m" || fail "status should show the deadline" || return 1
	echo "$out" | grep -q "drain started  .* ago" || fail "status should show the drain start" || return 1
	echo "$out" | grep -q "last failure" || fail "status should show the health reason" || return 1
	echo "$out" | grep -q "lost           0" || fail "status should show lost flows" || return 1
	echo "$out" | grep -Eq "flows left     [0-9]+" || fail "status should show the flows left" || return 1
	it_streams_wait s >/dev/null
	it_streams_all_ok s 12
}

# help: every command, one object's commands, one command's options.
t_ops_help() {
	local out
	out=$(lab_ctl help) || return 1
	for c in "reload" "config dump" "config diff FILE" "backend set" "backend status" "flows"; do
		echo "$out" | grep -q "^  $c" || fail "help should list $c" || return 1
	done
	out=$(lab_ctl vip --help) || return 1
	echo "$out"
	echo "$out" | grep -q "vip list" && echo "$out" | grep -q "vip add" ||
		fail "vip --help should list vip's commands" || return 1
	echo "$out" | grep -q "^  backend" && fail "vip --help should list only vip's commands" && return 1
	out=$(lab_ctl help backend set) || return 1
	echo "$out" | grep -q -- "--weight N" || fail "help backend set should show --weight" || return 1
	lab_ctl help nosuch >/dev/null 2>&1
	assert_eq "exit code of help for an unknown command" 2 "$?"
}

# The drift rule: a reload applies what changed in the file since it was
# last applied, so a runtime `backend del` of a backend the file still
# lists survives SIGHUP and reload; config diff shows the drift, and
# reload --exact makes the running state equal to the file again.
t_ops_reload_exact_undoes_drift() {
	local be3=$(lab_be4 3) be2=$(lab_be4 2) cfg=$LAB_DIR/sluiced.yaml out rc
	lab_ctl backend del "$OPS_VIP" "$be3" || return 1
	lab_ctl backend set "$OPS_VIP" "$be2" --weight 40 >/dev/null || return 1
	lab_ctl backend drain "$OPS_VIP" "$(lab_be4 1)" --timeout 5m >/dev/null || return 1
	# Edit one thing in the file: only that is applied.
	sed -i "s/- address: $be2/- address: $be2\n        weight: 60/" "$cfg"
	out=$(lab_ctl reload) || return 1
	echo "$out"
	assert_eq "weight the file changed" 60 "$(it_weight "$OPS_VIP" "$be2")" || return 1
	lab_ctl -j backend list | json - "[r['backend'] for r in j]" | grep -q "$be3" &&
		fail "a plain reload must keep the runtime removal of be3" && return 1
	kill -HUP "$LAB_SLUICED_PID"
	it_wait_for 5 2 ops_metric 'sluice_reloads_total{result="applied"}' || return 1
	lab_ctl -j backend list | json - "[r['backend'] for r in j]" | grep -q "$be3" &&
		fail "SIGHUP must keep the runtime removal of be3" && return 1
	out=$(lab_ctl config diff "$cfg")
	rc=$?
	echo "$out"
	assert_eq "config diff exit while drifted" 1 "$rc" || return 1
	echo "$out" | grep -q "added backend $be3 to $OPS_VIP" ||
		fail "diff should show be3 missing from the running state" || return 1
	out=$(lab_ctl reload --exact) || return 1
	echo "$out"
	echo "$out" | grep -q "added backend $be3 to $OPS_VIP (weight 100)" ||
		fail "reload --exact should report adding be3" || return 1
	assert_eq "state of be3 after reload --exact" active "$(it_state "$OPS_VIP" "$be3")" || return 1
	lab_ctl config diff "$cfg" || fail "config diff should match after reload --exact" || return 1
	# Drains are runtime state, not configuration: --exact keeps them
	# (no traffic here, so be1's drain may already be over).
	case $(it_state "$OPS_VIP" "$(lab_be4 1)") in
	draining | drained) ;;
	*) fail "reload --exact should keep be1's drain, state is $(it_state "$OPS_VIP" "$(lab_be4 1)")" ;;
	esac
}

# Backend names: given in the file or by backend add --name, shown by the
# CLI and as a metric label, accepted wherever an address is, unique per
# VIP, kept across a restart.
t_ops_backend_names() {
	local cfg=$LAB_DIR/sluiced.yaml be1 be2 out rc
	be1=$(lab_be4 1) be2=$(lab_be4 2)
	sed -i "s|      - address: $be1|      - address: $be1\n        name: web-1|; s|      - address: $be2|      - address: $be2\n        name: web-2|" "$cfg"
	lab_ctl reload >/dev/null || return 1
	out=$(lab_ctl backend list)
	echo "$out"
	echo "$out" | grep -qE "^$OPS_VIP +$be1 +web-1 +active" ||
		fail "backend list does not show web-1" || return 1
	assert_eq "name in -j" web-2 \
		"$(lab_ctl -j backend list | json - "[r['name'] for r in j if r['backend']=='$be2'][0]")" || return 1
	lab_ctl backend status "$OPS_VIP" web-1 | grep -q "^backend $be1 (web-1) on $OPS_VIP" ||
		fail "backend status by name" || return 1
	# By name without a VIP: a drain and an undrain of web-2.
	lab_ctl backend drain web-2 --wait --timeout 30s >/dev/null || fail "drain by name" || return 1
	assert_eq "state of web-2 after its drain" drained "$(it_state "$OPS_VIP" "$be2")" || return 1
	lab_ctl backend undrain web-2 >/dev/null || fail "undrain by name" || return 1
	assert_eq "state of web-2 after its undrain" active "$(it_state "$OPS_VIP" "$be2")" || return 1
	out=$(lab_ctl backend drain "$OPS_VIP" nosuch 2>&1)
	rc=$?
	echo "$out"
	assert_eq "drain of an unknown name: exit code" 1 "$rc" || return 1
	echo "$out" | grep -q 'no backend is called "nosuch" on this VIP' ||
		fail "the error should name the unknown name" || return 1
	assert_eq "metric label" 0 \
		"$(ops_metric "sluice_backend_flows_lost_total{vip=\"$OPS_VIP\",backend=\"$be1\",name=\"web-1\"}")" || return 1
	# Unique per VIP: refused, nothing added.
	out=$(lab_ctl backend add "$OPS_VIP" 198.18.20.99 --name web-1 2>&1)
	rc=$?
	echo "$out"
	assert_eq "backend add with a taken name: exit code" 1 "$rc" || return 1
	echo "$out" | grep -q 'already called "web-1"' || fail "the refusal should say why" || return 1
	assert_eq "backends after the refused add" 3 "$(lab_ctl -j backend list | json - "len(j)")" || return 1
	lab_ctl backend add "$OPS_VIP" 198.18.20.99 --name spare >/dev/null || return 1
	lab_ctl config dump | grep -q "name: web-1" || fail "config dump lost the name" || return 1
	# A restart keeps the runtime name (state file) and the file's names.
	lab_sluiced_stop TERM
	lab_sluiced_start || return 1
	assert_eq "runtime name after a restart" spare \
		"$(lab_ctl -j backend list | json - "[r['name'] for r in j if r['backend']=='198.18.20.99'][0]")" || return 1
	assert_eq "file name after a restart" web-1 \
		"$(lab_ctl -j backend list | json - "[r['name'] for r in j if r['backend']=='$be1'][0]")" || return 1
	# The file gives the runtime name to another backend: the file wins.
	sed -i "s|      - address: $(lab_be4 3)|      - address: $(lab_be4 3)\n        name: spare|" "$cfg"
	lab_ctl reload >/dev/null || return 1
	assert_eq "the file's spare" spare \
		"$(lab_ctl -j backend list | json - "[r['name'] for r in j if r['backend']=='$(lab_be4 3)'][0]")" || return 1
	assert_eq "the runtime spare, renamed by the file" "" \
		"$(lab_ctl -j backend list | json - "[r['name'] for r in j if r['backend']=='198.18.20.99'][0]")"
}

# The lab's VIP with its three backends and N-3 more (198.18.128.1 on):
# a vips: section for lab_config.
ops_many_backends() {	# n
	python3 - "$OPS_VIP" "$1" "$(lab_be4 1)" "$(lab_be4 2)" "$(lab_be4 3)" <<'EOF2'
import sys
vip, n, lab = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
extra = ["198.18.%d.%d" % (128 + i // 250, i % 250 + 1) for i in range(n - len(lab))]
print("vips:\n  - vip: %s\n    backends:" % vip)
for a in lab + extra:
    print("      - address: %s" % a)
EOF2
}

ops_n_backends() {
	lab_ctl -j backend list | json - "len([r for r in j if r['vip']=='$OPS_VIP'])"
}

# Command @5.. is refused (exit 1) saying @4, and @1 leaves the backends
# (@2) and the VIP's table fingerprint (@3) as they were.
ops_limit_refused() {	# what backends-before fingerprint message command...
	local what=$1 before=$2 fp=$3 msg=$4 out rc
	shift 4
	out=$("$@" 2>&1)
	rc=$?
	echo "$out"
	assert_eq "exit code of $what" 1 "$rc" || return 1
	echo "$out" | grep -qF "$msg" || fail "$what should say: $msg" || return 1
	assert_eq "backends after $what" "$before" "$(ops_backends)" || return 1
	assert_eq "fingerprint after $what" "$fp" "$(ops_fp "$OPS_VIP")"
}

# README "Limits": a VIP has at most maglev.table_size backends, however
# they come, not only from the file: past it Maglev would give the extra
# ones no slot. With a table of 1021 slots, a runtime backend add that
# makes 1022 is refused, and so is a reload whose file fits alone but
# not with the runtime addition; each names maglev.table_size and leaves
# the backends and the table as they were.
t_ops_backends_per_vip_limit() {
	local cfg=$LAB_DIR/sluiced.yaml out rc fp before
	lab_sluiced_stop TERM
	ops_many_backends 1020 | LAB_MAGLEV=1021 lab_config >"$cfg"
	lab_sluiced_start || fail "sluiced did not start with 1020 backends" || return 1
	assert_eq "backends from the file" 1020 "$(ops_n_backends)" || return 1
	lab_ctl backend add "$OPS_VIP" 198.18.200.1 >/dev/null ||
		fail "the 1021st backend fits a table of 1021 slots" || return 1
	fp=$(ops_fp "$OPS_VIP")
	before=$(ops_backends)

	ops_limit_refused "the 1022nd backend add" "$before" "$fp" \
		"sluicectl: cannot add backend 198.18.200.2 to $OPS_VIP: VIP $OPS_VIP: 1022 backends do not fit a Maglev table of 1021 slots (at most one backend per slot; raise maglev.table_size, then restart sluiced)" \
		lab_ctl backend add "$OPS_VIP" 198.18.200.2 || return 1

	# The file alone fits (1021), merged with the runtime backend it does not.
	ops_many_backends 1021 | LAB_MAGLEV=1021 lab_config >"$cfg"
	ops_limit_refused "the reload past the table" "$before" "$fp" \
		"1022 backends do not fit a Maglev table of 1021 slots" lab_ctl reload || return 1
	kill -0 "$LAB_SLUICED_PID" || fail "sluiced died"
}
