#!/bin/bash
# A short run of every libFuzzer harness (FUZZ_SECONDS each, default 20),
# starting from the checked-in seeds in tests/fuzz/corpus/<harness>/.
set -u
dir=${1:-build/fuzz}
secs=${FUZZ_SECONDS:-20}
pass=0
fail=0
shopt -s nullglob
bins=("$dir"/fuzz_*)
if [ ${#bins[@]} = 0 ]; then
	echo "fuzz-smoke: no harnesses built (needs clang with libFuzzer)"
	echo "fuzz-smoke: 0 passed, 1 failed"
	exit 1
fi
for b in "${bins[@]}"; do
	name=$(basename "$b")
	work=$(mktemp -d)
	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] && cp "$seeds"/* "$work"/ 2>/dev/null
	if "$b" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 \
		-artifact_prefix="$work/" "$work" >"$work/log" 2>&1; then
		echo "ok   $name ($(tail -1 "$work/log" | cut -c1-60))"
		pass=$((pass + 1))
	else
		echo "FAIL $name"
		tail -40 "$work/log"
		for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
			[ -f "$a" ] && echo "artifact: $(od -An -tx1 "$a" | head -5)"
		done
		fail=$((fail + 1))
	fi
	rm -rf "$work"
done
echo "fuzz-smoke: $pass passed, $fail failed"
[ "$fail" = 0 ]
