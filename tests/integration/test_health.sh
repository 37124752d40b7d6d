# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Active health checks in the lab: a backend whose server stops, answers
# 503, hangs, or loses its link leaves the table and comes back.

HC_VIP="$LAB_VIP4:80/tcp"

# A VIP with a fast HTTP check: down after 2 failures, up after 2 successes.
hc_vips() {
	cat <<EOF2
vips:
  - vip: $HC_VIP
    health_check:
      type: http
      path: /health
      interval: 500ms
      timeout: 300ms
      rise: 2
      fall: 2
    backends:
      - address: $(lab_be4 1)
      - address: $(lab_be4 2)
      - address: $(lab_be4 3)
${HC_EXTRA:-}
EOF2
}

hc_health() {	# backend
	lab_ctl -j backend list | json - "[r['health'] for r in j if r['vip']=='$HC_VIP' and r['backend']=='$1'][0]"
}

hc_reason() {	# backend
	it_ctl_raw "{\"cmd\":\"backend.status\",\"vip\":\"$HC_VIP\",\"backend\":\"$1\"}" |
		json - "j['result'][0]['health_reason']"
}

hc_setup() {
	lab_sluiced_stop TERM
	hc_vips >"$LAB_DIR/sluiced.yaml.vips"
	lab_config <"$LAB_DIR/sluiced.yaml.vips" >"$LAB_DIR/sluiced.yaml"
	lab_sluiced_start || return 1
	local i
	for i in 1 2 3; do
		it_wait_for 5 up hc_health "$(lab_be4 "$i")" || return 1
	done
}

hc_requests_to() {	# backend-name count
	lab_client get --vip "$LAB_VIP4" --count "$2" --sources 198.18.10.2,198.18.10.3,198.18.10.4 |
		json - "j['backends'].get('$1', 0) if j['errors'] == 0 else -1"
}

# Stop a backend's server: down within fall x interval + timeout (+ slack),
# new connections avoid it; start it again: up after rise checks.
t_health_down_and_back() {
	hc_setup || return 1
	local t0 t1 secs
	lab_server_stop 1
	t0=$(date +%s.%N)
	it_wait_for 6 down hc_health "$(lab_be4 1)" || return 1
	t1=$(date +%s.%N)
	secs=$(python3 -c "print(round($t1 - $t0, 2))")
	# Bound: 2 x 500ms + 300ms + one check in flight (2.5 s), with slack
	# for a loaded 2-core CI machine: a wrong fall count shows as >= 3 s
	# more (one more interval and timeout per extra failure needed).
	echo "be1 down ${secs}s after its server stopped (bound: 2 x 500ms + 300ms + one check in flight, + 1 s slack)"
	python3 -c "import sys; sys.exit(0 if $secs <= 3.5 else 1)" ||
		fail "down took ${secs}s" || return 1
	# A check in flight as the server exited may fail otherwise (closed
	# mid-request); every one after it is refused.
	it_wait_for 5 refused hc_reason "$(lab_be4 1)" || return 1
	assert_eq "requests to be1 while down (-1: some failed)" 0 "$(hc_requests_to be1 40)" || return 1
	lab_server_start 1
	it_wait_for 5 up hc_health "$(lab_be4 1)" || return 1
	assert_ge "requests to be1 once up again" "$(hc_requests_to be1 60)" 5
}

# An HTTP check that answers 503 takes the backend out.
t_health_http_503() {
	hc_setup || return 1
	lab_ns cli curl -s "http://$(lab_be4 2)/admin/health?status=503" >/dev/null || return 1
	it_wait_for 4 down hc_health "$(lab_be4 2)" || return 1
	assert_eq "reason" "HTTP 503" "$(hc_reason "$(lab_be4 2)")" || return 1
	assert_eq "requests to be2 while it says 503" 0 "$(hc_requests_to be2 40)" || return 1
	# The reason is a metric label, and every check is in the latency histogram.
	lab_ns lb curl -sf -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics" >"$LAB_DIR/m.txt" ||
		fail "no scrape" || return 1
	grep -E "^sluice_backend_health_check_failures_total\{vip=\"[^\"]*\",backend=\"$(lab_be4 2)\",reason=\"HTTP 503\"\} [1-9][0-9]*$" \
		"$LAB_DIR/m.txt" || fail "no failure count with reason=\"HTTP 503\" for be2" || return 1
	grep -E "^sluice_backend_health_check_latency_seconds_count\{vip=\"[^\"]*\",backend=\"$(lab_be4 1)\"\} [1-9][0-9]*$" \
		"$LAB_DIR/m.txt" || fail "no latency histogram for be1" || return 1
	! grep -q "^sluice_backend_health_check_failures_total{.*backend=\"$(lab_be4 1)\"" "$LAB_DIR/m.txt" ||
		fail "be1 never failed a check but has failures" || return 1
}

