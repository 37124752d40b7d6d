# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A box leaves or joins the fleet in the middle of a drain (issues 15 and
# 16). ECMP moves flows between boxes; the box a flow lands on has no
# state for it, so during the drain its packets take the drain-aware
# fallback: the pre-drain table's backend in GUE, the live pick as second
# hop, and the backends' sluice-decap delivers or passes each packet on.
# Without the fallback the draining backend's moved streams are reset.
#
# Each box has its own vips: file (the per-box fleet lab, not etcd: the
# desired state in etcd has no agent_port yet), so the drain is started
# with sluicectl on every box. The backends run sluice-decap with
# forwarding on and an agent (fb_backends_pass_on, fb_agents_start in
# test_fallback.sh): a box that lost a flow's state must not declare the
# drain done while the backend still holds the connection, or the flag
# that sends lost packets to the pre-drain table would go with it.

FD_SOURCES=198.18.10.2,198.18.10.3,198.18.10.4,198.18.10.5
FD_SOURCES+=,198.18.10.6,198.18.10.7,198.18.10.8,198.18.10.9
FD_OLD=120	# streams opened before the drain
FD_NEW=60	# streams opened after it began

fd_vips() {
	cat <<EOF
vips:
  - vip: $LAB_VIP4:80/tcp
    agent_port: 9470
    backends: [{address: $(lab_be4 1)}, {address: $(lab_be4 2)}, {address: $(lab_be4 3)}]
EOF
}

fd_setup() {
	fleet_up < <(fd_vips) || return 1
	[[ -n ${IT_LABFILE:-} ]] && echo "$LAB_P $LAB_DIR" >"$IT_LABFILE"
	fb_backends_pass_on || return 1
	fb_agents_start
	fleet_wait_paths "$LAB_VIP4" "$FLEET_UP_BOXES" 20 ||
		{ fail "the router never learned $FLEET_UP_BOXES paths to $LAB_VIP4"; return 1; }
}

# Flows box k itself tracks for backend @2 (not the agent's count).
fd_box_flows() {	# k backend
	fleet_ctl "$1" -j backend list |
		json - "sum(r['box_flows'] for r in j if r['backend'] == '$2')"
}

fd_state() {	# k backend
	fleet_ctl "$1" -j backend list |
		json - "[r['state'] for r in j if r['backend'] == '$2'][0]"
}

# A per-VIP metric of box k.
fd_metric() {	# k name
	lab_ns "$(fleet_ns "$1")" curl -sf -m 5 "http://127.0.0.1:$((9480 + $1))/metrics" |
		awk -v s="$2{vip=\"$LAB_VIP4:80/tcp\"}" '$1 == s { print $2 }'
}

# Its sum over the boxes whose sluiced runs.
fd_metric_sum() {	# name
	local k n sum=0
	for k in $(seq 1 "$FLEET_BOXES"); do
		[[ -f $LAB_DIR/sluiced$k.pid ]] || continue
		n=$(fd_metric "$k" "$1")
		sum=$((sum + ${n:-0}))
	done
	echo "$sum"
}

fd_drain_be1() {	# boxes...
	local k
	for k in "$@"; do
		fleet_ctl "$k" backend drain "$LAB_VIP4:80/tcp" "$(lab_be4 1)" >/dev/null ||
			{ fail "drain on box $k"; return 1; }
	done
}

# Streams before the drain and streams after it began, then the drain on
# the running boxes.
fd_streams_and_drain() {
	local k
	it_streams_start old $FD_OLD 2000000 30 --sources "$FD_SOURCES" || return 1
	it_wait_ge 5 1 fd_box_flows 1 "$(lab_be4 1)" || return 1
	for k in $(seq 1 "$FLEET_UP_BOXES"); do
		echo "box $k before the drain: $(fd_box_flows "$k" "$(lab_be4 1)") flows to be1"
	done
	fd_drain_be1 $(seq 1 "$FLEET_UP_BOXES") || return 1
	it_streams_start new $FD_NEW 1500000 24 --sources "$FD_SOURCES"
}

