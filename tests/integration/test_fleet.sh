# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The fleet (scripts/fleet.sh): three edge boxes behind a BIRD router with
# ECMP, each box's sluiced announcing its VIPs through its own BIRD. Real
# BGP sessions, real multipath routes, real TCP.

fleet_setup() {
	fleet_up < <(fleet_default_vips) || return 1
	[[ -n ${IT_LABFILE:-} ]] && echo "$LAB_P $LAB_DIR" >"$IT_LABFILE"
	fleet_wait_paths "$LAB_VIP4" "$FLEET_BOXES" 20 ||
		{ fail "the router never learned $FLEET_BOXES paths to $LAB_VIP4"; return 1; }
	fleet_wait_paths "$LAB_VIP6" "$FLEET_BOXES" 20 ||
		{ fail "the router never learned $FLEET_BOXES paths to $LAB_VIP6"; return 1; }
}

fleet_teardown() { fleet_down; }

# New flows box k's sluiced has counted for the IPv4 VIP.
fleet_new_flows() {	# k [address prefix of the VIP, default 198.]
	fleet_ctl "$1" -j vip list |
		json - '[v["new_flows"] for v in j if v["vip"].startswith("'"${2:-198.}"'")][0]'
}

# @1 short connections to @2 (default the IPv4 VIP) from eight client
# addresses: fails on any error.
fleet_get() {
	local out vip=${2:-$LAB_VIP4} srcs=198.18.10.2,198.18.10.3,198.18.10.4,198.18.10.5
	srcs+=,198.18.10.6,198.18.10.7,198.18.10.8,198.18.10.9
	[[ $vip == *:* ]] && srcs=fd00:10::2,fd00:10::3,fd00:10::4,fd00:10::5,fd00:10::6
	out=$(lab_client get --vip "$vip" --count "$1" --sources "$srcs")
	echo "$out"
	assert_eq "failed connections" 0 "$(json - 'j["errors"]' <<<"$out")"
}

