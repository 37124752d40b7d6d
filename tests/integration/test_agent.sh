# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The backend agent (sluice-decap agent): each backend's own count of the
# VIP's connections, read from its kernel through sock_diag, must equal
# what `ss` shows on that backend, through a half-close, down to zero.

# Start an agent on backend i, listening on the backend's own address.
agent_start() {
	local i=$1
	lab_bg "be$i" "$LAB_BUILD/sluice-decap" agent --listen "$(lab_be4 "$i"):9470" \
		--vip "$LAB_VIP4:80/tcp" >>"$LAB_DIR/agent$i.log" 2>&1
	lab_track $!
}

# The same, as sluice-agent.service runs it: an unprivileged user with no
# capability at all, under its system-call filter (copies of what it runs
# that it can reach, as the checkout may sit under a private home).
agent_start_unprivileged() {
	agent_start_as_nobody "$1" -all
}

# Backend i's agent as nobody with only the capabilities @caps (setpriv's
# list, e.g. +sys_admin; "-all" for none), under sluice-agent.service's
# private /dev and system-call filter (unit_sandbox.py); further
# arguments go to it.
agent_start_as_nobody() {
	local i=$1 caps=$2 dir=$LAB_DIR/unpriv set
	shift 2
	set=$caps
	[[ $caps == -all ]] || set="-all,$caps"
	if [[ ! -x $dir/sluice-decap ]]; then
		chmod 711 "$LAB_DIR" &&
			install -D -m 0755 "$LAB_BUILD/sluice-decap" "$dir/sluice-decap" &&
			install -m 0755 "$LAB_SRC/tests/integration/unit_sandbox.py" "$dir/" &&
			install -m 0644 "$LAB_BUILD/systemd/sluice-agent.service" "$dir/" || return 1
	fi
	lab_bg "be$i" "$dir/unit_sandbox.py" --devices "$dir/sluice-agent.service" -- \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps="$set" --ambient-caps="$set" --bounding-set="$set" \
		--no-new-privs "$dir/unit_sandbox.py" "$dir/sluice-agent.service" -- \
		"$dir/sluice-decap" agent --listen "$(lab_be4 "$i"):9470" \
		--vip "$LAB_VIP4:80/tcp" "$@" >>"$LAB_DIR/agent$i.log" 2>&1
	lab_track $!
}

# live sockets backend i's agent reports for the VIP (from the client side).
agent_live() {
	lab_ns cli curl -sf -m 2 "http://$(lab_be4 "$1"):9470/v1/sockets" |
		json - 'j["vips"][0]["live"]'
}

# What ss says on backend i: the VIP's port-80 sockets that are not
# listening, closed or in TIME_WAIT.
ss_live() {
	lab_ns "be$1" ss -Htn state established state syn-recv state fin-wait-1 state fin-wait-2 state close-wait state last-ack state closing "src $LAB_VIP4:80" | wc -l
}

# Sum of agent_live over backends; fails if any agent does not answer.
agents_sum() {
	local i n sum=0
	for i in $(seq 1 "$LAB_BACKENDS"); do
		n=$(agent_live "$i") || return 1
		sum=$((sum + n))
	done
	echo "$sum"
}

# Unprivileged, as its systemd unit runs it.
t_agent_counts_match_ss() {
	local i tries n ss_n sum client ready="$LAB_DIR/ready" go="$LAB_DIR/go"
	for i in $(seq 1 "$LAB_BACKENDS"); do agent_start_unprivileged "$i" || return 1; done
	for tries in $(seq 1 50); do
		agent_live 1 >/dev/null 2>&1 && break
		sleep 0.1
	done
	lab_client idle --vip "$LAB_VIP4" --count 30 --ready "$ready" --go "$go" \
		--max-seconds 60 >"$LAB_DIR/idle.json" &
	client=$!
	for tries in $(seq 1 100); do [[ -s $ready ]] && break; sleep 0.1; done
	assert_eq "connections opened" 30 "$(cat "$ready")" || return 1
	for i in $(seq 1 "$LAB_BACKENDS"); do
		n=$(agent_live "$i") || { fail "agent $i did not answer"; return 1; }
		ss_n=$(ss_live "$i")
		echo "backend $i: agent $n, ss $ss_n"
		assert_eq "backend $i agent count vs ss" "$ss_n" "$n" || return 1
	done
	sum=$(agents_sum) || return 1
	assert_eq "agents' sum" 30 "$sum" || return 1
	touch "$go"
	wait "$client"
	for tries in $(seq 1 50); do
		sum=$(agents_sum) || return 1
		[[ $sum == 0 ]] && break
		sleep 0.1
	done
	assert_eq "agents' sum after the clients closed" 0 "$sum" || return 1
}

