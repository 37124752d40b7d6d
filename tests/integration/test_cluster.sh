# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The fleet's desired state in etcd (issue 16 parts 3 and 4): a real etcd
# in the router namespace, the BIRD fleet of scripts/fleet.sh, every box's
# sluiced following PREFIX/desired, and sluicectl --cluster on top.

cluster_setup() {
	FLEET_CLUSTER=1 fleet_up </dev/null || return 1
	[[ -n ${IT_LABFILE:-} ]] && echo "$LAB_P $LAB_DIR" >"$IT_LABFILE"
	cluster_wait_applied "$(cluster_desired_rev)" 20 ||
		{ fail "the boxes did not apply the lab's desired state"; return 1; }
	fleet_wait_paths "$LAB_VIP4" "$FLEET_BOXES" 20 ||
		{ fail "the router never learned $FLEET_BOXES paths to $LAB_VIP4"; return 1; }
}

cluster_teardown() { fleet_down; }

# The mod revision of PREFIX/desired.
cluster_desired_rev() {
	fleet_etcdctl get "$FLEET_PREFIX/desired" -w json |
		json - 'j["kvs"][0]["mod_revision"]'
}

# Box k's cluster status field @2.
cluster_status() {
	fleet_ctl "$1" -j status | json - "j['cluster']['$2']"
}

# The applied revision box k's report in etcd names.
cluster_report_rev() {
	fleet_etcdctl get "$FLEET_PREFIX/boxes/box$1" --print-value-only |
		json - 'j["applied_revision"]'
}

# Box k's sample of metric @2, as "NAME VALUE".
cluster_metric() {
	lab_ns "$(fleet_ns "$1")" curl -s "127.0.0.1:$((9480 + $1))/metrics" | grep "^$2 "
}

# The last revision box k handled, applied or refused.
cluster_last_seen() {
	fleet_ctl "$1" -j status |
		json - 'max(j["cluster"]["applied_revision"], j["cluster"]["rejected_revision"])'
}

# Wait up to @2 s until every box runs revision @1.
cluster_wait_applied() {
	local k i ok
	for i in $(seq 1 $((${2:-10} * 10))); do
		ok=1
		for k in $(seq 1 "$FLEET_BOXES"); do
			[[ $(cluster_status "$k" applied_revision) == "$1" ]] || ok=0
		done
		((ok)) && return 0
		sleep 0.1
	done
	return 1
}

# The boxes listed in etcd (live reports), one per line.
cluster_boxes() {
	fleet_etcdctl get --prefix "$FLEET_PREFIX/boxes/" --keys-only |
		sed -n "s|^$FLEET_PREFIX/boxes/||p"
}

cluster_box_names() { cluster_boxes | xargs; }

# Every box applies the document and builds the same tables from it; the
# reports in etcd say so, and ECMP traffic works through every box.
# Concurrent fleet changes all land; a change that changes nothing does
# not write.
t_cluster_same_tables_setup() { cluster_setup; }
t_cluster_same_tables_teardown() { cluster_teardown; }
t_cluster_same_tables() {
	local out fps k rev
	out=$(fleet_cli -j box list) || { fail "box list failed"; return 1; }
	assert_eq "boxes reporting" "$FLEET_BOXES" "$(json - 'len(j)' <<<"$out")" || return 1
	fps=$(json - 'sorted(set(";".join(v["fingerprint"] for v in b["report"]["vips"]) for b in j))' <<<"$out")
	echo "fingerprints: $fps"
	assert_eq "distinct table sets across boxes" 1 \
		"$(json - 'len(set(";".join(v["fingerprint"] for v in b["report"]["vips"]) for b in j))' <<<"$out")" || return 1
	assert_eq "a box with an unknown (zero) fingerprint" False \
		"$(json - 'any(v["fingerprint"] == "0"*16 for b in j for v in b["report"]["vips"])' <<<"$out")" || return 1
	assert_eq "backends per box" 6 \
		"$(json - 'sum(len(v["backends"]) for v in j[0]["report"]["vips"])' <<<"$out")" || return 1
	# A change reaches every box, and the tables move together.
	fleet_cli backend set "$LAB_VIP4:80/tcp" "$(lab_be4 3)" --weight 300 || return 1
	cluster_wait_applied "$(cluster_desired_rev)" 10 ||
		{ fail "the weight change did not reach every box"; return 1; }
	sleep 0.5
	out=$(fleet_cli -j box list)
	assert_eq "distinct table sets after a change" 1 \
		"$(json - 'len(set(";".join(v["fingerprint"] for v in b["report"]["vips"]) for b in j))' <<<"$out")" || return 1
	assert_eq "tables changed" False \
		"$(json - '";".join(v["fingerprint"] for v in j[0]["report"]["vips"]) in '"$fps" <<<"$out")" || return 1
	fleet_get 60 || return 1
	for k in $(seq 1 "$FLEET_BOXES"); do
		assert_ge "new flows on box $k" "$(fleet_new_flows "$k")" 1 || return 1
	done
	# A box follows etcd: a local change would diverge it, and is refused.
	fleet_ctl 1 backend del "$LAB_VIP4:80/tcp" "$(lab_be4 1)" 2>"$LAB_DIR/del.err" &&
		{ fail "a local backend del on a cluster box was accepted"; return 1; }
	grep -q "follows the desired state in etcd" "$LAB_DIR/del.err" ||
		{ fail "no reason for the refusal: $(cat "$LAB_DIR/del.err")"; return 1; }
	cluster_concurrent_changes || return 1
	# A change that changes nothing writes nothing: the key's revision stays.
	rev=$(cluster_desired_rev)
	out=$(fleet_cli -j backend set "$LAB_VIP4:80/tcp" "$(lab_be4 1)" --weight 401) || return 1
	assert_eq "changed, revision of a change that changes nothing" "False $rev" \
		"$(json - '"%s %s" % (j["changed"], j["revision"])' <<<"$out")" || return 1
	assert_eq "the desired state's revision after it" "$rev" "$(cluster_desired_rev)" || return 1
}

# Six fleet changes at once, each to its own backend: every change is a
# compare-and-swap on the document's revision, so none is lost. Each
# lands at a revision of its own, and every box applies all six.
cluster_concurrent_changes() {
	local i pid pids=() w want="401 402 403 601 602 603"
	for i in 1 2 3; do
		fleet_cli -j backend set "$LAB_VIP4:80/tcp" "$(lab_be4 "$i")" --weight $((400 + i)) \
			>"$LAB_DIR/cas4-$i.json" &
		pids+=($!)
		fleet_cli -j backend set "[$LAB_VIP6]:80/tcp" "$(lab_be6 "$i")" --weight $((600 + i)) \
			>"$LAB_DIR/cas6-$i.json" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || fail "a concurrent fleet change failed (pid $pid)"
	done
	w=$(fleet_etcdctl get "$FLEET_PREFIX/desired" --print-value-only |
		json - '" ".join(sorted(str(b.get("weight", 100)) for v in j["vips"] for b in v["backends"]))')
	assert_eq "weights in etcd after six concurrent changes" "$want" "$w" || return 1
	assert_eq "revisions the six changes report" 6 \
		"$(for i in "$LAB_DIR"/cas[46]-*.json; do json "$i" 'j["revision"]'; done | sort -u | wc -l)" ||
		return 1
	assert_eq "changed, as the six changes report it" True \
		"$(for i in "$LAB_DIR"/cas[46]-*.json; do json "$i" 'j["changed"]'; done | sort -u | xargs)" ||
		return 1
	cluster_wait_applied "$(cluster_desired_rev)" 10 ||
		{ fail "the six changes did not reach every box"; return 1; }
	for i in $(seq 1 "$FLEET_BOXES"); do
		assert_eq "box $i's weights" "$want" \
			"$(fleet_ctl "$i" -j backend list | json - '" ".join(sorted(str(r["weight"]) for r in j))')" ||
			return 1
	done
}

