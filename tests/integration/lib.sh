# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers shared by the integration tests: lab set-up per test, assertions
# that say what was expected and what was seen, JSON field access.

# Each test gets a fresh lab with sluiced serving one IPv4 TCP VIP
# (plus whatever the test adds); IT_VIPS overrides the vips: section.
it_setup() {
	lab_up || return 1
	[[ -n ${IT_LABFILE:-} ]] && echo "$LAB_P $LAB_DIR" >"$IT_LABFILE"
	lab_config >"$LAB_DIR/sluiced.yaml" <<EOF
${IT_VIPS:-$(it_default_vips)}
EOF
	lab_sluiced_start
}

it_teardown() {
	lab_sluiced_stop TERM
	lab_down
}

it_default_vips() {
	cat <<EOF
vips:
  - vip: $LAB_VIP4:80/tcp
    backends:
      - address: $(lab_be4 1)
      - address: $(lab_be4 2)
      - address: $(lab_be4 3)
EOF
}

# Every failed check is recorded, not only returned: a test fails when any
# check in it failed, even one whose caller carried on (a check without
# `|| return 1`, or one inside a $(...) or a pipeline: the record is a file,
# which subshells share). The runner reads it once the test function
# returns (it_failures). A check whose failure is expected is not a check:
# test the condition with a plain `if`, never with assert_* or it_wait_*.
IT_FAILURES=0

# The first caller outside this file, as "test_x.sh:LINE", for the message.
it_where() {
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		if [[ ${BASH_SOURCE[i]} != "${BASH_SOURCE[0]}" ]]; then
			echo "${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]}"
			return
		fi
	done
	echo "?"
}

fail() {
	local msg
	msg="$* [$(it_where)]"
	echo "FAIL: $msg" >&2
	IT_FAILURES=$((IT_FAILURES + 1))
	[[ -n ${IT_FAILFILE:-} ]] && echo "$msg" >>"$IT_FAILFILE"
	return 1
}

# Failed checks so far in this test (its own shell and its subshells).
it_failures() {
	local n=$IT_FAILURES
	[[ -n ${IT_FAILFILE:-} && -s $IT_FAILFILE ]] && n=$(wc -l <"$IT_FAILFILE")
	echo "$n"
}

skip() {
	echo "$*"
	return 77
}

# The assertions: each prints what was expected and what was seen, and
# records a failure (fail) that fails the test. Numbers that are not
# integers (an empty string, "missing", a traceback) fail with the value.

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	[[ "$2" == "$3" ]] || fail "$1: expected '$2', got '$3'"
}

it_is_int() { [[ $1 =~ ^-?[0-9]+$ ]]; }

# Make state file FILE list its first VIP twice (under another id), which
# a start refuses after it loaded the program (user/lib/state.c).
it_state_duplicate_vip() {	# file
	python3 - "$1" <<'EOF'
import json, sys
p = sys.argv[1]
s = json.load(open(p))
twin = json.loads(json.dumps(s["vips"][0]))
twin["id"] = max(v["id"] for v in s["vips"]) + 1
for b in twin["backends"]:
    b["id"] += 100
s["vips"].append(twin)
json.dump(s, open(p, "w"))
EOF
}

# assert_le WHAT ACTUAL MAX
assert_le() {
	it_is_int "$2" && it_is_int "$3" && (($2 <= $3)) ||
		fail "$1: expected at most $3, got '$2'"
}

# assert_ge WHAT ACTUAL MIN
assert_ge() {
	it_is_int "$2" && it_is_int "$3" && (($2 >= $3)) ||
		fail "$1: expected at least $3, got '$2'"
}

# assert_near WHAT ACTUAL EXPECTED TOLERANCE: |ACTUAL - EXPECTED| <= TOLERANCE
assert_near() {
	it_is_int "$2" && it_is_int "$3" && it_is_int "$4" &&
		(($2 - $3 <= $4 && $3 - $2 <= $4)) ||
		fail "$1: expected $3 (within $4), got '$2'"
}

