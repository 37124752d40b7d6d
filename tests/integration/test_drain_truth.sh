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

# `lost` of one backend on one VIP, as `backend list` says.
truth_lost() {	# vip backend
	lab_ctl -j backend list |
		json - "sum(r['lost'] for r in j if r['vip']=='$1' and r['backend']=='$2')"
}

# Seconds since the epoch, fractional.
now_s() { date +%s.%N; }

# python3 -c on numbers: prints the expression's value.
calc() { python3 -c "print($1)"; }

# What every drain race must show: each of @tries ran, none drained
# early or read a count of 0 while its connection was open, and each
# drain completed after the close.
truth_race_clean() {	# drainrace-output tries
	assert_eq "tries run" "$2" "$(echo "$1" | json - "j['tries']")" || return 1
	assert_eq "tries that failed to run" "{}" "$(echo "$1" | json - "j['errors']")" || return 1
	assert_eq "drains reported complete while the connection was open" 0 \
		"$(echo "$1" | json - "j['early']")" || return 1
	assert_eq "tries whose open connection was counted 0" 0 \
		"$(echo "$1" | json - "j['count_below_open']")" || return 1
	assert_eq "drains that never completed after the close" 0 \
		"$(echo "$1" | json - "j['never_drained']")"
}

# (i) Open a connection and drain its backend at once, 300 times at a
# 100 ms sweep: the drain is never reported complete while the connection
# is open (watched for 150 ms, over a sweep interval), its count never reads 0, and
# its next request reaches the same backend. Every 15th try the drain is
# also awaited after the close.
t_truth_early_drain_race() {
	local out state=/dev/shm/sluice-$LAB_P-state
	# A small Maglev table and the state file on tmpfs: each try commits
	# twice (drain, undrain), and 300 tries must fit in about three
	# minutes on a loaded 2-core VM.
	truth_restart LAB_SWEEP=100ms LAB_CLOSE_GRACE=500ms LAB_MAGLEV=1021 \
		LAB_STATE_DIR="$state" || return 1
	out=$(lab_client drainrace --vip "$LAB_VIP4" --ctl "$LAB_DIR/sluiced.sock" \
		--vipspec "$TVIP" --tries 300 --hold-ms 150 --settle-every 15 --max-seconds 170)
	lab_sluiced_stop TERM
	rm -rf "$state"
	echo "drain race: $out"
	truth_race_clean "$out" 300 || return 1
	assert_eq "second requests that reached another backend" 0 \
		"$(echo "$out" | json - "j['moved']")" || return 1
	assert_eq "drains awaited after the close" 20 \
		"$(echo "$out" | json - "len(j['settle_s'])")"
}

# (i, big table) The same race where a sweep takes a while: 400,000
# background flows (of another VIP's backend) and sweeps back to back,
# so a sweep that began before a drain is still running when the drain
# walk has copied its flows into the drain table. That sweep must not
# drop them: the drain is never complete while the connection is open
# (held 1 s, over several sweeps), and completes once it closes.
t_truth_early_drain_big_table() {
	local out fill
	# The background flows belong to a second VIP's backend (id 3: ids
	# are given in config order), which never drains.
	IT_VIPS="$(it_default_vips)
  - vip: $LAB_VIP4:8080/tcp
    backends:
      - address: $(lab_be4 1)"
	truth_restart LAB_SWEEP=100ms LAB_FLOWS=1048576 || return 1
	fill=$("$LAB_BUILD/bench/bench_fill" "/sys/fs/bpf/sluice-$LAB_P" 400000 3) || {
		echo "bench_fill failed: $fill"
		return 1
	}
	echo "background: $fill"
	out=$(lab_client drainrace --vip "$LAB_VIP4" --ctl "$LAB_DIR/sluiced.sock" \
		--vipspec "$TVIP" --tries 20 --hold-ms 1000 --settle-every 4 --max-seconds 150)
	lab_sluiced_stop TERM
	echo "drain race, big table: $out"
	truth_race_clean "$out" 20
}

# Flows of one backend, as `backend list` says, and as `ss` on it says.
truth_counts() {	# i
	echo "$(it_flows "$TVIP" "$(lab_be4 "$1")") $(it_ss_count "$1")"
}

