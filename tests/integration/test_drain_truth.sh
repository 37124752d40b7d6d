# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Issue 12, "the drain signal tells the truth", tried as an outsider would:
# real clients and servers in the lab, the control socket and sluicectl,
# `ss` on the backends. Each test restarts sluiced with the settings it
# needs (the lab's defaults are written before the test runs).

TVIP="$LAB_VIP4:80/tcp"

# Restart sluiced with the lab config under the given LAB_* settings.
truth_restart() {	# VAR=value...
	local kv
	for kv in "$@"; do
		export "${kv?}"
	done
	lab_sluiced_stop TERM
	lab_config >"$LAB_DIR/sluiced.yaml" <<EOF
${IT_VIPS:-$(it_default_vips)}
EOF
	lab_sluiced_start
}

# Seconds since the epoch, fractional.
now_s() { date +%s.%N; }

# python3 -c on numbers: prints the expression's value.
calc() { python3 -c "print($1)"; }

# (i) Open a connection and drain its backend at once, 300 times at a
# 100 ms sweep: the drain is never reported complete while the connection
# is open (watched for 150 ms, over a sweep interval), its count never reads 0, and
# its next request reaches the same backend. Every 15th try the drain is
# also awaited after the close.
t_truth_early_drain_race() {
	local out
	# A small Maglev table: each try commits twice (drain, undrain), and
	# 300 tries must fit in about three minutes on a loaded 2-core VM.
	truth_restart LAB_SWEEP=100ms LAB_CLOSE_GRACE=500ms LAB_MAGLEV=1021 || return 1
	out=$(lab_client drainrace --vip "$LAB_VIP4" --ctl "$LAB_DIR/sluiced.sock" \
		--vipspec "$TVIP" --tries 300 --hold-ms 150 --settle-every 15 --max-seconds 180)
	echo "drain race: $out"
	assert_eq "tries run" 300 "$(echo "$out" | json - "j['tries']")" || return 1
	assert_eq "tries that failed to run" "{}" "$(echo "$out" | json - "j['errors']")" || return 1
	assert_eq "drains reported complete while the connection was open" 0 \
		"$(echo "$out" | json - "j['early']")" || return 1
	assert_eq "tries whose open connection was counted 0" 0 \
		"$(echo "$out" | json - "j['count_below_open']")" || return 1
	assert_eq "second requests that reached another backend" 0 \
		"$(echo "$out" | json - "j['moved']")" || return 1
	assert_eq "drains that never completed after the close" 0 \
		"$(echo "$out" | json - "j['never_drained']")" || return 1
	assert_eq "drains awaited after the close" 20 \
		"$(echo "$out" | json - "len(j['settle_s'])")"
}

# Flows of one backend, as `backend list` says, and as `ss` on it says.
truth_counts() {	# i
	echo "$(it_flows "$TVIP" "$(lab_be4 "$1")") $(it_ss_count "$1")"
}

# (ii) Right after streams open, and right after a drain, no backend's
# count reads below the connections it has (sweep_interval 1s: under the
# old count, a second of new streams went unseen).
t_truth_count_never_low() {
	local round i got ss be rows
	truth_restart LAB_SWEEP=1s || return 1
	for round in 1 2 3 4 5; do
		it_streams_start "s$round" 6 2000000 4 || return 1
		for i in 1 2 3; do
			read -r got ss < <(truth_counts "$i")
			echo "round $round, be$i after open: sluice $got, ss $ss"
			assert_ge "be$i flows right after the streams opened" "$got" "$ss" || return 1
		done
		be=$(lab_be4 $((round % 3 + 1)))
		rows=$(lab_ctl -j backend drain "$TVIP" "$be")
		ss=$(it_ss_count $((round % 3 + 1)))
		got=$(echo "$rows" | json - "j[0]['flows']")
		echo "round $round, drain of $be: reply says $got flows, ss $ss"
		assert_ge "flows in the drain reply" "$got" "$ss" || return 1
		got=$(lab_ctl -j backend status "$TVIP" "$be" | json - "j[0]['flows']")
		assert_ge "flows right after the drain" "$got" "$ss" || return 1
		it_streams_wait "s$round" >/dev/null
		it_streams_all_ok "s$round" 6 || return 1
		lab_ctl backend undrain "$TVIP" "$be" >/dev/null || return 1
	done
}