# json FILE_OR_- EXPR: evaluate a Python expression on the parsed JSON "j".
json() {
	python3 -c "import json,sys; j=json.load(open(sys.argv[1]) if sys.argv[1] != '-' else sys.stdin); print($2)" "$1"
}

# Live flows of one backend on one VIP, as `sluicectl backend list -j` says.
it_flows() {	# vip backend
	lab_ctl -j backend list | json - "sum(r['flows'] for r in j if r['vip']=='$1' and r['backend']=='$2')"
}

# The backend of $1 with the most flows, once one has any (waits up to
# $2 s). Streams land where Maglev puts their random ports: a test that
# needs flows on the backend it drains takes this one, as a fixed beN
# gets none of 9 streams over 3 backends one time in 40.
it_busiest_backend() {	# vip secs
	local i be
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		be=$(lab_ctl -j backend list | json - "(lambda rs: rs[0]['backend'] if rs and rs[0]['flows'] > 0 else '')(sorted([r for r in j if r['vip'] == '$1'], key=lambda r: -r['flows']))")
		[[ -n $be ]] && { echo "$be"; return 0; }
		sleep 0.1
	done
	fail "waited ${2:-10}s for a flow on any backend of $1"
}

it_state() {	# vip backend
	lab_ctl -j backend list | json - "[r['state'] for r in j if r['vip']=='$1' and r['backend']=='$2'][0]"
}

it_weight() {	# vip backend
	lab_ctl -j backend list | json - "[r['weight'] for r in j if r['vip']=='$1' and r['backend']=='$2'][0]"
}

# Established connections to port 80 on backend i, as the backend sees them.
it_ss_count() {
	lab_ns "be$1" ss -Htn state established '( sport = :80 )' | wc -l
}

# Start long streams in the background; waits until all are open.
it_streams_start() {	# name count bytes seconds [extra args]
	local name=$1 count=$2 bytes=$3 secs=$4
	shift 4
	rm -f "$LAB_DIR/$name.ready"
	lab_client streams --vip "${IT_STREAM_VIP:-$LAB_VIP4}" --count "$count" \
		--bytes "$bytes" --seconds "$secs" --seed "$name" \
		--ready "$LAB_DIR/$name.ready" "$@" >"$LAB_DIR/$name.json" &
	echo $! >"$LAB_DIR/$name.pid"
	local i
	for i in $(seq 1 300); do
		[[ -s $LAB_DIR/$name.ready ]] && return 0
		sleep 0.1
	done
	fail "streams $name did not open within 30s"
}

it_streams_wait() {	# name
	wait "$(cat "$LAB_DIR/$1.pid")"
	cat "$LAB_DIR/$1.json"
}

# Every stream completed, byte for byte: none reset, truncated or corrupt.
it_streams_all_ok() {	# name count
	local f=$LAB_DIR/$1.json
	assert_eq "streams $1 completed intact (outcomes $(json "$f" "j['outcomes']"))" \
		"$2" "$(json "$f" "j['completed']")"
}

# Wait until a command's output equals a value (bounded).
# Both waits make @secs x 10 tries 0.1 s apart: @secs is a floor, and a
# slow command stretches the wait (a failing 5 s wait on a 1 s command
# takes about a minute). Kept so on purpose: a wall-time deadline would
# give slow checks fewer tries on a loaded machine.
it_wait_for() {	# seconds expected command...
	local secs=$1 want=$2 got i
	shift 2
	for i in $(seq 1 $((secs * 10))); do
		got=$("$@" 2>/dev/null)
		[[ $got == "$want" ]] && return 0
		sleep 0.1
	done
	fail "waited ${secs}s for '$*' to be $want, last value: $got"
}

# Wait until a command's numeric output reaches a minimum (bounded).
it_wait_ge() {	# seconds min command...
	local secs=$1 min=$2 got i
	shift 2
	for i in $(seq 1 $((secs * 10))); do
		got=$("$@" 2>/dev/null)
		it_is_int "$got" && ((got >= min)) && return 0
		sleep 0.1
	done
	fail "waited ${secs}s for '$*' to reach $min, last value: $got"
}

