# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Nothing an operator or the environment does by accident hurts a running
# box (issue 13, section 3): a second sluiced, a lost bpffs, a backend's new
# MAC, the last backend drained, a failed first start, stuck control
# clients, a config file that never ends.

ROB_VIP=$LAB_VIP4:80/tcp

# The lab's config with its vips: section replaced by @1 (a file of YAML).
rob_config() {	# out_file [extra lab_config overrides via env]
	lab_config >"$1" <<EOF
vips:
  - vip: $ROB_VIP
    backends:
      - address: $(lab_be4 1)
EOF
}

# Which backends answered @1 new connections: "be1 be2 ..." sorted, unique.
rob_backends_seen() {	# count [vip address]
	lab_client get --vip "${2:-$LAB_VIP4}" --count "$1" |
		json - "' '.join(sorted(j['backends'])) + (' errors=%d' % j['errors'] if j['errors'] else '')"
}

# Listen on a TCP port of the edge box's loopback (60 s at most) so a
# sluiced cannot take it; waits until it listens. ROB_HOLDER is its PID.
rob_hold_port() {	# port
	local i
	lab_bg lb python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(60)' "$1"
	ROB_HOLDER=$!
	lab_track "$ROB_HOLDER"
	for i in $(seq 1 100); do
		lab_ns lb ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	fail "could not hold port $1"
}

# A second sluiced for the running instance (a config listing one backend
# instead of three) refuses before it reads or writes anything: exit 1,
# naming the PID of the running one; tables, state file and program are
# untouched.
t_robust_second_daemon_refused() {
	local cfg=$LAB_DIR/second.yaml out rc sum_before sum_after seen
	rob_config "$cfg"
	sum_before=$(md5sum <"$LAB_DIR/state/state.json" 2>/dev/null || ls "$LAB_DIR/state")
	out=$(lab_ns lb timeout 20 "$LAB_BUILD/sluiced" -c "$cfg" 2>&1)
	rc=$?
	echo "second sluiced: exit $rc: $out"
	assert_eq "exit code of the second sluiced" 1 "$rc" || return 1
	echo "$out" | grep -q "PID $LAB_SLUICED_PID" ||
		fail "the refusal does not name the running sluiced (PID $LAB_SLUICED_PID)" || return 1
	echo "$out" | grep -q "resumed saved state\|attached to\|ready" &&
		{ fail "the second sluiced went ahead before refusing"; return 1; }
	sum_after=$(md5sum <"$LAB_DIR/state/state.json" 2>/dev/null || ls "$LAB_DIR/state")
	assert_eq "state file unchanged" "$sum_before" "$sum_after" || return 1
	assert_eq "backends the running sluiced lists" 3 \
		"$(lab_ctl -j backend list | json - "len(j)")" || return 1
	seen=$(rob_backends_seen 60)
	echo "60 new connections reached: $seen"
	assert_eq "backends reached by new connections" "be1 be2 be3" "$seen" || return 1
	kill -0 "$LAB_SLUICED_PID" || fail "the running sluiced died"
}

# Another config sharing the pin directory (its own socket, state and
# metrics port) is refused too: two daemons would fight over one datapath.
t_robust_shared_pin_dir_refused() {
	local cfg=$LAB_DIR/other.yaml out rc
	LAB_METRICS_PORT=9479 rob_config "$cfg"
	sed -i "s|socket: .*|socket: $LAB_DIR/other.sock|; s|state_dir: .*|state_dir: $LAB_DIR/other-state|" "$cfg"
	out=$(lab_ns lb timeout 20 "$LAB_BUILD/sluiced" -c "$cfg" 2>&1)
	rc=$?
	echo "sluiced sharing the pin dir: exit $rc: $out"
	assert_eq "exit code" 1 "$rc" || return 1
	echo "$out" | grep -q "PID $LAB_SLUICED_PID holds its pin directory" ||
		fail "the refusal does not name the pin directory's holder" || return 1
	[[ -e $LAB_DIR/other.sock ]] && { fail "the refused sluiced created its socket"; return 1; }
	assert_eq "backends reached" "be1 be2 be3" "$(rob_backends_seen 60)" || return 1
	# --detach would pull the datapath from under the running one: refused too.
	out=$(lab_ns lb timeout 20 "$LAB_BUILD/sluiced" -c "$LAB_DIR/sluiced.yaml" --detach 2>&1)
	rc=$?
	echo "--detach while running: exit $rc: $out"
	assert_eq "exit code of --detach while running" 1 "$rc" || return 1
	assert_eq "backends reached after the refused --detach" "be1 be2 be3" \
		"$(rob_backends_seen 30)"
}

# An interface whose XDP hook something else holds: the start is refused,
# exit 1, naming what holds it and how to free it, and leaves nothing
# behind. First another sluiced instance on the lab's interface (its own
# link); then sluice's own program attached by hand, without a link, to a
# new interface, as `bpftool net attach` does; then a program that is not
# sluice's; once that is detached, the start goes ahead.
t_robust_iface_held_explained() {
	local rc
	rob_held_check
	rc=$?
	[[ -s $LAB_DIR/other.pid ]] && kill "$(cat "$LAB_DIR/other.pid")" 2>/dev/null &&
		wait "$(cat "$LAB_DIR/other.pid")" 2>/dev/null
	[[ -e /sys/fs/bpf/sluice-${LAB_P}x ]] &&
		lab_ns lb "$LAB_BUILD/sluiced" -c "$LAB_DIR/other.yaml" --detach >/dev/null 2>&1
	rm -rf "/sys/fs/bpf/sluice-${LAB_P}x"
	return $rc
}

# The other instance's config, on interface @1.
rob_other_config() {	# iface
	LAB_METRICS_PORT=9479 rob_config "$LAB_DIR/other.yaml"
	sed -i "s|^instance: .*|instance: ${LAB_P}x|; s|^  - name: .*|  - name: $1|
		s|socket: .*|socket: $LAB_DIR/other.sock|; s|pin_dir: .*|pin_dir: /sys/fs/bpf/sluice-${LAB_P}x|
		s|state_dir: .*|state_dir: $LAB_DIR/other-state|" "$LAB_DIR/other.yaml"
}

# The other instance, on @1, is refused: exit 1, its output (in
# $LAB_DIR/@2.out) matching @3, no pin directory left.
rob_other_refused() {	# iface name pattern
	local rc
	rob_other_config "$1"
	lab_ns lb timeout 20 "$LAB_BUILD/sluiced" -c "$LAB_DIR/other.yaml" >"$LAB_DIR/$2.out" 2>&1
	rc=$?
	echo "$2: exit $rc: $(cat "$LAB_DIR/$2.out")"
	assert_eq "$2: exit code" 1 "$rc" || return 1
	grep -q "$3" "$LAB_DIR/$2.out" || fail "$2: the refusal does not say: $3" || return 1
	[[ -e /sys/fs/bpf/sluice-${LAB_P}x ]] &&
		{ fail "$2: the refused instance left its pin directory"; return 1; }
	return 0
}

