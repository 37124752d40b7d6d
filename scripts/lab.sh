#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The sluice lab: network namespaces with real traffic, created and removed
# by this script, every name under one unique prefix.
#
#   client (${P}-cli) ── router (${P}-rtr, bridge) ──┬── edge box (${P}-lb): sluiced, XDP native
#     198.18.10.2-9       198.18.10.1 / 198.18.20.1   ├── backend 1 (${P}-be1) 198.18.20.11
#     fd00:10::2-9                                    ├── backend 2 (${P}-be2) 198.18.20.12
#                                                     └── backend 3 (${P}-be3) 198.18.20.13
# VIPs live in 198.18.0.0/24 and fd00:100::/64: the router sends them to the
# edge box, sluice encapsulates to a backend, the backend decapsulates (its
# own XDP program), serves the VIP from lo and answers the client directly.
#
# Use as a library (source it; call lab_up/lab_down) or from the shell:
#   scripts/lab.sh up [PREFIX]     scripts/lab.sh down PREFIX
# Only addresses in 198.18.0.0/15 and fd00::/8 are used.

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_BUILD=${LAB_BUILD:-$LAB_SRC/build}
LAB_BACKENDS=${LAB_BACKENDS:-3}
LAB_VIP4=198.18.0.100
LAB_VIP6=fd00:100::100
LAB_CLIENT4=198.18.10.2
LAB_CLIENT6=fd00:10::2
LAB_LB4=198.18.20.2
LAB_LB6=fd00:20::2
# Every link is 1500 bytes, as in the real world: the tunnel's 20 (IPv4)
# or 40 (IPv6) bytes must be paid for, never hidden by bigger lab links.
LAB_MTU=1500
# MSS the backends advertise to clients, leaving room for the tunnel
# (README, "MTU: leave room for the tunnel"): 1500 - outer header - client IP header - TCP header.
LAB_ADVMSS4=$((LAB_MTU - 20 - 20 - 20))	# IPv4 VIP, IPIP to an IPv4 backend
LAB_ADVMSS6=$((LAB_MTU - 40 - 40 - 20))	# IPv6 VIP, IPv6 tunnel to an IPv6 backend

lab_be4() { echo "198.18.20.1$1"; }
lab_be6() { echo "fd00:20::1$1"; }

# Run a command in a lab namespace. nsenter keeps our mount namespace, so
# bpffs pins are shared (ip netns exec would remount /sys and hide them).
lab_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/${LAB_P}-$ns" "$@"
}

# Start a command in a namespace in the background; $! is then its own PID
# (nsenter execs it), so it can be stopped by PID.
lab_bg() {
	local ns=$1
	shift
	nsenter --net="/run/netns/${LAB_P}-$ns" "$@" &
}

lab_log() { echo "lab: $*" >&2; }