t_fleet_ecmp_spreads_setup() { fleet_setup; }
t_fleet_ecmp_spreads_teardown() { fleet_teardown; }
t_fleet_ecmp_spreads() {
	local k n
	fleet_get 90 || return 1
	fleet_get 90 "$LAB_VIP6" || return 1
	for k in $(seq 1 "$FLEET_BOXES"); do
		n=$(fleet_new_flows "$k")
		echo "box $k: $n new IPv4 flows, $(fleet_new_flows "$k" "[fd00:") IPv6"
		assert_ge "new IPv4 flows on box $k" "$n" 1 || return 1
		assert_ge "new IPv6 flows on box $k" "$(fleet_new_flows "$k" "[fd00:")" 1 || return 1
	done
}

# A box whose sluiced dies stops attracting traffic: its TUN device goes
# with the process, and with it the routes BIRD announced. The kernel
# sends no per-route notice for that, so BIRD sees it at its next table
# scan (1 s here); the bound leaves room for a loaded machine.
t_fleet_kill_withdraws_setup() { fleet_setup; }
t_fleet_kill_withdraws_teardown() { fleet_teardown; }
t_fleet_kill_withdraws() {
	fleet_sluiced_stop 2 KILL
	fleet_wait_paths "$LAB_VIP4" $((FLEET_BOXES - 1)) $((FLEET_HOLD + 12)) ||
		{ fail "box 2's route still announced $((FLEET_HOLD + 12))s after sluiced died"; return 1; }
	fleet_wait_paths "$LAB_VIP6" $((FLEET_BOXES - 1)) $((FLEET_HOLD + 12)) ||
		{ fail "box 2's IPv6 route still announced"; return 1; }
	fleet_get 30 || return 1
	fleet_sluiced_start 2 || return 1
	fleet_wait_paths "$LAB_VIP4" "$FLEET_BOXES" 15 ||
		{ fail "box 2 not announced again after a restart"; return 1; }
}

# A box that cannot balance withdraws its VIPs: box 2's program is
# detached by hand (which sluiced does not undo), so ECMP must stop
# sending it new connections, every one of which would be lost there.
# Once it runs the program again (a restart), it announces again. And
# without a restart: its device deleted and created anew, sluiced attaches
# to the new one by itself and announces again.
# A sweep republishes the announcements too: with one a minute, only the
# datapath check can announce the box again within the test's waits.
t_fleet_detached_withdraws_setup() { LAB_SWEEP=60s fleet_setup; }
t_fleet_detached_withdraws_teardown() { fleet_teardown; }
t_fleet_detached_withdraws() {
	local dev pin
	dev=$(fleet_dev 2)
	pin=/sys/fs/bpf/sluice-${LAB_P}/box2/link_$dev
	bpftool link detach pinned "$pin" || return 1
	echo "detached box 2's program from $dev"
	fleet_wait_paths "$LAB_VIP4" $((FLEET_BOXES - 1)) 5 ||
		{ fail "box 2 still announced 5s after losing its program"; return 1; }
	fleet_wait_paths "$LAB_VIP6" $((FLEET_BOXES - 1)) 5 ||
		{ fail "box 2's IPv6 route still announced"; return 1; }
	assert_eq "box 2 announces" "[]" \
		"$(fleet_ctl 2 -j status | json - 'j["announce"]["announced"]')" || return 1
	assert_eq "box 2's datapath_ok" False \
		"$(fleet_ctl 2 -j status | json - 'j["announce"]["datapath_ok"]')" || return 1
	grep -q "ALERT: every VIP of this box withdrawn" "$LAB_DIR/sluiced2.log" ||
		fail "box 2 did not say why it withdrew" || return 1
	fleet_get 30 || return 1
	fleet_sluiced_stop 2
	fleet_sluiced_start 2 || return 1
	fleet_wait_paths "$LAB_VIP4" "$FLEET_BOXES" 15 ||
		{ fail "box 2 not announced again once attached again"; return 1; }
	fleet_get 30 || return 1
	fleet_recreated_announces_again 2
}

fleet_datapath_ok() { fleet_ctl "$1" -j status | json - 'j["announce"]["datapath_ok"]'; }

# Box k's device deleted and created again: the box withdraws while it
# cannot balance, and announces again once sluiced has re-attached, all
# in the running sluiced.
fleet_recreated_announces_again() {	# k
	local dev n
	dev=$(fleet_dev "$1")
	n=$(grep -c "VIPs announced again" "$LAB_DIR/sluiced$1.log")
	ip -n "${LAB_P}-$(fleet_ns "$1")" link del "$dev" || return 1
	echo "deleted box $1's $dev"
	it_wait_for 5 False fleet_datapath_ok "$1" || return 1
	_fleet_box_link "$1" || return 1
	echo "created box $1's $dev again"
	it_wait_for 10 True fleet_datapath_ok "$1" || return 1
	grep -q "$dev was re-created" "$LAB_DIR/sluiced$1.log" ||
		fail "box $1 did not say it attached to the new $dev" || return 1
	assert_eq "times box $1 said it announced again" $((n + 1)) \
		"$(grep -c "VIPs announced again" "$LAB_DIR/sluiced$1.log")" || return 1
	fleet_wait_paths "$LAB_VIP4" "$FLEET_BOXES" 20 ||
		{ fail "box $1 not announced again after its device came back"; return 1; }
	fleet_wait_paths "$LAB_VIP6" "$FLEET_BOXES" 20 ||
		{ fail "box $1's IPv6 route not announced again"; return 1; }
	# The new device has a new MAC, which the router learns when its
	# neighbour entry is probed again (or from a gratuitous ARP): until
	# then its packets to the box go to the old MAC. Forget it now, as a
	# probe would. The box, too, has no neighbours on its new device yet:
	# its first packets may wait for them. Then every connection passes.
	ip -n "${LAB_P}-rtr" neigh flush to "$(fleet_box4 "$1")"
	ip -n "${LAB_P}-rtr" -6 neigh flush to "$(fleet_box6 "$1")"
	fleet_settled 10
	fleet_get 30
}

# Up to @1 rounds of 10 connections, until one round has no error.
fleet_settled() {	# rounds
	local i out
	for i in $(seq 1 "$1"); do
		out=$(lab_client get --vip "$LAB_VIP4" --count 10 --sources 198.18.10.2,198.18.10.3,198.18.10.4)
		[[ $(json - 'j["errors"]' <<<"$out") == 0 ]] && return 0
		echo "settling, round $i: $out"
	done
}

# box drain withdraws at once and survives a restart; undrain announces.
t_fleet_box_drain_setup() { fleet_setup; }
t_fleet_box_drain_teardown() { fleet_teardown; }
t_fleet_box_drain() {
	local before after
	fleet_ctl 3 box drain || return 1
	fleet_wait_paths "$LAB_VIP4" $((FLEET_BOXES - 1)) 3 ||
		{ fail "box drain did not withdraw box 3 within 3s"; return 1; }
	assert_eq "announced after box drain" "[]" \
		"$(fleet_ctl 3 -j status | json - 'j["announce"]["announced"]')" || return 1
	before=$(fleet_new_flows 3)
	fleet_get 60 || return 1
	after=$(fleet_new_flows 3)
	assert_eq "new flows reaching drained box 3" "$before" "$after" || return 1
	fleet_sluiced_stop 3
	fleet_sluiced_start 3 || return 1
	sleep 2
	assert_eq "paths after restarting a drained box" $((FLEET_BOXES - 1)) \
		"$(fleet_paths "$LAB_VIP4")" || return 1
	fleet_ctl 3 box undrain || return 1
	fleet_wait_paths "$LAB_VIP4" "$FLEET_BOXES" 5 ||
		{ fail "box undrain did not announce box 3 again"; return 1; }
}

# A box leaves mid-stream (its sluiced is killed): ECMP moves its flows,
# and flows of other boxes whose hash range shifted, to the remaining
# boxes. Every box builds the same Maglev table from the same config, so
# each moved flow of an active backend reaches the same backend there and
# its connection survives. A draining backend's moved flows survive only
# through the drain-aware fallback and the backends' second chance, with
# agents holding the drain: t_fleet_box_leave_mid_drain (test_fleet_drain.sh).
t_fleet_box_leave_streams_survive_setup() { fleet_setup; }
t_fleet_box_leave_streams_survive_teardown() { fleet_teardown; }
t_fleet_box_leave_streams_survive() {
	local out pid ready="$LAB_DIR/ready"
	lab_client streams --vip "$LAB_VIP4" --count 40 --bytes 3000000 --seconds 8 \
		--sources 198.18.10.2,198.18.10.3,198.18.10.4,198.18.10.5,198.18.10.6,198.18.10.7 \
		--ready "$ready" >"$LAB_DIR/streams.json" &
	pid=$!
	for _ in $(seq 1 100); do [[ -s $ready ]] && break; sleep 0.1; done
	assert_eq "streams open" 40 "$(cat "$ready")" || return 1
	sleep 1
	# Box 2 must carry some of them, or nothing moves.
	assert_ge "streams through box 2" "$(fleet_new_flows 2)" 1 || return 1
	fleet_sluiced_stop 2 KILL
	fleet_wait_paths "$LAB_VIP4" $((FLEET_BOXES - 1)) 5 ||
		{ fail "box 2 was not withdrawn"; return 1; }
	wait "$pid"
	out=$(cat "$LAB_DIR/streams.json")
	echo "$out"
	assert_eq "streams completed intact" 40 "$(json - 'j["completed"]' <<<"$out")" || return 1
}