# Every stream intact, be1's on be1, the fallback and second chance used,
# and the drain done on the given boxes once be1's last connection closed.
# (A box that lost flows to another box still counts them until they idle
# out, since it never sees their FIN: it stays draining meanwhile.)
fd_check() {	# boxes to check the drain on...
	local fb delivered passed failed k
	it_streams_wait old
	it_streams_wait new
	echo "new streams took $(json "$LAB_DIR/new.json" "j['seconds']")s (24s each)"
	# The move must come while be1's streams still run, or it proves nothing
	# (on a loaded machine BGP can take long).
	assert_eq "be1's streams still open when ECMP moved flows" True \
		"$(json "$LAB_DIR/old.json" "j['last_end'].get('be1', 0) > $FD_MOVED + 2")" || return 1
	fb=$(fd_metric_sum sluice_vip_fallback_total)
	delivered=$(fb_decap_sum gue_delivered)
	passed=$(fb_decap_sum passed_on)
	failed=$(fb_decap_sum pass_on_failed)
	echo "fallback packets: $fb, delivered GUE: $delivered, passed on: $passed," \
		"pass-on failures: $failed"
	it_streams_all_ok old $FD_OLD || return 1
	it_streams_all_ok new $FD_NEW || return 1
	assert_ge "be1's streams (before the drain)" \
		"$(json "$LAB_DIR/old.json" "j['backends'].get('be1', 0)")" 1 || return 1
	assert_eq "be1's streams completed on it" \
		"$(json "$LAB_DIR/old.json" "j['backends'].get('be1', 0)")" \
		"$(json "$LAB_DIR/old.json" "j['by_backend'].get('be1', {}).get('completed', 0)")" || return 1
	assert_eq "new streams that reached be1 (draining)" 0 \
		"$(json "$LAB_DIR/new.json" "j['backends'].get('be1', 0)")" || return 1
	assert_ge "packets the boxes sent by the pre-drain table" "$fb" 1 || return 1
	assert_ge "fallback packets be1 delivered (its own streams)" "$delivered" 1 || return 1
	assert_ge "packets backends passed on to the second hop" "$passed" 1 || return 1
	assert_eq "pass-on failures" 0 "$failed" || return 1
	assert_le "passed on + delivered <= fallback packets (at most once each)" \
		"$((passed + delivered))" "$fb" || return 1
	for k in "$@"; do
		it_wait_for 10 drained fd_state "$k" "$(lab_be4 1)" || return 1
	done
	for k in $(seq 1 "$FLEET_BOXES"); do
		[[ -f $LAB_DIR/sluiced$k.pid ]] || continue
		echo "box $k: be1 $(fd_state "$k" "$(lab_be4 1)"), box_flows $(fd_box_flows "$k" "$(lab_be4 1)")"
	done
}

# Box 2's sluiced is killed while be1 drains: its routes go, and ECMP
# moves its flows (hash-threshold: only those) to boxes 1 and 3, which
# never saw them.
t_fleet_box_leave_mid_drain_setup() { fd_setup; }
t_fleet_box_leave_mid_drain_teardown() { fleet_teardown; }
t_fleet_box_leave_mid_drain() {
	fd_streams_and_drain || return 1
	# Box 2 must carry some of be1's streams, or nothing of be1 moves.
	assert_ge "be1's flows through box 2" "$(fd_box_flows 2 "$(lab_be4 1)")" 1 || return 1
	sleep 1
	fleet_sluiced_stop 2 KILL
	fleet_wait_paths "$LAB_VIP4" $((FLEET_BOXES - 1)) 10 ||
		{ fail "box 2 was not withdrawn"; return 1; }
	FD_MOVED=$(date +%s.%N)
	echo "box 2 withdrawn"
	fd_check 1 3
}

# A fourth box joins while be1 drains: its sluiced starts with the fleet's
# config, is given the drain, then its BIRD brings up its BGP session and
# ECMP spreads over four boxes, moving flows onto boxes that never saw them.
t_fleet_box_join_mid_drain_setup() { FLEET_BOXES=4 FLEET_UP_BOXES=3 && fd_setup; }
t_fleet_box_join_mid_drain_teardown() { fleet_teardown; }
t_fleet_box_join_mid_drain() {
	fd_streams_and_drain || return 1
	sleep 1
	fleet_sluiced_start 4 || return 1
	fd_drain_be1 4 || return 1
	fleet_box_join 4 || return 1
	fleet_wait_paths "$LAB_VIP4" 4 15 ||
		{ fail "box 4 never became a fourth path"; return 1; }
	FD_MOVED=$(date +%s.%N)
	echo "box 4 joined"
	sleep 2
	assert_ge "flows box 4 took over (new flows + fallback packets)" \
		"$(($(fleet_new_flows 4) + $(fd_metric 4 sluice_vip_fallback_total)))" 1 || return 1
	fd_check 4
}