rob_held_check() {
	local id
	rob_other_refused "${LAB_P}l" another-instance \
		"sluice's program, id [0-9]*, is attached through bpf_link [0-9]*, not this instance's: another sluiced instance runs on ${LAB_P}l" ||
		return 1
	assert_eq "backends reached" "be1 be2 be3" "$(rob_backends_seen 30)" || return 1

	# sluice's program (the running one's, by id) attached by hand.
	id=$(lab_ns lb ip -j link show "${LAB_P}l" | json - "j[0]['xdp']['prog']['id']")
	it_is_int "$id" || { fail "test bug: no program id on ${LAB_P}l: $id"; return 1; }
	ip -n "${LAB_P}-lb" link add "${LAB_P}h" type veth peer name "${LAB_P}hp" || return 1
	ip -n "${LAB_P}-lb" link set "${LAB_P}h" up || return 1
	ip -n "${LAB_P}-lb" link set "${LAB_P}hp" up || return 1
	lab_ns lb bpftool net attach xdpdrv id "$id" dev "${LAB_P}h" || return 1
	rob_other_refused "${LAB_P}h" by-hand \
		"sluice's program, id $id, is attached without a link, by hand or by another tool, so no sluiced can replace it: detach it with \`ip link set dev ${LAB_P}h xdp off\`" ||
		return 1
	assert_eq "the program on ${LAB_P}h after the refusal" "$id" \
		"$(lab_ns lb ip -j link show "${LAB_P}h" | json - "j[0]['xdp']['prog']['id']")" || return 1
	lab_ns lb ip link set dev "${LAB_P}h" xdp off || return 1
	# A program that is not sluice's (the backend's decap, through libxdp).
	lab_ns lb "$LAB_BUILD/sluice-decap" attach "${LAB_P}h" || return 1
	rob_other_refused "${LAB_P}h" not-ours \
		"(XDP program [0-9]* '[a-z_]*' is attached\( through a bpf_link\)\?: remove it with \`xdp-loader unload ${LAB_P}h --all\` or \`ip link set dev ${LAB_P}h xdp off\`)" ||
		return 1
	# Done as it says, the start goes ahead.
	lab_ns lb "$LAB_BUILD/sluice-decap" detach "${LAB_P}h" || return 1
	lab_bg lb "$LAB_BUILD/sluiced" -c "$LAB_DIR/other.yaml" >"$LAB_DIR/other3.out" 2>&1
	echo "$!" >"$LAB_DIR/other.pid"
	it_wait_for 10 ok rob_other_up || { cat "$LAB_DIR/other3.out"; return 1; }
}

# The other instance answers on its socket.
rob_other_up() {
	lab_ns lb "$LAB_BUILD/sluicectl" --socket "$LAB_DIR/other.sock" status >/dev/null 2>&1 && echo ok
}

# A first start that fails late (the metrics port is taken, after the maps
# were pinned and the program attached) removes what it created: no pins,
# no pin directory, no program on the interface, no state file. Pins a
# previous run left stay.
t_robust_failed_first_start_cleans_up() {
	local pin=/sys/fs/bpf/sluice-$LAB_P holder rc left
	lab_sluiced_stop TERM
	lab_ns lb "$LAB_BUILD/sluiced" -c "$LAB_DIR/sluiced.yaml" --detach || return 1
	[[ -e $pin ]] && { fail "--detach left $pin"; return 1; }
	# Hold the metrics port in the edge box.
	rob_hold_port 9469 || return 1
	holder=$ROB_HOLDER
	lab_ns lb timeout 30 "$LAB_BUILD/sluiced" -c "$LAB_DIR/sluiced.yaml" \
		>"$LAB_DIR/failed.log" 2>&1
	rc=$?
	cat "$LAB_DIR/failed.log"
	assert_eq "exit code of the failed start" 1 "$rc" || { kill "$holder"; return 1; }
	left=$(ls "$pin" 2>/dev/null | wc -l)
	assert_eq "pins left by the failed first start" 0 "$left" || { kill "$holder"; return 1; }
	[[ -e $pin ]] && { kill "$holder"; fail "pin directory $pin left behind"; return 1; }
	[[ -e $LAB_DIR/state/state.json ]] &&
		{ kill "$holder"; fail "state file of the failed start left behind"; return 1; }
	lab_ns lb ip link show "${LAB_P}l" | grep -q "xdp" &&
		{ kill "$holder"; fail "the failed start left its XDP program attached"; return 1; }
	# A restart that fails keeps what the previous run pinned.
	kill "$holder"
	wait "$holder" 2>/dev/null
	lab_sluiced_start || return 1
	lab_sluiced_stop TERM
	left=$(ls "$pin" | wc -l)
	rob_hold_port 9469 || return 1
	holder=$ROB_HOLDER
	lab_ns lb timeout 30 "$LAB_BUILD/sluiced" -c "$LAB_DIR/sluiced.yaml" >/dev/null 2>&1
	rc=$?
	kill "$holder"
	wait "$holder" 2>/dev/null
	assert_eq "exit code of the failed restart" 1 "$rc" || return 1
	assert_eq "pins kept by the failed restart" "$left" "$(ls "$pin" | wc -l)" || return 1
	lab_sluiced_start || return 1
	assert_eq "backends reached after all that" "be1 be2 be3" "$(rob_backends_seen 60)"
}

# sluiced's metrics page, from inside the edge box.
rob_scrape() {
	lab_ns lb curl -s -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics"
}

rob_metric() {	# sample name with labels, as on the page
	rob_scrape | awk -v n="$1" '$1 == n { print $2 }'
}