# A client that half-closes (shutdown(SHUT_WR)) while the server is still
# sending stays live in the agent's count until the server is done.
t_agent_counts_half_closed() {
	local i tries n=0 out pid
	for i in $(seq 1 "$LAB_BACKENDS"); do agent_start "$i"; done
	for tries in $(seq 1 50); do
		agent_live 1 >/dev/null 2>&1 && break
		sleep 0.1
	done
	# One slow download whose client half-closes right after the request.
	lab_ns cli python3 - "$LAB_VIP4" "$LAB_DIR/flowing" >"$LAB_DIR/half.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"GET /stream?bytes=4000000&seconds=4 HTTP/1.0\r\n\r\n")
s.shutdown(socket.SHUT_WR)
n, t0, told = 0, time.time(), False
while time.time() - t0 < 20:
    b = s.recv(65536)
    if not b:
        break
    n += len(b)
    if n > 100000 and not told:
        open(sys.argv[2], "w").close()   # half-closed, data still flowing
        told = True
print(n)
PY
	pid=$!
	for tries in $(seq 1 100); do [[ -e $LAB_DIR/flowing ]] && break; sleep 0.1; done
	[[ -e $LAB_DIR/flowing ]] || { fail "the stream did not start"; return 1; }
	n=$(agents_sum) || return 1
	echo "half-closed, mid-stream: agents count $n"
	assert_eq "half-closed connection counted" 1 "$n" || return 1
	wait "$pid"
	out=$(cat "$LAB_DIR/half.out")
	echo "client received $out bytes"
	assert_ge "bytes received after the half-close" "$out" 1000000 || return 1
	for tries in $(seq 1 50); do
		n=$(agents_sum) || return 1
		[[ $n == 0 ]] && break
		sleep 0.1
	done
	assert_eq "after the stream ended" 0 "$n" || return 1
}

# The box's own count of backend @1's flows on the VIP (without the agent's).
agent_box_flows() {
	it_ctl_raw "{\"cmd\":\"backend.status\",\"vip\":\"$LAB_VIP4:80/tcp\",\"backend\":\"$1\"}" |
		json - "j['result'][0]['box_flows']"
}

# Restart sluiced with the lab's VIP, be1 read through its agent (port 9470).
be1_agent_restart() {
	lab_sluiced_stop TERM
	lab_config >"$LAB_DIR/sluiced.yaml" <<EOF2
vips:
  - vip: $LAB_VIP4:80/tcp
    backends:
      - address: $(lab_be4 1)
        agent_port: 9470
      - address: $(lab_be4 2)
      - address: $(lab_be4 3)
EOF2
	lab_sluiced_start
}

# A drain waits for the backend's own count too (agent_port): connections
# the box stopped tracking (idle past flows.tcp_idle_timeout, here 2 s)
# still hold be1's drain while its agent sees them, and --wait returns 0
# once they close (be1's server stops).
t_agent_holds_drain() {
	local be1 client ready="$LAB_DIR/ready" go="$LAB_DIR/go" st tries waitpid rc n t0
	be1=$(lab_be4 1)
	agent_start 1
	LAB_TCP_IDLE=2s be1_agent_restart || return 1
	lab_client idle --vip "$LAB_VIP4" --count 20 --ready "$ready" --go "$go" \
		--max-seconds 60 >"$LAB_DIR/idle.json" &
	client=$!
	for tries in $(seq 1 100); do [[ -s $ready ]] && break; sleep 0.1; done
	assert_eq "connections opened" 20 "$(cat "$ready")" || return 1
	it_wait_ge 5 1 agent_live 1 || return 1
	n=$(agent_live 1)
	echo "be1's agent counts $n connections"
	lab_ctl backend drain "$LAB_VIP4:80/tcp" "$be1" --wait --timeout 60s \
		>"$LAB_DIR/wait.out" 2>&1 &
	waitpid=$!
	# The box forgets the idle flows; the agent does not.
	it_wait_for 15 0 agent_box_flows "$be1" || return 1
	sleep 2
	st=$(it_ctl_raw "{\"cmd\":\"backend.status\",\"vip\":\"$LAB_VIP4:80/tcp\",\"backend\":\"$be1\"}")
	echo "status while only the agent sees them: $st"
	kill -0 "$waitpid" 2>/dev/null || fail "drain --wait returned while be1 had connections" || return 1
	assert_eq "state" draining "$(echo "$st" | json - "j['result'][0]['state']")" || return 1
	assert_eq "agent_sockets" "$n" "$(echo "$st" | json - "j['result'][0]['agent_sockets']")" || return 1
	assert_eq "flows (the larger count)" "$n" "$(echo "$st" | json - "j['result'][0]['flows']")" || return 1
	assert_eq "sluice_backend_agent_sockets" "$n" "$(lab_ns lb curl -sf -m 5 \
		"http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics" |
		awk -v s="sluice_backend_agent_sockets{vip=\"$LAB_VIP4:80/tcp\",backend=\"$be1\"}" \
		'$1 == s { print $2 }')" || return 1
	# be1's server goes: its sockets close, the agent counts 0, the drain ends.
	t0=$(date +%s)
	lab_server_stop 1
	wait "$waitpid"
	rc=$?
	cat "$LAB_DIR/wait.out"
	assert_eq "drain --wait exit code" 0 "$rc" || return 1
	assert_le "seconds from the last socket closing to drained" $(($(date +%s) - t0)) 10 || return 1
	touch "$go"
	wait "$client"
}