# A check that hangs is bounded by its timeout, and delays no other check.
t_health_hang_bounded() {
	HC_EXTRA="" hc_setup || return 1
	lab_sluiced_stop TERM
	python3 - "$LAB_DIR/sluiced.yaml.vips" <<'PY' || return 1
import sys
p = sys.argv[1]
s = open(p).read().replace("      - address: 198.18.20.13",
    "      - address: 198.18.20.13\n        health_check:\n          path: /hang")
open(p, "w").write(s)
PY
	lab_config <"$LAB_DIR/sluiced.yaml.vips" >"$LAB_DIR/sluiced.yaml"
	lab_sluiced_start || return 1
	it_wait_for 5 down hc_health "$(lab_be4 3)" || return 1
	assert_eq "reason" timeout "$(hc_reason "$(lab_be4 3)")" || return 1
	for i in 1 2; do
		assert_eq "be$i stays up while be3's check hangs" up "$(hc_health "$(lab_be4 "$i")")" || return 1
	done
	assert_eq "requests to be3" 0 "$(hc_requests_to be3 30)"
}

# Issue: a backend that dies (link down) takes no new connections once
# the daemon notices.
t_dead_backend_avoided() {
	hc_setup || return 1
	lab_ns be3 ip link set "${LAB_P}b3" down
	it_wait_for 4 down hc_health "$(lab_be4 3)" || return 1
	echo "be3 down: $(hc_reason "$(lab_be4 3)")"
	assert_eq "requests to be3 after its link went down" 0 "$(hc_requests_to be3 40)"
}

# Every backend down: sluice fails open and says so.
t_health_all_down_fails_open() {
	hc_setup || return 1
	local i out
	for i in 1 2 3; do
		lab_ns cli curl -s "http://$(lab_be4 "$i")/admin/health?status=503" >/dev/null
	done
	for i in 1 2 3; do
		it_wait_for 4 down hc_health "$(lab_be4 "$i")" || return 1
	done
	assert_eq "vip list all_down" True "$(lab_ctl -j vip list | json - "j[0]['all_down']")" || return 1
	out=$(lab_client get --vip "$LAB_VIP4" --count 30)
	echo "with every backend down: $out"
	assert_eq "requests served (fail open)" 0 "$(echo "$out" | json - "j['errors']")" || return 1
	grep -q "failing open" "$LAB_DIR/sluiced.log" || fail "sluiced should log that it fails open"
}

# Hundreds of backends checked at 1s intervals: the checks run at once,
# dead ones are bounded by their timeout, and the real backends, the
# control socket and the sweeper carry on unhindered.
t_health_hundreds_at_1s() {
	local i t0 t1 ms failed
	{
		echo "vips:"
		echo "  - vip: $HC_VIP"
		echo "    health_check: {type: tcp, interval: 1s, timeout: 500ms, rise: 1, fall: 2}"
		echo "    backends:"
		for i in 1 2 3; do echo "      - address: $(lab_be4 "$i")"; done
		# 150 silent on-link addresses (ARP never answers), 150 unroutable.
		for i in $(seq 100 249); do echo "      - address: 198.18.20.$i"; done
		for i in $(seq 1 150); do echo "      - address: 198.18.21.$i"; done
	} >"$LAB_DIR/vips.yaml"
	lab_config <"$LAB_DIR/vips.yaml" >"$LAB_DIR/sluiced.yaml"
	lab_sluiced_stop TERM
	lab_sluiced_start || return 1
	sleep 4
	echo "303 backends after 4s: $(lab_ctl -j backend list | json - "sorted(__import__('collections').Counter(r['health'] for r in j).items())")"
	for i in 1 2 3; do
		assert_eq "real backend be$i" up "$(lab_ctl -j backend list | json - "[r['health'] for r in j if r['backend']=='$(lab_be4 "$i")'][0]")" || return 1
	done
	assert_eq "dead backends marked down" 300 \
		"$(lab_ctl -j backend list | json - "sum(1 for r in j if r['health']=='down')")" || return 1
	t0=$(date +%s%N)
	lab_ctl status >/dev/null || return 1
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	echo "sluicectl status answered in ${ms}ms while 300 checks fail"
	assert_le "control socket latency (ms)" "$ms" 500 || return 1
	assert_eq "requests served by the real backends" 0 \
		"$(lab_client get --vip "$LAB_VIP4" --count 30 | json - "j['errors']")"
}

