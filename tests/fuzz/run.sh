#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs the fuzzers and reports each as one TAP line for tests/run.sh.
#
#   tests/fuzz/run.sh BUILD [short|long]
#
# short (make test): each libFuzzer target replays its seed corpus
#   (tests/fuzz/corpus/NAME) and runs a fixed number of mutations with a
#   fixed seed, so the run is reproducible and takes seconds.
# long (make fuzz): the BPF packet fuzzer with SLUICE_FUZZ_ITERS packets
#   (default 5,000,000) and a fresh seed, then each libFuzzer target for
#   SLUICE_FUZZ_TIME seconds (default 120) with a fresh seed. New inputs
#   accumulate in BUILD/fuzz/work/NAME; crashes land in BUILD/fuzz/artifacts.
set -uo pipefail

build=${1:?usage: tests/fuzz/run.sh BUILD [short|long]}
mode=${2:-short}
here=$(cd "$(dirname "$0")" && pwd)
fz=$build/fuzz
n=0

# libFuzzer runs under ASan and UBSan; a report is a crash, hence "not ok".
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# tap_result NAME RC LOG SUMMARY: one TAP line; on failure the log's tail.
tap_result() {
	n=$((n + 1))
	if [[ $2 -eq 0 ]]; then
		echo "ok $n - $1 ($4)"
	else
		echo "not ok $n - $1 (exit $2)"
		grep -v '^#[0-9]' "$3" | tail -40 | sed 's/^/#   /'
	fi
}

run_libfuzzer() {	# name
	local name=$1 bin=$fz/$1 log work rc runs args summary
	log=$(mktemp)
	if [[ ! -x $bin ]]; then
		echo "$bin is not built (make test builds it)" >"$log"
		tap_result "$name" 1 "$log" ""
		rm -f "$log"
		return
	fi
	mkdir -p "$fz/artifacts"
	args=(-artifact_prefix="$fz/artifacts/$name-" -rss_limit_mb=2048 -timeout=20
	      -max_len=16384 -print_final_stats=1)
	if [[ $mode == long ]]; then
		work=$fz/work/$name
		mkdir -p "$work"
		args+=(-max_total_time="${SLUICE_FUZZ_TIME:-120}")
	else
		# A fresh directory: the same inputs, in the same order, every run.
		work=$(mktemp -d)
		case $name in
		fuzz_config) runs=20000 ;;
		*) runs=50000 ;;
		esac
		args+=(-seed=1 -runs="$runs")
	fi
	echo "# $bin ${args[*]} $work $here/corpus/${name#fuzz_}"
	"$bin" "${args[@]}" "$work" "$here/corpus/${name#fuzz_}" >"$log" 2>&1
	rc=$?
	summary=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | grep -Eo '[0-9]+$')
	summary="${summary:-?} inputs, corpus $(ls "$work" | wc -l) new + $(ls "$here/corpus/${name#fuzz_}" | wc -l) seeds"
	tap_result "$name" "$rc" "$log" "$summary"
	[[ $mode == long ]] || rm -rf "$work"
	rm -f "$log"
}

# The BPF packet fuzzer at length (make test runs it briefly in the bpf suite).
run_packet_fuzzer() {
	local bin=$build/tests/bpf/test_fuzz log rc
	log=$(mktemp)
	SLUICE_FUZZ_SEED=${SLUICE_FUZZ_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')} \
	SLUICE_FUZZ_ITERS=${SLUICE_FUZZ_ITERS:-5000000} \
		"$bin" >"$log" 2>&1
	rc=$?
	grep '^# fuzz' "$log"
	tap_result "test_fuzz (BPF packets)" "$rc" "$log" \
		"$(grep -Eo '[0-9]+ packets in [0-9.]+s' "$log" | tail -1)"
	rm -f "$log"
}

case $mode in
short) ;;
long) run_packet_fuzzer ;;
*)
	echo "tests/fuzz/run.sh: unknown mode '$mode' (short, long)" >&2
	exit 2
	;;
esac
run_libfuzzer fuzz_config
run_libfuzzer fuzz_ctl
