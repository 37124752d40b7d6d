# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# An operator's first day: sluiced's start errors each name their cause
# (bpffs missing or hidden, pin directory, interfaces, pinned sizes),
# --check finds what a start would refuse, a reload names the settings it
# cannot apply, sluicectl says an error once (and as JSON with -j), a
# damaged state file is refused, and the lab's teardown signals only the
# processes it started. Each test runs in its own lab (tests/integration).

# A second sluiced config in this lab, apart from the running one: its own
# instance, socket and state; metrics off. $1 names it; YAML on stdin is
# appended (vips, flows, ...). FT_PIN_DIR and FT_IFACE override the
# pin directory and interface.
ft_config() {	# name
	local name=$1
	cat >"$LAB_DIR/ft-$name.yaml" <<EOF
instance: ft${name}
interfaces:
  - name: ${FT_IFACE:-${LAB_P}l}
encap:
  source_v4: ${LAB_LB4}
control:
  socket: ${LAB_DIR}/ft-${name}.sock
metrics:
  listen: "off"
paths:
  pin_dir: ${FT_PIN_DIR:-/sys/fs/bpf/sluice-${LAB_P}/ft-${name}}
  state_dir: ${LAB_DIR}/ft-${name}-state
$(cat)
EOF
	echo "$LAB_DIR/ft-$name.yaml"
}

# Run a command bounded in time; its stderr and stdout go to FILE, its
# exit code is returned. ft_run_lb runs it in the edge box's namespace.
ft_run() {	# file command...
	local out=$1
	shift
	timeout 30 "$@" >"$out" 2>&1
}

ft_run_lb() {	# file command...
	local out=$1
	shift
	ft_run "$out" nsenter --net="/run/netns/${LAB_P}-lb" "$@"
}

# Running, not a zombie: our own children stay in /proc until waited for.
ft_running() {	# pid
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ -n $st && $st != Z* ]]
}

# The running sluiced still serves and its datapath still forwards.
ft_lab_unharmed() {
	lab_ctl status >/dev/null || fail "the lab's sluiced stopped answering" || return 1
	lab_ns cli curl -s -m 5 -o /dev/null "http://$LAB_VIP4/" ||
		fail "the VIP stopped answering" || return 1
}

# Without bpffs, sluiced says so and how to mount it. A private mount and
# PID namespace (PID 1 is sluiced itself) unmounts bpffs there only.
t_start_bpffs_not_mounted() {
	local cfg rc out=$LAB_DIR/ft-nobpf.out
	cfg=$(ft_config nobpf </dev/null)
	lab_ns lb unshare --mount --propagation private --pid --fork --mount-proc \
		bash -c 'while [[ $(stat -f -c %T /sys/fs/bpf) == bpf_fs ]]; do
				umount -l /sys/fs/bpf || exit 99
			 done
			 exec timeout 30 "$0" -c "$1"' "$LAB_BUILD/sluiced" "$cfg" >"$out" 2>&1
	rc=$?
	cat "$out"
	assert_eq "sluiced exit code without bpffs" 1 "$rc" || return 1
	grep -q "is not on bpffs: bpffs is not mounted at /sys/fs/bpf" "$out" ||
		fail "no line says bpffs is not mounted" || return 1
	grep -q "^sluiced: hint: mount it: mount -t bpf bpf /sys/fs/bpf" "$out" ||
		fail "no hint says how to mount bpffs" || return 1
	[[ $(stat -f -c %T /sys/fs/bpf) == bpf_fs ]] ||
		fail "bpffs was unmounted outside the test's namespace" || return 1
	ft_lab_unharmed
}

# `ip netns exec` remounts /sys and hides bpffs: detected and named.
t_start_bpffs_hidden_by_ip_netns_exec() {
	local cfg rc out=$LAB_DIR/ft-netns.out
	cfg=$(ft_config netns </dev/null)
	ft_run "$out" ip netns exec "${LAB_P}-lb" "$LAB_BUILD/sluiced" -c "$cfg"
	rc=$?
	cat "$out"
	assert_eq "sluiced exit code under ip netns exec" 1 "$rc" || return 1
	grep -q "runs in its own mount namespace without the bpffs that PID 1 has mounted (\`ip netns exec\` remounts /sys" "$out" ||
		fail "no line names ip netns exec hiding bpffs" || return 1
	grep -q "^sluiced: hint: start sluiced with \`nsenter --net=/run/netns/NAME sluiced" "$out" ||
		fail "no hint names nsenter" || return 1
	ft_lab_unharmed
}