# Draining or removing the last active backend of a VIP is refused without
# --force, naming the VIP (CLI and control protocol); the VIP keeps
# serving; a gauge shows the active count and an alert fires at 0.
t_robust_last_backend_refused() {
	local be3 out rc gauge="sluice_vip_active_backends{vip=\"$ROB_VIP\"}"
	be3=$(lab_be4 3)
	lab_ctl backend drain "$ROB_VIP" "$(lab_be4 1)" >/dev/null || return 1
	lab_ctl backend drain "$ROB_VIP" "$(lab_be4 2)" >/dev/null || return 1
	assert_eq "active backends gauge" 1 "$(rob_metric "$gauge")" || return 1
	out=$(lab_ctl backend drain "$ROB_VIP" "$be3" 2>&1)
	rc=$?
	echo "drain of the last one: exit $rc: $out"
	assert_eq "exit code" 1 "$rc" || return 1
	echo "$out" | grep -q "last active backend of VIP $ROB_VIP" ||
		fail "the refusal does not name the VIP" || return 1
	echo "$out" | grep -q "hint: .*--force" || fail "no --force hint" || return 1
	out=$(lab_ctl backend drain "$be3" 2>&1)
	assert_eq "exit code (drain on every VIP)" 1 "$?" || return 1
	out=$(lab_ctl backend del "$ROB_VIP" "$be3" 2>&1)
	rc=$?
	echo "del of the last one: exit $rc: $out"
	assert_eq "exit code (del)" 1 "$rc" || return 1
	# Weight 0 takes new flows away as a drain does: the same guard.
	out=$(lab_ctl backend set "$ROB_VIP" "$be3" --weight 0 2>&1)
	rc=$?
	echo "weight 0 on the last one: exit $rc: $out"
	assert_eq "exit code (set --weight 0)" 1 "$rc" || return 1
	echo "$out" | grep -q "last active backend of VIP $ROB_VIP" ||
		fail "the weight refusal does not name the VIP" || return 1
	out=$(it_ctl_raw "{\"cmd\":\"backend.drain\",\"vip\":\"$ROB_VIP\",\"backend\":\"$be3\"}")
	echo "protocol: $out"
	assert_eq "protocol errno" EPERM "$(echo "$out" | json - "j['errno']")" || return 1
	assert_eq "state of the last backend" active "$(it_state "$ROB_VIP" "$be3")" || return 1
	assert_eq "new connections, all on the last backend" be3 "$(rob_backends_seen 20)" || return 1
	# With --force it goes through, the gauge says 0 and the rule fires.
	lab_ctl backend drain "$ROB_VIP" "$be3" --force >/dev/null || return 1
	assert_eq "state after --force" draining "$(it_state "$ROB_VIP" "$be3")" || return 1
	assert_eq "active backends gauge after --force" 0 "$(rob_metric "$gauge")" || return 1
	cat >"$LAB_DIR/rob_alerts.yml" <<EOT
rule_files: [$LAB_SRC/scripts/monitoring/alerts.yml]
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'sluice_vip_active_backends{job="sluice",instance="lb",vip="$ROB_VIP"}'
        values: '1 1 0 0 0 0 0'
      - series: 'sluice_xdp_attached{job="sluice",instance="lb",interface="eth0"}'
        values: '1 0 0 0 0 0 0'
      - series: 'sluice_pins_ok{job="sluice",instance="lb"}'
        values: '1 1 0 0 0 0 0 0 0 0'
    alert_rule_test:
      - eval_time: 30s
        alertname: SluiceVIPNoActiveBackend
      - eval_time: 1m15s
        alertname: SluiceVIPNoActiveBackend
        exp_alerts:
          - exp_labels: {severity: critical, job: sluice, instance: lb, vip: "$ROB_VIP"}
            exp_annotations:
              summary: "$ROB_VIP has no active backend"
              description: "Every backend of the VIP is draining, drained or weighted 0: new connections are dropped. Undrain or add a backend (sluicectl backend undrain VIP ADDR)."
      - eval_time: 1m
        alertname: SluiceNotAttached
        exp_alerts:
          - exp_labels: {severity: critical, job: sluice, instance: lb, interface: eth0}
            exp_annotations:
              summary: "eth0 on lb does not run sluice's XDP program"
              description: "Its VIPs are not balanced, and a box that announces withdraws every VIP meanwhile. sluiced attaches by itself to an interface re-created with no program (within a second), so this one was detached by hand, runs another program, or cannot take sluice's (see sluiced's log). Restarting sluiced attaches it again."
      - eval_time: 2m
        alertname: SluicePinsLost
        exp_alerts:
          - exp_labels: {severity: critical, job: sluice, instance: lb}
            exp_annotations:
              summary: "sluiced on lb lost its pins in bpffs"
              description: "Mount bpffs again (mount -t bpf bpf /sys/fs/bpf); sluiced re-pins within a second. Do not stop sluiced until then."
EOT
	promtool test rules "$LAB_DIR/rob_alerts.yml"
}

# deadline_unix_ms of a backend on the test VIP, as backend.status says.
rob_deadline() {	# backend
	it_ctl_raw "{\"cmd\":\"backend.status\",\"vip\":\"$ROB_VIP\",\"backend\":\"$1\"}" |
		json - "j['result'][0]['deadline_unix_ms']"
}

# Re-draining with another --timeout moves the deadline and says so;
# without --timeout the deadline in force is kept, and that is said too.
t_robust_redrain_moves_deadline() {
	local be1 out now dl dl2 rc t0
	it_streams_start rd 12 200000 45 || return 1
	be1=$(it_busiest_backend "$ROB_VIP") || return 1
	assert_eq "the first drain's deadline, as sluiced replies" set \
		"$(rob_drain_raw "$be1" 600000)" || return 1
	out=$(lab_ctl backend drain "$ROB_VIP" "$be1" --timeout 20s 2>&1 >/dev/null)
	echo "re-drain --timeout 20s: $out"
	echo "$out" | grep -q "was already draining: deadline moved to 20s from now (was [0-9]*m[0-9]*s\?)" ||
		fail "no 'deadline moved' note" || return 1
	now=$(date +%s%3N)
	dl=$(rob_deadline "$be1")
	[[ $dl =~ ^[0-9]+$ ]] || fail "no deadline in backend.status: '$dl'" || return 1
	assert_le "new deadline (ms from now)" $((dl - now)) 20000 || return 1
	assert_ge "new deadline (ms from now)" $((dl - now)) 10000 || return 1
	out=$(lab_ctl backend drain "$ROB_VIP" "$be1" 2>&1 >/dev/null)
	echo "re-drain without --timeout: $out"
	echo "$out" | grep -q "deadline kept" || fail "no 'deadline kept' note" || return 1
	dl2=$(rob_deadline "$be1")
	assert_eq "deadline after a re-drain without --timeout" "$dl" "$dl2" || return 1
	# The moved deadline is the one in force: the drain times out with the
	# streams still open (exit 3), not 10 minutes later.
	t0=$(date +%s)
	lab_ctl backend drain "$ROB_VIP" "$be1" --wait >/dev/null 2>&1
	rc=$?
	echo "drain --wait: exit $rc after $(($(date +%s) - t0))s"
	assert_eq "drain --wait exit code (timed out)" 3 "$rc" || return 1
	assert_le "seconds until the moved deadline ended the drain" $(($(date +%s) - t0)) 40 || return 1
	assert_eq "a drain of the drained backend, as sluiced replies" none \
		"$(rob_drain_raw "$be1" 600000)" || return 1
	it_streams_wait rd >/dev/null
}

# backend.drain of @1 with timeout_ms @2, straight on the socket: the
# reply's "deadline" (set, moved, kept or none).
rob_drain_raw() {	# backend timeout_ms
	it_ctl_raw "{\"cmd\":\"backend.drain\",\"vip\":\"$ROB_VIP\",\"backend\":\"$1\",\"timeout_ms\":$2}" |
		json - "j['result'][0]['deadline']"
}

# The wall clock steps (NTP stepping a clock that was far off, `date -s`)
# an hour ahead, then back, while a drain of be1 runs with connections
# open: the drain keeps the time it had left both ways, and ends at its
# 20 s deadline in real time, neither at once (ahead) nor an hour late
# (back). The step is sluiced's alone: libfaketime shifts its
# CLOCK_REALTIME (FAKETIME_TIMESTAMP_FILE, re-read at each call); its
# CLOCK_MONOTONIC and CLOCK_BOOTTIME, and everyone else's clocks, are real.
t_robust_wall_clock_step() { it_run_then_release cs rob_clock_step; }

