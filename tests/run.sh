#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs the test suites and ends with one line: "N passed, M failed".
#   tests/run.sh BUILD [unit|bpf|integration|fuzz|asan|units]...
# fuzz: the libFuzzer targets, briefly (SLUICE_FUZZ_MODE=long: make fuzz);
# asan: unit and a few end-to-end tests from the sanitizer build BUILD/asan.
# Test binaries report in TAP (cmocka: CMOCKA_MESSAGE_OUTPUT=TAP); the
# integration runner prints TAP too. A skipped test counts as a failure
# unless SLUICE_ALLOW_SKIP=1: on CI nothing may be skipped. A test binary
# or suite runner that exits non-zero fails the suite even when it printed
# no "not ok" line (a crash, an exit(1) before any test, a cmocka setup
# failure): it gets a "not ok" line of its own.
# Exit status: 0 when nothing failed (and something passed), 1 otherwise,
# 2 for usage errors.
set -uo pipefail

build=${1:?usage: tests/run.sh BUILD [suite...]}
shift
suites=("$@")
[[ ${#suites[@]} -eq 0 ]] && suites=(unit bpf units integration fuzz asan)

export CMOCKA_MESSAGE_OUTPUT=TAP
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run NAME COMMAND...: run a test binary or suite runner, keep its TAP,
# and turn a non-zero exit it did not explain with "not ok" into a failure.
run() {
	local name=$1 out rc
	shift
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	cat "$out" >>"$log"
	if [[ $rc -gt 128 ]]; then
		echo "not ok - $name crashed (signal $((rc - 128)))" | tee -a "$log"
	elif [[ $rc -ne 0 ]] && ! grep -q '^not ok' "$out"; then
		echo "not ok - $name exited with status $rc" | tee -a "$log"
	fi
	rm -f "$out"
}

for suite in "${suites[@]}"; do
	case $suite in
	unit|bpf)
		for bin in "$build"/tests/"$suite"/test_*; do
			[[ -x $bin && ! -d $bin ]] || continue
			echo "# $bin"
			run "$bin" "$bin"
		done
		;;
	integration)
		run "integration suite" tests/integration/run.sh "$build"
		;;
	units)
		# make install into a scratch PREFIX, systemd-analyze, man, completion.
		tests/package/test_units.sh "$build" 2>&1 | tee -a "$log"
		;;
	fuzz)
		run "fuzz suite" tests/fuzz/run.sh "$build" "${SLUICE_FUZZ_MODE:-short}"
		;;
	asan)
		run "asan suite" tests/asan/run.sh "$build/asan"
		;;
	*)
		echo "tests/run.sh: unknown suite '$suite' (unit, bpf, units, integration, fuzz, asan)" >&2
		exit 2
		;;
	esac
done

passed=$(grep -cE '^ok [0-9]+ ' "$log" | tr -d ' ')
skipped=$(grep -cE '^ok [0-9]+ .*# (SKIP|skip)' "$log" | tr -d ' ')
failed=$(grep -cE '^not ok' "$log" | tr -d ' ')
passed=$((passed - skipped))
if [[ ${SLUICE_ALLOW_SKIP:-0} != 1 ]]; then
	failed=$((failed + skipped))
fi
echo
if [[ $skipped -gt 0 ]]; then
	echo "${passed} passed, ${failed} failed, ${skipped} skipped"
else
	echo "${passed} passed, ${failed} failed"
fi
[[ $failed -eq 0 && $passed -gt 0 ]]
