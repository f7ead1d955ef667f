#!/bin/sh
# The core library must hold no mutable global state: every object file's
# symbols must be text or read-only data. Fails on any data, bss, small-data
# or common symbol (nm types B b D d G g S s C), naming each.
set -eu
lib=${1:-build/libvimage.a}
[ -f "$lib" ] || { echo "nm-check: $lib not built" >&2; exit 2; }
bad=$(nm -A "$lib" | awk '$(NF-1) ~ /^[BbDdGgSsCc]$/ { print }')
if [ -n "$bad" ]; then
	echo "nm-check: writable globals in $lib:"
	echo "$bad"
	echo "nm-check: 0 passed, 1 failed"
	exit 1
fi
n=$(nm "$lib" | awk 'NF == 3' | wc -l)
echo "nm-check: $n symbols, none writable"
echo "nm-check: 1 passed, 0 failed"