# A pin directory under a pinned map cannot be created: said, with a hint.
t_start_pin_dir_not_creatable() {
	local cfg rc out=$LAB_DIR/ft-pin.out
	cfg=$(FT_PIN_DIR=/sys/fs/bpf/sluice-${LAB_P}/sl_flows/sub ft_config pin </dev/null)
	ft_run_lb "$out" "$LAB_BUILD/sluiced" -c "$cfg"
	rc=$?
	cat "$out"
	assert_eq "sluiced exit code" 1 "$rc" || return 1
	grep -q "cannot create pin directory /sys/fs/bpf/sluice-${LAB_P}/sl_flows/sub: .* is a pinned object, not a directory" "$out" ||
		fail "no line says the pin directory cannot be created" || return 1
	grep -q "^sluiced: hint: " "$out" || fail "no hint" || return 1
	ft_lab_unharmed
}

# Entries the pinned sl_flows shards hold together.
ft_flow_capacity() {
	local i
	for i in 0 1 2 3; do
		bpftool -j map show pinned "/sys/fs/bpf/sluice-${LAB_P}/sl_flows_$i" |
			json - "j['max_entries']"
	done | awk '{ s += $1 } END { print s }'
}

# --check reports every problem a start would meet here; the start refuses
# the same ones, all at once, before touching the running instance's maps.
t_check_finds_what_start_refuses() {
	local cfg rc out=$LAB_DIR/ft-check.out flows_before flows_after
	flows_before=$(ft_flow_capacity)
	cfg=$(FT_PIN_DIR=/sys/fs/bpf/sluice-${LAB_P} FT_IFACE=slnosuch0 ft_config check <<EOF
flows:
  table_size: 2048
EOF
)
	ft_run_lb "$out" "$LAB_BUILD/sluiced" -c "$cfg" --check
	rc=$?
	cat "$out"
	assert_eq "--check exit code" 3 "$rc" || return 1
	grep -q "interfaces\[0\].name: no interface slnosuch0 in this network namespace" "$out" ||
		fail "--check missed the interface" || return 1
	grep -q "flows.table_size: the pinned map /sys/fs/bpf/sluice-${LAB_P}/sl_flows has $flows_before entries (in its shards) but the config asks for 2048" "$out" ||
		fail "--check missed the pinned table size" || return 1
	grep -q "$cfg: 2 problems a start would refuse" "$out" ||
		fail "--check did not count 2 problems" || return 1

	ft_run_lb "$out" "$LAB_BUILD/sluiced" -c "$cfg"
	rc=$?
	cat "$out"
	assert_eq "start exit code" 1 "$rc" || return 1
	grep -q "no interface slnosuch0" "$out" && grep -q "flows.table_size: the pinned map" "$out" ||
		fail "the refused start did not name both problems" || return 1
	grep -q "not started: 2 problems" "$out" || fail "no summary line" || return 1
	flows_after=$(ft_flow_capacity)
	assert_eq "pinned sl_flows size after the refused start" "$flows_before" "$flows_after" || return 1
	ft_lab_unharmed
}

# A config --check accepts here, then the bad ones a start would also refuse.
t_check_config_errors() {
	local cfg rc out=$LAB_DIR/ft-cfg.out
	cfg=$(ft_config good <<EOF
vips:
  - vip: 198.18.0.110:80/tcp
    backends: [{address: $(lab_be4 1)}]
EOF
)
	ft_run_lb "$out" "$LAB_BUILD/sluiced" -c "$cfg" --check
	rc=$?
	cat "$out"
	assert_eq "--check exit code on a good config" 0 "$rc" || return 1
	grep -q "$cfg: ok" "$out" || fail "--check did not say ok" || return 1

	cfg=$(ft_config bad <<EOF
flows:
  table_size: 10
vips:
  - vip: 198.18.0.110:80/tcp
    backends:
      - address: 198.18.0.111
      - address: 127.0.0.1
  - vip: 198.18.0.111:80/tcp
---
vips: []
EOF
)
	ft_run_lb "$out" "$LAB_BUILD/sluiced" -c "$cfg" --check
	rc=$?
	cat "$out"
	assert_eq "--check exit code on a bad config" 3 "$rc" || return 1
	grep -q "flows.table_size: 10 is out of range" "$out" &&
		grep -q "backend 198.18.0.111 is the address of VIP 198.18.0.111:80/tcp" "$out" &&
		grep -q "backend 127.0.0.1 is a loopback address" "$out" &&
		grep -q "a second YAML document starts here" "$out" ||
		fail "--check did not report all four problems" || return 1
	grep -qxF "$cfg: invalid" "$out" || fail "--check did not say invalid" || return 1

	# An unknown option is a usage error: exit 2, the reason and the usage.
	ft_run "$out" "$LAB_BUILD/sluiced" --bogus
	rc=$?
	cat "$out"
	assert_eq "exit code on an unknown option" 2 "$rc" || return 1
	grep -q "unrecognized option '--bogus'" "$out" ||
		fail "no line names the unknown option" || return 1
	grep -q "^usage: sluiced " "$out" || fail "no usage message" || return 1

	ft_run "$out" "$LAB_BUILD/sluiced" -c "$cfg" --check --detach
	rc=$?
	cat "$out"
	assert_eq "--check --detach exit code" 2 "$rc" || return 1
	grep -q "^sluiced: error: --check and --detach cannot be used together" "$out" ||
		fail "no line says --check and --detach conflict" || return 1
	ft_lab_unharmed
}

