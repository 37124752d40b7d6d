#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make bench: sluice's speed and cost, side by side with baselines, in one
# run. Prints figures and ratios; never passes or fails on time (it exits
# non-zero only when a part could not be measured at all).
#
#   1. per-packet cost, BPF_PROG_TEST_RUN: sluice vs the floor program
#      (tests/bench/bench_xdp.c); the drain-aware fallback on the box and
#      the second chance on the backend's decap (tests/bench/
#      bench_fallback.c, part fallback, also run by part xdp)
#   2. packets per second on veth in the lab: sluice, floor, reflector
#      (scripts/bench-pps.py)
#   3. control plane: Maglev build time, drain-to-effect, sweep time and
#      memory per flow (tests/bench/bench_{maglev,drain,sweep}.c); the
#      drain-signal lag, last stream closed to drain --wait returning
#      (scripts/bench-drain-lag.py, part drainlag)
#   4. HTTP through sluice, nginx (stream) and HAProxy (tcp) with wrk
#      (scripts/bench-wrk.py)
#   5. a fleet drain at 3 boxes behind ECMP, one desired state in etcd:
#      command to every box applying it, last stream closed to the fleet
#      --wait returning (scripts/bench-fleet.py, part fleet)
#   6. not by default (BENCH_PARTS=walk): the drain walk alone at 10M
#      flows, beside a busy loop or a sweep, and the alternatives to it
#      (tests/bench/bench_walk.c; about 2 minutes, 4 GB; raw JSON only)
#
# Raw results: BUILD/bench/*.json; summary: BUILD/bench.json and stdout
# (scripts/bench-report.py). Every load loop is bounded in time; all
# traffic stays inside lab namespaces (198.18.0.0/15, fd00::/8).
#
# Usage: scripts/bench.sh [BUILD]    env: BENCH_REPS (default 5),
#        BENCH_PARTS (default "xdp maglev sweep pps drain drainlag wrk fleet";
#        "fallback" alone runs only the fallback/second-chance part of xdp),
#        BENCH_LAG_SIZES (drainlag's background flows, default "0 1M 10M")
set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
OUT=$BUILD/bench
REPS=${BENCH_REPS:-5}
PARTS=" ${BENCH_PARTS:-xdp maglev sweep pps drain drainlag wrk fleet} "
LAG_SIZES=" ${BENCH_LAG_SIZES:-0 1M 10M} "
export LAB_BUILD=$BUILD

# nginx backends and balancers, HAProxy: started here, stopped by PID.
BE_NGINX_PIDS=()
LB_NGINX_PID=
HAPROXY_PID=
BENCH_PINS=
FAILED=0

log() { echo "bench: $*" >&2; }

# Run one part with a time bound; on failure keep its reason as its JSON.
part() {	# name seconds command...
	local name=$1 secs=$2 t0=$SECONDS load0
	shift 2
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	log "$name ..."
	if timeout --kill-after=10 "$secs" "$@" >"$OUT/$name.json.tmp" 2>"$OUT/$name.err"; then
		mv "$OUT/$name.json.tmp" "$OUT/$name.json"
	else
		log "$name failed (exit $?): $(tail -3 "$OUT/$name.err" | tr '\n' ' ')"
		tail -3 "$OUT/$name.err" | python3 -c \
			'import json,sys; print(json.dumps({"error": sys.stdin.read().strip() or "failed"}))' \
			>"$OUT/$name.json"
		rm -f "$OUT/$name.json.tmp"
		FAILED=1
	fi
	printf '{"load_before": "%s", "load_after": "%s", "seconds": %d}\n' \
		"$load0" "$(cut -d' ' -f1-3 /proc/loadavg)" $((SECONDS - t0)) \
		>"$OUT/$name.meta.json"
}

