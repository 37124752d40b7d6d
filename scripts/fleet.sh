#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The fleet lab: N edge boxes behind a router that spreads each VIP over
# them by ECMP, every route learned over real BGP sessions (BIRD 2).
#
#   client (${P}-cli) ── router (${P}-rtr): bridge, BIRD, multipath routes
#                              ├── box 1 (${P}-lb)  198.18.20.2  sluiced + BIRD
#                              ├── box 2 (${P}-lb2) 198.18.20.3  sluiced + BIRD
#                              ├── box k (${P}-lbk) 198.18.20.(1+k)
#                              └── backends (${P}-be1..) 198.18.20.11.. as in lab.sh
#
# Each box's sluiced announces its VIP addresses as routes in kernel table
# 100 through its own TUN device (user/lib/announce.h); the box's BIRD
# learns that table and exports it to the router over eBGP (box AS 65001,
# router AS 65000); the router's BIRD merges equal routes into one
# multipath route, hashed on L4 (fib_multipath_hash_policy=1).
#
# Use as a library (source it; fleet_up / fleet_down) or from the shell:
#   scripts/fleet.sh up [PREFIX]     scripts/fleet.sh down PREFIX
# Only addresses in 198.18.0.0/15 and fd00::/8 are used.
source "$(dirname "${BASH_SOURCE[0]}")/lab.sh"

