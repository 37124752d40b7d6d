# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Control-socket and metrics hardening: root-only control socket, stalled
# and flooding clients never block the others, oversized requests are cut
# off, and the metrics endpoint listens on loopback unless told otherwise.

SEC_NOBODY=65534
SEC_MAX_CLIENTS=64		# SL_CTL_MAX_CLIENTS (user/lib/ctl.h)
SEC_MAX_REQUEST=65536		# SL_CTL_MAX_REQUEST

# A Python snippet run in the edge box against the control socket.
sec_py() {	# script args...
	lab_ns lb python3 - "$LAB_DIR/sluiced.sock" "$@"
}

# sluicectl status round trip in milliseconds (fails if sluicectl fails).
sec_status_ms() {
	local t0 t1
	t0=$(date +%s%N)
	lab_ctl status >/dev/null || return 1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# sluicectl as an unprivileged user: refused with a clear error, exit 1.
# First as installed (socket 0600 in a root-only directory: connect fails),
# then with the file permissions opened up, so the daemon's own peer
# credential check is what refuses.
t_ctl_refuses_non_root() {
	local sock=$LAB_DIR/sluiced.sock bindir out rc mode
	mode=$(stat -c '%a %U' "$sock")
	echo "control socket: $mode"
	assert_eq "socket mode and owner" "600 root" "$mode" || return 1
	# A copy nobody may run, wherever the tree lives.
	bindir=$(mktemp -d /tmp/sluice-sec.XXXX)
	chmod 0755 "$bindir"
	cp "$LAB_BUILD/sluicectl" "$bindir/"
	chmod 0755 "$bindir/sluicectl"

	out=$(lab_ns lb setpriv --reuid=$SEC_NOBODY --regid=$SEC_NOBODY --clear-groups \
		"$bindir/sluicectl" -s "$sock" status 2>&1)
	rc=$?
	echo "as nobody, socket 0600: exit $rc: $out"
	assert_eq "exit code (socket 0600)" 1 "$rc" || { rm -rf "$bindir"; return 1; }
	echo "$out" | grep -qi "permission denied" ||
		{ rm -rf "$bindir"; fail "expected a permission error, got: $out"; return 1; }

	chmod 0711 "$LAB_DIR"
	chmod 0666 "$sock"
	out=$(lab_ns lb setpriv --reuid=$SEC_NOBODY --regid=$SEC_NOBODY --clear-groups \
		"$bindir/sluicectl" -s "$sock" backend drain "$LAB_VIP4:80/tcp" "$(lab_be4 1)" 2>&1)
	rc=$?
	chmod 0600 "$sock"
	chmod 0700 "$LAB_DIR"
	rm -rf "$bindir"
	echo "as nobody, socket 0666: exit $rc: $out"
	assert_eq "exit code (socket opened up)" 1 "$rc" || return 1
	echo "$out" | grep -q "accepts root only" ||
		fail "expected sluiced to refuse the peer (\"accepts root only\"), got: $out" || return 1
	assert_eq "backend state after the refused drain" active \
		"$(it_state "$LAB_VIP4:80/tcp" "$(lab_be4 1)")" || return 1
	kill -0 "$LAB_SLUICED_PID" || fail "sluiced died"
}

# Clients that stall (half a line, nothing at all, or a pile of requests
# and no reading) never hold up another client.
t_ctl_stalled_client_does_not_block() {
	local ready=$LAB_DIR/stall.ready pid i ms max=0
	sec_py "$ready" <<'EOF' &
import socket, sys, time
path, ready = sys.argv[1], sys.argv[2]
held = []
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    held.append(s)
    return s
conn().sendall(b'{"cmd":"sta')              # half a line, then silence
conn()                                      # connects, says nothing
s = conn()                                  # many requests, never reads:
s.setblocking(False)                        # replies pile up unread until
try:                                        # its own send buffer fills
    for _ in range((60 * 1024) // 17):      # (a few hundred requests)
        s.send(b'{"cmd":"status"}\n')
except (BlockingIOError, BrokenPipeError, ConnectionResetError):
    pass
open(ready, "w").write("ready\n")
time.sleep(6)                               # bounded: exits by itself
EOF
	pid=$!
	for i in $(seq 1 50); do
		[[ -s $ready ]] && break
		sleep 0.1
	done
	[[ -s $ready ]] || { kill "$pid" 2>/dev/null; fail "stalling clients did not start"; return 1; }
	for i in 1 2 3 4 5; do
		ms=$(sec_status_ms) || { kill "$pid" 2>/dev/null; fail "sluicectl status failed while clients stall"; return 1; }
		((ms > max)) && max=$ms
		sleep 0.2
	done
	echo "sluicectl status with three stalled clients: slowest ${max}ms"
	wait "$pid"
	assert_le "slowest status round trip (ms) while clients stall" "$max" 1000 || return 1
	lab_ctl status >/dev/null || fail "sluiced stopped answering after the stalled clients left"
}

# README ("The control socket"): a client that does not read its reply is
# closed after 30 s without progress. Two clients pipeline far more status
# requests than the socket buffers hold: A never reads, and sluiced must
# close it 30 s after its replies stopped (a second or so for the main
# loop's tick, no sooner); B reads what is there every 8 s, so it makes
# progress, and is still open when A has been gone 5 s. Other clients are
# answered promptly all along.
t_ctl_unread_reply_closed_after_30s() {
	local out=$LAB_DIR/unread.json pid i ms max=0 answered=0
	sec_py <<'EOF' >"$out" &
import json, select, socket, sys, time
path = sys.argv[1]
REQ = b'{"cmd":"status"}\n'

# 3600 requests in one write (one write each would fill the socket's
# buffer with per-write overhead after a few hundred), under the 64 KiB
# request limit: their replies, 3 MB, are far more than the socket holds.
def flood():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    s.sendall(REQ * (60 * 1024 // len(REQ)))
    s.setblocking(False)
    return s

def hung_up(s):
    p = select.poll()
    p.register(s, select.POLLHUP | select.POLLRDHUP)
    return bool(p.poll(0))

def drain(s):                           # read all that is there; None: closed
    got = 0
    while True:
        try:
            d = s.recv(65536)
        except BlockingIOError:
            return got
        except ConnectionResetError:    # closed with replies unread
            return None
        if not d:
            return None
        got += len(d)

a = flood()
t0 = time.time()                        # sluiced wrote to A for the last time about now
b = flood()
a_closed = b_closed = None
b_bytes, b_rounds, next_read, b_reads = 0, 0, t0 + 8, []
while time.time() - t0 < 45:            # bounded: 45 s
    now = time.time()
    if a_closed is None and hung_up(a):
        a_closed = now - t0
    if b_closed is None and now >= next_read:
        n = drain(b)
        if n is None:
            b_closed = now - t0
        else:
            b_bytes += n
            b_rounds += 1
            b_reads.append((round(now - t0, 1), n))
        next_read = now + 8
    if a_closed is not None and now - t0 > a_closed + 5:
        break
    time.sleep(0.1)
if b_closed is None and (hung_up(b) or drain(b) is None):
    b_closed = time.time() - t0
print(json.dumps({"a_closed_after": a_closed, "b_closed_after": b_closed,
                  "b_bytes": b_bytes, "b_rounds": b_rounds, "b_reads": b_reads,
                  "seconds": round(time.time() - t0, 1)}))
EOF
	pid=$!
	# Meanwhile, sluicectl status once a second (bounded: 60 tries).
	for i in $(seq 1 60); do
		kill -0 "$pid" 2>/dev/null || break
		ms=$(sec_status_ms) || fail "sluicectl status failed while a client did not read" || break
		((ms > max)) && max=$ms
		answered=$((answered + 1))
		sleep 1
	done
	wait "$pid" || fail "the non-reading clients' script failed" || return 1
	cat "$out"
	echo "sluicectl status answered $answered times meanwhile, slowest ${max}ms"
	assert_ge "status answers while a client did not read" "$answered" 25 || return 1
	assert_le "slowest status round trip (ms)" "$max" 1000 || return 1
	assert_eq "the non-reading client (A) was closed" True "$(json "$out" "j['a_closed_after'] is not None")" || return 1
	assert_ge "seconds until A was closed" "$(json "$out" "int(j['a_closed_after'])")" 29 || return 1
	assert_le "seconds until A was closed" "$(json "$out" "int(j['a_closed_after'])")" 33 || return 1
	assert_eq "the reading client (B) was closed" None "$(json "$out" "j['b_closed_after']")" || return 1
	assert_ge "B's reads that got replies (each one progress)" \
		"$(json "$out" "sum(1 for _, n in j['b_reads'] if n > 0)")" 4 || return 1
	assert_ge "bytes B read (more than the socket holds at once)" \
		"$(json "$out" "j['b_bytes']")" "$(json "$out" "2 * max(n for _, n in j['b_reads'])")" || return 1
	lab_ctl status >/dev/null || fail "sluiced stopped answering after it closed the client"
}

# More than SL_CTL_MAX_CLIENTS connections: the extra ones are told "too
# many" and closed, sluicectl says so clearly, and the daemon carries on.
t_ctl_connection_limit() {
	local ready=$LAB_DIR/flood.ready done=$LAB_DIR/flood.done pid i out rc
	sec_py "$ready" "$done" $((SEC_MAX_CLIENTS + 16)) <<'EOF' >"$LAB_DIR/flood.out" &
import json, os, select, socket, sys, time
path, ready, done, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    for _ in range(500):                   # backlog full: retry, 5s at most
        try:
            s.connect(path)
            break
        except BlockingIOError:
            time.sleep(0.01)
    else:
        sys.exit("connect: backlog stayed full")
    socks.append(s)
time.sleep(1)                              # let sluiced accept or refuse each
refused, held, other = 0, [], []
for s in socks:
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        held.append(s)
        continue
    data = s.recv(4096)
    try:
        reply = json.loads(data.decode())
        if not reply["ok"] and "too many" in reply["error"]:
            refused += 1
            s.close()
            continue
    except Exception:
        pass
    other.append(data)
print(json.dumps({"held": len(held), "refused": refused, "other": [repr(d) for d in other]}))
sys.stdout.flush()
open(ready, "w").write("ready\n")
for _ in range(100):                       # hold until told, 10s at most
    if os.path.exists(done):
        break
    time.sleep(0.1)
EOF
	pid=$!
	for i in $(seq 1 100); do
		[[ -s $ready ]] && break
		sleep 0.1
	done
	[[ -s $ready ]] || { kill "$pid" 2>/dev/null; fail "connection flood did not start"; return 1; }
	cat "$LAB_DIR/flood.out"
	out=$(lab_ctl status 2>&1)
	rc=$?
	echo "sluicectl status with every slot taken: exit $rc: $out"
	touch "$done"
	wait "$pid"
	assert_eq "connections held" "$SEC_MAX_CLIENTS" "$(json "$LAB_DIR/flood.out" "j['held']")" || return 1
	assert_eq "connections refused with \"too many\"" 16 "$(json "$LAB_DIR/flood.out" "j['refused']")" || return 1
	assert_eq "unexpected replies" 0 "$(json "$LAB_DIR/flood.out" "len(j['other'])")" || return 1
	assert_eq "sluicectl exit code while full" 1 "$rc" || return 1
	echo "$out" | grep -q "too many control connections" ||
		fail "sluicectl should say why: $out" || return 1
	# The held connections are gone: slots free up at once.
	for i in $(seq 1 50); do
		lab_ctl status >/dev/null 2>&1 && break
		sleep 0.1
	done
	lab_ctl status >/dev/null || fail "sluiced does not answer after the flood" || return 1
	kill -0 "$LAB_SLUICED_PID" || fail "sluiced died"
}

# A request over SL_CTL_MAX_REQUEST bytes without a newline gets an E2BIG
# error and the connection is closed; one of exactly the limit is served.
t_ctl_oversized_request() {
	local out rc
	out=$(sec_py "$SEC_MAX_REQUEST" <<'EOF'
import json, socket, sys
path, limit = sys.argv[1], int(sys.argv[2])

def exchange(payload):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    try:
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass                               # sluiced hung up first: fine
    data, closed = b"", False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
            if data.endswith(b"\n") and b"E2BIG" not in data:
                break                      # a normal reply; connection stays
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    s.close()
    return data, closed

# One byte over the limit, no newline.
data, closed = exchange(b"x" * (limit + 1))
reply = json.loads(data.decode().splitlines()[0])
assert reply["ok"] is False and reply["errno"] == "E2BIG", reply
assert closed, "connection should be closed after an oversized request"
print("over the limit:", reply["error"], "(connection closed)")

# Far over the limit, sent in one go: same answer, daemon unharmed.
data, closed = exchange(b"y" * (4 * limit))
reply = json.loads(data.decode().splitlines()[0])
assert reply["errno"] == "E2BIG" and closed, reply
print("4x the limit: refused, connection closed")

# Exactly the limit, newline included: a valid request, served.
req = b'{"cmd":"status"}'
data, closed = exchange(req + b" " * (limit - len(req) - 1) + b"\n")
reply = json.loads(data.decode())
assert reply["ok"] is True, reply
print("exactly the limit: served")
EOF
)
	rc=$?
	echo "$out"
	assert_eq "oversized-request script" 0 "$rc" || return 1
	lab_ctl status >/dev/null || fail "sluiced stopped answering" || return 1
	kill -0 "$LAB_SLUICED_PID" || fail "sluiced died"
}

# With no metrics section, the endpoint is bound to 127.0.0.1 only: not
# reachable from the network the VIPs face.
t_metrics_loopback_by_default() {
	local port=9469 listeners
	sed -i '/^metrics:/,/^[^ ]/{/^metrics:/d;/^  /d}' "$LAB_DIR/sluiced.yaml"
	if grep -q "^metrics:" "$LAB_DIR/sluiced.yaml"; then
		fail "could not remove the metrics section"
		return 1
	fi
	lab_sluiced_stop TERM
	lab_sluiced_start || return 1
	for i in $(seq 1 30); do
		listeners=$(lab_ns lb ss -Hltn "sport = :$port" | awk '{print $4}')
		[[ -n $listeners ]] && break
		sleep 0.1
	done
	echo "listening on port $port: ${listeners:-nothing}"
	[[ -n $listeners ]] || fail "no metrics listener on port $port (is the endpoint in yet?)" || return 1
	assert_eq "metrics listeners" "127.0.0.1:$port" "$(echo "$listeners" | sort -u | tr '\n' ' ' | sed 's/ $//')" || return 1
	lab_ns lb curl -sf -m 2 "http://127.0.0.1:$port/metrics" >/dev/null ||
		fail "metrics not served on loopback" || return 1
	if lab_ns cli curl -s -m 2 -o /dev/null "http://$LAB_LB4:$port/metrics"; then
		fail "metrics reachable from the client network at $LAB_LB4:$port"
		return 1
	fi
	echo "not reachable from the client namespace at $LAB_LB4:$port"
}

# Several requests in one write are answered in turn: none waits for more
# input, and many small requests never add up to an "oversized" one.
t_ctl_pipelined_requests() {
	local out rc
	out=$(sec_py <<'EOF2'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
reqs = [b'{"cmd":"vip.list"}', b'{"cmd":"status"}', b'{"cmd":"nope"}'] * 2000
s.sendall(b"\n".join(reqs) + b"\n")         # ~100 KB of requests, one write
data, t0 = b"", time.time()
try:
    while data.count(b"\n") < len(reqs):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
lines = data.splitlines()
print("%d requests, %d replies in %.1fs" % (len(reqs), len(lines), time.time() - t0))
assert len(lines) == len(reqs), "not every request was answered"
for i, line in enumerate(lines):
    r = json.loads(line)
    want = i % 3 != 2
    assert r["ok"] is want, (i, r)
    if i % 3 == 0:
        assert isinstance(r["result"], list), (i, r)
print("all answered, in order")
EOF2
)
	rc=$?
	echo "$out"
	assert_eq "pipelined-requests script" 0 "$rc" || return 1
	kill -0 "$LAB_SLUICED_PID" || fail "sluiced died"
}