# A process's start time (clock ticks after boot, /proc/PID/stat field 22),
# or nothing when it is gone. With the PID it names one process for good:
# a PID number alone may have been given to another process since.
lab_starttime() {
	local stat rest f
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	rest=${stat##*) }	# comm (field 2) may hold spaces and parentheses
	read -ra f <<<"$rest"
	echo "${f[19]}"
}

# Remember a process we started (PID and start time), so down stops
# exactly our processes and never one that inherited a PID number.
lab_track() { echo "$1 $(lab_starttime "$1")" >>"$LAB_DIR/pids"; }

# Signal each recorded process that is still the one we started.
_lab_signal_tracked() {	# pidfile signal
	local pid start
	while read -r pid start; do
		if [[ -z $start ]]; then
			[[ $2 == TERM ]] && lab_log "pid $pid was recorded without its start time:" \
				"not signalled (record processes with lab_track)"
			continue
		fi
		[[ $(lab_starttime "$pid") == "$start" ]] || continue
		kill "-$2" "$pid" 2>/dev/null
	done <"$1"
}

_lab_link() {	# ns_a if_a ns_b if_b mtu
	ip link add "$2" netns "${LAB_P}-$1" type veth peer name "$4" netns "${LAB_P}-$3"
	ip -n "${LAB_P}-$1" link set "$2" mtu "$5" up
	ip -n "${LAB_P}-$3" link set "$4" mtu "$5" up
}

_lab_sysctl() {	# ns key=value...
	local ns=$1
	shift
	lab_ns "$ns" sysctl -qw "$@" >/dev/null
}

_lab_client() {
	local i
	_lab_link cli "${LAB_P}c" rtr "${LAB_P}cr" "$LAB_MTU"
	for i in 2 3 4 5 6 7 8 9; do
		ip -n "${LAB_P}-cli" addr add "198.18.10.$i/24" dev "${LAB_P}c"
		ip -n "${LAB_P}-cli" addr add "fd00:10::$i/64" dev "${LAB_P}c" nodad
	done
	ip -n "${LAB_P}-cli" route add default via 198.18.10.1
	ip -n "${LAB_P}-cli" -6 route add default via fd00:10::1
	lab_ns cli ethtool -K "${LAB_P}c" tx off >/dev/null
	ip -n "${LAB_P}-rtr" addr add 198.18.10.1/24 dev "${LAB_P}cr"
	ip -n "${LAB_P}-rtr" addr add fd00:10::1/64 dev "${LAB_P}cr" nodad
}

_lab_router() {
	ip -n "${LAB_P}-rtr" link add "${LAB_P}br" type bridge
	ip -n "${LAB_P}-rtr" link set "${LAB_P}br" mtu "$LAB_MTU" up
	ip -n "${LAB_P}-rtr" addr add 198.18.20.1/24 dev "${LAB_P}br"
	ip -n "${LAB_P}-rtr" addr add fd00:20::1/64 dev "${LAB_P}br" nodad
	_lab_sysctl rtr net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0
	ip -n "${LAB_P}-rtr" route add 198.18.0.0/24 via "$LAB_LB4"
	ip -n "${LAB_P}-rtr" -6 route add fd00:100::/64 via "$LAB_LB6"
}

_lab_edge() {
	_lab_link lb "${LAB_P}l" rtr "${LAB_P}lr" "$LAB_MTU"
	ip -n "${LAB_P}-rtr" link set "${LAB_P}lr" master "${LAB_P}br"
	ip -n "${LAB_P}-lb" addr add "$LAB_LB4/24" dev "${LAB_P}l"
	ip -n "${LAB_P}-lb" addr add "$LAB_LB6/64" dev "${LAB_P}l" nodad
	ip -n "${LAB_P}-lb" route add default via 198.18.20.1
	ip -n "${LAB_P}-lb" -6 route add default via fd00:20::1
	# veth delivers an XDP_TX'd frame only if the peer runs XDP too.
	lab_ns rtr "$LAB_BUILD/sluice-decap" attach "${LAB_P}lr"
}

_lab_backend() {
	local i=$1 ns=be$1 dev="${LAB_P}b$1"
	_lab_link "$ns" "$dev" rtr "${dev}r" "$LAB_MTU"
	ip -n "${LAB_P}-rtr" link set "${dev}r" master "${LAB_P}br"
	ip -n "${LAB_P}-$ns" addr add "$(lab_be4 "$i")/24" dev "$dev"
	ip -n "${LAB_P}-$ns" addr add "$(lab_be6 "$i")/64" dev "$dev" nodad
	ip -n "${LAB_P}-$ns" route add default via 198.18.20.1
	ip -n "${LAB_P}-$ns" -6 route add default via fd00:20::1
	lab_mss_clamp "$i" on
	ip -n "${LAB_P}-$ns" link set lo up
	# Serve every VIP from lo, and never answer ARP/ND for them.
	ip -n "${LAB_P}-$ns" route add local 198.18.0.0/24 dev lo
	ip -n "${LAB_P}-$ns" -6 route add local fd00:100::/64 dev lo
	_lab_sysctl "$ns" net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
		net.ipv4.conf.all.rp_filter=0 "net.ipv4.conf.$dev.rp_filter=0"
	lab_ns "$ns" ethtool -K "$dev" tx off >/dev/null
	lab_ns "$ns" "$LAB_BUILD/sluice-decap" attach "$dev" "$(lab_be4 "$i")" "$(lab_be6 "$i")"
}

# Backend i's replies to clients go straight back (direct server return),
# so its SYN-ACKs would offer an MSS for its own 1500-byte link, while
# the client's segments reach it through the tunnel: advertise less on the
# routes to the clients, as a real backend should. "off" leaves the
# backend unclamped: then only ICMP too-big from sluice saves big segments.
lab_mss_clamp() {	# i on|off
	local ns="${LAB_P}-be$1" m4="" m6=""
	[[ $2 == on ]] && m4="advmss $LAB_ADVMSS4" && m6="advmss $LAB_ADVMSS6"
	# shellcheck disable=SC2086 # empty or two words, on purpose
	ip -n "$ns" route replace default via 198.18.20.1 $m4 &&
		ip -n "$ns" -6 route replace default via fd00:20::1 $m6
}

# Start backend i's servers (HTTP on 80, UDP echo on 53).
lab_server_start() {
	local i=$1
	lab_bg "be$i" python3 "$LAB_SRC/scripts/lab-server.py" --name "be$i" \
		>>"$LAB_DIR/be$i.log" 2>&1
	lab_track $!
	echo $! >"$LAB_DIR/be$i.pid"
}

lab_server_stop() {
	local pid
	pid=$(cat "$LAB_DIR/be$1.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$LAB_DIR/be$1.pid"
}

# Wait until every backend answers on its own address.
lab_wait_servers() {
	local i tries
	for i in $(seq 1 "$LAB_BACKENDS"); do
		for tries in $(seq 1 50); do
			lab_ns cli curl -s -m 1 "http://$(lab_be4 "$i"):80/" >/dev/null && break
			sleep 0.2
		done
	done
}

# A sluiced config for this lab; extra YAML for the vips: section on stdin.
lab_config() {
	cat <<EOF
instance: ${LAB_P}
interfaces:
  - name: ${LAB_P}l
    mode: native
encap:
  source_v4: ${LAB_LB4}
  source_v6: ${LAB_LB6}
flows:
${LAB_FLOWS:+  table_size: ${LAB_FLOWS}
}  tcp_idle_timeout: ${LAB_TCP_IDLE:-15m}
  udp_idle_timeout: ${LAB_UDP_IDLE:-10s}
${LAB_CLOSE_GRACE:+  close_grace: ${LAB_CLOSE_GRACE}
}  sweep_interval: ${LAB_SWEEP:-500ms}
${LAB_HANDSHAKE:+  handshake_timeout: ${LAB_HANDSHAKE}
}${LAB_UNCONFIRMED:+  unconfirmed_timeout: ${LAB_UNCONFIRMED}
}${LAB_DRAIN_TABLE:+  drain_table_size: ${LAB_DRAIN_TABLE}
}${LAB_MAGLEV:+maglev:
  table_size: ${LAB_MAGLEV}
${LAB_MAGLEV_SEED:+  seed: ${LAB_MAGLEV_SEED}
}}drain:
  default_timeout: 5m
${LAB_CHECK:+  check_interval: ${LAB_CHECK}
}control:
  socket: ${LAB_DIR}/sluiced.sock
metrics:
  listen: 127.0.0.1:${LAB_METRICS_PORT:-9469}
paths:
  pin_dir: /sys/fs/bpf/sluice-${LAB_P}
  state_dir: ${LAB_STATE_DIR:-${LAB_DIR}/state}
EOF
	cat
}

# Start sluiced in the edge box with $LAB_DIR/sluiced.yaml.
lab_sluiced_start() {
	local tries
	lab_bg lb "${LAB_SLUICED:-$LAB_BUILD/sluiced}" -c "$LAB_DIR/sluiced.yaml" \
		>>"$LAB_DIR/sluiced.log" 2>&1
	LAB_SLUICED_PID=$!
	lab_track "$LAB_SLUICED_PID"
	for tries in $(seq 1 100); do
		lab_ctl status >/dev/null 2>&1 && return 0
		kill -0 "$LAB_SLUICED_PID" 2>/dev/null || break
		sleep 0.1
	done
	lab_log "sluiced did not start; its log:"
	tail -20 "$LAB_DIR/sluiced.log" >&2
	return 1
}

lab_sluiced_stop() {	# [signal]
	[[ -n ${LAB_SLUICED_PID:-} ]] || return 0
	kill "-${1:-TERM}" "$LAB_SLUICED_PID" 2>/dev/null
	wait "$LAB_SLUICED_PID" 2>/dev/null
	LAB_SLUICED_PID=
}

lab_ctl() {
	lab_ns lb "$LAB_BUILD/sluicectl" -s "$LAB_DIR/sluiced.sock" "$@"
}

lab_client() {
	lab_ns cli python3 "$LAB_SRC/scripts/lab-client.py" "$@"
}

lab_up() {
	LAB_P=${1:-sl$(tr -dc 'a-z0-9' </dev/urandom | head -c 5)}
	LAB_DIR=$(mktemp -d "/tmp/sluice-lab-${LAB_P}.XXXX")
	export LAB_P LAB_DIR
	local ns i
	for ns in cli rtr lb $(seq -f 'be%g' 1 "$LAB_BACKENDS"); do
		ip netns add "${LAB_P}-$ns" || return 1
		ip -n "${LAB_P}-$ns" link set lo up
	done
	_lab_router && _lab_client && _lab_edge || return 1
	for i in $(seq 1 "$LAB_BACKENDS"); do
		_lab_backend "$i" || return 1
		lab_server_start "$i"
	done
	lab_wait_servers
	lab_log "up: prefix $LAB_P, files in $LAB_DIR"
}

lab_down() {
	local P=${1:-${LAB_P:-}} ns dir
	[[ -n $P ]] || return 0
	dir=${LAB_DIR:-$(ls -d /tmp/sluice-lab-"$P".* 2>/dev/null | head -1)}
	if [[ -n $dir && -f $dir/pids ]]; then
		_lab_signal_tracked "$dir/pids" TERM
		sleep 0.2
		_lab_signal_tracked "$dir/pids" KILL
	fi
	for ns in $(ip netns list | awk '{print $1}' | grep "^${P}-"); do
		ip netns del "$ns"
	done
	rm -rf "/sys/fs/bpf/sluice-$P"
	[[ -n $dir ]] && rm -rf "$dir"
	LAB_P=
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	case ${1:-} in
	up)
		lab_up "${2:-}"
		echo "$LAB_P $LAB_DIR"
		;;
	down)
		lab_down "${2:?usage: lab.sh down PREFIX}"
		;;
	*)
		echo "usage: scripts/lab.sh up [PREFIX] | down PREFIX" >&2
		exit 2
		;;
	esac
fi