# The fleet under sluiced.service's sandbox (capabilities and system-call
# filter, it_unit_sandbox): every box's sluiced talks to etcd, BIRD and
# its peers, and a fleet drain with --wait runs as in the test below,
# with nothing refused.
t_cluster_sandboxed_drain_wait_setup() {
	export LAB_SLUICED
	LAB_SLUICED=$(mktemp /tmp/sluice-sandboxed.XXXXXX) &&
		it_sandboxed_sluiced "$LAB_SLUICED" && cluster_setup
}
t_cluster_sandboxed_drain_wait_teardown() {
	cluster_teardown
	rm -f "$LAB_SLUICED"
	unset LAB_SLUICED
}
t_cluster_sandboxed_drain_wait() {
	local k pid
	for k in $(seq 1 "$FLEET_BOXES"); do
		pid=$(cat "$LAB_DIR/sluiced$k.pid") || { fail "no sluiced pid for box $k"; return 1; }
		assert_eq "seccomp mode of box $k's sluiced" 2 \
			"$(awk '/^Seccomp:/ {print $2}' "/proc/$pid/status")" || return 1
	done
	t_cluster_drain_wait || return 1
	it_sandbox_refusals "$LAB_DIR"/sluiced[0-9]*.log
}

# A fleet drain with 210 long-lived streams over the three boxes: none is
# reset, --wait returns only after the last stream to the backend closed
# (client side and ss on the backend), and no new connection reaches the
# backend afterwards.
t_cluster_drain_wait_setup() { cluster_setup; }
t_cluster_drain_wait_teardown() { cluster_teardown; }
t_cluster_drain_wait() {
	local out pid rc ready="$LAB_DIR/ready" done_at last k n=210
	lab_client streams --vip "$LAB_VIP4" --count $n --bytes 400000 --seconds 8 \
		--sources 198.18.10.2,198.18.10.3,198.18.10.4,198.18.10.5,198.18.10.6,198.18.10.7,198.18.10.8,198.18.10.9 \
		--ready "$ready" >"$LAB_DIR/streams.json" &
	pid=$!
	for _ in $(seq 1 300); do [[ -s $ready ]] && break; sleep 0.1; done
	assert_eq "streams open" $n "$(cat "$ready")" || { wait "$pid"; return 1; }
	sleep 1
	for k in $(seq 1 "$FLEET_BOXES"); do
		assert_ge "streams through box $k" "$(fleet_new_flows "$k")" 1 || { wait "$pid"; return 1; }
	done
	fleet_cli -j backend drain "$LAB_VIP4:80/tcp" "$(lab_be4 2)" --wait --timeout 60s \
		>"$LAB_DIR/wait.json"
	rc=$?
	done_at=$(date +%s.%N)
	assert_eq "fleet drain --wait exit" 0 "$rc" || { cat "$LAB_DIR/wait.json"; wait "$pid"; return 1; }
	assert_eq "established connections on be2 when --wait returned" 0 \
		"$(lab_ns be2 ss -Htn state established '( sport = :80 )' | wc -l)" || return 1
	wait "$pid"
	out=$(cat "$LAB_DIR/streams.json")
	echo "$out"
	assert_eq "streams completed intact (no resets)" $n "$(json - 'j["completed"]' <<<"$out")" || return 1
	assert_ge "streams that were on be2" "$(json - 'j["backends"].get("be2", 0)' <<<"$out")" 1 || return 1
	last=$(json - 'j["last_end"]["be2"]' <<<"$out")
	echo "last be2 stream closed at $last, --wait returned at $done_at"
	assert_eq "--wait returned after the last be2 stream closed" True \
		"$(python3 -c "print($done_at >= $last)")" || return 1
	assert_eq "boxes that applied the drain" "$FLEET_BOXES" \
		"$(json "$LAB_DIR/wait.json" 'sum(1 for b in j["boxes"] if b["applied"] and b["drained"])')" || return 1
	out=$(fleet_get 60) || return 1
	assert_eq "new connections to be2 after the drain" 0 \
		"$(json - 'j["backends"].get("be2", 0)' <<<"$(tail -1 <<<"$out")")" || return 1
	# The fleet's sum and each box's count, in backend list.
	out=$(fleet_cli -j backend list "$LAB_VIP4:80/tcp")
	assert_eq "be2's row: draining, per-box counts" "draining 3" \
		"$(json - '[r["state"] + " " + str(len(r["boxes"])) for r in j if r["backend"] == "'"$(lab_be4 2)"'"][0]' <<<"$out")" || return 1
}

# --wait gives up at its deadline with exit 3 and the flows left per box.
t_cluster_drain_timeout_exit_3_setup() { cluster_setup; }
t_cluster_drain_timeout_exit_3_teardown() { cluster_teardown; }
t_cluster_drain_timeout_exit_3() {
	local pid rc ready="$LAB_DIR/ready"
	lab_client streams --vip "$LAB_VIP4" --count 30 --bytes 200000 --seconds 10 \
		--sources 198.18.10.2,198.18.10.3,198.18.10.4,198.18.10.5 \
		--ready "$ready" >"$LAB_DIR/streams.json" &
	pid=$!
	for _ in $(seq 1 300); do [[ -s $ready ]] && break; sleep 0.1; done
	sleep 1
	fleet_cli backend drain "$(lab_be4 1)" --wait --timeout 2s 2>"$LAB_DIR/wait.err"
	rc=$?
	wait "$pid"
	cat "$LAB_DIR/wait.err"
	assert_eq "exit at the deadline with flows left" 3 "$rc" || return 1
	grep -q "box box1: [0-9]* flows" "$LAB_DIR/wait.err" ||
		{ fail "no per-box flows in the timeout message"; return 1; }
}

# The fleet's drain --wait times its own --timeout on the boot clock: the
# operator's wall clock stepping an hour ahead mid-wait (NTP, date -s)
# does not end the wait at once, with every connection still open.
t_cluster_drain_wait_clock_step_setup() { cluster_setup; }
t_cluster_drain_wait_clock_step_teardown() { cluster_teardown; }
t_cluster_drain_wait_clock_step() { it_run_then_release cc cluster_clock_wait; }

