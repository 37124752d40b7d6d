# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The end-to-end promises, each as an operator would check it.

LAB_SOURCES=198.18.10.2,198.18.10.3,198.18.10.4,198.18.10.5,198.18.10.6,198.18.10.7

# New connections spread over the active backends in proportion to weight.
t_weights_spread() {
	local out total i w want got
	lab_ctl backend del "$LAB_VIP4:80/tcp" "$(lab_be4 1)" &&
	lab_ctl backend add "$LAB_VIP4:80/tcp" "$(lab_be4 1)" --weight 100 &&
	lab_ctl backend del "$LAB_VIP4:80/tcp" "$(lab_be4 2)" &&
	lab_ctl backend add "$LAB_VIP4:80/tcp" "$(lab_be4 2)" --weight 200 &&
	lab_ctl backend del "$LAB_VIP4:80/tcp" "$(lab_be4 3)" &&
	lab_ctl backend add "$LAB_VIP4:80/tcp" "$(lab_be4 3)" --weight 300 || return 1
	out=$(lab_client get --vip "$LAB_VIP4" --count 900 --sources "$LAB_SOURCES")
	echo "900 requests with weights 1:2:3 -> $out"
	assert_eq "failed requests" 0 "$(echo "$out" | json - "j['errors']")" || return 1
	total=900
	for i in 1 2 3; do
		w=$i
		want=$((total * w / 6))
		got=$(echo "$out" | json - "j['backends'].get('be$i', 0)")
		# Within 4 standard deviations of a binomial(900, w/6).
		python3 -c "
import math, sys
n, p, got = $total, $w / 6, $got
sd = math.sqrt(n * p * (1 - p))
sys.exit(0 if abs(got - n * p) <= 4 * sd else 1)" ||
			fail "be$i got $got of $total, expected about $want (weight $w of 6)" || return 1
	done
}

# 200+ long-lived connections through a drain: none reset or truncated,
# none of the new ones reach the draining backend, drain --wait exits 0
# within seconds of the last one finishing.
t_drain_200_long_lived() {
	local be2 during lag t_streams dpid
	be2=$(lab_be4 2)
	it_streams_start big 210 1500000 8 --sources "$LAB_SOURCES" || return 1
	it_wait_ge 5 20 it_flows "$LAB_VIP4:80/tcp" "$be2" || return 1
	echo "connections on be2 before the drain: $(it_flows "$LAB_VIP4:80/tcp" "$be2")"
	( lab_ctl backend drain "$be2" --wait --timeout 2m >"$LAB_DIR/drain.out" 2>&1
	  echo $? >"$LAB_DIR/drain.rc"; date +%s.%N >"$LAB_DIR/drain.t" ) &
	dpid=$!
	sleep 0.5
	during=$(lab_client get --vip "$LAB_VIP4" --count 60 --sources "$LAB_SOURCES")
	echo "new connections during the drain: $during"
	assert_eq "new connections that reached be2" 0 "$(echo "$during" | json - "j['backends'].get('be2', 0)")" || return 1
	it_streams_wait big
	t_streams=$(date +%s.%N)
	it_streams_all_ok big 210 || return 1
	wait "$dpid"
	cat "$LAB_DIR/drain.out"
	assert_eq "drain --wait exit code" 0 "$(cat "$LAB_DIR/drain.rc")" || return 1
	lag=$(python3 -c "print(round($(cat "$LAB_DIR/drain.t") - $t_streams, 2))")
	echo "drain finished ${lag}s after the last stream"
	python3 -c "import sys; sys.exit(0 if $lag <= 5.0 else 1)" ||
		fail "drain --wait should return within 5s of the last stream, took ${lag}s"
}

