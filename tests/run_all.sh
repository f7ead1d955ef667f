#!/bin/bash
# Runs every test stage of `make check` and ends with the total line
# "N passed, N failed". Each stage prints its own "<stage>: N passed, N
# failed" line; a stage that crashes without one counts as one failure.
set -u
cd "$(dirname "$0")/.."
total_pass=0
total_fail=0
failed_stages=()

stage() {
	local name=$1
	shift
	echo "=== $name"
	local out rc line p f
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
	rm -f "$out"
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
		f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	else
		p=0
		f=1
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ "$f" != 0 ] && failed_stages+=("$name")
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

stage nm-check tests/nm_check.sh build/libvimage.a
stage clang-build tests/clang_build.sh
stage unit env TEST_SUITE=unit build/tests/unit
stage sim env TEST_SUITE=sim build/tests/sim
stage asan-unit env TEST_SUITE=asan-unit build/asan/tests/unit
# The sanitizers slow the TCP grid and scale tests ~10x: smaller transfers
# and fewer connections there (the plain run does the full sizes).
stage asan-sim env TEST_SUITE=asan-sim TCP_GRID_DIV=10 TCP_SCALE_DIV=10 \
	build/asan/tests/sim
stage fuzz-smoke tests/fuzz/smoke.sh build/fuzz
stage interop tests/interop/run.sh build/interop/tap_node
stage system tests/system/run.sh
stage preload tests/system/preload.sh
stage preload-review tests/system/review.sh
stage tc tests/system/tc.sh
stage links-review tests/system/review5.sh
# The bridging scenario: a TAP LAN as root, then the all-virtual LAN.
stage bridging examples/bridging.sh --test
stage bridging-virtual examples/bridging.sh --virtual --test

echo
if [ ${#failed_stages[@]} -gt 0 ]; then
	echo "failed stages: ${failed_stages[*]}"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