FLEET_BOXES=${FLEET_BOXES:-3}
# Boxes fleet_up starts (BIRD and sluiced); the rest are wired, configured
# and known to the router, and join later (fleet_box_join).
FLEET_UP_BOXES=${FLEET_UP_BOXES:-$FLEET_BOXES}
FLEET_TABLE=100
FLEET_HOLD=${FLEET_HOLD:-3}	# BGP hold time (s): small in the lab
# FLEET_CLUSTER=1: an etcd in the router namespace holds the desired state
# and every box's sluiced follows it (cluster: instead of vips:).
FLEET_CLUSTER=${FLEET_CLUSTER:-0}
FLEET_ETCD=${FLEET_ETCD:-http://198.18.20.1:2379}	# https:// for TLS
# Extra words for etcd and etcdctl (TLS, --user), extra lines for cluster:
# in every box's config, and a function run once etcd is up (users, auth).
FLEET_ETCD_ARGS=${FLEET_ETCD_ARGS:-}
FLEET_ETCDCTL_ARGS=${FLEET_ETCDCTL_ARGS:-}
FLEET_CLUSTER_EXTRA=${FLEET_CLUSTER_EXTRA:-}
FLEET_ETCD_HOOK=${FLEET_ETCD_HOOK:-:}
FLEET_PREFIX=/sluice/lab
FLEET_LEASE=${FLEET_LEASE:-3s}

fleet_ns() { [[ $1 == 1 ]] && echo lb || echo "lb$1"; }
fleet_box4() { echo "198.18.20.$((1 + $1))"; }
fleet_box6() { echo "fd00:20::$((1 + $1))"; }
fleet_dev() { [[ $1 == 1 ]] && echo "${LAB_P}l" || echo "${LAB_P}l$1"; }

# Boxes 2..N, wired like the lab's edge box (box 1, lab.sh's _lab_edge).
_fleet_box() {
	local k=$1 ns dev
	ns=$(fleet_ns "$k")
	dev=$(fleet_dev "$k")
	ip netns add "${LAB_P}-$ns" || return 1
	ip -n "${LAB_P}-$ns" link set lo up
	_fleet_box_link "$k"
}

# Box k's link to the router, its addresses and routes (again, after a
# test deleted it).
_fleet_box_link() {
	local k=$1 ns dev
	ns=$(fleet_ns "$k")
	dev=$(fleet_dev "$k")
	_lab_link "$ns" "$dev" rtr "${dev}r" 1500
	ip -n "${LAB_P}-rtr" link set "${dev}r" master "${LAB_P}br"
	ip -n "${LAB_P}-$ns" addr add "$(fleet_box4 "$k")/24" dev "$dev"
	ip -n "${LAB_P}-$ns" addr add "$(fleet_box6 "$k")/64" dev "$dev" nodad
	ip -n "${LAB_P}-$ns" route add default via 198.18.20.1
	ip -n "${LAB_P}-$ns" -6 route add default via fd00:20::1
	# veth delivers an XDP_TX'd frame only if the peer runs XDP too.
	lab_ns rtr "$LAB_BUILD/sluice-decap" attach "${dev}r"
}

_fleet_bird() {	# ns conf
	bird -p -c "$2" || { lab_log "BIRD rejects $2"; return 1; }
	lab_bg "$1" bird -f -c "$2" -s "$LAB_DIR/bird-$1.ctl" >>"$LAB_DIR/bird-$1.log" 2>&1
	lab_track $!
}

# The router: BGP to every box, equal routes merged into one multipath route.
_fleet_router_bird() {
	local k conf="$LAB_DIR/bird-rtr.conf"
	cat >"$conf" <<EOF
router id 198.18.20.1;
protocol device { scan time 1; }
protocol kernel kern4 { merge paths on; ipv4 { import none; export all; }; }
protocol kernel kern6 { merge paths on; ipv6 { import none; export all; }; }
template bgp box4 {
	local 198.18.20.1 as 65000; hold time $FLEET_HOLD; keepalive time 1;
	connect retry time 1; error wait time 1, 2;
	ipv4 { import where net ~ [ 198.18.0.0/24{32,32} ]; export none; };
}
template bgp box6 {
	local fd00:20::1 as 65000; hold time $FLEET_HOLD; keepalive time 1;
	connect retry time 1; error wait time 1, 2;
	ipv6 { import where net ~ [ fd00:100::/64{128,128} ]; export none; };
}
EOF
	for k in $(seq 1 "$FLEET_BOXES"); do
		echo "protocol bgp box${k}v4 from box4 { neighbor $(fleet_box4 "$k") as 65001; }"
		echo "protocol bgp box${k}v6 from box6 { neighbor $(fleet_box6 "$k") as 65001; }"
	done >>"$conf"
	_fleet_bird rtr "$conf"
}

# A box: learn sluiced's announcement table, export it to the router.
_fleet_box_bird() {
	local k=$1 conf="$LAB_DIR/bird-box$1.conf"
	cat >"$conf" <<EOF
router id $(fleet_box4 "$k");
protocol device { scan time 1; }
protocol kernel vips4 { kernel table $FLEET_TABLE; learn; scan time 1; ipv4 { import all; export none; }; }
protocol kernel vips6 { kernel table $FLEET_TABLE; learn; scan time 1; ipv6 { import all; export none; }; }
protocol bgp up4 {
	local $(fleet_box4 "$k") as 65001; neighbor 198.18.20.1 as 65000;
	hold time $FLEET_HOLD; keepalive time 1; connect retry time 1; error wait time 1, 2;
	ipv4 { import none; export all; next hop self; };
}
protocol bgp up6 {
	local $(fleet_box6 "$k") as 65001; neighbor fd00:20::1 as 65000;
	hold time $FLEET_HOLD; keepalive time 1; connect retry time 1; error wait time 1, 2;
	ipv6 { import none; export all; next hop self; };
}
EOF
	_fleet_bird "$(fleet_ns "$k")" "$conf"
}

fleet_birdc() {	# ns command...
	local ns=$1
	shift
	birdc -s "$LAB_DIR/bird-$ns.ctl" "$@"
}

# etcd in the router namespace: clients on the boxes' subnet, peers on
# the namespace's loopback, data under the lab dir. Stopped by PID.
fleet_etcd_start() {
	local pid i
	lab_bg rtr etcd --name "${LAB_P}" --data-dir "$LAB_DIR/etcd" \
		--listen-client-urls "$FLEET_ETCD" --advertise-client-urls "$FLEET_ETCD" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster "${LAB_P}=http://127.0.0.1:2380" $FLEET_ETCD_ARGS \
		>>"$LAB_DIR/etcd.log" 2>&1
	pid=$!
	lab_track "$pid"
	echo "$pid" >"$LAB_DIR/etcd.pid"
	for i in $(seq 1 100); do
		fleet_etcdctl endpoint health >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	lab_log "etcd did not start; its log:"
	tail -20 "$LAB_DIR/etcd.log" >&2
	return 1
}

fleet_etcd_stop() {
	local pid
	pid=$(cat "$LAB_DIR/etcd.pid" 2>/dev/null) || return 0
	kill "-${1:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$LAB_DIR/etcd.pid"
}

fleet_etcdctl() {
	# shellcheck disable=SC2086 # words on purpose
	ETCDCTL_API=3 lab_ns rtr etcdctl --endpoints "$FLEET_ETCD" $FLEET_ETCDCTL_ARGS "$@"
}

# sluicectl's fleet commands, from the router namespace ($FLEET_SLUICECTL:
# another program to run, such as a wrapper).
fleet_cli() {
	lab_ns rtr "${FLEET_SLUICECTL:-$LAB_BUILD/sluicectl}" --cluster "$FLEET_ETCD" --prefix "$FLEET_PREFIX" "$@"
}

# The lab's VIPs and backends as a desired-state document.
fleet_default_desired() {
	local i b4="" b6=""
	for i in 1 2 3; do
		b4+="${b4:+,}{\"address\": \"$(lab_be4 "$i")\"}"
		b6+="${b6:+,}{\"address\": \"$(lab_be6 "$i")\"}"
	done
	echo "{\"vips\": [{\"vip\": \"$LAB_VIP4:80/tcp\", \"backends\": [$b4]},"
	echo " {\"vip\": \"[$LAB_VIP6]:80/tcp\", \"backends\": [$b6]}]}"
}

_fleet_cluster_config() {	# k
	cat <<EOF
cluster:
  endpoints: $FLEET_ETCD
  prefix: $FLEET_PREFIX
  box: box$1
  lease_ttl: $FLEET_LEASE
EOF
	[[ -z $FLEET_CLUSTER_EXTRA ]] || echo "$FLEET_CLUSTER_EXTRA"
}

# sluiced's config for box k; the vips: section on stdin.
fleet_config() {
	local k=$1
	cat <<EOF
instance: ${LAB_P}b$k
interfaces:
  - name: $(fleet_dev "$k")
    mode: native
encap:
  source_v4: $(fleet_box4 "$k")
  source_v6: $(fleet_box6 "$k")
flows:
${LAB_CLOSE_GRACE:+  close_grace: ${LAB_CLOSE_GRACE}
}  sweep_interval: ${LAB_SWEEP:-500ms}
${LAB_MAGLEV:+maglev:
  table_size: ${LAB_MAGLEV}
${LAB_MAGLEV_SEED:+  seed: ${LAB_MAGLEV_SEED}
}}control:
  socket: ${LAB_DIR}/sluiced$k.sock
metrics:
  listen: 127.0.0.1:$((9480 + k))
paths:
  pin_dir: /sys/fs/bpf/sluice-${LAB_P}/box$k
  state_dir: ${LAB_DIR}/state$k
announce:
  table: $FLEET_TABLE
EOF
	if [[ $FLEET_CLUSTER == 1 ]]; then
		_fleet_cluster_config "$k"
	else
		cat
	fi
}

fleet_sluiced_start() {	# k
	local k=$1 pid tries
	lab_bg "$(fleet_ns "$k")" "${LAB_SLUICED:-$LAB_BUILD/sluiced}" -c "$LAB_DIR/sluiced$k.yaml" \
		>>"$LAB_DIR/sluiced$k.log" 2>&1
	pid=$!
	lab_track "$pid"
	echo "$pid" >"$LAB_DIR/sluiced$k.pid"
	for tries in $(seq 1 100); do
		fleet_ctl "$k" status >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	lab_log "sluiced on box $k did not start; its log:"
	tail -20 "$LAB_DIR/sluiced$k.log" >&2
	return 1
}

fleet_sluiced_stop() {	# k [signal]
	local pid
	pid=$(cat "$LAB_DIR/sluiced$1.pid" 2>/dev/null) || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# Not our child when another shell started it: wait for it to go.
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$LAB_DIR/sluiced$1.pid"
}

fleet_ctl() {	# k args...
	local k=$1
	shift
	lab_ns "$(fleet_ns "$k")" "$LAB_BUILD/sluicectl" -s "$LAB_DIR/sluiced$k.sock" "$@"
}

# How many next hops the router's route to @1 has (0: no route).
fleet_paths() {
	local out fam=-4
	[[ $1 == *:* ]] && fam=-6
	out=$(ip -n "${LAB_P}-rtr" "$fam" route show "$1" 2>/dev/null)
	[[ -n $out ]] || { echo 0; return; }
	if grep -q nexthop <<<"$out"; then
		grep -c nexthop <<<"$out"
	else
		echo 1
	fi
}

# Wait up to @3 seconds (default 15) until the router has @2 paths to @1.
fleet_wait_paths() {
	local i
	for i in $(seq 1 $((${3:-15} * 10))); do
		[[ $(fleet_paths "$1") == "$2" ]] && return 0
		sleep 0.1
	done
	return 1
}

# The fleet: the lab's router, client and backends, FLEET_BOXES boxes, BIRD
# everywhere, and sluiced on every box with the vips: section on stdin.
fleet_up() {
	local k i ns vips
	vips=$(cat)
	LAB_P=${1:-$(mktemp -u slXXXXX)}	# no pipe: safe under pipefail
	LAB_P=${LAB_P,,}
	LAB_DIR=$(mktemp -d "/tmp/sluice-lab-${LAB_P}.XXXX")
	export LAB_P LAB_DIR
	for ns in cli rtr lb $(seq -f 'be%g' 1 "$LAB_BACKENDS"); do
		ip netns add "${LAB_P}-$ns" || return 1
		ip -n "${LAB_P}-$ns" link set lo up
	done
	_lab_router && _lab_client && _lab_edge || return 1
	# Routes to the VIPs come from BGP, hashed on the 5-tuple.
	ip -n "${LAB_P}-rtr" route del 198.18.0.0/24
	ip -n "${LAB_P}-rtr" -6 route del fd00:100::/64
	_lab_sysctl rtr net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv6.fib_multipath_hash_policy=1
	for k in $(seq 2 "$FLEET_BOXES"); do
		_fleet_box "$k" || return 1
	done
	for i in $(seq 1 "$LAB_BACKENDS"); do
		_lab_backend "$i" || return 1
		lab_server_start "$i"
	done
	_fleet_router_bird || return 1
	if [[ $FLEET_CLUSTER == 1 ]]; then
		fleet_etcd_start && "$FLEET_ETCD_HOOK" || return 1
		fleet_etcdctl put "$FLEET_PREFIX/desired" "$(fleet_default_desired)" >/dev/null ||
			return 1
	fi
	for k in $(seq 1 "$FLEET_BOXES"); do
		fleet_config "$k" >"$LAB_DIR/sluiced$k.yaml" <<<"$vips"
		((k > FLEET_UP_BOXES)) && continue
		_fleet_box_bird "$k" || return 1
		fleet_sluiced_start "$k" || return 1
	done
	lab_wait_servers
	lab_log "fleet up: prefix $LAB_P, $FLEET_UP_BOXES of $FLEET_BOXES boxes, files in $LAB_DIR"
}

# Box k's BIRD starts: its BGP session to the router comes up and it
# exports whatever its sluiced announces (start sluiced first to join
# with the fleet's drains already applied).
fleet_box_join() { _fleet_box_bird "$1"; }

fleet_down() {
	local k
	for k in $(seq 1 "$FLEET_BOXES"); do
		fleet_sluiced_stop "$k"
	done
	fleet_etcd_stop
	lab_down "$@"
}

fleet_default_vips() {
	cat <<EOF
vips:
  - vip: $LAB_VIP4:80/tcp
    backends: [{address: $(lab_be4 1)}, {address: $(lab_be4 2)}, {address: $(lab_be4 3)}]
  - vip: "[$LAB_VIP6]:80/tcp"
    backends: [{address: $(lab_be6 1)}, {address: $(lab_be6 2)}, {address: $(lab_be6 3)}]
EOF
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	case ${1:-} in
	up)
		fleet_up "${2:-}" < <(fleet_default_vips)
		echo "$LAB_P $LAB_DIR"
		;;
	down)
		lab_down "${2:?usage: fleet.sh down PREFIX}"
		;;
	*)
		echo "usage: scripts/fleet.sh up [PREFIX] | down PREFIX" >&2
		exit 2
		;;
	esac
fi