machine() {
	python3 - "$BUILD" <<'EOF'
import json, os, platform, subprocess, sys
cpu = ""
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
mem = int(open("/proc/meminfo").readline().split()[1]) // 1024
def ver(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except Exception:
        return None
print(json.dumps({"kernel": platform.release(), "cpus": os.cpu_count(),
                  "cpu_model": cpu, "mem_mb": mem,
                  "clang": ver(["clang", "--version"]),
                  "nginx": ver(["nginx", "-v"]),
                  "haproxy": ver(["haproxy", "-v"]),
                  "wrk": ver(["wrk", "-v"])}))
EOF
}

# --- the lab -------------------------------------------------------------

bench_vips() {
	cat <<EOF
vips:
  - vip: "[$LAB_VIP6]:9/udp"
    backends:
$(for i in $(seq 1 "$LAB_BACKENDS"); do echo "      - address: $(lab_be6 "$i")"; done)
  - vip: $LAB_VIP4:8080/tcp
    backends:
$(for i in $(seq 1 "$LAB_BACKENDS"); do echo "      - address: $(lab_be4 "$i")"; done)
  - vip: 198.18.0.101:80/tcp
    backends:
$(for i in $(seq 1 "$LAB_BACKENDS"); do echo "      - address: $(lab_be4 "$i")"; done)
EOF
}

nginx_common() {	# dir
	cat <<EOF
pid $1/nginx.pid;
error_log $1/error.log warn;
EOF
}

# A tiny HTTP server on every backend (port 8080, the VIP's port): the
# lab's Python servers would be the bottleneck of every balancer alike.
start_backend_nginx() {
	local i d
	for i in $(seq 1 "$LAB_BACKENDS"); do
		d=$LAB_DIR/nginx-be$i
		mkdir -p "$d"
		cat >"$d/nginx.conf" <<EOF
worker_processes 1;
$(nginx_common "$d")
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $d; proxy_temp_path $d; fastcgi_temp_path $d;
  uwsgi_temp_path $d; scgi_temp_path $d;
  keepalive_requests 1000000;
  server { listen 8080; location / { return 200 "be$i\n"; } }
}
EOF
		lab_bg "be$i" nginx -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;'
		BE_NGINX_PIDS+=($!)
	done
}

# The peers: L4 proxies on the edge box, to the same backends (no DSR).
start_proxies() {
	local d=$LAB_DIR/nginx-lb i ups="" srv="" stream=""
	[[ -z ${HAPROXY_PID:-} ]] || return 0	# started for the drain-lag part
	for i in $(seq 1 "$LAB_BACKENDS"); do
		ups+="server $(lab_be4 "$i"):8080; "
		srv+="  server be$i $(lab_be4 "$i"):8080"$'\n'
		stream+="  server be$i $(lab_be4 "$i"):80"$'\n'
	done
	mkdir -p "$d"
	cat >"$d/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 2;
$(nginx_common "$d")
events { worker_connections 8192; }
stream {
  upstream be { $ups}
  server { listen 198.18.20.3:8081; proxy_pass be; }
}
EOF
	cat >"$LAB_DIR/haproxy.cfg" <<EOF
global
  maxconn 4000
  nbthread 2
  stats socket $LAB_DIR/haproxy.sock mode 600 level admin
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 198.18.20.3:8082
  default_backend be
backend be
  balance roundrobin
$srv
# The drain-lag part's streams, to the lab servers that serve /stream.
frontend fe_stream
  bind 198.18.20.3:8083
  default_backend stream
backend stream
  balance roundrobin
$stream
EOF
	lab_bg lb nginx -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;'
	LB_NGINX_PID=$!
	lab_bg lb haproxy -db -f "$LAB_DIR/haproxy.cfg" >"$LAB_DIR/haproxy.log" 2>&1
	HAPROXY_PID=$!
}

wait_http() {	# url...
	local u tries
	for u in "$@"; do
		for tries in $(seq 1 50); do
			lab_ns cli curl -s -m 1 -o /dev/null "$u" && break
			sleep 0.2
		done
	done
}

stop_pid() {
	[[ -n ${1:-} ]] || return 0
	kill "$1" 2>/dev/null
	timeout 10 tail --pid="$1" -f /dev/null 2>/dev/null
	wait "$1" 2>/dev/null
}

# Idempotent: stops only what this script started, by PID, once.
cleanup() {
	local pid
	stop_pid "$LB_NGINX_PID"
	stop_pid "$HAPROXY_PID"
	LB_NGINX_PID= HAPROXY_PID=
	for pid in "${BE_NGINX_PIDS[@]}"; do stop_pid "$pid"; done
	BE_NGINX_PIDS=()
	if [[ -n ${LAB_P:-} ]]; then
		lab_sluiced_stop TERM
		# The daemon's log stays with the results (drain walk times, drains).
		cp "$LAB_DIR/sluiced.log" "$OUT/sluiced.log" 2>/dev/null
		lab_down
	fi
	if [[ -n $BENCH_PINS ]]; then
		rm -rf "$BENCH_PINS"
		BENCH_PINS=
	fi
}

