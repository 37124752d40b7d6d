# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# systemd integration without systemd as PID 1: sluiced's sd_notify
# messages caught on a datagram socket we own (as systemd would be), and
# its journald priorities and audit lines with JOURNAL_STREAM naming the
# log file, exactly as systemd names the journal's stream.

# Collect every notification datagram on $1, one line each ('\n' -> '|').
it_notify_listen() {	# socket log
	python3 - "$1" "$2" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
end = time.monotonic() + 180          # bounded: the test takes seconds
s.settimeout(1)
with open(sys.argv[2], "a", buffering=1) as f:
    while time.monotonic() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        f.write(msg.replace("\n", "|") + "\n")
PY
	lab_track $!
	it_wait_for 5 yes test_exists "$1"
}

test_exists() { [[ -e $1 ]] && echo yes || echo no; }

it_count() {	# file regex
	local n
	n=$(grep -cE "$2" "$1" 2>/dev/null)
	echo "${n:-0}"
}

# READY=1 only once the program is attached and the tables are live;
# WATCHDOG=1 from the main loop at half of WATCHDOG_USEC; RELOADING=1 then
# READY=1 around a reload; STOPPING=1 on SIGTERM.
t_sd_notify_lifecycle() {
	local sock=$LAB_DIR/notify.sock log=$LAB_DIR/notify.log n
	lab_sluiced_stop TERM
	it_notify_listen "$sock" "$log" || return 1
	export NOTIFY_SOCKET=$sock WATCHDOG_USEC=1000000
	lab_sluiced_start
	n=$?
	unset NOTIFY_SOCKET WATCHDOG_USEC
	[[ $n -eq 0 ]] || return 1
	it_wait_for 5 1 it_count "$log" '^READY=1' || return 1
	head -1 "$log"
	grep -E '^READY=1\|STATUS=serving 1 VIPs, 3 backends\|MAINPID=[0-9]+$' "$log" ||
		fail "READY=1 should carry the status and MAINPID" || return 1
	ip -n "${LAB_P}-lb" link show "${LAB_P}l" | grep -q xdp ||
		fail "READY=1 sent while no XDP program is attached" || return 1
	# 1 s watchdog: a ping every 0.5 s, so at least 4 in 3 s, under load too.
	sleep 3
	n=$(it_count "$log" '^WATCHDOG=1$')
	echo "WATCHDOG=1 pings in ~3 s: $n"
	assert_ge "watchdog pings in 3 s" "$n" 4 || return 1
	kill -HUP "$LAB_SLUICED_PID"
	it_wait_for 5 2 it_count "$log" '^READY=1' || return 1
	grep -A1 -E '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$' "$log" | grep -q '^READY=1' ||
		fail "a reload should send RELOADING=1 and then READY=1" || return 1
	lab_sluiced_stop TERM
	it_wait_for 5 1 it_count "$log" '^STOPPING=1' || return 1
	grep -v '^WATCHDOG' "$log"
}

