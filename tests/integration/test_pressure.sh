# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Flow-table pressure: floods must not take established flows, least of
# all those of a draining backend, and every loss is counted.

PR_VIP="$LAB_VIP4:80/tcp"

# Small tables, so a bounded flood overfills them many times over.
pr_start() {	# table_size new_table_size
	lab_sluiced_stop TERM
	# Resizing pinned tables drops flows: sluiced insists on a detach.
	lab_ns lb "$LAB_BUILD/sluiced" -c "$LAB_DIR/sluiced.yaml" --detach || return 1
	it_default_vips >"$LAB_DIR/vips.yaml"
	lab_config <"$LAB_DIR/vips.yaml" |
		sed "s/^flows:/flows:\n  table_size: $1\n  new_table_size: $2/" >"$LAB_DIR/sluiced.yaml"
	lab_sluiced_start
}

pr_status() {	# backend
	it_ctl_raw "{\"cmd\":\"backend.status\",\"vip\":\"$PR_VIP\",\"backend\":\"$1\"}"
}

# The flow table keeps a separate LRU list per CPU, and a packet is handled
# on the CPU that sent it into the veth: flood from every CPU in turn so
# every list feels the pressure.
pr_flood() {	# kind count
	local cpu
	for cpu in $(seq 0 $(($(nproc) - 1))); do
		lab_ns cli taskset -c "$cpu" python3 "$LAB_SRC/scripts/lab-flood.py" \
			--vip "$LAB_VIP4" --kind "$1" --count "$2" --seconds 20 --seed "$cpu"
	done
}

# A bounded SYN flood (and an ACK flood) from random sources while
# long-lived connections run and a drain is in progress: none breaks,
# because one-packet flows only ever reach sl_new.
t_syn_flood_spares_established() {
	local be1 out st
	be1=$(lab_be4 1)
	pr_start 4096 1024 || return 1
	it_streams_start s 60 2500000 10 --sources 198.18.10.2,198.18.10.3,198.18.10.4 || return 1
	it_wait_ge 15 5 it_flows "$PR_VIP" "$be1" || return 1
	lab_ctl backend drain "$PR_VIP" "$be1" >/dev/null || return 1
	echo "SYN flood: $(pr_flood syn 40000)"
	echo "ACK flood: $(pr_flood ack 20000)"
	lab_ctl status | grep -E "^flows|^new flows"
	it_streams_wait s
	it_streams_all_ok s 60 || return 1
	it_wait_for 10 drained it_state "$PR_VIP" "$be1" || return 1
	st=$(pr_status "$be1")
	echo "be1 after the drain: $st"
	assert_eq "flows lost while draining" 0 "$(echo "$st" | json - "j['result'][0]['lost']")"
}

# Force evictions of a draining backend's flows: idle keep-alive
# connections (an LRU keeps busy flows; idle ones are what pressure takes)
# and a flood of two-packet spoofed flows, which do get promoted. The
# evictions are counted, the flows are restored from the drain table on their
# next packet, and none is lost: the second request on every connection to
# the draining backend still reaches it.
t_forced_eviction_counted_and_rescued() {
	local be1 st out evicted rescued on_be1
	be1=$(lab_be4 1)
	pr_start 1024 1024 || return 1
	lab_client idle --vip "$LAB_VIP4" --count 45 --ready "$LAB_DIR/idle.ready" \
		--go "$LAB_DIR/idle.go" --sources 198.18.10.2,198.18.10.3,198.18.10.4 \
		>"$LAB_DIR/idle.json" &
	local pid=$!
	it_wait_for 20 45 cat "$LAB_DIR/idle.ready" || return 1
	lab_ctl backend drain "$PR_VIP" "$be1" >/dev/null || return 1
	sleep 1.5	# a sweep copies the draining backend's flows into the drain table
	echo "promoting flood: $(pr_flood pair 4000 | tr '\n' ' ')"
	sleep 1.5	# a sweep counts the evictions
	touch "$LAB_DIR/idle.go"
	wait "$pid"
	out=$(cat "$LAB_DIR/idle.json")
	echo "idle connections, second request: $out"
	on_be1=$(echo "$out" | json - "sum(j['by_backend'].get('be1', {}).values())")
	assert_ge "idle connections on be1" "$on_be1" 1 || return 1
	assert_eq "be1 connections whose second request reached be1" "$on_be1" \
		"$(echo "$out" | json - "j['by_backend'].get('be1', {}).get('same', 0)")" || return 1
	st=$(pr_status "$be1")
	echo "be1: $st"
	evicted=$(echo "$st" | json - "j['result'][0]['evicted']")
	rescued=$(echo "$st" | json - "j['result'][0]['rescued']")
	assert_ge "draining flows evicted (counted)" "$evicted" 1 || return 1
	assert_ge "evicted flows rescued" "$rescued" 1 || return 1
	assert_eq "flows lost while draining" 0 "$(echo "$st" | json - "j['result'][0]['lost']")"
}
