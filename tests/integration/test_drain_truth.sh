# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Issue 12, "the drain signal tells the truth", tried as an outsider would:
# real clients and servers in the lab, the control socket and sluicectl,
# `ss` on the backends. Each test restarts sluiced with the settings it
# needs (the lab's defaults are written before the test runs), or brings
# its own lab (t_NAME_setup) for a setting a restart cannot change.

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

# (viii) The drain table full (README, "Table pressure"). A VIP whose one
# backend holds more idle keep-alive connections than the drain table
# (flows.drain_table_size, its minimum 1024) has room for: its own lab,
# since a pinned drain table of another size needs a detach to resize.
TFULL_VIP=198.18.0.101
TFULL="$TFULL_VIP:80/tcp"
TFULL_CONNS=1300
TFULL_TABLE=1024
TFULL_TIMEOUT=20
TFULL_TIMEOUT2=30	# the second drain also rides out a restart

t_truth_drain_table_full_setup() {
	LAB_DRAIN_TABLE=$TFULL_TABLE IT_VIPS="$(it_default_vips)
  - vip: $TFULL
    backends:
      - address: $(lab_be4 1)" it_setup
}

# "state flows" of be1 on the test's VIP, one `backend status` read.
tfull_status() {
	lab_ctl -j backend status "$TFULL" "$(lab_be4 1)" |
		json - "'%s %s' % (j[0]['state'], j[0]['flows'])"
}

# For @1 seconds: be1 still draining, its count never below @2.
tfull_holds() {	# seconds min-flows what
	local end state flows
	end=$(calc "$(now_s) + $1")
	while python3 -c "import sys; sys.exit(0 if $(now_s) < $end else 1)"; do
		read -r state flows < <(tfull_status)
		assert_eq "be1's state $3 (drained: completed by count with connections open)" \
			draining "$state" || return 1
		assert_ge "be1's flows $3 (upper bound of the open connections)" "$flows" "$2" ||
			return 1
		sleep 0.2
	done
}

# sluice_backend_drain_unverifiable of be1 on the test's VIP.
tfull_unverifiable_metric() {
	lab_ns lb curl -sf -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics" |
		awk -v s="sluice_backend_drain_unverifiable{vip=\"$TFULL\",backend=\"$(lab_be4 1)\"}" \
		'$1 == s { print $2 }'
}

# The hold client @1 has written which connections it opened.
tfull_ready() { [[ -s $LAB_DIR/$1.ready ]] && echo yes; }

# Lines in which sluiced warned that the drain table is full.
tfull_full_warnings() { grep -c "^sluiced: warning: sl_pinned is full: " "$LAB_DIR/sluiced.log"; }

# The client ports of the flows in the drain table (sl_pinned): sport is
# bytes 32-33 of struct sluice_flow_key, in network order.
tfull_dump_ports() {
	bpftool -j map dump pinned "/sys/fs/bpf/sluice-${LAB_P}/sl_pinned" |
		json - "'\n'.join(str(bytes(int(b, 16) for b in e['key'])[32] << 8 |
			bytes(int(b, 16) for b in e['key'])[33]) for e in j)"
}

# Every client port in the drain table, from as many dumps as it takes to
# see TFULL_TABLE of them (at most 20): the sweeps and the checker rewrite
# its entries while a drain runs, and a hash map rewritten during a dump
# can skip an entry (the new copy goes to the head of its bucket, behind
# the dump's cursor).
tfull_kept_ports() {
	local i all=""
	for ((i = 1; i <= 20; i++)); do
		all=$({ [[ -z $all ]] || echo "$all"; tfull_dump_ports; } | sed '/^$/d' | sort -un)
		(($(wc -l <<<"$all") >= TFULL_TABLE)) && break
		sleep 0.1
	done
	((i == 1)) || echo "the drain table's ports: $(wc -l <<<"$all") from $((i > 20 ? 20 : i)) dumps" >&2
	echo "$all"
}