# Restart sluiced with its wall clock at offset @1 (libfaketime's syntax).
rob_faketime_sluiced() {	# offset
	echo "$1" >"$LAB_DIR/faketime.rc"
	it_faketime_wrapper "$LAB_DIR/sluiced-faketime" "$LAB_DIR/faketime.rc" \
		"$LAB_BUILD/sluiced" || return 1
	lab_sluiced_stop TERM
	LAB_SLUICED=$LAB_DIR/sluiced-faketime lab_sluiced_start
}

# Nine idle connections to the robust VIP, then be1 drained with --wait
# --timeout 20s in the background (files $LAB_DIR/@1.*): ROB_T0, the
# drain's start in s, and ROB_DL0, its deadline as sluiced says.
rob_clock_drain() {	# file prefix
	local p=$LAB_DIR/$1 be1
	be1=$(lab_be4 1)
	lab_client idle --vip "$LAB_VIP4" --count 9 --ready "$p.ready" --go "$p.go" \
		--max-seconds 60 >"$p.json" &
	echo "$!" >"$p.client.pid"
	it_wait_for 10 9 cat "$p.ready" || return 1
	it_wait_ge 10 1 it_flows "$ROB_VIP" "$be1" || return 1
	ROB_T0=$(now_s)
	( lab_ctl backend drain "$ROB_VIP" "$be1" --wait --timeout 20s >"$p.out" 2>&1
	  echo $? >"$p.rc"; now_s >"$p.t" ) &
	echo "$!" >"$p.drain.pid"
	it_wait_for 10 draining rob_be_state "$be1" || return 1
	ROB_DL0=$(rob_deadline "$be1")
}

# rob_clock_drain @1's end: exit 3 (timed out, connections open) at its
# 20 s deadline in real time, whatever the clock did meanwhile.
rob_clock_drain_end() {	# file prefix
	local p=$LAB_DIR/$1 rc secs
	wait "$(cat "$p.drain.pid")"
	rc=$(cat "$p.rc")
	secs=$(calc "round($(cat "$p.t") - $ROB_T0, 1)")
	cat "$p.out"
	echo "drain --wait: exit $rc after ${secs}s (deadline 20s, connections open)"
	assert_eq "drain --wait exit code (timed out with connections open)" 3 "$rc" || return 1
	python3 -c "import sys; sys.exit(0 if 19 <= $secs <= 26 else 1)" ||
		fail "the drain should end at its 20 s deadline in real time, not after ${secs}s"
}

rob_clock_step() {
	local be1 dl0 dl1 dl2
	be1=$(lab_be4 1)
	rob_faketime_sluiced "+0" || return 1
	rob_clock_drain cs || return 1
	dl0=$ROB_DL0
	echo "draining be1, deadline $dl0 with $(it_flows "$ROB_VIP" "$be1") flows"
	sleep 2
	echo "+3600" >"$LAB_DIR/faketime.rc"
	sleep 3
	dl1=$(rob_deadline "$be1")
	echo "an hour ahead: be1 $(rob_be_state "$be1"), deadline $dl1 ($(((dl1 - dl0) / 1000)) s later)"
	assert_eq "be1 after the clock stepped an hour ahead" draining "$(rob_be_state "$be1")" ||
		return 1
	assert_near "the deadline moved with the clock (ms)" $((dl1 - dl0)) 3600000 1500 || return 1
	echo "+0" >"$LAB_DIR/faketime.rc"
	sleep 3
	dl2=$(rob_deadline "$be1")
	echo "back again: be1 $(rob_be_state "$be1"), deadline $dl2"
	assert_eq "be1 after the clock stepped back" draining "$(rob_be_state "$be1")" || return 1
	assert_near "the deadline back where it was (ms)" "$dl2" "$dl0" 3000 || return 1
	grep -q "sluiced: warning: the wall clock stepped by +3600.0 s: 1 running drain keeps the time it had left" \
		"$LAB_DIR/sluiced.log" || fail "the step ahead was not said" || return 1
	grep -q "sluiced: warning: the wall clock stepped by -3600.0 s: 1 running drain keeps" \
		"$LAB_DIR/sluiced.log" || fail "the step back was not said" || return 1
	rob_clock_drain_end cs || return 1
	# The once-a-second datapath check runs on the boot clock too: an
	# hour back did not put it off for an hour. (This takes the lab's
	# program away: the client closes its connections first.)
	touch "$LAB_DIR/cs.go"
	wait "$(cat "$LAB_DIR/cs.client.pid")" 2>/dev/null
	bpftool link detach pinned "/sys/fs/bpf/sluice-$LAB_P/link_${LAB_P}l" || return 1
	it_wait_for 10 1 grep -c "ALERT: ${LAB_P}l does not run sluice's XDP program" \
		"$LAB_DIR/sluiced.log" || return 1
	assert_eq "metric sluice_xdp_attached after the detach (README, bpffs)" 0 \
		"$(rob_metric "sluice_xdp_attached{interface=\"${LAB_P}l\"}")"
}

# The wall clock steps an hour ahead while sluiced is stopped, mid-drain
# (a restart that takes a while, an NTP step at boot of a service that
# restarted): the restarted sluiced sees the step against the clock mark
# its state file holds (same boot), and the drain keeps the time it had
# left instead of timing out at once with its connections open. drain
# --wait rides the restart and ends at the 20 s deadline in real time.
t_robust_wall_clock_step_while_stopped() { it_run_then_release cw rob_clock_stopped; }

rob_clock_stopped() {
	local be1 dl0 dl1
	be1=$(lab_be4 1)
	rob_faketime_sluiced "+0" || return 1
	rob_clock_drain cw || return 1
	dl0=$ROB_DL0
	grep -q '"wall_clock"' "$LAB_DIR/state/state.json" ||
		fail "the state file holds no wall_clock mark" || return 1
	lab_sluiced_stop TERM
	echo "+3600" >"$LAB_DIR/faketime.rc"
	sleep 1
	LAB_SLUICED=$LAB_DIR/sluiced-faketime lab_sluiced_start || return 1
	dl1=$(rob_deadline "$be1")
	echo "restarted an hour ahead: be1 $(rob_be_state "$be1"), deadline $dl1 ($(((dl1 - dl0) / 1000)) s later)"
	assert_eq "be1 after a restart an hour ahead" draining "$(rob_be_state "$be1")" || return 1
	assert_near "the deadline moved with the clock (ms)" $((dl1 - dl0)) 3600000 1500 || return 1
	grep -q "sluiced: warning: the wall clock stepped by +3600.0 s while sluiced was stopped: 1 running drain keeps the time it had left" \
		"$LAB_DIR/sluiced.log" || fail "the step while stopped was not said" || return 1
	rob_clock_drain_end cw
}

# be1's state on the robust VIP.
rob_be_state() {	# backend
	it_ctl_raw "{\"cmd\":\"backend.status\",\"vip\":\"$ROB_VIP\",\"backend\":\"$1\"}" |
		json - "j['result'][0]['state']"
}