# One drain-lag run: part NAME, then what to write in "settings".
drainlag_run() {	# name background
	part "$1" 300 nsenter --net="/run/netns/${LAB_P}-cli" python3 "$SRC/scripts/bench-drain-lag.py" \
		--vip 198.18.0.101 --vipspec 198.18.0.101:80/tcp \
		--ctl "$LAB_DIR/sluiced.sock" --sluicectl "$BUILD/sluicectl" \
		--backends "$(lab_be4 1),$(lab_be4 2),$(lab_be4 3)" --drains 20 \
		--max-seconds 280 --settings "close_grace=${LAB_CLOSE_GRACE:-300ms} \
check_interval=${LAB_CHECK:-50ms} sweep_interval=${LAB_SWEEP:-500ms}; background flows: $2"
}

# The drain-signal lag at 0, 1M and 10M background flows, and HAProxy's
# own: the same streams through it, its server set to drain, until its
# scur for that server reads 0.
drainlag_parts() {
	start_proxies
	wait_http http://198.18.20.3:8083/
	part drainlag_haproxy 300 nsenter --net="/run/netns/${LAB_P}-cli" python3 \
		"$SRC/scripts/bench-drain-lag.py" --vip 198.18.20.3 --port 8083 \
		--haproxy-sock "$LAB_DIR/haproxy.sock" \
		--backends "$(lab_be4 1),$(lab_be4 2),$(lab_be4 3)" --drains 20 \
		--max-seconds 280 --settings "haproxy, mode tcp, set server state drain"
	[[ $LAG_SIZES != *" 0 "* ]] || drainlag_run drainlag 0
	# Confirmed flows of another VIP's backend (id 3: the first backend
	# of the second VIP in bench_vips) in sl_flows.
	if [[ $LAG_SIZES == *" 1M "* ]]; then
		part drainlag_fill 120 "$BUILD/bench/bench_fill" "$BENCH_PINS_SRC" 1000000 3
		drainlag_run drainlag1m 1M
	fi
	if [[ $LAG_SIZES == *" 10M "* ]]; then
		part drainlag_fill10m 300 "$BUILD/bench/bench_fill" "$BENCH_PINS_SRC" 10000000 3
		drainlag_run drainlag10m 10M
	fi
}

lab_parts() {
	local i
	# shellcheck source=scripts/lab.sh
	source "$SRC/scripts/lab.sh"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	# Room for the drain-lag part's 10M background flows besides real
	# ones: the largest table (8M per CPU: sl_flows has per-CPU lists).
	export LAB_FLOWS=${LAB_FLOWS:-16777216}
	lab_up >/dev/null || { log "lab did not come up"; return 1; }
	ip -n "${LAB_P}-lb" addr add 198.18.20.3/24 dev "${LAB_P}l"
	start_backend_nginx
	bench_vips | lab_config >"$LAB_DIR/sluiced.yaml"
	lab_sluiced_start || return 1
	wait_http "http://$LAB_VIP4:8080/"
	# Resolve the backends' neighbours now; sluiced caches the next hops
	# at its next refresh (an unresolved one would mean FIB fallback).
	for i in $(seq 1 "$LAB_BACKENDS"); do
		lab_ns lb ping -c1 -W1 "$(lab_be4 "$i")" >/dev/null
		lab_ns lb ping -6 -c1 -W1 "$(lab_be6 "$i")" >/dev/null
	done
	sleep 1
	BENCH_PINS=/sys/fs/bpf/sluice-bench-$LAB_P
	mkdir -p "$BENCH_PINS"

	local link=/sys/fs/bpf/sluice-$LAB_P/link_${LAB_P}l
	local pins=/sys/fs/bpf/sluice-$LAB_P
	BENCH_PINS_SRC=$pins

	if [[ $PARTS == *" pps "* ]]; then
		part pps 300 python3 "$SRC/scripts/bench-pps.py" \
			--prefix "$LAB_P" --build "$BUILD" --link "$link" \
			--pin-dir "$pins" --pins "$BENCH_PINS" \
			--backends "$LAB_BACKENDS" --reps "$REPS" \
			--ctl-socket "$LAB_DIR/sluiced.sock"
	fi
	if [[ $PARTS == *" drain "* ]]; then
		part drain 60 "$BUILD/bench/bench_drain" "$link" "$pins" \
			198.18.0.101 80 "$(lab_be4 1)" "$BUILD/sluicectl" \
			"$LAB_DIR/sluiced.sock" "$REPS"
	fi
	if [[ $PARTS == *" drainlag "* ]]; then
		drainlag_parts
	fi
	[[ $PARTS == *" wrk "* ]] || return 0
	start_proxies
	wait_http http://198.18.20.3:8081/ http://198.18.20.3:8082/
	# Run-time stats of BPF programs on (sluice's CPU), only while wrk runs.
	part wrk 300 "$BUILD/bench/bench_lab" with-stats \
		python3 "$SRC/scripts/bench-wrk.py" --prefix "$LAB_P" \
		--build "$BUILD" --link "$link" --sluiced-pid "$LAB_SLUICED_PID" \
		--nginx-pid "$LB_NGINX_PID" --haproxy-pid "$HAPROXY_PID" --reps 3
}

