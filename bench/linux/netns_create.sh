#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# netns_create.sh [N]   (default N=200; needs root)
#
# Linux baseline for vimage_create_us and vimage_mem_kib: what one network
# namespace "with lo up, one veth end and an IPv4 address" costs the kernel.
#
# How:
#  - One "hub" namespace is made first (not timed); it holds the other ends of
#    the N veth pairs so the root namespace is not cluttered.
#  - build/bench/netns_mk (bench/linux/netns_mk.c, built here with gcc when
#    missing or stale; $NETNS_MK overrides) then makes the N namespaces in ONE
#    process. The time per namespace therefore includes: creating the
#    /run/netns file, unshare(CLONE_NEWNET), the bind mount (i.e. all of
#    `ip netns add`), opening a netlink socket in the namespace, and one
#    rtnetlink batch (lo up; veth pair created up with its peer in the hub;
#    address add) with its acks, then one request setting the hub end up
#    (through a netlink socket opened in the hub at start; the peer cannot be
#    created up: veth_open() says ENOTCONN until both halves exist). It
#    excludes fork/exec of ip(8) entirely. It is wall time (CLOCK_MONOTONIC
#    around the loop); the helper's CPU time is shown on stderr too: the
#    difference is waiting (RCU grace periods...) and, on a busy machine,
#    other tasks, which is where most of the run-to-run noise comes from.
#    If no C compiler is available it falls back to ip(8): one `ip -batch`
#    for netns add + veth creation and one `ip -n NS -batch` per namespace,
#    which does include one fork/exec per namespace (said on stderr).
#  - Memory: /proc/meminfo and /proc/slabinfo are read before and after
#    (each after the kernel counters settle). Three figures, each divided by N,
#    are shown on stderr:
#      objects = rise of (sum over slab caches of active objects x their
#                footprint in the slab, i.e. pagesperslab*PAGE/objperslab)
#                + Percpu + KernelStack + PageTables
#      pages   = rise of Slab + Percpu + KernelStack + PageTables
#      avail   = drop of MemAvailable
#    The printed vimage_mem_kib is "objects". Tried all three, repeatedly, on
#    this (shared, busy) machine: at N=200 objects gave 329-338 KiB, pages
#    251-334 and avail 240-351. Pages undercount whenever earlier runs left
#    free objects in partly used slabs (N=20: 176 KiB), and MemAvailable also
#    moves with the page cache and other people's processes. What objects
#    counts is what a namespace allocates: struct net, devices and their
#    per-cpu stats, sysctl tables, proc/sysfs nodes, sockets, routes...
#    (The netns_mk process itself has exited before "after" is read.)
#  - Then everything is deleted by name (trap on EXIT, so also on failure),
#    the script checks that no namespace or link with its prefix is left, and
#    waits (at most 15 s) for the kernel's asynchronous netns cleanup to give
#    back at least 90% of the memory measured, saying how long that took.
#
# Output (stdout), exactly:
#   LINUX vimage_create_us <microseconds per namespace>
#   LINUX vimage_mem_kib <KiB per namespace>
set -u

N=${1:-200}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
if [ "$N" -lt 1 ] || [ "$N" -gt 5000 ]; then
	echo "netns_create: N must be 1..5000" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "netns_create: needs root" >&2
	exit 2
fi

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NETNS_MK_DEFAULT=$ROOT/build/bench/netns_mk
NETNS_MK=${NETNS_MK:-$NETNS_MK_DEFAULT}
P=vbn$$
HUB=${P}hub
TMP=$(mktemp -d /tmp/${P}.XXXXXX)