# Under the journal every line carries its syslog priority, so
# `journalctl -p warning` shows warnings and errors and nothing else, and
# `-p alert` just the ALERTs; each control action leaves one audit line
# (peer uid and pid, command, arguments, result), read-only queries none.
t_journal_priorities_and_audit() {
	local logf=$LAB_DIR/sluiced.log good=$LAB_DIR/sluiced.yaml be2 lines
	be2=$(lab_be4 2)
	grep -q '^sluiced: ready' "$logf" ||
		fail "off the journal, lines should read 'sluiced: ...'" || return 1
	lab_sluiced_stop TERM
	: >"$logf"	# same inode: JOURNAL_STREAM below names it
	export JOURNAL_STREAM=$(stat -c '%d:%i' "$logf")
	lab_sluiced_start
	lines=$?
	unset JOURNAL_STREAM
	[[ $lines -eq 0 ]] || return 1
	lab_ctl status >/dev/null && lab_ctl backend list >/dev/null || return 1
	lab_ctl backend drain "$LAB_VIP4:80/tcp" "$be2" >/dev/null || return 1
	lab_ctl backend drain "$LAB_VIP4:80/tcp" 198.18.20.99 >/dev/null 2>&1 &&
		fail "draining an unknown backend should fail" && return 1
	cp "$good" "$LAB_DIR/good.yaml"
	echo "vips: [oops" >"$good"
	kill -HUP "$LAB_SLUICED_PID"
	it_wait_for 5 1 it_count "$logf" '^<3>reload rejected' || return 1
	# sluicectl reload is answered, and audited, once the reload is over:
	# the bad file's is a failed action (though its reply is "ok",
	# applied false), the good file's a success.
	lab_ctl reload >/dev/null 2>&1 &&
		fail "sluicectl reload of a bad file should fail" && return 1
	it_wait_for 5 2 it_count "$logf" '^<3>reload rejected' || return 1
	cp "$LAB_DIR/good.yaml" "$good"
	lab_ctl reload >/dev/null || fail "sluicectl reload of the good file" || return 1
	it_wait_for 5 2 it_count "$logf" 'audit: .* cmd=reload ' || return 1
	cat "$logf"
	lines=$(grep -cvE '^<[0-7]>' "$logf")
	assert_eq "log lines without a <N> priority" 0 "$lines" || return 1
	grep -qE '^<6>ready: ' "$logf" || fail "ready should be <6> (info)" || return 1
	grep -qE "^<6>audit: uid=0 pid=[0-9]+ cmd=backend.drain args=\{.*\"$be2\".*\} result=ok$" "$logf" ||
		fail "no audit line for the drain" || return 1
	grep -qE '^<4>audit: uid=0 pid=[0-9]+ cmd=backend.drain args=\{.*"198.18.20.99".*\} result=error ENOENT: ' "$logf" ||
		fail "no warning audit line for the failed drain" || return 1
	grep -qE '^<4>audit: uid=0 pid=[0-9]+ cmd=reload args=\{.*\} result=error rejected: .*sluiced\.yaml:' "$logf" ||
		fail "no warning audit line saying why sluicectl reload was rejected" || return 1
	grep -qE '^<6>audit: uid=0 pid=[0-9]+ cmd=reload args=\{.*\} result=ok$' "$logf" ||
		fail "no audit line for the good reload" || return 1
	assert_eq "audit lines of the two reloads (one each; SIGHUP is no control action)" 2 \
		"$(grep -c 'audit: .* cmd=reload ' "$logf")" || return 1
	assert_eq "audit lines (4 actions; status and list are not audited)" 4 \
		"$(grep -c 'audit: ' "$logf")" || return 1
	# What journalctl -p warning would show: the two rejected reloads, the
	# failed drain and the failed reload's audit line.
	assert_eq "lines at warning or worse" 4 "$(grep -cE '^<[0-4]>' "$logf")" || return 1
	# The program detached by hand: an ALERT, at syslog priority alert.
	bpftool link detach pinned "/sys/fs/bpf/sluice-$LAB_P/link_${LAB_P}l" || return 1
	it_wait_for 5 1 it_count "$logf" "^<1>ALERT: ${LAB_P}l does not run sluice's XDP program" ||
		return 1
	assert_eq "lines at alert or worse" 1 "$(grep -cE '^<[0-1]>' "$logf")"
}

# sluiced under sluiced.service's capabilities and system-call filter
# (README, "Least privilege"): it starts, balances, drains a backend to
# the end with --wait, reloads (sluicectl reload, the unit's ExecReload,
# sandboxed too), passes --check (ExecStartPre), restarts over its own
# pins and stops cleanly; nothing it does is refused. Before the filter
# was fixed, bpf() itself was (a later ~@privileged line took it back).
t_sluiced_under_unit_sandbox() {
	local w=$LAB_DIR/sluiced-sandboxed be1 pid rc out sb
	it_sandboxed_sluiced "$w" || return 1
	cat "$w"
	lab_sluiced_stop TERM
	export LAB_SLUICED=$w
	lab_sluiced_start || { unset LAB_SLUICED; return 1; }
	pid=$LAB_SLUICED_PID
	grep -E '^(CapEff|NoNewPrivs|Seccomp):' "/proc/$pid/status"
	assert_eq "seccomp mode of sluiced" 2 \
		"$(awk '/^Seccomp:/ {print $2}' "/proc/$pid/status")" || return 1
	assert_eq "sluiced's capabilities (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON)" \
		000000c000001000 "$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")" || return 1

	be1=$(lab_be4 1)
	out=$(lab_client get --vip "$LAB_VIP4" --count 30)
	assert_eq "requests failed through a sandboxed sluiced" 0 \
		"$(echo "$out" | json - "j['errors']")" || return 1
	it_streams_start sb 6 1000000 2 || return 1
	lab_ctl backend drain "$LAB_VIP4:80/tcp" "$be1" --wait --timeout 60s ||
		{ fail "drain --wait under the sandbox"; return 1; }
	it_streams_wait sb
	it_streams_all_ok sb 6 || return 1
	lab_ctl backend undrain "$LAB_VIP4:80/tcp" "$be1" || return 1
	# ExecReload and ExecStartPre run under the same sandbox.
	sb=$(it_unit_sandbox sluiced.service) || return 1
	# shellcheck disable=SC2086 # $sb is a word list
	lab_ns lb $sb "$LAB_BUILD/sluicectl" -s "$LAB_DIR/sluiced.sock" reload ||
		{ fail "sluicectl reload (ExecReload) under the sandbox"; return 1; }
	# shellcheck disable=SC2086
	lab_ns lb $sb "$LAB_BUILD/sluiced" -c "$LAB_DIR/sluiced.yaml" --check ||
		{ fail "sluiced --check (ExecStartPre) under the sandbox"; return 1; }
	out=$(lab_ns lb curl -sf -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics") ||
		{ fail "no metrics under the sandbox"; return 1; }
	assert_ge "metric samples" "$(echo "$out" | grep -c '^sluice_')" 10 || return 1

	# A restart over its own pins (the datapath forwards meanwhile).
	lab_sluiced_stop TERM
	lab_sluiced_start || { unset LAB_SLUICED; return 1; }
	out=$(lab_client get --vip "$LAB_VIP4" --count 30)
	assert_eq "requests failed after a sandboxed restart" 0 \
		"$(echo "$out" | json - "j['errors']")" || return 1
	pid=$LAB_SLUICED_PID
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	LAB_SLUICED_PID=
	unset LAB_SLUICED
	assert_eq "sluiced's exit code on SIGTERM" 0 "$rc" || return 1
	# The boot id (the state file's clock mark) is readable in the unit.
	! grep -q "cannot read /proc/sys/kernel/random/boot_id" "$LAB_DIR/sluiced.log" ||
		fail "sluiced cannot read the boot id under its unit's sandbox" || return 1
	grep -q '"wall_clock"' "$LAB_DIR/state/state.json" ||
		fail "no wall_clock mark in the state file under the sandbox" || return 1
	it_sandbox_refusals "$LAB_DIR/sluiced.log"
}