# on_down: release — connections assigned to a backend that goes down are
# re-balanced on their next packet (keep, the default, leaves them).
t_health_release_rebalances() {
	HC_EXTRA="" hc_setup || return 1
	lab_sluiced_stop TERM
	sed -i 's/      fall: 2/      fall: 2\n      on_down: release/' "$LAB_DIR/sluiced.yaml.vips"
	lab_config <"$LAB_DIR/sluiced.yaml.vips" >"$LAB_DIR/sluiced.yaml"
	lab_sluiced_start || return 1
	it_wait_for 5 up hc_health "$(lab_be4 2)" || return 1
	lab_client idle --vip "$LAB_VIP4" --count 30 --ready "$LAB_DIR/idle.ready" \
		--go "$LAB_DIR/idle.go" --sources 198.18.10.2,198.18.10.3 >"$LAB_DIR/idle.json" &
	local pid=$! out on_be2
	it_wait_for 20 30 cat "$LAB_DIR/idle.ready" || return 1
	lab_ns cli curl -s "http://$(lab_be4 2)/admin/health?status=503" >/dev/null
	it_wait_for 4 down hc_health "$(lab_be4 2)" || return 1
	touch "$LAB_DIR/idle.go"
	wait "$pid"
	out=$(cat "$LAB_DIR/idle.json")
	echo "second request on each idle connection: $out"
	on_be2=$(echo "$out" | json - "sum(j['by_backend'].get('be2', {}).values())")
	assert_ge "connections on be2" "$on_be2" 1 || return 1
	# Released: their next packet went to another backend, which resets
	# the connection it does not know (the trade-off the README explains).
	assert_eq "be2 connections still answered by be2" 0 \
		"$(echo "$out" | json - "j['by_backend'].get('be2', {}).get('same', 0)")" || return 1
	assert_eq "other connections undisturbed" "$((30 - on_be2))" \
		"$(echo "$out" | json - "sum(v.get('same', 0) for k, v in j['by_backend'].items() if k != 'be2')")"
}

# on_down: keep (the default; README "A down backend") — the health
# endpoint breaks while the server still works: be2 goes down, new
# connections avoid it, and its established connections stay on it. Idle
# keep-alive connections get their second request answered by be2 on the
# same connection, and streams running across the change finish intact
# (a packet sent elsewhere would have been answered with a reset).
t_health_keep_holds_flows() {
	local be2 pid out on_be2 streams_be2
	be2=$(lab_be4 2)
	HC_EXTRA="" hc_setup || return 1
	lab_ctl config dump | grep -q "on_down: keep" ||
		fail "config dump should show the default on_down: keep" || return 1
	lab_client idle --vip "$LAB_VIP4" --count 30 --ready "$LAB_DIR/idle.ready" \
		--go "$LAB_DIR/idle.go" --max-seconds 60 --sources 198.18.10.2,198.18.10.3 \
		>"$LAB_DIR/idle.json" &
	pid=$!
	it_wait_for 20 30 cat "$LAB_DIR/idle.ready" || return 1
	# Long enough to outlast the down transition and the checks below.
	it_streams_start s 24 2000000 14 --sources 198.18.10.4,198.18.10.5 || return 1
	lab_ns cli curl -s "http://$be2/admin/health?status=503" >/dev/null
	it_wait_for 4 down hc_health "$be2" || return 1
	assert_eq "requests to be2 while it is down (-1: some failed)" 0 "$(hc_requests_to be2 40)" || return 1
	assert_ge "flows sluice still counts on be2 while it is down" "$(it_flows "$HC_VIP" "$be2")" 1 || return 1
	touch "$LAB_DIR/idle.go"
	wait "$pid"
	out=$(cat "$LAB_DIR/idle.json")
	echo "second request on each idle connection: $out"
	on_be2=$(echo "$out" | json - "sum(j['by_backend'].get('be2', {}).values())")
	assert_ge "idle connections on be2" "$on_be2" 1 || return 1
	assert_eq "idle connections whose second request was answered on the same connection by the same backend" \
		30 "$(echo "$out" | json - "j['same_backend']")" || return 1
	assert_eq "errors on the idle connections" "{}" "$(echo "$out" | json - "j['errors']")" || return 1
	it_streams_wait s
	streams_be2=$(json "$LAB_DIR/s.json" "j['by_backend'].get('be2', {}).get('completed', 0)")
	assert_ge "streams from be2 completed while it was down" "$streams_be2" 1 || return 1
	it_streams_all_ok s 24 || return 1
	assert_eq "be2's health after the streams ended" down "$(hc_health "$be2")"
}