# Open TFULL_CONNS idle connections to be1 as hold client @1 (files
# $LAB_DIR/@1.*), all counted by sluiced.
tfull_open() {	# name
	local open
	rm -f "$LAB_DIR/$1".*
	lab_client hold --vip "$TFULL_VIP" --count "$TFULL_CONNS" --ready "$LAB_DIR/$1.ready" \
		--close "$LAB_DIR/$1.close" --go "$LAB_DIR/$1.go" --max-seconds 80 \
		>"$LAB_DIR/$1.json" &
	TFULL_PIDS+=("$!")
	echo "$!" >"$LAB_DIR/$1.client.pid"
	it_wait_for 40 yes tfull_ready "$1" || return 1
	open=$(json "$LAB_DIR/$1.ready" "len(j['ports'].get('be1', []))")
	echo "$1: connections open to be1: $open (in $(json "$LAB_DIR/$1.ready" "j['seconds']")s)"
	assert_eq "connections open to be1" "$TFULL_CONNS" "$open" || return 1
	it_wait_for 10 "$open" it_flows "$TFULL" "$(lab_be4 1)"
}

# Drain be1 with `--wait --timeout @2`, in the background; its output,
# exit code and end time go to $LAB_DIR/@1.{out,rc,t}. The sluiced log's
# warnings about the full table must grow past @3 (those before it), the
# first new one naming TFULL_CONNS - TFULL_TABLE flows.
tfull_drain() {	# name timeout warnings-before
	local line n
	( lab_ctl backend drain "$TFULL" "$(lab_be4 1)" --force --wait --timeout "$2" \
		>"$LAB_DIR/$1.out" 2>&1; echo $? >"$LAB_DIR/$1.rc"; now_s >"$LAB_DIR/$1.t" ) &
	TFULL_PIDS+=("$!")
	echo "$!" >"$LAB_DIR/$1.drain.pid"
	it_wait_ge 10 $(($3 + 1)) tfull_full_warnings || return 1
	line=$(grep "^sluiced: warning: sl_pinned is full: " "$LAB_DIR/sluiced.log" | sed -n "$(($3 + 1))p")
	echo "$1: logged: $line"
	n=$(echo "$line" | sed -n 's/.* is full: \([0-9]*\) draining flows unprotected.*/\1/p')
	# The first drain meets an empty table; a later one may find the last
	# one's closed flows still in it for close_linger, so fewer fit.
	if (($3 == 0)); then
		assert_eq "draining flows the drain table had no room for, as logged" \
			$((TFULL_CONNS - TFULL_TABLE)) "$n"
	else
		assert_ge "draining flows the drain table had no room for, as logged" \
			"$n" $((TFULL_CONNS - TFULL_TABLE)) &&
			assert_le "... at most every connection" "$n" "$TFULL_CONNS"
	fi
}

# Wait for drain @1 to return (in this shell: it is our child): its exit
# code in TFULL_RC, its seconds since @2 in TFULL_SECS.
tfull_drain_wait() {	# name t_start
	wait "$(cat "$LAB_DIR/$1.drain.pid")"
	sed "s/^/$1: /" "$LAB_DIR/$1.out"
	TFULL_RC=$(cat "$LAB_DIR/$1.rc")
	TFULL_SECS=$(calc "round($(cat "$LAB_DIR/$1.t") - $2, 2)")
}