# sluice_backend_agent_up of backend @1 on the VIP, from the metrics.
agent_up_metric() {
	lab_ns lb curl -sf -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics" |
		awk -v s="sluice_backend_agent_up{vip=\"$LAB_VIP4:80/tcp\",backend=\"$1\"}" \
		'$1 == s { print $2 }'
}

# An agent that does not answer is no evidence: a drain of its backend
# waits, even with no flow on the box, and says why; it ends once the
# agent answers and counts nothing.
t_agent_unreachable_holds_drain() {
	local be1 st waitpid rc err
	be1=$(lab_be4 1)
	be1_agent_restart || return 1
	lab_ctl backend drain "$LAB_VIP4:80/tcp" "$be1" --wait --timeout 60s \
		>"$LAB_DIR/wait.out" 2>&1 &
	waitpid=$!
	sleep 3
	kill -0 "$waitpid" 2>/dev/null ||
		fail "drain --wait returned while be1's agent did not answer" || return 1
	st=$(it_ctl_raw "{\"cmd\":\"backend.status\",\"vip\":\"$LAB_VIP4:80/tcp\",\"backend\":\"$be1\"}")
	echo "status with the agent down: $st"
	assert_eq "state" draining "$(echo "$st" | json - "j['result'][0]['state']")" || return 1
	assert_eq "box_flows" 0 "$(echo "$st" | json - "j['result'][0]['box_flows']")" || return 1
	err=$(echo "$st" | json - "j['result'][0].get('agent_error', '')")
	[[ -n $err ]] || fail "no agent_error while the agent is down" || return 1
	assert_eq "sluice_backend_agent_up while down" 0 "$(agent_up_metric "$be1")" || return 1
	agent_start 1
	wait "$waitpid"
	rc=$?
	cat "$LAB_DIR/wait.out"
	assert_eq "drain --wait exit code once the agent answers" 0 "$rc" || return 1
	assert_eq "sluice_backend_agent_up once up" 1 "$(agent_up_metric "$be1")" || return 1
}

# Half-closed connections whose server stays silent longer than the box's
# close_grace: the box, which sees only the client's side, counts them
# ended; be1's agent still sees their sockets, so the drain holds until
# the server has sent its last byte, and no connection is reset.
t_agent_holds_drain_half_closed() {
	local be1 waitpid rc box_zero=0
	be1=$(lab_be4 1)
	agent_start 1
	LAB_CLOSE_GRACE=500ms be1_agent_restart || return 1
	it_wait_ge 5 0 agent_live 1 || return 1
	# 12 downloads of 3 blocks, 3 s of server silence after each block;
	# each client half-closes right after its request.
	lab_ns cli python3 - "$LAB_VIP4" "$LAB_DIR/half.ready" >"$LAB_DIR/half.json" 2>"$LAB_DIR/half.err" <<'PY' &
import json, socket, sys, threading, time
vip, ready = sys.argv[1], sys.argv[2]
res, lock = [], threading.Lock()
def one(i):
    s = socket.create_connection((vip, 80), timeout=30)
    s.sendall(b"GET /stream?bytes=12288&seconds=9&seed=h%d HTTP/1.0\r\n\r\n" % i)
    s.shutdown(socket.SHUT_WR)
    data, err = b"", None
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except OSError as e:
        err = str(e)
    head, _, body = data.partition(b"\r\n\r\n")
    be = [l.split(b":", 1)[1].strip().decode() for l in head.split(b"\r\n")
          if l.lower().startswith(b"x-backend:")]
    with lock:
        res.append({"backend": be[0] if be else None, "body": len(body),
                    "error": err, "end": time.time()})
ts = [threading.Thread(target=one, args=(i,)) for i in range(12)]
for t in ts:
    t.start()
time.sleep(1)
open(ready, "w").write("12")
for t in ts:
    t.join()
print(json.dumps(res))
PY
	local client=$!
	for _ in $(seq 1 100); do [[ -s $LAB_DIR/half.ready ]] && break; sleep 0.1; done
	it_wait_ge 5 1 agent_live 1 || return 1
	echo "be1's agent counts $(agent_live 1) half-closed downloads"
	lab_ctl backend drain "$LAB_VIP4:80/tcp" "$be1" --wait --timeout 60s \
		>"$LAB_DIR/wait.out" 2>&1 &
	waitpid=$!
	# --wait must not return while any download is still running, though
	# the box forgets them close_grace after the client's last packet.
	while kill -0 "$client" 2>/dev/null; do
		kill -0 "$waitpid" 2>/dev/null ||
			fail "drain --wait returned while be1 held half-closed connections" || return 1
		[[ $(agent_box_flows "$be1" 2>/dev/null) == 0 ]] && box_zero=1
		sleep 0.1
	done
	assert_eq "the box counted be1's half-closed downloads ended meanwhile" 1 "$box_zero" || return 1
	wait "$client"
	wait "$waitpid"
	rc=$?
	cat "$LAB_DIR/wait.out"
	assert_eq "drain --wait exit code" 0 "$rc" || return 1
	json "$LAB_DIR/half.json" 'len([r for r in j if r["body"] == 12288 and not r["error"]])' >"$LAB_DIR/half.ok"
	assert_eq "downloads complete, none reset" 12 "$(cat "$LAB_DIR/half.ok")" || return 1
	assert_ge "be1's downloads" "$(json "$LAB_DIR/half.json" 'len([r for r in j if r["backend"] == "be1"])')" 1 || return 1
}