# The fleet: 3 boxes behind ECMP, one desired state in etcd (fleet.sh);
# a fleet drain's time to reach every box and its --wait lag.
fleet_part() {
	local k socks=""
	# shellcheck source=scripts/fleet.sh
	source "$SRC/scripts/fleet.sh"
	export LAB_BUILD=$BUILD
	trap 'fleet_down; exit 130' INT TERM
	FLEET_CLUSTER=1 fleet_up </dev/null >/dev/null || {
		log "fleet lab did not come up"
		fleet_down
		return 1
	}
	fleet_wait_paths "$LAB_VIP4" "$FLEET_BOXES" 30 ||
		log "the router has fewer than $FLEET_BOXES paths to $LAB_VIP4"
	for k in $(seq 1 "$FLEET_BOXES"); do
		socks+="${socks:+,}$LAB_DIR/sluiced$k.sock"
	done
	part fleet 300 nsenter --net="/run/netns/${LAB_P}-cli" python3 "$SRC/scripts/bench-fleet.py" \
		--vip "$LAB_VIP4" --vipspec "$LAB_VIP4:80/tcp" --router-ns "${LAB_P}-rtr" \
		--sluicectl "$BUILD/sluicectl" --etcd "$FLEET_ETCD" --prefix "$FLEET_PREFIX" \
		--socks "$socks" --backends "$(lab_be4 1),$(lab_be4 2),$(lab_be4 3)" \
		--drains 12 --max-seconds 280
	for k in $(seq 1 "$FLEET_BOXES"); do
		cp "$LAB_DIR/sluiced$k.log" "$OUT/fleet-sluiced$k.log" 2>/dev/null
	done
	fleet_down
	trap - INT TERM
}

main() {
	local t0=$SECONDS
	mkdir -p "$OUT"
	# A full run starts clean; BENCH_PARTS=... replaces only those parts.
	[[ -n ${BENCH_PARTS:-} ]] || rm -f "$OUT"/*.json "$OUT"/*.err
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	machine >"$OUT/machine.json"
	log "results in $OUT; this takes about 3 minutes"

	[[ $PARTS == *" xdp "* ]] &&
		part xdp 240 "$BUILD/bench/bench_xdp" "$REPS"
	[[ $PARTS == *" xdp "* || $PARTS == *" fallback "* ]] &&
		part fallback 240 "$BUILD/bench/bench_fallback" "$REPS"
	[[ $PARTS == *" maglev "* ]] &&
		part maglev 60 "$BUILD/bench/bench_maglev" 7
	[[ $PARTS == *" sweep "* ]] &&
		part sweep 240 "$BUILD/bench/bench_sweep" 3 100000 1000000 10000000
	[[ $PARTS == *" walk "* ]] &&
		part walk 400 "$BUILD/bench/bench_walk" "$REPS" 10000000 1000
	if [[ $PARTS == *" pps "* || $PARTS == *" drain "* || $PARTS == *" drainlag "* ||
	      $PARTS == *" wrk "* ]]; then
		lab_parts || FAILED=1
		cleanup
		trap - EXIT
	fi
	if [[ $PARTS == *" fleet "* ]]; then
		(fleet_part) || FAILED=1
	fi

	log "done in $((SECONDS - t0))s"
	python3 "$SRC/scripts/bench-report.py" "$OUT" "$BUILD/bench.json" || FAILED=1
	return $FAILED
}

main