# (ii) Right after streams open, and right after a drain, no backend's
# count reads below the connections it has (sweep_interval 1s: under the
# old count, a second of new streams went unseen). Three rounds.
t_truth_count_never_low() {
	local round i got ss be rows most=1 top=-1
	truth_restart LAB_SWEEP=1s || return 1
	for round in 1 2 3; do
		# Long enough to be open still when a loaded machine reads ss.
		it_streams_start "s$round" 9 3000000 10 || return 1
		most=1 top=-1
		for i in 1 2 3; do
			read -r got ss < <(truth_counts "$i")
			echo "round $round, be$i after open: sluice $got, ss $ss"
			assert_ge "be$i flows right after the streams opened" "$got" "$ss" || return 1
			((ss > top)) && { top=$ss; most=$i; }
		done
		# Drain the backend with the most streams, and read at once.
		be=$(lab_be4 "$most")
		rows=$(lab_ctl -j backend drain "$TVIP" "$be")
		ss=$(it_ss_count "$most")
		got=$(echo "$rows" | json - "j[0]['flows']")
		echo "round $round, drain of $be: reply says $got flows, ss $ss"
		assert_ge "streams open on the drained backend (else the round proves nothing)" \
			"$ss" 1 || return 1
		assert_ge "flows in the drain reply" "$got" "$ss" || return 1
		got=$(it_flows "$TVIP" "$be")
		assert_ge "flows right after the drain" "$got" "$ss" || return 1
		it_streams_wait "s$round" >/dev/null
		it_streams_all_ok "s$round" 9 || return 1
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
	t_end=$(echo "$out" | json - "j['last_end'].get('be1', 0)")
	cat "$LAB_DIR/drain.out"
	assert_eq "half-closed streams completed intact" 15 "$(echo "$out" | json - "j['completed']")" || return 1
	assert_eq "resets" 0 "$(echo "$out" | json - "j['resets']")" || return 1
	assert_eq "drain --wait exit code" 0 "$rc" || return 1
	python3 -c "import sys; sys.exit(0 if $t_end > 0 else 1)" ||
		fail "no half-closed stream reached be1: the test proves nothing" || return 1
	echo "drain returned $(calc "round($t_drain - $t_end, 2)")s after be1's last stream ended"
	# Never before be1's half-closed streams ended.
	python3 -c "import sys; sys.exit(0 if $t_drain >= $t_end else 1)" ||
		fail "drain --wait returned before the half-closed streams ended" || return 1
	assert_eq "lost" 0 "$(truth_lost "$TVIP" "$be1")"
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
	it_streams_all_ok s 12 || return 1
	t_streams=$(json "$LAB_DIR/s.json" "j['last_end'].get('be1', 0)")
	python3 -c "import sys; sys.exit(0 if $t_streams > 0 else 1)" ||
		fail "no stream reached be1: the test proves nothing" || return 1
	wait "$dpid"
	rc=$(cat "$LAB_DIR/drain.rc")
	t_drain=$(cat "$LAB_DIR/drain.t")
	cat "$LAB_DIR/drain.out"
	assert_eq "drain --wait exit code" 0 "$rc" || return 1
	lag=$(calc "round($t_drain - $t_streams, 2)")
	echo "drain completed ${lag}s after be1's last real stream closed"
	# Never before it (that would be an early drain), and within 4 s.
	python3 -c "import sys; sys.exit(0 if 0 <= $lag <= 4.0 else 1)" ||
		fail "drain should complete within 4s after be1's last stream, never before (${lag}s)"
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
	it_wait_ge 15 1 it_flows "$udp" "$be1" || return 1
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
	assert_eq "lost" 0 "$(truth_lost "$udp" "$be1")"
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
	# The default settings (close_grace 300ms, check_interval 50ms).
	# Five drains whose backend served at least one stream (at most 8 tries).
	for round in 1 2 3 4 5 6 7 8; do
		((${#lags[@]} < 5)) || break
		be=$(lab_be4 $((round % 3 + 1)))
		it_streams_start "l$round" 9 1000000 2 || return 1
		( lab_ctl backend drain "$TVIP" "$be" --wait --timeout 60s \
			>"$LAB_DIR/drain.out" 2>&1; echo $? >"$LAB_DIR/drain.rc"
			now_s >"$LAB_DIR/drain.t" ) &
		local dpid=$!
		it_streams_wait "l$round" >/dev/null
		it_streams_all_ok "l$round" 9 || return 1
		t_streams=$(json "$LAB_DIR/l$round.json" "j['last_end'].get('be$((round % 3 + 1))', 0)")
		wait "$dpid"
		rc=$(cat "$LAB_DIR/drain.rc")
		t_drain=$(cat "$LAB_DIR/drain.t")
		assert_eq "round $round drain --wait exit code" 0 "$rc" || return 1
		lab_ctl backend undrain "$TVIP" "$be" >/dev/null || return 1
		python3 -c "import sys; sys.exit(0 if $t_streams > 0 else 1)" || continue
		lags+=("$(calc "round($t_drain - $t_streams, 3)")")
		python3 -c "import sys; sys.exit(0 if ${lags[-1]} >= 0 else 1)" ||
			fail "round $round: drain --wait returned before the backend's last stream closed" ||
			return 1
	done
	assert_eq "drains measured" 5 "${#lags[@]}" || return 1
	med=$(python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" "${lags[@]}")
	echo "lags: ${lags[*]}; median ${med}s (default settings)"
	# A loose bound, not the target (make bench measures that): it fails
	# when the lag falls back to the old 2s grace or worse.
	python3 -c "import sys; sys.exit(0 if $med < 1.5 else 1)" ||
		fail "median lag ${med}s, expected under 1.5s"
}