cleanup() {
	local names
	names=$(ip netns list 2>/dev/null | awk -v p="$P" 'index($1, p) == 1 {print $1}')
	if [ -n "$names" ]; then
		printf 'netns del %s\n' $names >"$TMP/del.batch"
		ip -force -batch "$TMP/del.batch" >/dev/null 2>&1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Sum of the kernel-side counters, and MemAvailable, in kB.
meminfo() {
	{
		cat /proc/meminfo
		echo "@slabinfo"
		cat /proc/slabinfo
	} | awk -v pg="$(getconf PAGESIZE)" '
		/^@slabinfo/ {slab = 1; next}
		slab && $1 !~ /^(#|slabinfo)/ && $5 > 0 {obj += $2 * $6 * pg / $5; next}
		slab {next}
		/^(Slab|Percpu|KernelStack|PageTables):/ {k += $2}
		/^(Percpu|KernelStack|PageTables):/ {o += $2}
		/^MemAvailable:/ {a = $2}
		END {printf "%d %d %d\n", k, a, o + obj / 1024}'
}

now_ns() { date +%s%N; }

# Build the helper if needed (fall back to ip(8) if impossible, or when
# NETNS_MK_FORCE_IP is set, to compare). Only the default path under build/
# is ever (re)built; a $NETNS_MK given by the caller is used as it is.
if [ -n "${NETNS_MK_FORCE_IP:-}" ]; then
	NETNS_MK=
elif [ "$NETNS_MK" != "$NETNS_MK_DEFAULT" ]; then
	[ -x "$NETNS_MK" ] || NETNS_MK=
elif [ -x "$NETNS_MK" ] && [ ! "$ROOT/bench/linux/netns_mk.c" -nt "$NETNS_MK" ]; then
	:
elif command -v gcc >/dev/null && mkdir -p "$(dirname "$NETNS_MK")" &&
	gcc -O2 -Wall -o "$NETNS_MK.tmp$$" "$ROOT/bench/linux/netns_mk.c" &&
	mv -f "$NETNS_MK.tmp$$" "$NETNS_MK"; then
	:
else
	NETNS_MK=
fi

ip netns add "$HUB" || exit 1
ip -n "$HUB" link set lo up || exit 1

# Let freeing from earlier runs settle (netns cleanup is asynchronous, in a
# kernel workqueue; a run overlapping it is slower): wait until the kernel
# counters move by less than 64 KiB in 250 ms, for at most 5 s.
settle() {
	local prev cur a i
	read -r prev a o < <(meminfo)
	for ((i = 0; i < 20; i++)); do
		sleep 0.25
		read -r cur a o < <(meminfo)
		[ $((cur - prev)) -lt 64 ] && [ $((prev - cur)) -lt 64 ] && return 0
		prev=$cur
	done
	echo "netns_create: kernel memory still moving after 5 s (noisy machine?)" >&2
}
settle
read -r k0 a0 o0 < <(meminfo)

if [ -n "$NETNS_MK" ]; then
	out=$("$NETNS_MK" "$P" "$N" "$HUB") || { echo "netns_create: netns_mk failed" >&2; exit 1; }
	elapsed=$(awk '$1 == "elapsed_ns" {print $2}' <<<"$out")
	cpu=$(awk '$1 == "elapsed_ns" {print $4}' <<<"$out")
	method="netns_mk (one process, unshare+netlink)"
else
	echo "netns_create: using ip(8): one fork/exec per namespace included" >&2
	: >"$TMP/root.batch"
	: >"$TMP/hub.batch"
	for ((i = 0; i < N; i++)); do
		echo "netns add $P$i" >>"$TMP/root.batch"
		echo "link add veth0 netns $P$i up type veth peer name p$i netns $HUB" >>"$TMP/root.batch"
		echo "link set p$i up" >>"$TMP/hub.batch"
	done
	t0=$(now_ns)
	ip -batch "$TMP/root.batch" || exit 1
	ip -n "$HUB" -batch "$TMP/hub.batch" || exit 1
	for ((i = 0; i < N; i++)); do
		printf 'link set lo up\naddr add 10.%d.%d.%d/16 dev veth0\n' \
			$((200 + i / 65534)) $(((i % 65534 + 1) / 256)) $(((i % 65534 + 1) % 256)) |
			ip -n "$P$i" -batch - || exit 1
	done
	t1=$(now_ns)
	elapsed=$((t1 - t0))
	method="ip -batch + ip -n NS -batch per namespace"
	cpu=
fi

sleep 0.5
settle
read -r k1 a1 o1 < <(meminfo)

made=$(ip netns list | awk -v p="$P" -v hub="$HUB" 'index($1, p) == 1 && $1 != hub' | wc -l)
if [ "$made" -ne "$N" ]; then
	echo "netns_create: expected $N namespaces, found $made" >&2
	exit 1
fi

td0=$(now_ns)
cleanup
td1=$(now_ns)
TMP=$(mktemp -d /tmp/${P}.XXXXXX)

left=$(ip netns list | awk -v p="$P" 'index($1, p) == 1' | wc -l)
leftlinks=$(ip -o link | awk -v p="$P" 'index($2, p) == 1' | wc -l)
if [ "$left" -ne 0 ] || [ "$leftlinks" -ne 0 ]; then
	echo "netns_create: $left namespaces / $leftlinks links left behind" >&2
	exit 1
fi

# The kernel frees namespaces later, in a workqueue: wait for the memory.
freed=no
for ((i = 0; i < 60; i++)); do
	read -r k2 a2 o2 < <(meminfo)
	if [ $(((o2 - o0) * 10)) -le $((o1 - o0)) ]; then
		freed=$((($(now_ns) - td0) / 1000000))
		break
	fi
	sleep 0.25
done
if [ "$freed" = no ]; then
	echo "netns_create: WARNING: memory not given back within 15 s ($(((o2 - o0) / N)) KiB/ns still held)" >&2
	freed="(not within 15 s)"
else
	freed="$freed ms"
fi

awk -v n="$N" -v e="$elapsed" -v k0="$k0" -v k1="$k1" -v a0="$a0" -v a1="$a1" -v o0="$o0" -v o1="$o1" \
	-v d=$((td1 - td0)) -v m="$method" -v freed="$freed" -v cpu="$cpu" 'BEGIN {
	printf "netns_create: N=%d method: %s%s\n", n, m,
		cpu == "" ? "" : sprintf("; its CPU time %.1f us/ns (wall is printed)", cpu / n / 1000) > "/dev/stderr"
	printf "netns_create: create %.1f us/ns; memory: objects %+.1f KiB/ns, pages %+.1f KiB/ns, MemAvailable drop %+.1f KiB/ns; deleted (ip: %.1f us/ns; memory back after %s)\n",
		e / n / 1000, (o1 - o0) / n, (k1 - k0) / n, (a0 - a1) / n, d / n / 1000, freed > "/dev/stderr"
	printf "LINUX vimage_create_us %.1f\n", e / n / 1000
	printf "LINUX vimage_mem_kib %.1f\n", (o1 - o0) / n
}'
