#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make demo: a zero-reset drain, end to end, in network namespaces.
#
# Three backends behind 198.18.0.100:80/tcp. A client sends short requests
# and long downloads. We drain backend 1 with `sluicectl backend drain
# --wait`, show new requests avoiding it while its downloads finish intact,
# stop its server once sluice says it is safe, and put it back.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lab.sh"

VIP=198.18.0.100:80/tcp
BE1=$(lab_be4 1)
SOURCES=198.18.10.2,198.18.10.3,198.18.10.4,198.18.10.5,198.18.10.6,198.18.10.7
DOWNLOADS=30

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
field() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
per_backend() {
	field "', '.join(f'{b}: {j[\"backends\"].get(b, 0)}' for b in ('be1','be2','be3'))"
}

cleanup() {
	lab_sluiced_stop TERM
	lab_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# make demo runs both first; run directly, the same two checks.
"$HERE/need-root.sh" demo || exit 1
"$HERE/mount-bpffs.sh" || exit 1

say "Building the lab: client, router, edge box (sluice, XDP native), 3 backends"
lab_up || exit 1
lab_config >"$LAB_DIR/sluiced.yaml" <<EOF
vips:
  - vip: $VIP
    backends:
      - address: $(lab_be4 1)
      - address: $(lab_be4 2)
      - address: $(lab_be4 3)
EOF
lab_sluiced_start || exit 1
note "sluiced is up; XDP program on the edge box's NIC:"
note "$(lab_ns lb ip -d link show "${LAB_P}l" | grep -o 'prog/xdp id [0-9]* name [a-z_]*')"

say "Before: 90 short requests"
before=$(lab_client get --vip "$LAB_VIP4" --count 90 --sources "$SOURCES")
note "answered by  $(echo "$before" | per_backend)   (failed: $(echo "$before" | field "j['errors']"))"

sleep 3	# close grace + a sweep: the short requests' flows are gone

say "$DOWNLOADS long downloads start (3 MB each, paced over 12 s, every byte verified)"
lab_client streams --vip "$LAB_VIP4" --count "$DOWNLOADS" --bytes 3000000 --seconds 12 \
	--seed demo --sources "$SOURCES" --ready "$LAB_DIR/ready" >"$LAB_DIR/downloads.json" &
dl_pid=$!
while [[ ! -s $LAB_DIR/ready ]]; do sleep 0.1; done
sleep 1.2	# one sweep, so the counts include every download
lab_ctl backend list "$VIP" | sed 's/^/   /'

say "Drain $BE1:  sluicectl backend drain $VIP $BE1 --wait --timeout 1m"
t0=$(date +%s.%N)
( lab_ctl backend drain "$VIP" "$BE1" --wait --timeout 1m 2>&1 | sed 's/^/   drain: /'
  echo "${PIPESTATUS[0]}" >"$LAB_DIR/drain.rc"; date +%s.%N >"$LAB_DIR/drain.t" ) &
drain_pid=$!
sleep 1
during=$(lab_client get --vip "$LAB_VIP4" --count 90 --sources "$SOURCES")
note "90 new requests while draining: $(echo "$during" | per_backend)   (failed: $(echo "$during" | field "j['errors']"))"

wait "$dl_pid"
t_dl=$(date +%s.%N)
wait "$drain_pid"
rc=$(cat "$LAB_DIR/drain.rc")
t_drain=$(cat "$LAB_DIR/drain.t")
dl=$(cat "$LAB_DIR/downloads.json")
completed=$(echo "$dl" | field "j['completed']")
on_be1=$(echo "$dl" | field "j['backends'].get('be1', 0)")
bad=$(echo "$dl" | field "sum(v for k, v in j['outcomes'].items() if k != 'completed')")
note "downloads: $completed of $DOWNLOADS completed intact ($on_be1 of them on be1); reset, truncated or corrupt: $bad"
note "drain --wait exited $rc, $(python3 -c "print(round($t_drain - $t_dl, 1))")s after the last download finished"

say "sluice says be1 is drained: stopping its server is safe"
lab_server_stop 1
note "be1's server stopped (as a deploy would)"
lab_ctl backend list "$VIP" | sed 's/^/   /'

say "Deploy done: start be1 again and undrain it"
lab_server_start 1
lab_wait_servers
lab_ctl backend undrain "$VIP" "$BE1" | sed 's/^/   /'
after=$(lab_client get --vip "$LAB_VIP4" --count 90 --sources "$SOURCES")
note "90 requests after undrain: $(echo "$after" | per_backend)   (failed: $(echo "$after" | field "j['errors']"))"

say "Summary"
during_be1=$(echo "$during" | field "j['backends'].get('be1', 0)")
note "requests per backend before / during / after the drain:"
note "  before  $(echo "$before" | per_backend)"
note "  during  $(echo "$during" | per_backend)"
note "  after   $(echo "$after" | per_backend)"
note "long downloads completed intact: $completed / $DOWNLOADS; resets seen: $bad"
ok=1
[[ $rc == 0 && $completed == "$DOWNLOADS" && $bad == 0 && $during_be1 == 0 ]] || ok=0
if ((ok)); then
	note "zero-reset drain: new requests avoided be1, its downloads finished, then it was safe to stop."
	exit 0
fi
note "something went wrong: see $LAB_DIR (kept logs are removed on exit)"
tail -5 "$LAB_DIR/sluiced.log" | sed 's/^/   /'
exit 1