cluster_clock_wait() {
	local pid rc t0 secs cli=$LAB_DIR/sluicectl-faketime rcfile=$LAB_DIR/cli-faketime.rc
	it_faketime_wrapper "$cli" "$rcfile" "$LAB_BUILD/sluicectl" || return 1
	lab_client idle --vip "$LAB_VIP4" --count 30 --ready "$LAB_DIR/cc.ready" --go "$LAB_DIR/cc.go" \
		--max-seconds 60 >"$LAB_DIR/cc.json" &
	echo "$!" >"$LAB_DIR/cc.client.pid"
	it_wait_for 10 30 cat "$LAB_DIR/cc.ready" || return 1
	t0=$(now_s)
	FLEET_SLUICECTL=$cli fleet_cli backend drain "$(lab_be4 1)" --wait --timeout 15s \
		2>"$LAB_DIR/wait.err" &
	pid=$!
	sleep 3
	echo "+3600" >"$rcfile"
	wait "$pid"
	rc=$?
	secs=$(calc "round($(now_s) - $t0, 1)")
	cat "$LAB_DIR/wait.err"
	echo "fleet drain --wait --timeout 15s, clock stepped +1 h at 3 s: exit $rc after ${secs}s"
	assert_eq "exit at the deadline with flows left" 3 "$rc" || return 1
	python3 -c "import sys; sys.exit(0 if 14 <= $secs <= 20 else 1)" ||
		fail "the wait should end at its 15 s timeout in real time, not after ${secs}s"
}

# etcd stops: every box keeps forwarding with its last revision, and its
# status and metrics say it is disconnected; etcd back, they reconnect.
t_cluster_etcd_down_setup() { cluster_setup; }
t_cluster_etcd_down_teardown() { cluster_teardown; }
t_cluster_etcd_down() {
	local k rev
	rev=$(cluster_desired_rev)
	fleet_etcd_stop
	for k in $(seq 1 "$FLEET_BOXES"); do
		it_wait_for 10 False cluster_status "$k" connected || return 1
		assert_eq "box $k's revision" "$rev" "$(cluster_status "$k" applied_revision)" || return 1
		assert_eq "box $k's metric" "sluice_cluster_connected 0" \
			"$(lab_ns "$(fleet_ns "$k")" curl -s "127.0.0.1:$((9480 + k))/metrics" |
			   grep '^sluice_cluster_connected ')" || return 1
	done
	fleet_get 60 || return 1
	fleet_etcd_start || return 1
	for k in $(seq 1 "$FLEET_BOXES"); do
		it_wait_for 10 True cluster_status "$k" connected || return 1
	done
}

# Box k's backends as "vip backend state weight", live flows left out.
cluster_tables() {
	fleet_ctl "$1" -j backend list |
		json - '"; ".join(sorted("%s %s %s %s" % (r["vip"], r["backend"], r["state"], r["weight"]) for r in j))'
}

# sluiced restarted while etcd is down starts from its state file: the
# same VIPs, backends, weights and drains, announced again, under the
# revision they came from; etcd back, it applies the revision it missed
# while it was stopped.
t_cluster_restart_etcd_down_setup() { cluster_setup; }
t_cluster_restart_etcd_down_teardown() { cluster_teardown; }
t_cluster_restart_etcd_down() {
	local rev old before after n
	# A drained backend: state the desired document alone cannot rebuild
	# (a drain's progress), which only the state file carries.
	fleet_cli backend drain "$LAB_VIP4:80/tcp" "$(lab_be4 2)" --wait --timeout 30s \
		>/dev/null || return 1
	before=$(cluster_tables 1)
	echo "box 1 before: $before"
	[[ $before == *"$(lab_be4 2) drained 100"* ]] ||
		{ fail "be2 is not drained on box 1: $before"; return 1; }
	# Box 1 misses a change while stopped, then restarts with etcd down.
	old=$(cluster_status 1 applied_revision)
	fleet_sluiced_stop 1
	fleet_cli backend set "$LAB_VIP4:80/tcp" "$(lab_be4 3)" --weight 300 >/dev/null || return 1
	rev=$(cluster_desired_rev)
	fleet_etcd_stop
	fleet_sluiced_start 1 || return 1
	after=$(cluster_tables 1)
	assert_eq "box 1's backends after a restart without etcd" "$before" "$after" || return 1
	grep -q "resumed saved state from" "$LAB_DIR/sluiced1.log" ||
		{ fail "box 1 did not say it resumed its state file"; return 1; }
	assert_eq "box 1 connected without etcd" False "$(cluster_status 1 connected)" || return 1
	# ... under the revision that state came from, not "none yet".
	assert_eq "box 1's applied revision after a restart without etcd" "$old" \
		"$(cluster_status 1 applied_revision)" || return 1
	fleet_ctl 1 status | grep "^cluster      *not connected (.*), revision $old in force$" ||
		fail "box 1's status line does not say it is not connected, at revision $old" || return 1
	fleet_wait_paths "$LAB_VIP4" "$FLEET_BOXES" 15 ||
		{ fail "box 1 did not announce $LAB_VIP4 again after its restart"; return 1; }
	n=$(fleet_new_flows 1)
	fleet_get 60 || return 1
	assert_ge "new flows on box 1 after its restart" $(($(fleet_new_flows 1) - n)) 1 || return 1
	# etcd back: box 1 catches up with the revision it missed.
	fleet_etcd_start || return 1
	it_wait_for 15 "$rev" cluster_status 1 applied_revision || return 1
	assert_eq "box 1 connected" True "$(cluster_status 1 connected)" || return 1
	assert_eq "box 1's backends once etcd is back" \
		"${before/"$(lab_be4 3) active 100"/"$(lab_be4 3) active 300"}" "$(cluster_tables 1)" || return 1
}

