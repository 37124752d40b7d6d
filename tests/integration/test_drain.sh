# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# sluiced and sluicectl in the lab: exact flow counts, drain --wait,
# timeouts, undrain, crash recovery, reload and control-socket hygiene.

VIP="$LAB_VIP4:80/tcp"

# The live-flow count sluice reports equals the connections each backend has.
t_flow_counts_match_ss() {
	local i want got
	it_streams_start s 30 8000000 10 || return 1
	for i in 1 2 3; do
		want=$(it_ss_count "$i")
		it_wait_for 5 "$want" it_flows "$VIP" "$(lab_be4 "$i")" || return 1
		got=$(it_flows "$VIP" "$(lab_be4 "$i")")
		echo "be$i: sluice says $got flows, ss on the backend says $want"
	done
	assert_eq "total flows" 30 "$(lab_ctl -j backend list | json - "sum(r['flows'] for r in j)")"
	it_streams_wait s >/dev/null
	it_streams_all_ok s 30
}

# drain --wait returns 0 a few seconds after the last long connection ends;
# meanwhile no new connection reaches the draining backend and none resets.
t_drain_wait_zero_resets() {
	local be1 t0 t_streams t_drain rc during lag dpid last
	be1=$(lab_be4 1)
	it_streams_start s 45 3000000 6 || return 1
	t0=$(date +%s.%N)
	( lab_ctl backend drain "$VIP" "$be1" --wait --timeout 60s \
		>"$LAB_DIR/drain.out" 2>&1; echo $? >"$LAB_DIR/drain.rc"; date +%s.%N >"$LAB_DIR/drain.t" ) &
	dpid=$!
	sleep 0.5
	during=$(lab_client get --vip "$LAB_VIP4" --count 40 --sources 198.18.10.3,198.18.10.4)
	echo "new requests during the drain: $during"
	assert_eq "new requests that reached be1 while draining" 0 \
		"$(echo "$during" | json - "j['backends'].get('be1', 0)")" || return 1
	assert_eq "failed requests" 0 "$(echo "$during" | json - "j['errors']")" || return 1
	it_streams_wait s
	t_streams=$(date +%s.%N)
	it_streams_all_ok s 45 || return 1
	wait "$dpid"
	rc=$(cat "$LAB_DIR/drain.rc")
	t_drain=$(cat "$LAB_DIR/drain.t")
	cat "$LAB_DIR/drain.out"
	assert_eq "drain --wait exit code" 0 "$rc" || return 1
	# Measured from be1's own last stream (the client's close time), not
	# from all of them: --wait must return after it, never before, and
	# soon after it.
	assert_ge "streams that were on be1" \
		"$(json "$LAB_DIR/s.json" "j['backends'].get('be1', 0)")" 1 || return 1
	last=$(json "$LAB_DIR/s.json" "j['last_end']['be1']")
	lag=$(python3 -c "print(round($t_drain - $last, 3))")
	echo "drain took $(python3 -c "print(round($t_drain - $t0, 2))")s, finished ${lag}s after be1's last stream" \
		"($(python3 -c "print(round($t_streams - $last, 2))")s before the last of all)"
	assert_eq "--wait returned after be1's last stream closed" True \
		"$(python3 -c "print($lag >= 0)")" || return 1
	assert_eq "--wait returned within 5 s of be1's last stream" True \
		"$(python3 -c "print($lag <= 5.0)")" || return 1
	assert_eq "state" drained "$(it_state "$VIP" "$be1")"
	# Step 2 came from the in-kernel drain walk (bpf/drain_walk.bpf.c), loaded.
	assert_eq "sluice_drain_walk_loaded" 1 "$(drain_metric sluice_drain_walk_loaded)" || return 1
	assert_ge "sluice_drain_walks_total" "$(drain_metric sluice_drain_walks_total)" 1
	assert_ge "walks timed (sluice_drain_walk_duration_seconds_count)" \
		"$(drain_metric sluice_drain_walk_duration_seconds_count)" 1
}

# One unlabelled sample of sluiced's /metrics.
drain_metric() {
	lab_ns lb curl -sf -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics" |
		awk -v s="$1" '$1 == s { print $2 }'
}

