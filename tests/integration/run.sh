#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests in the lab (scripts/lab.sh): real namespaces, the XDP
# program attached in native mode, real TCP/UDP clients and servers.
#
#   tests/integration/run.sh BUILD [TEST...]
#
# One shell function per test, an explicit list, one lab per test, removed
# even when the test fails. A test returns 0 (pass), 1 (fail) or 77 (skip).
# Output is TAP: "ok N - name", "not ok N - name", "ok N - name # SKIP why".
set -uo pipefail

BUILD=$(cd "${1:?usage: run.sh BUILD [TEST...]}" && pwd)
shift
HERE=$(cd "$(dirname "$0")" && pwd)
export LAB_BUILD=$BUILD
source "$HERE/../../scripts/lab.sh"
source "$HERE/lib.sh"
for f in "$HERE"/test_*.sh; do
	source "$f"
done

ALL_TESTS=(
	# daemon and drain (sluiced/sluicectl issue)
	t_flow_counts_match_ss
	t_drain_wait_zero_resets
	t_drain_timeout_exit_3
	t_undrain_restores_new_flows
	t_sigkill_mid_drain_resumes
	t_restart_replaces_old_new_table
	t_bad_reload_keeps_state
	t_control_socket_bad_input
	# the lab's end-to-end promises
	t_weights_spread
	t_drain_200_long_lived
	t_udp_drain
	t_program_upgrade_under_load
	t_ipv6_vip
	t_dead_backend_avoided
	# active health checks
	t_health_down_and_back
	t_health_http_503
	t_health_hang_bounded
	t_health_all_down_fails_open
	t_health_hundreds_at_1s
	t_health_release_rebalances
	# flow-table pressure and loss accounting
	t_syn_flood_spares_established
	t_forced_eviction_counted_and_rescued
	# control socket and endpoint hardening
	t_ctl_refuses_non_root
	t_ctl_stalled_client_does_not_block
	t_ctl_connection_limit
	t_ctl_oversized_request
	t_ctl_pipelined_requests
	t_metrics_loopback_by_default
	# monitoring
	t_metrics_scrape_promtool
	t_metrics_alert_rules
	t_metrics_prometheus_drain
	# an operator's first day: every failure names its cause
	t_start_bpffs_not_mounted
	t_start_bpffs_hidden_by_ip_netns_exec
	t_start_pin_dir_not_creatable
	t_check_finds_what_start_refuses
	t_check_config_errors
	t_reload_names_restart_only_settings
	t_ctl_error_once_and_json
	t_state_file_duplicate_vip_refused
	t_lab_teardown_spares_reused_pids
)

tests=("$@")
[[ ${#tests[@]} -eq 0 ]] && tests=("${ALL_TESTS[@]}")

IT_TIMEOUT=${IT_TIMEOUT:-240}

# Our own descendants of @1, deepest first (by PID, never by name).
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		descendants "$c"
		echo "$c"
	done
}

# Run one test in a subshell with a watchdog: a hung test is killed after
# IT_TIMEOUT seconds and its lab removed, so it can never wedge the suite.
run_one() {
	local t=$1 log=$2 pid rc waited=0
	export IT_LABFILE=/tmp/sluice-it-$t.lab
	rm -f "$IT_LABFILE"
	( set +e; it_setup && "$t"; rc=$?; it_teardown; exit $rc ) >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if ((waited >= IT_TIMEOUT * 10)); then
			echo "TIMEOUT: killed after ${IT_TIMEOUT}s" >>"$log"
			kill $(descendants "$pid") "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			[[ -s $IT_LABFILE ]] && lab_down "$(cut -d' ' -f1 "$IT_LABFILE")"
			rm -f "$IT_LABFILE"
			return 124
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	wait "$pid"
	rc=$?
	rm -f "$IT_LABFILE"
	return $rc
}

n=0
for t in "${tests[@]}"; do
	n=$((n + 1))
	start=$(date +%s)
	run_one "$t" "/tmp/sluice-it-$t.log"
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) echo "ok $n - $t (${secs}s)" ;;
	77) echo "ok $n - $t # SKIP $(tail -1 "/tmp/sluice-it-$t.log")" ;;
	*)
		echo "not ok $n - $t (${secs}s)"
		sed 's/^/#   /' "/tmp/sluice-it-$t.log" | tail -40
		;;
	esac
done