# backend i's agent's /metrics, from the client side (waits for it to answer).
agent_metrics() {
	local tries
	for tries in $(seq 1 50); do
		lab_ns cli curl -sf -m 2 "http://$(lab_be4 "$1"):9470/metrics" && return 0
		sleep 0.1
	done
	return 1
}

# The decap_read_error gauge in backend i's scrape @m: 0, 1 or "none".
decap_read_error() {
	local v
	v=$(echo "$2" | sed -n "s/^sluice_decap_read_error{iface=\"${LAB_P}b$1\"} //p")
	echo "${v:-none}"
}

# --iface asks for the decap program's counters. With no capability (as
# sluice-agent.service runs it) and with CAP_BPF and CAP_NET_ADMIN (what
# the docs once said was enough) the agent must still serve its socket
# counts, report the error gauge and say why in its log; with
# CAP_SYS_ADMIN, what the docs now ask for, the scrape carries the
# counters. The last backend shows the check can fail.
t_agent_iface_without_caps() {
	local i m ready="$LAB_DIR/ready" go="$LAB_DIR/go" client tries
	agent_start_as_nobody 1 -all --iface "${LAB_P}b1" || return 1
	agent_start_as_nobody 2 +bpf,+net_admin --iface "${LAB_P}b2" || return 1
	agent_start_as_nobody 3 +sys_admin --iface "${LAB_P}b3" || return 1
	lab_client idle --vip "$LAB_VIP4" --count 30 --ready "$ready" --go "$go" \
		--max-seconds 60 >"$LAB_DIR/idle.json" &
	client=$!
	for tries in $(seq 1 100); do [[ -s $ready ]] && break; sleep 0.1; done
	assert_eq "connections opened" 30 "$(cat "$ready")" || return 1
	for i in 1 2 3; do
		m[i]=$(agent_metrics "$i") || { fail "agent $i did not answer"; return 1; }
		echo "backend $i:"
		echo "${m[i]}" | grep -E '^sluice_(decap_read_error|agent_count_error|agent_live_sockets)'
	done
	touch "$go"
	wait "$client"

	for i in 1 2; do
		assert_eq "backend $i: decap read error" 1 "$(decap_read_error "$i" "${m[i]}")" || return 1
		assert_eq "backend $i: decap counters" 0 \
			"$(echo "${m[i]}" | grep -c '^sluice_decap_packets_total')" || return 1
		grep -q "cannot read the decap counters.*CAP_SYS_ADMIN" "$LAB_DIR/agent$i.log" ||
			{ fail "backend $i: the agent's log does not say why"; return 1; }
	done
	assert_eq "CAP_SYS_ADMIN: decap read error" 0 "$(decap_read_error 3 "${m[3]}")" || return 1
	assert_ge "CAP_SYS_ADMIN: decap counters" \
		"$(echo "${m[3]}" | grep -c '^sluice_decap_packets_total')" 1 || return 1
	# The socket counts are served whatever the capabilities.
	for i in 1 2 3; do
		assert_eq "backend $i: socket count error" 0 \
			"$(echo "${m[i]}" | sed -n 's/^sluice_agent_count_error //p')" || return 1
	done
	assert_eq "live sockets over the three agents" 30 \
		"$(for i in 1 2 3; do echo "${m[i]}" | sed -n 's/^sluice_agent_live_sockets{[^}]*} //p'; done |
			awk '{s += $1} END {print s}')" || return 1
}