# A drain whose timeout passes with flows left exits 3 and says how many.
t_drain_timeout_exit_3() {
	local be1 rc out
	be1=$(lab_be4 1)
	it_streams_start s 30 4000000 12 || return 1
	out=$(lab_ctl backend drain "$VIP" "$be1" --wait --timeout 2s 2>&1)
	rc=$?
	echo "$out"
	assert_eq "drain --wait --timeout 2s exit code" 3 "$rc" || return 1
	echo "$out" | grep -Eq '[1-9][0-9]* flows? (were )?left|left: [1-9]' ||
		fail "drain output should say how many flows were left" || return 1
	# A timed-out drain resets nothing: the flows keep their backend.
	it_streams_wait s >/dev/null
	it_streams_all_ok s 30
}

t_undrain_restores_new_flows() {
	local be1 out
	be1=$(lab_be4 1)
	lab_ctl backend drain "$VIP" "$be1" >/dev/null || return 1
	out=$(lab_client get --vip "$LAB_VIP4" --count 30)
	assert_eq "requests to be1 while drained" 0 "$(echo "$out" | json - "j['backends'].get('be1', 0)")" || return 1
	lab_ctl backend undrain "$VIP" "$be1" || return 1
	assert_eq "state after undrain" active "$(it_state "$VIP" "$be1")" || return 1
	out=$(lab_client get --vip "$LAB_VIP4" --count 60)
	echo "after undrain: $out"
	assert_ge "requests to be1 after undrain" "$(echo "$out" | json - "j['backends'].get('be1', 0)")" 5
}

# SIGKILL mid-drain: connections survive, the drain resumes and finishes.
# The streams outlast a restart on a loaded 2-core machine (loading and
# verifying both XDP programs took up to several seconds there), so the
# count is read back while they are all still open.
t_sigkill_mid_drain_resumes() {
	local be1 before after
	be1=$(lab_be4 1)
	it_streams_start s 30 3000000 15 || return 1
	lab_ctl backend drain "$VIP" "$be1" >/dev/null || return 1
	before=$(it_flows "$VIP" "$be1")
	lab_sluiced_stop KILL
	sleep 1
	lab_sluiced_start || return 1
	assert_eq "state after restart" draining "$(it_state "$VIP" "$be1")" || return 1
	it_wait_for 5 "$before" it_flows "$VIP" "$be1" || return 1
	echo "flows on be1: $before before the kill, $(it_flows "$VIP" "$be1") after"
	it_streams_wait s
	it_streams_all_ok s 30 || return 1
	it_wait_for 10 drained it_state "$VIP" "$be1"
}

# An sl_new pinned by an older sluiced (an LRU hash) is replaced on start:
# established connections keep flowing, and new ones are balanced.
t_restart_replaces_old_new_table() {
	local pin=/sys/fs/bpf/sluice-${LAB_P}/sl_new type out
	it_streams_start s 20 2000000 6 || return 1
	sleep 1
	lab_sluiced_stop KILL
	rm -f "$pin"
	bpftool map create "$pin" type lru_hash key 40 value 16 entries 4096 \
		name sl_new || fail "cannot pin an old-style sl_new" || return 1
	lab_sluiced_start || return 1
	grep "re-creating" "$LAB_DIR/sluiced.log" | tail -1
	grep -q "re-creating $pin" "$LAB_DIR/sluiced.log" ||
		fail "sluiced should say it re-created sl_new" || return 1
	type=$(bpftool -j map show pinned "$pin" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["type"])')
	assert_eq "sl_new type after the restart" array "$type" || return 1
	it_streams_wait s
	it_streams_all_ok s 20 || return 1
	out=$(lab_client get --vip "$LAB_VIP4" --count 30)
	echo "new connections after the restart: $out"
	assert_eq "failed new connections" 0 "$(echo "$out" | json - "j['errors']")"
}

