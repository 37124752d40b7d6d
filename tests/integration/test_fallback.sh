# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Drain-aware fallback and second chance, end to end (issue 15): the box
# loses every flow's state in the middle of a drain; the draining
# backend's streams complete on it (pre-drain table, GUE delivered by its
# decap program because it has their sockets), streams opened after the
# drain began complete on theirs (the second hop), and nothing is reset.

FB_SOURCES=198.18.10.2,198.18.10.3,198.18.10.4,198.18.10.5,198.18.10.6,198.18.10.7

# Backends that pass GUE packets on: forwarding on their tunnel interface
# (bpf_fib_lookup needs it), and XDP on the router's end of their veth so
# frames they XDP_TX are delivered (as for the edge box in lab.sh).
fb_backends_pass_on() {
	local i dev
	for i in $(seq 1 "$LAB_BACKENDS"); do
		dev="${LAB_P}b$i"
		lab_ns "be$i" sysctl -qw "net.ipv4.conf.$dev.forwarding=1" || return 1
		lab_ns rtr "$LAB_BUILD/sluice-decap" attach "${dev}r" || return 1
	done
}

# Agents on every backend, with their decap counters: drains wait for them.
fb_agents_start() {
	local i
	for i in $(seq 1 "$LAB_BACKENDS"); do
		lab_bg "be$i" "$LAB_BUILD/sluice-decap" agent --listen "$(lab_be4 "$i"):9470" \
			--vip "$LAB_VIP4:80/tcp" --iface "${LAB_P}b$i" >>"$LAB_DIR/agent$i.log" 2>&1
		lab_track $!
	done
}

# Forget every established and pinned flow of the box, as a restart with
# empty tables or an ECMP move would (sl_new holds only handshakes).
# sluiced is stopped meanwhile (SIGSTOP; the datapath runs on): its
# sweeper would copy draining flows back into sl_pinned, from where their
# next packet would restore them (rescue). sl_pinned first, for the same
# reason.
fb_wipe_flows() {
	local rc=0
	kill -STOP "$LAB_SLUICED_PID" || return 1
	fb_clear_flow_maps || rc=1
	kill -CONT "$LAB_SLUICED_PID"
	return "$rc"
}

# The issue's own recipe: sluiced stopped (its program stays attached and
# forwards), the flow maps cleared, sluiced started again on empty tables.
fb_restart_empty() {
	lab_sluiced_stop TERM
	fb_clear_flow_maps || return 1
	lab_sluiced_start
}

# Delete every entry of sl_pinned, then of each sl_flows shard.
fb_clear_flow_maps() {
	local pin=/sys/fs/bpf/sluice-${LAB_P} m rc=0
	for m in sl_pinned sl_flows_0 sl_flows_1 sl_flows_2 sl_flows_3; do
		bpftool -j map dump pinned "$pin/$m" | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    k = e["key"]
    print("map delete pinned %s key hex %s" % (sys.argv[1],
          " ".join(x[2:] if x.startswith("0x") else x for x in k)))
' "$pin/$m" >"$LAB_DIR/wipe.$m" || rc=1
		echo "wiping $(wc -l <"$LAB_DIR/wipe.$m") entries of $m"
		[[ -s $LAB_DIR/wipe.$m ]] || continue
		bpftool batch file "$LAB_DIR/wipe.$m" >/dev/null || rc=1
	done
	return "$rc"
}

# Sum of one decap counter over the backends.
fb_decap_sum() {	# reason
	local i n sum=0
	for i in $(seq 1 "$LAB_BACKENDS"); do
		n=$(lab_ns "be$i" "$LAB_BUILD/sluice-decap" stats "${LAB_P}b$i" |
			awk -v r="$1" '$1 == r { print $2 }')
		sum=$((sum + ${n:-0}))
	done
	echo "$sum"
}

fb_metric() {	# name
	lab_ns lb curl -sf -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics" |
		awk -v s="$1{vip=\"$LAB_VIP4:80/tcp\"}" '$1 == s { print $2 }'
}

t_fallback_state_wiped_mid_drain() { fb_state_lost_mid_drain fb_wipe_flows; }
t_fallback_restart_empty_mid_drain() { fb_state_lost_mid_drain fb_restart_empty; }

