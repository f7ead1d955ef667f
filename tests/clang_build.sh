#!/bin/sh
# The core must build warning-free with clang as well as gcc.
set -u
cd "$(dirname "$0")/.."
if ! command -v clang >/dev/null; then
	echo "clang-build: skipped: clang not installed"
	echo "clang-build: 0 passed, 0 failed"
	exit 0
fi
fail=0
n=0
for f in src/core/*.c src/wire/*.c src/net/*.c src/netinet/*.c src/route/*.c src/socket/*.c src/host/*.c; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	if ! clang -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -Wno-unused-parameter -Wno-sign-compare \
		-Werror -Iinclude -Isrc -D_GNU_SOURCE -fsyntax-only "$f"; then
		fail=$((fail + 1))
	fi
done
echo "clang-build: $((n - fail)) passed, $fail failed"
[ "$fail" = 0 ]