# An HTTPS server on port 8443 of backend i, with the lab's certificate;
# bounded: it shuts itself down after 120 s.
hc_https_start() {	# i
	lab_bg "be$1" python3 -c '
import http.server, ssl, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer((sys.argv[1], 8443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
threading.Timer(120, s.shutdown).start()
s.serve_forever()' "$(lab_be4 "$1")" "$LAB_DIR/tls/cert.pem" "$LAB_DIR/tls/key.pem" \
		>>"$LAB_DIR/be$1-https.log" 2>&1
	lab_track $!
	echo $! >"$LAB_DIR/be$1-https.pid"
}

# Backend i speaks plain HTTP on the https port: it reads what comes (a
# TLS ClientHello) and answers an HTTP 400, as a web server would. Exits
# by itself after 120s.
hc_plain_on_https_start() {	# i
	lab_bg "be$1" python3 -c '
import socket, sys, time
s = socket.create_server((sys.argv[1], 8443))
s.settimeout(1)
end = time.time() + 120
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    c.settimeout(1)
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    c.close()' "$(lab_be4 "$1")" >>"$LAB_DIR/be$1-plain.log" 2>&1
	lab_track $!
	echo $! >"$LAB_DIR/be$1-plain.pid"
}

# HTTPS checks: a certificate that names the backend's IP and chains to
# ca_file passes; the same certificate checked against the system's CAs
# fails, with the reason; tls_verify: false passes; a stopped server is
# refused; plain HTTP on the https port fails the handshake, whatever
# tls_verify says, and is down for that reason. The settings survive a
# config dump.
t_health_https() {
	local i be1 be2 be3 hc pid
	be1=$(lab_be4 1) be2=$(lab_be4 2) be3=$(lab_be4 3)
	mkdir -p "$LAB_DIR/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$LAB_DIR/tls/key.pem" -out "$LAB_DIR/tls/cert.pem" -days 1 \
		-subj /CN=sluice-lab -addext "subjectAltName=IP:$be1,IP:$be2,IP:$be3" \
		2>/dev/null || fail "openssl could not make the lab certificate" || return 1
	for i in 1 2 3; do
		hc_https_start "$i"
	done
	hc="type: https, port: 8443, path: /health, interval: 500ms, timeout: 400ms, rise: 1, fall: 1"
	lab_sluiced_stop TERM
	lab_config >"$LAB_DIR/sluiced.yaml" <<EOF2
vips:
  - vip: $HC_VIP
    backends:
      - address: $be1
        health_check: {$hc, ca_file: $LAB_DIR/tls/cert.pem}
      - address: $be2
        health_check: {$hc}
      - address: $be3
        health_check: {$hc, tls_verify: false}
EOF2
	lab_sluiced_start || return 1
	it_wait_for 5 up hc_health "$be1" || return 1
	it_wait_for 5 down hc_health "$be2" || return 1
	it_wait_for 5 up hc_health "$be3" || return 1
	assert_eq "be2's reason (its certificate is not in the system's CAs)" \
		"TLS certificate not trusted" "$(hc_reason "$be2")" || return 1
	lab_ctl backend list
	lab_ctl config dump | grep -q "ca_file: \"$LAB_DIR/tls/cert.pem\"" ||
		fail "config dump lost ca_file" || return 1
	lab_ctl config dump | grep -q "tls_verify: false" ||
		fail "config dump lost tls_verify: false" || return 1
	kill "$(cat "$LAB_DIR/be1-https.pid")"
	it_wait_for 5 down hc_health "$be1" || return 1
	# A check that met the server while it exited may end in "TLS
	# handshake failed" (the connection closed mid-handshake); every
	# check after it is refused.
	it_wait_for 5 refused hc_reason "$be1" || return 1

	# be3 (tls_verify: false) answers the handshake in plain HTTP: the
	# checks in between may be refused, then every one fails the handshake.
	pid=$(cat "$LAB_DIR/be3-https.pid")
	kill "$pid"
	wait "$pid" 2>/dev/null	# its port free for the plain server
	hc_plain_on_https_start 3
	it_wait_for 5 down hc_health "$be3" || return 1
	it_wait_for 5 "TLS handshake failed" hc_reason "$be3" || return 1
	sleep 1	# two more checks: still down, for the same reason
	assert_eq "be3's health, plain HTTP on its https port" down "$(hc_health "$be3")" || return 1
	assert_eq "be3's reason, plain HTTP on its https port" \
		"TLS handshake failed" "$(hc_reason "$be3")" || return 1
	lab_ns lb curl -sf -m 5 "http://127.0.0.1:${LAB_METRICS_PORT:-9469}/metrics" >"$LAB_DIR/m.txt" ||
		fail "no scrape" || return 1
	grep -E "^sluice_backend_health_check_failures_total\{vip=\"[^\"]*\",backend=\"$be3\",reason=\"TLS handshake failed\"\} [1-9][0-9]*$" \
		"$LAB_DIR/m.txt" || fail "no failure count with reason=\"TLS handshake failed\" for be3"
}
