#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The asan suite: the unit tests and a few end-to-end tests, run from the
# ASan+UBSan build (make test builds it in BUILD/asan), one TAP line each.
#
#   tests/asan/run.sh ASAN_BUILD [integration-test...]
#
# Any sanitizer report fails the step that produced it, even from a process
# whose own output is thrown away (the lab deletes sluiced's log): reports go
# to files under a log directory (log_path), which is checked after each
# step, and the step's output is searched too.
set -uo pipefail

build=$(cd "${1:?usage: tests/asan/run.sh ASAN_BUILD [test...]}" 2>/dev/null && pwd) || {
	echo "not ok - asan: ${1} is not built (make test builds it)"
	exit 0
}
shift
its=("$@")
[[ ${#its[@]} -eq 0 ]] && its=(t_drain_wait_zero_resets t_control_socket_bad_input
			     t_ctl_stalled_client_does_not_block t_ctl_oversized_request)
here=$(cd "$(dirname "$0")/.." && pwd)

logdir=$(mktemp -d /tmp/sluice-asan.XXXX)
chmod 1777 "$logdir"	# tests run sluicectl as nobody too
trap 'rm -rf "$logdir"' EXIT
export ASAN_OPTIONS="detect_leaks=1:log_path=$logdir/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logdir/ubsan"
export CMOCKA_MESSAGE_OUTPUT=TAP
n=0

# step NAME LOG RC DETAIL: judge one step by its exit code, its TAP and reports.
step() {
	local name=$1 log=$2 rc=$3 detail=$4 why=""
	n=$((n + 1))
	if compgen -G "$logdir/*san.*" >/dev/null; then
		why="sanitizer report"
	elif grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
		why="sanitizer report in the output"
	elif [[ $rc -ne 0 ]]; then
		why="exit $rc"
	elif grep -q '^not ok' "$log"; then
		why="a test failed"
	fi
	if [[ -z $why ]]; then
		echo "ok $n - asan: $name ($detail)"
		return
	fi
	echo "not ok $n - asan: $name ($why)"
	for f in "$logdir"/*san.*; do
		[[ -e $f ]] || continue
		echo "#   --- $(basename "$f")"
		head -60 "$f" | sed 's/^/#   /'
		rm -f "$f"
	done
	grep -E '^not ok|FAIL|ERROR|runtime error' "$log" | head -20 | sed 's/^/#   /'
	tail -15 "$log" | sed 's/^/#   /'
}

for bin in "$build"/tests/unit/test_*; do
	[[ -x $bin && ! -d $bin ]] || continue
	log=$(mktemp)
	"$bin" >"$log" 2>&1
	step "unit/$(basename "$bin")" "$log" $? "$(grep -cE '^ok [0-9]+ ' "$log") tests"
	rm -f "$log"
done

for t in "${its[@]}"; do
	log=$(mktemp)
	"$here/integration/run.sh" "$build" "$t" >"$log" 2>&1
	rc=$?
	# Its TAP becomes our detail, not lines of our own.
	step "integration/$t" "$log" "$rc" "$(grep -oE '[0-9]+s\)' "$log" | head -1 | tr -d ")")"
	sed 's/^/#   /' "$log" | grep -E '^#   (ok|not ok)'
	rm -f "$log"
done