# One raw request on the control socket; prints the reply line.
it_ctl_raw() {	# json-request
	lab_ns lb python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())' "$LAB_DIR/sluiced.sock" "$1"
}

# A command line that runs the rest under unit $1's sandbox as systemd
# would apply it (tests/integration/unit_sandbox.py): root with only the
# unit's capabilities, its system-call filter and address families, with
# PrivateDevices=yes a /dev of pseudo devices only, and sluiced.service's
# LimitNICE=-10 where this machine lets us raise RLIMIT_NICE (it needs
# CAP_SYS_RESOURCE, which some sandboxes, this VM's included, withhold).
# Not emulated: the file-system and namespace protections, and the device
# cgroup (DevicePolicy=, DeviceAllow=).
it_unit_sandbox() {	# unit
	local unit=$LAB_BUILD/systemd/$1 tool=$LAB_SRC/tests/integration/unit_sandbox.py caps
	caps=$("$tool" --caps "$unit") || return 1
	it_can_raise_nice && printf 'prlimit --nice=30:30 '
	echo "$tool" --devices "$unit" -- \
		setpriv --bounding-set="-all,$caps" --inh-caps="-all,$caps" \
		--ambient-caps="-all,$caps" "$tool" "$unit" --
}

it_can_raise_nice() { prlimit --nice=30:30 true 2>/dev/null; }

# A script at $1 that runs sluiced under sluiced.service's sandbox
# (it_unit_sandbox), for LAB_SLUICED.
it_sandboxed_sluiced() {	# path
	local sb
	sb=$(it_unit_sandbox sluiced.service) || return 1
	printf '#!/bin/bash\nexec %s %q "$@"\n' "$sb" "$LAB_BUILD/sluiced" >"$1" &&
		chmod +x "$1"
}

# Fails, showing them, on lines of sluiced log(s) $@ that say something
# was refused. The one refusal allowed: nice -10 for the drain walk where
# RLIMIT_NICE cannot be raised as LimitNICE=-10 would (it_can_raise_nice).
it_sandbox_refusals() {	# log...
	local refused
	refused=$(grep -HnE 'not permitted|EPERM|denied' "$@" |
		grep -v 'result=error EPERM: .* follows the desired state in etcd')
	if ! it_can_raise_nice; then
		echo "RLIMIT_NICE cannot be raised here: the drain walk's nice -10 may be refused"
		refused=$(echo "$refused" | grep -v 'drain walk: .*at its own priority: Permission denied')
	fi
	[[ -z $refused ]] && return 0
	echo "$refused"
	fail "sluiced was refused something under its unit's sandbox (above)"
}

# A wrapper at @1 that runs the rest of its arguments' program with its
# wall clock (CLOCK_REALTIME only) at the offset in @2 (libfaketime's
# syntax, re-read at each call: write another offset there to step it).
# The program's CLOCK_MONOTONIC and CLOCK_BOOTTIME stay real.
it_faketime_wrapper() {	# wrapper_path offset_file program
	local lib
	lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
	[[ -n $lib ]] || fail "libfaketime is missing (scripts/install-deps.sh test installs it)" ||
		return 1
	[[ -s $2 ]] || echo "+0" >"$2"
	cat >"$1" <<EOF2
#!/bin/sh
exec env LD_PRELOAD=$lib FAKETIME_TIMESTAMP_FILE=$2 FAKETIME_NO_CACHE=1 \\
	FAKETIME_DONT_FAKE_MONOTONIC=1 "$3" "\$@"
EOF2
	chmod +x "$1"
}

# Run @2, then let the held clients of $LAB_DIR/@1.* go (lab_client ...
# --go $LAB_DIR/@1.go, its PID in $LAB_DIR/@1.client.pid) and wait for
# them, whatever @2 returned; its return code.
it_run_then_release() {	# file prefix, function
	local rc
	"$2"
	rc=$?
	touch "$LAB_DIR/$1.go"
	[[ -s $LAB_DIR/$1.client.pid ]] && wait "$(cat "$LAB_DIR/$1.client.pid")" 2>/dev/null
	return $rc
}
