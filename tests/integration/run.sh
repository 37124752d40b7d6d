#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests in the lab (scripts/lab.sh): real namespaces, the XDP
# program attached in native mode, real TCP/UDP clients and servers.
#
#   tests/integration/run.sh BUILD [TEST...]
#
# One shell function per test, an explicit list, one lab per test, removed
# even when the test fails. A test returns 0 (pass), 1 (fail) or 77 (skip);
# it fails too when any check in it failed (fail/assert_*/it_wait_* in
# lib.sh record every failure), whatever it returned.
# Output is TAP: "ok N - name", "not ok N - name", "ok N - name # SKIP why".
# Exit status: 0 when every test passed or skipped, 1 when any failed.
set -uo pipefail

BUILD=$(cd "${1:?usage: run.sh BUILD [TEST...]}" && pwd)
shift
HERE=$(cd "$(dirname "$0")" && pwd)
export LAB_BUILD=$BUILD
source "$HERE/../../scripts/fleet.sh"
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
	t_restart_replaces_old_reasons_table
	t_restart_carries_unsharded_flows
	t_restart_carries_unsharded_flows_sandboxed
	t_restart_odd_flow_table_size
	t_restart_tags_handshakes_in_flight
	t_restart_maglev_table_size
	t_restart_renamed_drain_table_key
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
	t_health_keep_holds_flows
	t_health_https
	# flow-table pressure and loss accounting
	t_syn_flood_spares_established
	t_forced_eviction_counted_and_rescued
	t_lost_counts_a_moved_draining_flow
	# control socket and endpoint hardening
	t_ctl_refuses_non_root
	t_ctl_stalled_client_does_not_block
	t_ctl_unread_reply_closed_after_30s
	t_ctl_connection_limit
	t_ctl_oversized_request
	t_ctl_pipelined_requests
	t_metrics_loopback_by_default
	# monitoring
	t_metrics_scrape_promtool
	t_metrics_alert_rules
	t_metrics_prometheus_drain
	t_metrics_counters_survive_restart
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
	# the drain signal tells the truth (issue 12)
	t_truth_early_drain_race
	t_truth_early_drain_big_table
	t_truth_count_never_low
	t_truth_half_close
	t_truth_spoofed_flood
	t_truth_sigstop_udp
	t_truth_tuple_reuse
	t_truth_drain_lag
	t_truth_drain_table_full
	t_truth_drain_table_full_agent
	# 1500-byte links: MSS clamping and ICMP too-big
	t_mtu_pmtud_without_clamping
	t_mtu_mss_clamped_backends
	# nothing hurts a running box by accident (issue 13, section 3)
	t_robust_second_daemon_refused
	t_robust_shared_pin_dir_refused
	t_robust_iface_held_explained
	t_robust_failed_first_start_cleans_up
	t_robust_last_backend_refused
	t_robust_redrain_moves_deadline
	t_robust_wall_clock_step
	t_robust_wall_clock_step_while_stopped
	t_robust_ctl_trickle_slots
	t_robust_bpffs_unmount
	t_robust_state_disk_full
	t_robust_iface_recreated
	# what the box runs, and the runtime CLI (issues 13 section 4, 17)
	t_ops_reload_reports
	t_ops_config_dump_roundtrip
	t_ops_table_fingerprint
	t_ops_fingerprint_two_boxes
	t_ops_backend_set_weight
	t_ops_flows_and_backend_status
	t_ops_help
	t_ops_reload_exact_undoes_drift
	t_ops_backend_names
	t_ops_backends_per_vip_limit
	# systemd: notifications, journald priorities, audit lines
	t_sd_notify_lifecycle
	t_journal_priorities_and_audit
	t_sluiced_under_unit_sandbox
	t_decap_under_unit_sandbox
	# the backend agent (sock_diag counts)
	t_agent_counts_match_ss
	t_agent_counts_half_closed
	t_agent_holds_drain
	t_agent_unreachable_holds_drain
	t_agent_holds_drain_half_closed
	t_agent_iface_without_caps
	# drain-aware fallback and second chance (issue 15)
	t_fallback_state_wiped_mid_drain
	t_fallback_restart_empty_mid_drain
	t_fallback_flood_passed_once
	t_fallback_udp_option_keeps_backend
	t_fallback_udp_default_moves
	# the fleet: BIRD, BGP, ECMP (scripts/fleet.sh)
	t_fleet_ecmp_spreads
	t_fleet_kill_withdraws
	t_fleet_detached_withdraws
	t_fleet_box_drain
	t_fleet_box_leave_streams_survive
	# a box leaves or joins mid-drain: fallback and second chance (issue 15)
	t_fleet_box_leave_mid_drain
	t_fleet_box_join_mid_drain
	# the fleet's desired state in etcd, sluicectl --cluster
	t_cluster_same_tables
	t_cluster_drain_wait
	t_cluster_sandboxed_drain_wait
	t_cluster_drain_timeout_exit_3
	t_cluster_drain_wait_clock_step
	t_cluster_etcd_down
	t_cluster_restart_etcd_down
	t_cluster_invalid_refused
	t_cluster_backends_per_vip_limit
	t_cluster_change_after_delete_refused
	t_cluster_box_drain
	t_cluster_box_undrain_while_stopped
	t_cluster_box_lease
	t_cluster_box_name_taken
	t_cluster_tls
	t_cluster_auth
	t_cluster_ipv6
	t_robust_fifo_reload
	t_robust_ctl_reload_off_main_loop
	t_robust_backend_mac_change
	t_robust_backend_mac_announced
	# deploy pipelines (docs/examples): drain --wait, stop, upgrade, undrain
	t_pipeline_github_actions
	t_pipeline_gitlab_ci
	t_pipeline_ansible
)