# More idle confirmed connections to one backend than the drain table
# holds, and that backend drained with a deadline, twice.
t_truth_drain_table_full() {
	local rc
	TFULL_PIDS=()
	tfull_past_deadline && tfull_closed_still_blind
	rc=$?
	# Whatever failed: the clients close the rest and exit, a drain
	# --wait returns at its deadline (or when sluiced stops).
	touch "$LAB_DIR/d1.go" "$LAB_DIR/d2.go"
	# (Never a bare wait: sluiced is a child of this shell too.)
	((${#TFULL_PIDS[@]} == 0)) || wait "${TFULL_PIDS[@]}" 2>/dev/null
	return $rc
}

# sluiced warns how many draining flows it could not protect. Then the
# connections the drain table holds close, so the checker (which walks
# only that table) counts no live flow of the backend, while the others
# stay open: the drain must not complete by count, as the sweeps still
# find live flows the table had no room for. Those stay open past the
# deadline: the drain ends there, timed out, and `drain --wait` exits 3.
tfull_past_deadline() {
	local be1 rc secs left st rest=$((TFULL_CONNS - TFULL_TABLE)) t_start
	be1=$(lab_be4 1)
	tfull_open d1 || return 1
	t_start=$(now_s)
	tfull_drain d1 "${TFULL_TIMEOUT}s" 0 || return 1
	# All open: draining, and counted whole (not as the table's 1024).
	tfull_holds 1.5 "$TFULL_CONNS" "with every connection open" || return 1

	# Close the connections the drain table holds.
	tfull_kept_ports >"$LAB_DIR/d1.close.tmp" || return 1
	assert_eq "flows in the drain table" "$TFULL_TABLE" "$(wc -l <"$LAB_DIR/d1.close.tmp")" ||
		return 1
	mv "$LAB_DIR/d1.close.tmp" "$LAB_DIR/d1.close"
	it_wait_for 20 "$TFULL_TABLE" cat "$LAB_DIR/d1.close.done" || return 1
	echo "d1: closed the $TFULL_TABLE kept connections; $rest stay open ($(it_ss_count 1) on be1 by ss)"
	it_wait_for 5 1 tfull_unverifiable_metric || return 1
	# Past close_grace (the checker then counts none), close_linger (the
	# closed entries leave the table, so the rest find room), and sweeps.
	tfull_holds 4 "$rest" "with only unprotected connections open" || return 1
	# The closed flows have left the table: the rest fit, and it is said.
	grep -q "^sluiced: sl_pinned has room again for every draining flow" "$LAB_DIR/sluiced.log" ||
		fail "sluiced did not say the drain table has room again" || return 1

	# They stay open past the deadline: the drain ends there.
	tfull_drain_wait d1 "$t_start"
	rc=$TFULL_RC secs=$TFULL_SECS
	echo "d1: drain --wait returned after ${secs}s (deadline ${TFULL_TIMEOUT}s)"
	assert_eq "drain --wait exit code (3: timed out with flows left)" 3 "$rc" || return 1
	python3 -c "import sys; sys.exit(0 if $TFULL_TIMEOUT - 0.5 <= $secs <= $TFULL_TIMEOUT + 5 else 1)" ||
		fail "drain --wait should return at its deadline (${TFULL_TIMEOUT}s), not before, within 5s" ||
		return 1
	st=$(lab_ctl -j backend status "$TFULL" "$be1")
	left=$(echo "$st" | json - "j[0]['flows_left']")
	echo "d1: be1 $(echo "$st" | json - "{k: j[0][k] for k in ('state', 'timed_out', 'flows_left', 'lost')}")"
	assert_eq "be1's state after the deadline" drained "$(echo "$st" | json - "j[0]['state']")" ||
		return 1
	assert_eq "be1 timed out" True "$(echo "$st" | json - "j[0]['timed_out']")" || return 1
	assert_eq "be1 unverifiable" True "$(echo "$st" | json - "j[0]['unverifiable']")" || return 1
	assert_ge "be1's flows left at the deadline" "$left" "$rest" || return 1
	assert_eq "sluice_backend_drain_unverifiable once drained" 0 "$(tfull_unverifiable_metric)" ||
		return 1
	grep -q "^sluiced: warning: backend $be1 on $TFULL: $rest of its live flows had no room in the drain table: .* ends at its deadline" \
		"$LAB_DIR/sluiced.log" || fail "the blind drain was not logged" || return 1
	assert_eq "'sl_pinned is full' lines in this drain (said once, not at every sweep)" 1 \
		"$(tfull_full_warnings)" || return 1
	assert_eq "be1's flows lost while draining" 0 "$(echo "$st" | json - "j[0]['lost']")" ||
		return 1
	grep -q "^sluiced: warning: backend $be1 on $TFULL: drain deadline passed with $left flows left" \
		"$LAB_DIR/sluiced.log" || fail "the deadline was not logged as a warning" || return 1

	touch "$LAB_DIR/d1.go"
	wait "$(cat "$LAB_DIR/d1.client.pid")"
	echo "d1: client $(cat "$LAB_DIR/d1.json")"
	assert_eq "client errors" "{}" "$(json "$LAB_DIR/d1.json" "j['errors']")" || return 1
	assert_eq "connections closed last (open past the deadline)" "$rest" \
		"$(json "$LAB_DIR/d1.json" "j['closed_last']")"
}

# The table full again, then every connection closes. A flow left out
# of the table could have been evicted unseen while its connection lived,
# so no count can prove the backend idle: the drain still ends only at
# its deadline (exit 3, unverifiable), with no flow left, across a
# restart of sluiced too.
tfull_closed_still_blind() {
	local rc secs before t_start st
	lab_ctl backend undrain "$TFULL" "$(lab_be4 1)" >/dev/null || return 1
	tfull_open d2 || return 1
	before=$(tfull_full_warnings)
	t_start=$(now_s)
	tfull_drain d2 "${TFULL_TIMEOUT2}s" "$before" || return 1
	tfull_holds 1 "$TFULL_CONNS" "with every connection open, again" || return 1
	touch "$LAB_DIR/d2.go"
	wait "$(cat "$LAB_DIR/d2.client.pid")"
	echo "d2: closed every connection: $(cat "$LAB_DIR/d2.json")"
	assert_eq "client errors" "{}" "$(json "$LAB_DIR/d2.json" "j['errors']")" || return 1
	tfull_holds 5 0 "with every connection closed (blind: no count may end it)" || return 1
	# The closed flows are gone by now (close_grace, close_linger). A
	# restart must not forget the drain is blind: a flow evicted before it
	# is as unseen after it, and the sweeps now find nothing left out.
	lab_sluiced_stop TERM
	lab_sluiced_start || return 1
	assert_eq "be1 unverifiable after a restart" True \
		"$(lab_ctl -j backend status "$TFULL" "$(lab_be4 1)" | json - "j[0]['unverifiable']")" ||
		return 1
	tfull_holds 4 0 "after a restart with nothing left out" || return 1
	tfull_drain_wait d2 "$t_start"
	rc=$TFULL_RC secs=$TFULL_SECS
	echo "d2: drain --wait returned after ${secs}s (deadline ${TFULL_TIMEOUT2}s)"
	assert_eq "drain --wait exit code, blind drain" 3 "$rc" || return 1
	python3 -c "import sys; sys.exit(0 if $TFULL_TIMEOUT2 - 0.5 <= $secs <= $TFULL_TIMEOUT2 + 5 else 1)" ||
		fail "a blind drain should end at its deadline (${TFULL_TIMEOUT2}s): ${secs}s" || return 1
	grep -q "the drain table had no room for all its flows" "$LAB_DIR/d2.out" ||
		fail "drain --wait does not say why it timed out" || return 1
	st=$(lab_ctl -j backend status "$TFULL" "$(lab_be4 1)")
	echo "d2: be1 $(echo "$st" | json - "{k: j[0][k] for k in ('state', 'timed_out', 'unverifiable', 'flows_left', 'lost')}")"
	assert_eq "be1 timed out" True "$(echo "$st" | json - "j[0]['timed_out']")" || return 1
	assert_eq "be1 unverifiable" True "$(echo "$st" | json - "j[0]['unverifiable']")" || return 1
	assert_eq "be1's flows left" 0 "$(echo "$st" | json - "j[0]['flows_left']")"
}

# (ix) The same full table, with an agent on be1 (agent_port): its count
# of be1's sockets is ground truth the blind counts lack. The drain holds
# while any connection lives, the left-out ones too, and ends when they
# have all closed, well before its deadline.
TFULL_TIMEOUT3=60

t_truth_drain_table_full_agent_setup() {
	LAB_DRAIN_TABLE=$TFULL_TABLE IT_VIPS="$(it_default_vips)
  - vip: $TFULL
    backends:
      - address: $(lab_be4 1)
        agent_port: 9470" it_setup || return 1
	lab_bg be1 "$LAB_BUILD/sluice-decap" agent --listen "$(lab_be4 1):9470" \
		--vip "$TFULL" >>"$LAB_DIR/agent1.log" 2>&1
	lab_track $!
}

t_truth_drain_table_full_agent() {
	local rc
	TFULL_PIDS=()
	tfull_agent_ends_blind_drain
	rc=$?
	touch "$LAB_DIR/a1.go"
	((${#TFULL_PIDS[@]} == 0)) || wait "${TFULL_PIDS[@]}" 2>/dev/null
	return $rc
}

tfull_agent_ends_blind_drain() {
	local be1 rest=$((TFULL_CONNS - TFULL_TABLE)) t_start t_closed st
	be1=$(lab_be4 1)
	tfull_open a1 || return 1
	t_start=$(now_s)
	tfull_drain a1 "${TFULL_TIMEOUT3}s" 0 || return 1
	grep -q "^sluiced: warning: backend $be1 on $TFULL: $rest of its live flows had no room in the drain table: .* ends when the backend's agent counts no socket, or at its deadline" \
		"$LAB_DIR/sluiced.log" || fail "the blind drain's warning does not name the agent" || return 1
	assert_eq "be1 unverifiable (its agent can still end the drain)" False \
		"$(lab_ctl -j backend status "$TFULL" "$be1" | json - "j[0]['unverifiable']")" || return 1
	assert_eq "sluice_backend_drain_unverifiable with an agent" 0 "$(tfull_unverifiable_metric)" ||
		return 1
	tfull_holds 1.5 "$TFULL_CONNS" "with every connection open" || return 1
	# The kept connections close; the left-out ones, which only the agent
	# can vouch for now, hold the drain.
	tfull_kept_ports >"$LAB_DIR/a1.close.tmp" || return 1
	mv "$LAB_DIR/a1.close.tmp" "$LAB_DIR/a1.close"
	it_wait_for 20 "$TFULL_TABLE" cat "$LAB_DIR/a1.close.done" || return 1
	tfull_holds 4 "$rest" "with only unprotected connections open" || return 1
	# The rest close: the agent counts none, the drain ends by count.
	touch "$LAB_DIR/a1.go"
	wait "$(cat "$LAB_DIR/a1.client.pid")"
	t_closed=$(now_s)
	assert_eq "client errors" "{}" "$(json "$LAB_DIR/a1.json" "j['errors']")" || return 1
	tfull_drain_wait a1 "$t_closed"
	echo "a1: drain --wait returned ${TFULL_SECS}s after the last connection closed" \
		"($(calc "round($t_closed - $t_start, 1)")s into a ${TFULL_TIMEOUT3}s deadline)"
	assert_eq "drain --wait exit code, blind drain with an agent" 0 "$TFULL_RC" || return 1
	python3 -c "import sys; sys.exit(0 if $TFULL_SECS <= 15 else 1)" ||
		fail "drained ${TFULL_SECS}s after the last connection closed: expected within 15s" ||
		return 1
	st=$(lab_ctl -j backend status "$TFULL" "$be1")
	echo "a1: be1 $(echo "$st" | json - "{k: j[0][k] for k in ('state', 'timed_out', 'unverifiable', 'flows_left', 'lost')}")"
	assert_eq "be1's state" drained "$(echo "$st" | json - "j[0]['state']")" || return 1
	assert_eq "be1 timed out" False "$(echo "$st" | json - "j[0]['timed_out']")"
}