# (iii) Half-closed clients (shutdown(SHUT_WR) while the server streams for
# several seconds beyond close_grace): the drain waits for them, and none
# is reset.
t_truth_half_close() {
	local be1 rc t_end t_drain out
	be1=$(lab_be4 1)
	truth_restart LAB_CLOSE_GRACE=1s || return 1
	rm -f "$LAB_DIR/h.ready"
	lab_client halfclose --vip "$LAB_VIP4" --count 15 --bytes 3000000 --seconds 6 \
		--ready "$LAB_DIR/h.ready" >"$LAB_DIR/h.json" &
	local hpid=$!
	it_wait_for 30 15 cat "$LAB_DIR/h.ready" || return 1
	sleep 0.3
	( lab_ctl backend drain "$TVIP" "$be1" --wait --timeout 60s \
		>"$LAB_DIR/drain.out" 2>&1; echo $? >"$LAB_DIR/drain.rc"; now_s >"$LAB_DIR/drain.t" ) &
	local dpid=$!
	wait "$hpid"
	out=$(cat "$LAB_DIR/h.json")
	echo "half-closed clients: $out"
	wait "$dpid"
	rc=$(cat "$LAB_DIR/drain.rc")
	t_drain=$(cat "$LAB_DIR/drain.t")
	t_end=$(echo "$out" | json - "j['end']")
	cat "$LAB_DIR/drain.out"
	assert_eq "half-closed streams completed intact" 15 "$(echo "$out" | json - "j['completed']")" || return 1
	assert_eq "resets" 0 "$(echo "$out" | json - "j['resets']")" || return 1
	assert_eq "drain --wait exit code" 0 "$rc" || return 1
	echo "drain returned $(calc "round($t_drain - $t_end, 2)")s after the last stream ended"
	# Never before the half-closed streams ended (a little slack for clocks).
	python3 -c "import sys; sys.exit(0 if $t_drain >= $t_end - 0.2 else 1)" ||
		fail "drain --wait returned before the half-closed streams ended" || return 1
	assert_eq "lost" 0 "$(lab_ctl -j backend status "$TVIP" "$be1" | json - "j[0]['lost']")"
}

# (iv) 20k spoofed SYN+ACK pairs from random sources during a drain of a
# real backend: the flood never shows in flows, the drain completes within
# a few seconds of the last real stream closing, no real connection resets.
t_truth_spoofed_flood() {
	local be1 rc t_streams t_drain flood i got ss lag
	be1=$(lab_be4 1)
	truth_restart LAB_UNCONFIRMED=3s LAB_CLOSE_GRACE=500ms || return 1
	it_streams_start s 12 3000000 8 || return 1
	lab_ns cli python3 "$LAB_SRC/scripts/lab-flood.py" --vip "$LAB_VIP4" --kind pair \
		--count 20000 --seconds 15 >"$LAB_DIR/flood.json" &
	local fpid=$!
	sleep 1
	( lab_ctl backend drain "$TVIP" "$be1" --wait --timeout 60s \
		>"$LAB_DIR/drain.out" 2>&1; echo $? >"$LAB_DIR/drain.rc"; now_s >"$LAB_DIR/drain.t" ) &
	local dpid=$!
	wait "$fpid"
	flood=$(cat "$LAB_DIR/flood.json")
	echo "flood: $flood"
	assert_ge "spoofed pairs sent" "$(echo "$flood" | json - "j['tuples']")" 10000 || return 1
	for i in 1 2 3; do
		read -r got ss < <(truth_counts "$i")
		echo "be$i right after the flood: sluice $got flows, ss $ss"
		# Streams may close between the two reads: a margin of what ended.
		assert_le "be$i flows (the flood must not show)" "$got" 12 || return 1
	done
	assert_le "flows on all backends (the flood must not show)" \
		"$(lab_ctl -j backend list | json - "sum(r['flows'] for r in j)")" 12 || return 1
	lab_ctl -j backend list | json - "[(r['backend'], r['flows'], r['handshakes']) for r in j]"
	it_streams_wait s >/dev/null
	t_streams=$(now_s)
	it_streams_all_ok s 12 || return 1
	wait "$dpid"
	rc=$(cat "$LAB_DIR/drain.rc")
	t_drain=$(cat "$LAB_DIR/drain.t")
	cat "$LAB_DIR/drain.out"
	assert_eq "drain --wait exit code" 0 "$rc" || return 1
	lag=$(calc "round($t_drain - $t_streams, 2)")
	echo "drain completed ${lag}s after the last real stream"
	python3 -c "import sys; sys.exit(0 if $lag <= 4.0 else 1)" ||
		fail "drain should complete within 4s of the last stream (took ${lag}s)"
}