# 64 clients trickling one byte every 2 s are disconnected once their
# request is overdue (SL_CTL_REQUEST_MS, 10 s), however they trickle; a
# drain --wait running meanwhile retries the "too many control
# connections" refusals and still ends with exit 0.
t_robust_ctl_trickle_slots() {
	local be1 out rc waitpid
	it_streams_start tr 9 100000 14 || return 1
	be1=$(it_busiest_backend "$ROB_VIP") || return 1
	lab_ctl backend drain "$ROB_VIP" "$be1" --wait --timeout 2m \
		>"$LAB_DIR/tr-wait.out" 2>"$LAB_DIR/tr-wait.err" &
	waitpid=$!
	sleep 1
	lab_ns lb timeout 60 python3 - "$LAB_DIR/sluiced.sock" 64 <<'PY' >"$LAB_DIR/trickle.json"
import json, select, socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
t0 = time.time()
socks, closed_at = [], {}
for _ in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.setblocking(False)
    socks.append(s)
last_byte = 0
while len(closed_at) < n and time.time() - t0 < 40:    # bounded: 40 s
    if time.time() - last_byte >= 2:                    # one byte each, every 2 s
        for i, s in enumerate(socks):
            if i not in closed_at:
                try:
                    s.send(b"{")
                except OSError:
                    closed_at[i] = time.time() - t0
        last_byte = time.time()
    r, _, _ = select.select([s for i, s in enumerate(socks) if i not in closed_at], [], [], 0.2)
    for s in r:
        i = socks.index(s)
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data or b"too many" in data:
            closed_at[i] = time.time() - t0
print(json.dumps({"clients": n, "closed": len(closed_at),
                  "max_s": max(closed_at.values()) if closed_at else None}))
PY
	cat "$LAB_DIR/trickle.json"
	assert_eq "trickling clients disconnected" 64 "$(json "$LAB_DIR/trickle.json" "j['closed']")" || return 1
	assert_le "seconds until the last one was cut off" \
		"$(json "$LAB_DIR/trickle.json" "int(j['max_s'])")" 25 || return 1
	lab_ctl status >/dev/null || fail "status after the trickle" || return 1
	wait "$waitpid"
	rc=$?
	echo "drain --wait: exit $rc"
	cat "$LAB_DIR/tr-wait.err"
	assert_eq "drain --wait exit code" 0 "$rc" || return 1
	grep -q "too many control connections" "$LAB_DIR/tr-wait.err" ||
		fail "drain --wait never met a refusal: the test did not test the retry" || return 1
	it_streams_wait tr >/dev/null
	it_streams_all_ok tr 9
}

# Run a command in sluiced's own mount namespace (see rob_private_sluiced).
# -r -w: setns() into a mount namespace moves to that namespace's root,
# which is not sluiced's when the tests run in a chroot (a fresh machine).
rob_in_mnt() {
	nsenter -t "$LAB_SLUICED_PID" -m -r -w "$@"
}

# Restart the lab's sluiced in a private mount namespace with its own
# bpffs on /sys/fs/bpf, so a test can unmount bpffs there: the host's
# /sys/fs/bpf (other tests, other engineers) is never touched.
rob_private_sluiced() {
	local wrap=$LAB_DIR/sluiced-private.sh
	lab_sluiced_stop TERM
	lab_ns lb "$LAB_BUILD/sluiced" -c "$LAB_DIR/sluiced.yaml" --detach >/dev/null 2>&1 || return 1
	cat >"$wrap" <<EOT
#!/bin/sh
# Every step execs: the PID the lab tracks stays sluiced's.
# In the private namespace only: drop the host's bpffs from view (else it
# shows through once ours is unmounted), then mount a bpffs of our own.
exec unshare -m --propagation private sh -c 'while mountpoint -q /sys/fs/bpf; do umount -l /sys/fs/bpf || exit 1; done; mount -t bpf bpf /sys/fs/bpf && exec "\$0" "\$@"' "$LAB_BUILD/sluiced" "\$@"
EOT
	chmod +x "$wrap"
	LAB_SLUICED=$wrap lab_sluiced_start
}

rob_status() {	# python expression on the status result "j"
	lab_ctl -j status | json - "$1"
}

# Unmounting bpffs under a running sluiced: streams and new connections
# keep flowing (sluiced holds its own map and link fds), status and metrics
# say the pins are lost but the program is attached; once bpffs is back,
# sluiced re-creates the pin directory and re-pins everything.
t_robust_bpffs_unmount() {
	local pin=/sys/fs/bpf/sluice-$LAB_P seen
	rob_private_sluiced || return 1
	assert_eq "pins in the private bpffs" yes \
		"$(rob_in_mnt test -e "$pin/sl_flows" && echo yes)" || return 1
	[[ -e $pin ]] && { fail "the private sluiced pinned into the host's bpffs"; return 1; }
	it_streams_start um 20 400000 12 || return 1
	# Lazily: sluiced holds the pin directory open (its lock), which can
	# make a plain umount "busy"; umount -l takes the pins out of sight
	# either way.
	rob_in_mnt umount -l /sys/fs/bpf || return 1
	echo "unmounted bpffs in sluiced's mount namespace"
	it_wait_for 10 False rob_status "j['pins_ok']" || return 1
	assert_eq "status: attached" True "$(rob_status "j['interfaces'][0]['attached']")" || return 1
	assert_eq "metric sluice_pins_ok" 0 "$(rob_metric sluice_pins_ok)" || return 1
	assert_eq "metric sluice_xdp_attached" 1 \
		"$(rob_metric "sluice_xdp_attached{interface=\"${LAB_P}l\"}")" || return 1
	grep -q "ALERT: the pin directory $pin is gone" "$LAB_DIR/sluiced.log" ||
		fail "sluiced did not say the pins are lost" || return 1
	seen=$(rob_backends_seen 20)
	echo "20 new connections with bpffs unmounted reached: $seen"
	assert_eq "new connections with bpffs unmounted" "be1 be2 be3" "$seen" || return 1
	it_streams_wait um >/dev/null
	it_streams_all_ok um 20 || return 1
	# The operator mounts it again: everything is pinned again.
	rob_in_mnt mount -t bpf bpf /sys/fs/bpf || return 1
	it_wait_for 10 True rob_status "j['pins_ok']" || return 1
	assert_eq "map and link pins back" yes "$(rob_in_mnt sh -c \
		"test -e $pin/sl_flows && test -e $pin/sl_backends && test -e $pin/link_${LAB_P}l && echo yes")" ||
		return 1
	assert_ge "metric sluice_repins_total" "$(rob_metric sluice_repins_total)" 3 || return 1
	grep -q "pins restored in $pin" "$LAB_DIR/sluiced.log" || fail "no 'pins restored' line" || return 1
	assert_eq "new connections after the remount" "be1 be2 be3" "$(rob_backends_seen 20)"
}

# The edge device's ifindex in the lb namespace (empty if it is gone).
rob_edge_ifindex() {
	ip -n "${LAB_P}-lb" -o link show dev "${LAB_P}l" 2>/dev/null | cut -d: -f1
}

# The id of the XDP program on the edge interface (empty: none).
rob_edge_xdp_id() {
	ip -n "${LAB_P}-lb" -o link show dev "${LAB_P}l" 2>/dev/null |
		grep -o 'prog/xdp id [0-9]*' | cut -d' ' -f3
}

