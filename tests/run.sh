#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs the test suites and ends with one line: "N passed, M failed".
#   tests/run.sh BUILD [unit|bpf|integration|fuzz|asan|units]...
# fuzz: the libFuzzer targets, briefly (SLUICE_FUZZ_MODE=long: make fuzz);
# asan: unit and a few end-to-end tests from the sanitizer build BUILD/asan.
# Test binaries report in TAP (cmocka: CMOCKA_MESSAGE_OUTPUT=TAP); the
# integration runner prints TAP too. A skipped test counts as a failure
# unless SLUICE_ALLOW_SKIP=1: on CI nothing may be skipped.
set -uo pipefail

build=${1:?usage: tests/run.sh BUILD [suite...]}
shift
suites=("$@")
[[ ${#suites[@]} -eq 0 ]] && suites=(unit bpf units integration fuzz asan)

export CMOCKA_MESSAGE_OUTPUT=TAP
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_binary() {
	local bin=$1 rc
	echo "# $bin"
	"$bin" 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
	if [[ $rc -gt 128 ]]; then
		echo "not ok - $bin crashed (signal $((rc - 128)))" | tee -a "$log"
	fi
}

for suite in "${suites[@]}"; do
	case $suite in
	unit|bpf)
		for bin in "$build"/tests/"$suite"/test_*; do
			[[ -x $bin && ! -d $bin ]] || continue
			run_binary "$bin"
		done
		;;
	integration)
		if [[ -x tests/integration/run.sh ]]; then
			tests/integration/run.sh "$build" 2>&1 | tee -a "$log"
		fi
		;;
	units)
		# make install into a scratch PREFIX, systemd-analyze, man, completion.
		tests/package/test_units.sh "$build" 2>&1 | tee -a "$log"
		;;
	fuzz)
		tests/fuzz/run.sh "$build" "${SLUICE_FUZZ_MODE:-short}" 2>&1 | tee -a "$log"
		;;
	asan)
		tests/asan/run.sh "$build/asan" 2>&1 | tee -a "$log"
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