# (v) SIGSTOP sluiced for longer than udp_idle_timeout during a UDP drain,
# then SIGCONT: no UDP flow of the draining backend moves (time is the
# kernel's: the stall ages no flow that kept sending).
t_truth_sigstop_udp() {
	local udp=$LAB_VIP4:53/udp be1 out i
	be1=$(lab_be4 1)
	truth_restart LAB_UDP_IDLE=3s LAB_CLOSE_GRACE=500ms || return 1
	lab_ctl vip add "$udp" || return 1
	for i in 1 2 3; do lab_ctl backend add "$udp" "$(lab_be4 "$i")" || return 1; done
	lab_client udp --vip "$LAB_VIP4" --flows 30 --packets 40 --interval 0.25 >"$LAB_DIR/udp.json" &
	local upid=$!
	it_wait_ge 5 1 it_flows "$udp" "$be1" || return 1
	lab_ctl backend drain "$udp" "$be1" >/dev/null || return 1
	sleep 0.5
	kill -STOP "$LAB_SLUICED_PID"
	sleep 5
	kill -CONT "$LAB_SLUICED_PID"
	wait "$upid"
	out=$(cat "$LAB_DIR/udp.json")
	echo "UDP flows across the stall: $out"
	assert_eq "flows that kept one backend" 30 "$(echo "$out" | json - "j['consistent']")" || return 1
	assert_eq "lost replies" 0 "$(echo "$out" | json - "j['lost']")" || return 1
	lab_ctl backend drain "$udp" "$be1" --wait --timeout 30s || return 1
	assert_eq "lost" 0 "$(lab_ctl -j backend status "$udp" "$be1" | json - "j[0]['lost']")"
}

# (vi) A closed connection's 4-tuple reused at once (fixed source port):
# the new connection works and the old flow is not counted lost.
t_truth_tuple_reuse() {
	local out
	truth_restart LAB_CLOSE_GRACE=1s || return 1
	out=$(lab_client reuse --vip "$LAB_VIP4" --ctl "$LAB_DIR/sluiced.sock" \
		--vipspec "$TVIP" --tries 12 --sport 45678)
	echo "tuple reuse: $out"
	assert_eq "tries run" 12 "$(echo "$out" | json - "j['tries']")" || return 1
	assert_eq "errors" "{}" "$(echo "$out" | json - "j['errors']")" || return 1
	assert_eq "reconnects on the same tuple that worked" 12 \
		"$(echo "$out" | json - "j['second_ok']")" || return 1
	assert_eq "drains that never completed" 0 "$(echo "$out" | json - "j['never_drained']")" || return 1
	assert_eq "flows counted lost" 0 "$(echo "$out" | json - "j['lost']")" || return 1
	assert_eq "lost on every backend" 0 \
		"$(lab_ctl -j backend list | json - "sum(r['lost'] for r in j)")"
}

# (vii) Lag from the last stream closing to drain --wait returning, median
# over 5 drains, asserted generously (the real p50/p99 are in make bench).
t_truth_drain_lag() {
	local round be t_streams t_drain lags=() rc med
	truth_restart LAB_CLOSE_GRACE=500ms || return 1
	for round in 1 2 3 4 5; do
		be=$(lab_be4 $((round % 3 + 1)))
		it_streams_start "l$round" 6 1000000 2 || return 1
		( lab_ctl backend drain "$TVIP" "$be" --wait --timeout 60s \
			>"$LAB_DIR/drain.out" 2>&1; echo $? >"$LAB_DIR/drain.rc"
			now_s >"$LAB_DIR/drain.t" ) &
		local dpid=$!
		it_streams_wait "l$round" >/dev/null
		t_streams=$(now_s)
		it_streams_all_ok "l$round" 6 || return 1
		wait "$dpid"
		rc=$(cat "$LAB_DIR/drain.rc")
		t_drain=$(cat "$LAB_DIR/drain.t")
		assert_eq "round $round drain --wait exit code" 0 "$rc" || return 1
		lags+=("$(calc "round($t_drain - $t_streams, 3)")")
		lab_ctl backend undrain "$TVIP" "$be" >/dev/null || return 1
	done
	med=$(python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" "${lags[@]}")
	echo "lags: ${lags[*]}; median ${med}s (close_grace 500ms)"
	python3 -c "import sys; sys.exit(0 if $med < 2.0 else 1)" ||
		fail "median lag ${med}s, expected under 2s"
}