# 140 streams, be1 drained, 70 more streams, then @1 loses the box's flow
# state: every stream completes, be1's on be1, through the fallback.
fb_state_lost_mid_drain() {	# how-to-lose-state
	local be1 fb passed
	be1=$(lab_be4 1)
	fb_backends_pass_on || return 1
	fb_agents_start
	lab_sluiced_stop TERM
	lab_config >"$LAB_DIR/sluiced.yaml" <<EOF2
vips:
  - vip: $LAB_VIP4:80/tcp
    agent_port: 9470
    backends:
      - address: $be1
      - address: $(lab_be4 2)
      - address: $(lab_be4 3)
EOF2
	lab_sluiced_start || return 1
	it_streams_start old 140 1000000 14 --sources "$FB_SOURCES" || return 1
	it_wait_ge 15 5 it_flows "$LAB_VIP4:80/tcp" "$be1" || return 1
	echo "be1's streams before the drain: $(it_flows "$LAB_VIP4:80/tcp" "$be1")"
	lab_ctl backend drain "$LAB_VIP4:80/tcp" "$be1" >/dev/null || return 1
	it_streams_start new 70 600000 10 --sources "$FB_SOURCES" || return 1
	sleep 1
	"$1" || return 1
	it_streams_wait old
	it_streams_all_ok old 140 || return 1
	it_streams_wait new
	it_streams_all_ok new 70 || return 1
	fb=$(fb_metric sluice_vip_fallback_total)
	passed=$(fb_decap_sum passed_on)
	echo "fallback packets: $fb, passed on by backends: $passed," \
		"delivered GUE: $(fb_decap_sum gue_delivered), pass-on failures: $(fb_decap_sum pass_on_failed)"
	assert_ge "packets the box sent by the pre-drain table" "${fb:-0}" 1 || return 1
	assert_ge "packets backends passed on to the second hop" "$passed" 1 || return 1
	assert_ge "fallback packets be1 delivered (its own streams)" \
		"$(fb_decap_sum gue_delivered)" 1 || return 1
	assert_eq "be1's streams completed on it" \
		"$(json "$LAB_DIR/old.json" "j['by_backend'].get('be1', {}).get('completed', 0)")" \
		"$(json "$LAB_DIR/old.json" "j['backends'].get('be1', 0)")" || return 1
	assert_eq "pass-on failures" 0 "$(fb_decap_sum pass_on_failed)" || return 1
	assert_le "passed on + delivered <= fallback packets (at most once each)" \
		"$((passed + $(fb_decap_sum gue_delivered)))" "$fb" || return 1
}

# A flood of mid-stream packets to unknown tuples during a drain (spoofed
# ACKs, one per tuple): each packet the box sends by the pre-drain table
# is delivered or passed on by a backend exactly once, the box's and the
# backends' counters add up, and nothing comes back round (a pass-on is
# plain IPIP, which carries no further hop).
t_fallback_flood_passed_once() {
	local be1 fb0 fb1 sum0 sum1 pass0 pass1 out tuples
	fb_backends_pass_on || return 1
	# Streams keep be1's (the busiest backend's) drain in progress, and
	# the pre-drain table live, for the whole flood.
	it_streams_start s 12 1000000 12 --sources "$FB_SOURCES" || return 1
	be1=$(it_busiest_backend "$LAB_VIP4:80/tcp" 15) || return 1
	lab_ctl backend drain "$LAB_VIP4:80/tcp" "$be1" >/dev/null || return 1
	sleep 0.5
	fb0=$(fb_metric sluice_vip_fallback_total)
	sum0=$(fb_gue_outcomes)
	pass0=$(fb_decap_sum passed_on)
	out=$(lab_ns cli python3 "$LAB_SRC/scripts/lab-flood.py" --vip "$LAB_VIP4" \
		--kind ack --count 3000 --seconds 6 --seed 15)
	echo "flood: $out"
	tuples=$(echo "$out" | json - 'j["tuples"]')
	assert_eq "be1 still draining after the flood" draining \
		"$(it_state "$LAB_VIP4:80/tcp" "$be1")" || return 1
	sleep 0.5	# the last packets' pass-ons
	fb1=$(fb_metric sluice_vip_fallback_total)
	sum1=$(fb_gue_outcomes)
	pass1=$(fb_decap_sum passed_on)
	echo "box: $((fb1 - fb0)) fallback packets; backends: $((sum1 - sum0))" \
		"GUE packets handled, $((pass1 - pass0)) passed on"
	# About a third of random tuples have be1 as their pre-drain pick.
	assert_ge "flood packets sent by the pre-drain table" "$((fb1 - fb0))" $((tuples / 6)) || return 1
	assert_le "fallback packets <= flood packets" "$((fb1 - fb0))" "$tuples" || return 1
	assert_eq "every fallback packet handled once by a backend" \
		"$((fb1 - fb0))" "$((sum1 - sum0))" || return 1
	assert_ge "passed on (no socket on be1 for a spoofed tuple)" \
		"$((pass1 - pass0))" $(((fb1 - fb0) * 9 / 10)) || return 1
	assert_eq "pass-on failures" 0 "$(fb_decap_sum pass_on_failed)" || return 1
	it_streams_wait s
	it_streams_all_ok s 12 || return 1
}