# The edge interface deleted and created again (a driver reload, a veth
# or bond re-made by a network manager): sluiced attaches to the new
# device within seconds, says so and counts it, and new connections are
# balanced over every backend again (the edge box does not forward: only
# sluice gets them through). A device sluice was detached from by hand
# is left alone: sluiced says it is not attached, and does not fight. So
# is a new device that comes with another XDP program, until that program
# is detached.
t_robust_iface_recreated() {
	local old new seen i pin=/sys/fs/bpf/sluice-$LAB_P
	assert_eq "new connections before" "be1 be2 be3" "$(rob_backends_seen 30)" || return 1
	old=$(rob_edge_ifindex)
	ip -n "${LAB_P}-lb" link del "${LAB_P}l" || return 1
	echo "deleted ${LAB_P}l (ifindex $old)"
	it_wait_for 10 False rob_status "j['interfaces'][0]['attached']" || return 1
	_lab_edge || return 1	# the veth, its addresses and routes, decap on the router's side
	new=$(rob_edge_ifindex)
	echo "created ${LAB_P}l again (ifindex $new)"
	[[ -n $new && $new != "$old" ]] || fail "the new device has ifindex '$new', the old one had $old" || return 1
	it_wait_for 10 True rob_status "j['interfaces'][0]['attached']" || return 1
	grep "re-created" "$LAB_DIR/sluiced.log"
	grep -q "${LAB_P}l was re-created (ifindex $new, was $old): sluice's XDP program attached to it again (native mode)" \
		"$LAB_DIR/sluiced.log" || fail "sluiced did not say it attached to the new ${LAB_P}l" || return 1
	assert_eq "metric sluice_xdp_reattaches_total" 1 "$(rob_metric sluice_xdp_reattaches_total)" || return 1
	assert_eq "metric sluice_xdp_attached" 1 \
		"$(rob_metric "sluice_xdp_attached{interface=\"${LAB_P}l\"}")" || return 1
	# The new link is pinned in the old one's place, and watched as ours.
	it_wait_for 5 True rob_status "j['pins_ok']" || return 1
	# The router learns the new device's MAC from its first packets.
	for i in $(seq 1 20); do
		seen=$(rob_backends_seen 30)
		[[ $seen == "be1 be2 be3" ]] && break
		sleep 1
	done
	echo "new connections after the re-creation reach: $seen"
	assert_eq "new connections after the re-creation" "be1 be2 be3" "$seen" || return 1

	# Detached by hand from the device it runs on: not re-attached.
	bpftool link detach pinned "$pin/link_${LAB_P}l" || return 1
	it_wait_for 10 False rob_status "j['interfaces'][0]['attached']" || return 1
	sleep 3	# three of the main loop's checks
	assert_eq "status after a detach by hand" False \
		"$(rob_status "j['interfaces'][0]['attached']")" || return 1
	assert_eq "metric sluice_xdp_reattaches_total after a detach by hand" 1 \
		"$(rob_metric sluice_xdp_reattaches_total)" || return 1
	grep -q "ALERT: ${LAB_P}l does not run sluice's XDP program" "$LAB_DIR/sluiced.log" ||
		fail "sluiced did not say ${LAB_P}l lost its program" || return 1
	rob_recreated_with_other_program "$new"
}

# The edge device re-created once more, with another XDP program on it
# before it takes the configured name (renamed into place, so sluiced
# never sees it bare): that program stays, sluiced says so once; once it
# is detached, sluiced attaches.
rob_recreated_with_other_program() {	# ifindex sluiced was attached to
	local other new n
	ip -n "${LAB_P}-lb" link del "${LAB_P}l" || return 1
	ip link add "${LAB_P}t" netns "${LAB_P}-lb" type veth \
		peer name "${LAB_P}lr" netns "${LAB_P}-rtr" || return 1
	lab_ns lb "$LAB_BUILD/sluice-decap" attach "${LAB_P}t" || return 1
	ip -n "${LAB_P}-lb" link set "${LAB_P}t" name "${LAB_P}l" || return 1
	ip -n "${LAB_P}-lb" link set "${LAB_P}l" up || return 1
	new=$(rob_edge_ifindex)
	other=$(rob_edge_xdp_id)
	echo "created ${LAB_P}l again (ifindex $new) with another XDP program, id $other"
	[[ -n $other ]] || fail "test bug: no XDP program on the new ${LAB_P}l" || return 1
	it_wait_for 10 1 grep -c "ALERT: ${LAB_P}l was re-created (ifindex $new, was $1) with another XDP program on it: left alone" \
		"$LAB_DIR/sluiced.log" || return 1
	sleep 3	# three more of the main loop's checks
	assert_eq "the program on the new ${LAB_P}l" "$other" "$(rob_edge_xdp_id)" || return 1
	n=$(grep -c "with another XDP program on it" "$LAB_DIR/sluiced.log")
	assert_eq "times sluiced said so" 1 "$n" || return 1
	assert_eq "status with another program on ${LAB_P}l" False \
		"$(rob_status "j['interfaces'][0]['attached']")" || return 1
	assert_eq "metric sluice_xdp_reattaches_total with another program" 1 \
		"$(rob_metric sluice_xdp_reattaches_total)" || return 1
	lab_ns lb "$LAB_BUILD/sluice-decap" detach "${LAB_P}l" || return 1
	it_wait_for 10 True rob_status "j['interfaces'][0]['attached']" || return 1
	assert_eq "metric sluice_xdp_reattaches_total after the other program left" 2 \
		"$(rob_metric sluice_xdp_reattaches_total)"
}