# sluice-decap@.service's ExecStart and ExecStop under its unit's
# sandbox on backend 1, whose decap program the lab attached: attaching
# over it swaps it in place, detaching removes it, attaching puts it
# back, traffic flows, all exit 0. Without CAP_SYS_ADMIN, which the unit once lacked, the detach must
# fail loudly and leave the program in place, never report success.
t_decap_under_unit_sandbox() {
	local sb dev="${LAB_P}b1" addrs out rc old_id
	sb=$(it_unit_sandbox sluice-decap@.service) || return 1
	addrs="$(lab_be4 1) $(lab_be6 1)"
	echo "$sb"

	# Attaching over the running program (new addresses, an upgrade)
	# swaps it in place: one program, a new one, traffic unbroken.
	old_id=$(it_decap_id be1 "$dev")
	# shellcheck disable=SC2086 # $sb and $addrs are word lists
	lab_ns be1 $sb "$LAB_BUILD/sluice-decap" attach "$dev" $addrs ||
		{ fail "attach over the running program, under the unit"; return 1; }
	assert_eq "decap programs on $dev after attaching over it" 1 "$(it_decap_count be1 "$dev")" || return 1
	[[ $(it_decap_id be1 "$dev") != "$old_id" ]] ||
		{ fail "attaching over it left the old program ($old_id)"; return 1; }
	out=$(lab_client get --vip "$LAB_VIP4" --count 30)
	assert_eq "requests failed after attaching over it" 0 \
		"$(echo "$out" | json - "j['errors']")" || return 1

	# The capabilities the unit had before: a loud failure, nothing changed.
	out=$(lab_ns be1 setpriv --bounding-set=-all,+bpf,+net_admin,+perfmon \
		--inh-caps=-all,+bpf,+net_admin,+perfmon --ambient-caps=-all,+bpf,+net_admin,+perfmon \
		"$LAB_BUILD/sluice-decap" detach "$dev" 2>&1)
	rc=$?
	echo "without CAP_SYS_ADMIN: exit $rc: $out"
	assert_eq "detach without CAP_SYS_ADMIN: exit code" 1 "$rc" || return 1
	[[ $out == *"needs CAP_SYS_ADMIN"* ]] ||
		{ fail "the error should name CAP_SYS_ADMIN"; return 1; }
	assert_eq "decap programs still on $dev" 1 "$(it_decap_count be1 "$dev")" || return 1

	# shellcheck disable=SC2086 # $sb and $addrs are word lists
	lab_ns be1 $sb "$LAB_BUILD/sluice-decap" detach "$dev" ||
		{ fail "detach under the unit"; return 1; }
	assert_eq "decap programs on $dev after the detach" 0 "$(it_decap_count be1 "$dev")" || return 1
	# shellcheck disable=SC2086
	lab_ns be1 $sb "$LAB_BUILD/sluice-decap" attach "$dev" $addrs ||
		{ fail "attach under the unit"; return 1; }
	assert_eq "decap programs on $dev after attaching again" 1 "$(it_decap_count be1 "$dev")" || return 1
	out=$(lab_client get --vip "$LAB_VIP4" --count 30)
	echo "$out"
	assert_eq "requests failed after the sandboxed restart" 0 \
		"$(echo "$out" | json - "j['errors']")" || return 1
	assert_ge "requests served by be1" "$(echo "$out" | json - "j['backends'].get('be1', 0)")" 1
}

# Python expression $3 of `xdp`, interface $2's XDP attachment in
# namespace $1 as `ip -j link` shows it ({} when none).
it_xdp_eval() {
	lab_ns "$1" ip -j link show "$2" | python3 -c '
import json, sys
xdp = json.load(sys.stdin)[0].get("xdp") or {}
print(eval(sys.argv[1]))' "$3"
}

# How many sluice_decap programs namespace $1 has on interface $2.
it_decap_count() {
	it_xdp_eval "$1" "$2" 'sum(a["prog"]["name"] == "sluice_decap" for a in xdp.get("attached", []))'
}

# The id of the program on interface $2 of namespace $1 ("none").
it_decap_id() {
	it_xdp_eval "$1" "$2" 'xdp.get("prog", {}).get("id", "none")'
}