# An invalid document is refused whole by every box (its revision stays in
# force), and the fleet commands and metrics say so. So is a deleted one: a
# stray delete does not empty the fleet. A valid document after them
# applies.
# `backend add` on the fleet checks the VIP against every live box's
# Maglev table before it writes: a document a box cannot hold would be
# refused whole by that box, and so would every later change built on it.
# The 1022nd backend of a VIP on boxes of 1021 slots is refused naming the
# box and the setting, nothing is written, and a removal still goes.
t_cluster_backends_per_vip_limit_setup() { LAB_MAGLEV=1021 cluster_setup; }
t_cluster_backends_per_vip_limit_teardown() { cluster_teardown; }
t_cluster_backends_per_vip_limit() {
	local rev out rc k vip=$LAB_VIP4:80/tcp
	python3 - "$vip" "[$LAB_VIP6]:80/tcp" "$(lab_be6 1)" >"$LAB_DIR/big.json" <<'EOF2'
import json, sys
v4, v6, b6 = sys.argv[1:4]
bes = [{"address": "198.19.%d.%d" % (i // 250, i % 250 + 1)} for i in range(1020)]
print(json.dumps({"vips": [{"vip": v4, "backends": bes},
                           {"vip": v6, "backends": [{"address": b6}]}]}))
EOF2
	fleet_etcdctl put "$FLEET_PREFIX/desired" <"$LAB_DIR/big.json" >/dev/null || return 1
	rev=$(cluster_desired_rev)
	cluster_wait_applied "$rev" 20 || fail "the boxes did not apply 1020 backends" || return 1
	it_wait_for 10 "$rev" cluster_report_rev "$FLEET_BOXES" || return 1
	fleet_cli backend add "$vip" 198.19.10.1 >/dev/null ||
		fail "the 1021st backend fits a table of 1021 slots" || return 1
	rev=$(cluster_desired_rev)
	cluster_wait_applied "$rev" 20 || return 1
	out=$(fleet_cli backend add "$vip" 198.19.10.2 2>&1)
	rc=$?
	echo "the 1022nd: exit $rc: $out"
	assert_eq "exit code of the 1022nd backend add" 1 "$rc" || return 1
	grep -q "box box[0-9] would refuse it: VIP $vip: 1022 backends do not fit a Maglev table of 1021 slots (at most one backend per slot; raise maglev.table_size, then restart sluiced); or remove a backend of the VIP first" <<<"$out" ||
		fail "the refusal does not name the box and maglev.table_size" || return 1
	assert_eq "PREFIX/desired after the refused add" "$rev" "$(cluster_desired_rev)" || return 1
	for k in $(seq 1 "$FLEET_BOXES"); do
		assert_eq "box $k's backends on $vip" 1021 \
			"$(fleet_ctl "$k" -j backend list | json - "len([b for b in j if b['vip'] == '$vip'])")" ||
			return 1
	done
	# Removing one is not blocked, and then the add fits.
	fleet_cli backend del "$vip" 198.19.10.1 >/dev/null || fail "a removal was refused" || return 1
	fleet_cli backend add "$vip" 198.19.10.2 >/dev/null ||
		fail "the add after a removal was refused" || return 1
	cluster_wait_applied "$(cluster_desired_rev)" 20 ||
		fail "the boxes did not apply the last change" || return 1
}

t_cluster_invalid_refused_setup() { cluster_setup; }
t_cluster_invalid_refused_teardown() { cluster_teardown; }
t_cluster_invalid_refused() {
	local k good bad del before out
	good=$(cluster_desired_rev)
	before=$(fleet_cli -j box list | json - 'j[0]["report"]["vips"]')
	# A valid first VIP and an invalid second: nothing of it may apply.
	fleet_etcdctl put "$FLEET_PREFIX/desired" "{\"vips\": [
		{\"vip\": \"$LAB_VIP4:80/tcp\", \"backends\": [{\"address\": \"$(lab_be4 1)\"}]},
		{\"vip\": \"[$LAB_VIP6]:80/tcp\", \"backends\": [{\"address\": \"$(lab_be6 1)\", \"weight\": 99999}]}]}" >/dev/null || return 1
	bad=$(cluster_desired_rev)
	for k in $(seq 1 "$FLEET_BOXES"); do
		it_wait_for 10 "$bad" cluster_status "$k" rejected_revision || return 1
		assert_eq "box $k keeps revision" "$good" "$(cluster_status "$k" applied_revision)" || return 1
		assert_eq "box $k's backends" 6 "$(fleet_ctl "$k" -j backend list | json - 'len(j)')" || return 1
		grep -q "revision $bad refused.*vips\[1\].backends\[0\]: weight" "$LAB_DIR/sluiced$k.log" ||
			{ fail "box $k's log does not name the problem"; return 1; }
		assert_eq "box $k's rejected revision metric" "sluice_cluster_rejected_revision $bad" \
			"$(cluster_metric "$k" sluice_cluster_rejected_revision)" || return 1
		assert_eq "box $k's applied revision metric" "sluice_cluster_applied_revision $good" \
			"$(cluster_metric "$k" sluice_cluster_applied_revision)" || return 1
	done
	sleep 0.5
	assert_eq "reported tables unchanged" "$before" \
		"$(fleet_cli -j box list | json - 'j[0]["report"]["vips"]')" || return 1
	out=$(fleet_cli box list 2>&1)
	echo "$out"
	assert_eq "boxes the fleet command reports as refusing" "$FLEET_BOXES" \
		"$(grep -c "refused the desired state (revision $bad).*weight" <<<"$out")" || return 1
	fleet_cli backend drain "$(lab_be4 1)" 2>"$LAB_DIR/drain.err" &&
		{ fail "a fleet drain edited an invalid document"; return 1; }
	grep -q "vips\[1\].backends\[0\]: weight" "$LAB_DIR/drain.err" ||
		{ fail "the fleet command did not name the problem: $(cat "$LAB_DIR/drain.err")"; return 1; }
	# The document deleted: refused as well, the boxes keep what they run.
	del=$(fleet_etcdctl del "$FLEET_PREFIX/desired" -w json | json - 'j["header"]["revision"]')
	it_is_int "$del" || { fail "etcdctl del gave no revision: $del"; return 1; }
	for k in $(seq 1 "$FLEET_BOXES"); do
		it_wait_for 10 "$del" cluster_last_seen "$k" || return 1
		assert_eq "box $k's backends after the delete" 6 \
			"$(fleet_ctl "$k" -j backend list | json - 'len(j)')" || return 1
		assert_eq "box $k keeps revision after the delete" "$good" \
			"$(cluster_status "$k" applied_revision)" || return 1
		assert_eq "box $k's refused revision" "$del" "$(cluster_status "$k" rejected_revision)" ||
			return 1
		out=$(cluster_status "$k" rejected)
		[[ $out == *"deleted from etcd"*'{"vips": []}'* ]] ||
			{ fail "box $k's status does not say the document was deleted: $out"; return 1; }
		grep -q "revision $del refused, revision $good stays in force: the desired state was deleted" \
			"$LAB_DIR/sluiced$k.log" || { fail "box $k's log does not say why"; return 1; }
		assert_eq "box $k's rejected revision metric after the delete" \
			"sluice_cluster_rejected_revision $del" \
			"$(cluster_metric "$k" sluice_cluster_rejected_revision)" || return 1
	done
	assert_eq "router paths to $LAB_VIP4 after the delete" "$FLEET_BOXES" \
		"$(fleet_paths "$LAB_VIP4")" || return 1
	fleet_get 30 || return 1
	# A valid document after the delete applies (be3 at weight 300).
	fleet_etcdctl put "$FLEET_PREFIX/desired" \
		"$(fleet_default_desired | sed "s|\"$(lab_be4 3)\"}|\"$(lab_be4 3)\", \"weight\": 300}|")" \
		>/dev/null || return 1
	good=$(cluster_desired_rev)
	cluster_wait_applied "$good" 10 ||
		{ fail "a valid document after the delete did not reach every box"; return 1; }
	for k in $(seq 1 "$FLEET_BOXES"); do
		assert_eq "box $k's weight of $(lab_be4 3) after the delete" 300 \
			"$(fleet_ctl "$k" -j backend list |
			   json - "[r['weight'] for r in j if r['backend'] == '$(lab_be4 3)'][0]")" || return 1
	done
}

# A killed sluiced's report goes with its lease; a stopped one's at once.
t_cluster_box_lease_setup() { cluster_setup; }
t_cluster_box_lease_teardown() { cluster_teardown; }
t_cluster_box_lease() {
	assert_eq "boxes listed" "box1 box2 box3" "$(cluster_box_names)" || return 1
	fleet_sluiced_stop 2 KILL
	sleep 1
	assert_eq "box2 still listed within its lease" "box1 box2 box3" "$(cluster_box_names)" ||
		return 1
	# lease_ttl 3s, and etcd checks expiry about every 500 ms.
	it_wait_for 8 "box1 box3" cluster_box_names || return 1
	fleet_sluiced_stop 3
	assert_eq "boxes listed right after a clean stop" "box1" "$(cluster_box_names)" || return 1
	fleet_sluiced_start 2 || return 1
	it_wait_for 10 "box1 box2" cluster_box_names || return 1
	assert_eq "box list after a restart" 2 "$(fleet_cli -j box list | json - 'len(j)')" || return 1
}

# Per box, sorted: "NAME DRAINED ANNOUNCED" as box list -j reports it.
cluster_box_drain_rows() {
	fleet_cli -j box list | json - '"; ".join("%s %s %s" % (b["box"], b["box_drained"], b["announced"]) for b in sorted(j, key=lambda b: b["box"]))'
}

# Box k's announced addresses, as sluiced's status lists them.
cluster_announced() {
	fleet_ctl "$1" -j status | json - '" ".join(j["announce"]["announced"])'
}

# box drain through etcd (boxes_drained): that box withdraws every VIP,
# the router keeps the other boxes' paths, and no new connection reaches
# it; box undrain announces them again. A second undrain writes nothing.
# box drain or undrain (@1) of box2 through etcd, applied by every box:
# box2 announces @2 and its sluice_box_drained reads @3.
cluster_box2_set() {	# drain|undrain announced drained-metric
	fleet_cli box "$1" box2 >/dev/null || return 1
	cluster_wait_applied "$(cluster_desired_rev)" 10 ||
		{ fail "the box $1 did not reach every box"; return 1; }
	it_wait_for 5 "$2" cluster_announced 2 || return 1
	assert_eq "box 2's drained metric after box $1" "sluice_box_drained $3" \
		"$(cluster_metric 2 sluice_box_drained)"
}

t_cluster_box_drain_setup() { cluster_setup; }
t_cluster_box_drain_teardown() { cluster_teardown; }
t_cluster_box_drain() {
	local rev n all
	all=$(cluster_announced 2)
	cluster_box2_set drain "" 1 || return 1
	assert_eq "box 1's announcements while box 2 is drained" "$all" "$(cluster_announced 1)" ||
		return 1
	fleet_wait_paths "$LAB_VIP4" $((FLEET_BOXES - 1)) 10 ||
		{ fail "the router has $(fleet_paths "$LAB_VIP4") paths to $LAB_VIP4 with box 2 drained"; return 1; }
	fleet_wait_paths "$LAB_VIP6" $((FLEET_BOXES - 1)) 10 ||
		{ fail "the router has $(fleet_paths "$LAB_VIP6") paths to $LAB_VIP6 with box 2 drained"; return 1; }
	it_wait_for 5 "box1 False 2; box2 True 0; box3 False 2" cluster_box_drain_rows || return 1
	n=$(fleet_new_flows 2)
	fleet_get 60 || return 1
	assert_eq "new flows reaching drained box 2" "$n" "$(fleet_new_flows 2)" || return 1
	# Undrained: announced again, and new connections reach it.
	cluster_box2_set undrain "$all" 0 || return 1
	fleet_wait_paths "$LAB_VIP4" "$FLEET_BOXES" 10 ||
		{ fail "the router has $(fleet_paths "$LAB_VIP4") paths to $LAB_VIP4 after box undrain box2"; return 1; }
	fleet_wait_paths "$LAB_VIP6" "$FLEET_BOXES" 10 ||
		{ fail "the router has $(fleet_paths "$LAB_VIP6") paths to $LAB_VIP6 after box undrain box2"; return 1; }
	n=$(fleet_new_flows 2)
	fleet_get 60 || return 1
	assert_ge "new flows reaching box 2 after undrain" $(($(fleet_new_flows 2) - n)) 1 || return 1
	rev=$(cluster_desired_rev)
	assert_eq "a second box undrain" "unchanged at revision $rev" "$(fleet_cli box undrain box2)" ||
		return 1
	assert_eq "the desired state's revision after it" "$rev" "$(cluster_desired_rev)" || return 1
}

# A fleet change after a stray delete of PREFIX/desired is refused and
# writes nothing: built on an empty document, it would empty the fleet.
# box list names every box that refused the delete, status says the
# document is absent, and boxes started meanwhile keep their state and
# its revision, so a change is still refused after they all restarted.
t_cluster_change_after_delete_refused_setup() { cluster_setup; }

# How many boxes `box list` names as refusing revision @1.
cluster_list_refusals() {	# rev
	fleet_cli box list >/dev/null 2>"$LAB_DIR/list.err"
	grep -c "refused the desired state (revision $1)" "$LAB_DIR/list.err"
}
t_cluster_change_after_delete_refused_teardown() { cluster_teardown; }
t_cluster_change_after_delete_refused() {
	local del k rev
	rev=$(cluster_desired_rev)
	del=$(fleet_etcdctl del "$FLEET_PREFIX/desired" -w json | json - 'j["header"]["revision"]')
	it_is_int "$del" || { fail "etcdctl del gave no revision: $del"; return 1; }
	for k in $(seq 1 "$FLEET_BOXES"); do
		it_wait_for 10 "$del" cluster_status "$k" rejected_revision || return 1
	done
	# Each box's report reaches etcd a moment after its own status says it
	# (POLL_MS, 100 ms, in cluster.c): box list reads the reports.
	it_wait_for 10 "$FLEET_BOXES" cluster_list_refusals "$del" ||
		{ cat "$LAB_DIR/list.err"; fail "box list does not name every box refusing the delete"; }
	fleet_cli box drain box3 >"$LAB_DIR/change.out" 2>&1 &&
		fail "a fleet change was accepted with PREFIX/desired deleted"
	cat "$LAB_DIR/change.out"
	grep -q "desired is absent, yet box box[0-9] applies revision [0-9]* of it: it was deleted" \
		"$LAB_DIR/change.out" || fail "the refusal does not say the document was deleted"
	grep -q "hint: put the document back" "$LAB_DIR/change.out" ||
		fail "the refusal gives no way out"
	assert_eq "PREFIX/desired after the change" "" \
		"$(fleet_etcdctl get "$FLEET_PREFIX/desired" --print-value-only)" || return 1
	sleep 1
	for k in $(seq 1 "$FLEET_BOXES"); do
		assert_eq "box $k's backends" 6 "$(fleet_ctl "$k" -j backend list | json - 'len(j)')" ||
			return 1
		assert_eq "box $k's status: desired state absent" True \
			"$(cluster_status "$k" desired_absent)" || return 1
	done
	# Boxes that start with no document run the state they saved, under
	# the revision it came from, and say why. Every box restarted (a
	# fleet-wide upgrade): a fleet change is still refused, as their
	# reports still name the revision.
	for k in $(seq 1 "$FLEET_BOXES"); do
		fleet_sluiced_stop "$k"
		fleet_sluiced_start "$k" || return 1
	done
	for k in $(seq 1 "$FLEET_BOXES"); do
		it_wait_for 10 True cluster_status "$k" connected || return 1
		grep -q "cluster: $FLEET_PREFIX/desired is absent: running with the state this box has" \
			"$LAB_DIR/sluiced$k.log" || fail "box $k did not say the desired state is absent" ||
			return 1
		fleet_ctl "$k" status | grep "^cluster .*revision $rev in force, the desired state is absent from etcd" ||
			fail "box $k's status does not say it runs revision $rev, the document absent" ||
			return 1
		assert_eq "box $k's backends after a start without a document" 6 \
			"$(fleet_ctl "$k" -j backend list | json - 'len(j)')" || return 1
	done
	it_wait_for 10 "$rev" cluster_report_rev 1 || return 1
	fleet_cli box drain box3 >"$LAB_DIR/change2.out" 2>&1 &&
		fail "a fleet change was accepted after every box restarted without a document"
	cat "$LAB_DIR/change2.out"
	grep -q "desired is absent, yet box box[0-9] applies revision $rev of it" "$LAB_DIR/change2.out" ||
		fail "the refusal after the restarts does not name revision $rev" || return 1
	# etcd restarts: each box reads the key again in a new session and
	# finds it still absent. The same absence is said once, not per session.
	fleet_etcd_stop
	for k in $(seq 1 "$FLEET_BOXES"); do
		it_wait_for 10 False cluster_status "$k" connected || return 1
	done
	fleet_etcd_start || return 1
	for k in $(seq 1 "$FLEET_BOXES"); do
		it_wait_for 10 True cluster_status "$k" connected || return 1
		assert_eq "box $k's lines saying the document is absent, after etcd restarted" 1 \
			"$(grep -c "cluster: $FLEET_PREFIX/desired is absent: running" "$LAB_DIR/sluiced$k.log")" ||
			return 1
	done
	# The document back: every box applies it and no longer says so.
	fleet_etcdctl put "$FLEET_PREFIX/desired" "$(fleet_default_desired)" >/dev/null || return 1
	cluster_wait_applied "$(cluster_desired_rev)" 20 ||
		fail "not every box applied the document put back" || return 1
	for k in $(seq 1 "$FLEET_BOXES"); do
		assert_eq "box $k's status after the document is back" False \
			"$(cluster_status "$k" desired_absent)" || return 1
	done
}

# A box the fleet drained, then undrained while its sluiced was stopped,
# follows the desired state when it starts: it announces its VIPs again
# (the box-drained file says the fleet drained it). A box drained locally
# stays drained across a restart, as before (t_fleet_box_drain).
t_cluster_box_undrain_while_stopped_setup() { cluster_setup; }
t_cluster_box_undrain_while_stopped_teardown() { cluster_teardown; }
t_cluster_box_undrain_while_stopped() {
	local all
	all=$(cluster_announced 2)
	cluster_box2_set drain "" 1 || return 1
	fleet_sluiced_stop 2
	fleet_cli box undrain box2 >/dev/null || return 1
	fleet_sluiced_start 2 || return 1
	it_wait_for 10 "$(cluster_desired_rev)" cluster_status 2 applied_revision || return 1
	it_wait_for 5 "$all" cluster_announced 2 ||
		{ grep -E "box|cluster:|saved state" "$LAB_DIR/sluiced2.log" | tail -12; return 1; }
	fleet_wait_paths "$LAB_VIP4" "$FLEET_BOXES" 10 ||
		{ fail "the router has $(fleet_paths "$LAB_VIP4") paths to $LAB_VIP4 after box 2 started undrained"; return 1; }
}

# The owner a box's report in etcd names (HOST/INSTANCE).
cluster_owner() {
	fleet_etcdctl get "$FLEET_PREFIX/boxes/$1" --print-value-only | json - 'j["owner"]'
}

# Two sluiced with one box name: the second never overwrites the first's
# report; it is refused, says why in its log, status and metrics, and box
# list names it; it joins once the name is free. A box restarted at once
# (its old lease still alive) takes its own name back.
t_cluster_box_name_taken_setup() { cluster_setup; }
t_cluster_box_name_taken_teardown() { cluster_teardown; }
t_cluster_box_name_taken() {
	local owner1 owner2 err rev2
	owner1=$(cluster_owner box1)
	assert_eq "box1's owner" "${LAB_P}b1" "${owner1##*/}" || return 1
	rev2=$(cluster_status 2 applied_revision)
	fleet_sluiced_stop 2
	sed -i 's/^  box: box2$/  box: box1/' "$LAB_DIR/sluiced2.yaml"
	fleet_sluiced_start 2 || return 1
	it_wait_for 10 True cluster_status 2 box_name_conflict || return 1
	assert_eq "box2's connected" False "$(cluster_status 2 connected)" || return 1
	err=$(cluster_status 2 last_error)
	echo "status: $err"
	[[ $err == *'box name "box1" is held in '"$FLEET_PREFIX"' by another live sluiced ('"$owner1"')'*'give every box a unique cluster.box'* ]] ||
		{ fail "status does not name the name, the holder and the fix: $err"; return 1; }
	grep -q 'cluster: box name "box1" is held' "$LAB_DIR/sluiced2.log" ||
		{ fail "box2's log does not say it"; return 1; }
	assert_eq "box2's conflict metric" "sluice_cluster_box_name_conflict 1" \
		"$(lab_ns lb2 curl -s 127.0.0.1:9482/metrics | grep '^sluice_cluster_box_name_conflict ')" || return 1
	assert_eq "box1's conflict metric" "sluice_cluster_box_name_conflict 0" \
		"$(lab_ns lb curl -s 127.0.0.1:9481/metrics | grep '^sluice_cluster_box_name_conflict ')" || return 1
	# A change makes every box republish: box1's report stays box1's.
	fleet_cli backend set "$LAB_VIP4:80/tcp" "$(lab_be4 3)" --weight 300 || return 1
	it_wait_for 10 "$(cluster_desired_rev)" cluster_status 1 applied_revision || return 1
	sleep 1
	assert_eq "the report under box1 after a change" "$owner1" "$(cluster_owner box1)" || return 1
	assert_eq "boxes listed" "box1 box3" "$(cluster_box_names)" || return 1
	# It runs the state it saved, under that state's revision, and
	# applies nothing new.
	assert_eq "box2's revision (its saved state's, nothing new from etcd)" "$rev2" \
		"$(cluster_status 2 applied_revision)" || return 1
	fleet_cli box list >/dev/null 2>"$LAB_DIR/list.err" || return 1
	cat "$LAB_DIR/list.err"
	grep -q "box box1: a second sluiced (.*${LAB_P}b2) has this name and is refused (held by $owner1)" \
		"$LAB_DIR/list.err" || { fail "box list does not report the refused sluiced"; return 1; }
	grep -q "hint: give every box a unique cluster.box" "$LAB_DIR/list.err" ||
		{ fail "box list gives no fix"; return 1; }
	# The holder leaves cleanly: the second takes the name, the warning goes.
	fleet_sluiced_stop 1
	it_wait_for 10 False cluster_status 2 box_name_conflict || return 1
	it_wait_for 5 True cluster_status 2 connected || return 1
	owner2=$(cluster_owner box1)
	assert_eq "box1's report is now box2's sluiced" "${LAB_P}b2" "${owner2##*/}" || return 1
	assert_eq "box list warnings once the name is free" "" \
		"$(fleet_cli box list 2>&1 >/dev/null)" || return 1
	# A killed box restarted at once, its old lease still alive, is no conflict.
	fleet_sluiced_stop 3 KILL
	fleet_sluiced_start 3 || return 1
	it_wait_for 5 True cluster_status 3 connected || return 1
	assert_eq "box3's conflict after a quick restart" False \
		"$(cluster_status 3 box_name_conflict)" || return 1
}

# A CA, etcd's server certificate (for 198.18.20.1; also a client one: the
# gateway dials etcd's gRPC with it), a client certificate
# it signed, and a second CA that signed nothing etcd uses, in @1.
cluster_certs() {
	local d=$1 name
	for name in ca other-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/$name.key" -out "$d/$name.crt" -days 1 \
			-subj "/CN=sluice test $name" 2>/dev/null || return 1
	done
	_cluster_cert "$d" server "subjectAltName=IP:198.18.20.1
extendedKeyUsage=serverAuth,clientAuth" || return 1
	_cluster_cert "$d" client "extendedKeyUsage=clientAuth"
}

_cluster_cert() {	# dir name extensions
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1/$2.key" -out "$1/$2.csr" -subj "/CN=sluice-$2" 2>/dev/null &&
		openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" \
			-CAcreateserial -out "$1/$2.crt" -days 1 -extfile <(echo "$3") 2>/dev/null
}

# Restart box 1 with its cluster: line @1 replaced by @2 (sed expressions).
cluster_box1_reconfig() {
	fleet_sluiced_stop 1
	sed -i "s|$1|$2|" "$LAB_DIR/sluiced1.yaml"
	fleet_sluiced_start 1
}

# Wait up to 10 s until box 1's last etcd error matches @1 (a glob).
cluster_wait_error() {
	local err
	for _ in $(seq 1 20); do
		err=$(cluster_status 1 last_error)
		# shellcheck disable=SC2053 # @1 is a glob
		[[ $err == $1 ]] && { echo "box1: $err"; return 0; }
		sleep 0.5
	done
	fail "box 1's etcd error: expected $1, got '$err'"
}

# etcd with client-certificate TLS: sluiced and sluicectl --cluster work
# with the right CA and certificate; a wrong CA or no client certificate
# is a clear error, exit 4 for sluicectl, and a disconnected box that says
# why.
t_cluster_tls_setup() {
	CLUSTER_CERTS=$(mktemp -d /tmp/sluice-certs.XXXX)
	cluster_certs "$CLUSTER_CERTS" || { fail "openssl could not make the test certificates"; return 1; }
	local c=$CLUSTER_CERTS
	FLEET_BOXES=1
	FLEET_ETCD=https://198.18.20.1:2379
	FLEET_ETCD_ARGS="--cert-file $c/server.crt --key-file $c/server.key --client-cert-auth --trusted-ca-file $c/ca.crt"
	FLEET_ETCDCTL_ARGS="--cacert $c/ca.crt --cert $c/client.crt --key $c/client.key"
	FLEET_CLUSTER_EXTRA="  ca_file: $c/ca.crt
  cert_file: $c/client.crt
  key_file: $c/client.key"
	cluster_setup
}
t_cluster_tls_teardown() { cluster_teardown; rm -rf "$CLUSTER_CERTS"; }
t_cluster_tls() {
	local c=$CLUSTER_CERTS rc
	assert_eq "box1 connected over TLS" True "$(cluster_status 1 connected)" || return 1
	ETCDCTL_CACERT=$c/ca.crt ETCDCTL_CERT=$c/client.crt ETCDCTL_KEY=$c/client.key \
		fleet_cli backend drain "$LAB_VIP4:80/tcp" "$(lab_be4 2)" || return 1
	it_wait_for 10 "$(cluster_desired_rev)" cluster_status 1 applied_revision || return 1
	assert_eq "boxes listed over TLS" box1 "$(ETCDCTL_CACERT=$c/ca.crt ETCDCTL_CERT=$c/client.crt \
		ETCDCTL_KEY=$c/client.key fleet_cli -j box list | json - 'j[0]["box"]')" || return 1
	# A CA that did not sign etcd's certificate.
	ETCDCTL_CACERT=$c/other-ca.crt ETCDCTL_CERT=$c/client.crt ETCDCTL_KEY=$c/client.key \
		fleet_cli box list >/dev/null 2>"$LAB_DIR/ca.err"
	rc=$?
	cat "$LAB_DIR/ca.err"
	assert_eq "sluicectl's exit with a wrong CA" 4 "$rc" || return 1
	grep -q "TLS failed:.*certificate" "$LAB_DIR/ca.err" && grep -q "hint: check ETCDCTL_CACERT" "$LAB_DIR/ca.err" ||
		{ fail "no clear error for a wrong CA"; return 1; }
	# No client certificate: etcd ends the handshake.
	ETCDCTL_CACERT=$c/ca.crt fleet_cli box list >/dev/null 2>"$LAB_DIR/cert.err"
	rc=$?
	cat "$LAB_DIR/cert.err"
	assert_eq "sluicectl's exit without a client certificate" 4 "$rc" || return 1
	grep -q "TLS failed: etcd closed the connection and no client certificate is configured" "$LAB_DIR/cert.err" || { fail "no clear error without a client certificate"; return 1; }
	# sluiced with the wrong CA: disconnected, forwarding, saying why.
	cluster_box1_reconfig "ca_file: $c/ca.crt" "ca_file: $c/other-ca.crt" || return 1
	cluster_wait_error "*TLS failed*certificate*" || return 1
	assert_eq "box1 connected with a wrong CA" False "$(cluster_status 1 connected)" || return 1
	grep -q "cluster: etcd session failed: etcd https://198.18.20.1:2379: TLS failed" "$LAB_DIR/sluiced1.log" ||
		{ fail "box1's log does not say why"; return 1; }
}

# etcd with authentication (etcd v3 auth enable): a user whose role may
# write PREFIX/ only. sluiced and sluicectl --cluster work with its
# password; a wrong password or none is a clear error, exit 4 for
# sluicectl, and a disconnected box that says why.
cluster_auth_hook() {
	fleet_etcdctl user add root:rootpw >/dev/null &&
		fleet_etcdctl user grant-role root root >/dev/null &&
		fleet_etcdctl role add sluice >/dev/null &&
		fleet_etcdctl role grant-permission sluice --prefix=true readwrite "$FLEET_PREFIX/" >/dev/null &&
		fleet_etcdctl user add sluice:sluicepw >/dev/null &&
		fleet_etcdctl user grant-role sluice sluice >/dev/null &&
		fleet_etcdctl auth enable >/dev/null || return 1
	FLEET_ETCDCTL_ARGS="--user root:rootpw"
}
# `config diff` of box 1's file with the etcd password changed: the
# dump leaves the credentials out, so sluiced compares them itself. The
# difference is listed, shown as set, and neither password appears in
# its output, its --verbose trace or sluiced's log.
cluster_diff_credentials() {
	local f=$LAB_DIR/sluiced1.newpw.yaml out rc
	fleet_ctl 1 config diff "$LAB_DIR/sluiced1.yaml" >"$LAB_DIR/diff.same" 2>&1
	rc=$?
	cat "$LAB_DIR/diff.same"
	assert_eq "config diff of box 1's own file" 0 "$rc" || return 1
	sed 's|password: sluicepw|password: rotated-pw-7|' "$LAB_DIR/sluiced1.yaml" >"$f"
	fleet_ctl 1 -v config diff "$f" >"$LAB_DIR/diff.out" 2>"$LAB_DIR/diff.err"
	rc=$?
	cat "$LAB_DIR/diff.out"
	assert_eq "config diff with the etcd password changed (1: differs)" 1 "$rc" || return 1
	grep -qF 'cluster.password: running "(set)", file "(set, another)"' "$LAB_DIR/diff.out" ||
		fail "config diff does not list the changed password" || return 1
	out=$(grep -lE "sluicepw|rotated-pw-7" "$LAB_DIR/diff.out" "$LAB_DIR/diff.err" \
		"$LAB_DIR/diff.same" "$LAB_DIR/sluiced1.log")
	assert_eq "files that show an etcd password" "" "$out" || return 1
	grep -q '"compare":{"cluster.username":"(not shown)","cluster.password":"(not shown)"}' \
		"$LAB_DIR/diff.err" || fail "--verbose does not show the comparison request masked"
}

t_cluster_auth_setup() {
	FLEET_BOXES=1
	FLEET_ETCD_HOOK=cluster_auth_hook
	FLEET_CLUSTER_EXTRA="  username: sluice
  password: sluicepw"
	cluster_setup
}
t_cluster_auth_teardown() { cluster_teardown; }
t_cluster_auth() {
	local rc
	assert_eq "box1 connected with a password" True "$(cluster_status 1 connected)" || return 1
	ETCDCTL_USER=sluice:sluicepw fleet_cli backend drain "$LAB_VIP4:80/tcp" "$(lab_be4 2)" || return 1
	it_wait_for 10 "$(cluster_desired_rev)" cluster_status 1 applied_revision || return 1
	assert_eq "boxes listed with a password" box1 \
		"$(ETCDCTL_USER=sluice:sluicepw fleet_cli -j box list | json - 'j[0]["box"]')" || return 1
	ETCDCTL_USER=sluice:wrong fleet_cli box list >/dev/null 2>"$LAB_DIR/pw.err"
	rc=$?
	cat "$LAB_DIR/pw.err"
	assert_eq "sluicectl's exit with a wrong password" 4 "$rc" || return 1
	grep -q "authentication failed" "$LAB_DIR/pw.err" && grep -q "hint: check ETCDCTL_USER" "$LAB_DIR/pw.err" ||
		{ fail "no clear error for a wrong password"; return 1; }
	fleet_cli box list >/dev/null 2>"$LAB_DIR/nouser.err"
	rc=$?
	cat "$LAB_DIR/nouser.err"
	assert_eq "sluicectl's exit without a user" 4 "$rc" || return 1
	cluster_diff_credentials || return 1
	# sluiced with a wrong password: disconnected, forwarding, saying why.
	cluster_box1_reconfig "password: sluicepw" "password: wrong" || return 1
	cluster_wait_error "*authentication failed*" || return 1
	grep -q "cluster: etcd session failed:.*authentication failed" "$LAB_DIR/sluiced1.log" ||
		{ fail "box1's log does not say why"; return 1; }
	fleet_get 20 || return 1
}

# Box k's new flows on the IPv6 VIP.
cluster_new_flows6() {
	fleet_ctl "$1" -j vip list |
		json - '[v["new_flows"] for v in j if v["vip"].startswith("[fd00:")][0]'
}

# The IPv6 VIP and its IPv6 backends, driven through etcd: ECMP over every
# box, a fleet drain --wait, no new connection to the drained backend,
# per-box counts in backend list, and an undrain that brings it back.
t_cluster_ipv6_setup() {
	cluster_setup && fleet_wait_paths "$LAB_VIP6" "$FLEET_BOXES" 20 ||
		{ fail "the router never learned $FLEET_BOXES paths to $LAB_VIP6"; return 1; }
}
t_cluster_ipv6_teardown() { cluster_teardown; }
t_cluster_ipv6() {
	local vip="[$LAB_VIP6]:80/tcp" be2 out k rc
	be2=$(lab_be6 2)
	out=$(fleet_get 60 "$LAB_VIP6") || return 1
	assert_ge "connections to be2 before the drain" "$(json - 'j["backends"].get("be2", 0)' <<<"$(tail -1 <<<"$out")")" 1 || return 1
	for k in $(seq 1 "$FLEET_BOXES"); do
		assert_ge "new IPv6 flows on box $k" "$(cluster_new_flows6 "$k")" 1 || return 1
	done
	fleet_cli -j backend drain "$vip" "$be2" --wait --timeout 30s >"$LAB_DIR/wait.json"
	rc=$?
	cat "$LAB_DIR/wait.json"
	assert_eq "fleet drain --wait of an IPv6 backend" 0 "$rc" || return 1
	assert_eq "boxes that applied the drain" "$FLEET_BOXES" \
		"$(json "$LAB_DIR/wait.json" 'sum(1 for b in j["boxes"] if b["applied"] and b["drained"])')" || return 1
	out=$(fleet_get 60 "$LAB_VIP6") || return 1
	assert_eq "new IPv6 connections to be2 after the drain" 0 \
		"$(json - 'j["backends"].get("be2", 0)' <<<"$(tail -1 <<<"$out")")" || return 1
	out=$(fleet_cli -j backend list "$vip")
	assert_eq "be2's row: draining, per-box counts" "draining $FLEET_BOXES" \
		"$(json - '[r["state"] + " " + str(len(r["boxes"])) for r in j if r["backend"] == "'"$be2"'"][0]' <<<"$out")" || return 1
	fleet_cli backend undrain "$vip" "$be2" || return 1
	it_wait_for 10 "$(cluster_desired_rev)" cluster_status 1 applied_revision || return 1
	sleep 1
	out=$(fleet_get 60 "$LAB_VIP6") || return 1
	assert_ge "IPv6 connections to be2 after the undrain" \
		"$(json - 'j["backends"].get("be2", 0)' <<<"$(tail -1 <<<"$out")")" 1 || return 1
}