# GUE packets the backends' decap programs handled: delivered, passed on
# or failed (each fallback packet ends in exactly one of them).
fb_gue_outcomes() {
	echo $(($(fb_decap_sum gue_delivered) + $(fb_decap_sum passed_on) + $(fb_decap_sum pass_on_failed)))
}

# flows.udp_fallback (README, "Drain-aware fallback"): 30 UDP flows, be1
# drained, the box's flow state wiped mid-drain (sluice_slow hands the
# stateless packets to sluice_fallback). sluiced stays stopped (SIGSTOP;
# the datapath runs on) from the wipe until the flows end, so be1's drain,
# which the stateless packets no longer hold, cannot complete meanwhile.
# The client's JSON is left in $LAB_DIR/udp.json. Not in a subshell:
# lab_sluiced_stop waits for its child.
fb_udp_state_lost() {	# udp_fallback (true|false)
	local udp=$LAB_VIP4:53/udp be1 upid rc=0
	be1=$(lab_be4 1)
	lab_sluiced_stop TERM
	lab_config <<EOF2 |
vips:
  - vip: $udp
    backends:
      - address: $be1
      - address: $(lab_be4 2)
      - address: $(lab_be4 3)
EOF2
		sed "s/^flows:/flows:\n  udp_fallback: $1/" >"$LAB_DIR/sluiced.yaml"
	lab_sluiced_start || return 1
	lab_client udp --vip "$LAB_VIP4" --flows 30 --packets 40 --interval 0.25 >"$LAB_DIR/udp.json" &
	upid=$!
	it_wait_ge 15 1 it_flows "$udp" "$be1" || return 1
	echo "be1's UDP flows before the drain: $(it_flows "$udp" "$be1")"
	lab_ctl backend drain "$udp" "$be1" >/dev/null || return 1
	sleep 0.5
	kill -STOP "$LAB_SLUICED_PID" || return 1
	fb_clear_flow_maps || rc=1
	wait "$upid"
	kill -CONT "$LAB_SLUICED_PID"
	((rc == 0))
}

fb_udp_fallback_metric() {
	lab_ns lb curl -sf -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics" |
		awk -v s="sluice_vip_fallback_total{vip=\"$LAB_VIP4:53/udp\"}" '$1 == s { print $2 }'
}

# On: every flow keeps its backend, be1's through the pre-drain table.
t_fallback_udp_option_keeps_backend() {
	local out
	fb_udp_state_lost true || return 1
	out=$(cat "$LAB_DIR/udp.json")
	echo "UDP flows, udp_fallback on: $out"
	assert_eq "flows that kept one backend" 30 "$(echo "$out" | json - "j['consistent']")" || return 1
	assert_eq "lost replies" 0 "$(echo "$out" | json - "j['lost']")" || return 1
	assert_ge "packets sent by the pre-drain table" "$(fb_udp_fallback_metric)" 1
}

# Off (the default): a UDP packet without state is a new flow, which never
# reaches a draining backend, so be1's flows move: the option is what
# keeps them (this is the run the test above would look like without it).
t_fallback_udp_default_moves() {
	local out
	fb_udp_state_lost false || return 1
	out=$(cat "$LAB_DIR/udp.json")
	echo "UDP flows, udp_fallback off: $out"
	assert_ge "flows that moved (be1's)" "$(echo "$out" | json - "j['inconsistent']")" 1 || return 1
	assert_eq "packets sent by the pre-drain table" "$(fb_udp_fallback_metric)" 0
}