# A bad config on SIGHUP changes nothing; a good one applies.
t_bad_reload_keeps_state() {
	local good=$LAB_DIR/sluiced.yaml before
	before=$(lab_ctl -j backend list)
	cp "$good" "$LAB_DIR/good.yaml"
	sed -i 's/- address: 198.18.20.13/- address: 198.18.20.13\n        weight: lots/' "$good"
	kill -HUP "$LAB_SLUICED_PID"
	sleep 1
	grep -q "reload rejected" "$LAB_DIR/sluiced.log" ||
		fail "sluiced should log the rejected reload" || return 1
	grep "reload rejected" "$LAB_DIR/sluiced.log" | tail -1
	grep "reload rejected" "$LAB_DIR/sluiced.log" | grep -q "weight" ||
		fail "the rejection should name the field" || return 1
	assert_eq "backends after a bad reload" "$before" "$(lab_ctl -j backend list)" || return 1
	sed 's/- address: 198.18.20.13/- address: 198.18.20.13\n        weight: 7/' \
		"$LAB_DIR/good.yaml" >"$good"
	kill -HUP "$LAB_SLUICED_PID"
	it_wait_for 5 7 it_weight "$VIP" 198.18.20.13
}

# Garbage on the control socket gets error replies, never a crash; a
# request out of range (a drain timeout of 0) is refused and changes nothing.
t_control_socket_bad_input() {
	local out
	out=$(lab_ns lb python3 - "$LAB_DIR/sluiced.sock" "$LAB_VIP4:80/tcp" "$(lab_be4 1)" <<'EOF'
import json, socket, sys
path, vip, be = sys.argv[1:4]
def ask(payload):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    try:
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass    # an oversized request is refused before it is all sent
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return data
bad = [b"not json\n", b"[1,2]\n", b"{}\n", b'{"cmd":42}\n', b'{"cmd":"nope"}\n',
       b'{"cmd":"backend.drain","backend":"not-an-ip"}\n',
       b'{"cmd":"backend.add","vip":"198.18.3.4:99999/tcp","backend":"198.18.20.11"}\n',
       b'{"cmd":"backend.add","vip":"198.18.0.100:80/tcp","backend":"198.18.20.14","weight":-1}\n',
       b"\xff\xfe\x00garbage\n"]
for b in bad:
    r = json.loads(ask(b))
    assert r["ok"] is False and r["error"], (b, r)
    print("rejected:", r["error"])
# README "Limits": drain timeouts are 1ms .. 596h on the socket too; 0
# would time the drain out at once.
drain0 = {"cmd": "backend.drain", "vip": vip, "backend": be, "timeout_ms": 0}
r = json.loads(ask(json.dumps(drain0).encode() + b"\n"))
assert r["ok"] is False and r["errno"] == "EINVAL", r
assert 'argument "timeout_ms" must be 1..2145600000' in r["error"], r
print("rejected:", r["error"])
# config.dump's "compare" (config diff's etcd credentials): only an object
# of the two undumped settings' texts; what it names is said, never echoed.
for arg, why in (([], "must be an object"),
                 ({"cluster.ca_file": "/x"}, '"cluster.ca_file" is not a setting config dump leaves out'),
                 ({"cluster.password": 7}, '"cluster.password" must be a string')):
    r = json.loads(ask(json.dumps({"cmd": "config.dump", "compare": arg}).encode() + b"\n"))
    assert r["ok"] is False and r["errno"] == "EINVAL" and why in r["error"], (arg, r)
    print("rejected:", r["error"])
r = json.loads(ask(b'{"cmd":"config.dump","compare":{"cluster.password":"pw-1234"}}\n'))
assert r["ok"] is True and r["result"]["compared"] == {
    "cluster.password": {"differs": True, "running_set": False}}, r
assert "pw-1234" not in json.dumps(r), r
st = {"cmd": "backend.status", "vip": vip, "backend": be}
r = json.loads(ask(json.dumps(st).encode() + b"\n"))
assert r["ok"] is True and [x["state"] for x in r["result"]] == ["active"], r
print("backend", be, "still active")
big = ask(b'{"cmd":"status","pad":"' + b"x" * 100000 + b'"}\n')
print("oversized request answered:", big[:80])
r = json.loads(ask(b'{"cmd":"status"}\n'))
assert r["ok"] is True, r
print("still serving")
EOF
)
	local rc=$?
	echo "$out"
	assert_eq "bad-input script" 0 "$rc" || return 1
	kill -0 "$LAB_SLUICED_PID" || fail "sluiced died"
}