# sluicectl status round trip in ms (empty if it failed).
rob_status_ms() {
	local t0 t1
	t0=$(date +%s%N)
	lab_ctl status >/dev/null || return 1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# A config path that hangs (a FIFO nobody writes): SIGHUP reads it off the
# main loop, so the control socket keeps answering and drains keep being
# decided; the reload is refused with the reason, and a later good reload
# still applies.
t_robust_fifo_reload() {
	local cfg=$LAB_DIR/sluiced.yaml be1 ms i max=0
	be1=$(lab_be4 1)
	mv "$cfg" "$cfg.real" || return 1
	mkfifo "$cfg" || return 1
	kill -HUP "$LAB_SLUICED_PID"
	lab_ctl backend drain "$ROB_VIP" "$be1" >/dev/null || { rm -f "$cfg"; mv "$cfg.real" "$cfg"; return 1; }
	for i in 1 2 3 4 5; do
		ms=$(rob_status_ms) || { fail "status failed during the reload"; break; }
		((ms > max)) && max=$ms
		sleep 0.5
	done
	echo "slowest status round trip after SIGHUP with a FIFO config: ${max} ms"
	rm -f "$cfg"
	mv "$cfg.real" "$cfg"
	[[ -n $ms ]] || return 1
	assert_le "slowest status round trip (ms)" "$max" 5000 || return 1
	it_wait_for 10 drained it_state "$ROB_VIP" "$be1" || return 1
	grep -q "reload rejected, running state unchanged: $cfg is not a regular file (a FIFO)" \
		"$LAB_DIR/sluiced.log" || fail "no reason for the refused reload in the log" || return 1
	# A good file again: the next SIGHUP applies it.
	sed -i "s|      - address: $(lab_be4 2)|      - address: $(lab_be4 2)\n        weight: 50|" "$cfg"
	grep -q "weight: 50" "$cfg" || fail "test bug: the weight edit did not apply" || return 1
	kill -HUP "$LAB_SLUICED_PID"
	it_wait_for 20 50 it_weight "$ROB_VIP" "$(lab_be4 2)"
}

# sluicectl reload reads the file off the main loop too: while a reload's
# parse is held up (its sandboxed parser child stopped), other clients are
# answered at once, the reloading client gets its result once the parse
# ends, and a request pipelined behind the reload is answered after it.
t_robust_ctl_reload_off_main_loop() {
	local out
	sed -i "s|      - address: $(lab_be4 2)|      - address: $(lab_be4 2)\n        weight: 40|" \
		"$LAB_DIR/sluiced.yaml"
	out=$(lab_ns lb timeout 60 python3 - "$LAB_DIR/sluiced.sock" "$LAB_SLUICED_PID" <<'PY'
import glob, json, os, signal, socket, sys, time
path, daemon = sys.argv[1], int(sys.argv[2])

def children():
    kids = set()
    for f in glob.glob("/proc/%d/task/*/children" % daemon):
        try:
            kids.update(int(p) for p in open(f).read().split())
        except OSError:
            pass
    return kids

def ask(req, timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(json.dumps(req).encode() + b"\n")
    return s

def stopped(pid):
    # 'T' once the stop took. A child caught as it exited (its result
    # already written) ignores SIGSTOP, becomes a zombie and is reaped.
    try:
        stat = open("/proc/%d/stat" % pid).read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] == "T"

def read_lines(s, n):
    buf = b""
    while buf.count(b"\n") < n:
        data = s.recv(65536)
        if not data:
            break
        buf += data
    return [json.loads(l) for l in buf.split(b"\n")[:n]]

before = children()
res = {"caught": False}
for attempt in range(20):                       # bounded: 20 reloads at most
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path)
    # A reload, and a status pipelined behind it in the same write.
    s.sendall(b'{"cmd":"reload"}\n{"cmd":"status"}\n')
    t0 = time.time()
    child = None
    while time.time() - t0 < 2 and child is None:
        new = children() - before
        if new:
            child = min(new)
            try:
                os.kill(child, signal.SIGSTOP)
            except ProcessLookupError:
                child = None
                break
    if child is not None:
        time.sleep(0.05)
        if not stopped(child):                  # it was exiting: try again
            try:
                os.kill(child, signal.SIGCONT)
            except ProcessLookupError:
                pass
            child = None
    if child is None:
        read_lines(s, 2)
        s.close()
        continue
    res["caught"] = True
    time.sleep(1.0)
    # The parse is stuck: another client is still answered at once.
    t1 = time.time()
    st = read_lines(ask({"cmd": "status"}), 1)[0]
    res["status_ms"] = int((time.time() - t1) * 1000)
    res["status_ok"] = st.get("ok")
    # The reloading client has no reply yet.
    s.setblocking(False)
    try:
        early = s.recv(65536)
    except BlockingIOError:
        early = b""
    res["early_reply"] = len(early)
    s.setblocking(True)
    os.kill(child, signal.SIGCONT)
    replies = read_lines(s, 2)
    res["reload_ok"] = replies[0].get("ok")
    res["applied"] = replies[0].get("result", {}).get("applied")
    res["second_is_status"] = "instance" in json.dumps(replies[1].get("result", {}))
    res["attempts"] = attempt + 1
    break
print(json.dumps(res))
PY
)
	echo "$out"
	assert_eq "the reload's parser child was caught and held" True "$(echo "$out" | json - "j['caught']")" || return 1
	assert_eq "status during the held reload" True "$(echo "$out" | json - "j['status_ok']")" || return 1
	assert_le "status round trip during the held reload (ms)" "$(echo "$out" | json - "j['status_ms']")" 1000 || return 1
	assert_eq "reply bytes before the reload ended" 0 "$(echo "$out" | json - "j['early_reply']")" || return 1
	assert_eq "the reload's reply" True "$(echo "$out" | json - "j['reload_ok']")" || return 1
	assert_eq "the reload applied" True "$(echo "$out" | json - "j['applied']")" || return 1
	assert_eq "the pipelined status answered after the reload" True \
		"$(echo "$out" | json - "j['second_is_status']")" || return 1
	it_wait_for 5 40 it_weight "$ROB_VIP" "$(lab_be4 2)"
}

# The edge box's kernel neighbour entry for backend i: "MAC STATE".
rob_neigh() {	# i [6: its IPv6 address]
	local addr
	addr=$(if [[ ${2:-} == 6 ]]; then lab_be6 "$1"; else lab_be4 "$1"; fi)
	lab_ns lb ip neigh show "$addr" dev "${LAB_P}l" | awk '{print $3, $NF}'
}

# A backend's MAC changes mid-stream (a replaced NIC, a moved VM, no
# gratuitous ARP): sluice follows the kernel's neighbour state (it makes
# the kernel re-probe the STALE entry, and takes the new MAC the moment the
# kernel learns it), so streams and new connections to it recover within
# seconds, and the packets sent meanwhile are counted. The edge box's
# neighbour timers are shortened (an operator's choice, documented) so the
# kernel notices the change in seconds rather than in its default 15-45 s.
t_robust_backend_mac_change() {
	local dev=${LAB_P}b1 be1 old new=02:00:5e:00:be:01 i t0 seen n metric
	be1=$(lab_be4 1)
	_lab_sysctl lb "net.ipv4.neigh.${LAB_P}l.base_reachable_time_ms=2000" \
		"net.ipv4.neigh.${LAB_P}l.delay_first_probe_time=1"
	# An entry keeps the reachable time it was confirmed with: start be1's
	# afresh (sluiced has the kernel resolve it again at once).
	lab_ns lb ip neigh del "$be1" dev "${LAB_P}l" || return 1
	for i in $(seq 1 50); do
		[[ $(rob_neigh 1) == *" REACHABLE" ]] && break
		sleep 0.2
	done
	assert_eq "new connections before" "be1 be2 be3" "$(rob_backends_seen 30)" || return 1
	old=$(rob_neigh 1)
	echo "edge box's neighbour entry for be1 before: $old"
	it_streams_start mac 15 300000 25 || return 1
	# Keep be1's own broadcasts (its ARP for the router after the change)
	# from teaching the edge box the new MAC for free: as on a network
	# where the backend's gateway is not on the edge box's segment, only
	# the edge box's own probes can find it out. (locktime: a valid entry
	# is not overridden by unsolicited ARP for 60 s after its last update.)
	_lab_sysctl lb "net.ipv4.neigh.${LAB_P}l.locktime=6000"
	lab_ns be1 ip link set dev "$dev" address "$new" || return 1
	t0=$(date +%s)
	echo "be1's MAC is now $new"
	# Recovered: the kernel and sluice use the new MAC, and be1 answers.
	for i in $(seq 1 60); do
		[[ $(rob_neigh 1) == "$new REACHABLE" || $(rob_neigh 1) == "$new STALE" ||
		   $(rob_neigh 1) == "$new DELAY" ]] && break
		sleep 0.5
	done
	echo "after $(($(date +%s) - t0))s the entry is: $(rob_neigh 1)"
	[[ $(rob_neigh 1) == "$new "* ]] || fail "the kernel never learnt be1's new MAC" || return 1
	for i in $(seq 1 30); do
		seen=$(rob_backends_seen 30)
		[[ $seen == "be1 be2 be3" ]] && break
		sleep 1
	done
	n=$(($(date +%s) - t0))
	echo "new connections reach $seen, ${n}s after the change"
	assert_eq "new connections after the MAC change" "be1 be2 be3" "$seen" || return 1
	assert_le "seconds until be1 served new connections again" "$n" 30 || return 1
	it_streams_wait mac >/dev/null
	it_streams_all_ok mac 15 || return 1
	metric=$(rob_metric "sluice_backend_nexthop_unconfirmed_packets_total{vip=\"$ROB_VIP\",backend=\"$be1\"}")
	echo "packets sent to be1 through an unconfirmed next hop: $metric"
	assert_ge "unconfirmed next-hop packets counted for be1" "${metric:-0}" 1
}