# UDP: each flow keeps its backend through a drain until its idle timeout.
t_udp_drain() {
	local udp=$LAB_VIP4:53/udp be1 out after rc
	be1=$(lab_be4 1)
	lab_ctl vip add "$udp" || return 1
	for i in 1 2 3; do lab_ctl backend add "$udp" "$(lab_be4 "$i")" || return 1; done
	lab_client udp --vip "$LAB_VIP4" --flows 30 --packets 12 --interval 0.25 >"$LAB_DIR/udp.json" &
	local pid=$!
	it_wait_ge 15 1 it_flows "$udp" "$be1" || return 1
	lab_ctl backend drain "$udp" "$be1" >/dev/null || return 1
	after=$(lab_client udp --vip "$LAB_VIP4" --flows 20 --packets 2 --interval 0.1)
	echo "new UDP flows during the drain: $after"
	assert_eq "new UDP flows on be1" 0 "$(echo "$after" | json - "j['backends'].get('be1', 0)")" || return 1
	wait $pid
	out=$(cat "$LAB_DIR/udp.json")
	echo "UDP flows across the drain: $out"
	assert_eq "flows that kept one backend" 30 "$(echo "$out" | json - "j['consistent']")" || return 1
	assert_eq "lost replies" 0 "$(echo "$out" | json - "j['lost']")" || return 1
	lab_ctl backend drain "$udp" "$be1" --wait --timeout 30s
	rc=$?
	assert_eq "drain --wait after the UDP idle timeout" 0 "$rc"
}

# Replace the XDP program with a newly built one while traffic flows.
t_program_upgrade_under_load() {
	local before after b2="$LAB_DIR/build2"
	# A different program: same source built with a marker, so its tag differs.
	make -s -C "$LAB_SRC" BUILD="$b2" BPF_EXTRA=-DSLUICE_BUILD_MARK=2 \
		"$b2/sluiced" >"$LAB_DIR/build2.log" 2>&1 || { cat "$LAB_DIR/build2.log"; return 1; }
	before=$(lab_ns lb ip -d link show "${LAB_P}l" | grep -o 'prog/xdp id [0-9]*')
	it_streams_start s 60 3000000 8 --sources "$LAB_SOURCES" || return 1
	lab_sluiced_stop TERM
	LAB_SLUICED=$b2/sluiced lab_sluiced_start || return 1
	after=$(lab_ns lb ip -d link show "${LAB_P}l" | grep -o 'prog/xdp id [0-9]*')
	echo "program before: $before, after: $after"
	[[ $before != "$after" ]] || fail "the XDP program was not replaced" || return 1
	# The tail arrays and the handoff are private to one load (loader.c,
	# sl_map_private()); sl_tail keeps its pin, as an older sluiced made it.
	local pins=/sys/fs/bpf/sluice-${LAB_P}
	[[ -e $pins/sl_tail && -e $pins/sl_flows && ! -e $pins/sl_tail_slow &&
		! -e $pins/sl_handoff && ! -e $pins/sl_tx_ports ]] ||
		fail "pins after the upgrade: $(ls "$pins" | tr '\n' ' ')" || return 1
	lab_client get --vip "$LAB_VIP4" --count 20 | grep -q '"errors": 0' ||
		fail "new connections fail after the upgrade" || return 1
	it_streams_wait s
	it_streams_all_ok s 60
}

# IPv6 VIP with IPv6 backends, end to end, through a drain.
t_ipv6_vip() {
	local v6="[$LAB_VIP6]:80/tcp" out
	lab_ctl vip add "$v6" || return 1
	for i in 1 2 3; do lab_ctl backend add "$v6" "$(lab_be6 "$i")" || return 1; done
	out=$(lab_client get --vip "$LAB_VIP6" --count 60)
	echo "IPv6 requests: $out"
	assert_eq "failed IPv6 requests" 0 "$(echo "$out" | json - "j['errors']")" || return 1
	assert_eq "backends answering IPv6" 3 "$(echo "$out" | json - "len(j['backends'])")" || return 1
	IT_STREAM_VIP=$LAB_VIP6 it_streams_start s6 30 2000000 5 || return 1
	lab_ctl backend drain "$v6" "$(lab_be6 1)" --wait --timeout 60s || return 1
	it_streams_wait s6
	it_streams_all_ok s6 30
}