# A reload applies VIPs and says which edited settings wait for a restart.
t_reload_names_restart_only_settings() {
	local i
	sed -i 's/^flows:$/flows:\n  table_size: 2097152/' "$LAB_DIR/sluiced.yaml"
	cat >>"$LAB_DIR/sluiced.yaml" <<EOF
maglev:
  seed: 7
EOF
	kill -HUP "$LAB_SLUICED_PID"
	for i in $(seq 1 100); do
		grep -q "reload: maglev.seed is" "$LAB_DIR/sluiced.log" && break
		sleep 0.1
	done
	cat "$LAB_DIR/sluiced.log"
	grep -qF "reload: flows.table_size is \"2097152\" in $LAB_DIR/sluiced.yaml but \"1048576\" is running: applies on restart; a restart refuses it while the pinned maps exist: sluiced --detach first (drops every flow)" "$LAB_DIR/sluiced.log" &&
		grep -qF "reload: maglev.seed is \"7\" in $LAB_DIR/sluiced.yaml but \"0\" is running: applies on restart" "$LAB_DIR/sluiced.log" ||
		fail "the reload did not name the restart-only settings" || return 1
	ft_lab_unharmed
}

# sluicectl says an error once, and with -j as JSON on stdout too.
t_ctl_error_once_and_json() {
	local rc err=$LAB_DIR/ft-ctl.err out=$LAB_DIR/ft-ctl.out
	lab_ctl backend drain 198.18.20.99 >"$out" 2>"$err"
	rc=$?
	cat "$err"
	assert_eq "exit code" 1 "$rc" || return 1
	assert_eq "times 'cannot drain' is said" 1 "$(grep -o "cannot drain" "$err" | wc -l)" || return 1
	assert_eq "stdout without -j" "" "$(cat "$out")" || return 1

	lab_ctl -j backend drain "$LAB_VIP4:80/tcp" 198.18.20.99 >"$out" 2>"$err"
	rc=$?
	cat "$err" "$out"
	assert_eq "exit code with -j" 1 "$rc" || return 1
	assert_eq "JSON ok" False "$(json "$out" "j['ok']")" || return 1
	assert_eq "JSON error equals the stderr line" "$(sed -n 's/^sluicectl: //p' "$err")" \
		"$(json "$out" "j['error']")" || return 1
}

# A state file listing one VIP twice is refused with a clear error.
t_state_file_duplicate_vip_refused() {
	local state=$LAB_DIR/state/state.json rc
	lab_sluiced_stop TERM
	it_state_duplicate_vip "$state" || return 1
	: >"$LAB_DIR/sluiced.log"
	ft_run_lb "$LAB_DIR/ft-state.out" "$LAB_BUILD/sluiced" -c "$LAB_DIR/sluiced.yaml"
	rc=$?
	cat "$LAB_DIR/ft-state.out"
	assert_eq "sluiced exit code" 1 "$rc" || return 1
	grep -q "VIP $LAB_VIP4:80/tcp is listed twice in \"vips\" (entries 0 and 1)" "$LAB_DIR/ft-state.out" ||
		fail "no line names the duplicate VIP" || return 1
}

# The lab's teardown signals a recorded PID only while it is still the
# process the lab started: a PID number since given to another process
# (here: a recorded start time that is not its own) is left alone.
t_lab_teardown_spares_reused_pids() {
	local ours other dead_start rc=0
	lab_bg lb sleep 300
	ours=$!
	lab_track "$ours"
	sleep 300 &
	other=$!
	dead_start=$(($(lab_starttime "$other") - 1))
	echo "$other $dead_start" >>"$LAB_DIR/pids"
	echo "$other" >>"$LAB_DIR/pids"		# an old-style line: no start time
	lab_down
	sleep 0.3
	if ! ft_running "$other"; then
		fail "teardown killed PID $other, which the lab did not start"
		rc=1
	fi
	if ft_running "$ours"; then
		fail "teardown left PID $ours, which the lab started"
		rc=1
	fi
	kill "$other" "$ours" 2>/dev/null
	wait "$other" "$ours" 2>/dev/null
	LAB_SLUICED_PID=
	return $rc
}