# A backend that announces its new MAC (arp_notify and ndisc_notify: a
# gratuitous ARP and an unsolicited neighbour advertisement when its
# address changes, README "Backends whose MAC changes") is followed at
# once, with the edge box's neighbour timers at their defaults: the
# kernel takes the announcement over its entry, sluice takes the kernel's
# new MAC, and streams and new connections over IPv4 and IPv6 carry on.
# Unannounced, the same change waits out the default timers (15-60 s).
t_robust_backend_mac_announced() {
	local dev=${LAB_P}b1 v6="[$LAB_VIP6]:80/tcp" new=02:00:5e:00:be:11 i t0 n seen
	lab_ctl vip add "$v6" || return 1
	for i in 1 2 3; do lab_ctl backend add "$v6" "$(lab_be6 "$i")" || return 1; done
	_lab_sysctl be1 "net.ipv4.conf.$dev.arp_notify=1" "net.ipv6.conf.$dev.ndisc_notify=1" ||
		return 1
	assert_eq "IPv4 new connections before" "be1 be2 be3" "$(rob_backends_seen 30)" || return 1
	assert_eq "IPv6 new connections before" "be1 be2 be3" \
		"$(rob_backends_seen 30 "$LAB_VIP6")" || return 1
	# Just used, so REACHABLE: for 15-45 s the kernel would not re-check them.
	echo "edge box's entries for be1 before: $(rob_neigh 1), $(rob_neigh 1 6)"
	it_streams_start mac4 10 300000 10 || return 1
	IT_STREAM_VIP=$LAB_VIP6 it_streams_start mac6 10 300000 10 || return 1
	# be1's other broadcasts (its ARP for its router, which the change
	# flushed) must not teach the edge box for free: an entry refuses
	# unsolicited ARP for locktime after its last update, a gratuitous
	# one excepted.
	_lab_sysctl lb "net.ipv4.neigh.${LAB_P}l.locktime=6000" || return 1
	lab_ns be1 ip link set dev "$dev" address "$new" || return 1
	t0=$(date +%s)
	for i in $(seq 1 50); do
		[[ $(rob_neigh 1) == "$new "* && $(rob_neigh 1 6) == "$new "* ]] && break
		sleep 0.1
	done
	echo "be1's MAC is now $new; the edge box's entries: $(rob_neigh 1), $(rob_neigh 1 6)"
	[[ $(rob_neigh 1) == "$new "* ]] || fail "the gratuitous ARP did not update the IPv4 entry" ||
		return 1
	[[ $(rob_neigh 1 6) == "$new "* ]] ||
		fail "the unsolicited advertisement did not update the IPv6 entry" || return 1
	seen=$(rob_backends_seen 30)
	assert_eq "IPv4 new connections after the change" "be1 be2 be3" "$seen" || return 1
	seen=$(rob_backends_seen 30 "$LAB_VIP6")
	assert_eq "IPv6 new connections after the change" "be1 be2 be3" "$seen" || return 1
	n=$(($(date +%s) - t0))
	echo "both families served by be1 again ${n}s after the change"
	assert_le "seconds until be1 served new connections again" "$n" 5 || return 1
	it_streams_wait mac4 >/dev/null
	it_streams_wait mac6 >/dev/null
	it_streams_all_ok mac4 10 || return 1
	it_streams_all_ok mac6 10
}

# The state directory fills up (a full /var): a change whose state cannot
# be saved is refused with the reason, and changes nothing, neither the
# tables nor what a restart would resume. Space back, the same change
# applies.
ROB_FULL=
t_robust_state_disk_full_teardown() {
	[[ -n $ROB_FULL ]] && umount -l "$ROB_FULL" 2>/dev/null
	it_teardown
}
t_robust_state_disk_full() {
	local out rc saved be2
	be2=$(lab_be4 2)
	[[ -d $LAB_DIR ]] || { fail "no lab directory"; return 1; }
	ROB_FULL=$LAB_DIR/fullstate
	mkdir -p "$ROB_FULL" && mount -t tmpfs -o size=256k tmpfs "$ROB_FULL" || return 1
	lab_sluiced_stop TERM
	it_default_vips | LAB_STATE_DIR=$ROB_FULL lab_config >"$LAB_DIR/sluiced.yaml"
	lab_sluiced_start || return 1
	saved=$(cat "$ROB_FULL/state.json") || return 1
	# Fill it (bounded: the tmpfs is 256 KiB): dd stops at ENOSPC.
	dd if=/dev/zero of="$ROB_FULL/filler" bs=4k count=128 2>/dev/null
	out=$(lab_ctl backend drain "$ROB_VIP" "$be2" 2>&1)
	rc=$?
	echo "drain with the state directory full: exit $rc: $out"
	assert_eq "exit code" 1 "$rc" || return 1
	[[ $out == *"cannot write state file $ROB_FULL/state.json"*"No space left on device"* ]] ||
		fail "the refusal does not name the file and the reason: $out" || return 1
	assert_eq "be2's state after the refused drain" active \
		"$(lab_ctl -j backend list | json - "[r['state'] for r in j if r['backend']=='$be2'][0]")" ||
		return 1
	assert_eq "new connections after the refused drain" "be1 be2 be3" "$(rob_backends_seen 30)" ||
		return 1
	assert_eq "the state file after the refused drain" "$saved" "$(cat "$ROB_FULL/state.json")" ||
		return 1
	[[ -z $(find "$ROB_FULL" -name '*.tmp') ]] || fail "a temporary state file was left" || return 1
	# Space back: the same drain applies.
	rm -f "$ROB_FULL/filler"
	lab_ctl backend drain "$ROB_VIP" "$be2" || return 1
	assert_eq "new connections once drained" "be1 be3" "$(rob_backends_seen 30)" || return 1
	assert_eq "be2 draining or drained in the state file" True \
		"$(json "$ROB_FULL/state.json" "[b['state'] for v in j['vips'] for b in v['backends'] if b['address']=='$be2'][0] in ('draining', 'drained')")" ||
		return 1
	lab_sluiced_stop TERM
	umount "$ROB_FULL" && ROB_FULL=
}