# A test defined but not listed would never run in make test: refuse.
it_unlisted=$(comm -23 <(declare -F | awk '$3 ~ /^t_/ && $3 !~ /_(setup|teardown)$/ { print $3 }' | sort) \
	<(printf '%s\n' "${ALL_TESTS[@]}" | sort))
if [[ -n $it_unlisted ]]; then
	echo "tests/integration/run.sh: defined but not in ALL_TESTS (so never run):" $it_unlisted >&2
	exit 2
fi

tests=("$@")
[[ ${#tests[@]} -eq 0 ]] && tests=("${ALL_TESTS[@]}")

IT_TIMEOUT=${IT_TIMEOUT:-240}
# This run's logs, lab names and failure records: a directory of its own,
# so runs from several worktrees at once never share (or delete) a file.
# Ours (not IT_LOGDIR): removed when every test passed, kept otherwise.
it_own_logdir=0
if [[ -z ${IT_LOGDIR:-} ]]; then
	IT_LOGDIR=$(mktemp -d /tmp/sluice-it.XXXXXX) || exit 1
	it_own_logdir=1
fi
mkdir -p "$IT_LOGDIR"
echo "# logs: $IT_LOGDIR"

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
	export IT_LABFILE=$IT_LOGDIR/$t.lab
	export IT_FAILFILE=$IT_LOGDIR/$t.fail
	rm -f "$IT_LABFILE" "$IT_FAILFILE"
	# A test may bring its own lab: t_NAME_setup / t_NAME_teardown.
	local setup=it_setup teardown=it_teardown
	declare -F "${t}_setup" >/dev/null && setup=${t}_setup
	declare -F "${t}_teardown" >/dev/null && teardown=${t}_teardown
	( set +e; $setup && "$t"; rc=$?; it_judge "$t" "$rc"; rc=$?
	  $teardown; exit $rc ) >"$log" 2>&1 &
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
	rm -f "$IT_LABFILE" "$IT_FAILFILE"
	return $rc
}

# A test's result: its return code, unless a check in it failed.
it_judge() {	# test rc
	local n
	n=$(it_failures)
	if ((n > 0)); then
		echo "$1: $n failed check(s), return code was $2:"
		sed 's/^/  /' "$IT_FAILFILE"
		return 1
	fi
	return "$2"
}

n=0
failed=0
for t in "${tests[@]}"; do
	n=$((n + 1))
	start=$(date +%s)
	run_one "$t" "$IT_LOGDIR/$t.log"
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) echo "ok $n - $t (${secs}s)" ;;
	77) echo "ok $n - $t # SKIP $(tail -1 "$IT_LOGDIR/$t.log")" ;;
	*)
		echo "not ok $n - $t (${secs}s)"
		sed 's/^/#   /' "$IT_LOGDIR/$t.log" | tail -40
		failed=$((failed + 1))
		;;
	esac
done
if ((failed > 0)); then
	echo "# logs of this run kept in $IT_LOGDIR"
	exit 1
fi
((it_own_logdir)) && rm -rf "$IT_LOGDIR"
exit 0
